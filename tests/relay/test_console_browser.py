"""The operator console in a real headless browser (Debian's chromium driven by Playwright), issue 11:
an operator finds a failed webhook, reads its error and `.map` line, fixes the mapping on disk,
replays it from the page and sees it delivered; without the token nothing of the console shows.

Fails (never skips) without chromium: `make browser` installs it. Screenshots go to
$PAYMAP_SCREENSHOTS (`make screenshots` writes docs/img/), else to a temporary directory.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playground.conftest import Playground, copy_mappings, serve  # tests/ is on sys.path (pytest)

from .harness import MAPPINGS, Double, RelayServer, fast_settings, sample_body, wait_until

CHROMIUM = os.environ.get("PAYMAP_CHROMIUM", "/usr/bin/chromium")
TOKEN = "browser-console-token-0123456789"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("PAYMAP_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Playground]:
    yield from serve(copy_mappings(tmp_path_factory.mktemp("playground") / "mappings"))


@pytest.fixture
def relay(tmp_path: Path, double: Double, playground: Playground) -> Iterator[RelayServer]:
    mappings = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, mappings)
    server = RelayServer(fast_settings(tmp_path, double.url, mappings=mappings, console_token=TOKEN,
                                       console_playground_url=playground.url + "/"))
    yield server
    server.stop()


def _ready(page: Any) -> None:
    page.wait_for_selector("body[data-ready=yes]", timeout=TIMEOUT_MS)


def test_an_operator_finds_fixes_and_replays_a_failed_webhook(
    browser: Any, relay: RelayServer, double: Double, playground: Playground, shots: Path
) -> None:
    double.config(reject_names=["payment.failed"])  # Inngest refuses this one: dead-lettered
    for webhook_id, kind in [("msg_paid_1", "payment.succeeded"), ("msg_refund", "refund.failed"),
                             ("msg_rejected", "payment.failed"), ("msg_paid_2", "payment.succeeded")]:
        assert relay.send(kind, webhook_id).status_code == 200
    wait_until(lambda: relay.count("SELECT count(*) FROM events WHERE state IN ('delivered', 'dead')") == 3,
               "two delivered, one dead")

    context = browser.new_context(viewport={"width": 1400, "height": 950})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # without the token: every page sends to the login page, every API call is 401
    for path in ("/console/static/console.js", "/console/", "/console/events?state=failed", "/console/events/msg_refund"):
        page.goto(relay.url + path)
        assert re.search(r"/console/login\?next=", page.url), (path, page.url)
        assert page.locator("input[name=token]").is_visible()
        assert "network reference" not in page.content() and "pay_" not in page.content()
    for path in ("overview", "webhooks", "types", "webhooks/msg_refund", "webhooks/msg_refund/body", "session"):
        assert page.request.get(f"{relay.url}/console/api/{path}").status == 401, path
    assert page.request.post(f"{relay.url}/console/api/replay", data={"webhook_id": "msg_refund"}).status == 401

    # a wrong token, then the right one: back to the page asked for
    page.fill("input[name=token]", "not-the-token")
    page.click("button[type=submit]")
    assert page.locator("#login-error").inner_text() == "Wrong token."
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    _ready(page)
    assert page.url == relay.url + "/console/events/msg_refund"
    cookie = next(c for c in context.cookies() if c["name"] == "paymap_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"

    # the overview: counts, the dead letter and the failure listed
    page.click("header >> text=Overview")
    _ready(page)
    assert page.get_by_test_id("count-failed").first.inner_text() == "1"
    assert page.get_by_test_id("count-dead").inner_text() == "1"
    assert page.get_by_test_id("count-delivered").inner_text() == "2"
    assert "delivering" in page.get_by_test_id("sender").inner_text()
    page.screenshot(path=str(shots / "console-overview.png"), full_page=True)
    # the overview follows the relay while it is open (it refreshes itself every 10 s)
    assert relay.send("payment.succeeded", "msg_paid_3").status_code == 200
    page.wait_for_selector("[data-testid=count-delivered] >> text=3", timeout=TIMEOUT_MS)

    # find the failed webhook through the list's filter
    page.click("header >> text=Events")
    _ready(page)
    assert page.get_by_test_id("row").count() == 5
    page.select_option("[data-testid=filter-state]", "failed")
    page.click("form[data-testid=filters] button[type=submit]")
    _ready(page)
    assert "state=failed" in page.url
    rows = page.get_by_test_id("row")
    assert rows.count() == 1 and rows.first.get_attribute("data-id") == "msg_refund"
    assert "relay.map:19" in rows.first.inner_text()
    page.screenshot(path=str(shots / "console-events.png"), full_page=True)
    rows.first.locator("a").click()
    _ready(page)

    # understand it: the error, the .map line it failed on, the body, headers without secrets
    assert page.get_by_test_id("webhook-id").inner_text() == "msg_refund"
    message = page.get_by_test_id("failure-message").inner_text()
    assert "refund.failed needs a network reference" in message and ".map:" not in message  # the location is below
    assert re.fullmatch(r".*relay\.map:19:19", page.get_by_test_id("map-location").inner_text())
    assert "required(data.network_reference" in page.locator("[data-testid=map-excerpt] .hit").inner_text()
    assert json.loads(page.get_by_test_id("body").inner_text())["type"] == "refund.failed"
    headers = page.get_by_test_id("headers").inner_text()
    assert "webhook-signature\t(hidden)" in headers and "v1," not in headers
    page.screenshot(path=str(shots / "console-failed.png"), full_page=True)

    # the body opens in the playground (running on the operator's computer)
    href = page.get_by_test_id("playground").get_attribute("href")
    assert href.startswith(playground.url + "/#webhook=")
    encoded = href.split("#webhook=", 1)[1]
    assert base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)) == sample_body("refund.failed")
    tab = context.new_page()
    tab.goto(href)
    tab.wait_for_selector("body[data-ready=yes]", timeout=TIMEOUT_MS)
    assert json.loads(tab.locator("#body").input_value())["type"] == "refund.failed"
    assert "#webhook=" not in tab.url  # read once, then gone from the address bar
    tab.close()

    # fix the mapping on disk, replay from the page, watch it delivered
    map_file = Path(relay.settings.mappings) / "relay.map"
    map_file.write_text(map_file.read_text().replace(
        'required(data.network_reference, "refund.failed needs a network reference")', "data.refund_id"))
    page.get_by_test_id("replay").click()
    page.wait_for_selector("[data-testid=replay-result] >> text=replayed 1 webhook(s): 1 mapped", timeout=TIMEOUT_MS)
    page.wait_for_selector("[data-testid=event][data-state=delivered]", timeout=TIMEOUT_MS)
    attempts = page.get_by_test_id("attempts").inner_text()
    assert "200" in attempts and "delivered" in attempts
    assert page.get_by_test_id("failure").count() == 0
    wait_until(lambda: "dodo:msg_refund" in double.ids(), "the replayed event at Inngest")
    page.screenshot(path=str(shots / "console-replayed.png"), full_page=True)

    # replayed again: Inngest has it, so it is left out (as with `paymap replay`) unless asked, under new ids
    page.get_by_test_id("replay").click()
    page.wait_for_selector("[data-testid=replay-result] >> text=replayed 0 webhook(s)", timeout=TIMEOUT_MS)
    assert 'tick "include delivered events"' in page.get_by_test_id("replay-notes").inner_text()
    page.get_by_test_id("include-delivered").check()
    page.locator("#new-ids").check()
    page.get_by_test_id("replay").click()
    page.wait_for_selector("[data-testid=new-ids-list] >> text=dodo:msg_refund:r2", timeout=TIMEOUT_MS)
    assert "functions run again" in page.get_by_test_id("replay-notes").inner_text()
    wait_until(lambda: "dodo:msg_refund:r2" in double.ids(), "the event sent again under its new id")

    # the dead letter: Inngest's 400 per attempt; a bulk replay of the filtered set, counted first
    page.goto(relay.url + "/console/events/msg_rejected")
    _ready(page)
    assert "400" in page.get_by_test_id("attempts").inner_text()
    assert "rejected by the test configuration" in page.get_by_test_id("event-error").inner_text()
    double.config(reject_names=[])
    page.goto(relay.url + "/console/events?state=dead")
    _ready(page)
    assert page.get_by_test_id("row").count() == 1
    page.get_by_test_id("replay-all").click()
    page.wait_for_selector("[data-testid=dry-run] >> text=would replay 1 webhook(s)", timeout=TIMEOUT_MS)
    page.get_by_test_id("replay-confirm").click()
    page.wait_for_selector("[data-testid=replayed] >> text=replayed 1 webhook(s)", timeout=TIMEOUT_MS)
    wait_until(lambda: "dodo:msg_rejected" in double.ids(), "the dead letter delivered after the bulk replay")

    # logging out ends the session: the console is closed again
    page.get_by_test_id("logout").click()
    page.wait_for_url(re.compile(r".*/console/login$"), timeout=TIMEOUT_MS)
    page.goto(relay.url + "/console/events")
    assert "/console/login" in page.url
    context.close()
    assert not errors, errors
