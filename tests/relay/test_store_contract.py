"""The :class:`Store` contract, run against every backend (SQLite and the real PostgreSQL).

A backend that drifts from the contract fails here: receive (group commit, duplicates, across
instances), map (once, even when two instances race), deliver (leases, SKIP LOCKED, reaping,
retries, dead letters, each request's attempt), replay, meta, the console's reads (paged event
list, filters, one webhook's history, throughput), retention and purge, read-only opening and
schema versions.
Two store objects on one database stand in for two relay instances.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.relay.store import (
    ATTEMPT_DEAD,
    ATTEMPT_DELIVERED,
    ATTEMPT_PAUSED,
    ATTEMPT_RETRY,
    DEAD,
    DELIVERED,
    EVENT_STATES,
    FAILED,
    MAPPED,
    PENDING,
    SKIPPED,
    SUPERSEDED,
    IncomingWebhook,
    MappingRecord,
    NewEvent,
    Store,
    StoreError,
    StoreUnavailable,
    WebhookFilter,
    instances_in,
)
from runtime.relay.stores import open_store

from .pg import fresh_schema

BODY = b'{"type":"payment.succeeded","data":{"customer":{"email":"Ada@Example.com"}}}'
Opener = Callable[..., Store]


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens stores on one database (call it twice for two instances); closes them all afterwards."""
    opened: list[Store] = []
    with fresh_schema() if request.param == "postgres" else _nothing() as url:

        def open_one(**kw: object) -> Store:
            s = open_store(tmp_path / "relay.sqlite3", url, accept_timeout=kw.pop("accept_timeout", 5.0), **kw)  # type: ignore[arg-type]
            opened.append(s)
            return s

        yield open_one
        for s in opened:
            s.close()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def store(opener: Opener) -> Store:
    return opener()


def hook(webhook_id: str, received_at: float | None = None, body: bytes = BODY) -> IncomingWebhook:
    return IncomingWebhook(webhook_id, {"webhook-id": webhook_id}, body, received_at or time.time())


def accept_all(*pairs: tuple[Store, IncomingWebhook]) -> list[bool]:
    async def go() -> list[bool]:
        return list(await asyncio.gather(*[s.accept(w) for s, w in pairs]))

    return asyncio.run(go())


def event(i: int, size: int = 10) -> NewEvent:
    return NewEvent(f"ev_{i}", "payment.succeeded", '{"n":"' + "x" * size + '"}')


def mapped(store: Store, *ids: str, events: int = 1) -> dict[str, int]:
    """Accept and map ``ids`` with ``events`` events each; returns their seqs."""
    accept_all(*[(store, hook(i)) for i in ids])
    hooks = store.unmapped(1000)
    recs = [(w.seq, w.generation, MappingRecord(MAPPED, "payment.succeeded", None,
                                                 [event(w.seq * 10 + k) for k in range(events)])) for w in hooks]
    assert store.record_mappings(recs) == [True] * len(recs)
    return {w.webhook_id: w.seq for w in hooks}


# ------------------------------------------------------------------------- receive
def test_new_and_duplicate_ids_in_one_batch(store: Store) -> None:
    assert accept_all((store, hook("a")), (store, hook("b")), (store, hook("a"))) == [True, True, False]
    assert accept_all((store, hook("b"))) == [False]
    assert [w.webhook_id for w in store.unmapped(10)] == ["a", "b"]
    w = store.unmapped(10)[0]
    assert (w.body, w.headers, w.state) == (BODY, {"webhook-id": "a"}, "received")


def test_the_same_webhook_at_two_instances_at_once_is_stored_once(opener: Opener) -> None:
    one, two = opener(), opener()
    results = accept_all(*[(s, hook(f"w{i}")) for i in range(50) for s in (one, two)])
    assert sorted(results) == [False] * 50 + [True] * 50
    assert all(results[2 * i] != results[2 * i + 1] for i in range(50))  # one of each pair
    assert len(one.unmapped(1000)) == 50 and two.stats().webhooks["received"] == 50


