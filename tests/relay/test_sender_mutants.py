"""The sender's edges that mutation testing found untested (docs/mutation.md, target ``sender``):
every request it makes is in the event's attempt history with Inngest's status (what the console
shows), and the backoff it logs is the one it waits."""

from __future__ import annotations

import logging
import random

import pytest

from runtime.relay.inngest import InngestSender
from runtime.relay.store import ATTEMPT_DEAD, ATTEMPT_DELIVERED, ATTEMPT_PAUSED, ATTEMPT_RETRY

from .test_sender import Rig, rig  # noqa: F401  (the fixture: a real store, the client and the double)


@pytest.mark.parametrize(("answer", "outcome"), [
    (None, (200, ATTEMPT_DELIVERED)),
    ({"status": 500, "body": {"error": "boom"}}, (500, ATTEMPT_RETRY)),
    ({"status": 401, "body": {"error": "Event key not found"}}, (401, ATTEMPT_PAUSED)),
    ({"status": 400, "body": {"error": "event name is empty"}}, (400, ATTEMPT_DEAD)),
])
def test_each_request_is_in_the_attempt_history_with_inngests_status(
    rig: Rig, answer: dict[str, object] | None, outcome: tuple[int, str]  # noqa: F811
) -> None:
    [event_id] = rig.queue("payment.succeeded")
    if answer is not None:
        rig.double.script(answer)
    rig.round()
    found = rig.store.webhook(f"msg_{event_id}")
    assert found is not None
    [event] = found[1]
    assert [(a.status, a.outcome) for a in event.history] == [outcome]


def test_the_backoff_logged_is_the_one_waited_to_the_millisecond(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    caplog.set_level(logging.INFO, logger="paymap.relay")
    monkeypatch.setattr(random, "uniform", lambda _a, _b: 0.7654321)  # a jitter with many digits
    rig.queue("payment.succeeded")
    rig.double.script({"status": 503, "body": {"error": "down"}})
    rig.round()
    [failing] = [r for r in caplog.records if r.getMessage().startswith("delivery failing;")]
    assert rig.sender._hold == 0.5 * 0.7654321
    assert failing.delay_s == 0.383  # type: ignore[attr-defined]


def test_an_unexpected_error_is_shown_as_a_paused_attempt_without_an_answer(rig: Rig) -> None:  # noqa: F811
    [event_id] = rig.queue("payment.succeeded")
    rig.sender._client.close()
    rig.sender._client = InngestSender(rig.double.url, "key-with-a-newline\n", timeout=2)  # httpx raises InvalidURL
    rig.round()
    found = rig.store.webhook(f"msg_{event_id}")
    assert found is not None
    [attempt] = found[1][0].history
    assert (attempt.status, attempt.outcome) == (0, ATTEMPT_PAUSED)
    assert attempt.error is not None and attempt.error.startswith("unexpected error: InvalidURL: ")
