"""The playground in a real headless browser (Debian's chromium driven by Playwright): what a newcomer
does, start to finish. Screenshots of the main states go to $PAYMAP_SCREENSHOTS (`make screenshots`
writes docs/img/), else to a temporary directory."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.cli import main

from .conftest import Playground, copy_mappings, serve

CHROMIUM = os.environ.get("PAYMAP_CHROMIUM", "/usr/bin/chromium")

MAPPING = [
    'on "payment.succeeded"',
    "",
    'name        = "payment.succeeded"',
    "data.amount = money(data.total_amount, data.curency)",
    "data.email  = data.customer.email",
    "ts          = epoch_ms(timestamp)",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One browser for this module's tests. Not for the session: while Playwright's sync API is
    open, the main thread counts as running an event loop, and later tests' asyncio.run() fail."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        message = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Playground]:
    root = copy_mappings(tmp_path_factory.mktemp("browser") / "mappings")
    # started from the directory above, as `paymap playground mappings/` is (the page shows "mappings")
    here = os.getcwd()
    os.chdir(root.parent)
    try:
        running = serve(Path("mappings"))
        site = next(running)
    finally:
        os.chdir(here)
    site.root = root
    yield site
    next(running, None)


@pytest.fixture
def page(browser: Any, site: Playground) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 900})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.goto(site.url + "/")
    p.wait_for_selector("body[data-ready=yes]", timeout=30_000)
    p.wait_for_selector("[data-testid=events]", timeout=30_000)
    yield p
    context.close()
    assert not errors, errors


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("PAYMAP_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def idle(page: Any) -> None:
    page.wait_for_selector("body[data-busy=no]", timeout=15_000)


def type_lines(page: Any, lines: list[str]) -> None:
    for i, line in enumerate(lines):
        page.keyboard.type(line)
        page.keyboard.press("Escape")
        if i < len(lines) - 1:
            page.keyboard.press("Shift+Enter")  # a new line even if a completion list is open


def editor_text(page: Any) -> str:
    text: str = page.evaluate("window.paymapEditor.state.doc.toString()")
    return text


def set_editor_text(page: Any, text: str) -> None:
    page.evaluate("t => window.paymapEditor.dispatch({changes: {from: 0, to: window.paymapEditor.state.doc.length,"
                  " insert: t}})", text)


def event(page: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(page.inner_text("[data-testid=events]"))
    return data


def test_a_newcomer_maps_a_payment_and_saves_it(page: Any, site: Playground, shots: Path) -> None:
    page.screenshot(path=str(shots / "playground.png"))
    # pick the event type from the searchable list
    page.fill("#sample-filter", "payment.succ")
    page.click("[data-testid=sample][data-type='payment.succeeded']")
    page.wait_for_selector("#event-type:text('payment.succeeded')")
    # write a mapping with a misspelt field
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    type_lines(page, MAPPING)
    assert editor_text(page) == "\n".join(MAPPING)
    idle(page)
    [diag] = page.query_selector_all("[data-testid=diagnostic]")
    assert (diag.get_attribute("data-code"), diag.get_attribute("data-line")) == ("M201", "4")
    assert "unknown input field `data.curency`" in diag.inner_text()
    assert "help: did you mean `data.currency`?" in diag.inner_text()
    assert "docs/errors/M201.md" in diag.inner_text()
    assert page.locator(".cm-lintRange-error").count() == 1
    assert page.inner_text(".cm-lintRange-error") == "curency"
    assert "fix it to see the event" in page.inner_text("[data-testid=output]")
    page.screenshot(path=str(shots / "playground-diagnostic.png"))
    # one click applies the fix; the event appears
    page.click("[data-testid=fix]")
    page.wait_for_selector("[data-testid=events]")
    idle(page)
    assert "data.currency)" in editor_text(page)
    assert page.locator("[data-testid=diagnostic]").count() == 0
    assert event(page)["data"] == {"amount": "29.99", "email": "sofiarossi+dodo@example.org"}
    assert event(page)["ts"] == 1754295184882
    # a JPY payment from the file's test examples: no decimals
    page.select_option("[data-testid=examples]", label="succeeded in JPY has no decimals")
    page.wait_for_function("document.querySelector('[data-testid=events]')?.innerText.includes('\"4500\"')")
    assert event(page)["data"]["amount"] == "4500"
    page.screenshot(path=str(shots / "playground-event.png"))
    # the explain view: each assignment with its value, and the rule that received the body
    page.click("button[data-page=explain-page]")
    page.wait_for_selector("[data-testid=explain-step]")
    explain = page.inner_text("[data-testid=explain]")
    assert 'on "payment.succeeded" at payment.map:1 received the body' in explain
    assert '"4500"' in explain and "data.amount = money(data.total_amount, data.currency)" in explain
    page.screenshot(path=str(shots / "playground-explain.png"))
    # save: on disk, formatted, and `paymap check` agrees there is nothing wrong
    page.click("#save")
    page.wait_for_selector("#status:text('saved payment.map')")
    on_disk = (site.root / "payment.map").read_text()
    assert on_disk == editor_text(page)
    assert "data.amount = money(data.total_amount, data.currency)" in on_disk
    assert main(["check", str(site.root / "payment.map")]) == 0
    # coverage at a glance
    page.click("button[data-page=coverage-page]")
    summary = page.wait_for_selector("[data-testid=coverage-summary]:has-text('of 48 mapped')")
    assert "with tests" in summary.inner_text()
    row = page.locator("[data-testid=coverage-row][data-type='payment.succeeded']")
    assert row.get_attribute("data-status") == "mapped"
    page.screenshot(path=str(shots / "playground-coverage.png"))


def test_hostile_bodies_and_mappings_get_clear_errors(page: Any, shots: Path) -> None:
    # a mapping that fails on this body: the error at its line, in the output and in the editor
    set_editor_text(page, 'on "payment.succeeded"\nname = "x"\ndata.n = int(data.customer.email)\n')
    idle(page)
    error = page.inner_text("[data-testid=runtime-error]")
    assert error.startswith("runtime error at payment.map:3:") and "in `data.n`" in error
    assert page.locator(".cm-lintRange-error").count() == 1
    before = page.input_value("[data-testid=body]")
    page.evaluate("() => { const dt = new DataTransfer(); dt.setData('text/plain', 'x'.repeat(50 * 1024 * 1024));"
                  " document.getElementById('body').dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt,"
                  " bubbles: true, cancelable: true})); }")
    idle(page)
    assert "the pasted body is 50.0 MB; the playground accepts up to 1.0 MB" in page.inner_text("[data-testid=output]")
    assert page.input_value("[data-testid=body]") == before, "nothing was pasted"
    page.fill("[data-testid=body]", '{"type": "payment.succeeded", "pad": "' + "x" * (1100 * 1024) + '"}')
    idle(page)
    assert "the body is 1.1 MB; the playground accepts up to 1.0 MB" in page.inner_text("[data-testid=output]")
    page.fill("[data-testid=body]", '{"type": "payment.succeeded", "data": ')
    idle(page)
    assert "the body is not valid JSON" in page.inner_text("[data-testid=output]")
    page.screenshot(path=str(shots / "playground-bad-body.png"))
    page.fill("[data-testid=body]", "[1, 2, 3]")
    idle(page)
    assert "must be a JSON object" in page.inner_text("[data-testid=output]")
    # a dropped .json file: used when small, refused by its size when not
    drop = ("([name, text]) => { const dt = new DataTransfer(); dt.items.add(new File([text], name));"
            " document.getElementById('body').dispatchEvent(new DragEvent('drop', {dataTransfer: dt,"
            " bubbles: true, cancelable: true})); }")
    page.evaluate(drop, ["refund.json", json.dumps({"type": "refund.failed", "data": {}})])
    page.wait_for_function("document.getElementById('body').value.includes('refund.failed')")
    idle(page)
    page.evaluate(drop, ["huge.json", "x" * (2 * 1024 * 1024)])
    page.wait_for_selector("#status:has-text('huge.json is 2.0 MB; the playground accepts bodies up to 1.0 MB')")
    assert "refund.failed" in page.input_value("[data-testid=body]")
    # pathological mapping text: diagnostics, not a hung page
    set_editor_text(page, 'on "payment.succeeded"\nname = "x"\ndata.a = ' + "(" * 20000 + "1" + ")" * 20000)
    page.wait_for_selector("[data-testid=diagnostic][data-code^=M1]")
    idle(page)
    set_editor_text(page, "# " + "x" * (300 * 1024))
    page.wait_for_selector("[data-testid=compile-error]")
    assert "the mapping is 300 KB; the playground accepts up to 256 KB" in page.inner_text("[data-testid=problems]")


def test_completion_and_hover_come_from_the_schema_and_the_registry(page: Any) -> None:
    page.click(".cm-content")
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("data.x = data.customer.em")
    option = page.wait_for_selector(".cm-tooltip-autocomplete li:has-text('data.customer.email')")
    assert "text" in option.inner_text()
    info = page.wait_for_selector(".cm-completionInfo")
    assert "Email address of the customer" in info.inner_text()
    page.keyboard.press("Enter")
    assert editor_text(page).rstrip().endswith("data.x = data.customer.email")
    page.keyboard.type(" & mon")
    option = page.wait_for_selector(".cm-tooltip-autocomplete li:has-text('money')")
    assert "(amount: " in option.inner_text()
    page.keyboard.press("Escape")
    box = page.evaluate("() => { const v = window.paymapEditor; const at = v.state.doc.toString().indexOf('money(') + 2;"
                        " v.dispatch({scrollIntoView: true, selection: {anchor: at}}); return v.coordsAtPos(at); }")
    page.mouse.move(box["left"] + 1, (box["top"] + box["bottom"]) / 2)
    hover = page.wait_for_selector("[data-testid=hover]")
    assert "money(amount:" in hover.inner_text() and "ISO 4217" in hover.inner_text()


def test_new_file_from_a_template_and_save_as_test(page: Any, site: Playground) -> None:
    page.click("#new")
    page.select_option("#new-type", "refund.failed")
    page.fill("#new-path", "refund_failed.map")
    page.click("#new-form button[type=submit]")
    page.wait_for_function("window.paymapEditor.state.doc.toString().includes('on \"refund.failed\"')")
    page.wait_for_selector("#event-type:text('refund.failed')")
    page.click("#save-test")
    page.fill("#test-name", "failed refund")
    page.click("#test-form button[type=submit]")
    page.wait_for_selector("#status:has-text('added test \"failed refund\"')")
    assert (site.root / "refund_failed.map").is_file()
    written = (site.root / "refund_failed.test.yaml").read_text()
    assert "- name: failed refund\n    sample: refund.failed\n" in written
    assert main(["test", str(site.root / "refund_failed.map")]) == 0


def hover_at(page: Any, needle: str, offset: int = 1) -> str:
    box = page.evaluate("([n, k]) => { const v = window.paymapEditor; const at = v.state.doc.toString().indexOf(n) + k;"
                        " v.dispatch({scrollIntoView: true, selection: {anchor: at}}); return v.coordsAtPos(at); }",
                        [needle, offset])
    page.mouse.move(box["left"] + 1, (box["top"] + box["bottom"]) / 2)
    text: str = page.wait_for_selector("[data-testid=hover]").inner_text()
    page.mouse.move(5, 5)
    page.wait_for_selector("[data-testid=hover]", state="detached")
    return text


def accept(page: Any, label: str) -> None:
    """Enter on the selected completion. CodeMirror ignores Enter for 75 ms after the list changes
    (its `interactionDelay`, so a fast typist's Enter is a new line): wait past it."""
    page.wait_for_selector(f".cm-tooltip-autocomplete li[aria-selected]:has-text('{label}')")
    page.wait_for_timeout(150)
    page.keyboard.press("Enter")


def open_file(page: Any, path: str) -> None:
    page.select_option("#file", path)
    page.wait_for_selector(f"#status:text('opened {path}')")
    idle(page)


def test_constants_and_groups_are_highlighted_completed_and_explained(page: Any) -> None:
    open_file(page, "refund.map")
    page.click("[data-testid=sample][data-type='refund.succeeded']")
    page.wait_for_selector("#event-type:text('refund.succeeded')")
    # `use` is coloured as `on` is, the group names it lists as names, not as fields being set
    colours = page.evaluate("""() => {
      const out = {};
      for (const s of document.querySelectorAll('.cm-line span'))
        out[s.textContent] = out[s.textContent] || getComputedStyle(s).color;
      return out; }""")
    assert colours["use"] == colours["on"] == colours["let"]
    assert colours["customer"] == colours["external_id"] != colours["use"]
    # after `use `: the groups declared under PATH, with their lines
    text = editor_text(page).rstrip()
    assert text.endswith("\nuse customer, external_id")
    set_editor_text(page, text.removesuffix("use customer, external_id"))
    page.click(".cm-content")
    page.keyboard.press("Control+End")
    page.keyboard.type("use custo")
    option = page.wait_for_selector(".cm-tooltip-autocomplete li:has-text('customer_id')")
    assert "_settings.map:" in option.inner_text()
    assert page.locator(".cm-tooltip-autocomplete li").count() == 2  # customer, customer_id
    page.keyboard.type("mer")
    accept(page, "customer")
    page.keyboard.type(", ext")
    accept(page, "external_id")
    # on the right of `=`: the constants, with their values
    page.keyboard.press("Enter")
    page.keyboard.type("data.shape = vers")
    option = page.wait_for_selector(".cm-tooltip-autocomplete li:has-text('version')")
    assert '= "2"' in option.inner_text()
    accept(page, "version")
    assert editor_text(page).endswith('use customer, external_id\ndata.shape = version')
    idle(page)
    # a group's lines and a constant's value on hover, with where they are declared
    hover = hover_at(page, "use event", len("use e"))
    assert "group event" in hover and "_settings.map:" in hover and "name = prefix & type" in hover
    hover = hover_at(page, "= version", len("= ve"))
    assert 'const version = "2"' in hover and "_settings.map:" in hover
    page.wait_for_function("document.querySelector('[data-testid=events]')?.innerText.includes('\"shape\"')")
    assert event(page)["data"]["shape"] == "2"


def test_copy_for_the_dashboard_gives_the_code_that_makes_the_shown_event(browser: Any, site: Playground,
                                                                          shots: Path) -> None:
    from jsengines import V8, run_js

    context = browser.new_context(viewport={"width": 1500, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site.url + "/")
    page.wait_for_selector("body[data-ready=yes]", timeout=30_000)
    open_file(page, "refund.map")
    page.click("[data-testid=sample][data-type='refund.succeeded']")
    page.wait_for_selector("#event-type:text('refund.succeeded')")
    # an unsaved edit: the export is of the editor's text, as the output pane is
    text = editor_text(page).replace("use event\n", 'use event\ndata.channel = "dashboard"\n', 1)
    set_editor_text(page, text)
    page.wait_for_function("document.querySelector('[data-testid=events]')?.innerText.includes('dashboard')")
    idle(page)
    shown = event(page)
    page.click("[data-testid=export]")
    page.wait_for_selector("[data-testid=export-panel][data-copied=yes]")
    code = page.input_value("[data-testid=export-code]")
    assert page.evaluate("navigator.clipboard.readText()") == code
    size = page.inner_text("[data-testid=export-size]")
    assert f"{len(code):,} of 51,200 characters" in size
    assert "Copied." in page.inner_text("[data-testid=export-copied]")
    assert (site.root / "refund.map").read_text() != text  # nothing was saved
    engine = V8(code)
    try:
        assert run_js(engine, "dodo", page.input_value("[data-testid=body]")).event == shown
    finally:
        engine.close()
    assert shown["data"]["channel"] == "dashboard"
    page.screenshot(path=str(shots / "playground-export.png"))
    # split by the current rule's pattern
    page.select_option("[data-testid=export-on]", "refund.*")
    page.wait_for_selector("[data-testid=export-size]:has-text('for refund.*')")
    assert len(page.input_value("[data-testid=export-code]")) < len(code) / 2
    # a refused export says why in words; a refused clipboard leaves the code selected to copy by hand
    set_editor_text(page, text.replace("data.refund_id)", "data.refund_idd)", 1))
    idle(page)
    page.click("[data-testid=export]")
    page.wait_for_selector("[data-testid=export-panel][data-state=refused]")
    problem = page.inner_text("[data-testid=export-problem][data-code=M201]")
    assert "error[M201]" in problem and "unknown input field `data.refund_idd`" in problem
    assert page.input_value("[data-testid=export-code]") == ""
    set_editor_text(page, text)
    idle(page)
    page.evaluate("() => { navigator.clipboard.writeText = () => Promise.reject(new DOMException('denied')); }")
    page.click("[data-testid=export]")
    page.wait_for_selector("[data-testid=export-panel][data-copied=no]")
    assert "press Ctrl+C" in page.inner_text("[data-testid=export-copied]")
    assert page.evaluate("(() => { const t = document.getElementById('export-code');"
                         " return t.value.slice(t.selectionStart, t.selectionEnd); })()") \
        == page.input_value("[data-testid=export-code]") != ""
    context.close()
    assert not errors, errors


def test_another_file_that_is_not_a_mapping_says_what_is_wrong_and_what_to_do(page: Any, site: Playground) -> None:
    legacy = site.root / "legacy.map"
    legacy.write_bytes('on "payment.failed"\n# café\nname = "x"\n'.encode("cp1252"))
    try:
        page.reload()
        page.wait_for_selector("body[data-ready=yes]", timeout=30_000)
        idle(page)
        note = page.inner_text("[data-testid=others]")
        assert "1 problem (1 error) in other files: legacy.map" in note
        assert "legacy.map line 2: this looks like Windows-1252" in note
        assert "help: save it as UTF-8" in note
    finally:
        legacy.unlink()


def test_an_empty_directory_says_where_to_start(browser: Any, tmp_path: Path) -> None:
    running = serve(tmp_path)
    site = next(running)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        p = context.new_page()
        p.goto(site.url + "/")
        p.wait_for_selector("body[data-ready=yes]", timeout=30_000)
        assert not p.is_hidden("#new-form")  # the form to create the first mapping is open
        assert "pick the event type in the form above and press Create" in p.inner_text("[data-testid=output-hint]")
    finally:
        context.close()
        next(running, None)
