"""``paymap fmt``: the canonical layout, comments, errors, the command, and property tests.

Properties, for every ``.map`` in the repository and for generated ones: formatting twice equals
formatting once, every comment survives, and the formatted mapping produces the same events (or the
same error) as the original on every shipped sample.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dsl.formatter import format_source, normalize_string
from runtime import CompileError, MappingError, load
from runtime.cli import main
from runtime.mappingset import MappingSet, load_text

ROOT = Path(__file__).resolve().parent.parent


def fmt(text: str) -> str:
    result = format_source(text, "t.map")
    assert result.text is not None, result.diagnostics
    return result.text


def samples() -> list[dict[str, Any]]:
    root = resources.files("runtime.samples") / "dodo"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.iterdir(), key=lambda p: p.name)
            if p.name.endswith(".json")]


SAMPLES = samples()


def outcomes(ms: MappingSet) -> list[Any]:
    out: list[Any] = []
    for body in SAMPLES:
        try:
            out.append(ms.apply(body))
        except MappingError as exc:
            out.append(("error", exc.message, exc.field))  # lines move: blank lines change
    return out


def comments_of(text: str) -> list[str]:
    return re.findall(r"#[^\n]*", re.sub(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', '""', text))


# --- layout --------------------------------------------------------------------------------------


def test_canonical_layout() -> None:
    src = textwrap.dedent("""\


        # header



        on 'payment.succeeded','payment.failed'   # on
        name='payment.succeeded'
        data.amount=money( data.total_amount,data.currency )#c1
        let   c   =   data.customer
        # section
        data.items = [
          1,2,  # in list
              # own line
          3
          ]
        data.tier = match data.status {"a"=>1 , _=>'it\\'s "x"'}
        data.y = data.product_cart [ * ] . product_id
        data.z = {id:data.payment_id,"full name":c.name, e: {}, l: [ ]}
        data.w = f( p->p.q ) ?? -1
        drop if data.status!="succeeded"   # why
        also on "*"
        name = "analytics" # t
        user.email = c.email ?? "x"   # t2
        """)
    assert fmt(src) == textwrap.dedent("""\
        # header

        on "payment.succeeded", "payment.failed"  # on

        name        = "payment.succeeded"
        data.amount = money(data.total_amount, data.currency)  #c1
        let c       = data.customer
        # section
        data.items = [
            1, 2,  # in list
            # own line
            3
        ]
        data.tier  = match data.status { "a" => 1, _ => "it's \\"x\\"" }
        data.y     = data.product_cart[*].product_id
        data.z     = {id: data.payment_id, "full name": c.name, e: {}, l: []}
        data.w     = f(p -> p.q) ?? -1
        drop if data.status != "succeeded"  # why


        also on "*"

        name       = "analytics"     # t
        user.email = c.email ?? "x"  # t2
        """)


def test_blank_lines_and_rules() -> None:
    src = 'on "a"\nname = "a"\n\n\n\nts = 1\n# about b\non "b"\n\n\n\nname = "b"\n\n\n'
    assert fmt(src) == 'on "a"\n\nname = "a"\n\nts = 1\n\n\n# about b\non "b"\n\nname = "b"\n'


def test_continuations_and_nested_brackets_are_indented() -> None:
    src = 'on "a"\nname = "a" & \\\n        "b"\ndata.m = f(\n[1,\n{a:\n2}\n]\n)\n'
    assert fmt(src) == ('on "a"\n\nname   = "a" & \\\n    "b"\n'
                        'data.m = f(\n    [1,\n        {a:\n            2}\n    ]\n)\n')


def test_strings_keep_their_text() -> None:
    assert normalize_string("'a\"b'") == '"a\\"b"'
    assert normalize_string("'it\\'s'") == '"it\'s"'
    assert normalize_string('"it\\\'s"') == '"it\'s"'
    assert normalize_string("'\\n\\u00e9\\\\'") == '"\\n\\u00e9\\\\"'
    assert normalize_string('"plain"') == '"plain"'


def test_crlf_bom_and_empty() -> None:
    assert fmt('\ufeffon "a"\r\nname = "a"   # c\r\n') == 'on "a"\n\nname = "a"  # c\n'
    assert fmt("") == ""
    assert fmt("\n\n# only a comment\n\n\n") == "# only a comment\n"


def test_syntax_errors_are_reported_not_formatted() -> None:
    result = format_source('on "a"\nname = = 1\ndata.x = "open\n', "bad.map")
    assert result.text is None
    assert [d.span.line for d in result.diagnostics] == [2, 3]
    assert "this string is not closed" in result.diagnostics[1].message


def test_checker_errors_do_not_prevent_formatting() -> None:
    assert fmt('on "a"\nname=nosuch(1)\n') == 'on "a"\n\nname = nosuch(1)\n'


# --- the command ---------------------------------------------------------------------------------


UGLY = 'on "a"\nname="a"   # keep me\n'
PRETTY = 'on "a"\n\nname = "a"  # keep me\n'


def test_cli_rewrites_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sub").mkdir()
    ugly = tmp_path / "sub" / "a.map"
    ugly.write_text(UGLY)
    pretty = tmp_path / "b.map"
    pretty.write_text(PRETTY)
    assert main(["fmt", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert f"reformatted {ugly}" in out and "1 file reformatted, 1 unchanged" in err
    assert ugly.read_text() == PRETTY
    assert main(["fmt", "--check", str(tmp_path)]) == 0


def test_cli_check_and_diff_change_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ugly = tmp_path / "a.map"
    ugly.write_text(UGLY)
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert f"would reformat {ugly}" in out and "1 file would be reformatted" in err
    assert main(["fmt", "--diff", str(ugly)]) == 0
    out, _ = capsys.readouterr()
    assert f"--- {ugly}\n+++ {ugly} (formatted)\n" in out
    assert '-name="a"   # keep me\n+\n+name = "a"  # keep me\n' in out
    assert main(["fmt", "--check", "--diff", str(ugly)]) == 1
    assert ugly.read_text() == UGLY


def test_cli_syntax_errors_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.map"
    bad.write_text('on "a"\nname = = 1\n')
    assert main(["fmt", str(bad)]) == 1
    _, err = capsys.readouterr()
    assert "error[M100]" in err and f"{bad}:2:" in err and "has syntax errors; not formatted" in err
    assert bad.read_text() == 'on "a"\nname = = 1\n'
    assert main(["fmt", str(tmp_path / "nope")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["fmt", str(tmp_path / "empty")]) == 2
    latin = tmp_path / "latin.map"
    latin.write_bytes(b'on "a"\nname = "\xe9"\n')
    assert main(["fmt", str(latin)]) == 1
    assert "not valid UTF-8" in capsys.readouterr().err


def test_cli_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    class Stdin:
        buffer = io.BytesIO(UGLY.encode())

    monkeypatch.setattr("sys.stdin", Stdin)
    assert main(["fmt", "-"]) == 0
    assert capsys.readouterr().out == PRETTY


def test_cli_skips_node_modules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "lib.js.map").write_text('{"version": 3}')
    (tmp_path / "a.map").write_text(PRETTY)
    assert main(["fmt", "--check", str(tmp_path)]) == 0


# --- properties over the repository's mappings ------------------------------------------------------


REPO_MAPS = sorted(p for d in ("mappings", "tests") for p in (ROOT / d).rglob("*.map"))


@pytest.mark.parametrize("path", REPO_MAPS, ids=[str(p.relative_to(ROOT)) for p in REPO_MAPS])
def test_repository_maps_format_idempotently_with_the_same_comments(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    result = format_source(text, str(path))
    if result.text is None:  # a deliberately broken fixture: it must say why
        assert result.diagnostics
        return
    assert fmt(result.text) == result.text
    assert comments_of(result.text) == [c.rstrip() for c in comments_of(text)]


@pytest.mark.parametrize("path", REPO_MAPS, ids=[str(p.relative_to(ROOT)) for p in REPO_MAPS])
def test_each_formatted_repository_map_gives_the_same_events_on_every_sample(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        before = load_text(text, str(path))
    except CompileError:  # e.g. the literal seed translations, kept to show their errors
        return
    assert outcomes(before) == outcomes(load_text(fmt(text), str(path)))


def test_the_formatted_mapping_library_gives_the_same_events_on_every_sample(tmp_path: Path) -> None:
    """As a whole directory too: routing between files is unchanged."""
    for d in ("mappings", "tests/relay/mappings"):
        src = ROOT / d
        dst = tmp_path / d
        dst.mkdir(parents=True)
        for p in sorted(src.glob("*.map")):
            (dst / p.name).write_text(fmt(p.read_text(encoding="utf-8")), encoding="utf-8")
        assert outcomes(load(str(src))) == outcomes(load(str(dst)))


# --- properties over generated mappings --------------------------------------------------------------

_STR_PATHS = ["type", "timestamp", "business_id", "data.currency", "data.customer.email", "data.status",
              "data.payment_id", "data.customer.name", 'data."payment_id"']
_NUM_PATHS = ["data.total_amount", "data.tax", "data.retry_attempt", "data.settlement_amount"]
_FIELDS = ["a", "b", "amount", "email", "tier", "on", "if", "weird key"]


def _string_lit(draw: Any) -> str:
    text = draw(st.text(alphabet="ab x'\"\\é", max_size=5))
    quote = draw(st.sampled_from(["'", '"']))
    body = text.replace("\\", "\\\\").replace(quote, "\\" + quote)
    if draw(st.booleans()):
        body = body.replace("é", "\\u00e9")
    return quote + body + quote


@st.composite
def _expr(draw: Any, depth: int = 0) -> list[str]:
    """An expression as a list of tokens."""
    leaf = depth >= 3 or draw(st.integers(0, 3)) == 0
    if leaf:
        kind = draw(st.sampled_from(["str", "num", "path", "npath", "lit"]))
        if kind == "str":
            return [_string_lit(draw)]
        if kind == "num":
            return [draw(st.sampled_from(["0", "7", "12.50", "100000"]))]
        if kind == "lit":
            return [draw(st.sampled_from(["true", "false", "null"]))]
        path = draw(st.sampled_from(_STR_PATHS if kind == "path" else _NUM_PATHS))
        return path.replace(".", " . ").split() if draw(st.booleans()) else [path]
    def sub() -> list[str]:
        return list(draw(_expr(depth + 1)))

    def op() -> list[str]:  # an operand: parenthesised unless a single token
        toks = sub()
        return toks if len(toks) == 1 else ["(", *toks, ")"]

    form = draw(st.sampled_from(["coalesce", "concat", "arith", "cmp", "logic", "not", "neg", "if", "match",
                                 "cond_match", "list", "object", "call", "lambda", "paren", "index"]))
    if form == "coalesce":
        return [*op(), "??", *op()]
    if form == "concat":
        return ["string", "(", *sub(), ")", "&", _string_lit(draw)]
    if form == "arith":
        op = draw(st.sampled_from(["+", "-", "*", "/", "%"]))
        return ["(", draw(st.sampled_from(_NUM_PATHS)), "??", "1", ")", op, draw(st.sampled_from(["2", "3.5"]))]
    if form == "cmp":
        if draw(st.booleans()):
            return [*op(), draw(st.sampled_from(["==", "!="])), *op()]
        return ["(", draw(st.sampled_from(_NUM_PATHS)), "??", "0", ")", draw(st.sampled_from(["<", ">=", "<=", ">"])),
                draw(st.sampled_from(["0", "2999", "12.50"]))]
    if form == "logic":
        return ["exists", "(", *sub(), ")", draw(st.sampled_from(["and", "or"])), "is_null", "(", *sub(), ")"]
    if form == "not":
        return ["not", "exists", "(", *sub(), ")"]
    if form == "neg":
        return ["-", draw(st.sampled_from(["1", "2.5", "(3)"]))]
    if form == "if":
        return ["if", "exists", "(", *sub(), ")", "then", *sub(), "else", *sub()]
    if form == "match":
        arms = ["{", _string_lit(draw), "=>", *sub(), ",", '"b"', "=>", *sub(), draw(st.sampled_from([",", ""])),
                "_", "=>", *sub(), "}"]
        return ["match", *op(), *[a for a in arms if a]]
    if form == "cond_match":
        return ["match", "{", "exists", "(", *sub(), ")", "=>", *sub(), "_", "=>", *sub(), "}"]
    if form == "list":
        items = [sub() for _ in range(draw(st.integers(0, 3)))]
        out = ["["]
        for i, item in enumerate(items):
            out += ([","] if i else []) + item
        return [*out, "]"]
    if form == "object":
        out = ["{"]
        for i, key in enumerate(draw(st.lists(st.sampled_from(_FIELDS), max_size=3, unique=True))):
            k = key if key.isidentifier() else f'"{key}"'
            out += ([","] if i else []) + [k, ":", *sub()]
        return [*out, "}"]
    if form == "call":
        return [draw(st.sampled_from(["lower", "upper", "string", "trim"])), "(", "string", "(", *sub(), ")", ")"]
    if form == "lambda":
        return ["map", "(", "data", ".", "product_cart", ",", "p", "->", "p", ".", "product_id", ")"]
    if form == "paren":
        return ["(", *sub(), ")"]
    return ["data", ".", "product_cart", "[", draw(st.sampled_from(["0", "-1", "*"])), "]", ".", "quantity"]


_GLUE = set("()[]{},:.")


@st.composite
def _join(draw: Any, toks: list[str]) -> str:
    """Join tokens with random (but meaning-preserving) spaces, line breaks inside brackets and comments."""
    out = ""
    depth = 0
    for i, tok in enumerate(toks):
        if i:
            prev = toks[i - 1]
            if depth > 0 and draw(st.integers(0, 5)) == 0:
                if draw(st.booleans()):
                    out += "  # note " + str(i)
                out += "\n" + " " * draw(st.integers(0, 6))
                if draw(st.integers(0, 3)) == 0:
                    out += "# own line\n"
            elif depth == 0 and draw(st.integers(0, 12)) == 0:
                out += " \\\n  "
            elif (prev in _GLUE or tok in _GLUE) and prev not in ("-",) and draw(st.booleans()):
                pass
            else:
                out += " " * draw(st.integers(1, 3))
        out += tok
        if tok in ("(", "[", "{"):
            depth += 1
        elif tok in (")", "]", "}"):
            depth -= 1
    return out


@st.composite
def mappings(draw: Any) -> str:
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("# a generated mapping")
    for r in range(draw(st.integers(1, 3))):
        lines.extend([""] * draw(st.integers(0, 3)))
        if draw(st.booleans()):
            lines.append(f"# rule {r}")
        pattern = draw(st.sampled_from(['"*"', "'*'"]))  # every sample reaches every rule
        lines.append(("also on " if r and draw(st.booleans()) else "on ") + pattern)
        lines.extend([""] * draw(st.integers(0, 2)))
        lines.append(f"name = {draw(st.sampled_from(['type', repr('x.y')]))}")
        used: set[str] = set()
        for j in range(draw(st.integers(1, 5))):
            kind = draw(st.integers(0, 9))
            if kind == 0:
                lines.append(f"let v{j} " + "=" + " " * draw(st.integers(0, 3)) + draw(_join(draw(_expr()))))
                lines.append(f"data.v{j} = v{j}")
                continue
            if kind == 1:
                lines.append("# section")
                continue
            if kind == 2:
                lines.append("")
                continue
            field = draw(st.sampled_from(_FIELDS))
            if field in used:
                continue
            used.add(field)
            target = "data." + (field if field.isidentifier() else f'"{field}"')
            stmt = target + " " * draw(st.integers(0, 8)) + "=" + " " * draw(st.integers(0, 2)) + \
                draw(_join(draw(_expr())))
            if draw(st.integers(0, 3)) == 0:
                stmt += " " * draw(st.integers(0, 4)) + "# trailing"
            lines.append(stmt)
        if draw(st.integers(0, 4)) == 0:
            lines.append('drop if data.status == "never"')
    return "\n".join(lines) + "\n" * draw(st.integers(0, 3))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mappings())
def test_generated_mappings_format_idempotently_and_keep_their_meaning(src: str) -> None:
    try:
        before = load_text(src, "gen.map")
    except CompileError as exc:  # the generator writes syntax; the checker may still reject types
        assert all(d.code.startswith(("M3", "M4", "M5")) for d in exc.diagnostics), exc.rendered
        assume(False)
        return
    once = fmt(src)
    assert fmt(once) == once
    assert comments_of(once) == comments_of(src)
    assert outcomes(before) == outcomes(load_text(once, "gen.map"))


def test_the_example_in_docs_formatting_md_is_real() -> None:
    doc = (ROOT / "docs" / "formatting.md").read_text(encoding="utf-8")
    before, after = re.findall(r"^```\n(.*?)^```", doc.split("## The layout", 1)[1], re.S | re.M)[:2]
    assert fmt(before) == after
