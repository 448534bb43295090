"""Which rule receives an event type: exact beats pattern, more literal text beats less, and on a tie
the first loaded runs (what M502 says) — through the runtime router and the checker alike.

The router is exercised on compiled files without the routing check, so these tests hold whether
M502 is a warning or an error (an error refuses to load such a set at all)."""

from __future__ import annotations

import pytest

import runtime
from dsl.compiler import CompileResult, check_routing, compile_text
from dsl.diagnostics import Diagnostics
from dsl.routing import best_specificity, select, specificity
from dsl.schema import EnvelopeSchema

TIE = 'on "refund.*"\nname = "first"\n\non "*.failed"\nname = "second"\n'


def loaded(text: str) -> runtime.MappingSet:
    diags = Diagnostics()
    compiled = compile_text(text, "m.map", diags)
    assert not [d for d in diags.sorted() if d.is_error], [d.message for d in diags.sorted()]
    return runtime.MappingSet(CompileResult([compiled], diags.sorted()))


def names(mappings: runtime.MappingSet, event_type: str) -> list[str]:
    return [e["name"] for e in mappings.apply({"type": event_type, "data": {}})]


def test_on_a_tie_only_the_first_loaded_rule_runs() -> None:
    assert names(loaded(TIE), "refund.failed") == ["first"]
    swapped = loaded('on "*.failed"\nname = "second"\n\non "refund.*"\nname = "first"\n')
    assert names(swapped, "refund.failed") == ["second"]
    assert names(loaded(TIE), "refund.succeeded") == ["first"] and names(loaded(TIE), "payment.failed") == ["second"]


def test_three_equal_rules_still_go_to_the_first() -> None:
    text = "".join(f'on "{p}"\nname = "{n}"\n\n' for p, n in [("refund.*", "one"), ("*.failed", "two"), ("ref*iled", "three")])
    assert names(loaded(text), "refund.failed") == ["one"]


@pytest.mark.parametrize(("patterns", "event_type", "winner"), [
    (["payment.*", "payment.succeeded"], "payment.succeeded", 1),  # exact beats any pattern
    (["payment.succeeded", "payment.*"], "payment.succeeded", 0),
    (["*", "payment.*"], "payment.failed", 1),  # more literal text wins
    (["payment.*", "*"], "payment.failed", 0),
    (["payment.*", "*.succeeded"], "payment.succeeded", 1),  # ".succeeded" (10) is more than "payment." (8)
    (["*.succeeded", "payment.*"], "payment.succeeded", 0),
])
def test_the_more_specific_rule_wins_whatever_the_order(patterns: list[str], event_type: str, winner: int) -> None:
    assert select([([p], False) for p in patterns], event_type) == [winner]


def test_select_returns_the_best_main_rule_then_every_also_rule() -> None:
    rules = [(["payment.*"], True), (["*"], False), (["payment.succeeded"], False), (["*"], True),
             (["payment.succeeded"], False)]
    assert select(rules, "payment.succeeded") == [2, 0, 3]
    assert select(rules, "refund.failed") == [1, 3]
    assert select([(["payment.*"], False)], "refund.failed") == []


def test_specificity_counts_exact_names_above_patterns_and_literal_text() -> None:
    assert specificity("payment.succeeded", "payment.succeeded") == (2, 17)
    assert specificity("payment.succeeded", "payment.failed") is None
    assert specificity("payment.*", "payment.failed") == (1, 8)
    assert specificity("*", "payment.failed") == (1, 0)
    assert specificity("payment.*", "refund.failed") is None
    assert specificity("pay*ed", "payment.succeeded") == (1, 5)
    assert specificity("pay*", "xpayment") is None  # anchored at the start
    assert specificity("*ed", "succeeded.x") is None  # and at the end
    assert best_specificity(["*", "payment.*", "nothing"], "payment.failed") == (1, 8)
    assert best_specificity(["nothing"], "payment.failed") is None


def _m502(text: str) -> list[str]:
    diags = Diagnostics()
    check_routing([compile_text(text, "m.map", diags, EnvelopeSchema())], diags)
    return [d.message for d in diags.sorted() if d.code == "M502"]


def test_m502_on_ties_and_only_on_ties() -> None:
    [message] = _m502(TIE)
    assert message.startswith("`refund.failed` ") and "m.map:1" in message and "only the first" in message
    assert _m502('on "refund.*"\nname = "a"\n\non "refund.failed"\nname = "b"\n') == []  # exact wins: no tie
    assert _m502('on "refund.failed"\nname = "a"\n\non "refund.*"\nname = "b"\n') == []
    assert _m502('on "refund.*"\nname = "a"\n\nalso on "refund.*"\nname = "b"\n') == []  # also: both run
    # a better rule loaded between two tied ones: no warning, the better one runs
    three = 'on "refund.*"\nname = "a"\n\non "refund.failed"\nname = "b"\n\non "*.failed"\nname = "c"\n'
    assert _m502(three) == []
