"""`paymap check` and `paymap run` as a user runs them: real processes, real files, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def paymap(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "runtime.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd, timeout=60)
    assert "Traceback" not in proc.stderr + proc.stdout
    return proc


def test_check_shipped_mappings_is_clean() -> None:
    proc = paymap("check", "mappings")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 errors" in proc.stdout


def test_check_broken_file_points_at_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.map"
    bad.write_text('on "payment.succeeded"\nname = "payment.succeeded"\nts = epoch(timestamp)\n')
    proc = paymap("check", str(bad))
    assert proc.returncode == 1
    assert f"--> {bad}:3:6" in proc.stdout
    assert "error[M405]" in proc.stdout and "help: use `epoch_ms(timestamp)`" in proc.stdout
    assert "\033[" not in proc.stdout  # piped: no colour
    js = paymap("check", str(bad), "--format", "json")
    entry = json.loads(js.stdout)[0]
    assert (entry["code"], entry["line"], entry["column"]) == ("M405", 3, 6)


def test_check_strict_fails_on_warnings(tmp_path: Path) -> None:
    f = tmp_path / "w.map"
    f.write_text('on "payment.succeeded"\nname = "payment.succeeded"\nlet unused = 1\n')
    assert paymap("check", str(f)).returncode == 0
    assert paymap("check", "--strict", str(f)).returncode == 1


def test_check_missing_path() -> None:
    proc = paymap("check", "no/such/dir")
    assert proc.returncode == 1 and "no such file or directory" in proc.stdout


def test_run_sample_gives_valid_inngest_event() -> None:
    proc = paymap("run", "mappings", "--sample", "payment.succeeded")
    assert proc.returncode == 0, proc.stderr
    (event,) = json.loads(proc.stdout)
    assert event["name"] == "payment.succeeded"
    assert isinstance(event["ts"], int) and event["ts"] > 315_532_800_000
    assert event["data"]["amount"] == "29.99"


def test_run_event_from_stdin_and_explain() -> None:
    body = (ROOT / "samples/dodo/payment.succeeded.json").read_text()
    proc = paymap("run", "mappings", "--event", "-", stdin=body)
    assert json.loads(proc.stdout)[0]["user"]["email"] == "sofiarossi+dodo@example.org"
    explained = paymap("run", "mappings", "--sample", "payment.succeeded", "--explain")
    assert explained.returncode == 0
    assert "= money(required(data.total_amount), currency)" in explained.stdout
    assert '= "29.99"' in explained.stdout
    # a shared line says where it was written and which group it comes from; a constant its value
    assert "mappings/_settings.map:14 | name = prefix & type\n       from group event (mappings/_settings.map:12)\n" \
           '       const prefix = "" (mappings/_settings.map:5)\n       = "payment.succeeded"' in explained.stdout


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["run", "mappings", "--event", "-"], "{not json", "invalid JSON at line 1 column 2"),
    (["run", "mappings", "--event", "nope.json"], None, "cannot read nope.json"),
    (["run", "mappings", "--sample", "payment.succeded"], None, "did you mean 'payment.succeeded'?"),
    (["run", "mappings"], None, "give a webhook body"),
])
def test_run_bad_input_is_one_clear_line(args: list[str], stdin: str | None, message: str) -> None:
    proc = paymap(*args, stdin=stdin)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_run_reports_mapping_failure_with_location(tmp_path: Path) -> None:
    body = json.loads((ROOT / "samples/dodo/payment.succeeded.json").read_text())
    body["data"]["total_amount"] = "abc"
    proc = paymap("run", "mappings", "--event", "-", stdin=json.dumps(body))
    assert proc.returncode == 1
    lines = (ROOT / "mappings/payment.map").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("data.amount") and "total_amount" in text)
    column = lines[line - 1].index("money(") + 1
    assert f"mappings/payment.map:{line}:{column}: in `data.amount`:" in proc.stderr
    assert "(input `data.total_amount`)" in proc.stderr


def test_run_unmatched_type_says_so() -> None:
    proc = paymap("run", "mappings", "--event", "-", stdin='{"type": "nothing.here", "data": {}}')
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == []
    assert "no rule receives event type 'nothing.here'" in proc.stderr
