"""Machine-applicable fixes: applying a diagnostic's fix removes that diagnostic and adds none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsl.compiler import compile_text
from dsl.diagnostics import Diagnostic, Diagnostics, apply_fix
from runtime.cli import main


def check_source(text: str, path: str) -> list[Diagnostic]:
    diags = Diagnostics()
    compile_text(text, path, diags)
    return diags.items


CASES = [
    ('on "payment.succeded"\nname = "x"\nts = epoch_ms(timestamp)\n', "M500", '"payment.succeeded"'),
    ('on "payment.succeeded"\nname = "x"\ndata.a = data.totl_amount\n', "M201", "total_amount"),
    ('on "payment.succeeded"\nname = "x"\ndata.e = data.customer.emial\n', "M201", "email"),
    ('on "payment.succeeded"\nname = "x"\nts = epoch(timestamp)\n', "M405", "epoch_ms(timestamp)"),
    ('on "payment.succeeded"\nname = "x"\nts = epoch_ms(timestamp) / 1000\n', "M405", "epoch_ms(timestamp)"),
    ('on "payment.succeeded"\nname = "x"\ndata.e = lowr(data.customer.email)\n', "M202", "lower"),
]


@pytest.mark.parametrize(("text", "code", "replacement"), CASES)
def test_applying_the_fix_removes_the_diagnostic(text: str, code: str, replacement: str) -> None:
    diags = check_source(text, "t.map")
    [diag] = [d for d in diags if d.code == code]
    [fix] = diag.fixes
    assert fix.replacement == replacement
    fixed = apply_fix(text, fix)
    assert replacement in fixed
    after = check_source(fixed, "t.map")
    assert not [d for d in after if d.is_error], [d.message for d in after]


def test_fixes_are_in_the_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.map"
    path.write_text(CASES[3][0])
    assert main(["check", str(path), "--format", "json"]) == 1
    [item] = [d for d in json.loads(capsys.readouterr().out) if d["code"] == "M405"]
    assert item["fixes"] == [{"title": "replace with `epoch_ms(timestamp)`", "line": 3, "column": 6,
                              "end_line": 3, "end_column": 22, "replacement": "epoch_ms(timestamp)"}]


def test_no_fix_without_a_confident_guess() -> None:
    diags = check_source('on "payment.succeeded"\nname = "x"\ndata.a = data.zzzzqqq\n', "t.map")
    [diag] = [d for d in diags if d.code == "M201"]
    assert diag.fixes == ()