def test_a_closed_store_refuses(store: Store) -> None:
    store.close()
    with pytest.raises(StoreUnavailable):
        accept_all((store, hook("late")))
    with pytest.raises(StoreUnavailable):
        store.stats()


# ------------------------------------------------------------------------- map
def test_mapping_is_recorded_once_even_when_two_instances_race(opener: Opener) -> None:
    one, two = opener(), opener()
    accept_all((one, hook("a")))
    [w] = one.unmapped(10)
    assert two.unmapped(10)[0].seq == w.seq
    rec = MappingRecord(MAPPED, "payment.succeeded", None, [event(1), event(2)])
    results: list[list[bool]] = []
    threads = [threading.Thread(target=lambda s=s: results.append(s.record_mappings([(w.seq, w.generation, rec)])))
               for s in (one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [[False], [True]]
    assert one.stats().events[PENDING] == 2 and one.unmapped(10) == []


def test_outcomes_and_dead_on_arrival_events(store: Store) -> None:
    accept_all((store, hook("ok")), (store, hook("skip")), (store, hook("bad")))
    ok, skip, bad = store.unmapped(10)
    store.record_mappings([
        (ok.seq, 0, MappingRecord(MAPPED, "t", None, [event(1), NewEvent("ev_x", "n", "{}", "too large")])),
        (skip.seq, 0, MappingRecord(SKIPPED, "t")),
        (bad.seq, 0, MappingRecord(FAILED, "t", "boom")),
    ])
    st = store.stats()
    assert (st.webhooks[MAPPED], st.webhooks[SKIPPED], st.webhooks[FAILED]) == (1, 1, 1)
    assert (st.events[PENDING], st.events[DEAD], st.queue_depth, st.ready_now) == (1, 1, 1, 1)
    assert [(f.webhook_id, f.error) for f in store.failed_webhooks(10)] == [("bad", "boom")]
    [dl] = store.dead_letters(10)
    assert (dl.webhook_id, dl.event_id, dl.reason) == ("ok", "ev_x", "too large")


# ------------------------------------------------------------------------- deliver
def test_claims_are_bounded_and_never_shared(opener: Opener) -> None:
    one, two = opener(), opener()
    mapped(one, *[f"w{i}" for i in range(6)])
    first = one.claim("A", 4, 10_000, 30)
    assert len(first) == 4 and [e.seq for e in first] == sorted(e.seq for e in first)
    second = two.claim("B", 10, 10_000, 30)
    assert len(second) == 2 and not {e.seq for e in first} & {e.seq for e in second}
    assert two.claim("B", 10, 10_000, 30) == []
    assert len(one.claim("C", 10, 1, 30)) == 0  # all leased
    # bytes: always at least one, then only what fits
    mapped(one, "big1", "big2")
    assert len(one.claim("D", 10, 1, 30)) == 1


def test_racing_claims_from_many_threads_never_double_lease(opener: Opener) -> None:
    stores = [opener() for _ in range(3)]
    mapped(stores[0], *[f"w{i}" for i in range(60)])
    got: list[int] = []
    lock = threading.Lock()

    def worker(s: Store, name: str) -> None:
        while batch := s.claim(name, 3, 10_000, 30):
            with lock:
                got.extend(e.seq for e in batch)

    threads = [threading.Thread(target=worker, args=(s, f"o{i}")) for i, s in enumerate(stores * 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(set(got)) and len(got) == 60


def test_lease_owner_rules(store: Store) -> None:
    mapped(store, "a", "b", "c", "d")
    a, b, c, d = store.claim("me", 10, 10_000, 30)
    assert store.mark_delivered([a.seq], "someone else") == 0
    assert store.renew([a.seq, b.seq], "me", 30) == [a.seq, b.seq]
    assert store.mark_delivered([a.seq], "me") == 1
    assert store.mark_delivered([a.seq], "me") == 0  # no longer pending
    assert store.mark_retry([b.seq], "me", 60, "503 from Inngest") == 1
    assert store.release([c.seq], "me", "paused") == 1
    assert store.mark_dead([d.seq], "me", "400 invalid") == 1
    st = store.stats()
    assert (st.events[DELIVERED], st.events[PENDING], st.events[DEAD]) == (1, 2, 1)
    assert st.ready_now == 1 and st.next_attempt_at is not None
    queue = store.stats(counts=False)  # the sender's once-a-minute alert: no scan of every row
    assert queue.webhooks == queue.events == {}
    assert (queue.queue_depth, queue.ready_now, queue.next_attempt_at, queue.oldest_pending_received_at) == (
        2, 1, st.next_attempt_at, st.oldest_pending_received_at)
    [again] = store.claim("other", 10, 10_000, 30)  # b waits 60 s; c is due again
    assert again.seq == c.seq and again.attempts == 0  # a release counts no attempt
    assert store.delivered_events([store.select_webhooks(webhook_ids=["a"])[0].seq])  # replay sees it


def test_expired_leases_are_reaped_for_the_other_instances(opener: Opener) -> None:
    dead, alive = opener(), opener()
    mapped(dead, "a", "b")
    held = dead.claim("dead-instance", 10, 10_000, 0.2)
    assert len(held) == 2 and alive.claim("alive", 10, 10_000, 30) == []
    time.sleep(0.3)
    assert alive.reap_leases() == 2
    taken = alive.claim("alive", 10, 10_000, 30)
    assert [e.seq for e in taken] == [e.seq for e in held]
    assert dead.renew([e.seq for e in held], "dead-instance", 30) == []  # its late renewal is refused
    assert dead.mark_delivered([e.seq for e in held], "dead-instance") == 0


# ------------------------------------------------------------------------- replay and operate
def test_remap_supersedes_undelivered_events(store: Store) -> None:
    seqs = mapped(store, "a", events=2)
    [e1, _e2] = store.claim("me", 10, 10_000, 30)
    store.mark_delivered([e1.seq], "me")
    generation = store.remap(seqs["a"], MappingRecord(MAPPED, "t", None, [event(7)]))
    assert generation == 1
    st = store.stats()
    assert (st.events[DELIVERED], st.events[SUPERSEDED], st.events[PENDING]) == (1, 1, 1)
    assert store.delivered_events([seqs["a"]]) == {seqs["a"]: {e1.event_id: pytest.approx(time.time(), abs=60)}}
    with pytest.raises(StoreError):
        store.remap(999_999, MappingRecord(SKIPPED, "t"))


def test_unmapped_after_a_seq_skips_the_round_still_being_recorded(store: Store) -> None:
    accept_all(*[(store, hook(f"u{i}")) for i in range(6)])
    every = [w.seq for w in store.unmapped(100)]
    assert [w.seq for w in store.unmapped(100, every[2])] == every[3:]
    assert [w.seq for w in store.unmapped(2, every[0])] == every[1:3]
    assert store.unmapped(100, every[-1]) == []


def test_select_webhooks(store: Store) -> None:
    t0 = time.time()
    accept_all((store, hook("old", t0 - 100)), (store, hook("new", t0)), (store, hook("f", t0)))
    old, new, f = store.unmapped(10)
    store.record_mappings([(old.seq, 0, MappingRecord(SKIPPED, "t")),
                           (new.seq, 0, MappingRecord(MAPPED, "t", None, [NewEvent("x", "n", "{}", "bad")])),
                           (f.seq, 0, MappingRecord(FAILED, "t", "boom"))])
    ids = lambda ws: [w.webhook_id for w in ws]  # noqa: E731
    assert ids(store.select_webhooks(states=[SKIPPED, FAILED])) == ["old", "f"]
    assert ids(store.select_webhooks(webhook_ids=["new", "nope"])) == ["new"]
    assert ids(store.select_webhooks(with_dead_events=True)) == ["new"]
    assert ids(store.select_webhooks(states=[SKIPPED, FAILED], since=t0 - 1)) == ["f"]
    assert ids(store.select_webhooks(until=t0 - 1)) == ["old"]


def test_meta_is_shared_by_the_instances(opener: Opener) -> None:
    from runtime.relay.store import Instance, heartbeat

    one, two = opener(), opener()
    one.set_meta({"sender.paused": "401 from Inngest"})
    assert two.get_meta("sender.paused") == "401 from Inngest"
    two.set_meta({"sender.paused": None, "x": "1"})
    assert one.get_meta("sender.paused") is None and one.stats().meta["x"] == "1"
    heartbeat(one, Instance("i1", "host-a", "abc", 1.0, time.time()))
    heartbeat(two, Instance("i2", "host-b", "def", 1.0, time.time() - 10))
    assert [(i.instance_id, i.mapping_hash) for i in instances_in(one.stats().meta)] == [("i1", "abc"), ("i2", "def")]


# ------------------------------------------------------------------------- retention and purge
def test_prune_keeps_what_is_not_finished(store: Store) -> None:
    old = time.time() - 1000
    accept_all(*[(store, hook(i, old)) for i in ("done", "pending", "dead", "failed", "skipped")],
               (store, hook("recent")))
    hooks = {w.webhook_id: w for w in store.unmapped(10)}
    rec = lambda *evs: MappingRecord(MAPPED, "t", None, list(evs))  # noqa: E731
    store.record_mappings([
        (hooks["done"].seq, 0, rec(event(1))), (hooks["pending"].seq, 0, rec(event(2))),
        (hooks["dead"].seq, 0, rec(NewEvent("d", "n", "{}", "bad"))),
        (hooks["failed"].seq, 0, MappingRecord(FAILED, "t", "boom")),
        (hooks["skipped"].seq, 0, MappingRecord(SKIPPED, "t")), (hooks["recent"].seq, 0, MappingRecord(SKIPPED, "t")),
    ])
    [first, _second] = store.claim("me", 10, 10_000, 30)
    store.mark_delivered([first.seq], "me")  # "done" is finished; "pending" is not
    assert store.prune(time.time() - 500, 1) == 1
    assert store.prune(time.time() - 500, 10) == 1
    assert store.prune(time.time() - 500, 10) == 0
    left = sorted(w.webhook_id for w in store.select_webhooks(since=0))
    assert left == ["dead", "failed", "pending", "recent"]
    assert store.stats().events[DELIVERED] == 0


def test_purge_by_text_and_age(store: Store) -> None:
    old = time.time() - 1000
    accept_all((store, hook("a", old)), (store, hook("b", body=b'{"email":"bob@example.com"}')),
               (store, hook("c", body='{"name":"Zoë \\\\ x"}'.encode())))
    mapped(store)
    assert [s for s, _ in store.bodies_containing("ada@EXAMPLE.com")] == [store.select_webhooks(webhook_ids=["a"])[0].seq]
    assert len(store.bodies_containing("Zoë")) == 1 and len(store.bodies_containing("\\\\ x")) == 1
    seqs = store.seqs_received_before(time.time() - 500)
    assert len(seqs) == 1
    plan = store.purge_plan(seqs)
    assert (plan.webhooks, plan.events, plan.undelivered, plan.sample_ids) == (1, 1, 1, ["a"])
    assert store.delete_webhooks(seqs) == (1, 1)
    assert store.purge_plan([]).webhooks == 0
    assert isinstance(store.reclaim_space(), str)
    assert sorted(w.webhook_id for w in store.select_webhooks(since=0)) == ["b", "c"]


# ------------------------------------------------------------------------- opening
def test_read_only_reads_and_refuses_writes(opener: Opener) -> None:
    writer = opener()
    mapped(writer, "a")
    reader = opener(read_only=True)
    assert reader.stats().events[PENDING] == 1
    with pytest.raises(StoreUnavailable):
        reader.set_meta({"x": "1"})
    with pytest.raises(StoreUnavailable):
        accept_all((reader, hook("b")))


def test_instances_starting_together_migrate_once(opener: Opener) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opener().ping()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# ------------------------------------------------------------------------- the console's reads
def test_each_request_is_logged_as_an_attempt_with_its_status(store: Store) -> None:
    seqs = mapped(store, "ok", "retry", "paused", "dead", "quiet")
    by_seq = {e.seq: e for e in store.claim("me", 10, 10_000, 30)}
    ev = {wid: next(e for e in by_seq.values() if e.event_id == f"ev_{seq * 10}") for wid, seq in seqs.items()}
    assert store.mark_retry([ev["retry"].seq], "me", 0, "503 from Inngest", status=503) == 1
    assert store.release([ev["paused"].seq], "me", "401: paused", status=401) == 1
    assert store.mark_dead([ev["dead"].seq], "me", "400 invalid", status=400) == 1
    assert store.mark_delivered([ev["quiet"].seq], "me") == 1  # no status: no request to log
    assert store.mark_delivered([ev["ok"].seq], "me", status=200) == 1
    assert store.mark_delivered([ev["ok"].seq], "me", status=200) == 0  # not ours any more: not logged
    history = {wid: [(a.status, a.outcome, a.error) for e in store.webhook(wid)[1] for a in e.history]  # type: ignore[index]
               for wid in seqs}
    assert history == {
        "ok": [(200, ATTEMPT_DELIVERED, None)],
        "retry": [(503, ATTEMPT_RETRY, "503 from Inngest")],
        "paused": [(401, ATTEMPT_PAUSED, "401: paused")],
        "dead": [(400, ATTEMPT_DEAD, "400 invalid")],
        "quiet": [],
    }
    received, delivered = store.throughput(time.time() - 3600, 60)
    assert sum(received.values()) == 5 and sum(delivered.values()) == 1
    assert all(k % 60 == 0 for k in [*received, *delivered])


def test_one_webhook_with_every_generation_of_its_events(store: Store) -> None:
    seqs = mapped(store, "a", events=2)
    store.remap(seqs["a"], MappingRecord(MAPPED, "refund.succeeded", None, [event(7)]))
    found = store.webhook("a")
    assert found is not None
    hook_, events = found
    assert (hook_.webhook_id, hook_.generation, hook_.event_type) == ("a", 1, "refund.succeeded")
    assert [(e.generation, e.event_id, e.state) for e in events] == [
        (1, "ev_7", PENDING), (0, f"ev_{seqs['a'] * 10}", SUPERSEDED), (0, f"ev_{seqs['a'] * 10 + 1}", SUPERSEDED)]
    assert store.webhook("nope") is None
    assert store.event_types() == ["refund.succeeded"]


def _corpus(store: Store) -> None:
    """40 webhooks a second apart: mapped (events delivered, dead, pending), failed, skipped; two types."""
    t0 = time.time() - 100
    accept_all(*[(store, hook(f"msg_{i:03d}", t0 + i)) for i in range(40)])
    recs = []
    for w in store.unmapped(100):
        i = int(w.webhook_id[4:])
        etype = "payment.succeeded" if i % 2 else "refund.succeeded"
        if i % 10 == 3:
            recs.append((w.seq, 0, MappingRecord(FAILED, etype, "boom")))
        elif i % 10 == 7:
            recs.append((w.seq, 0, MappingRecord(SKIPPED, etype)))
        else:
            evs = [NewEvent(f"dodo:{w.webhook_id}", "n", "{}"), NewEvent(f"dodo:{w.webhook_id}:1", "n", "{}")]
            if i % 10 == 5:
                evs.append(NewEvent(f"dodo:{w.webhook_id}:2", "n", "{}", "too large"))
            recs.append((w.seq, 0, MappingRecord(MAPPED, etype, None, evs)))
    store.record_mappings(recs)
    out = store.claim("me", 1000, 10**6, 30)
    store.mark_delivered([e.seq for e in out if e.event_id and int(e.event_id.split("_")[1][:3]) % 3 == 0],
                         "me", status=200)
    store.release([e.seq for e in out], "me", "later")


def _expected(store: Store, flt: WebhookFilter) -> list[str]:
    out = []
    for w in store.select_webhooks(since=0):
        found = store.webhook(w.webhook_id)
        assert found is not None
        events = found[1]
        if flt.state in EVENT_STATES:
            if flt.state not in {e.state for e in events}:
                continue
        elif flt.state is not None and w.state != flt.state:
            continue
        if flt.event_type is not None and w.event_type != flt.event_type:
            continue
        if flt.since is not None and w.received_at < flt.since:
            continue
        if flt.until is not None and w.received_at >= flt.until:
            continue
        if flt.id_prefix is not None:
            q = flt.id_prefix
            if not (w.webhook_id.startswith(q.removeprefix("dodo:"))
                    or any((e.event_id or "").startswith(q) for e in events)):
                continue
        out.append((w.received_at, w.seq, w.webhook_id))
    return [wid for _t, _s, wid in sorted(out, reverse=True)]


def test_the_event_list_pages_and_filters_like_a_brute_force_filter(store: Store) -> None:
    _corpus(store)
    mid = min(w.received_at for w in store.select_webhooks(since=0)) + 20
    filters = [
        WebhookFilter(), WebhookFilter(state=FAILED), WebhookFilter(state=DEAD), WebhookFilter(state=DELIVERED),
        WebhookFilter(state=PENDING, event_type="refund.succeeded"), WebhookFilter(since=mid, until=mid + 10),
        WebhookFilter(event_type="payment.succeeded", since=mid), WebhookFilter(id_prefix="msg_01"),
        WebhookFilter(id_prefix="dodo:msg_025:2"), WebhookFilter(id_prefix="msg_0", state=DEAD),
        WebhookFilter(state=SKIPPED),
    ]
    for flt in filters:
        expected = _expected(store, flt)
        got: list[str] = []
        before = None
        while True:
            page = store.browse(flt, limit=3, before=before)
            got += [w.webhook_id for w in page]
            if len(page) < 3:
                break
            before = (page[-1].received_at, page[-1].seq)
        assert got == expected, flt
        assert store.count_matching(flt, 1000) == len(expected), flt
        assert sorted(w.webhook_id for w in store.matching(flt, 1000)) == sorted(expected), flt
    assert store.count_matching(WebhookFilter(), 5) == 5  # the cap bounds the work
    [dead] = store.browse(WebhookFilter(id_prefix="msg_005"), limit=5)
    assert dead.events == {PENDING: 2, DEAD: 1} and dead.event_error == "too large"
    [failed] = store.browse(WebhookFilter(id_prefix="msg_003"), limit=5)
    assert (failed.state, failed.error, failed.events) == (FAILED, "boom", {})
    assert store.event_types() == ["payment.succeeded", "refund.succeeded"]


def test_ping_probe_and_meta(store: Store) -> None:
    store.ping()
    store.probe_write()
    assert store.get_meta("ready.probe") is not None
    assert store.get_meta("nothing") is None
    assert store.location


def test_a_mapped_batch_without_any_event(store: Store) -> None:
    accept_all((store, hook("skip")), (store, hook("drop")))
    skip, drop = store.unmapped(10)
    assert store.record_mappings([(skip.seq, 0, MappingRecord(SKIPPED, "t")),
                                  (drop.seq, 0, MappingRecord("dropped", "t"))]) == [True, True]
    assert store.unmapped(10) == [] and sum(store.stats().events.values()) == 0
