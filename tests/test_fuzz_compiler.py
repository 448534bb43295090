"""The compiler is total: any input -- random text, random bytes, invalid UTF-8, mutations of every
.map file in the repository, deep nesting, huge files, random input schemas -- gives
diagnostics, never an exception. Hypothesis runs are bounded so the suite stays fast."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.codes import CODES
from dsl.compiler import compile_paths, compile_text
from dsl.diagnostics import Diagnostic, Diagnostics
from dsl.render import render_github, render_json, render_text
from dsl.schema import SchemaLoadError, from_json_schema, from_samples
from dsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
REPO_MAPS = sorted(p for d in ("mappings", "tests", "docs") for p in (ROOT / d).rglob("*.map")
                   if "node_modules" not in p.parts)
TEXTS = [p.read_text(encoding="utf-8") for p in REPO_MAPS]
BOUNDED = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# pieces of the language, so mutations reach past the parser into the checker
TOKENS = ["on ", "also on ", "let ", "drop", " if ", " then ", " else ", "match ", "input schema ", "=", "==",
          "??", "&", "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}", "[*]", ",", ":", "=>", "->", ".",
          '"', "'", "\\", "#", "\n", "\t", "data.", "data.customer.", "type", "timestamp", "name", "ts", "id",
          "money(", "cents(", "epoch_ms(", "map(", "filter(", "query(", "required(", "_", "true", "null",
          "-1", "1.5", '"payment.*"', '"x"', "\ufffd", "\x00", "é", "💸",
          # JavaScript habits (dsl/habits.py), so the recognisers are fuzzed too
          "//", "/*", "*/", ";", "`", "${", "}`", "\u201c", "\u201d", "===", "!==", "&&", "||", "!", "?.", "const ",
          "return {", "if (", ") {", "Math.floor(", "new Date(", ").getTime()", ".toFixed(2)", ".trim()",
          "payload.", "webhook.payload.", "webhook.eventType", "parseInt(", "JSON.stringify(", "name: "]


def assert_well_formed(diags: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
    for d in diags:
        assert d.code in CODES
        assert d.span.line >= 1 and d.span.column >= 1
        assert (d.span.end_line, d.span.end_column) >= (d.span.line, d.span.column) or d.span.end_line > d.span.line
        assert d.message
    # every output format renders whatever was found
    render_text(diags, sources)
    render_text(diags, sources, color=True)
    json.loads(render_json(diags))
    for out in (render_text(diags, sources), render_github(diags)):
        assert out.isprintable() or all(line.isprintable() for line in out.split("\n")), "raw control characters"
    for line in render_github(diags).split("\n") if diags else []:
        assert line.startswith(("::error ", "::warning "))


def check_text(text: str) -> list[Diagnostic]:
    diags = Diagnostics()
    compiled = compile_text(text, "fuzz.map", diags)
    items = diags.sorted()
    assert_well_formed(items, {"fuzz.map": compiled.source})
    return items


@BOUNDED
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    check_text(text)


@BOUNDED
@given(st.lists(st.sampled_from(TOKENS) | st.text(string.printable, max_size=3), max_size=60))
def test_random_token_soup(parts: list[str]) -> None:
    check_text("".join(parts))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_random_bytes_including_invalid_utf8(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "b.map"
    path.write_bytes(data)
    result = compile_paths([path])
    assert_well_formed(result.diagnostics, result.sources)


@st.composite
def mutated(draw: Any) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 5))
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 40)))
        if kind == 0:  # delete a slice
            text = text[:i] + text[j:]
        elif kind == 1:  # insert a token
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif kind == 2:  # replace a slice with random text
            text = text[:i] + draw(st.text(max_size=5)) + text[j:]
        elif kind == 3:  # truncate
            text = text[:i]
        elif kind == 4:  # duplicate a line
            lines = text.split("\n")
            k = draw(st.integers(0, len(lines) - 1))
            lines.insert(k, lines[k])
            text = "\n".join(lines)
        else:  # swap two lines
            lines = text.split("\n")
            a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


def test_the_repository_has_maps_to_mutate() -> None:
    assert len(TEXTS) >= 20
    assert any(p.parent.name == "mappings" for p in REPO_MAPS)


@BOUNDED
@given(mutated())
def test_mutations_of_every_repository_map(text: str) -> None:
    check_text(text)


# --- deep and huge ---------------------------------------------------------------------------------

RULE = 'on "payment.succeeded"\nname = "x"\n'


def codes(text: str) -> set[str]:
    return {d.code for d in check_text(text)}


def test_deep_brackets() -> None:
    for open_, close in (("(", ")"), ("[", "]"), ("{a: ", "}")):
        assert "M105" in codes(RULE + "data.a = " + open_ * 5000 + "1" + close * 5000 + "\n")
        assert "M105" in codes(RULE + "data.a = " + open_ * 5000 + "\n")  # and never closed


def test_deep_without_brackets() -> None:
    for text in ("- " * 20000 + "1", "not " * 20000 + "true", " + ".join(["1"] * 20000),
                 " & ".join(['"a"'] * 20000), " ?? ".join(["data.tax"] * 20000),
                 "data" + ".a" * 20000, "if true then " * 5000 + "1" + " else 2" * 5000,
                 "data.tax" + " == data.tax" * 5000):
        check_text(RULE + "data.a = " + text + "\n")  # M105 or a clean result, never an exception


def test_huge_file_is_refused_before_reading() -> None:
    from dsl.parser import MAX_SOURCE_BYTES

    assert codes(RULE + "# " + "x" * MAX_SOURCE_BYTES + "\n") == {"M105"}


def test_limits_are_reported_at_the_construct_in_plain_words() -> None:
    """Where the compiler meets one of its own limits, the diagnostic names the construct, at its
    span, and never shows a Python exception's name or message."""
    cases = {
        "9" * 5000: "this number has 5,000 digits; a number may have at most 4,300",
        " & ".join(['"a"'] * 20000): "nested too deeply",
        "- " * 20000 + "1": "nested too deeply",
    }
    for text, words in cases.items():
        diags = Diagnostics()
        compile_text(RULE + "let ok = 1\ndata.a = " + text + "\n", "m.map", diags)
        found = [d for d in diags.items if d.code == "M105"]
        assert len(found) == 1 and words in found[0].message, [d.message for d in diags.items]
        assert found[0].span.line == 4  # the statement, not 1:1
        for d in diags.items:
            assert not re.search(r"Error\b|Exception|Traceback|\(\w+Error\)", d.message + (d.help or ""))


