"""Parser changes made for the checks: the `input` declaration, and binary minus."""

from __future__ import annotations

from typing import Any

import pytest

from dsl import nodes as n
from dsl.diagnostics import Diagnostics
from dsl.parser import parse
from dsl.schema import EnvelopeSchema
from runtime import load_text


def body(**data: Any) -> dict[str, Any]:
    return {"type": "t", "timestamp": "2025-08-04T08:13:04Z", "business_id": "b", "data": data}


@pytest.mark.parametrize(("expr", "value"), [
    ("5 - 3", 2),
    ("5 - 3 - 1", 1),
    ("5-3", 2),
    ("2 - -3", 5),
    ("-data.x - 1", -5),
    ("(data.x) - 1", 3),
    ("data.l[-1] - 1", 1),
    ("[1, -2]", [1, -2]),
    ("[1,\n -2]", [1, -2]),
    ("match data.x { 4 => 10 - 1, _ => -1 }", 9),
    ("match data.x { 3 => 1, -1 => 2, _ => 0 }", 0),
])
def test_subtraction_and_negation(expr: str, value: Any) -> None:
    ms = load_text(f'on "t"\nname = "n"\ndata.v = {expr}\n', "t.map", EnvelopeSchema())
    assert ms.apply(body(x=4, l=[1, 2]))[0]["data"]["v"] == value


def test_minus_after_an_operand_subtracts_even_between_match_arms() -> None:
    # `1 -1` is `1 - 1` (as in JavaScript); an arm starting with `-` needs the comma before it
    diags = Diagnostics()
    parse('on "t"\nname = "n"\ndata.v = match data.x { 3 => 1  -1 => 2  _ => 0 }\n', "t.map", diags)
    assert [(d.code, d.span.line, d.span.column) for d in diags.items] == [("M100", 3, 36)]


def test_a_misplaced_arrow_is_still_reported_as_such() -> None:
    diags = Diagnostics()
    parse('on "t"\nname = "n"\ndata.a = x -> 1\n', "t.map", diags)
    (d,) = diags.items
    assert (d.code, d.span.column) == ("M100", 12)
    assert d.help == "`x -> ...` can only be the last argument of `map` or `filter`"


def test_input_declaration_is_parsed_before_rules() -> None:
    diags = Diagnostics()
    module = parse('# shop webhooks\ninput schema "schemas/shop.json"\n\non "order.created"\nname = "x"\n'
                   "data.input = data.input\n", "t.map", diags)
    assert diags.items == []
    (decl,) = module.inputs
    assert (decl.kind, decl.path, decl.span.line, decl.path_span.column) == ("schema", "schemas/shop.json", 2, 14)
    assert isinstance(module.rules[0].body[1], n.Assign)  # `input` is still a field name


@pytest.mark.parametrize(("text", "message"), [
    ('on "t"\nname = "x"\ninput samples "s/"\n', "`input` must come before the first rule"),
    ('input sample "s/"\non "t"\nname = "x"\n', "`input sample` is not a kind of input"),
    ('input schema ""\non "t"\nname = "x"\n', "`input schema` needs a path"),
])
def test_input_declaration_mistakes(text: str, message: str) -> None:
    diags = Diagnostics()
    parse(text, "t.map", diags)
    assert [(d.code, d.message) for d in diags.items] == [("M121", message)]
