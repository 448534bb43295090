"""`paymap check`: output formats, colour, exit codes, --strict, --coverage and --functions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOOD = 'on "payment.succeeded"\nname = "payment.succeeded"\ndata.id = data.payment_id\nts = epoch_ms(timestamp)\n'
WARN = 'on "payment.failed"\nname = "payment.failed"\nlet unused = 1\n'
BAD = 'on "payment.processing"\nname = "payment.processing"\ndata.e = data.customer.emial\n'


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name, text in (("good.map", GOOD), ("warn.map", WARN), ("bad.map", BAD)):
        (tmp_path / name).write_text(text)
    return tmp_path


# --- exit codes and the summary ------------------------------------------------------------------


def test_exit_codes_and_strict(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(files / "good.map"))
    assert code == 0 and out == "0 errors, 0 warnings in 1 file\n"
    code, out, _ = run(capsys, str(files / "warn.map"))
    assert code == 0 and out.endswith("0 errors, 1 warning in 1 file\n")
    code, _, _ = run(capsys, "--strict", str(files / "warn.map"))
    assert code == 1
    code, out, _ = run(capsys, str(files))
    assert code == 1 and out.endswith("1 error, 1 warning in 3 files\n")


def test_text_is_rustc_style_and_plain_when_piped(files: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    _, out, _ = run(capsys, str(files / "bad.map"))
    path = str(files / "bad.map")
    assert out == (
        "error[M201]: unknown input field `data.customer.emial`\n"
        f" --> {path}:3:24\n"
        "  |\n"
        "3 | data.e = data.customer.emial\n"
        "  |                        ^^^^^ not a field of `data.customer` for payment.processing\n"
        "  = help: did you mean `data.customer.email`?\n"
        "  = more: paymap explain M201\n"
        "\n"
        "1 error, 0 warnings in 1 file\n"
    )
    assert "\033[" not in out


def test_colour_on_a_terminal(files: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, out, _ = run(capsys, str(files / "bad.map"))
    assert "\033[1m\033[31merror[M201]\033[0m" in out
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsys, str(files / "bad.map"))
    assert "\033[" not in out


# --- JSON ---------------------------------------------------------------------------------------------


def test_json_has_every_field(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "json", str(files))
    assert code == 1
    items = json.loads(out)
    assert [(d["code"], d["severity"]) for d in items] == [("M201", "error"), ("M600", "warning")]
    d = items[0]
    assert d == {
        "code": "M201", "severity": "error", "file": str(files / "bad.map"),
        "line": 3, "column": 24, "end_line": 3, "end_column": 29,
        "message": "unknown input field `data.customer.emial`",
        "help": "did you mean `data.customer.email`?",
        "fixes": [{"title": "replace with `email`", "line": 3, "column": 24, "end_line": 3, "end_column": 29,
                   "replacement": "email"}],
    }


def test_json_with_coverage(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--format", "json", "--coverage", str(files / "good.map"))
    doc = json.loads(out)
    assert doc["diagnostics"] == []
    (cov,) = doc["coverage"]
    assert cov["source"] == "Dodo" and cov["known"] == 48
    assert cov["mapped"] == ["payment.succeeded"] and len(cov["unmapped"]) == 47


# --- GitHub annotations ---------------------------------------------------------------------------

# https://docs.github.com/actions/reference/workflow-commands-for-github-actions
_PROP = r"[^,:\r\n%]*(?:%(?:25|0D|0A|3A|2C)[^,:\r\n%]*)*"
_DATA = r"[^\r\n%]*(?:%(?:25|0D|0A)[^\r\n%]*)*"
ANNOTATION = re.compile(
    rf"::(?P<level>error|warning|notice) file=(?P<file>{_PROP}),line=(?P<line>\d+),col=(?P<col>\d+),"
    rf"endLine=(?P<end_line>\d+)(?:,endColumn=(?P<end_col>\d+))?,title=(?P<title>{_PROP})::(?P<message>{_DATA})\Z"
)


def _unescape(text: str) -> str:
    return (text.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":").replace("%2C", ",")
            .replace("%25", "%"))


def test_github_annotations_are_valid_workflow_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a path with a comma and a colon, a message with `%`, a multi-line help
    d = tmp_path / "a,b:c"
    d.mkdir()
    (d / "m.map").write_text(BAD + 'data.a = "100%" + 1\n' + WARN.split("\n", 2)[2])
    code, out, _ = run(capsys, "--format", "github", str(d / "m.map"))
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3
    parsed = [ANNOTATION.match(line) for line in lines]
    assert all(parsed), lines
    first = parsed[0]
    assert first is not None
    assert first["level"] == "error"
    assert _unescape(first["file"]) == str(d / "m.map")
    assert (first["line"], first["col"], first["end_line"], first["end_col"]) == ("3", "24", "3", "29")
    assert _unescape(first["title"]) == "paymap M201: unknown input field"
    assert _unescape(first["message"]) == ("unknown input field `data.customer.emial`\n"
                                           "help: did you mean `data.customer.email`?")
    assert [m["level"] for m in parsed if m] == ["error", "error", "warning"]


def test_github_output_is_empty_when_all_is_well(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--format", "github", str(files / "good.map"))
    assert code == 0 and out == ""


def test_github_coverage_notice(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "--format", "github", "--coverage", str(files / "good.map"))
    (line,) = out.splitlines()
    assert line.startswith("::notice title=paymap coverage::1 of 48 Dodo event types are mapped; not mapped: ")


# --- coverage ---------------------------------------------------------------------------------------


def test_coverage_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.map").write_text('on "payment.*"\nname = type\n\non "refund.failed"\ndrop\n\n'
                                    'also on "dispute.won"\nname = "won"\n')
    code, out, _ = run(capsys, "--coverage", str(tmp_path))
    assert code == 0
    assert "coverage: 5 of 48 Dodo event types are mapped, 1 dropped on purpose\n" in out
    assert "  dropped:    refund.failed\n" in out
    assert ("  not mapped: abandoned_checkout.*, credit.*, dispute.accepted, dispute.cancelled, "
            "dispute.challenged, dispute.expired, dispute.lost, dispute.opened, dunning.*, entitlement_grant.*, "
            "license_key.created, payout.*, refund.succeeded, subscription.*\n") in out


def test_the_library_maps_every_dodo_event_type(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--coverage", "--strict", str(ROOT / "mappings"))
    assert code == 0, out
    assert "coverage: 48 of 48 Dodo event types are mapped" in out


# --- --functions -----------------------------------------------------------------------------------


def test_functions_text_file_both_ways(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.map").write_text('on "payment.succeeded"\nname = "payment.succeded"\n\n'
                                    'on "dispute.*"\nname = "dodo/" & type\n')
    (tmp_path / "fns.txt").write_text("# our functions\npayment.succeeded\ndodo/dispute.*\n  refund.succeeded  \n")
    code, out, _ = run(capsys, "--format", "json", "--functions", str(tmp_path / "fns.txt"), str(tmp_path / "m.map"))
    assert code == 0
    found = [(d["code"], Path(d["file"]).name, d["line"], d["column"], d["message"], d["help"]) for d in json.loads(out)]
    assert found == [
        ("M411", "fns.txt", 2, 1, "an Inngest function listens for `payment.succeeded`, but no mapping produces it",
         "did you mean `payment.succeded`? the function never runs unless something else sends this event"),
        ("M411", "fns.txt", 4, 3, "an Inngest function listens for `refund.succeeded`, but no mapping produces it",
         "the function never runs unless something else sends this event"),
        ("M410", "m.map", 2, 8, "no Inngest function listens for `payment.succeded`: this event starts nothing",
         "did you mean `payment.succeeded`? check the name against your functions' triggers, or remove the rule "
         "(`drop`) if nothing needs these events"),
    ]


def test_functions_json_configs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.map").write_text(GOOD)
    config = {"functions": [{"id": "a", "triggers": [{"event": "payment.succeeded"}]},
                            {"id": "b", "triggers": [{"cron": "0 * * * *"}, {"event": "user.created"}]}]}
    text = json.dumps(config, indent=2)
    (tmp_path / "fns.json").write_text(text)
    _, out, _ = run(capsys, "--format", "json", "--functions", str(tmp_path / "fns.json"), str(tmp_path / "m.map"))
    (d,) = json.loads(out)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if '"user.created"' in t)
    assert (d["code"], d["line"]) == ("M411", line) and "`user.created`" in d["message"]


def test_functions_from_inngest_python_sdk(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("inngest")
    code, out, _ = run(capsys, "--format", "json", "--functions", str(ROOT / "docs" / "examples" / "inngest_functions.py"),
                       str(ROOT / "mappings"))
    assert code == 0
    items = json.loads(out)
    assert items and all(d["code"] == "M410" for d in items)  # every function's trigger is produced
    assert not any("payment.succeeded`" in d["message"] for d in items)


def test_computed_names_turn_off_the_other_direction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.map").write_text('on "payment.succeeded"\nname = data.customer.name\n')
    (tmp_path / "fns.txt").write_text("anything.at.all\n")
    _, out, _ = run(capsys, "--format", "json", "--functions", str(tmp_path / "fns.txt"), str(tmp_path / "m.map"))
    assert json.loads(out) == []


def test_unreadable_functions_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.map").write_text(GOOD)
    code, out, _ = run(capsys, "--functions", str(tmp_path / "nope.txt"), str(tmp_path / "m.map"))
    assert code == 1 and "error[M106]: cannot read the functions file" in out
    (tmp_path / "boom.py").write_text("raise RuntimeError('no')\n")
    code, out, _ = run(capsys, "--functions", str(tmp_path / "boom.py"), str(tmp_path / "m.map"))
    assert code == 1 and "running" in out and "RuntimeError: no" in out


def test_missing_path_is_a_diagnostic_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(tmp_path / "nope"))
    assert code == 1 and "error[M106]" in out and err == ""


# --- rendering user text ----------------------------------------------------------------------------


def test_control_characters_in_user_text_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.map").write_text('on "payment.succeeded"\nname = "\x1b[2Jpaid"\n')
    _, out, _ = run(capsys, str(tmp_path / "m.map"))
    assert "\x1b" not in out
    assert "warning[M409]: the event name `\\x1b[2Jpaid` contains a control character" in out
    assert '2 | name = "\ufffd[2Jpaid"' in out  # the source line keeps one character per character
    _, out, _ = run(capsys, "--format", "github", str(tmp_path / "m.map"))
    assert "\x1b" not in out and len(out.rstrip("\n").split("\n")) == 1


def test_carets_line_up_after_wide_characters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.map").write_text('on "payment.succeeded"\nname = "p"\ndata.note = "日本" & data.customer.emial\n')
    _, out, _ = run(capsys, str(tmp_path / "m.map"))
    lines = out.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("3 |"))
    source, caret = lines[at], lines[at + 1]
    assert source == '3 | data.note = "日本" & data.customer.emial'
    # `日本` is four columns wide: the caret sits under `emial`
    assert caret.index("^") == source.index("emial") + 2


def test_check_without_a_path_checks_mappings(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 2
    assert "no mappings/ directory here" in capsys.readouterr().err
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "a.map").write_text('on "payment.succeeded"\nname = "p"\n', encoding="utf-8")
    assert main(["check"]) == 0
    assert capsys.readouterr().out.endswith("0 errors, 0 warnings in 1 file\n")


def test_a_directory_without_map_files_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "error[M106]: " + f"{tmp_path}: no .map file in this directory" in out
    assert "1 error, 0 warnings in 0 files" in out


@pytest.mark.parametrize(("data", "words", "where"), [
    (b'on "payment.succeeded"\nname = "caf\xe9"\n', "Windows-1252 (or Latin-1) text (byte 0xE9 is `\u00e9` there)", ":2:12"),
    ('on "payment.succeeded"\nname = "x"\n'.encode("utf-16"), "a UTF-16 text file", ":1:1"),
    ('on "payment.succeeded"\nname = "x"\n'.encode("utf-16-le"), "a UTF-16 text file", ":1:1"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image", ":1:1"),
    (b"%PDF-1.7\n", "a PDF document", ":1:1"),
])
def test_files_that_are_not_text_are_named(data: bytes, words: str, where: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.map").write_bytes(data)
    assert main(["check", str(tmp_path / "m.map")]) == 1
    out = capsys.readouterr().out
    assert f"error[M103]: this looks like {words}, not a mapping's UTF-8 text" in out
    assert f"m.map{where}\n" in out and out.count("error[") == 1


def test_explain_prints_the_shipped_page(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "m201"]) == 0
    assert capsys.readouterr().out.startswith("# M201: unknown input field\n")
    assert main(["explain", "M999"]) == 2
    assert "no diagnostic code 'M999'" in capsys.readouterr().err
    assert main(["explain"]) == 0
    assert "M107  error    JavaScript where the mapping language differs" in capsys.readouterr().out


def test_the_pages_are_package_data() -> None:
    import tomllib
    from importlib import resources

    config = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["setuptools"]["package-dir"]["dsl.errors"] == "docs/errors"
    assert "*.md" in config["tool"]["setuptools"]["package-data"]["dsl.errors"]
    assert (resources.files("dsl.errors") / "M107.md").read_text(encoding="utf-8").startswith("# M107")
