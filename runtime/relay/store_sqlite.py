"""The embedded default store: one SQLite file in WAL mode.

All writes go through one writer thread that groups concurrent operations into one transaction
(group commit: one fsync serves many webhooks). Received webhooks waiting for that commit go in as
one multi-row ``INSERT ... ON CONFLICT DO NOTHING`` (falling back to one statement each if it fails,
so one bad row never fails the others); every other operation runs inside its own savepoint so one
failing operation never undoes another. Reads use a connection per thread. Schema changes are
versioned migrations (``PRAGMA user_version``).
"""

from __future__ import annotations

import contextlib
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from runtime.relay import store_browse
from runtime.relay.filemodes import private_dir, private_file
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

# the console's reads (store_browse): sqlite3's placeholder, a set of row numbers as one JSON array
_DIALECT = store_browse.Dialect("?", lambda col, values: (f"{col} IN (SELECT value FROM json_each(?))", json.dumps(values)))

T = TypeVar("T")
_Attempt = tuple[int, str, str | None]  # (status, outcome, error)


_MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema
    """
    CREATE TABLE webhooks (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        webhook_id   TEXT NOT NULL UNIQUE,
        received_at  REAL NOT NULL,
        headers      TEXT NOT NULL,
        body         BLOB NOT NULL,
        state        TEXT NOT NULL DEFAULT 'received',
        event_type   TEXT,
        error        TEXT,
        generation   INTEGER NOT NULL DEFAULT 0,
        mapped_at    REAL
    );
    CREATE INDEX webhooks_unmapped ON webhooks(seq) WHERE state = 'received';
    CREATE INDEX webhooks_state ON webhooks(state);
    CREATE INDEX webhooks_received_at ON webhooks(received_at);
    CREATE TABLE events (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        webhook_seq     INTEGER NOT NULL REFERENCES webhooks(seq),
        generation      INTEGER NOT NULL,
        idx             INTEGER NOT NULL,
        event_id        TEXT,
        name            TEXT,
        payload         TEXT NOT NULL,
        size            INTEGER NOT NULL,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_owner     TEXT,
        lease_until     REAL,
        last_error      TEXT,
        received_at     REAL NOT NULL,
        created_at      REAL NOT NULL,
        updated_at      REAL NOT NULL,
        delivered_at    REAL,
        UNIQUE (webhook_seq, generation, idx)
    );
    CREATE INDEX events_pending ON events(seq) WHERE state = 'pending';
    CREATE INDEX events_state ON events(state);
    CREATE INDEX events_webhook ON events(webhook_seq);
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: the console (runtime/relay/console.py): one index per filter of its event list, newest first
    # (keyset paging on (received_at, seq)), and every delivery attempt with its HTTP status and error.
    # (state, received_at) replaces the index on state alone; the type index is partial, so a webhook
    # costs it nothing when it is received (its type is known once it is mapped, off the hot path)
    """
    CREATE INDEX webhooks_state_time ON webhooks(state, received_at);
    DROP INDEX webhooks_state;
    CREATE INDEX webhooks_type_time ON webhooks(event_type, received_at) WHERE event_type IS NOT NULL;
    CREATE INDEX events_state_time ON events(state, received_at);
    CREATE INDEX events_event_id ON events(event_id);
    CREATE TABLE attempts (
        id         INTEGER PRIMARY KEY,
        event_seq  INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
        at         REAL NOT NULL,
        status     INTEGER NOT NULL,
        outcome    TEXT NOT NULL,
        error      TEXT
    );
    CREATE INDEX attempts_event ON attempts(event_seq);
    CREATE INDEX attempts_at ON attempts(at);
    """,
    # 3: the sender claims the earliest due events through an index in that order: in seq order it walked
    # past every event waiting for a retry on each claim (100,000 of them in a long outage: the writer
    # held for that long, and every webhook's 200 with it)
    """
    CREATE INDEX events_due ON events(next_attempt_at, seq) WHERE state = 'pending';
    DROP INDEX events_pending;
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)

class _Job:
    """One queued write from a thread, which waits on ``cfut``.

    ``durable`` False: the write may be lost on power loss without losing anything acknowledged (the
    mapper's and sender's bookkeeping, redone after a restart: see :data:`RELAXED_SYNCHRONOUS`).
    """

    __slots__ = ("cfut", "durable", "fn", "started")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any], cfut: Future[Any], durable: bool = True) -> None:
        self.fn, self.cfut, self.durable = fn, cfut, durable
        self.started = False

    def start(self) -> bool:
        self.started = self.cfut.set_running_or_notify_cancel()
        return self.started



_Outcome = tuple[_Job, Any, BaseException | None]
_Stored = Stored
# SQLite's automatic checkpoint runs inside the commit that crosses 1000 WAL pages: ~10 ms in which no
# webhook is answered. The writer's connection turns it off; a background thread checkpoints instead
# (PASSIVE: it never blocks the writer), and once the WAL is long the writer completes a checkpoint
# itself (only the few frames since the last one are left) so that the WAL starts over.
CHECKPOINT_SECONDS = 0.2
WAL_RESTART_FRAMES = 1000
# A commit holding only the mapper's and sender's bookkeeping (outcomes and events recorded, events
# claimed, delivered, retried) runs with synchronous=NORMAL: in WAL mode it is durable against a crash
# of the process (the WAL is in the OS's cache) but not against a power loss until the next FULL commit
# or checkpoint fsyncs the WAL, and every commit holding received webhooks (or any other write) is FULL,
# so a 200 still follows an fsync, which also covers every earlier frame. What a power loss can take back
# is redone: a webhook is mapped again (the same event ids), an event is sent again (Inngest drops it by
# its id). docs/relay.md, "Durability".
RELAXED_SYNCHRONOUS = "NORMAL"
_ACCEPT_CHUNK = 200  # rows per INSERT statement (4 parameters each; SQLite allows 999 at the least)
_HEADERS_JSON = json.JSONEncoder(separators=(",", ":"))


