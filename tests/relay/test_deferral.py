"""When mapping and delivery step aside for the receive path: only while it is saturated, and boundedly.

Driven with a fake clock and set measurements, so every case is deterministic; one test runs the
real lag probe on a real event loop (its values are not timed, only its behaviour).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from runtime.relay.worker import (
    BACKLOG_BUSY,
    BUSY_SLICE_SECONDS,
    LAG_SECONDS,
    LAGGING_DEFER_SECONDS,
    LAGGING_SLICE_SECONDS,
    LOOP_LAG_BUSY_SECONDS,
    LOOP_LAG_PROBE_SECONDS,
    MAX_DEFER_SECONDS,
    Deferral,
    Intake,
)

from .harness import Double, RelayServer, wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.wall = 1_700_000_000.0

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall += seconds


def policy() -> tuple[Intake, Deferral, Clock]:
    clock = Clock()
    intake = Intake()
    intake.probe_due = clock.now + LOOP_LAG_PROBE_SECONDS  # a watched loop, on time
    return intake, Deferral(intake, clock=lambda: clock.now, wall=lambda: clock.wall), clock


def waits(deferral: Deferral, clock: Clock) -> float:
    """Follow the policy until it says go; the total time it made the loop wait."""
    waited = 0.0
    while (step := deferral.wait(waited)) is not None:
        assert step > 0
        clock.advance(step)
        waited += step
    return waited


def test_a_steady_stream_below_saturation_is_never_deferred() -> None:
    intake, deferral, clock = policy()
    for _ in range(1000):  # webhooks keep coming, the loop keeps up: lag small, few commits pending
        intake.lag = LOOP_LAG_BUSY_SECONDS / 2
        intake.committing = 3
        intake.backlog = BACKLOG_BUSY / 2
        intake.probe_due = clock.now + LOOP_LAG_PROBE_SECONDS / 2
        assert deferral.wait(0.0) is None
        assert deferral.slice() is None  # and the round is a whole batch
        deferral.round_done(clock.wall - 0.01)
        clock.advance(0.001)


def test_a_saturated_loop_defers_a_round_but_only_up_to_the_bound() -> None:
    intake, deferral, clock = policy()
    intake.lag = LOOP_LAG_BUSY_SECONDS * 3
    assert abs(waits(deferral, clock) - MAX_DEFER_SECONDS) < 1e-9  # waited the bound, then went anyway
    assert deferral.under_load and deferral.slice() == BUSY_SLICE_SECONDS  # a short round


def test_the_deferral_ends_as_soon_as_saturation_does() -> None:
    intake, deferral, clock = policy()
    intake.lag = LOOP_LAG_BUSY_SECONDS * 3
    first = deferral.wait(0.0)
    assert first is not None
    clock.advance(first)
    intake.lag = 0.0
    assert deferral.wait(first) is None
    assert not deferral.under_load and deferral.slice() is None


def test_a_loop_blocked_right_now_counts_as_saturated() -> None:
    intake, deferral, clock = policy()
    intake.lag = 0.0
    clock.advance(LOOP_LAG_PROBE_SECONDS + LOOP_LAG_BUSY_SECONDS * 2)  # its probe is overdue
    assert deferral.saturated()
    intake.probe_due = clock.now + LOOP_LAG_PROBE_SECONDS  # it ran again
    assert not deferral.saturated()


def test_the_writers_backlog_on_average_counts_as_saturation() -> None:
    intake, deferral, _clock = policy()
    intake.committing = BACKLOG_BUSY * 4  # a moment's crowd ...
    assert not deferral.saturated()
    intake.backlog = BACKLOG_BUSY - 0.5  # ... is not saturation; a sustained one is
    assert not deferral.saturated()
    intake.backlog = BACKLOG_BUSY
    assert deferral.saturated()


def test_once_the_oldest_item_lags_rounds_come_quickly_and_run_longer() -> None:
    intake, deferral, clock = policy()
    intake.lag = LOOP_LAG_BUSY_SECONDS * 3
    deferral.round_done(clock.wall - LAG_SECONDS * 2)  # sustained saturation: the backlog is getting old
    assert abs(waits(deferral, clock) - LAGGING_DEFER_SECONDS) < 1e-9
    assert deferral.slice() == LAGGING_SLICE_SECONDS
    deferral.round_done(clock.wall - LAG_SECONDS / 2)  # caught up
    assert abs(waits(deferral, clock) - MAX_DEFER_SECONDS) < 1e-9


def test_under_sustained_saturation_background_work_keeps_a_bounded_share() -> None:
    intake, deferral, clock = policy()
    intake.lag = LOOP_LAG_BUSY_SECONDS * 5
    worked = total = 0.0
    for _ in range(200):
        total += waits(deferral, clock)
        spent = deferral.slice()
        assert spent is not None
        clock.advance(spent)
        worked += spent
        total += spent
        deferral.round_done(clock.wall - LAG_SECONDS * 2)
    share = LAGGING_SLICE_SECONDS / (LAGGING_SLICE_SECONDS + LAGGING_DEFER_SECONDS)  # two thirds
    assert share * 0.95 <= worked / total <= share  # less only by the first, short round


def test_without_a_watched_loop_only_the_backlog_counts() -> None:
    intake = Intake()  # no event loop measured (a relay used without its HTTP side)
    assert not intake.saturated(0.0) and not intake.saturated(1e9)
    intake.committing = BACKLOG_BUSY
    assert intake.saturated(0.0)
    assert Deferral(None).wait(0.0) is None


def test_the_probe_measures_a_real_loop_and_stops() -> None:
    intake = Intake()

    async def run() -> None:
        stop = intake.watch(asyncio.get_running_loop())
        assert intake.watching and intake.probe_due is None  # nothing has come yet
        intake.arrived()
        assert intake.probe_due is not None
        first_due = intake.probe_due
        intake.committing = 20
        await asyncio.sleep(LOOP_LAG_PROBE_SECONDS * 5)
        assert intake.probe_due > first_due  # it kept probing
        assert 0 < intake.backlog < 20  # and averaging the backlog it saw
        stop()
        assert intake.probe_due is None and intake.lag == 0.0 and not intake.watching
        intake.arrived()  # after the stop nothing resumes it
        assert intake.probe_due is None

    asyncio.run(run())


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(LOOP_LAG_PROBE_SECONDS)
    raise AssertionError("not within 500 probe periods")


def test_an_idle_loop_is_not_probed_until_webhooks_come_again() -> None:
    """A relay waiting for webhooks must not wake 100 times a second to measure a loop nobody loads
    (about 1% of a core, forever); webhooks arriving, or waiting for their commit, keep it measured."""
    intake = Intake()
    probes = 0

    async def run() -> None:
        nonlocal probes
        loop = asyncio.get_running_loop()
        stop = intake.watch(loop)
        call_at = loop.call_at

        def counted(when: float, callback: Callable[..., object], *args: object, **kw: Any) -> asyncio.TimerHandle:
            nonlocal probes
            probes += callback.__name__ == "probe"
            return call_at(when, callback, *args, **kw)

        loop.call_at = counted  # type: ignore[method-assign]
        intake.arrived()
        await _until(lambda: intake.probe_due is None)  # one probe saw nothing more come: it stopped
        idle = probes
        await asyncio.sleep(LOOP_LAG_PROBE_SECONDS * 10)
        assert probes == idle and intake.probe_due is None and intake.lag == intake.backlog == 0.0
        intake.arrived()
        intake.committing = 1  # a webhook waiting for its commit keeps the loop measured
        await asyncio.sleep(LOOP_LAG_PROBE_SECONDS * 10)
        assert probes > idle + 2 and intake.probe_due is not None and intake.backlog > 0
        intake.committing = 0  # committed: the average decays, then the probe stops
        await _until(lambda: intake.probe_due is None)
        assert intake.backlog == 0.0 and not intake.saturated(time.monotonic())
        stop()

    asyncio.run(run())


def test_the_default_install_serves_on_uvloop_and_httptools(
    double: Double, make_relay: Callable[..., RelayServer]
) -> None:
    import uvloop
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    server = make_relay(double.url)
    assert server.send("payment.succeeded", "msg_fast_stack").status_code == 200
    assert isinstance(server.relay._loop, uvloop.Loop)  # uvicorn's "auto" found uvloop (uvicorn[standard])
    protocols = list(server.server.server_state.connections)
    assert protocols and all(isinstance(p, HttpToolsProtocol) for p in protocols)
    assert server.relay.intake.watching  # the served loop measures its lag while webhooks come
    wait_until(lambda: len(double.events()) >= 1, "the event delivered")
