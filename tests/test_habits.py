"""JavaScript habits (tests/golden/js_*.map): each is answered with one diagnostic carrying its
replacement as a fix; the JSON (what the playground applies) is golden too, and applying every fix
gives a file with no habit and no syntax error left."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import habits
from dsl.compiler import compile_text
from dsl.diagnostics import Diagnostic, Diagnostics, apply_fix
from runtime.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("js_*.map"))
UPDATE = bool(os.environ.get("PAYMAP_UPDATE_GOLDEN"))


def check(text: str) -> list[Diagnostic]:
    diags = Diagnostics()
    compile_text(text, "m.map", diags)
    return diags.sorted()


def apply_all(text: str, diags: list[Diagnostic]) -> str:
    fixes = sorted((f for d in diags for f in d.fixes), key=lambda f: (f.span.line, f.span.column), reverse=True)
    for fix in fixes:
        text = apply_fix(text, fix)
    return text


@pytest.mark.parametrize("name", CASES)
def test_json_is_golden(name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    main(["check", f"{name}.map", "--format", "json"])
    got = capsys.readouterr().out
    expected = GOLDEN / f"{name}.json"
    if UPDATE:
        expected.write_text(got, encoding="utf-8")
    assert got == expected.read_text(encoding="utf-8")
    assert all(d["fixes"] for d in json.loads(got)), "every habit carries its replacement"


@pytest.mark.parametrize("name", CASES)
def test_one_diagnostic_per_habit_and_the_fixes_leave_none(name: str) -> None:
    text = (GOLDEN / f"{name}.map").read_text(encoding="utf-8")
    diags = check(text)
    spans = [(d.span.line, d.span.column) for d in diags]
    assert len(spans) == len(set(spans)), "one diagnostic per place"
    assert all(len(d.fixes) == 1 for d in diags)
    fixed = apply_all(text, diags)
    left = check(fixed)
    assert not [d for d in left if d.code in ("M100", "M101", "M102", "M104", "M107", "M200", "M202")], \
        fixed + "\n" + "\n".join(f"{d.code} {d.span} {d.message}" for d in left)


@pytest.mark.parametrize(("line", "code", "replacement"), [
    ("data.a = data.total_amount; // the amount", "M107", ""),
    ("const total = data.total_amount", "M107", "let"),
    ('data.ok = data.status === "succeeded"', "M107", "=="),
    ("data.ok = data.tax != null && data.tax > 0", "M107", "and"),
    ("data.at = Math.floor(new Date(timestamp).getTime() / 1000)", "M107", "epoch_ms(timestamp)"),
    ("data.amount = (data.total_amount / 100).toFixed(2)", "M107", "money(data.total_amount, data.currency)"),
    ("data.e = data.customer.email.toUpperCase()", "M107", "upper(data.customer.email)"),
    ("data.n = parseInt(data.tax)", "M202", "int(data.tax)"),
    ("data.e = payload.data.customer.email", "M200", ""),
    ("data.t = total_amount", "M200", "data.total_amount"),
    ('data.x = "a" + data.payment_id', "M301", "&"),
    ("data.l = `id ${data.payment_id}`", "M107", '"id " & data.payment_id'),
])
def test_each_habit_alone_gives_one_diagnostic_with_its_fix(line: str, code: str, replacement: str) -> None:
    text = f'on "payment.succeeded"\nname = "x"\n{line}\n'
    diags = check(text)
    assert [d.code for d in diags if d.is_error][:1] == [code], [(d.code, d.message) for d in diags]
    first = next(d for d in diags if d.code == code)
    assert first.fixes[0].replacement == replacement


def test_no_cascade_after_a_habit_that_leaves_its_statement_out() -> None:
    """The statement is left out, so the rule's missing `name` or unused `let` is not reported."""
    text = ('on "payment.succeeded"\nlet e = data.customer.email\n'
            "return {\n  name: \"paid\",\n  data: { email: e }\n}\n")
    diags = check(text)
    assert [d.code for d in diags] == ["M107"]


def test_plain_mappings_are_not_taken_for_javascript() -> None:
    text = ('on "payment.succeeded"  # a comment: with a colon\nname = "dodo/paid"  # `x || y` in a comment\n'
            'data.url = "https://example.com/a;b"\ndata.o = { a: 1, "b": [1, 2] }\n'
            'data.n = if data.tax != null then "x" else "y"\ndata.m = match data.currency { "USD" => 1, _ => 2 }\n')
    assert check(text) == []


JS_BITS = ["//", "/*", "*/", ";", "`", "${", "}", "\u201c", "\u201d", "===", "!==", "&&", "||", "!", "?.", "const ",
           "return {", "if (", ")", "(", "{", "Math.floor(", "new Date(", ".getTime()", ".toFixed(2)", "payload.",
           "webhook.eventType", "parseInt(", "name: ", "data.total_amount", '"a"', " + ", "\n", " ", "on ", "x"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(JS_BITS), max_size=40))
def test_fixes_always_point_inside_the_file(parts: list[str]) -> None:
    text = 'on "payment.succeeded"\nname = "x"\n' + "".join(parts) + "\n"
    lines = text.split("\n")
    for d in check(text):
        for fix in d.fixes:
            sp = fix.span
            assert 1 <= sp.line <= sp.end_line <= len(lines)
            assert 1 <= sp.column <= len(lines[sp.line - 1]) + 1
            assert 1 <= sp.end_column <= len(lines[sp.end_line - 1]) + 1
            apply_fix(text, fix)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([*JS_BITS, "} else {", "else", "return", "=", "\n  "]) | st.text(max_size=6),
                max_size=50))
def test_the_recognisers_never_raise(parts: list[str]) -> None:
    """Called directly: the parser's safety net around them would hide a bug from the other tests."""
    text = "".join(parts)
    standin, skipped = habits.scan(text, "m.map", Diagnostics())
    assert standin.count("\n") == text.count("\n")  # the parser's lines stay the file's lines
    assert all(1 <= line <= text.count("\n") + 1 for line in skipped)


def test_an_if_else_block_becomes_one_conditional_value_per_field() -> None:
    text = ('on "payment.succeeded"\nname = "x"\nif (payload.data.status === "succeeded") {\n  data.ok = true;\n'
            '  data.label = "paid";\n} else {\n  data.ok = false;\n}\n')
    (d,) = check(text)
    assert d.fixes[0].replacement == ('data.ok = if data.status == "succeeded" then true else false\n'
                                      'data.label = if data.status == "succeeded" then "paid" else null')
    assert check(apply_all(text, [d])) == []


SEED = Path(__file__).resolve().parent / "seed" / "js"


@pytest.mark.parametrize("name", ["payment", "subscription", "dispute"])
def test_a_pasted_dashboard_handler_is_one_diagnostic_whose_fix_is_the_rules(name: str) -> None:
    """The seed's JavaScript transformations pasted into a .map file: one diagnostic (no cascade), and
    its fix is a mapping that checks cleanly and gives the seed's events with `ts` in milliseconds."""
    text = (SEED / f"{name}.js").read_text(encoding="utf-8")
    (d,) = check(text)
    assert d.code == "M107" and d.message.startswith("this is a JavaScript function")
    fixed = apply_all(text, [d])
    assert [x for x in check(fixed) if x.is_error] == [], fixed
    assert "ts = epoch_ms(timestamp)" in fixed and "webhook" not in fixed and "toFixed" not in fixed
