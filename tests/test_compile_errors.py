"""Compile errors point at the right line and column and say what to do; the compiler never raises."""

from __future__ import annotations

import pytest

from dsl.compiler import compile_paths, compile_text
from dsl.diagnostics import Diagnostic, Diagnostics
from dsl.render import render_text
from dsl.schema import EnvelopeSchema
from dsl.source import SourceFile
from runtime import CompileError, load_text


def diagnose(text: str) -> list[Diagnostic]:
    diags = Diagnostics()
    compile_text(text, "m.map", diags, EnvelopeSchema())
    return diags.sorted()


def only(text: str) -> Diagnostic:
    ds = [d for d in diagnose(text) if d.is_error]
    assert len(ds) == 1, [(d.code, d.message) for d in ds]
    return ds[0]


RULE = 'on "t.x"\nname = "n"\n'


@pytest.mark.parametrize(("text", "code", "line", "col", "fragment"), [
    (RULE + "data.a = (1 + \n", "M100", 3, 10, "this `(` is never closed"),
    (RULE + "data.a = 1 + \n", "M100", 3, 14, "unexpected end of the line; expected an expression"),
    (RULE + "data.a = \"abc\n", "M102", 3, 10, "not closed"),
    (RULE + "data.a = data.b $ 2\n", "M101", 3, 17, "unexpected character `$`"),
    (RULE + "data.a == 1\n", "M100", 3, 9, "unexpected `=`"),
    (RULE + 'data.a = "\\q"\n', "M102", 3, 10, "unknown escape"),
    ('name = "x"\n', "M104", 1, 1, "not inside a rule"),
    (RULE + "data.a = lowr(data.b)\n", "M202", 3, 10, "unknown function `lowr`"),
    (RULE + "data.a = cents(1, 2)\n", "M203", 3, 10, "takes 1 argument"),
    (RULE + "data.a = dat.x\n", "M200", 3, 10, "unknown name `dat`"),
    (RULE + "data.a = 1\ndata.a = 2\n", "M400", 4, 1, "already assigned on line 3"),
    (RULE + "data = {}\ndata.a = 2\n", "M401", 4, 1, "overlaps `data`"),
    (RULE + "event.a = 1\n", "M402", 3, 1, "not a field of an Inngest event"),
    ('on "t.x"\ndata.a = 1\n', "M403", 1, 1, "does not set the event `name`"),
    ('on "t.x"\nname = "inngest/x"\n', "M404", 2, 8, "reserved"),
    ('on "t.x"\nname = ""\n', "M404", 2, 8, "empty"),
    (RULE + "ts = epoch(timestamp)\n", "M405", 3, 6, "Inngest reads `ts` as milliseconds"),
    (RULE + "ts = timestamp\n", "M406", 3, 6, "integer of milliseconds"),
    (RULE + "ts = 1754295184\n", "M406", 3, 6, "before 1980"),
    (RULE + "data = 3\n", "M407", 3, 8, "must be an object"),
    (RULE + "v = 1\n", "M408", 3, 5, "must be a string"),
    (RULE + 'data.a = if "x" then 1 else 2\n', "M302", 3, 13, "must be true or false"),
    (RULE + "data.a = 1 and true\n", "M302", 3, 10, "must be true or false"),
    (RULE + 'data.a = match data.s { "a" => 1 }\n', "M303", 3, 10, "no default arm"),
    (RULE + 'data.a = match data.s { data.t => 1, _ => 2 }\n', "M304", 3, 25, "must be a literal"),
    (RULE + "data.a = cents(true)\n", "M300", 3, 16, "expects"),
    (RULE + 'data.a = "a" + 1\n', "M301", 3, 10, "expects numbers (to join text use `&`)"),
    (RULE + 'data.a = round(1.5, 0, "bankers")\n', "M211", 3, 24, "unknown rounding mode"),
    (RULE + 'data.a = query(data, "a[?")\n', "M210", 3, 22, "invalid JMESPath"),
    (RULE + "data.a = map(data.l, 1)\n", "M205", 3, 22, "needs a function of each item"),
    (RULE + "data.a = x -> 1\n", "M100", 3, 12, "unexpected `-`"),
    (RULE + "let a = 1\nlet a = 2\ndata.x = a\n", "M204", 4, 5, "already defined"),
    ('on "t.[x]"\nname = "n"\n', "M501", 1, 4, "not supported"),
])
def test_error_location_and_message(text: str, code: str, line: int, col: int, fragment: str) -> None:
    d = only(text)
    assert (d.code, d.span.line, d.span.column) == (code, line, col), (d.code, d.message, str(d.span))
    assert fragment in d.message


@pytest.mark.parametrize(("text", "help_fragment"), [
    (RULE + "data.a = lowr(data.b)\n", "did you mean `lower`?"),
    (RULE + "data.a = dta.x\n", "did you mean `data`?"),
    (RULE + "ts = epoch(timestamp)\n", "use `epoch_ms(timestamp)`"),
    (RULE + "daat.x = 1\n", "did you mean `data`?"),
    (RULE + "data.a = 1 || 2\n", "use `or`"),
    (RULE + 'drop if data.s = "x"\n', "write `==`"),
    (RULE + 'data.a = round(1.5, 0, "half-up")\n', 'did you mean "half_up"?'),
    (RULE + "data.a = now()\n", "mappings are pure"),
    (RULE + 'data.a = concat("a", "b")\n', "join text with `&`"),
])
def test_help_says_what_to_type(text: str, help_fragment: str) -> None:
    d = only(text)
    assert d.help is not None and help_fragment in d.help, d.help


