"""The playground's JSON API on a real server: the same diagnostics as `paymap check`, the same events
as `paymap run`, saving and tests on disk, and clear refusals of hostile input."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from dsl.compiler import compile_paths
from runtime import samples
from runtime.cli import main
from runtime.playground.worker import Timeout, Worker
from runtime.playground.workspace import Workspace

from .conftest import Playground, copy_mappings

PAYMENT = samples.read("payment.succeeded")
assert PAYMENT is not None
BODY = PAYMENT.decode()


def test_meta_lists_the_files_samples_functions_and_targets(playground: Playground) -> None:
    meta = playground.ok("meta")
    assert "payment.map" in meta["files"] and "subscription.map" in meta["files"]
    assert len(meta["samples"]) == 48 and "payment.succeeded" in meta["samples"]
    money = next(b for b in meta["builtins"] if b["name"] == "money")
    assert money["signature"].startswith("money(amount: ") and "ISO 4217" in money["summary"]
    assert [t["name"] for t in meta["targets"]][:3] == ["name", "id", "ts"]


def test_diagnostics_are_those_of_paymap_check_with_the_text_saved(playground: Playground, tmp_path: Path) -> None:
    original = (playground.root / "payment.map").read_text()
    lines = original.splitlines()
    line = next(i for i, t in enumerate(lines) if t.startswith("data.status ")) + 1
    column = lines[line - 1].index("data.status", 5) + len("data.") + 1
    text = original.replace("= data.status", "= data.statsu", 1)
    got = playground.ok("compile", path="payment.map", text=text)
    [d] = got["diagnostics"]
    assert (d["code"], d["line"], d["column"]) == ("M201", line, column)
    assert d["message"] == "unknown input field `data.statsu`"
    assert d["help"] == "did you mean `data.status`?" and d["docs"] == "docs/errors/M201.md"
    assert d["fixes"] == [{"title": "replace with `status`", "line": line, "column": column, "end_line": line,
                           "end_column": column + len("statsu"), "replacement": "status"}]
    assert got["others"] == []
    # what `paymap check` prints for the same text on disk
    copy = copy_mappings(tmp_path / "m")
    (copy / "payment.map").write_text(text)
    [expected] = compile_paths([str(copy)]).diagnostics
    assert (expected.code, expected.message, expected.help, expected.span.line, expected.span.column) == \
        (d["code"], d["message"], d["help"], d["line"], d["column"])
    assert d["rendered"].splitlines()[0] == "error[M201]: unknown input field `data.statsu`"


def test_shared_lines_and_constants_of_the_other_files_apply(playground: Playground) -> None:
    """The library's rules `use` groups declared in `_settings.map`: the page sees them as `check` does,
    and an edit to a constant there reaches the events of every other file."""
    payment = (playground.root / "payment.map").read_text()
    out = playground.ok("apply", path="payment.map", text=payment, body=BODY)
    assert out["kind"] == "events" and out["events"][0]["name"] == "payment.succeeded"
    settings = (playground.root / "_settings.map").read_text()
    edited = settings.replace('const prefix = ""', 'const prefix = "dodo/"', 1)
    assert edited != settings
    out = playground.ok("apply", path="_settings.map", text=edited, body=BODY)
    assert out["kind"] == "events" and out["events"][0]["name"] == "dodo/payment.succeeded"
    out = playground.ok("apply", path="payment.map", text=payment, body=BODY)  # back to the file on disk
    assert out["events"][0]["name"] == "payment.succeeded"


def test_apply_gives_the_events_and_follows_the_body(playground: Playground) -> None:
    text = (playground.root / "payment.map").read_text()
    out = playground.ok("apply", path="payment.map", text=text, body=BODY)
    assert out["kind"] == "events" and out["events"][0]["data"]["amount"] == "29.99"
    body = json.loads(BODY)
    body["data"].update(currency="JPY", total_amount=4500)
    out = playground.ok("apply", path="payment.map", text=text, body=json.dumps(body))
    assert out["events"][0]["data"]["amount"] == "4500"
    [rule] = out["explain"]
    on_line = text.splitlines().index('on "payment.*"') + 1
    assert rule["rule"] == f"payment.map:{on_line}" and rule["patterns"] == ["payment.*"]
    step = next(s for s in rule["steps"] if s["source"].startswith("data.amount "))
    amount_line = next(i for i, t in enumerate(text.splitlines()) if t.startswith("data.amount ")) + 1
    assert step["value"] == "4500" and step["line"] == amount_line


def test_apply_reports_no_rule_dropped_and_runtime_errors(playground: Playground) -> None:
    text = 'on "payment.succeeded"\nname = "x"\ndata.n = int(data.customer.email)\n'
    out = playground.ok("apply", path="payment.map", text=text, body=BODY)
    assert out["kind"] == "error"
    assert (out["error"]["file"], out["error"]["line"]) == ("payment.map", 3)
    assert out["error"]["field"] == "data.n"
    dropped = playground.ok("apply", path="payment.map", text='on "payment.succeeded"\ndrop\n', body=BODY)
    assert dropped["kind"] == "dropped" and dropped["dropped_by"] == ["payment.map:1"]
    # a new file's rule for a type another file already maps: the directory is routed as by `paymap run`
    other = playground.ok("compile", path="scratch.map", text='on "payment.*"\nname = "x"\n')
    assert [d["code"] for d in other["diagnostics"]] == ["M502"]
    unknown = json.dumps({"type": "nothing.here", "data": {}})
    assert playground.ok("apply", path="payment.map", text=(playground.root / "payment.map").read_text(),
                         body=unknown)["kind"] == "skipped"
    broken = playground.ok("apply", path="payment.map", text="on \"payment.succeeded\"\nname = data.nope\n", body=BODY)
    assert broken["kind"] == "not_compiled" and "error" in broken["message"]


@pytest.mark.parametrize(("body", "status", "words"), [
    ("{not json", 400, "not valid JSON: line 1 column 2"),
    ("[1, 2]", 400, "must be a JSON object"),
    ("", 400, "the body is empty"),
    ("[" * 100_000 + "]" * 100_000, 400, "nested too deeply"),
])
def test_bad_bodies_get_clear_errors(playground: Playground, body: str, status: int, words: str) -> None:
    response = playground.call("apply", path="payment.map", text=(playground.root / "payment.map").read_text(),
                               body=body)
    assert response.status_code == status
    assert words in response.json()["error"]


def test_a_50_mb_body_is_refused_before_it_is_read(playground: Playground) -> None:
    body = '{"type": "payment.succeeded", "data": {"x": "' + "a" * (50 * 1024 * 1024) + '"}}'
    response = playground.call("apply", path="payment.map", text="", body=body)
    assert response.status_code == 413
    assert "the request is larger than" in response.json()["error"]
    just_over = '{"type": "x", "pad": "' + "a" * (1024 * 1024) + '"}'
    response = playground.call("apply", path="payment.map", text="", body=just_over)
    assert response.status_code == 413 and "the playground accepts up to 1.0 MB" in response.json()["error"]
    assert playground.ok("ping") == {"ok": True}


def test_pathological_mappings_get_diagnostics_not_crashes(playground: Playground) -> None:
    deep = 'on "payment.succeeded"\nname = "x"\ndata.a = ' + "(" * 20_000 + "1" + ")" * 20_000 + "\n"
    got = playground.ok("compile", path="payment.map", text=deep)
    assert got["diagnostics"] and got["diagnostics"][0]["severity"] == "error"
    assert {d["code"] for d in got["diagnostics"]} <= {"M100", "M105"}
    huge = "# " + "x" * (300 * 1024)
    response = playground.call("compile", path="payment.map", text=huge)
    assert response.status_code == 413 and "the playground accepts up to 256 KB" in response.json()["error"]
    garbage = playground.ok("compile", path="payment.map", text="\x00\x01 on on on = = = ((( \"")
    assert garbage["diagnostics"][0]["code"].startswith("M1")


@pytest.mark.parametrize(("path", "words"), [
    ("../secret.map", "`\\.\\.` is not allowed"),
    ("sub/../../x.map", "`\\.\\.` is not allowed"),
    ("/etc/passwd.map", "not an absolute one"),
    ("payment.test.yaml", "only .map files"),
    (".hidden.map", "hidden files"),
    ("nowhere/x.map", "no such file|does not exist"),
    ("", "no file name"),
])
def test_paths_outside_the_directory_are_refused(playground: Playground, path: str, words: str) -> None:
    for method in ("open", "save"):
        response = playground.call(method, path=path, text='on "payment.succeeded"\nname = "x"\n')
        assert response.status_code in (400, 403, 404), response.text
        assert re.search(words, response.json()["error"])


def test_symlinks_out_of_the_directory_are_refused(playground: Playground, tmp_path: Path) -> None:
    outside = tmp_path / "outside.map"
    outside.write_text('on "payment.succeeded"\nname = "secret"\n')
    link = playground.root / "link.map"
    os.symlink(outside, link)
    try:
        response = playground.call("open", path="link.map")
        assert response.status_code == 403 and "leads outside" in response.json()["error"]
        response = playground.call("save", path="link.map", text='on "payment.succeeded"\nname = "x"\n')
        assert response.status_code == 403
        assert outside.read_text() == 'on "payment.succeeded"\nname = "secret"\n'
        assert "link.map" not in playground.ok("meta")["files"]
    finally:
        link.unlink()


def test_save_refuses_new_errors_and_formats(playground: Playground) -> None:
    path = playground.root / "refund.map"
    before = path.read_text()
    response = playground.call("save", path="refund.map", text=before.replace("data.", "data.nope_", 1))
    assert response.status_code == 409 and "not saved: this would add" in response.json()["error"]
    assert response.json()["diagnostics"], "the refusal shows the errors"
    assert path.read_text() == before
    messy = before + '\non "refund.failed"\nname="refund.failed"\nid  =  "dodo:" & type & ":" & timestamp\n'
    got = playground.ok("save", path="refund.map", text=messy)
    assert got["formatted"] and 'name = "refund.failed"' in got["text"]
    assert path.read_text() == got["text"]
    assert main(["check", str(playground.root)]) == 0
    path.write_text(before)


def test_new_file_from_a_template_then_saved_and_checked(playground: Playground) -> None:
    got = playground.ok("new", path="tax.map", event_type="payment.succeeded")
    assert got["text"].startswith("# payment.succeeded")
    assert playground.call("new", path="payment.map", event_type="payment.succeeded").status_code == 409
    assert playground.call("new", path="y.map", event_type="no.such").status_code == 400


def test_every_template_compiles(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    for t in samples.names():
        compiled = ws.compile("new.map", ws.template(t))
        assert not compiled.result.errors, (t, compiled.result.errors)
        out = ws.apply(samples.read(t).decode())  # type: ignore[union-attr]
        assert out["kind"] == "events" and out["events"][0]["name"] == t


def test_save_as_test_appends_a_passing_case(playground: Playground) -> None:
    text = (playground.root / "payout.map").read_text()
    body = samples.read("payout.success")
    assert body is not None
    got = playground.ok("save_test", path="payout.map", text=text, name="from the playground",
                        body=body.decode(), sample="payout.success")
    assert got["status"] == "passed" and got["file"] == "payout.test.yaml"
    written = (playground.root / "payout.test.yaml").read_text()
    assert "- name: from the playground\n    sample: payout.success\n    expect:" in written
    assert main(["test", str(playground.root / "payout.map")]) == 0
    again = playground.call("save_test", path="payout.map", text=text, name="from the playground",
                            body=body.decode(), sample="payout.success")
    assert again.status_code == 409 and "already has a test named" in again.json()["error"]
    unsaved = playground.call("save_test", path="payout.map", text=text + "\n# edited", name="x",
                              body=body.decode())
    assert unsaved.status_code == 409 and "save the mapping first" in unsaved.json()["error"]
    examples = playground.ok("open", path="payout.map")["examples"]
    assert any(e["name"] == "from the playground" for e in examples)


def test_coverage_lists_every_type_with_its_mapping_and_tests(playground: Playground) -> None:
    got = playground.ok("coverage")
    rows = {r["type"]: r for r in got["types"]}
    assert len(rows) == 48
    assert rows["payment.succeeded"]["status"] == "mapped" and rows["payment.succeeded"]["tested"]
    on_line = (playground.root / "payment.map").read_text().splitlines().index('on "payment.*"') + 1
    assert rows["payment.succeeded"]["rules"] == [f"payment.map:{on_line}"]


def test_completion_paths_come_from_the_dodo_schema(playground: Playground) -> None:
    paths = {p["path"]: p for p in playground.ok("paths", event_type="payment.succeeded")["paths"]}
    assert paths["data.customer.email"]["type"] == "text"
    assert paths["data.customer.email"]["doc"] == "Email address of the customer"
    assert "smallest unit" in paths["data.total_amount"]["doc"]
    assert "money in minor units" in paths["data.total_amount"]["type"]
    assert paths["data.tax"]["optional"] or paths["data.tax"]["nullable"]
    assert "data.product_cart[0].product_id" in paths


def test_requests_from_other_sites_are_refused(playground: Playground) -> None:
    evil = playground.client.post("/api/meta", json={}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    rebound = playground.client.post("/api/meta", json={}, headers={"Host": "evil.example"})
    assert rebound.status_code == 403
    form = playground.client.post("/api/save", content=b"path=x", headers={"Content-Type": "text/plain"})
    assert form.status_code == 415
    assert playground.client.post("/api/nope", json={}).status_code == 404


def test_the_page_its_bundle_and_error_docs_are_served(playground: Playground) -> None:
    page = playground.client.get("/")
    assert page.status_code == 200 and '<script src="/static/playground.js">' in page.text
    assert playground.client.get("/static/playground.js").status_code == 200
    docs = playground.client.get("/docs/errors/M201.md")
    assert docs.status_code == 200 and "M201" in docs.text
    assert playground.client.get("/docs/errors/M999.md").status_code == 404


def test_a_call_past_its_deadline_is_stopped_and_the_worker_restarted(tmp_path: Path) -> None:
    root = copy_mappings(tmp_path / "m")
    worker = Worker(str(root))
    try:
        worker.start()
        text = (root / "payment.map").read_text()
        with pytest.raises(Timeout):
            worker.call("compile", {"path": "payment.map", "text": text}, 0.0001)
        assert worker.restarts == 1
        status, result = worker.call("compile", {"path": "payment.map", "text": text}, 60)
        assert status == "ok" and result["diagnostics"] == []
    finally:
        worker.close()


def test_a_new_file_is_routed_where_paymap_check_will_find_it(tmp_path: Path) -> None:
    root = copy_mappings(tmp_path / "m")
    (root / "sub").mkdir()
    ws = Workspace(root)
    rule = 'on "payment.succeeded"\nname = "mine"\n'
    for rel in ("a_first.map", "sub/z.map", "zz_last.map"):
        unsaved = ws.compile(rel, rule)
        (root / rel).write_text(rule)
        saved = compile_paths([str(root)])
        (root / rel).unlink()
        assert [f.source.path for f in unsaved.result.files] == [f.source.path for f in saved.files]
        assert [(d.code, d.span.file, d.span.line) for d in unsaved.result.diagnostics] == \
            [(d.code, d.span.file, d.span.line) for d in saved.diagnostics]


@pytest.mark.parametrize("rel", ["refund.map", "subscription.map"])  # subscription.map has `defaults`
def test_a_keystroke_checks_only_the_edited_file_and_gives_what_check_gives(tmp_path: Path, rel: str) -> None:
    """The playground compiles through `paymap check`'s own orchestration with its per-file cache:
    an edit that changes no constant, named group or `on` line re-checks the edited file alone,
    and the result is `paymap check`'s once the text is saved."""
    root = copy_mappings(tmp_path / "m")
    ws = Workspace(root)
    name = ws.name(rel)
    text = (root / rel).read_text()
    first = ws.compile(rel, text + "# 1\n")
    second = ws.compile(rel, text + "# 2\n")
    before = {f.source.path: f for f in first.result.files}
    assert len(before) > 2
    for f in second.result.files:
        assert (f is before[f.source.path]) == (f.source.path != name), f.source.path
    (root / rel).write_text(text + "# 2\n")
    saved = compile_paths([str(ws.display_root)])
    assert second.result.diagnostics == saved.diagnostics
    assert [f.source.path for f in second.result.files] == [f.source.path for f in saved.files]


