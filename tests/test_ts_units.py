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


_MS_HELP = "Inngest reads `ts` as milliseconds since 1970; use `epoch_ms(timestamp)`"
_SECONDS_HELP = "this looks like seconds: multiply by 1000, or use `epoch_ms(timestamp)`"


@pytest.mark.parametrize(("ts", "code", "message", "help", "label"), [
    ("epoch(timestamp)", "M405", "`epoch(...)` gives seconds, but Inngest reads `ts` as milliseconds",
     "use `epoch_ms(timestamp)`", "seconds"),
    ("epoch_ms(timestamp) / 1000", "M405", "this turns milliseconds into seconds, but Inngest reads `ts` as "
     "milliseconds", "use the milliseconds as they are: `ts = epoch_ms(timestamp)`", "seconds"),
    ("1", "M406", "`ts = 1` is before 1980 when read as milliseconds", _MS_HELP, None),
    ("999999999", "M406", "`ts = 999999999` is before 1980 when read as milliseconds", _MS_HELP, None),
    ("1000000000", "M406", "`ts = 1000000000` is before 1980 when read as milliseconds", _SECONDS_HELP, None),
    ("1754295184", "M406", "`ts = 1754295184` is before 1980 when read as milliseconds", _SECONDS_HELP, None),
    ("9999999999", "M406", "`ts = 9999999999` is before 1980 when read as milliseconds", _SECONDS_HELP, None),
    ("10000000000", "M406", "`ts = 10000000000` is before 1980 when read as milliseconds", _MS_HELP, None),
    ("315532799999", "M406", "`ts = 315532799999` is before 1980 when read as milliseconds", _MS_HELP, None),
    ("4102444800001", "M406", "`ts = 4102444800001` is after 2100 when read as milliseconds", _MS_HELP, None),
    ('"2025-08-04T08:13:04Z"', "M406", "`ts` must be an integer of milliseconds, but this is text",
     "use `epoch_ms(timestamp)`", None),
    ("data.card_last_four", "M406", "`ts` must be an integer of milliseconds, but this is text",
     "use `epoch_ms(timestamp)`", None),
    ("1.5", "M406", "`ts` must be an integer of milliseconds, but this is a decimal",
     "`ts` must be whole milliseconds", None),
    ("int(epoch_ms(timestamp) / 10) / 1000", "M406", "`ts` must be an integer of milliseconds, but this is a "
     "decimal", "`ts` must be whole milliseconds", None),
    ("int(data.tax)", "M603", "`data.tax` may be missing or null: `ts` is then left out, and Inngest uses the "
     "time it receives the event", "give a default with `data.tax ?? ...`, or fail the event loudly with "
     "`required(data.tax)`", "`data.tax` may be missing or null"),
])
def test_each_ts_diagnostic_in_full(ts: str, code: str, message: str, help: str, label: str | None) -> None:
    [diag] = diagnose(ts)
    assert (diag.code, diag.message, diag.help, diag.label) == (code, message, help, label)
    if code == "M405":
        [fix] = diag.fixes
        assert (fix.title, fix.span) == ("replace with `epoch_ms(timestamp)`", diag.span)
    else:
        assert diag.fixes == ()


@pytest.mark.parametrize("ts", ["0", "315532800000", "4102444800000", "data.settlement_amount"])
def test_milliseconds_inngest_accepts_are_clean(ts: str) -> None:
    """The limits are Inngest's (runtime/relay/contract.py): 1980-01-01 and 2100-01-01 themselves pass."""
    assert diagnose(ts) == []
