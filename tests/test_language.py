"""The language's semantics, end to end: text → compiled function → events."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from runtime import MappingError, MappingSet

Compile = Callable[[str], MappingSet]


def one(ms: MappingSet, payload: dict[str, Any]) -> dict[str, Any]:
    events = ms.apply(payload)
    assert len(events) == 1, events
    return events[0]


def ev(data: dict[str, Any], type_: str = "t.x") -> dict[str, Any]:
    return {"type": type_, "timestamp": "2025-08-04T08:13:04.882151Z", "business_id": "bus_1", "data": data}


RULE = 'on "t.x"\nname = "n"\n'


class TestThreeStates:
    def test_missing_leaves_key_out_null_is_written(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.a = data.absent\ndata.b = data.nul\ndata.c = data.val\n")
        assert one(ms, ev({"nul": None, "val": 0})) == {"name": "n", "data": {"b": None, "c": 0}}

    @pytest.mark.parametrize("value", [False, 0, "", [], {}])
    def test_coalesce_keeps_falsy_values(self, compile_map: Compile, value: Any) -> None:
        ms = compile_map(RULE + 'data.a = data.v ?? "fallback"\n')
        assert one(ms, ev({"v": value}))["data"]["a"] == value

    @pytest.mark.parametrize("data", [{}, {"v": None}])
    def test_coalesce_falls_back_on_missing_and_null(self, compile_map: Compile, data: dict[str, Any]) -> None:
        ms = compile_map(RULE + 'data.a = data.v ?? "fallback"\n')
        assert one(ms, ev(data))["data"]["a"] == "fallback"

    def test_reading_through_null_object_is_missing(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.email = data.customer.email\n")
        assert one(ms, ev({"customer": None}))["data"] == {}
        assert one(ms, ev({}))["data"] == {}

    def test_reading_field_of_string_is_located_error(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.email = data.customer.email\n")
        with pytest.raises(MappingError) as err:
            ms.apply(ev({"customer": "ada"}))
        e = err.value
        assert (e.file, e.line, e.column, e.field) == ("test.map", 3, 14, "data.email")
        assert e.input_path == "data.customer.email"
        assert 'string "ada"' in e.message

    def test_required_names_file_line_field_and_path(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "\ndata.email = required(data.customer.email)\n")
        with pytest.raises(MappingError) as err:
            ms.apply(ev({"customer": {}}))
        e = err.value
        assert (e.line, e.column, e.field, e.input_path) == (4, 14, "data.email", "data.customer.email")
        assert "missing" in e.message
        assert str(e).startswith("test.map:4:14: in `data.email`:")

    def test_required_custom_message(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'data.e = required(data.e, "every payment needs an email")\n')
        with pytest.raises(MappingError, match="every payment needs an email"):
            ms.apply(ev({"e": None}))

    def test_functions_propagate_missing_and_null(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.a = cents(data.m)\ndata.b = cents(data.n)\ndata.c = upper(data.m)\n")
        assert one(ms, ev({"n": None}))["data"] == {"b": None}

    def test_equality_with_null_covers_missing(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.a = data.m == null\ndata.b = data.n == null\ndata.c = exists(data.n)\n"
                                "data.d = exists(data.m)\ndata.e = is_null(data.m)\n")
        assert one(ms, ev({"n": None}))["data"] == {"a": True, "b": True, "c": True, "d": False, "e": False}

    def test_coalesce_function_and_chain(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'data.a = coalesce(data.x, data.y, "z")\ndata.b = data.x ?? data.y ?? "z"\n')
        assert one(ms, ev({"y": None}))["data"] == {"a": "z", "b": "z"}
        assert one(ms, ev({"y": 0}))["data"] == {"a": 0, "b": 0}


class TestOperators:
    def test_decimal_arithmetic_is_exact(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.a = 0.1 + 0.2 == 0.3\ndata.b = 0.1 + 0.2\ndata.c = data.f * 3\n"
                                "data.d = 7 % 3\ndata.e = 10 / 4\ndata.g = -data.i\n")
        out = one(ms, ev({"f": 1.1, "i": 5}))["data"]
        assert out == {"a": True, "b": 0.3, "c": 3.3, "d": 1, "e": 2.5, "g": -5}

    def test_inexact_decimal_refuses_to_become_float(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.third = 1 / 3\ndata.ok = string(1 / 3)\n")
        with pytest.raises(MappingError, match="round it first"):
            ms.apply(ev({}))
        ms2 = compile_map(RULE + 'data.third = round(1 / 3, 4)\ndata.s = string(round(1 / 3, 4, "down"))\n')
        assert one(ms2, ev({}))["data"] == {"third": 0.3333, "s": "0.3333"}

    def test_concatenation_requires_text(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'data.a = "Order " & data.id & " for " & string(data.n)\ndata.b = "x" & data.n\n')
        with pytest.raises(MappingError, match="convert it with `string"):
            ms.apply(ev({"id": "pay_1", "n": 3}))
        ms2 = compile_map(RULE + 'data.a = "Order " & data.id & " for " & string(data.n)\n')
        assert one(ms2, ev({"id": "pay_1", "n": 3}))["data"]["a"] == "Order pay_1 for 3"

    def test_no_truthiness_at_run_time(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'data.a = if data.flag then "y" else "n"\n')
        assert one(ms, ev({"flag": True}))["data"]["a"] == "y"
        with pytest.raises(MappingError, match="must be true or false") as err:
            ms.apply(ev({"flag": 1}))
        assert err.value.line == 3
        with pytest.raises(MappingError, match="must be true or false"):
            ms.apply(ev({}))

    def test_and_or_not_short_circuit(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.a = data.t or data.junk\ndata.b = data.f and data.junk\ndata.c = not data.f\n")
        assert one(ms, ev({"t": True, "f": False, "junk": 7}))["data"] == {"a": True, "b": False, "c": True}

    def test_comparisons_do_not_coerce(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'data.a = data.n == "1"\ndata.b = data.t == 1\ndata.c = data.n == 1.0\n'
                                'data.d = "b" > "a"\ndata.e = data.l == [1, 2]\n')
        out = one(ms, ev({"n": 1, "t": True, "l": [1, 2]}))["data"]
        assert out == {"a": False, "b": False, "c": True, "d": True, "e": True}

    def test_ordering_mixed_types_is_located_error(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.a = data.s < 3\n")
        with pytest.raises(MappingError, match="cannot compare"):
            ms.apply(ev({"s": "x"}))


class TestControl:
    def test_match_on_value_with_default(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'data.tier = match data.plan {\n  "pro" => "gold",\n  "team" => "silver"\n'
                                '  _ => "bronze",\n}\n')
        assert one(ms, ev({"plan": "pro"}))["data"]["tier"] == "gold"
        assert one(ms, ev({"plan": "team"}))["data"]["tier"] == "silver"
        assert one(ms, ev({}))["data"]["tier"] == "bronze"

    def test_match_on_conditions(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'data.size = match {\n  data.n >= 100 => "big",\n  data.n >= 10 => "mid",\n'
                                '  _ => "small"\n}\n')
        assert [one(ms, ev({"n": n}))["data"]["size"] for n in (500, 50, 5)] == ["big", "mid", "small"]

    def test_nested_if(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'data.s = if data.n > 1 then "a" else if data.n == 1 then "b" else "c"\n')
        assert [one(ms, ev({"n": n}))["data"]["s"] for n in (2, 1, 0)] == ["a", "b", "c"]

    def test_let_is_reused(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "let c = data.customer\ndata.email = c.email\nuser.email = lower(c.email)\n")
        assert one(ms, ev({"customer": {"email": "A@X.io"}})) == {
            "name": "n", "data": {"email": "A@X.io"}, "user": {"email": "a@x.io"}}

    def test_drop_if(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'drop if data.status != "succeeded"\ndata.a = 1\n')
        out = ms.run(ev({"status": "failed"}))
        assert out.events == [] and out.matched and len(out.dropped) == 1
        assert one(ms, ev({"status": "succeeded"}))["data"] == {"a": 1}

    def test_unconditional_drop_needs_no_name(self, compile_map: Compile) -> None:
        ms = compile_map('on "t.*"\ndrop\n')
        out = ms.run(ev({}))
        assert out.events == [] and out.matched


class TestPaths:
    def test_index_quoted_keys_and_projection(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'data.first = data.items[0].id\ndata.last = data.items[-1].id\n'
                                'data.ids = data.items[*].id\ndata.q = data."odd key".v\ndata.none = data.items[9].id\n'
                                'data.nested = data.items[*].tags[*].k\n')
        items = [{"id": "a", "tags": [{"k": 1}]}, {"id": "b", "tags": []}, {"tags": [{"k": 2}, {}]}]
        out = one(ms, ev({"items": items, "odd key": {"v": True}}))["data"]
        # the last item has no id: missing, so `last` is left out
        assert out == {"first": "a", "ids": ["a", "b"], "q": True, "nested": [[1], [], [2]]}

    def test_projection_of_missing_list_is_missing(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.ids = data.items[*].id\n")
        assert one(ms, ev({}))["data"] == {}

    def test_map_and_filter(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.ids = map(filter(data.cart, p -> p.qty > 1), p -> p.id)\n"
                                "data.total = sum(map(data.cart, p -> p.qty))\n")
        cart = [{"id": "a", "qty": 1}, {"id": "b", "qty": 3}, {"id": "c", "qty": 2}]
        assert one(ms, ev({"cart": cart}))["data"] == {"ids": ["b", "c"], "total": 6}

    def test_literals(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + 'data.o = {id: data.id, "full name": "A\\u00e9\\n", n: null, l: [1, 2.50, true]}\n'
                                "data.l = [data.missing, 1]\n")
        out = one(ms, ev({"id": "x"}))["data"]
        assert out == {"o": {"id": "x", "full name": "Aé\n", "n": None, "l": [1, 2.5, True]}, "l": [None, 1]}

    def test_output_keys_never_alias_between_events(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.l = [1]\ndata.o = {a: 1}\n")
        first = one(ms, ev({}))
        first["data"]["l"].append(2)
        first["data"]["o"]["b"] = 2
        assert one(ms, ev({}))["data"] == {"l": [1], "o": {"a": 1}}

    def test_user_text_is_only_ever_a_literal(self, compile_map: Compile) -> None:
        nasty = "'); import os; os._exit(3) #\\\" \\u2028"
        ms = compile_map(RULE + f'data."{nasty}" = "{nasty}"\n')
        out = one(ms, ev({}))["data"]
        assert list(out.values()) == [next(iter(out.keys()))]


class TestRouting:
    MAP = (
        'on "dispute.*"\nname = "glob"\n\n'
        'on "dispute.opened"\nname = "exact"\n\n'
        'on "dispute.op*"\nname = "longer glob"\n\n'
        'also on "*"\nname = "analytics"\ndata.type = type\n'
    )

    def test_exact_beats_glob_and_also_adds(self, compile_map: Compile) -> None:
        ms = compile_map(self.MAP)
        assert [e["name"] for e in ms.apply(ev({}, "dispute.opened"))] == ["exact", "analytics"]
        assert [e["name"] for e in ms.apply(ev({}, "dispute.open"))] == ["longer glob", "analytics"]
        assert [e["name"] for e in ms.apply(ev({}, "dispute.won"))] == ["glob", "analytics"]
        assert [e["name"] for e in ms.apply(ev({}, "refund.failed"))] == ["analytics"]

    def test_unmatched_is_not_matched(self, compile_map: Compile) -> None:
        ms = compile_map('on "a.b"\nname = "x"\n')
        out = ms.run(ev({}, "c.d"))
        assert out.events == [] and not out.matched

    def test_several_patterns(self, compile_map: Compile) -> None:
        ms = compile_map('on "refund.succeeded", "refund.failed"\nname = type\n')
        assert ms.apply(ev({}, "refund.failed"))[0]["name"] == "refund.failed"

    def test_bad_payloads(self, compile_map: Compile) -> None:
        ms = compile_map('on "a"\nname = "x"\n')
        with pytest.raises(MappingError, match="JSON object"):
            ms.apply([])  # type: ignore[arg-type]
        with pytest.raises(MappingError, match="no string `type`"):
            ms.apply({"data": {}})


class TestBuiltins:
    @pytest.mark.parametrize(("expr", "expected"), [
        ("cents(2999)", "29.99"), ("cents(5)", "0.05"), ("cents(12.5)", "0.13"), ("cents(-5)", "-0.05"),
        ('cents("1900")', "19.00"), ("cents(0)", "0.00"), ("cents(100.5)", "1.01"), ("cents(-0.4)", "-0.00"), ("cents(-0)", "0.00"),
        ('money(2999, "USD")', "29.99"), ('money(2999, "JPY")', "2999"), ('money(12345, "KWD")', "12.345"),
        ('money("1900", "usd")', "19.00"), ('money(-5, "USD")', "-0.05"), ('money(5, "BHD")', "0.005"),
        ('decimals("KRW")', 0),
        ('epoch_ms("2025-08-04T08:13:04.882151Z")', 1754295184882),
        ('epoch_ms("2025-08-04T10:13:04.882+02:00")', 1754295184882),
        ('epoch_ms("2025-08-04T08:13:04Z")', 1754295184000),
        ('epoch_ms("2025-08-04t08:13:04.123456789z")', 1754295184123),
        ('epoch_ms("1969-12-31T23:59:59.9995Z")', -1),
        ('epoch("2025-08-04T08:13:04.999Z")', 1754295184),
        ('iso("2025-08-04T10:13:04.5+02:00")', "2025-08-04T08:13:04.500000Z"),
        ("from_epoch_ms(1754295184882)", "2025-08-04T08:13:04.882Z"),
        ('lower("ÄB")', "äb"), ('upper("usd")', "USD"), ('trim("  a ")', "a"),
        ('replace("a-b-c", "-", "/")', "a/b/c"), ('split("a,b", ",")', ["a", "b"]),
        ('join(["a", "b"], ", ")', "a, b"), ('starts_with("pay_1", "pay_")', True),
        ('ends_with("x@y.io", "@y.io")', True), ('contains("team plan", "team")', True),
        ('contains([1, 2], 2.0)', True), ('len("héllo")', 5), ("len([1, 2])", 2),
        ("round(0.125, 2)", 0.13), ('round(0.125, 2, "half_even")', 0.12), ('round(-1.5, 0, "floor")', -2),
        ('round(2.5, 0, "half_even")', 2), ('round(1.21, 1, "ceiling")', 1.3),
        ('int("42")', 42), ("int(4.0)", 4), ('decimal("19.99")', 19.99), ("string(12.50)", "12.50"),
        ("string(true)", "true"), ("string([1, {a: null}])", '[1,{"a":null}]'),
        ('sha256("abc")', "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ('query({a: [{b: 1}, {b: 2}]}, "a[?b > `1`].b")', [2]),
    ])
    def test_value(self, compile_map: Compile, expr: str, expected: Any) -> None:
        ms = compile_map(RULE + f"data.v = {expr}\n")
        assert one(ms, ev({}))["data"]["v"] == expected

    @pytest.mark.parametrize(("expr", "message"), [
        ('cents("abc")', 'cents() expected a number, got string "abc"'),
        ('money(2999, data.bad)', "unknown currency code 'XXY'"),
        ("money(data.half, data.c)", "whole number of minor units"),
        ('epoch_ms("yesterday")', "could not read 'yesterday' as a timestamp"),
        ('int("4.5")', "not a whole number"),
        ("1 / data.zero", "division by zero"),
        ("lower(data.n)", "lower() expected a string, got integer 5"),
        ('join([1], ",")', "join() expected a list of strings"),
    ])
    def test_failure_is_located(self, compile_map: Compile, expr: str, message: str) -> None:
        ms = compile_map(RULE + f"data.v = {expr}\n")
        with pytest.raises(MappingError) as err:
            ms.apply(ev({"zero": 0, "n": 5, "c": "USD", "bad": "XXY", "half": 12.5}))
        assert message in err.value.message
        assert (err.value.line, err.value.field) == (3, "data.v")

    def test_decimal_inputs_from_floats_are_exact(self, compile_map: Compile) -> None:
        ms = compile_map(RULE + "data.v = data.f + data.g\n")
        assert one(ms, ev({"f": 0.1, "g": 0.2}))["data"]["v"] == 0.3
        assert Decimal(repr(one(ms, ev({"f": 1.005, "g": 0}))["data"]["v"])) == Decimal("1.005")


class TestAbsentAtRunTime:
    """The generated code treats input as possibly absent whatever the schema says."""

    def test_required_envelope_field_missing_propagates(self) -> None:
        from runtime import load_text

        ms = load_text('on "payment.succeeded"\nname = "p"\nts = epoch_ms(timestamp)\n'
                       'data.b = lower(business_id) & "!"\n')
        assert ms.apply({"type": "payment.succeeded", "data": {}}) == [{"name": "p", "data": {}}]
        strict = load_text('on "payment.succeeded"\nname = "p"\nts = epoch_ms(required(timestamp))\n')
        with pytest.raises(MappingError, match="a required value is missing"):
            strict.apply({"type": "payment.succeeded", "data": {}})
