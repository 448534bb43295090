"""docs/functions.md is generated from the builtin registry, is current, and its examples are true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import runtime
from dsl import docgen
from dsl.builtins import BUILTINS
from dsl.schema import EnvelopeSchema

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_MD = ROOT / "docs" / "functions.md"

EXAMPLES = [(b.name, expr, result) for b in BUILTINS.values() for expr, result in b.examples]


def test_functions_md_is_current() -> None:
    assert FUNCTIONS_MD.read_text(encoding="utf-8") == docgen.render_functions_md(), (
        "docs/functions.md is stale: run `.venv/bin/python -m dsl.docgen > docs/functions.md`"
    )


def test_the_check_option_reports_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert docgen.main(["--check", str(FUNCTIONS_MD)]) == 0
    stale = tmp_path / "functions.md"
    stale.write_text(docgen.render_functions_md().replace("money", "monies", 1), encoding="utf-8")
    assert docgen.main(["--check", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err


def test_every_builtin_is_documented_with_an_example() -> None:
    text = docgen.render_functions_md()
    for b in BUILTINS.values():
        assert f"### `{b.name}`" in text
        assert b.signature() in text
        assert b.summary in text
        assert b.examples, f"{b.name} has no example"
        for expr, _ in b.examples:
            assert expr.split("(")[0] == b.name, f"an example of {b.name} calls something else: {expr}"


def _same(actual: Any, expected: Any) -> bool:
    """Equal as values *and* kinds: "2999" is not 2999, true is not 1, a list is not a tuple."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, str) or isinstance(actual, str):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(_same(a, e) for a, e in zip(actual, expected, strict=True)))
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and actual.keys() == expected.keys()
                and all(_same(actual[k], expected[k]) for k in expected))
    return bool(actual == expected)


@pytest.mark.parametrize(("name", "expr", "result"), EXAMPLES, ids=[f"{n}: {e}" for n, e, _ in EXAMPLES])
def test_every_example_gives_its_documented_result(name: str, expr: str, result: str) -> None:
    # The documented result is written in the mapping language too: compile both and compare.
    source = f'on "*"\nname = "example"\ndata.actual = {expr}\ndata.expected = {result}\n'
    mapping = runtime.load_text(source, f"<example of {name}>", EnvelopeSchema())
    data = mapping.apply(docgen.EXAMPLE_BODY)[0]["data"]
    assert "expected" in data, f"the documented result of {expr} is not a value: {result}"
    assert "actual" in data, f"{expr} gives missing on the example body"
    assert _same(data["actual"], data["expected"]), f"{expr} gives {data['actual']!r}, documented {result}"
