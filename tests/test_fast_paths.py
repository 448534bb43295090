"""Fast paths give exactly what the general code gives (they exist for bench/mapping_bench.py):

* the code generator's inline `==`/`!=` and `match` arms against a scalar literal (instead of
  `_eq`), and `&` on two strings (instead of `_concat`) — for every kind of value, missing and
  null included, with the same error and location when it fails;
* `money`/`cents` on integers and on Dodo's digit strings, the currency-exponent table, and
  `epoch`/`epoch_ms` (integer `timedelta` arithmetic, white space stripped only when needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iso4217 import Currency

from dsl.schema import EnvelopeSchema
from prelude import functions as F
from prelude.values import MISSING
from runtime import MappingError, MappingSet, load_text

RULE = 'on "payment.succeeded"\nname = "x"\n'
ABSENT = object()  # the field is left out of the body

scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False, width=32) | \
    st.sampled_from(["", "a", "0", "1", "true", "null", "USD"])
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=2) |
                      st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2), max_leaves=4)
inputs = st.just(ABSENT) | values

LITERALS: list[tuple[str, Any]] = [("null", None), ("true", True), ("false", False), ("0", 0), ("1", 1),
                                   ("-1", -1), ('""', ""), ('"a"', "a"), ('"0"', "0"), ("0.0", Decimal("0.0"))]


def compile_map(text: str) -> MappingSet:
    return load_text(RULE + text, "fast.map", schema=EnvelopeSchema())


def body(**data: Any) -> dict[str, Any]:
    return {"type": "payment.succeeded", "timestamp": "2025-08-04T08:13:04Z",
            "data": {k: v for k, v in data.items() if v is not ABSENT}}


def present(value: Any) -> Any:
    return MISSING if value is ABSENT else value


EQ = compile_map("\n".join(f"data.eq{i} = data.x == {lit}\ndata.ne{i} = data.x != {lit}\n"
                           f"data.req{i} = {lit} == data.x" for i, (lit, _) in enumerate(LITERALS)))
ARM_LITERALS = [(lit, v) for lit, v in LITERALS if lit != "-1"]  # an arm is a literal, not `-1`
ARMS = ", ".join(f'{lit} => "{i}"' for i, (lit, _) in enumerate(ARM_LITERALS))
MATCH = compile_map(f'data.m = match data.x {{ {ARMS}, _ => "default" }}')


@settings(max_examples=300, deadline=None)
@given(inputs)
def test_comparison_with_a_literal_is_eq(x: Any) -> None:
    [event] = EQ.apply(body(x=x))
    for i, (_, lit) in enumerate(LITERALS):
        expected = F.eq(present(x), lit)
        assert event["data"][f"eq{i}"] is expected, (x, lit)
        assert event["data"][f"req{i}"] is expected, (x, lit)
        assert event["data"][f"ne{i}"] is (not expected), (x, lit)


@settings(max_examples=300, deadline=None)
@given(inputs)
def test_match_arm_literals_are_eq(x: Any) -> None:
    [event] = MATCH.apply(body(x=x))
    expected = next((str(i) for i, (_, lit) in enumerate(ARM_LITERALS) if F.eq(present(x), lit)), "default")
    assert event["data"]["m"] == expected, x


def test_inline_forms_are_generated() -> None:
    source = MATCH.rules[0].compiled.generated.source
    assert source.count("_eq(") == 1  # only the decimal literal 0.0 still calls _eq
    assert "is None or" in source and "is True" in source and "== ''" in source
    assert "__class__ is not bool" in source


CONCAT = compile_map('data.joined = "<" & data.a & ":" & data.b & ">"')


@settings(max_examples=300, deadline=None)
@given(inputs, inputs)
def test_concatenation_is_concat(a: Any, b: Any) -> None:
    try:
        expected = F.concat(F.concat(F.concat(F.concat("<", present(a)), ":"), present(b)), ">")
    except F.Fault as fault:
        with pytest.raises(MappingError) as caught:
            CONCAT.apply(body(a=a, b=b))
        assert fault.message in str(caught.value)
        return
    [event] = CONCAT.apply(body(a=a, b=b))
    assert event["data"].get("joined", ABSENT) == (ABSENT if expected is MISSING else expected)


@pytest.mark.parametrize(("a", "b", "path"), [(1, "x", "data.a"), ("x", [1], "data.b")])
def test_concatenation_fault_is_located(a: Any, b: Any, path: str) -> None:
    """At the `&` expression (its span starts at the first operand) with the input it read."""
    with pytest.raises(MappingError) as caught:
        CONCAT.apply(body(a=a, b=b))
    assert re.search(rf"fast\.map:3:15: in `data\.joined`: `&` joins text, but one side is .*\(input `{path}`\)",
                     str(caught.value))


# --- runtime functions -------------------------------------------------------------------------

CODES = sorted(c.value for c in Currency)


@settings(max_examples=500, deadline=None)
@given(st.integers(-10**15, 10**15), st.sampled_from(CODES), st.booleans())
def test_money_is_the_exact_decimal(units: int, code: str, lower: bool) -> None:
    exponent = Currency(code).exponent or 0
    expected = str(Decimal(units).scaleb(-exponent))
    currency = code.lower() if lower else code
    assert F.money(units, currency) == expected
    if units >= 0:
        assert F.money(str(units), currency) == expected  # Dodo's dispute amount is text
        assert F.money(f" {units} ", currency) == expected  # through the general decimal reader
    assert F.decimals(currency) == exponent


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 10**15))
def test_cents_of_digit_text_is_cents_of_the_number(units: int) -> None:
    assert F.cents(str(units)) == F.cents(units) == F.cents(Decimal(units)) == f"{Decimal(units) / 100:.2f}"
    assert F.cents("0" + str(units)) == F.cents(units)


@pytest.mark.parametrize("text", ["١٢", "²", "-5", "1_000", "", "abc"])
def test_only_ascii_digit_text_takes_the_fast_path(text: str) -> None:
    """Other text still goes through the general decimal reader, with its result or its fault."""
    try:
        general: Any = F.to_decimal(text, "cents()")
    except F.Fault as fault:
        with pytest.raises(F.Fault, match=re.escape(fault.message)):
            F.cents(text)
        return
    assert F.cents(text) == format((general / 100).quantize(Decimal("0.01")), "f")


def test_unknown_currency_fails() -> None:
    for code in ("XXY", "", "US", "usd "):
        with pytest.raises(F.Fault, match="unknown currency code"):
            F.money(5, code)


@settings(max_examples=500, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
       st.integers(-23 * 60, 23 * 60), st.sampled_from(["", " ", "\n"]))
def test_epoch_floors_exactly(moment: datetime, offset_minutes: int, pad: str) -> None:
    aware = moment.replace(tzinfo=UTC) - timedelta(minutes=offset_minutes)
    sign, minutes = ("+" if offset_minutes >= 0 else "-"), abs(offset_minutes)
    text = f"{pad}{moment.isoformat()}{sign}{minutes // 60:02d}:{minutes % 60:02d}{pad}"
    micros = (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert F.epoch_ms(text) == micros // 1000
    assert F.epoch(text) == micros // 1_000_000