def test_other_files_with_errors_are_counted_and_left_out(tmp_path: Path) -> None:
    root = copy_mappings(tmp_path / "m")
    (root / "broken.map").write_text('on "payment.failed"\nname = data.nope\n')
    ws = Workspace(root)
    compiled = ws.compile("payment.map", (root / "payment.map").read_text())
    others = ws.diagnostics_json(compiled)["others"]
    assert [(d["code"], d["path"], d["line"]) for d in others] == [("M201", "broken.map", 2)]
    out = ws.apply(PAYMENT.decode() if PAYMENT else "")
    assert out["kind"] == "events" and out["left_out"] == ["broken.map"]


def test_other_files_that_cannot_be_read_as_mappings_are_reported_as_paymap_check_does(tmp_path: Path) -> None:
    """A sibling saved as Windows-1252, or a link to a file that is gone, is not skipped in silence: its
    rules are missing from every event, so the page says why, with the same words as `paymap check`."""
    root = copy_mappings(tmp_path / "m")
    (root / "legacy.map").write_bytes('on "payment.failed"\n# café\nname = "x"\n'.encode("cp1252"))
    (root / "gone.map").symlink_to(tmp_path / "nowhere.map")
    ws = Workspace(root)
    compiled = ws.compile("payment.map", (root / "payment.map").read_text())
    others = ws.diagnostics_json(compiled)["others"]
    assert [(d["code"], d["path"], d["line"]) for d in others] == [("M106", "gone.map", 1), ("M103", "legacy.map", 2)]
    assert "Windows-1252" in others[1]["message"] and "No such file" in others[0]["message"]
    saved = compile_paths([str(root)])
    assert [(d.code, Path(d.span.file).name, d.message)
            for d in saved.diagnostics] == [(d["code"], d["path"], d["message"]) for d in others]
    again = ws.diagnostics_json(ws.compile("payment.map", (root / "payment.map").read_text() + "\n"))["others"]
    assert again == others  # said on every check, not only the first (nothing cached hides it)


