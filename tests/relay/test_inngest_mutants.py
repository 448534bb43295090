"""The Inngest client's edges that mutation testing found untested (docs/mutation.md, target ``inngest``):
where a request goes for a base URL ending in slashes, what an HTTP date in the past or future means
as a ``Retry-After``, and which text an event's size is measured on."""

from __future__ import annotations

import email.utils
import json
import time

import httpx
import pytest

from runtime.relay.contract import encode_event
from runtime.relay.inngest import InngestSender, SendResult, parse_retry_after, validate_event

from .harness import Double


@pytest.mark.parametrize(("base", "url", "shown"), [
    ("https://inn.example", "https://inn.example/e/key-123456", "https://inn.example/e/key-12…"),
    ("https://inn.example/", "https://inn.example/e/key-123456", "https://inn.example/e/key-12…"),
    ("https://inn.example//", "https://inn.example/e/key-123456", "https://inn.example/e/key-12…"),
    # a gateway path is kept whatever it ends with; only the slashes after it go
    ("https://gw.example/teamX/", "https://gw.example/teamX/e/key-123456", "https://gw.example/teamX/e/key-12…"),
])
def test_a_base_url_keeps_its_path_and_loses_only_trailing_slashes(base: str, url: str, shown: str) -> None:
    seen: list[str] = []

    def inngest(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"ids": ["x"], "status": 200})

    client = InngestSender(base, "key-123456", timeout=2, transport=httpx.MockTransport(inngest))
    try:
        assert client.send(['{"name":"a","data":{}}']) == SendResult(200, "")
    finally:
        client.close()
    assert seen == [url]
    assert client.display_url == shown


def test_a_base_url_with_a_trailing_slash_reaches_the_event_api(double: Double) -> None:
    client = InngestSender(double.url + "/", "test-key", timeout=5)
    try:
        assert client.send(['{"name":"a","data":{}}']) == SendResult(200, "")
    finally:
        client.close()
    assert [e["name"] for e in double.events()] == ["a"]


def test_a_retry_after_date_already_past_means_now() -> None:
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_retry_after(past, now=1445412480.0) == 0.0  # exactly then
    assert parse_retry_after(past, now=1445412480.5) == 0.0  # half a second late: not a second's wait
    assert parse_retry_after(past, now=1445412479.5) == 0.5
    assert parse_retry_after(past) == 0.0  # against the clock: years ago


def test_a_retry_after_date_is_measured_from_the_clock_by_default() -> None:
    when = email.utils.formatdate(time.time() + 3600, usegmt=True)
    wait = parse_retry_after(when)
    assert wait is not None and 3000 < wait <= 3600


def test_the_size_checked_is_that_of_the_text_sent() -> None:
    event = {"name": "payment.succeeded", "data": {"amount": 1}}
    compact = encode_event(event)
    spaced = json.dumps(event, indent=4)  # the same event, as a caller might have stored it
    limit = len(compact.encode())
    assert validate_event(event, max_bytes=limit) is None
    assert validate_event(event, max_bytes=limit, encoded=compact) is None
    assert validate_event(event, max_bytes=limit, encoded=spaced) == (
        f"event is {len(spaced.encode())} bytes, over the maximum event size of {limit} bytes")


@pytest.mark.parametrize("env", [None, "branch-1"])
def test_each_request_says_what_it_carries_who_sends_it_and_for_which_environment(env: str | None) -> None:
    seen: list[httpx.Request] = []

    def inngest(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ids": ["x"], "status": 200})

    client = InngestSender("https://inn.example", "key-123456", timeout=2, env=env,
                           transport=httpx.MockTransport(inngest))
    try:
        assert client.send(['{"name":"a","data":{}}']) == SendResult(200, "")
    finally:
        client.close()
    [request] = seen
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "paymap-relay/0.1"
    assert request.headers.get("x-inngest-env") == env
    assert client.target == ("https://inn.example/e/key-12…" if env is None
                             else "https://inn.example/e/key-12… (INNGEST_ENV branch-1)")


def test_a_redirect_is_reported_not_followed() -> None:
    seen: list[str] = []

    def inngest(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(307, headers={"location": "https://elsewhere.example/e/key"}, text="moved")

    client = InngestSender("https://inn.example", "key-123456", timeout=2, transport=httpx.MockTransport(inngest))
    try:
        result = client.send(['{"name":"a","data":{}}'])
    finally:
        client.close()
    assert (result.status, result.auth, seen) == (307, True, ["https://inn.example/e/key-123456"])
