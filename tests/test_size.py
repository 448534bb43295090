"""Sizes a merchant really writes: a flat `match` of 10,000 arms or a long `else if` chain compiles to
flat code and picks the right arm; a file of thousands of rules and assignments checks cleanly (its
time against size is measured in bench/check_bench.py, not here)."""

from __future__ import annotations

import json
from typing import Any

from runtime.samples import read

from dsl.compiler import compile_text
from dsl.diagnostics import Diagnostics
from dsl.schema import EnvelopeSchema
from runtime import load_text

ARMS = 10_000
CHAIN = 3_000  # an `else if` chain: well past Python's 100 levels of indentation (10,000: bench/check_bench.py)
BODY: dict[str, Any] = json.loads(read("payment.succeeded") or b"{}")


def with_email(email: str) -> dict[str, Any]:
    body = json.loads(json.dumps(BODY))
    body["data"]["customer"]["email"] = email
    return body


def deepest_indent(source: str) -> int:
    return max((len(line) - len(line.lstrip(" "))) // 4 for line in source.splitlines() if line.strip())


def test_a_match_of_ten_thousand_arms_is_flat_code_and_picks_the_right_arm() -> None:
    arms = "\n".join(f'    "e{i}@example.com" => "plan {i}"' for i in range(ARMS))
    text = ('on "payment.succeeded"\nname = "x"\n'
            f"data.plan = match data.customer.email {{\n{arms}\n    _ => \"other\"\n}}\n")
    mappings = load_text(text, "m.map")
    generated = mappings.result.files[0].generated
    assert generated is not None and deepest_indent(generated.source) <= 3
    for i in (0, 1, 4321, ARMS - 1):
        assert mappings.apply(with_email(f"e{i}@example.com"))[0]["data"]["plan"] == f"plan {i}"
    assert mappings.apply(with_email("someone@else"))[0]["data"]["plan"] == "other"


def test_a_long_else_if_chain_is_flat_code_and_picks_the_right_branch() -> None:
    chain = " else ".join(f'if data.customer.email == "e{i}@example.com" then {i}' for i in range(CHAIN))
    text = f'on "payment.succeeded"\nname = "x"\ndata.n = {chain} else -1\n'
    mappings = load_text(text, "m.map")
    generated = mappings.result.files[0].generated
    assert generated is not None and deepest_indent(generated.source) <= 4
    for i in (0, 2, 777, CHAIN - 1):
        assert mappings.apply(with_email(f"e{i}@example.com"))[0]["data"]["n"] == i
    assert mappings.apply(with_email("nobody"))[0]["data"]["n"] == -1


def test_short_chains_keep_their_elif_form_and_conditions_with_statements_stay_lazy() -> None:
    text = ('on "payment.succeeded"\nname = "x"\n'
            'data.a = match data.currency { "USD" => 1, "EUR" => 2, _ => 3 }\n'
            'data.b = if data.tax > 0 then "taxed" else if data.missing.deep == 1 then "odd" else "none"\n')
    mappings = load_text(text, "m.map", EnvelopeSchema())
    generated = mappings.result.files[0].generated
    assert generated is not None and "elif" in generated.source and "while True:" in generated.source
    body = json.loads(json.dumps(BODY))
    body["data"]["currency"], body["data"]["tax"] = "EUR", 5
    assert mappings.apply(body)[0]["data"] == {"a": 2, "b": "taxed"}
    body["data"]["tax"] = 0
    assert mappings.apply(body)[0]["data"] == {"a": 2, "b": "none"}


def test_thousands_of_rules_and_assignments_check_without_a_diagnostic() -> None:
    rules = []
    for r in range(150):
        fields = "".join(f"data.f{j} = data.payment_id & \"-{j}\"\n" for j in range(20))
        rules.append(f'{"also on" if r else "on"} "payment.succeeded"\nname = "p{r}"\n{fields}\n')
    diags = Diagnostics()
    compiled = compile_text("".join(rules), "m.map", diags)
    assert diags.items == [] and len(compiled.rules) == 150


def test_overlapping_assignments_are_still_found_in_a_long_rule() -> None:
    body = "".join(f"data.f{j} = 1\n" for j in range(3000))
    text = f'on "payment.succeeded"\nname = "x"\ndata.obj = {{}}\n{body}data.f17 = 2\ndata.obj.a = 3\n'
    diags = Diagnostics()
    compile_text(text, "m.map", diags)
    got = [(d.code, d.span.line, d.message) for d in diags.items]
    assert got == [("M400", 3004, "`data.f17` is already assigned on line 21"),
                   ("M401", 3005, "`data.obj.a` overlaps `data.obj` assigned on line 3")]