def test_statements_deeper_than_the_parser_reads() -> None:
    """The AST is built without recursion, so the parser's depth limit is its own: a statement
    nested deeper is reported at its span and left out (the passes after the parser recurse); a
    `const` that deep leaves the file unread. A `[*]` chain counts like any other nesting."""
    from dsl.parser import MAX_EXPR_DEPTH, parse

    deep = MAX_EXPR_DEPTH + 1
    for text in ("- " * deep + "1", " + ".join(["1"] * (deep + 1)), "data.product_cart" + "[*]" * deep + ".a",
                 "[" + "not " * deep + "true]"):
        diags = Diagnostics()
        module = parse(RULE + "let ok = 1\ndata.a = " + text + "\n", "m.map", diags)
        assert [(d.code, d.span.line, d.message) for d in diags.items] == [
            ("M105", 4, "this statement is nested too deeply to read")]
        assert [type(s).__name__ for s in module.rules[0].body] == ["Assign", "Let"]
    ok = Diagnostics()
    module = parse(RULE + "data.a = " + "- " * (MAX_EXPR_DEPTH - 1) + "1\n", "m.map", ok)
    assert not ok.items and len(module.rules[0].body) == 2  # read; the checker says what it cannot walk
    diags = Diagnostics()
    module = parse("const c = " + "- " * deep + "1\n" + RULE, "m.map", diags)
    assert [(d.code, d.span.line, d.message) for d in diags.items] == [
        ("M105", 1, "mapping is too deeply nested to read")] and not module.rules


def test_shared_lines_too_deep_to_copy_are_reported(tmp_path: Path) -> None:
    """A constant or group statement the parser reads but copying it into a rule cannot (Python's
    recursion): M105 at it, never an exception."""
    deep = "- " * 400 + "1"
    cases = {f"const c = {deep}\n" + RULE + "data.a = c\n": (1, "the constant `c` is nested too deeply to use"),
             f"group g\ndata.b = {deep}\n" + RULE + "use g\n": (2, "this statement is nested too deeply to share")}
    for text, (line, message) in cases.items():
        (tmp_path / "m.map").write_text(text)
        found = [(d.span.line, d.message) for d in compile_paths([tmp_path]).diagnostics if d.code == "M105"]
        assert found == [(line, message)]


def test_many_rules_and_lines() -> None:
    text = "".join(f'on "payment.succeeded"\nname = "p{i}"\ndata.a = data.total_amount + {i}\n\n' for i in range(300))
    assert codes(text) == set()  # (equal precedence is a whole-set check: compile_paths)
    text = RULE + "".join(f"data.f{i} = money(data.total_amount, data.currency)\n" for i in range(3000))
    assert codes(text) == set()


def test_control_characters_and_odd_line_ends() -> None:
    for text in ("\r\n".join(RULE.split("\n")), RULE.replace("\n", "\r"), "\x00" * 10, "\ufeff" + RULE,
                 RULE + "data.a = '\x07'\n", "\u2028".join(RULE.split("\n"))):
        check_text(text)


# --- declared input schemas ------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
SCHEMA_KEYS = ["type", "properties", "items", "required", "oneOf", "anyOf", "allOf", "$ref", "enum", "const",
               "format", "additionalProperties", "nullable", "$defs"]
SCHEMA = st.recursive(
    st.sampled_from([{"type": t} for t in ("string", "integer", "number", "boolean", "null", "object", "array")])
    | st.builds(lambda r: {"$ref": r}, st.sampled_from(["#", "#/$defs/a", "#/nope", "x.json", "#/properties"])),
    lambda inner: st.dictionaries(st.sampled_from(SCHEMA_KEYS),
                                  inner | st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3) | JSON,
                                  max_size=4),
    max_leaves=25,
)


@BOUNDED
@given(SCHEMA, st.lists(st.sampled_from(["data", "type", "x", "a", 0, None]), max_size=4))
def test_random_json_schemas(doc: Any, path: list[Any]) -> None:
    try:
        schema = from_json_schema(doc, "fuzz")
    except SchemaLoadError:
        return
    types = schema.event_types(["*"])
    for root in sorted(schema.roots())[:3]:
        schema.path_type(types, root, path, [], Diagnostics())
        schema.path_info(types, root, path)


@BOUNDED
@given(st.lists(JSON, min_size=1, max_size=5), st.lists(st.sampled_from(["data", "type", "x", 0, None]), max_size=4))
def test_random_sample_bodies(bodies: list[Any], path: list[Any]) -> None:
    schema = from_samples(bodies, "fuzz")
    for root in sorted(schema.roots())[:3]:
        schema.path_type(schema.event_types(["*"]), root, path, [], Diagnostics())
