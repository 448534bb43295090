"""The PostgreSQL store: any number of relay instances on one database, none of them special.

Received webhooks are group-committed per instance: one writer thread takes every webhook waiting
and inserts them with one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING RETURNING``
in autocommit, so one round trip (and one WAL flush) answers the whole batch, and a ``webhook-id``
seen before by any instance comes back as a duplicate. Everything else runs on a small connection
pool, each operation its own transaction. Delivery work is claimed with ``FOR UPDATE SKIP LOCKED``
under a lease, so instances never send the same event at once and a dead instance's lease runs out.
Migrations are versioned and run under a transaction-scoped advisory lock, so instances starting
together migrate once. A lost connection is a :class:`StoreUnavailable` (a 503 with Retry-After on
the receive path); the pool and the writer reconnect by themselves.

Times (``received_at``, leases) are each instance's clock: keep the instances' clocks in sync (NTP).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import psycopg
import psycopg_pool

from runtime.relay import store_browse
from runtime.relay.store import (
    ATTEMPT_DEAD,
    ATTEMPT_DELIVERED,
    ATTEMPT_PAUSED,
    ATTEMPT_RETRY,
    DEAD,
    PENDING,
    Attempt,
    DeadLetter,
    EventRecord,
    FailedWebhook,
    MappingRecord,
    NotAStore,
    OutgoingEvent,
    PurgePlan,
    SchemaTooNew,
    Stats,
    StoredWebhook,
    StoreError,
    StoreUnavailable,
    WebhookFilter,
    WebhookSummary,
)
from runtime.relay.store_accept import Accept, AcceptPath, AcceptWatch, Stored, settle_accepts
from runtime.relay.store_postgres_url import redact_url

# the console's reads (store_browse): psycopg's placeholder, a set of row numbers as one array
_DIALECT = store_browse.Dialect("%s", lambda col, values: (f"{col} = ANY(?)", values))

T = TypeVar("T")
Conn = psycopg.Connection[tuple[Any, ...]]
_Attempt = tuple[int, str, str | None]  # (status, outcome, error)

_MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema (the SQLite store's, in PostgreSQL types). Ids compare as bytes (COLLATE "C"),
    # as in SQLite, whatever the database's collation: an id prefix is a range of their index
    """
    CREATE TABLE webhooks (
        seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        webhook_id   TEXT COLLATE "C" NOT NULL UNIQUE,
        received_at  DOUBLE PRECISION NOT NULL,
        headers      TEXT NOT NULL,
        body         BYTEA NOT NULL,
        state        TEXT NOT NULL DEFAULT 'received',
        event_type   TEXT,
        error        TEXT,
        generation   INTEGER NOT NULL DEFAULT 0,
        mapped_at    DOUBLE PRECISION
    );
    CREATE INDEX webhooks_unmapped ON webhooks(seq) WHERE state = 'received';
    CREATE INDEX webhooks_state ON webhooks(state);
    CREATE INDEX webhooks_received_at ON webhooks(received_at);
    CREATE TABLE events (
        seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        webhook_seq     BIGINT NOT NULL REFERENCES webhooks(seq),
        generation      INTEGER NOT NULL,
        idx             INTEGER NOT NULL,
        event_id        TEXT COLLATE "C",
        name            TEXT,
        payload         TEXT NOT NULL,
        size            INTEGER NOT NULL,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        lease_owner     TEXT,
        lease_until     DOUBLE PRECISION,
        last_error      TEXT,
        received_at     DOUBLE PRECISION NOT NULL,
        created_at      DOUBLE PRECISION NOT NULL,
        updated_at      DOUBLE PRECISION NOT NULL,
        delivered_at    DOUBLE PRECISION,
        UNIQUE (webhook_seq, generation, idx)
    );
    CREATE INDEX events_pending ON events(seq) WHERE state = 'pending';
    CREATE INDEX events_state ON events(state);
    CREATE INDEX events_webhook ON events(webhook_seq);
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    # 2: the console (runtime/relay/console.py), as in the SQLite store: one index per filter of its
    # event list, newest first (keyset paging on (received_at, seq)), and every delivery attempt with
    # its HTTP status and error
    """
    CREATE INDEX webhooks_state_time ON webhooks(state, received_at);
    DROP INDEX webhooks_state;
    CREATE INDEX webhooks_type_time ON webhooks(event_type, received_at) WHERE event_type IS NOT NULL;
    CREATE INDEX events_state_time ON events(state, received_at);
    CREATE INDEX events_event_id ON events(event_id);
    CREATE TABLE attempts (
        id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_seq  BIGINT NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
        at         DOUBLE PRECISION NOT NULL,
        status     INTEGER NOT NULL,
        outcome    TEXT NOT NULL,
        error      TEXT
    );
    CREATE INDEX attempts_event ON attempts(event_seq);
    CREATE INDEX attempts_at ON attempts(at)
    """,
    # 3: the sender claims the earliest due events through an index in that order, as in the SQLite store
    # (in seq order a claim walked past every event waiting for a retry)
    """
    CREATE INDEX events_due ON events(next_attempt_at, seq) WHERE state = 'pending';
    DROP INDEX events_pending
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)
_HEADERS_JSON = json.JSONEncoder(separators=(",", ":"))
_MAX_BATCH = 1000  # received webhooks per group commit
# connections committing received webhooks (each its own group commits); a second one, letting one group's
# commit be in flight while the next goes out, did not raise the accept rate on 2 cores (bench cluster)
WRITERS = 1
CHECK_IDLE_SECONDS = 2.0  # a pooled connection idle longer than this is checked (one round trip) before use
# one statement text whatever the batch size: the server prepares it once per connection. The arrays go
# in binary (%b): in text, the bodies would be hex-escaped inside an array literal and parsed back by the
# server, which costs ~3x the whole statement's time
_INSERT_SQL = (
    "INSERT INTO webhooks (webhook_id, received_at, headers, body) "
    "SELECT * FROM unnest(%b::text[], %b::float8[], %b::text[], %b::bytea[]) "
    "ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id"
)
_WEBHOOK_COLS = "seq, webhook_id, headers, body, received_at, state, event_type, error, generation"
_FINISHED = (
    "received_at < %s AND state IN ('mapped', 'skipped', 'dropped') AND NOT EXISTS "
    "(SELECT 1 FROM events e WHERE e.webhook_seq = webhooks.seq AND e.state IN ('pending', 'dead'))"
)


def _webhook(row: Sequence[Any]) -> StoredWebhook:
    return StoredWebhook(
        seq=row[0], webhook_id=row[1], headers=json.loads(row[2]), body=bytes(row[3]), received_at=row[4],
        state=row[5], event_type=row[6], error=row[7], generation=row[8],
    )


class PostgresStore(AcceptPath):
    """The relay's store in PostgreSQL, shared by every instance pointed at the same database."""

    def __init__(
        self,
        url: str,
        *,
        accept_timeout: float = 10.0,
        read_only: bool = False,
        pool_size: int = 4,
        connect_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.location = redact_url(url)
        self.read_only = read_only
        self.accept_timeout = accept_timeout
        self._connect_kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": max(1, int(connect_timeout)),
        }
        if "application_name" not in url:  # the URL's own name wins (e.g. one per deployment)
            self._connect_kwargs["application_name"] = "paymap-relay"
        self._closed = False
        self._idle_since: dict[int, float] = {}  # pooled connections (by id) and when they were returned
        self._watches: dict[int, AcceptWatch] = {}  # by thread id
        self._queue: queue.SimpleQueue[list[Accept] | None] = queue.SimpleQueue()
        self._pool: psycopg_pool.ConnectionPool[Conn] = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=pool_size, kwargs=self._connect_kwargs, open=False,
            check=self._check, reset=self._returned, timeout=accept_timeout,
            configure=self._configure,
            name="paymap",
        )
        try:
            psycopg.connect(url, **self._connect_kwargs).close()  # its error says why; the pool's only says "timeout"
            self._pool.open(wait=True, timeout=connect_timeout + 1)
            if read_only:
                self._check_schema()
            else:
                self._migrate()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            self._pool.close()
            raise StoreUnavailable(f"cannot open the store at {self.location}: {_reason(exc)}") from None
        except StoreError:
            self._pool.close()
            raise
        if not read_only:
            self._writers = [threading.Thread(target=self._write_loop, name=f"paymap-store-writer-{n}", daemon=True)
                             for n in range(WRITERS)]
            for writer in self._writers:
                writer.start()

    # ------------------------------------------------------------------ plumbing
    def _returned(self, conn: Conn) -> None:
        if len(self._idle_since) > 64:  # entries of connections the pool dropped (after outages): forget them all,
            self._idle_since.clear()  # the live ones are merely checked once more
        self._idle_since[id(conn)] = time.monotonic()

    def _check(self, conn: Conn) -> None:
        """Before a pooled connection is used: a round trip proves it alive, but only after it sat idle
        (a busy relay's connections are in constant use; a stale one after an outage fails once and is dropped)."""
        since = self._idle_since.get(id(conn))
        if since is None or time.monotonic() - since > CHECK_IDLE_SECONDS:
            psycopg_pool.ConnectionPool.check_connection(conn)

    def _configure(self, conn: Conn) -> None:
        # a statement stuck behind a lock fails like an SQLite busy timeout instead of hanging a loop
        conn.execute(f"SET statement_timeout = {int(self.accept_timeout * 1000)}")
        if self.read_only:  # `paymap status`: the database refuses every write, whatever the code does
            conn.execute("SET default_transaction_read_only = on")

    def _version(self, conn: Conn) -> tuple[int, set[str]]:
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
        if "paymap_schema" not in tables:
            return 0, tables
        row = conn.execute("SELECT max(version) FROM paymap_schema").fetchone()
        return int(row[0] or 0) if row else 0, tables

    def _too_new(self, version: int) -> SchemaTooNew:
        return SchemaTooNew(
            f"the store {self.location} has schema version {version}, newer than this paymap "
            f"understands ({SCHEMA_VERSION}); upgrade paymap"
        )

    def _check_schema(self) -> None:
        with self._pool.connection() as conn:
            version, _tables = self._version(conn)
        if version > SCHEMA_VERSION:
            raise self._too_new(version)
        if version < 1:
            raise NotAStore(f"{self.location} holds no paymap store (has `paymap serve` run with it?)")

    def _migrate(self) -> None:
        """Bring the schema up to date; instances starting together wait on one advisory lock."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('paymap.migrate.' || current_schema()))")
            version, tables = self._version(conn)
            if version > SCHEMA_VERSION:
                raise self._too_new(version)
            if version == 0 and {"webhooks", "events", "meta"} & tables:
                raise NotAStore(
                    f"{self.location} already has tables named like paymap's ({', '.join(sorted(tables))}) "
                    "but no paymap schema version; nothing was changed (use another database or schema)"
                )
            conn.execute("CREATE TABLE IF NOT EXISTS paymap_schema (version INTEGER PRIMARY KEY, "
                         "applied_at DOUBLE PRECISION NOT NULL)")
            for number in range(version + 1, SCHEMA_VERSION + 1):
                conn.execute(_MIGRATIONS[number - 1])
                conn.execute("INSERT INTO paymap_schema (version, applied_at) VALUES (%s, %s)", (number, time.time()))

    def _run(self, fn: Callable[[Conn], T], *, write: bool = False, single: bool = False) -> T:
        """Run ``fn`` in one transaction on a pooled connection; a database error is StoreUnavailable.

        ``single``: ``fn`` runs one statement, its own transaction in autocommit (no BEGIN and COMMIT
        round trips): the delivery loop's claims and marks, reads of one query.
        """
        if self._closed:
            raise StoreUnavailable("the store is closed")
        if write and self.read_only:
            raise StoreUnavailable(f"the store {self.location} is open read-only")
        try:
            if single:
                with self._pool.connection() as conn:
                    return fn(conn)
            with self._pool.connection() as conn, conn.transaction():
                return fn(conn)
        except (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout) as exc:
            raise StoreUnavailable(f"store unavailable: {_reason(exc)}") from None
        except psycopg.Error as exc:
            raise StoreUnavailable(f"store {'write' if write else 'read'} failed: {_reason(exc)}") from None

    def _write(self, fn: Callable[[Conn], T], *, single: bool = False) -> T:
        return self._run(fn, write=True, single=single)

    def _connect_writer(self) -> Conn:
        conn = psycopg.connect(self.url, **self._connect_kwargs)
        self._configure(conn)
        return conn

    def _write_loop(self) -> None:
        """One writer: takes every webhook waiting, inserts them with one statement, hands the results back.
        WRITERS of them, each on its own connection, so one group commits while the next is being sent."""
        conn: Conn | None = None
        while True:
            item = self._queue.get()
            if item is None:
                break
            accepts = list(item)  # one event loop turn's webhooks (AcceptPath's batched hand-over)
            stop = False
            while len(accepts) < _MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                accepts += nxt
            try:
                if conn is None or conn.closed:
                    conn = self._connect_writer()
                settled = self._insert_webhooks(conn, accepts)
            except Exception as exc:  # never let the writer die: every later accept would hang
                failed = StoreUnavailable(f"store write failed: {_reason(exc)}")
                settled = [(acc, False, failed) for acc in accepts]
                if conn is not None:
                    conn.close()
                    conn = None
            settle_accepts(settled)
            if stop:
                break
        if conn is not None:
            conn.close()

    def _insert_webhooks(self, conn: Conn, accepts: list[Accept]) -> list[Stored]:
        """One statement, one round trip for the whole batch; RETURNING says which ids were new."""
        done: list[Stored] = []
        fresh: dict[str, Accept] = {}
        for acc in accepts:
            if acc.fut.done():  # timed out: do not store it behind its back
                continue
            if acc.webhook.webhook_id in fresh:  # the same id twice in one batch: the second is a duplicate
                done.append((acc, False, None))
            else:
                fresh[acc.webhook.webhook_id] = acc
        if not fresh:
            return done
        # arrival order (seq order is received order). Two instances committing the same two ids at once in
        # opposite orders would deadlock: PostgreSQL ends one after deadlock_timeout, its senders get a 503
        # and retry (answered as duplicates): rare, and nothing is lost
        ws = [acc.webhook for acc in fresh.values()]
        try:
            rows = conn.execute(_INSERT_SQL, (
                [w.webhook_id for w in ws], [w.received_at for w in ws],
                [_HEADERS_JSON.encode(w.headers) for w in ws], [w.body for w in ws],
            )).fetchall()
        except (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError):
            return done + self._insert_one_by_one(conn, list(fresh.values()))  # one bad row must not fail the rest
        new = {r[0] for r in rows}
        return done + [(acc, wid in new, None) for wid, acc in fresh.items()]

    @staticmethod
    def _insert_one_by_one(conn: Conn, chunk: list[Accept]) -> list[Stored]:
        done: list[Stored] = []
        for acc in chunk:
            w = acc.webhook
            try:
                rows = conn.execute(_INSERT_SQL, (
                    [w.webhook_id], [w.received_at], [_HEADERS_JSON.encode(w.headers)], [w.body])).fetchall()
            except (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError) as exc:
                done.append((acc, False, StoreUnavailable(f"store write failed: {_reason(exc)}")))
            else:
                done.append((acc, bool(rows), None))
        return done

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self.read_only:
            for _writer in self._writers:
                self._queue.put(None)
            for writer in self._writers:
                writer.join(timeout=10)
        self._pool.close(timeout=5)

    def ping(self) -> None:
        self._run(lambda c: c.execute("SELECT 1 FROM meta LIMIT 1").fetchall(), single=True)

    def probe_write(self) -> None:
        """Commit a tiny write, as a webhook would: :class:`StoreUnavailable` if the database cannot."""
        self._write(lambda c: c.execute(
            "INSERT INTO meta (key, value) VALUES ('ready.probe', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (f"{time.time():.3f}",)), single=True)

    # ------------------------------------------------------------------ receive
    # accept() and the batched hand-over to the writer: runtime/relay/store_accept.py (AcceptPath)

    # ------------------------------------------------------------------ map
    def unmapped(self, limit: int, after: int = 0) -> list[StoredWebhook]:
        rows = self._run(lambda c: c.execute(
            f"SELECT {_WEBHOOK_COLS} FROM webhooks WHERE state = 'received' AND seq > %s ORDER BY seq LIMIT %s",
            (after, limit),
        ).fetchall(), single=True)
        return [_webhook(r) for r in rows]

    @staticmethod
    def _insert_events(conn: Conn, seq: int, generation: int, received_at: float, record: MappingRecord) -> None:
        PostgresStore._insert_events_many(conn, [(seq, generation, received_at, record)])

    @staticmethod
    def _insert_events_many(conn: Conn, items: Sequence[tuple[int, int, float, MappingRecord]]) -> None:
        """The events of several mapped webhooks in one statement."""
        now = time.time()
        rows = [(seq, generation, idx, ev.event_id, ev.name, ev.payload, len(ev.payload.encode()),
                 DEAD if ev.dead_reason else PENDING, ev.dead_reason, received_at)
                for seq, generation, received_at, record in items for idx, ev in enumerate(record.events)]
        if not rows:
            return
        cols = list(zip(*rows, strict=True))
        conn.execute(
            "INSERT INTO events (webhook_seq, generation, idx, event_id, name, payload, size, state, last_error, "
            "received_at, next_attempt_at, created_at, updated_at) "
            "SELECT *, %s, %s, %s FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::text[], %s::text[], "
            "%s::text[], %s::int[], %s::text[], %s::text[], %s::float8[])",
            (now, now, now, *[list(c) for c in cols]),
        )

    def record_mappings(self, outcomes: Sequence[tuple[int, int, MappingRecord]]) -> list[bool]:
        """Store outcomes with their events in one statement (one round trip for the batch); each only if
        still unmapped at that generation.

        The conditional UPDATE takes the row lock, so two instances mapping the same webhook at once
        record it once (the second sees it mapped and gets False), and only recorded webhooks' events
        are inserted (they join the UPDATE's RETURNING). Arrays in binary (%b), as on the accept path.
        """
        if not outcomes:
            return []
        events = [(seq, generation, idx, ev.event_id, ev.name, ev.payload, len(ev.payload.encode()),
                   DEAD if ev.dead_reason else PENDING, ev.dead_reason)
                  for seq, generation, record in outcomes for idx, ev in enumerate(record.events)]
        columns = [list(c) for c in zip(*events, strict=True)] if events else [[] for _ in range(9)]
        now = time.time()
        rows = self._write(lambda c: c.execute(
            "WITH u AS (UPDATE webhooks w SET state = x.state, event_type = x.event_type, error = x.error, "
            "mapped_at = %s FROM unnest(%b::bigint[], %b::int[], %b::text[], %b::text[], %b::text[]) "
            "AS x(seq, generation, state, event_type, error) "
            "WHERE w.seq = x.seq AND w.state = 'received' AND w.generation = x.generation "
            "RETURNING w.seq, w.received_at), "
            "i AS (INSERT INTO events (webhook_seq, generation, idx, event_id, name, payload, size, state, "
            "last_error, received_at, next_attempt_at, created_at, updated_at) "
            "SELECT e.seq, e.generation, e.idx, e.event_id, e.name, e.payload, e.size, e.state, e.last_error, "
            "u.received_at, %s, %s, %s FROM unnest(%b::bigint[], %b::int[], %b::int[], %b::text[], %b::text[], "
            "%b::text[], %b::int[], %b::text[], %b::text[]) "
            "AS e(seq, generation, idx, event_id, name, payload, size, state, last_error) JOIN u ON u.seq = e.seq) "
            "SELECT seq FROM u",
            (now, [o[0] for o in outcomes], [o[1] for o in outcomes], [o[2].state for o in outcomes],
             [o[2].event_type for o in outcomes], [o[2].error for o in outcomes], now, now, now, *columns),
        ).fetchall(), single=True)
        recorded = {int(r[0]) for r in rows}
        return [seq in recorded for seq, _g, _r in outcomes]

    def remap(self, seq: int, record: MappingRecord) -> int:
        """Replace a webhook's outcome (replay): undelivered events are superseded; returns generation."""

        def op(conn: Conn) -> int:
            now = time.time()
            row = conn.execute(
                "UPDATE webhooks SET state = %s, event_type = %s, error = %s, mapped_at = %s, "
                "generation = generation + 1 WHERE seq = %s RETURNING received_at, generation",
                (record.state, record.event_type, record.error, now, seq),
            ).fetchone()
            if row is None:
                raise StoreError(f"no webhook with seq {seq}")
            conn.execute(
                "UPDATE events SET state = 'superseded', lease_owner = NULL, lease_until = NULL, "
                "updated_at = %s WHERE webhook_seq = %s AND state IN ('pending', 'dead')",
                (now, seq),
            )
            self._insert_events(conn, seq, int(row[1]), row[0], record)
            return int(row[1])

        return self._write(op)

    # ------------------------------------------------------------------ deliver
    def claim(self, owner: str, limit: int, max_bytes: int, lease_seconds: float) -> list[OutgoingEvent]:
        """Lease the events due longest that no other instance holds (SKIP LOCKED), bounded by count and
        bytes (always at least one): one statement, one round trip."""
        now = time.time()
        rows = self._write(lambda c: c.execute(
            "WITH c AS (SELECT seq, size, next_attempt_at FROM events WHERE state = 'pending' "
            "AND next_attempt_at <= %s AND (lease_until IS NULL OR lease_until < %s) "
            "ORDER BY next_attempt_at, seq LIMIT %s FOR UPDATE SKIP LOCKED), "
            "b AS (SELECT seq, row_number() OVER w AS n, 2 + sum(size + 1) OVER w AS total FROM c "
            "WINDOW w AS (ORDER BY next_attempt_at, seq)) "
            "UPDATE events e SET lease_owner = %s, lease_until = %s FROM b "
            "WHERE e.seq = b.seq AND (b.n = 1 OR b.total <= %s) "
            "RETURNING e.seq, e.event_id, e.payload, e.attempts, e.received_at",
            (now, now, limit, owner, now + lease_seconds, max_bytes),
        ).fetchall(), single=True)
        return [OutgoingEvent(*r) for r in sorted(rows)]

    def _owned_update(
        self, sql: str, params: Sequence[Any], seqs: Sequence[int], owner: str, attempt: _Attempt | None = None
    ) -> int:
        """Update our leased events; ``attempt`` (HTTP status, outcome, error) is logged for each one updated,
        in the same statement (one round trip)."""
        if not seqs:
            return 0
        where = " WHERE state = 'pending' AND lease_owner = %s AND seq = ANY(%s)"
        if attempt is None:
            return self._write(lambda c: c.execute(sql + where, (*params, owner, list(seqs))).rowcount, single=True)
        row = self._write(lambda c: c.execute(
            f"WITH u AS ({sql}{where} RETURNING seq), a AS (INSERT INTO attempts (event_seq, at, status, outcome, "
            "error) SELECT seq, %s, %s, %s, %s FROM u) SELECT count(*) FROM u",
            (*params, owner, list(seqs), time.time(), *attempt),
        ).fetchone(), single=True)
        return int(row[0]) if row else 0

    def renew(self, seqs: Sequence[int], owner: str, lease_seconds: float) -> list[int]:
        """Extend our lease before a request; returns the seqs still ours."""
        if not seqs:
            return []
        now = time.time()
        rows = self._write(lambda c: c.execute(
            "UPDATE events SET lease_until = %s WHERE state = 'pending' AND lease_owner = %s "
            "AND lease_until > %s AND seq = ANY(%s) RETURNING seq",
            (now + lease_seconds, owner, now, list(seqs)),
        ).fetchall(), single=True)
        return sorted(r[0] for r in rows)

    def mark_delivered(self, seqs: Sequence[int], owner: str, *, status: int | None = None) -> int:
        """``status``: the HTTP status of the request, logged as an attempt of each event (the console)."""
        now = time.time()
        return self._owned_update(
            "UPDATE events SET state = 'delivered', delivered_at = %s, updated_at = %s, attempts = attempts + 1, "
            "last_error = NULL, lease_owner = NULL, lease_until = NULL", (now, now), seqs, owner,
            None if status is None else (status, ATTEMPT_DELIVERED, None))

    def mark_retry(self, seqs: Sequence[int], owner: str, delay: float, error: str, *, status: int | None = None) -> int:
        now = time.time()
        return self._owned_update(
            "UPDATE events SET attempts = attempts + 1, next_attempt_at = %s, last_error = %s, updated_at = %s, "
            "lease_owner = NULL, lease_until = NULL", (now + delay, error, now), seqs, owner,
            None if status is None else (status, ATTEMPT_RETRY, error))

    def release(self, seqs: Sequence[int], owner: str, error: str, *, status: int | None = None) -> int:
        """Give events back untouched except for the reason (sender paused): no attempt counted.

        ``status`` set: a request was made (and refused): it is logged, though not counted.
        """
        return self._owned_update(
            "UPDATE events SET last_error = %s, updated_at = %s, lease_owner = NULL, lease_until = NULL",
            (error, time.time()), seqs, owner, None if status is None else (status, ATTEMPT_PAUSED, error))

    def mark_dead(self, seqs: Sequence[int], owner: str, reason: str, *, status: int | None = None) -> int:
        return self._owned_update(
            "UPDATE events SET state = 'dead', attempts = attempts + 1, last_error = %s, updated_at = %s, "
            "lease_owner = NULL, lease_until = NULL", (reason, time.time()), seqs, owner,
            None if status is None else (status, ATTEMPT_DEAD, reason))

    def reap_leases(self) -> int:
        """Clear leases that expired (their instance died or stalled) so any instance sends the events;
        among the due events only, as in the SQLite store (a leased event was due when claimed)."""
        now = time.time()
        return self._write(lambda c: c.execute(
            "UPDATE events SET lease_owner = NULL, lease_until = NULL WHERE state = 'pending' "
            "AND next_attempt_at <= %s AND lease_until IS NOT NULL AND lease_until < %s", (now, now)
        ).rowcount, single=True)

    # ------------------------------------------------------------------ operate
    def set_meta(self, values: dict[str, str | None]) -> None:
        """Set and delete (None) settings in one statement (a heartbeat is one round trip)."""
        if not values:
            return
        gone = [k for k, v in values.items() if v is None]
        kept = [(k, v) for k, v in values.items() if v is not None]
        self._write(lambda c: c.execute(
            "WITH d AS (DELETE FROM meta WHERE key = ANY(%s)), "
            "u AS (INSERT INTO meta (key, value) SELECT * FROM unnest(%s::text[], %s::text[]) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value) SELECT 1",
            (gone, [k for k, _v in kept], [v for _k, v in kept]),
        ), single=True)

    def get_meta(self, key: str) -> str | None:
        row = self._run(lambda c: c.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone(), single=True)
        return None if row is None else str(row[0])

    def stats(self, *, counts: bool = True) -> Stats:
        def fn(conn: Conn) -> Stats:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")  # one snapshot
            return store_browse.read_stats(_DIALECT, conn, counts=counts)

        return self._run(fn)

    def dead_letters(self, limit: int) -> list[DeadLetter]:
        rows = self._run(lambda c: c.execute(
            "SELECT e.seq, w.webhook_id, e.event_id, e.name, e.last_error, e.attempts, e.updated_at "
            "FROM events e JOIN webhooks w ON w.seq = e.webhook_seq WHERE e.state = 'dead' "
            "ORDER BY e.seq DESC LIMIT %s", (limit,)).fetchall())
        return [DeadLetter(*r) for r in rows]

    def failed_webhooks(self, limit: int) -> list[FailedWebhook]:
        rows = self._run(lambda c: c.execute(
            "SELECT webhook_id, event_type, error, received_at FROM webhooks WHERE state = 'failed' "
            "ORDER BY seq DESC LIMIT %s", (limit,)).fetchall())
        return [FailedWebhook(*r) for r in rows]

    def select_webhooks(
        self,
        *,
        states: Iterable[str] = (),
        webhook_ids: Iterable[str] = (),
        with_dead_events: bool = False,
        since: float | None = None,
        until: float | None = None,
    ) -> list[StoredWebhook]:
        """Webhooks matching any of the selectors (states, ids, dead events), within the time range."""
        sql, params = store_browse.select_sql(
            _DIALECT, _WEBHOOK_COLS, states=list(states), webhook_ids=list(webhook_ids),
            with_dead_events=with_dead_events, since=since, until=until)
        return [_webhook(r) for r in self._run(lambda c: _DIALECT.run(c, sql, params))]

    def delivered_events(self, webhook_seqs: Sequence[int]) -> dict[int, dict[str, float]]:
        """For each webhook, the ids of its events Inngest accepted and when (replay leaves them out)."""
        found: dict[int, dict[str, float]] = {}
        if not webhook_seqs:
            return found
        rows = self._run(lambda c: c.execute(
            "SELECT webhook_seq, event_id, delivered_at FROM events WHERE state = 'delivered' "
            "AND event_id IS NOT NULL AND webhook_seq = ANY(%s)", (list(webhook_seqs),)).fetchall())
        for seq, event_id, delivered_at in rows:
            ids = found.setdefault(seq, {})
            ids[event_id] = max(delivered_at or 0.0, ids.get(event_id, 0.0))
        return found

    # ------------------------------------------------------------------ console (runtime/relay/console.py)
    @staticmethod
    def _snapshot(conn: Conn) -> None:
        """Several reads that must agree (a page and its counts): one snapshot for the transaction."""
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def browse(
        self, flt: WebhookFilter, *, limit: int, before: tuple[float, int] | None = None
    ) -> list[WebhookSummary]:
        """A page of the console's event list: ``limit`` webhooks received before ``before``."""

        def fn(conn: Conn) -> list[WebhookSummary]:
            self._snapshot(conn)
            rows = store_browse.page(_DIALECT, conn, flt, limit, before)
            counts: dict[int, dict[str, int]] = {r[0]: {} for r in rows}
            errors: dict[int, str] = {}
            if rows:
                for seq, state, n, error in conn.execute(
                    "SELECT e.webhook_seq, e.state, count(*), max(e.last_error) FROM events e "
                    "JOIN webhooks w ON w.seq = e.webhook_seq AND w.generation = e.generation "
                    "WHERE e.webhook_seq = ANY(%s) GROUP BY 1, 2",
                    (list(counts),),
                ):
                    counts[seq][state] = n
                    if error and state in (DEAD, PENDING) and (state == DEAD or seq not in errors):
                        errors[seq] = error
            return [
                WebhookSummary(r[0], r[1], r[2], r[3], r[4], r[5], r[6], counts[r[0]], errors.get(r[0])) for r in rows
            ]

        return self._run(fn)

    def count_matching(self, flt: WebhookFilter, cap: int) -> int:
        """How many webhooks the filter selects, counting at most ``cap`` (a bulk replay's dry run)."""

        def fn(conn: Conn) -> int:
            selection, params = store_browse.selection_sql(_DIALECT, conn, flt)
            rows = _DIALECT.run(conn, f"SELECT count(*) FROM (SELECT 1 {selection} LIMIT ?) AS m", [*params, cap])
            row = rows[0] if rows else None
            return int(row[0]) if row else 0

        return self._run(fn)

    def matching(self, flt: WebhookFilter, limit: int) -> list[StoredWebhook]:
        """The webhooks the filter selects, oldest first, at most ``limit`` (a bulk replay)."""

        def fn(conn: Conn) -> list[tuple[Any, ...]]:
            selection, params = store_browse.selection_sql(_DIALECT, conn, flt)
            cols = ", ".join("w." + c.strip() for c in _WEBHOOK_COLS.split(","))
            return _DIALECT.run(conn, f"SELECT {cols} {selection} ORDER BY w.seq LIMIT ?", [*params, limit])

        return [_webhook(r) for r in self._run(fn)]

    def webhook(self, webhook_id: str) -> tuple[StoredWebhook, list[EventRecord]] | None:
        """One stored webhook with every event it produced (newest generation first) and their attempts."""

        def fn(conn: Conn) -> tuple[StoredWebhook, list[EventRecord]] | None:
            self._snapshot(conn)
            row = conn.execute(f"SELECT {_WEBHOOK_COLS} FROM webhooks WHERE webhook_id = %s", (webhook_id,)).fetchone()
            if row is None:
                return None
            history: dict[int, list[Attempt]] = {}
            for seq, *attempt in conn.execute(
                "SELECT a.event_seq, a.at, a.status, a.outcome, a.error FROM attempts a "
                "JOIN events e ON e.seq = a.event_seq WHERE e.webhook_seq = %s ORDER BY a.id",
                (row[0],),
            ):
                history.setdefault(seq, []).append(Attempt(*attempt))
            events = [
                EventRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], history.get(r[0], []))
                for r in conn.execute(
                    "SELECT seq, generation, event_id, name, payload, state, attempts, last_error, created_at, "
                    "delivered_at, next_attempt_at FROM events WHERE webhook_seq = %s ORDER BY generation DESC, idx",
                    (row[0],),
                )
            ]
            return _webhook(row), events

        return self._run(fn)

    def event_types(self) -> list[str]:
        """The distinct event types stored: one index step per type (a skip scan), not a table scan."""
        rows = self._run(lambda c: c.execute(
            "WITH RECURSIVE t(x) AS (SELECT min(event_type) FROM webhooks WHERE event_type IS NOT NULL UNION ALL "
            "SELECT (SELECT min(event_type) FROM webhooks WHERE event_type > t.x) FROM t WHERE t.x IS NOT NULL) "
            "SELECT x FROM t WHERE x IS NOT NULL"
        ).fetchall())
        return [r[0] for r in rows]

    def throughput(self, since: float, bucket_seconds: int) -> tuple[dict[int, int], dict[int, int]]:
        """Webhooks received and events delivered per bucket since ``since`` (keys: bucket start, epoch s)."""

        def fn(conn: Conn) -> tuple[dict[int, int], dict[int, int]]:
            b = int(bucket_seconds)
            received = {int(k): int(n) for k, n in conn.execute(
                f"SELECT floor(received_at / {b})::bigint * {b}, count(*) FROM webhooks "
                "WHERE received_at >= %s GROUP BY 1", (since,))}
            delivered = {int(k): int(n) for k, n in conn.execute(
                f"SELECT floor(at / {b})::bigint * {b}, count(*) FROM attempts "
                "WHERE at >= %s AND outcome = 'delivered' GROUP BY 1", (since,))}
            return received, delivered

        return self._run(fn)

    # ------------------------------------------------------------------ retention and purge
    @staticmethod
    def _delete(conn: Conn, seqs: Sequence[int]) -> tuple[int, int]:
        events = conn.execute("DELETE FROM events WHERE webhook_seq = ANY(%s)", (list(seqs),)).rowcount
        webhooks = conn.execute("DELETE FROM webhooks WHERE seq = ANY(%s)", (list(seqs),)).rowcount
        return webhooks, events

    def prune(self, before: float, limit: int) -> int:
        """Delete up to ``limit`` finished webhooks received before ``before``, with their events.

        The same policy as the SQLite store. ``SKIP LOCKED``: two instances pruning at once take
        different rows, and a row being written is left for next time instead of waited for.
        """

        def op(conn: Conn) -> int:
            seqs = [r[0] for r in conn.execute(
                f"SELECT seq FROM webhooks WHERE {_FINISHED} ORDER BY received_at LIMIT %s FOR UPDATE SKIP LOCKED",
                (before, limit))]
            return self._delete(conn, seqs)[0] if seqs else 0

        return self._write(op)

    def bodies_containing(self, text: str) -> list[tuple[int, bytes]]:
        """``(seq, body)`` of the webhooks whose body contains ``text`` (ASCII letters in any case)."""
        needle = "".join(ch.lower() if ch.isascii() else ch for ch in text).encode()
        if text.isascii():  # narrowed in the database; bytes outside ASCII are escaped there, so check again below
            sql = "SELECT seq, body FROM webhooks WHERE strpos(lower(encode(body, 'escape')), %s) > 0 ORDER BY seq"
            params: tuple[Any, ...] = (needle.decode().replace("\\", "\\\\"),)
        else:
            sql, params = "SELECT seq, body FROM webhooks ORDER BY seq", ()
        rows = self._run(lambda c: c.execute(sql, params).fetchall())
        return [(seq, bytes(body)) for seq, body in rows if needle in bytes(body).lower()]

    def seqs_received_before(self, before: float) -> list[int]:
        return [r[0] for r in self._run(lambda c: c.execute(
            "SELECT seq FROM webhooks WHERE received_at < %s ORDER BY seq", (before,)).fetchall())]

    def purge_plan(self, seqs: Sequence[int]) -> PurgePlan:
        if not seqs:
            return PurgePlan(0, 0, 0, [])

        def fn(conn: Conn) -> PurgePlan:
            ids = [r[0] for r in conn.execute(
                "SELECT webhook_id FROM webhooks WHERE seq = ANY(%s) ORDER BY seq LIMIT 20", (list(seqs),))]
            row = conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE state = 'pending') FROM events WHERE webhook_seq = ANY(%s)",
                (list(seqs),)).fetchone()
            events, undelivered = (int(row[0]), int(row[1])) if row else (0, 0)
            return PurgePlan(len(seqs), events, undelivered, ids)

        return self._run(fn)

    def delete_webhooks(self, seqs: Sequence[int], batch: int = 500) -> tuple[int, int]:
        """Delete these webhooks and their events, ``batch`` at a time (the relay keeps answering between)."""
        webhooks = events = 0
        for start in range(0, len(seqs), batch):
            chunk = list(seqs[start:start + batch])
            w, e = self._write(lambda conn, chunk=chunk: self._delete(conn, chunk))  # type: ignore[misc]
            webhooks, events = webhooks + w, events + e
        return webhooks, events

    def reclaim_space(self) -> str:
        """VACUUM the tables: deleted rows' space is reused by new rows (the files do not shrink)."""
        try:
            with psycopg.connect(self.url, **self._connect_kwargs) as conn:
                for table in ("webhooks", "events", "attempts"):
                    conn.execute(f"VACUUM {table}")
        except psycopg.Error as exc:
            return f"VACUUM failed ({_reason(exc)}); autovacuum reclaims the space later"
        return "tables vacuumed (PostgreSQL reuses the freed space for new rows)"


def _reason(exc: BaseException) -> str:
    """The first line of a driver error, without the driver's name."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