def test_an_empty_directory_has_nothing_mapped(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    assert ws.files() == []
    rows = ws.coverage()["types"]
    assert len(rows) == 48 and {r["status"] for r in rows} == {"unmapped"}
    compiled = ws.compile("first.map", ws.template("payment.succeeded"))
    assert not compiled.result.diagnostics


# --- constants and groups for completion and hover; the export for the dashboard ---------------


def test_compile_lists_the_constants_and_groups_with_the_edited_text(playground: Playground) -> None:
    settings = (playground.root / "_settings.map").read_text()
    got = playground.ok("compile", path="payment.map", text=(playground.root / "payment.map").read_text())
    consts = {c["name"]: c for c in got["declarations"]["consts"]}
    line = settings.splitlines().index('const prefix = ""') + 1
    assert consts["prefix"] == {"name": "prefix", "value": '""', "file": "_settings.map", "line": line}
    event = next(g for g in got["declarations"]["groups"] if g["name"] == "event")
    assert event["file"] == "_settings.map" and event["lines"][0] == "name = prefix & type"
    assert got["rules"] == [{"line": 5, "end_line": len((playground.root / "payment.map").read_text().splitlines()),
                             "patterns": ["payment.*"], "also": False}]
    # the unsaved text counts: a new constant and group in the edited file, an edited value
    edited = 'const team = "billing"\n' + settings.replace('const prefix = ""', 'const prefix = "dodo/"') \
        + "\ngroup team\n\ndata.team = team\n"
    got = playground.ok("compile", path="_settings.map", text=edited)
    consts = {c["name"]: c for c in got["declarations"]["consts"]}
    assert consts["prefix"]["value"] == '"dodo/"' and consts["team"]["value"] == '"billing"'
    team = next(g for g in got["declarations"]["groups"] if g["name"] == "team")
    assert team["lines"] == ["data.team = team"] and team["line"] == len(edited.splitlines()) - 2


def test_library_templates_use_the_event_group_and_pass_paymap_check(tmp_path: Path) -> None:
    """With the library's `_settings.map` present, a new file uses `group event` (so `const prefix`
    reaches it) and `paymap check` accepts it; without it, the template stands alone (above)."""
    root = copy_mappings(tmp_path / "m")
    ws = Workspace(root)
    # a type the library names exactly already: a second exact rule is refused (M502) and the page says so
    exact = {p.text for f in compile_paths([str(root)]).files for r in f.module.rules if not r.also
             for p in r.patterns if "*" not in p.text}
    assert exact, "the library names some types exactly"
    for t in samples.names():
        text = ws.template(t)
        assert "use event" in text and "let object_id = required(data." in text, text
        compiled = ws.compile("new.map", text)
        errors = compiled.result.errors
        if t in exact:
            assert [d.code for d in errors] == ["M502"], (t, errors)
        else:
            assert not errors, (t, errors)
    text = ws.template("refund.failed")
    (root / "refund_failed.map").write_text(text)
    (root / "_settings.map").write_text((root / "_settings.map").read_text().replace(
        'const prefix = ""', 'const prefix = "dodo/"'))
    assert main(["check", str(root)]) == 0
    body = samples.read("refund.failed")
    assert body is not None
    ws = Workspace(root)
    ws.compile("refund_failed.map", text)
    # refund.map's `refund.*` is less specific than the new `refund.failed`: the new file receives it
    [event] = ws.apply(body.decode())["events"]
    data = json.loads(body)
    assert event["name"] == "dodo/refund.failed"
    assert event["id"] == f"dodo:refund.failed:{data['data']['refund_id']}:{data['timestamp']}"


def test_export_is_what_paymap_export_writes_with_the_text_saved(playground: Playground, tmp_path: Path) -> None:
    from jsengines import V8, run_js

    payment = (playground.root / "payment.map").read_text()
    got = playground.ok("export", path="payment.map", text=payment)
    out = tmp_path / "handler.js"
    assert main(["export", str(playground.root), "--target", "dodo", "-o", str(out)]) == 0
    assert got["code"] == out.read_text() and got["size"] == len(got["code"]) and got["limit"] == 51200
    assert got["diagnostics"] == [] and got["on"] is None
    # the editor's text, not the file on disk, and the code gives the event `apply` gives
    edited = payment.replace("data.status ", 'data.note = "from the playground"\ndata.status ', 1)
    assert edited != payment
    got = playground.ok("export", path="payment.map", text=edited)
    assert '"from the playground"' in got["code"]
    applied = playground.ok("apply", path="payment.map", text=edited, body=BODY)
    engine = V8(got["code"])
    try:
        assert run_js(engine, "dodo", BODY).event == applied["events"][0]
    finally:
        engine.close()
    assert applied["events"][0]["data"]["note"] == "from the playground"
    # split: only the types of one pattern
    part = playground.ok("export", path="payment.map", text=edited, on="payment.*")
    assert part["on"] == "payment.*" and part["size"] < got["size"] / 2
    assert "// only event types matching payment.*" in part["code"]


def test_export_refusals_are_diagnostics_in_words(playground: Playground) -> None:
    payment = (playground.root / "payment.map").read_text()
    got = playground.ok("export", path="payment.map", text=payment.replace("= data.status", "= data.statsu", 1))
    assert got["code"] is None and got["size"] is None
    assert [d["code"] for d in got["diagnostics"]] == ["M201"] and got["diagnostics"][0]["path"] == "payment.map"
    # past Svix's limit: M702 says the size and how to split
    huge = payment + '\non "refund.failed"\n\nname = "' + "x" * 52000 + '"\n'
    got = playground.ok("export", path="payment.map", text=huge)
    [d] = [d for d in got["diagnostics"] if d["severity"] == "error"]
    assert got["code"] is None and d["code"] == "M702"
    assert "accepts at most 51,200" in d["message"] and "--on" in d["help"]
    got = playground.ok("export", path="payment.map", text=payment, on="nothing.*")
    assert got["code"] is None and got["diagnostics"][0]["code"] == "M702"
    for bad in ("", "   ", 7):
        response = playground.call("export", path="payment.map", text=payment, on=bad)
        assert response.status_code == 400 and "`on` must be an event type pattern" in response.json()["error"]
    response = playground.call("export", path="../x.map", text=payment)
    assert response.status_code == 400 and "`..` is not allowed" in response.json()["error"]


def test_groups_used_only_by_cached_files_count_as_used(tmp_path: Path) -> None:
    """The other files are kept parsed and expanded between calls; their `use` lines still count
    (no M605 "never used" for `customer_id`, used by credit.map and dunning.map only)."""
    ws = Workspace(copy_mappings(tmp_path / "m"))
    for rel in ("_settings.map", "payment.map", "refund.map"):
        compiled = ws.compile(rel, ws.read(rel))
        assert compiled.result.diagnostics == [], (rel, [(d.code, d.message) for d in compiled.result.diagnostics])
