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
    text = (playground.root / "payment.map").read_text().replace("= data.created_at\n", "= data.created_al\n", 1)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.endswith("= data.created_al"))
    column = text.splitlines()[line - 1].rindex("created_al") + 1
    got = playground.ok("compile", path="payment.map", text=text)
    [d] = got["diagnostics"]
    assert (d["code"], d["line"], d["column"]) == ("M201", line, column)
    assert d["message"] == "unknown input field `data.created_al`"
    assert d["help"] == "did you mean `data.created_at`?" and d["docs"] == "docs/errors/M201.md"
    assert d["fixes"] == [{"title": "replace with `created_at`", "line": line, "column": column, "end_line": line,
                           "end_column": column + len("created_al"), "replacement": "created_at"}]
    assert got["others"] == []
    # what `paymap check` prints for the same text on disk
    copy = copy_mappings(tmp_path / "m")
    (copy / "payment.map").write_text(text)
    [expected] = compile_paths([str(copy)]).diagnostics
    assert (expected.code, expected.message, expected.help, expected.span.line, expected.span.column) == \
        (d["code"], d["message"], d["help"], d["line"], d["column"])
    assert d["rendered"].splitlines()[0] == "error[M201]: unknown input field `data.created_al`"


def test_apply_gives_the_events_and_follows_the_body(playground: Playground) -> None:
    text = (playground.root / "payment.map").read_text()
    out = playground.ok("apply", path="payment.map", text=text, body=BODY)
    assert out["kind"] == "events" and out["events"][0]["data"]["amount"] == "29.99"
    body = json.loads(BODY)
    body["data"].update(currency="JPY", total_amount=4500)
    out = playground.ok("apply", path="payment.map", text=text, body=json.dumps(body))
    assert out["events"][0]["data"]["amount"] == "4500"
    [rule] = out["explain"]
    lines = text.splitlines()
    on_line = lines.index('on "payment.*"') + 1
    assert rule["rule"] == f"payment.map:{on_line}" and rule["patterns"] == ["payment.*"]
    step = next(s for s in rule["steps"] if s["source"].startswith("data.amount"))
    assert step["value"] == "4500" and lines[step["line"] - 1].startswith("data.amount")


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


def test_other_files_with_errors_are_counted_and_left_out(tmp_path: Path) -> None:
    root = copy_mappings(tmp_path / "m")
    (root / "broken.map").write_text('on "payment.failed"\nname = data.nope\n')
    ws = Workspace(root)
    compiled = ws.compile("payment.map", (root / "payment.map").read_text())
    others = ws.diagnostics_json(compiled)["others"]
    assert [(d["code"], d["path"], d["line"]) for d in others] == [("M201", "broken.map", 2)]
    out = ws.apply(PAYMENT.decode() if PAYMENT else "")
    assert out["kind"] == "events" and out["left_out"] == ["broken.map"]


def test_an_empty_directory_has_nothing_mapped(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    assert ws.files() == []
    rows = ws.coverage()["types"]
    assert len(rows) == 48 and {r["status"] for r in rows} == {"unmapped"}
    compiled = ws.compile("first.map", ws.template("payment.succeeded"))
    assert not compiled.result.diagnostics
