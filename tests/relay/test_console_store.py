"""The console's store queries give exactly what a brute-force filter of every row gives, page by page.

Built with the console benchmark's own generator (bench/console_bench.py, a few thousand rows here),
so the benchmark measures queries that are known to be right; extra events make some webhooks have
several events in one state (the list must show such a webhook once).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.relay.store import WebhookFilter
from runtime.relay.store_sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` is a top-level directory of the repository, not installed
    sys.path.insert(0, str(ROOT))

from bench import console_bench  # noqa: E402

ROWS = 3000


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStore]:
    s = console_bench.build(tmp_path_factory.mktemp("console-store") / "relay.sqlite3", ROWS)
    conn = s._connect()
    # a second and third event on some webhooks: several dead / delivered events for one webhook
    conn.execute(
        "INSERT INTO events (webhook_seq, generation, idx, event_id, name, payload, size, state, attempts, "
        "next_attempt_at, received_at, created_at, updated_at) SELECT webhook_seq, 0, idx + 1, event_id || ':1', "
        "name, '{}', 2, state, 1, received_at, received_at, received_at, received_at FROM events "
        "WHERE webhook_seq % 7 = 0 OR state = 'dead'"
    )
    conn.close()
    yield s
    s.close()


def _all(store: SQLiteStore) -> tuple[list[tuple[Any, ...]], dict[int, set[str]], dict[int, set[str]]]:
    conn = store._reader()
    hooks = conn.execute("SELECT seq, webhook_id, received_at, state, event_type FROM webhooks").fetchall()
    states: dict[int, set[str]] = {}
    ids: dict[int, set[str]] = {}
    for seq, state, event_id in conn.execute("SELECT webhook_seq, state, event_id FROM events"):
        states.setdefault(seq, set()).add(state)
        ids.setdefault(seq, set()).add(event_id)
    return hooks, states, ids


def _expected(store: SQLiteStore, flt: WebhookFilter) -> list[str]:
    hooks, states, ids = _all(store)
    out = []
    for seq, webhook_id, received_at, state, event_type in hooks:
        if flt.state in ("pending", "delivered", "dead"):
            if flt.state not in states.get(seq, set()):
                continue
        elif flt.state is not None and state != flt.state:
            continue
        if flt.event_type is not None and event_type != flt.event_type:
            continue
        if flt.since is not None and received_at < flt.since:
            continue
        if flt.until is not None and received_at >= flt.until:
            continue
        if flt.id_prefix is not None:
            q = flt.id_prefix
            if not (webhook_id.startswith(q.removeprefix("dodo:")) or any(i.startswith(q) for i in ids.get(seq, ()))):
                continue
        out.append((received_at, seq, webhook_id))
    return [w for _t, _s, w in sorted(out, reverse=True)]


def _paged(store: SQLiteStore, flt: WebhookFilter, limit: int) -> list[str]:
    got: list[str] = []
    before = None
    for _ in range(ROWS):
        page = store.browse(flt, limit=limit, before=before)
        got += [w.webhook_id for w in page]
        if len(page) < limit:
            return got
        before = (page[-1].received_at, page[-1].seq)
    raise AssertionError("paging did not end")


MID = console_bench.T0 + ROWS * 0.05
FILTERS = [
    WebhookFilter(),
    WebhookFilter(state="failed"),
    WebhookFilter(state="dead"),
    WebhookFilter(state="delivered", event_type="t3.event"),
    WebhookFilter(state="pending", since=MID - 60, until=MID + 60),
    WebhookFilter(event_type="t7.event", since=MID),
    WebhookFilter(id_prefix="msg_00000000012"),
    WebhookFilter(id_prefix="dodo:msg_000000001234:1"),
    WebhookFilter(id_prefix="msg_0000", state="dead"),  # a short prefix: many matches, the scan path
    WebhookFilter(state="skipped"),
]


@pytest.mark.parametrize("flt", FILTERS, ids=[repr(f) for f in FILTERS])
def test_browse_pages_match_a_brute_force_filter(store: SQLiteStore, flt: WebhookFilter) -> None:
    expected = _expected(store, flt)
    assert _paged(store, flt, 17) == expected
    assert store.count_matching(flt, ROWS * 2) == len(expected)
    assert sorted(w.webhook_id for w in store.matching(flt, ROWS * 2)) == sorted(expected)


def test_counts_in_a_page_are_those_of_the_current_generation(store: SQLiteStore) -> None:
    [first] = store.browse(WebhookFilter(id_prefix="msg_000000000007"), limit=5)
    assert first.state == "failed" and first.events == {} and first.error and ".map:12:5" in first.error
    [multi] = store.browse(WebhookFilter(id_prefix="msg_000000000014"), limit=5)
    assert multi.events == {"delivered": 2}
    assert store.count_matching(WebhookFilter(), 100) == 100  # the cap bounds the work
