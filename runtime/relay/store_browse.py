"""The console's filtered, keyset-paged reads, written once for both store backends.

The two backends differ only in their parameter placeholder and in how they pass a set of values;
a :class:`Dialect` says which, and the SQL here is written with ``?`` placeholders. The replay's
selection (:func:`select_sql`) and the figures of ``Store.stats`` (:func:`read_stats`) are written here
too, for the same reason.
Every term has an index: webhooks (state, received_at), (event_type, received_at) and webhook_id,
events (state, received_at) and event_id. A delivery-state filter is answered from the events index,
so a rare state (dead) is found without a scan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from runtime.relay.store import EVENT_STATES, WEBHOOK_STATES, Stats, WebhookFilter

ID_PREFIX_SMALL = 1000  # an id prefix matching at most this many rows is looked up by index
SUMMARY_COLS = "w.seq, w.webhook_id, w.received_at, w.state, w.event_type, w.error, w.generation"


class Connection(Protocol):
    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...


@dataclass(frozen=True)
class Dialect:
    placeholder: str  # "?" (sqlite3) or "%s" (psycopg)
    in_values: Callable[[str, list[Any]], tuple[str, Any]]  # "column is one of values": a term, its one parameter

    def run(self, conn: Connection, sql: str, params: list[Any]) -> list[Any]:
        return list(conn.execute(sql.replace("?", self.placeholder), params).fetchall())


def read_stats(d: Dialect, conn: Connection, *, counts: bool) -> Stats:
    """:meth:`Store.stats` in one read transaction the caller opened: the queue (pending events: how
    many, how many due, the oldest, the next due time), meta, and with ``counts`` every row of both
    tables counted by state (a scan of each state index)."""
    st = Stats()
    if counts:
        st.webhooks, st.events = dict.fromkeys(WEBHOOK_STATES, 0), dict.fromkeys(EVENT_STATES, 0)
        st.webhooks.update(conn.execute("SELECT state, count(*) FROM webhooks GROUP BY state").fetchall())
        st.events.update(conn.execute("SELECT state, count(*) FROM events GROUP BY state").fetchall())
    [(depth, due, st.next_attempt_at)] = d.run(
        conn, "SELECT count(*), count(*) FILTER (WHERE next_attempt_at <= ?), min(next_attempt_at) "
        "FROM events WHERE state = 'pending'", [time.time()])
    st.queue_depth, st.ready_now = int(depth), int(due)
    for received_at, error, attempts in d.run(
        conn, "SELECT received_at, last_error, attempts FROM events WHERE state = 'pending' "
        "ORDER BY received_at LIMIT 1", []):
        st.oldest_pending_received_at, st.oldest_pending_error, st.oldest_pending_attempts = received_at, error, attempts
    st.meta = dict(d.run(conn, "SELECT key, value FROM meta", []))
    return st


def prefix_range(text: str) -> tuple[str, str]:
    return text, text + "\U0010ffff"


def filter_sql(d: Dialect, conn: Connection, flt: WebhookFilter) -> tuple[list[str], list[Any], str | None]:
    """WHERE terms on ``w`` (webhooks) and their parameters, plus the delivery state to drive from."""
    where: list[str] = []
    params: list[Any] = []
    event_state = None
    if flt.state in EVENT_STATES:
        event_state = flt.state
    elif flt.state is not None:
        where.append("w.state = ?")
        params.append(flt.state)
    if flt.event_type is not None:
        where.append("w.event_type = ?")
        params.append(flt.event_type)
    if flt.since is not None:
        where.append("w.received_at >= ?")
        params.append(flt.since)
    if flt.until is not None:
        where.append("w.received_at < ?")
        params.append(flt.until)
    if flt.id_prefix:
        text = flt.id_prefix.strip()
        lo, hi = prefix_range(text)
        wlo, whi = prefix_range(text.removeprefix("dodo:"))
        cap = ID_PREFIX_SMALL + 1
        seqs = {r[0] for r in d.run(
            conn, "SELECT seq FROM webhooks WHERE webhook_id >= ? AND webhook_id < ? LIMIT ?", [wlo, whi, cap])}
        seqs |= {r[0] for r in d.run(
            conn, "SELECT webhook_seq FROM events WHERE event_id >= ? AND event_id < ? LIMIT ?", [lo, hi, cap])}
        if len(seqs) <= ID_PREFIX_SMALL:  # the usual case (a pasted id): an index lookup
            term, param = d.in_values("w.seq", sorted(seqs))
            where.append(term)
            params.append(param)
        else:  # a short prefix that matches much: matches are dense, the time-ordered scan meets them soon
            where.append(
                "(w.webhook_id >= ? AND w.webhook_id < ? OR EXISTS (SELECT 1 FROM events x "
                "WHERE x.webhook_seq = w.seq AND x.event_id >= ? AND x.event_id < ?))"
            )
            params += [wlo, whi, lo, hi]
    return where, params, event_state


def page(
    d: Dialect, conn: Connection, flt: WebhookFilter, limit: int, before: tuple[float, int] | None
) -> list[tuple[Any, ...]]:
    """Newest first, keyset-paged on (received_at, seq): every page costs the same however deep."""
    where, params, event_state = filter_sql(d, conn, flt)
    if event_state is None:
        if before is not None:
            where.append("(w.received_at < ? OR w.received_at = ? AND w.seq < ?)")
            params += [before[0], before[0], before[1]]
        sql = f"SELECT {SUMMARY_COLS} FROM webhooks w"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY w.received_at DESC, w.seq DESC LIMIT ?"
        return d.run(conn, sql, [*params, limit])
    # a delivery state: walk that state's events newest first; a webhook with several such events
    # comes once (its rows are adjacent: same received_at and webhook)
    rows: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    cursor = before
    while len(rows) < limit:
        terms, args = ["e.state = ?", *where], [event_state, *params]
        if cursor is not None:
            terms.append("(e.received_at < ? OR e.received_at = ? AND e.webhook_seq < ?)")
            args += [cursor[0], cursor[0], cursor[1]]
        chunk = d.run(
            conn,
            f"SELECT {SUMMARY_COLS} FROM events e JOIN webhooks w ON w.seq = e.webhook_seq "
            f"WHERE {' AND '.join(terms)} ORDER BY e.received_at DESC, e.webhook_seq DESC LIMIT ?",
            [*args, limit * 2],
        )
        for row in chunk:
            if row[0] not in seen:
                seen.add(row[0])
                rows.append(row)
        if len(chunk) < limit * 2:
            break
        cursor = (chunk[-1][2], chunk[-1][0])
    return rows[:limit]


def selection_sql(d: Dialect, conn: Connection, flt: WebhookFilter) -> tuple[str, list[Any]]:
    """``FROM webhooks w WHERE …`` selecting what the filter matches (a bulk replay's count and rows)."""
    where, params, event_state = filter_sql(d, conn, flt)
    if event_state is not None:
        where.append("w.seq IN (SELECT webhook_seq FROM events WHERE state = ?)")
        params.append(event_state)
    return "FROM webhooks w" + (" WHERE " + " AND ".join(where) if where else ""), params


def select_sql(
    d: Dialect,
    cols: str,
    *,
    states: list[str],
    webhook_ids: list[str],
    with_dead_events: bool,
    since: float | None,
    until: float | None,
) -> tuple[str, list[Any]]:
    """Webhooks matching any of the selectors (states, ids, dead events), within the time range, oldest first."""
    ors: list[str] = []
    params: list[Any] = []
    for column, values in (("state", states), ("webhook_id", webhook_ids)):
        if values:
            term, param = d.in_values(column, values)
            ors.append(term)
            params.append(param)
    if with_dead_events:
        ors.append("seq IN (SELECT webhook_seq FROM events WHERE state = 'dead')")
    where = [f"({' OR '.join(ors)})"] if ors else []
    if since is not None:
        where.append("received_at >= ?")
        params.append(since)
    if until is not None:
        where.append("received_at < ?")
        params.append(until)
    sql = f"SELECT {cols} FROM webhooks" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
    return sql, params
