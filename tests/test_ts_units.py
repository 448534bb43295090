"""`ts` in seconds is refused (M405) however it is spelled, with a fix back to milliseconds; the
milliseconds themselves, and arithmetic that ends in milliseconds, are not."""

from __future__ import annotations

import pytest

from dsl.compiler import compile_text
from dsl.diagnostics import Diagnostic, Diagnostics

RULE = 'on "payment.succeeded"\nname = "x"\n'


def diagnose(ts: str) -> list[Diagnostic]:
    diags = Diagnostics()
    compile_text(RULE + f"ts = {ts}\n", "t.map", diags)
    return diags.sorted()


@pytest.mark.parametrize(("ts", "fix"), [
    ("epoch(timestamp)", "epoch_ms(timestamp)"),
    ("epoch(data.created_at)", "epoch_ms(data.created_at)"),
    ("epoch_ms(timestamp) / 1000", "epoch_ms(timestamp)"),
    ("epoch_ms(timestamp) / 1000.0", "epoch_ms(timestamp)"),
    ("round(epoch_ms(timestamp) / 1000)", "epoch_ms(timestamp)"),
    ("round(epoch_ms(timestamp) / 1000, 0)", "epoch_ms(timestamp)"),
    ("int(epoch_ms(timestamp) / 1000)", "epoch_ms(timestamp)"),
    ("int(round(epoch_ms(timestamp) / 1000))", "epoch_ms(timestamp)"),
    ("int(epoch_ms(data.created_at) / 1000)", "epoch_ms(data.created_at)"),
])
def test_every_spelling_of_seconds_is_m405_with_a_fix(ts: str, fix: str) -> None:
    errors = [d for d in diagnose(ts) if d.is_error]
    assert [d.code for d in errors] == ["M405"], [(d.code, d.message) for d in errors]
    [diag] = errors
    assert "Inngest reads `ts` as milliseconds" in diag.message
    assert (diag.span.line, diag.span.column, diag.span.end_column) == (3, 6, 6 + len(ts))
    [replacement] = diag.fixes
    assert replacement.replacement == fix
    assert fix in (diag.help or "")


@pytest.mark.parametrize("ts", [
    "epoch_ms(timestamp)",
    "epoch_ms(data.created_at)",
    "int(epoch_ms(timestamp) / 1000) * 1000",  # whole seconds, as milliseconds again
    "epoch_ms(timestamp) + 1000",
    "int(epoch_ms(timestamp) / 10)",  # not seconds (and not milliseconds either, but no M405)
])
def test_milliseconds_are_not_m405(ts: str) -> None:
    assert "M405" not in [d.code for d in diagnose(ts)]