@pytest.mark.parametrize(("text", "code"), [
    (RULE + "let unused = 1\n", "M600"),
    (RULE + "data.a = 1 ?? 2\n", "M601"),
    (RULE + 'data.a = match data.s { _ => 1, "a" => 2 }\n', "M602"),
    (RULE + 'data.a = match data.s { "a" => 1, "a" => 2, _ => 3 }\n', "M602"),
    ('on "t.x"\n', "M503"),
    ("# nothing here\n", "M110"),
])
def test_warnings(text: str, code: str) -> None:
    ds = diagnose(text)
    assert [d.code for d in ds] == [code], [(d.code, d.message) for d in ds]
    assert not ds[0].is_error


def test_several_syntax_errors_are_all_reported() -> None:
    ds = diagnose(RULE + "data.a = (\ndata.b = 1\ndata.c = ]\n")
    assert [(d.code, d.span.line) for d in ds] == [("M100", 3), ("M100", 5)]


def test_rendered_diagnostic_has_caret_under_span() -> None:
    ds = diagnose(RULE + "data.amount = cents(data.total_amount & 1)\n")
    text = render_text(ds, {"m.map": SourceFile(
        "m.map", RULE + "data.amount = cents(data.total_amount & 1)\n")})
    assert text.splitlines()[:6] == [
        "error[M301]: `&` expects text (convert with `string(...)`), but this is an integer",
        " --> m.map:3:41",
        "  |",
        "3 | data.amount = cents(data.total_amount & 1)",
        "  |                                         ^",
        "  = more: paymap explain M301",
    ]


def test_load_raises_compile_error_with_every_error() -> None:
    with pytest.raises(CompileError) as err:
        load_text(RULE + "data.a = lowr(1)\ndata.b = upr(2)\n", schema=EnvelopeSchema())
    assert len(err.value.diagnostics) == 2
    assert "did you mean `lower`?" in err.value.rendered and "2 errors" in err.value.rendered


@pytest.mark.parametrize("text", [
    "", "\n\n", "on", 'on "', "((((", "on \"a\"\nname = " + "(" * 500 + "1" + ")" * 500,
    "on \"a\"\nname = \"x\"\ndata.a = " + " + ".join(["1"] * 3000) + "\n",
    "on \"a\"\nname = \"x\"\ndata.a = " + "-" * 2000 + "1\n",
    "\x00\x01\x02", "on \"a\"\r\nname = \"x\"\r\n", "on 'a'\nname = '\\u{110000}'\n", "\ufeffon \"a\"\n",
])
def test_never_raises(text: str) -> None:
    diagnose(text)  # must return, whatever the input


def test_invalid_utf8_and_missing_paths(tmp_path: object) -> None:
    from pathlib import Path

    d = Path(str(tmp_path))
    (d / "bad.map").write_bytes(b'on "a"\nname = "\xff"\n')
    result = compile_paths([d / "bad.map", d / "nope.map"], EnvelopeSchema())
    codes = sorted(x.code for x in result.diagnostics)
    assert codes == ["M103", "M106"]
    m103 = next(x for x in result.diagnostics if x.code == "M103")
    assert (m103.span.line, m103.span.column) == (2, 9)


def test_misspelt_pattern_still_checks_the_rule_against_what_was_meant() -> None:
    diags = Diagnostics()
    compile_text('on "payment.succeded"\nname = "p"\ndata.a = cents(data.totl_amount)\n', "m.map", diags)
    found = [(d.code, d.help) for d in diags.sorted()]
    assert found == [("M500", 'did you mean "payment.succeeded"?'),
                     ("M201", "did you mean `data.total_amount`?")]


@pytest.mark.parametrize(("pattern", "help", "checked_against"), [
    ("payment.success", 'did you mean "payment.succeeded"?', "payment.succeeded"),  # not payout.success
    ("paymnt.*", 'did you mean "payment.*"?', "payment.*"),
    # too close to call (and opposite meanings): the body is not checked against either
    ("subscription.pause", 'did you mean "subscription.paused" or "subscription.unpaused"?', None),
])
def test_on_pattern_suggestions_go_by_dotted_segment(pattern: str, help: str, checked_against: str | None) -> None:
    """The body is checked against the guessed type only when the guess is unambiguous."""
    diags = Diagnostics()
    compile_text(f'on "{pattern}"\nname = "p"\ndata.a = data.totl_amount\n', "m.map", diags)
    found = [(d.code, d.help) for d in diags.sorted()]
    assert found[0] == ("M500", help)
    if checked_against:
        assert found[1:] == [("M201", "did you mean `data.total_amount`?")]
    else:
        assert found[1:] == []


def test_a_syntax_error_inside_brackets_resynchronises_at_the_closing_bracket() -> None:
    """One root cause, one diagnostic: the other lines of the bracketed statement are skipped."""
    text = (RULE + "data.o = {\n  a: 1,\n  b: 2 3,\n  c: 3\n}\ndata.p = money(data.total_amount data.currency)\n"
            "data.q = [1, 2\ndata.s = 3\ndata.t = [\n  1,\n  2\n")
    got = [(d.code, d.span.line, d.span.column, d.message) for d in diagnose(text)]
    assert got == [
        ("M100", 5, 8, "unexpected `3`; expected `,` or `}`"),
        ("M100", 8, 34, "unexpected `data`; expected `)` or `,`"),
        ("M100", 9, 10, "this `[` is never closed"),
        ("M100", 11, 10, "this `[` is never closed"),
    ]