def _insert_sql(rows: int) -> str:
    return (
        "INSERT INTO webhooks (webhook_id, received_at, headers, body) VALUES "
        + ",".join(["(?,?,?,?)"] * rows)
        + " ON CONFLICT (webhook_id) DO NOTHING"
    )


_INSERT_SQL = [""] + [_insert_sql(n) for n in range(1, _ACCEPT_CHUNK + 1)]
_STORED_AT_SQL = [""] + [
    f"SELECT webhook_id, received_at FROM webhooks WHERE webhook_id IN ({','.join('?' * n)})"
    for n in range(1, _ACCEPT_CHUNK + 1)
]


def _finish(outcomes: list[_Outcome], stored: list[_Stored]) -> None:
    """Hand results back: threads directly, each event loop with a single wake-up per commit."""
    for job, result, error in outcomes:
        if not job.started and not job.cfut.set_running_or_notify_cancel():
            continue
        if error is None:
            job.cfut.set_result(result)
        else:
            job.cfut.set_exception(error)
    settle_accepts(stored)


def _placeholders(n: int) -> str:
    return ",".join("?" * n)


class SQLiteStore(AcceptPath):
    """The embedded default store: one SQLite file in WAL mode."""

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout_ms: int = 5000,
        synchronous: str = "FULL",
        accept_timeout: float = 10.0,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.read_only = read_only
        self.accept_timeout = accept_timeout
        self._watches: dict[int, AcceptWatch] = {}  # by thread id
        self.busy_timeout_ms = busy_timeout_ms
        self.synchronous = synchronous
        # only a FULL store relaxes the bookkeeping commits (NORMAL or OFF, set by the operator, stays as set)
        self._relax = synchronous.upper() == "FULL"
        self._writer_synchronous = synchronous
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Job | list[Accept] | None] = queue.SimpleQueue()
        self._closed = False
        self._checkpoint_due = False  # set by the checkpointer thread, done by the writer
        self._stop_checkpoints = threading.Event()
        if read_only:
            self._open_read_only()
            return
        try:
            self._refuse_foreign()
            private_dir(self.path.parent)
            private_file(self.path)
            conn = self._connect()
            self._migrate(conn)
            conn.close()
        except sqlite3.Error as exc:
            raise self._locked(exc) or StoreUnavailable(f"cannot open the store at {self.path}: {exc}") from None
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the store directory {self.path.parent}: {exc}") from None
        self._writer = threading.Thread(target=self._write_loop, name="paymap-store-writer", daemon=True)
        self._writer.start()
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="paymap-store-checkpoint", daemon=True)
        self._checkpointer.start()

    # ------------------------------------------------------------------ plumbing
    def _inspect(self) -> tuple[int, set[str]]:
        """Schema version and tables of the file, read without changing anything."""
        try:
            conn = self._connect_read_only()
            try:
                # one read transaction: a store another process is creating right now is seen before its
                # first migration or after it, never as tables without their schema version (a "foreign" file)
                conn.execute("BEGIN")
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                conn.execute("COMMIT")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise self._locked(exc) or NotAStore(f"cannot read {self.path} as a paymap store: {exc}") from None
        return version, tables

    def _locked(self, exc: sqlite3.Error) -> StoreUnavailable | None:
        """What to do when opening waited for a lock another process would not give up, or None."""
        if getattr(exc, "sqlite_errorcode", None) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return None
        return StoreUnavailable(
            f"the store {self.path} is locked by another process (a relay or `paymap purge` busy with it, or "
            f"another program holding it open) and stayed locked for {self.busy_timeout_ms} ms: "
            "try again, or close what holds it")

    def _refuse_foreign(self) -> None:
        """A file given by mistake (``--db other.sqlite3``) must not get our tables or WAL mode."""
        if self.path.exists() and self.path.stat().st_size > 0:
            version, tables = self._inspect()
            if version == 0 and tables:
                raise NotAStore(
                    f"{self.path} is not a paymap store (it has other tables: {', '.join(sorted(tables))}); "
                    "nothing was changed"
                )

    def _open_read_only(self) -> None:
        """For ``paymap status --db ANY.sqlite3``: change nothing, not even the journal mode, and
        refuse a file that is not a paymap store instead of adding tables to it."""
        version, tables = self._inspect()
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the store {self.path} has schema version {version}, newer than this paymap "
                f"understands ({SCHEMA_VERSION}); upgrade paymap"
            )
        if version < 1 or not {"webhooks", "events", "meta"} <= tables:
            raise NotAStore(
                f"{self.path} is not a paymap store (schema version {version}, tables: "
                f"{', '.join(sorted(tables)) or 'none'}); nothing was changed"
            )

    def _connect_read_only(self) -> sqlite3.Connection:
        # mode=ro: SQLite refuses every write; no journal_mode change (that is a write too)
        conn = sqlite3.connect(
            f"{self.path.absolute().as_uri()}?mode=ro", uri=True, isolation_level=None,
            check_same_thread=False, timeout=0,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA temp_store = MEMORY")  # see _connect
        return conn

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            return self._connect_read_only()
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        self._use_wal(conn)
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        # deleted rows (retention, purge) hold customer data: zero them instead of leaving them in free pages
        conn.execute("PRAGMA secure_delete = ON")
        # SQLite's temporary files (a statement journal per savepoint of the writer's batches, sorts) stay in
        # memory: on disk they were files created, filled with pages of webhooks and events and unlinked in
        # the system's temporary directory, ~290 a second at 2,200 webhooks/s (counted with inotify)
        conn.execute("PRAGMA temp_store = MEMORY")
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """``journal_mode = WAL``, waiting up to the busy timeout like any other statement.

        Switching a new file to WAL needs it to itself, and SQLite answers "database is locked" at once
        instead of calling its busy handler; a store in WAL mode already (every store after its first
        open) does not need that. So only relays and commands creating a store together wait here."""
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
                time.sleep(0.005)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the store {self.path} has schema version {version}, newer than this paymap "
                f"understands ({SCHEMA_VERSION}); upgrade paymap"
            )
        if version == 0:  # before the first table: lets a purge give pages back without a full VACUUM
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        for number in range(version + 1, SCHEMA_VERSION + 1):
            conn.execute("BEGIN IMMEDIATE")
            try:
                # re-check under the lock: another process may have migrated meanwhile
                if int(conn.execute("PRAGMA user_version").fetchone()[0]) >= number:
                    conn.execute("ROLLBACK")
                    continue
                for statement in _MIGRATIONS[number - 1].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _close_readers(self) -> None:
        """Every thread's read connection: the last one closed checkpoints and removes the WAL."""
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for conn in readers:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreUnavailable("the store is closed")
        try:
            return fn(self._reader())
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"store read failed: {exc}") from None

    def _submit(self, fn: Callable[[sqlite3.Connection], T], durable: bool = True) -> Future[T]:
        fut: Future[T] = Future()
        if self.read_only:
            fut.set_exception(StoreUnavailable(f"the store {self.path} is open read-only"))
            return fut
        if self._closed:
            fut.set_exception(StoreUnavailable("the store is closed"))
            return fut
        self._queue.put(_Job(fn, fut, durable))
        return fut

    def _write(self, fn: Callable[[sqlite3.Connection], T], durable: bool = True) -> T:
        return self._submit(fn, durable).result()

    def _set_synchronous(self, conn: sqlite3.Connection, level: str) -> None:
        if level != self._writer_synchronous:
            conn.execute(f"PRAGMA synchronous = {level}")
            self._writer_synchronous = level

    def _write_loop(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            item = self._queue.get()
            if item is None:
                break
            jobs: list[_Job] = []
            accepts: list[Accept] = []
            stop = False
            count = 0
            while True:
                if isinstance(item, list):
                    accepts += item
                    count += len(item)
                else:
                    jobs.append(item)
                    count += 1
                if count >= 1000:
                    break
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                item = nxt
            outcomes: list[_Outcome] = []
            settled: list[_Stored] = []
            try:
                if conn is None:
                    conn = self._connect()
                    conn.execute("PRAGMA wal_autocheckpoint = 0")  # see CHECKPOINT_SECONDS
                    self._writer_synchronous = self.synchronous
                if self._relax:  # see RELAXED_SYNCHRONOUS
                    durable = bool(accepts) or any(job.durable for job in jobs)
                    self._set_synchronous(conn, self.synchronous if durable else RELAXED_SYNCHRONOUS)
                if self._checkpoint_due:
                    self._checkpoint_due = False
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if not jobs and len(accepts) <= _ACCEPT_CHUNK:
                    # only received webhooks: their INSERT is a transaction of its own (commit and fsync
                    # included), so the writer takes the interpreter lock back twice per batch, not per statement
                    settled = self._insert_webhooks(conn, accepts)
                else:
                    outcomes, settled = self._transaction(conn, jobs, accepts)
            except Exception as exc:  # never let the writer die: every later write would hang
                failed = StoreUnavailable(f"store write failed: {exc}")
                outcomes = [(job, None, failed) for job in jobs]
                settled = [(acc, False, failed) for acc in accepts]
                if conn is not None:
                    try:
                        conn.close()
                    finally:
                        conn = None
            _finish(outcomes, settled)
            if stop:
                break
        if conn is not None:
            conn.close()

    def _transaction(
        self, conn: sqlite3.Connection, jobs: list[_Job], accepts: list[Accept]
    ) -> tuple[list[_Outcome], list[_Stored]]:
        """One transaction for the whole batch; each job in a savepoint of its own."""
        outcomes: list[_Outcome] = []
        settled: list[_Stored] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            if accepts:
                settled = self._insert_webhooks(conn, accepts)
            for job in jobs:
                if not job.start():
                    continue  # the caller gave up: do not do it behind its back
                conn.execute("SAVEPOINT op")
                try:
                    result = job.fn(conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    error: BaseException = exc
                    if isinstance(exc, sqlite3.Error):
                        error = StoreUnavailable(f"store write failed: {exc}")
                    outcomes.append((job, None, error))
                else:
                    conn.execute("RELEASE op")
                    outcomes.append((job, result, None))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return outcomes, settled

    @staticmethod
    def _insert_webhooks(conn: sqlite3.Connection, accepts: list[Accept]) -> list[_Stored]:
        """Insert received webhooks with one multi-row ``INSERT ... ON CONFLICT DO NOTHING`` per chunk.

        In autocommit mode (a batch of at most ``_ACCEPT_CHUNK`` webhooks and nothing else) that
        statement is its own transaction. Usually every row is new (the row count says so); otherwise
        one query finds which rows are this batch's: a row stored before has another ``received_at``.
        """
        done: list[_Stored] = []
        live = [acc for acc in accepts if not acc.fut.done()]  # timed out: do not store it behind its back
        for start in range(0, len(live), _ACCEPT_CHUNK):
            chunk = live[start:start + _ACCEPT_CHUNK]
            fresh: dict[str, Accept] = {}
            for acc in chunk:
                if acc.webhook.webhook_id in fresh:  # the same id twice in one batch: the second is a duplicate
                    done.append((acc, False, None))
                else:
                    fresh[acc.webhook.webhook_id] = acc
            params: list[Any] = []
            for acc in fresh.values():
                w = acc.webhook
                params += (w.webhook_id, w.received_at, _HEADERS_JSON.encode(w.headers), w.body)
            try:
                inserted = conn.execute(_INSERT_SQL[len(fresh)], params).rowcount
            except (sqlite3.IntegrityError, sqlite3.DataError):
                done += SQLiteStore._insert_one_by_one(conn, list(fresh.values()))  # one bad row must not fail the rest
                continue
            if inserted == len(fresh):
                done += [(acc, True, None) for acc in fresh.values()]
                continue
            stored = dict(conn.execute(_STORED_AT_SQL[len(fresh)], list(fresh)).fetchall())
            done += [(acc, stored.get(wid) == acc.webhook.received_at, None) for wid, acc in fresh.items()]
        return done

    @staticmethod
    def _insert_one_by_one(
        conn: sqlite3.Connection, chunk: list[Accept]
    ) -> list[_Stored]:
        done: list[_Stored] = []
        for acc in chunk:
            w = acc.webhook
            try:
                cur = conn.execute(_INSERT_SQL[1], (w.webhook_id, w.received_at, _HEADERS_JSON.encode(w.headers), w.body))
            except (sqlite3.IntegrityError, sqlite3.DataError) as exc:  # SQLite undoes a failed statement
                done.append((acc, False, StoreUnavailable(f"store write failed: {exc}")))
            else:
                done.append((acc, cur.rowcount == 1, None))
        return done

    def _checkpoint_loop(self) -> None:
        conn: sqlite3.Connection | None = None
        while not self._stop_checkpoints.wait(CHECKPOINT_SECONDS):
            try:
                if conn is None:
                    conn = self._connect()
                _busy, frames, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames >= WAL_RESTART_FRAMES:
                    self._checkpoint_due = True
            except sqlite3.Error:  # e.g. the disk is gone: the writer reports it; try again later
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.read_only:  # no writer, no checkpointer
            self._close_readers()
            return
        self._stop_checkpoints.set()
        self._checkpointer.join(timeout=10)
        self._queue.put(None)
        self._writer.join(timeout=10)
        self._close_readers()

    def ping(self) -> None:
        self._read(lambda c: c.execute("SELECT 1 FROM meta LIMIT 1").fetchall())

    def probe_write(self) -> None:
        """Commit a tiny write through the writer, as a webhook would: raises :class:`StoreUnavailable` if
        it cannot (disk full, read-only file, database locked) or does not within ``accept_timeout``."""
        def op(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO meta (key, value) VALUES ('ready.probe', ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (f"{time.time():.3f}",))

        fut = self._submit(op)
        try:
            fut.result(timeout=self.accept_timeout)
        except TimeoutError:
            fut.cancel()  # not started yet: the writer skips it
            raise StoreUnavailable(f"the store did not commit a test write within {self.accept_timeout:g} s") from None


    # ------------------------------------------------------------------ receive
    # accept() and the batched hand-over to the writer: runtime/relay/store_accept.py (AcceptPath)

    # ------------------------------------------------------------------ map
    @staticmethod
    def _webhook(row: sqlite3.Row | tuple[Any, ...]) -> StoredWebhook:
        return StoredWebhook(
            seq=row[0],
            webhook_id=row[1],
            headers=json.loads(row[2]),
            body=bytes(row[3]),
            received_at=row[4],
            state=row[5],
            event_type=row[6],
            error=row[7],
            generation=row[8],
        )

    _WEBHOOK_COLS = "seq, webhook_id, headers, body, received_at, state, event_type, error, generation"

    def unmapped(self, limit: int, after: int = 0) -> list[StoredWebhook]:
        rows = self._read(
            lambda c: c.execute(
                f"SELECT {self._WEBHOOK_COLS} FROM webhooks INDEXED BY webhooks_unmapped "
                "WHERE state = 'received' AND seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        )
        return [self._webhook(r) for r in rows]

    _INSERT_EVENT_SQL = (
        "INSERT INTO events (webhook_seq, generation, idx, event_id, name, payload, size, state, "
        "next_attempt_at, last_error, received_at, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    @staticmethod
    def _event_rows(
        seq: int, generation: int, received_at: float, record: MappingRecord, now: float
    ) -> list[tuple[Any, ...]]:
        return [
            (seq, generation, idx, ev.event_id, ev.name, ev.payload, len(ev.payload.encode()),
             DEAD if ev.dead_reason else PENDING, now, ev.dead_reason, received_at, now, now)
            for idx, ev in enumerate(record.events)
        ]

    @staticmethod
    def _insert_events(
        conn: sqlite3.Connection, seq: int, generation: int, received_at: float, record: MappingRecord
    ) -> None:
        conn.executemany(
            SQLiteStore._INSERT_EVENT_SQL, SQLiteStore._event_rows(seq, generation, received_at, record, time.time())
        )

    def record_mappings(self, outcomes: Sequence[tuple[int, int, MappingRecord]]) -> list[bool]:
        """Store mapping outcomes with their events in one commit; each only if still unmapped.

        ``outcomes`` are ``(seq, generation, record)``; the result says which were recorded (a
        replay may have re-mapped a webhook meanwhile). One query finds them, one statement (executemany)
        updates them, one inserts every event: per-row statements cost the writer more than SQLite's work.
        """

        def op(conn: sqlite3.Connection) -> list[bool]:
            now = time.time()
            seqs = list({seq for seq, _g, _r in outcomes})
            unmapped: dict[int, tuple[int, float]] = {}  # seq -> (generation, received_at), still 'received'
            for start in range(0, len(seqs), _ACCEPT_CHUNK):
                chunk = seqs[start:start + _ACCEPT_CHUNK]
                for seq, generation, received_at in conn.execute(
                    "SELECT seq, generation, received_at FROM webhooks WHERE state = 'received' "
                    f"AND seq IN ({_placeholders(len(chunk))})", chunk,
                ):
                    unmapped[seq] = (generation, received_at)
            done: list[bool] = []
            updates: list[tuple[Any, ...]] = []
            events: list[tuple[Any, ...]] = []
            for seq, generation, record in outcomes:
                row = unmapped.get(seq)
                if row is None or row[0] != generation:
                    done.append(False)
                    continue
                del unmapped[seq]  # recorded: the same seq again in this call is no longer unmapped
                updates.append((record.state, record.event_type, record.error, now, seq))
                events += self._event_rows(seq, generation, row[1], record, now)
                done.append(True)
            if updates:
                conn.executemany(
                    "UPDATE webhooks SET state = ?, event_type = ?, error = ?, mapped_at = ? WHERE seq = ?", updates
                )
            if events:
                conn.executemany(self._INSERT_EVENT_SQL, events)
            return done

        return self._write(op, durable=False)

    def remap(self, seq: int, record: MappingRecord) -> int:
        """Replace a webhook's outcome (replay): undelivered events are superseded; returns generation."""

        def op(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT received_at, generation FROM webhooks WHERE seq = ?", (seq,)).fetchone()
            if row is None:
                raise StoreError(f"no webhook with seq {seq}")
            generation = int(row[1]) + 1
            now = time.time()
            conn.execute(
                "UPDATE events SET state = 'superseded', lease_owner = NULL, lease_until = NULL, "
                "updated_at = ? WHERE webhook_seq = ? AND state IN ('pending', 'dead')",
                (now, seq),
            )
            conn.execute(
                "UPDATE webhooks SET state = ?, event_type = ?, error = ?, mapped_at = ?, generation = ? "
                "WHERE seq = ?",
                (record.state, record.event_type, record.error, now, generation, seq),
            )
            self._insert_events(conn, seq, generation, row[0], record)
            return generation

        return self._write(op)

    # ------------------------------------------------------------------ deliver
    def claim(self, owner: str, limit: int, max_bytes: int, lease_seconds: float) -> list[OutgoingEvent]:
        """Lease the events due longest, bounded by count and bytes (always at least one)."""

        def op(conn: sqlite3.Connection) -> list[OutgoingEvent]:
            now = time.time()
            rows = conn.execute(
                "SELECT seq, event_id, payload, size, attempts, received_at FROM events INDEXED BY events_due "
                "WHERE state = 'pending' AND next_attempt_at <= ? "
                "AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at, seq LIMIT ?",
                (now, now, limit),
            ).fetchall()
            chosen: list[OutgoingEvent] = []
            total = 2
            for seq, event_id, payload, size, attempts, received_at in rows:
                if chosen and total + size + 1 > max_bytes:
                    break
                total += size + 1
                chosen.append(OutgoingEvent(seq, event_id, payload, attempts, received_at))
            if chosen:
                conn.execute(
                    f"UPDATE events SET lease_owner = ?, lease_until = ? "
                    f"WHERE seq IN ({_placeholders(len(chosen))})",
                    (owner, now + lease_seconds, *[e.seq for e in chosen]),
                )
            return chosen

        return self._write(op, durable=False)

    def _owned_update(
        self, sql: str, params: Sequence[Any], seqs: Sequence[int], owner: str, attempt: _Attempt | None = None
    ) -> int:
        """Update our leased events; ``attempt`` (outcome, HTTP status, error) is logged for each one updated."""
        if not seqs:
            return 0

        def op(conn: sqlite3.Connection) -> int:
            where = f" WHERE state = 'pending' AND lease_owner = ? AND seq IN ({_placeholders(len(seqs))})"
            if attempt is None:
                return conn.execute(sql + where, (*params, owner, *seqs)).rowcount
            updated = conn.execute(sql + where + " RETURNING seq", (*params, owner, *seqs)).fetchall()
            now = time.time()
            conn.executemany(
                "INSERT INTO attempts (event_seq, at, status, outcome, error) VALUES (?, ?, ?, ?, ?)",
                [(seq, now, *attempt) for (seq,) in updated],
            )
            return len(updated)

        return self._write(op, durable=False)

    def renew(self, seqs: Sequence[int], owner: str, lease_seconds: float) -> list[int]:
        """Extend our lease before a request; returns the seqs still ours."""
        if not seqs:
            return []

        def op(conn: sqlite3.Connection) -> list[int]:
            now = time.time()
            marks = _placeholders(len(seqs))
            conn.execute(
                f"UPDATE events SET lease_until = ? WHERE state = 'pending' AND lease_owner = ? "
                f"AND lease_until >= ? AND seq IN ({marks})",
                (now + lease_seconds, owner, now, *seqs),
            )
            rows = conn.execute(
                f"SELECT seq FROM events WHERE state = 'pending' AND lease_owner = ? AND lease_until > ? "
                f"AND seq IN ({marks})",
                (owner, now, *seqs),
            ).fetchall()
            return [r[0] for r in rows]

        return self._write(op, durable=False)

    def mark_delivered(self, seqs: Sequence[int], owner: str, *, status: int | None = None) -> int:
        """``status``: the HTTP status of the request, logged as an attempt of each event (the console)."""
        now = time.time()
        return self._owned_update(
            "UPDATE events SET state = 'delivered', delivered_at = ?, updated_at = ?, attempts = attempts + 1, "
            "last_error = NULL, lease_owner = NULL, lease_until = NULL",
            (now, now),
            seqs,
            owner,
            None if status is None else (status, ATTEMPT_DELIVERED, None),
        )

    def mark_retry(self, seqs: Sequence[int], owner: str, delay: float, error: str, *, status: int | None = None) -> int:
        now = time.time()
        return self._owned_update(
            "UPDATE events SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ?, "
            "lease_owner = NULL, lease_until = NULL",
            (now + delay, error, now),
            seqs,
            owner,
            None if status is None else (status, ATTEMPT_RETRY, error),
        )

    def release(self, seqs: Sequence[int], owner: str, error: str, *, status: int | None = None) -> int:
        """Give events back untouched except for the reason (sender paused): no attempt counted.

        ``status`` set: a request was made (and refused): it is logged, though not counted.
        """
        return self._owned_update(
            "UPDATE events SET last_error = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL",
            (error, time.time()),
            seqs,
            owner,
            None if status is None else (status, ATTEMPT_PAUSED, error),
        )

    def mark_dead(self, seqs: Sequence[int], owner: str, reason: str, *, status: int | None = None) -> int:
        now = time.time()
        return self._owned_update(
            "UPDATE events SET state = 'dead', attempts = attempts + 1, last_error = ?, updated_at = ?, "
            "lease_owner = NULL, lease_until = NULL",
            (reason, now),
            seqs,
            owner,
            None if status is None else (status, ATTEMPT_DEAD, reason),
        )

    def reap_leases(self) -> int:
        """Clear leases that expired (their holder died or stalled) so the events go out again.

        A leased event was due when it was claimed, and only a retry (which ends the lease) moves its
        due time, so the search stays among the due events: the ones waiting for a retry (all of the
        queue in a long outage) are not walked, here in the writer, every poll."""

        def op(conn: sqlite3.Connection) -> int:
            now = time.time()
            cur = conn.execute(
                "UPDATE events INDEXED BY events_due SET lease_owner = NULL, lease_until = NULL "
                "WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until IS NOT NULL AND lease_until < ?",
                (now, now),
            )
            return cur.rowcount

        return self._write(op, durable=False)

    # ------------------------------------------------------------------ operate
    def set_meta(self, values: dict[str, str | None]) -> None:
        def op(conn: sqlite3.Connection) -> None:
            for key, value in values.items():
                if value is None:
                    conn.execute("DELETE FROM meta WHERE key = ?", (key,))
                else:
                    conn.execute(
                        "INSERT INTO meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (key, value),
                    )

        self._write(op)

    def get_meta(self, key: str) -> str | None:
        row = self._read(lambda c: c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone())
        return None if row is None else str(row[0])

    def stats(self, *, counts: bool = True) -> Stats:
        def fn(conn: sqlite3.Connection) -> Stats:
            conn.execute("BEGIN")  # one snapshot for every figure
            try:
                return store_browse.read_stats(_DIALECT, conn, counts=counts)
            finally:
                conn.execute("COMMIT")

        return self._read(fn)

    def dead_letters(self, limit: int) -> list[DeadLetter]:
        rows = self._read(
            lambda c: c.execute(
                "SELECT e.seq, w.webhook_id, e.event_id, e.name, e.last_error, e.attempts, e.updated_at "
                "FROM events e JOIN webhooks w ON w.seq = e.webhook_seq WHERE e.state = 'dead' "
                "ORDER BY e.seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        )
        return [DeadLetter(*r) for r in rows]

    def failed_webhooks(self, limit: int) -> list[FailedWebhook]:
        rows = self._read(
            lambda c: c.execute(
                "SELECT webhook_id, event_type, error, received_at FROM webhooks WHERE state = 'failed' "
                "ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        )
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
            _DIALECT, self._WEBHOOK_COLS, states=list(states), webhook_ids=list(webhook_ids),
            with_dead_events=with_dead_events, since=since, until=until)
        rows = self._read(lambda c: _DIALECT.run(c, sql, params))
        return [self._webhook(r) for r in rows]

    # ------------------------------------------------------------------ console (runtime/relay/console.py)
    def browse(
        self, flt: WebhookFilter, *, limit: int, before: tuple[float, int] | None = None
    ) -> list[WebhookSummary]:
        """A page of the console's event list: ``limit`` webhooks received before ``before``."""

        def fn(conn: sqlite3.Connection) -> list[WebhookSummary]:
            conn.execute("BEGIN")
            try:
                rows = store_browse.page(_DIALECT, conn, flt, limit, before)
                counts: dict[int, dict[str, int]] = {r[0]: {} for r in rows}
                errors: dict[int, str] = {}
                if rows:
                    for seq, state, n, error in conn.execute(
                        "SELECT e.webhook_seq, e.state, count(*), max(e.last_error) FROM events e "
                        "JOIN webhooks w ON w.seq = e.webhook_seq AND w.generation = e.generation "
                        "WHERE e.webhook_seq IN (SELECT value FROM json_each(?)) GROUP BY 1, 2",
                        (json.dumps(list(counts)),),
                    ):
                        counts[seq][state] = n
                        if error and state in (DEAD, PENDING) and (state == DEAD or seq not in errors):
                            errors[seq] = error
            finally:
                conn.execute("COMMIT")
            return [
                WebhookSummary(r[0], r[1], r[2], r[3], r[4], r[5], r[6], counts[r[0]], errors.get(r[0])) for r in rows
            ]

        return self._read(fn)

    def count_matching(self, flt: WebhookFilter, cap: int) -> int:
        """How many webhooks the filter selects, counting at most ``cap`` (a bulk replay's dry run)."""

        def fn(conn: sqlite3.Connection) -> int:
            selection, params = store_browse.selection_sql(_DIALECT, conn, flt)
            return int(_DIALECT.run(conn, f"SELECT count(*) FROM (SELECT 1 {selection} LIMIT ?)", [*params, cap])[0][0])

        return self._read(fn)

    def matching(self, flt: WebhookFilter, limit: int) -> list[StoredWebhook]:
        """The webhooks the filter selects, oldest first, at most ``limit`` (a bulk replay)."""

        def fn(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            selection, params = store_browse.selection_sql(_DIALECT, conn, flt)
            cols = ", ".join("w." + c.strip() for c in self._WEBHOOK_COLS.split(","))
            return _DIALECT.run(conn, f"SELECT {cols} {selection} ORDER BY w.seq LIMIT ?", [*params, limit])

        return [self._webhook(r) for r in self._read(fn)]

    def webhook(self, webhook_id: str) -> tuple[StoredWebhook, list[EventRecord]] | None:
        """One stored webhook with every event it produced (newest generation first) and their attempts."""

        def fn(conn: sqlite3.Connection) -> tuple[StoredWebhook, list[EventRecord]] | None:
            conn.execute("BEGIN")
            try:
                row = conn.execute(
                    f"SELECT {self._WEBHOOK_COLS} FROM webhooks WHERE webhook_id = ?", (webhook_id,)
                ).fetchone()
                if row is None:
                    return None
                history: dict[int, list[Attempt]] = {}
                for seq, *attempt in conn.execute(
                    "SELECT a.event_seq, a.at, a.status, a.outcome, a.error FROM attempts a "
                    "JOIN events e ON e.seq = a.event_seq WHERE e.webhook_seq = ? ORDER BY a.id",
                    (row[0],),
                ):
                    history.setdefault(seq, []).append(Attempt(*attempt))
                events = [
                    EventRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], history.get(r[0], []))
                    for r in conn.execute(
                        "SELECT seq, generation, event_id, name, payload, state, attempts, last_error, created_at, "
                        "delivered_at, next_attempt_at FROM events WHERE webhook_seq = ? "
                        "ORDER BY generation DESC, idx",
                        (row[0],),
                    )
                ]
            finally:
                conn.execute("COMMIT")
            return self._webhook(row), events

        return self._read(fn)

    def event_types(self) -> list[str]:
        """The distinct event types stored: one index step per type (a skip scan), not a table scan."""
        rows = self._read(
            lambda c: c.execute(
                "WITH RECURSIVE t(x) AS (SELECT min(event_type) FROM webhooks WHERE event_type IS NOT NULL UNION ALL "
                "SELECT (SELECT min(event_type) FROM webhooks WHERE event_type > t.x) FROM t WHERE t.x IS NOT NULL) "
                "SELECT x FROM t WHERE x IS NOT NULL"
            ).fetchall()
        )
        return [r[0] for r in rows]

    def throughput(self, since: float, bucket_seconds: int) -> tuple[dict[int, int], dict[int, int]]:
        """Webhooks received and events delivered per bucket since ``since`` (keys: bucket start, epoch s)."""

        def fn(conn: sqlite3.Connection) -> tuple[dict[int, int], dict[int, int]]:
            b = int(bucket_seconds)
            received = dict(conn.execute(
                f"SELECT CAST(received_at / {b} AS INTEGER) * {b}, count(*) FROM webhooks "
                "WHERE received_at >= ? GROUP BY 1", (since,)).fetchall())
            delivered = dict(conn.execute(
                f"SELECT CAST(at / {b} AS INTEGER) * {b}, count(*) FROM attempts "
                "WHERE at >= ? AND outcome = 'delivered' GROUP BY 1", (since,)).fetchall())
            return received, delivered

        return self._read(fn)

    def delivered_events(self, webhook_seqs: Sequence[int]) -> dict[int, dict[str, float]]:
        """For each webhook, the ids of its events Inngest accepted and when (replay leaves them out)."""
        found: dict[int, dict[str, float]] = {}
        seqs = list(webhook_seqs)

        def fetch(chunk: list[int]) -> Callable[[sqlite3.Connection], list[Any]]:
            return lambda c: c.execute(
                "SELECT webhook_seq, event_id, delivered_at FROM events WHERE state = 'delivered' "
                f"AND event_id IS NOT NULL AND webhook_seq IN ({_placeholders(len(chunk))})",
                chunk,
            ).fetchall()

        for start in range(0, len(seqs), 500):
            for seq, event_id, delivered_at in self._read(fetch(seqs[start:start + 500])):
                ids = found.setdefault(seq, {})
                ids[event_id] = max(delivered_at or 0.0, ids.get(event_id, 0.0))
        return found
    # ------------------------------------------------------------------ retention and purge
    _FINISHED = (
        "received_at < ? AND state IN ('mapped', 'skipped', 'dropped') AND NOT EXISTS "
        "(SELECT 1 FROM events e WHERE e.webhook_seq = webhooks.seq AND e.state IN ('pending', 'dead'))"
    )

    @staticmethod
    def _delete(conn: sqlite3.Connection, seqs: Sequence[int]) -> tuple[int, int]:
        marks = _placeholders(len(seqs))
        events = conn.execute(f"DELETE FROM events WHERE webhook_seq IN ({marks})", seqs).rowcount
        webhooks = conn.execute(f"DELETE FROM webhooks WHERE seq IN ({marks})", seqs).rowcount
        return webhooks, events

    def prune(self, before: float, limit: int) -> int:
        """Delete up to ``limit`` finished webhooks received before ``before``, with their events.

        Finished: mapped with every event delivered (or superseded), skipped or dropped. Failed
        webhooks and those with pending or dead events stay until someone deals with them.
        """

        def op(conn: sqlite3.Connection) -> int:
            # oldest first along received_at: the planner would rather take the state index and sort it all
            seqs = [r[0] for r in conn.execute(
                f"SELECT seq FROM webhooks INDEXED BY webhooks_received_at WHERE {self._FINISHED} "
                "ORDER BY received_at LIMIT ?",
                (before, limit),
            )]
            return self._delete(conn, seqs)[0] if seqs else 0

        return self._write(op)

    def bodies_containing(self, text: str) -> list[tuple[int, bytes]]:
        """``(seq, body)`` of the webhooks whose body contains ``text`` (ASCII letters in any case)."""
        rows = self._read(
            lambda c: c.execute(
                "SELECT seq, body FROM webhooks WHERE instr(lower(CAST(body AS TEXT)), ?) > 0 ORDER BY seq",
                ("".join(ch.lower() if ch.isascii() else ch for ch in text),),
            ).fetchall()
        )
        return [(seq, bytes(body)) for seq, body in rows]

    def seqs_received_before(self, before: float) -> list[int]:
        return [r[0] for r in self._read(
            lambda c: c.execute("SELECT seq FROM webhooks WHERE received_at < ? ORDER BY seq", (before,)).fetchall()
        )]

    def purge_plan(self, seqs: Sequence[int]) -> PurgePlan:
        def fn(conn: sqlite3.Connection) -> PurgePlan:
            ids: list[str] = []
            events = undelivered = 0
            for start in range(0, len(seqs), 500):
                chunk = list(seqs[start:start + 500])
                marks = _placeholders(len(chunk))
                if len(ids) < 20:
                    ids += [r[0] for r in conn.execute(
                        f"SELECT webhook_id FROM webhooks WHERE seq IN ({marks}) ORDER BY seq LIMIT 20", chunk)]
                n, pending = conn.execute(
                    f"SELECT count(*), coalesce(sum(state = 'pending'), 0) FROM events WHERE webhook_seq IN ({marks})",
                    chunk,
                ).fetchone()
                events, undelivered = events + n, undelivered + pending
            return PurgePlan(len(seqs), events, undelivered, ids[:20])

        return self._read(fn)

    def delete_webhooks(self, seqs: Sequence[int], batch: int = 500) -> tuple[int, int]:
        """Delete these webhooks and their events, ``batch`` at a time (the relay keeps answering between)."""
        webhooks = events = 0
        for start in range(0, len(seqs), batch):
            chunk = list(seqs[start:start + batch])
            w, e = self._write(lambda conn, chunk=chunk: self._delete(conn, chunk))  # type: ignore[misc]
            webhooks, events = webhooks + w, events + e
        return webhooks, events

    def reclaim_space(self) -> str:
        """Give the pages freed by deletions back to the file system and empty the WAL.

        A store created with incremental auto-vacuum frees pages in place; an older one is rebuilt
        once with ``VACUUM`` (which needs a moment without writers: webhooks wait, up to the busy timeout).
        """

        def incremental(conn: sqlite3.Connection) -> int:
            mode = int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])
            if mode == 2:
                conn.execute("PRAGMA incremental_vacuum").fetchall()
            return mode

        how = "freed pages returned"
        if self._write(incremental) != 2:
            conn = self._connect()
            try:
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("PRAGMA temp_store = FILE")  # VACUUM rebuilds the whole store in a temporary database
                conn.execute("VACUUM")
            finally:
                conn.close()
            how = "store rebuilt (VACUUM)"
        # the WAL still holds the pages as they were before the deletion: truncate it. A running relay's
        # reads or its own checkpoint can make one attempt fail (busy); they are short, so try again
        conn = self._connect()
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            for _attempt in range(10):
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy:
                    break
                time.sleep(0.2)
        finally:
            conn.close()
        if busy:
            return how + "; the write-ahead log is still in use (it is emptied at the relay's next checkpoint)"
        return how + "; write-ahead log emptied"
