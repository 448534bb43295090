"""``encode_event`` writes what the stdlib's ``json.dumps(separators=(",", ":"), ensure_ascii=False,
allow_nan=False)`` writes, and refuses what it refuses, though orjson does the work where it can.

Random values of every shape a mapping can produce, and of some it should not (NaN, Infinity, huge
ints, non-string keys, tuples, lone surrogates, other types): the text is the stdlib's character for
character, except that a float may be spelt differently (``1e16`` / ``1e+16``), so where floats occur
both texts must read back as the same value; and the stdlib's errors are ours.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.relay.contract import encode_event


def stdlib(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def outcome(fn: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(value)
    except (TypeError, ValueError, RecursionError) as exc:
        return "error", type(exc)


def has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(has_float(k) or has_float(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_float(v) for v in value)
    return False


texts = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=12)
ints = st.one_of(st.integers(-(2**63), 2**64), st.integers(-(2**80), 2**80), st.sampled_from([2**63 - 1, 2**63, -(2**63), 2**64 - 1, 2**64]))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e16, 1e-7, 0.1, -0.0, 5e-324, 1.7976931348623157e308, 100.0]))
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts)
odd = st.one_of(st.tuples(st.integers()), st.just(object()), st.binary(max_size=3), st.decimals(allow_nan=False, places=2))
keys = st.one_of(texts, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
values = st.recursive(
    st.one_of(scalars, odd),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=800, deadline=None)
@given(st.dictionaries(texts, values, max_size=5))
def test_encode_event_is_the_stdlib(event: dict[str, Any]) -> None:
    ours, theirs = outcome(encode_event, event), outcome(stdlib, event)
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "error":
        assert ours[1] is theirs[1]
    elif has_float(event):
        assert json.loads(ours[1]) == json.loads(theirs[1])
    else:
        assert ours[1] == theirs[1]


def test_the_cases_where_orjson_and_the_stdlib_differ_take_the_stdlib() -> None:
    assert outcome(encode_event, {"a": math.nan}) == ("error", ValueError)
    assert outcome(encode_event, {"a": [1, {"b": -math.inf}]}) == ("error", ValueError)
    assert encode_event({"n": 2**70}) == '{"n":1180591620717411303424}'
    assert encode_event({"k": {1: True}}) == '{"k":{"1":true}}'
    assert encode_event({"s": "\ud800"}) == '{"s":"\ud800"}'
    assert encode_event({"t": (1, 2)}) == '{"t":[1,2]}'
    assert encode_event({"c": "\x00\x1f\x7f\u2028é😀"}) == stdlib({"c": "\x00\x1f\x7f\u2028é😀"})
    assert json.loads(encode_event({"f": 1e16})) == {"f": 1e16}
