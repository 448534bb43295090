"""The operator console's HTTP side: token gate, sessions, CSRF, the JSON API, replay (issue 11).

Real relays on loopback (uvicorn), real SQLite files (and, for the tests marked ``both_backends``,
the real PostgreSQL), the Inngest test double; the browser side is tests/relay/test_console_browser.py.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.relay import console
from runtime.relay.config import SettingsError, load_settings

from .harness import (
    MAPPINGS,
    SECRET,
    Double,
    RelayProcess,
    RelayServer,
    free_port,
    relay_env,
    run_cli,
    wait_until,
)

MakeRelay = Callable[..., RelayServer]
TOKEN = "console-token-for-tests-0123456789"
CONSOLE_URLS = [
    "/console", "/console/", "/console/events", "/console/events/msg_1", "/console/static/console.js",
    "/console/anything",
]
API_URLS = [
    "/console/api/session", "/console/api/overview", "/console/api/webhooks", "/console/api/types",
    "/console/api/webhooks/msg_1", "/console/api/webhooks/msg_1/body", "/console/api/nothing",
]


@pytest.fixture(autouse=True)
def _fast_guessing_penalty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "BAD_TOKEN_DELAY_SECONDS", 0.2)


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, target)
    return target


@pytest.fixture
def relay(double: Double, make_relay: MakeRelay, mappings: Path) -> RelayServer:
    return make_relay(double.url, mappings=mappings, console_token=TOKEN)


def _client(relay: RelayServer) -> httpx.Client:
    return httpx.Client(base_url=relay.url, timeout=20, follow_redirects=False)


def _login(relay: RelayServer) -> tuple[httpx.Client, str]:
    """A logged-in client and its CSRF token."""
    client = _client(relay)
    answer = client.post("/console/login", data={"token": TOKEN, "next": "/console/events"})
    assert answer.status_code == 303 and answer.headers["location"] == "/console/events"
    csrf = client.get("/console/api/session").json()["csrf_token"]
    assert csrf
    return client, csrf


@pytest.fixture
def session(relay: RelayServer) -> Iterator[tuple[httpx.Client, str]]:
    client, csrf = _login(relay)
    yield client, csrf
    client.close()


def _settled(relay: RelayServer) -> None:
    wait_until(lambda: relay.count("SELECT count(*) FROM webhooks WHERE state = 'received'") == 0
               and relay.count("SELECT count(*) FROM events WHERE state = 'pending'") == 0, "everything mapped and sent")


# ------------------------------------------------------------------------------------- the gate
def test_without_a_token_there_is_no_console(double: Double, make_relay: MakeRelay) -> None:
    relay = make_relay(double.url)
    for url in [*CONSOLE_URLS, "/console/login", *API_URLS]:
        assert relay.http.get(url).status_code == 404, url
    assert relay.http.post("/console/login", data={"token": TOKEN}).status_code == 404
    assert relay.send("payment.succeeded", "msg_plain").status_code == 200


def test_every_console_url_needs_the_token(relay: RelayServer) -> None:
    with _client(relay) as anon:
        for url in CONSOLE_URLS:
            answer = anon.get(url)
            assert answer.status_code == 303, url
            assert answer.headers["location"].startswith("/console"), url
        assert anon.get("/console/events?state=failed").headers["location"] == (
            "/console/login?next=/console/events%3Fstate%3Dfailed")
        for url in API_URLS:
            answer = anon.get(url)
            assert answer.status_code == 401, url
            assert answer.json()["error"] == "login required"
        for url in ("/console/api/replay", "/console/logout"):
            assert anon.post(url, json={"webhook_id": "x"}).status_code == 401, url
        anon.cookies.set("paymap_console", "9999999999.abc.0123456789abcdef")  # forged
        assert anon.get("/console/api/overview").status_code == 401
        assert anon.get("/console/api/overview", headers={"authorization": "Bearer nope"}).status_code == 401
        login = anon.get("/console/login")
        assert login.status_code == 200 and 'name="token"' not in login.text and "name=token" in login.text
        assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    # the webhook endpoint is unaffected by the console
    assert relay.send("payment.succeeded", "msg_with_console").status_code == 200


def test_login_sets_a_strict_httponly_cookie_and_wrong_tokens_are_slowed_then_refused(relay: RelayServer) -> None:
    with _client(relay) as client:
        answer = client.post("/console/login", data={"token": TOKEN, "next": "https://evil.example/"})
        assert answer.status_code == 303 and answer.headers["location"] == "/console/"  # never off-site
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("paymap_console=")
        for part in ("HttpOnly", "SameSite=strict", "Path=/console"):
            assert part.lower() in cookie.lower(), cookie
        assert client.get("/console/api/overview").status_code == 200
        # logout needs the CSRF token, then ends the session in this browser
        assert client.post("/console/logout").status_code == 403
        csrf = client.get("/console/api/session").json()["csrf_token"]
        assert client.post("/console/logout", headers={"x-csrf-token": csrf}).status_code == 200
        assert client.get("/console/api/overview").status_code == 401

    with _client(relay) as guesser:
        started = time.monotonic()
        wrong = guesser.post("/console/login", data={"token": "guess-0"})
        assert wrong.status_code == 401 and "Wrong token." in wrong.text
        assert time.monotonic() - started >= console.BAD_TOKEN_DELAY_SECONDS
        for i in range(1, console.BAD_TOKENS_PER_ADDRESS):
            assert guesser.post("/console/login", data={"token": f"guess-{i}"}).status_code == 401
        refused = guesser.post("/console/login", data={"token": TOKEN})  # even the right one, for a while
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert "Too many wrong tokens" in refused.text
    # a script may use the token itself
    assert relay.http.get("/console/api/types", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_actions_need_the_csrf_token_and_the_same_origin(relay: RelayServer, session: tuple[httpx.Client, str]) -> None:
    client, csrf = session
    relay.send("payment.succeeded", "msg_csrf")
    _settled(relay)
    body = {"webhook_id": "msg_csrf", "dry_run": True, "include_delivered": True}
    assert client.post("/console/api/replay", json=body).status_code == 403
    assert client.post("/console/api/replay", json=body, headers={"x-csrf-token": "0" * 64}).status_code == 403
    cross = client.post("/console/api/replay", json=body, headers={"x-csrf-token": csrf, "origin": "https://evil.example"})
    assert cross.status_code == 403 and cross.json()["error"] == "cross-site request refused"
    ok = client.post("/console/api/replay", json=body, headers={"x-csrf-token": csrf, "origin": relay.url})
    assert ok.status_code == 200 and ok.json()["summary"].startswith("would replay 1 webhook(s)")


def test_a_short_token_is_refused_at_start() -> None:
    with pytest.raises(SettingsError, match="PAYMAP_CONSOLE_TOKEN must be at least 16 characters"):
        load_settings(console_token="short", insecure_dev=True)


# ------------------------------------------------------------------------------------- the data
@pytest.mark.both_backends  # the console on PostgreSQL: any instance shows the whole cluster
def test_find_understand_fix_and_replay_a_failed_webhook(
    relay: RelayServer, double: Double, mappings: Path, session: tuple[httpx.Client, str]
) -> None:
    client, csrf = session
    double.config(reject_names=["payment.failed"])
    relay.send("payment.succeeded", "msg_ok")
    relay.send("refund.failed", "msg_broken")  # the mapping raises (relay.map line 19)
    relay.send("payment.failed", "msg_rejected")  # Inngest rejects it: dead-lettered with its 400
    _settled(relay)

    failed = client.get("/console/api/webhooks", params={"state": "failed"}).json()
    assert [w["webhook_id"] for w in failed["items"]] == ["msg_broken"]
    location = failed["items"][0]["location"]
    assert location["file"].endswith("relay.map") and (location["line"], location["column"]) == (19, 19)
    # the list shows the location beside the reason: the reason does not repeat the (long) path
    assert failed["items"][0]["error"].startswith(location["file"] + ":19:19:")
    assert failed["items"][0]["message"].startswith("in `data.reference`: refund.failed needs a network reference")
    dead = client.get("/console/api/webhooks", params={"state": "dead"}).json()["items"]
    assert [w["webhook_id"] for w in dead] == ["msg_rejected"]
    assert "rejected by the test configuration" in dead[0]["error"]

    page = client.get("/console/api/webhooks/msg_broken").json()
    assert page["state"] == "failed" and "refund.failed needs a network reference" in page["error"]
    assert page["message"] == failed["items"][0]["message"]
    location = page["location"]
    assert location["file"].endswith("relay.map") and location["line"] == 19
    excerpt = {row["line"]: row["text"] for row in location["excerpt"]}
    assert "required(data.network_reference" in excerpt[19] and set(excerpt) == {17, 18, 19, 20, 21}
    assert page["headers"]["webhook-signature"] == console.HIDDEN
    assert page["headers"]["webhook-id"] == "msg_broken"
    assert page["body_json"]["type"] == "refund.failed" and page["events"] == []
    raw = client.get("/console/api/webhooks/msg_broken/body")
    assert raw.headers["content-disposition"] == 'attachment; filename="msg_broken.json"'
    assert raw.json()["type"] == "refund.failed"

    rejected = client.get("/console/api/webhooks/msg_rejected").json()
    [event] = rejected["events"]
    assert event["state"] == "dead" and event["current"]
    assert [(a["status"], a["outcome"]) for a in event["history"]] == [(400, "dead")]
    delivered = client.get("/console/api/webhooks/msg_ok").json()["events"]
    assert [(a["status"], a["outcome"]) for a in delivered[0]["history"]] == [(200, "delivered")]
    assert delivered[0]["payload"]["name"] == "payment.succeeded"
    secrets = (relay.settings.webhook_key or "", "whsec_")
    for answer in (page, rejected, client.get("/console/api/overview").json()):
        assert not any(s in str(answer) for s in secrets)

    # replaying with the mapping still broken: it stays failed, and says why
    still = client.post("/console/api/replay", json={"webhook_id": "msg_broken"}, headers={"x-csrf-token": csrf}).json()
    assert still["counts"]["failed"] == 1 and "network reference" in still["failures"][0]["why"]

    map_file = mappings / "relay.map"
    map_file.write_text(map_file.read_text().replace(
        'required(data.network_reference, "refund.failed needs a network reference")', "data.refund_id"))
    done = client.post("/console/api/replay", json={"webhook_id": "msg_broken"}, headers={"x-csrf-token": csrf})
    assert done.status_code == 200, done.text
    assert done.json()["summary"] == "replayed 1 webhook(s): 1 mapped (1 event(s) queued), 0 skipped, 0 dropped, 0 failed"
    wait_until(lambda: "dodo:msg_broken" in double.ids(), "the replayed event delivered")
    after = client.get("/console/api/webhooks/msg_broken").json()
    assert after["state"] == "mapped" and after["error"] is None and after["location"] is None
    assert after["events"][0]["state"] == "delivered"
    assert client.get("/console/api/webhooks", params={"state": "failed"}).json()["items"] == []

    overview = client.get("/console/api/overview").json()
    assert overview["mappings"]["last_reload"]["ok"] is True
    assert overview["mappings"]["last_reload"]["trigger"] == "console replay"


def test_replay_refuses_mappings_with_errors(relay: RelayServer, mappings: Path, session: tuple[httpx.Client, str]) -> None:
    client, csrf = session
    relay.send("refund.failed", "msg_x")
    _settled(relay)
    (mappings / "relay.map").write_text('on "payment.succeeded"\nname = nonsense(\n')
    answer = client.post("/console/api/replay", json={"webhook_id": "msg_x"}, headers={"x-csrf-token": csrf})
    assert answer.status_code == 409
    assert answer.json()["error"].startswith("the mappings on disk have errors; nothing replayed:")
    assert "relay.map" in answer.json()["error"]
    overview = client.get("/console/api/overview").json()
    reload = overview["mappings"]["last_reload"]
    assert reload["ok"] is False and "relay.map:2" in reload["diagnostics"]
    assert client.get("/console/api/webhooks/msg_x").json()["state"] == "failed"  # untouched


@pytest.mark.both_backends  # the console on PostgreSQL: any instance shows the whole cluster
def test_bulk_replay_counts_first_and_replays_exactly_the_counted_set(
    relay: RelayServer, double: Double, mappings: Path, session: tuple[httpx.Client, str]
) -> None:
    client, csrf = session
    for i in range(3):
        relay.send("refund.failed", f"msg_f{i}")
    relay.send("payment.succeeded", "msg_fine")
    _settled(relay)
    map_file = mappings / "relay.map"
    map_file.write_text(map_file.read_text().replace(
        'required(data.network_reference, "refund.failed needs a network reference")', "data.refund_id"))
    flt = {"state": "failed", "type": "refund.failed"}
    dry = client.post("/console/api/replay", json={"filter": flt, "dry_run": True}, headers={"x-csrf-token": csrf}).json()
    assert dry["selected"] == 3 and dry["dry_run"] and dry["counts"]["mapped"] == 3
    assert relay.relay.holder.generation == 1  # a dry run compiles the fix but does not put it in use
    assert client.get("/console/api/webhooks", params=flt).json()["items"].__len__() == 3  # dry: nothing changed
    relay.send("refund.failed", "msg_after_the_count")  # arrives after the count: not part of this replay
    wait_until(lambda: relay.count("SELECT count(*) FROM webhooks WHERE state = 'failed'") == 4, "the newcomer")
    run = client.post("/console/api/replay", json={"filter": flt, "as_of": dry["as_of"]},
                      headers={"x-csrf-token": csrf}).json()
    assert run["selected"] == 3 and run["queued"] == 3
    wait_until(lambda: {"dodo:msg_f0", "dodo:msg_f1", "dodo:msg_f2"} <= set(double.ids()), "the three delivered")
    assert "dodo:msg_after_the_count" not in double.ids()
    newcomer = client.get("/console/api/webhooks", params=flt).json()["items"]
    assert [w["webhook_id"] for w in newcomer] == ["msg_after_the_count"]  # still failed, for the next replay
    assert double.ids().count("dodo:msg_fine") == 1

    too_wide = client.post("/console/api/replay", json={"filter": {"state": "nonsense"}}, headers={"x-csrf-token": csrf})
    assert too_wide.status_code == 400 and "unknown state 'nonsense'" in too_wide.json()["error"]
    nothing = client.post("/console/api/replay", json={"nothing": 1}, headers={"x-csrf-token": csrf})
    assert nothing.status_code == 400


def test_replay_leaves_delivered_events_out_unless_asked_and_gives_new_ids_like_the_cli(
    relay: RelayServer, double: Double, session: tuple[httpx.Client, str]
) -> None:
    client, csrf = session
    relay.send("payment.succeeded", "msg_done")
    _settled(relay)
    sent = [e["event_id"] for e in client.get("/console/api/webhooks/msg_done").json()["events"]]
    assert sent and all(i in double.ids() for i in sent)
    replay: Callable[..., dict[str, Any]] = lambda **extra: client.post(  # noqa: E731
        "/console/api/replay", json={"webhook_id": "msg_done", **extra}, headers={"x-csrf-token": csrf}).json()

    kept = replay()  # the default, as `paymap replay`: Inngest already has them, nothing is sent
    assert kept["summary"].startswith("replayed 0 webhook(s)") and kept["queued"] == 0
    assert kept["held_back"] == len(sent)
    assert kept["notes"] == [f"left out {len(sent)} event(s) Inngest already accepted (1 webhook(s) with nothing "
                             'else to send); tick "include delivered events" to send them again']
    assert relay.count("SELECT generation FROM webhooks WHERE webhook_id = 'msg_done'") == 0  # not re-mapped

    dry = replay(include_delivered=True, new_ids=True, dry_run=True)
    assert "would be queued" in dry["summary"] and dry["queued"] == len(sent)
    assert [r["event_id"] for r in dry["new_ids"]] == [f"{i}:r1" for i in sent]
    assert any("sent again under new ids: their functions run again" in w for w in dry["warnings"])

    again = replay(include_delivered=True, new_ids=True)
    assert again["queued"] == len(sent) and [r["event_id"] for r in again["new_ids"]] == [f"{i}:r1" for i in sent]
    wait_until(lambda: all(f"{i}:r1" in double.ids() for i in sent), "the events delivered again under new ids")
    assert all(double.ids().count(i) == 1 for i in sent)

    same_ids = replay(include_delivered=True, dry_run=True)  # keeping the ids: Inngest would drop them
    assert any("less than 24 h ago: Inngest will drop them as duplicates" in w for w in same_ids["warnings"])


@pytest.mark.both_backends  # the console on PostgreSQL: any instance shows the whole cluster
def test_list_pages_by_keyset_and_filters(relay: RelayServer, session: tuple[httpx.Client, str]) -> None:
    client, _csrf = session
    sent = []
    for i in range(7):
        kind = "payment.succeeded" if i % 2 == 0 else "payment.processing"
        relay.send(kind, f"msg_page_{i}")
        sent.append(f"msg_page_{i}")
    _settled(relay)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"before": cursor} if cursor else {})}
        page = client.get("/console/api/webhooks", params=params).json()
        seen += [w["webhook_id"] for w in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert pages == 3 and seen == list(reversed(sent))  # newest first, each once

    dropped = client.get("/console/api/webhooks", params={"type": "payment.processing"}).json()["items"]
    assert [w["webhook_id"] for w in dropped] == ["msg_page_5", "msg_page_3", "msg_page_1"]
    assert {w["state"] for w in dropped} == {"dropped"}
    delivered = client.get("/console/api/webhooks", params={"state": "delivered"}).json()["items"]
    assert [w["webhook_id"] for w in delivered] == ["msg_page_6", "msg_page_4", "msg_page_2", "msg_page_0"]
    assert delivered[0]["events"] == {"delivered": 1}
    assert [w["webhook_id"] for w in client.get("/console/api/webhooks", params={"q": "msg_page_3"}).json()["items"]] == [
        "msg_page_3"]
    by_event_id = client.get("/console/api/webhooks", params={"q": "dodo:msg_page_4"}).json()["items"]
    assert [w["webhook_id"] for w in by_event_id] == ["msg_page_4"]
    assert len(client.get("/console/api/webhooks", params={"q": "msg_page_"}).json()["items"]) == 7
    t3 = client.get("/console/api/webhooks/msg_page_3").json()["received_at"]
    t5 = client.get("/console/api/webhooks/msg_page_5").json()["received_at"]
    ranged = client.get("/console/api/webhooks", params={"since": t3, "until": t5}).json()["items"]
    assert [w["webhook_id"] for w in ranged] == ["msg_page_4", "msg_page_3"]
    for bad in ({"since": "x"}, {"until": "nan"}, {"before": "inf_3"}, {"since": t5, "until": t3},
                {"state": "lost"}, {"limit": "many"}):
        answer = client.get("/console/api/webhooks", params=bad)
        assert answer.status_code == 400 and answer.json()["error"], bad
    assert client.get("/console/api/webhooks", params={"before": "zzz"}).status_code == 400
    assert client.get("/console/api/webhooks/msg_nope").status_code == 404
    types = client.get("/console/api/types").json()
    assert types["types"] == ["payment.processing", "payment.succeeded"] and "dead" in types["states"]


@pytest.mark.both_backends  # the console on PostgreSQL: any instance shows the whole cluster
def test_overview_counts_queue_pause_and_throughput(
    relay: RelayServer, double: Double, session: tuple[httpx.Client, str]
) -> None:
    client, _csrf = session
    relay.send("payment.succeeded", "msg_a")
    relay.send("refund.failed", "msg_b")
    _settled(relay)
    double.config(keys=["the-right-key"])  # the relay's key is refused: the sender pauses
    relay.send("payment.succeeded", "msg_c")
    info = wait_until(lambda: (o := client.get("/console/api/overview").json())["sender"]["paused"] and o,
                      "the sender to pause")
    assert info["webhooks"]["mapped"] == 2 and info["webhooks"]["failed"] == 1
    assert info["events"]["delivered"] == 1 and info["queue_depth"] == 1
    assert info["oldest_pending_age_seconds"] is not None
    assert "delivery paused" in info["sender"]["paused"]
    assert [w["webhook_id"] for w in info["failed_webhooks"]] == ["msg_b"]
    throughput = info["throughput"]
    assert len(throughput["received"]) == len(throughput["delivered"]) == 60
    assert sum(throughput["received"]) == 3 and sum(throughput["delivered"]) == 1
    assert throughput["start"] + 60 * throughput["bucket_seconds"] > info["now"]
    assert info["mappings"]["generation"] == 1 and info["mappings"]["last_reload"] is None
    paused = client.get("/console/api/webhooks/msg_c").json()["events"][0]
    assert paused["state"] == "pending" and paused["history"][0]["status"] == 401
    assert paused["history"][0]["outcome"] == "paused"


def test_pages_are_served_from_the_bundle(relay: RelayServer, session: tuple[httpx.Client, str]) -> None:
    client, _csrf = session
    if console.static_dir() is None:
        pytest.fail("the web bundle is missing: build it with `make web`")
    shell = client.get("/console/events/msg_1")
    assert shell.status_code == 200 and "/console/static/console.js" in shell.text
    assert "script-src 'self'" in shell.headers["content-security-policy"]
    script = client.get("/console/static/console.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    escape = client.get("/console/static/..%2Fconsole.py")  # never a file outside the bundle
    assert "def console_routes" not in escape.text and escape.headers["content-type"].startswith("text/html")
    assert client.get("/console/static/.hidden").status_code == 404
    # one build for both pages: the console's files carry the same source hash as the playground's
    static = console.static_dir()
    assert static is not None
    firsts = {name: (static / name).read_text(encoding="utf-8").split("\n", 1)[0]
              for name in ("console.js", "console.css", "playground.js")}
    assert len(set(firsts.values())) == 1 and "sources sha256" in firsts["console.js"]
    assert not re.search(r"https?://(?:cdn|unpkg|fonts\.)", script.text)


def test_the_event_key_is_never_shown(double: Double, make_relay: MakeRelay, mappings: Path) -> None:
    key = "signkey-prod-0123456789abcdefghijklmnop"
    relay = make_relay(double.url, mappings=mappings, console_token=TOKEN, inngest_event_key=key)
    double.config(keys=["another-key"])  # refused: the pause reason names the target
    relay.send("payment.succeeded", "msg_key")
    headers = {"authorization": f"Bearer {TOKEN}"}
    overview = wait_until(lambda: (o := relay.http.get("/console/api/overview", headers=headers).text)
                          and "paused" in o and "delivery paused" in o and o, "the pause")
    detail = relay.http.get("/console/api/webhooks/msg_key", headers=headers).text
    for text in (overview, detail):
        assert key[:6] not in text and "(key hidden)" in text


def test_serve_takes_the_token_from_a_file(tmp_path: Path, double: Double) -> None:
    token_file = tmp_path / "console-token"
    token_file.write_text(TOKEN + "\n")
    env = relay_env(tmp_path / "relay.sqlite3", free_port(), double.url)
    proc = RelayProcess(MAPPINGS, env, tmp_path / "relay.log", "--console-token-file", str(token_file))
    try:
        with httpx.Client(base_url=proc.url, timeout=20, follow_redirects=False) as client:
            assert client.get("/console/api/overview").status_code == 401
            login = client.post("/console/login", data={"token": TOKEN})
            assert login.status_code == 303
            assert client.get("/console/api/overview").status_code == 200
    finally:
        proc.stop()
    assert TOKEN not in " ".join(proc.proc.args)  # not in the process list


@pytest.mark.parametrize(("content", "needle"), [
    (None, "cannot read the console token from"),
    ("   \n", "is empty: put the console token in it"),
    ("short", "PAYMAP_CONSOLE_TOKEN must be at least 16 characters"),
])
def test_serve_refuses_a_bad_token_file(tmp_path: Path, content: str | None, needle: str) -> None:
    token_file = tmp_path / "console-token"
    if content is not None:
        token_file.write_text(content)
    result = run_cli("serve", str(MAPPINGS), "--db", str(tmp_path / "x.sqlite3"), "--console-token-file",
                     str(token_file), env={"DODO_PAYMENTS_WEBHOOK_KEY": SECRET})
    assert result.returncode == 2 and needle in result.stderr and "Traceback" not in result.stderr
