"""Schema-aware checks: every input path a rule reads is checked against the Dodo event types
its `on` patterns receive (and against a declared JSON Schema or sample bodies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsl import types as T
from dsl.compiler import compile_paths, compile_text, default_schema
from dsl.diagnostics import Diagnostic, Diagnostics
from dsl.schema import DodoSchema, EnvelopeSchema, dodo_schema, from_json_schema, from_samples
from runtime import load_text

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "dodo"


def sample_types() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.json"))


def sample(event_type: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
    return body


def check(text: str, path: str = "m.map") -> list[Diagnostic]:
    diags = Diagnostics()
    compile_text(text, path, diags)
    return diags.sorted()


def codes(text: str) -> list[str]:
    return [d.code for d in check(text)]


def one(text: str, code: str) -> Diagnostic:
    found = [d for d in check(text) if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in check(text)]
    return found[0]


PAY = 'on "payment.succeeded"\nname = "p"\n'
DISPUTE = 'on "dispute.*"\nname = type\n'


# --- the schema itself -------------------------------------------------------------------------


def test_dodo_is_the_default_and_knows_all_48_types() -> None:
    schema = default_schema()
    assert isinstance(schema, DodoSchema)
    assert schema is dodo_schema()  # loaded once
    assert len(schema.known_types) == 48
    assert set(schema.known_types) == set(sample_types())
    assert schema.roots() == {"business_id", "type", "timestamp", "data"}
    assert schema.event_types(["dispute.*"]) == {t for t in sample_types() if t.startswith("dispute.")}
    assert schema.event_types(["refund.failed", "nope"]) == {"refund.failed"}


@pytest.mark.parametrize(("path", "expected"), [
    (("data", "customer", "email"), T.PLAIN),
    (("data", "total_amount"), T.INT),
    (("data", "tax"), T.INT | T.MISSING | T.NULL),  # optional and nullable
    (("timestamp",), T.DATETIME),
    (("data", "created_at"), T.DATETIME),
    (("data", "customer"), T.OBJECT),
    (("data", "product_cart"), T.LIST | T.MISSING | T.NULL),
    (("data", "metadata", "plan"), T.STRING | T.NUMBER | T.BOOL | T.MISSING),  # your own keys: any text
])
def test_path_types_for_payment(path: tuple[str, ...], expected: T.Ty) -> None:
    schema = dodo_schema()
    diags = Diagnostics()
    ty = schema.path_type(frozenset({"payment.succeeded"}), path[0], path[1:], [], diags)
    assert ty == expected
    assert not diags.items


def test_decimal_string_and_money_facts() -> None:
    schema = dodo_schema()
    disputes = schema.event_types(["dispute.*"])
    assert schema.path_type(disputes, "data", ["amount"], [], Diagnostics()) == T.NUMSTR
    info = schema.path_info(frozenset({"payment.succeeded"}), "data", ["total_amount"])
    assert info is not None and info.currency == ("currency",)
    info = schema.path_info(frozenset({"payment.succeeded"}), "data", ["settlement_amount"])
    assert info is not None and info.currency == ("settlement_currency",)
    info = schema.path_info(frozenset({"payment.succeeded"}), "data", ["status"])
    assert info is not None and info.values is not None and "succeeded" in info.values
    info = schema.path_info(frozenset({"payment.succeeded"}), "data", ["tax"])
    assert info is not None and info.absent == "`data.tax` may be missing or null"


def test_every_sample_field_is_known_to_the_schema() -> None:
    """Reading every leaf of every sample body, under its own event type, gives no diagnostics."""
    schema = dodo_schema()

    def leaves(value: object, path: tuple[str | int | None, ...]) -> list[tuple[str | int | None, ...]]:
        if isinstance(value, dict):
            return [p for k, v in value.items() for p in leaves(v, (*path, k))] or [path]
        if isinstance(value, list) and value:
            return leaves(value[0], (*path, None))
        return [path]

    for event_type in sample_types():
        for path in leaves(sample(event_type), ()):
            diags = Diagnostics()
            schema.path_type(frozenset({event_type}), str(path[0]), path[1:], [], diags)
            assert not diags.items, (event_type, path)


# --- unknown and partial fields ------------------------------------------------------------------


def test_unknown_field_with_did_you_mean() -> None:
    d = one(PAY + "data.e = data.customer.emial\n", "M201")
    assert d.is_error
    assert d.message == "unknown input field `data.customer.emial`"
    assert d.help == "did you mean `data.customer.email`?"
    assert (d.span.line, d.span.column, d.span.end_column) == (3, 24, 29)


def test_unknown_field_found_one_level_deeper() -> None:
    assert one(PAY + "data.e = data.email\n", "M201").help == "did you mean `data.customer.email`?"


def test_unknown_field_existing_for_other_event_types() -> None:
    d = one(DISPUTE + "data.a = data.total_amount\n", "M201")
    assert "exists for payment.*: is the `on` pattern right?" in (d.help or "")


def test_field_of_a_list_suggests_projection() -> None:
    d = one(PAY + "data.a = data.product_cart.product_id\n", "M201")
    assert "`data.product_cart[*].product_id`" in (d.help or "")


def test_unknown_field_reported_once_not_for_every_prefix() -> None:
    assert codes(PAY + "data.a = data.custmer.email.x\n") == ["M201"]


def test_paths_through_let_and_lambda_are_checked() -> None:
    assert codes(PAY + "let c = data.customer\ndata.e = c.emial\n") == ["M201"]
    assert codes(PAY + "data.ids = map(data.product_cart, p -> p.product_idd)\n") == ["M201"]
    assert codes(PAY + "data.ids = data.product_cart[*].quantityy\n") == ["M201"]
    assert codes(PAY + "data.ids = map(data.product_cart, p -> p.product_id)\n") == []


def test_field_in_some_matched_types_only_is_a_warning_naming_them() -> None:
    d = one('also on "*"\nname = "all"\ndata.p = data.payment_id\n', "M206")
    assert not d.is_error
    assert "but not for credit.*, payout.*" in d.message


def test_more_specific_rules_take_their_event_types_away() -> None:
    # `credit.*` does not receive credit.balance_low here: no warning for ledger-only fields
    text = ('on "credit.*"\nname = type\ndata.t = data.transaction_type\n\n'
            'on "credit.balance_low"\nname = type\n')
    assert codes(text) == []
    assert codes('on "credit.*"\nname = type\ndata.t = data.transaction_type\n') == ["M206"]


def test_precedence_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.map").write_text('on "credit.*"\nname = type\ndata.t = data.transaction_type\n')
    (tmp_path / "b.map").write_text('on "credit.balance_low"\nname = type\n')
    assert [d.code for d in compile_paths([tmp_path]).diagnostics] == []


# --- types flow into functions -------------------------------------------------------------------


def test_cents_of_an_email_is_an_error() -> None:
    d = one(PAY + "data.a = cents(data.customer.email)\n", "M300")
    assert d.message == ("`cents` expects a number or numeric text for `amount`, "
                         "but `data.customer.email` is text")


def test_decimal_strings_are_amounts() -> None:
    assert codes(DISPUTE + "data.a = cents(data.amount)\ndata.b = money(data.amount, data.currency)\n"
                 "data.c = decimal(data.amount)\ndata.d = round(data.amount, 2)\n") == []


def test_decimal_string_in_arithmetic_needs_decimal() -> None:
    d = one(DISPUTE + "data.a = data.amount / 100\n", "M301")
    assert "convert text with `decimal(data.amount)`" in (d.help or "")
    assert codes(DISPUTE + "data.a = decimal(data.amount) / 100\n") == []


def test_money_in_minor_units_to_cents_or_divided_by_100_is_a_warning() -> None:
    d = one(PAY + "data.a = cents(data.total_amount)\n", "M305")
    assert not d.is_error and d.help == "use `money(data.total_amount, data.currency)`"
    d = one(PAY + "data.a = data.settlement_amount / 100\n", "M305")
    assert d.help == "use `money(data.settlement_amount, data.settlement_currency)`"
    assert codes(PAY + "data.a = money(data.total_amount, data.currency)\n") == []


def test_timestamps() -> None:
    assert one(PAY + "data.a = epoch_ms(data.customer.email)\n", "M300").message.endswith(
        "but `data.customer.email` is text")
    assert codes(PAY + "data.a = epoch_ms(data.created_at)\nts = epoch_ms(timestamp)\n") == []


def test_any_text_of_unknown_content_is_checked_at_run_time() -> None:
    assert codes(PAY + 'data.a = cents(trim(data.customer.email))\ndata.b = cents("19")\n') == []


# --- missing and null ------------------------------------------------------------------------------


def test_nullable_into_arithmetic_warns_with_both_fixes() -> None:
    d = one(PAY + "data.a = data.total_amount + data.tax\n", "M603")
    assert not d.is_error
    assert d.label == "`data.tax` may be missing or null"
    assert d.help == "give a default with `data.tax ?? ...`, or fail the event loudly with `required(data.tax)`"
    assert codes(PAY + "data.a = data.total_amount + (data.tax ?? 0)\n") == []
    assert codes(PAY + "data.a = data.total_amount + required(data.tax)\n") == []


def test_nullable_into_ts_name_id_and_conditions() -> None:
    sub = 'on "subscription.cancelled"\nname = "s"\n'
    assert codes(sub + "ts = epoch_ms(data.cancelled_at)\n") == ["M603"]
    assert codes('on "subscription.cancelled"\nname = data.cancellation_comment\n') == ["M603"]
    assert codes(sub + "id = data.tax_id\n") == ["M603"]
    assert codes(DISPUTE + "drop if data.is_resolved_by_rdr\n") == ["M603"]
    assert codes(PAY + "drop if data.tax > 100\n") == ["M603"]


def test_functions_pass_missing_on_without_a_warning() -> None:
    # documented: a function given missing gives missing, and the output field is left out
    assert codes(PAY + "data.tax = money(data.tax, data.currency)\n") == []


def test_reading_below_an_optional_object_is_missing() -> None:
    d = one(DISPUTE + 'data.a = "to " & data.customer.email\n', "M603")
    assert d.label == "`data.customer` may be missing or null"


def test_noop_coalesce_on_a_required_field() -> None:
    d = one(PAY + 'data.c = data.currency ?? "USD"\n', "M601")
    assert d.message == "`data.currency` is never missing or null here, so `?? ...` is never used"
    assert codes(PAY + 'data.c = data.payment_method ?? "card"\n') == []


# --- enums -----------------------------------------------------------------------------------------


def test_comparison_with_a_value_the_field_never_has() -> None:
    d = one(PAY + 'drop if data.status != "succeded"\n', "M604")
    assert d.help == 'did you mean "succeeded"?'
    assert "always true" in d.message


def test_match_arm_value_the_field_never_has() -> None:
    d = one(PAY + 'data.s = match data.status { "succeded" => 1, _ => 2 }\n', "M602")
    assert d.help == 'did you mean "succeeded"?'


def test_type_under_a_wildcard_may_be_a_type_the_schema_does_not_know() -> None:
    assert codes('on "payout.*"\nname = if type == "payout.not_initiated" then "payout.created" else type\n') == []
    assert codes('on "payout.success"\nname = if type == "payout.sucess" then "x" else type\n') == ["M604"]


# --- event type patterns ---------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "guess"), [
    ("payment.succeded", "payment.succeeded"),
    ("refunds.*", "refund.*"),
    ("Payment.Succeeded", "payment.succeeded"),
    ("subscriptions.*", "subscription.*"),
])
def test_pattern_matching_no_event_type(pattern: str, guess: str) -> None:
    d = one(f'on "{pattern}"\nname = "x"\n', "M500")
    assert d.is_error and d.help == f'did you mean "{guess}"?'


def test_known_patterns_are_fine() -> None:
    assert codes('on "*"\nname = type\n') == []
    assert codes('on "dispute.*", "refund.failed"\nname = type\n') == []


# --- other sources ---------------------------------------------------------------------------------


SHOP_SCHEMA = {
    "oneOf": [
        {"type": "object", "required": ["type", "data", "at"], "properties": {
            "type": {"const": "order.created"},
            "at": {"type": "string", "format": "date-time"},
            "data": {"$ref": "#/$defs/order"}}},
        {"type": "object", "properties": {"type": {"const": "order.paid"}, "data": {"type": "object"}}},
    ],
    "$defs": {"order": {"type": "object", "required": ["id", "total"], "properties": {
        "id": {"type": "string"}, "total": {"type": "integer"}, "note": {"type": ["string", "null"]},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
        "extra": {"type": "object", "additionalProperties": {"type": "string"}}}}},
}


def test_json_schema_declared_in_the_file(tmp_path: Path) -> None:
    (tmp_path / "shop.json").write_text(json.dumps(SHOP_SCHEMA))
    ok = ('input schema "shop.json"\n\non "order.created"\nname = "shop/order"\n'
          'data.id = data.id\ndata.t = data.total + 1\ndata.n = data.note\ndata.s = data.lines[*].sku\n'
          'data.x = data.extra.anything\nts = epoch_ms(at)\n')
    (tmp_path / "ok.map").write_text(ok)
    assert compile_paths([tmp_path / "ok.map"]).diagnostics == []
    (tmp_path / "bad.map").write_text(
        'input schema "shop.json"\non "order.creatd"\nname = "x"\n\n'
        'on "order.created"\nname = "y"\ndata.a = data.totl\ndata.b = data.note & "!"\n')
    found = {(d.code, d.span.line) for d in compile_paths([tmp_path / "bad.map"]).diagnostics}
    assert found == {("M500", 2), ("M201", 7), ("M603", 8)}


def test_samples_declared_in_the_file(tmp_path: Path) -> None:
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "a.json").write_text(json.dumps(
        {"type": "push", "repo": {"name": "x"}, "pusher": {"email": "a@b.c"}, "at": "2025-01-01T00:00:00Z"}))
    (tmp_path / "samples" / "b.json").write_text(json.dumps(
        [{"type": "push", "repo": {"name": "y", "topics": ["t"]}, "pusher": None, "at": "2025-01-02T00:00:00Z"}]))
    (tmp_path / "gh.map").write_text(
        'input samples "samples/"\non "push"\nname = "gh/push"\ndata.repo = repo.name\n'
        'data.who = pusher.emial\ndata.t = repo.topics\nts = epoch_ms(at)\n')
    result = compile_paths([tmp_path / "gh.map"])
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("M201", 5)]
    assert result.diagnostics[0].help == "did you mean `pusher.email`?"


def test_input_declaration_problems(tmp_path: Path) -> None:
    (tmp_path / "m.map").write_text('input schema "nope.json"\non "x"\nname = "x"\ndata.a = data.b\n'
                                    'input samples "s"\n')
    found = [(d.code, d.span.line) for d in compile_paths([tmp_path / "m.map"]).diagnostics]
    # the schema cannot be read: reported once, and the file is checked as the bare envelope
    assert found == [("M120", 1), ("M121", 5)]
    (tmp_path / "m.map").write_text('input schemas "x.json"\non "x"\nname = "x"\n')
    d = compile_paths([tmp_path / "m.map"]).diagnostics[0]
    assert d.code == "M121" and (d.help or "").startswith("did you mean `input schema`?")
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "m.map").write_text('input schema "bad.json"\non "x"\nname = "x"\n')
    d = compile_paths([tmp_path / "m.map"]).diagnostics[0]
    assert d.code == "M120" and "not valid JSON: line 1 column 2" in d.message


def test_input_schema_reloads_when_the_file_changes(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"data": {"type": "object", "properties": {"a": {"type": "string"}}}}}
    (tmp_path / "s.json").write_text(json.dumps(schema))
    (tmp_path / "m.map").write_text('input schema "s.json"\non "x"\nname = "x"\ndata.b = data.b\n')
    assert [d.code for d in compile_paths([tmp_path]).diagnostics] == ["M201"]
    schema["properties"]["data"]["properties"]["b"] = {"type": "string"}  # type: ignore[index]
    (tmp_path / "s.json").write_text(json.dumps(schema) + " ")
    assert compile_paths([tmp_path]).diagnostics == []


def test_json_schema_and_samples_builders() -> None:
    s = from_json_schema({"type": "object", "properties": {"a": {"type": "integer"}}}, "t")
    assert s.known_types == () and s.event_types(["x"]) is None
    assert s.path_type(None, "a", [], [], Diagnostics()) == T.INT | T.MISSING
    s = from_samples([{"type": "a", "n": 1}, {"type": "a", "n": 1.5, "m": None}, {"type": "b"}], "t")
    assert s.known_types == ("a", "b")
    assert s.path_type(frozenset({"a"}), "n", [], [], Diagnostics()) == T.NUMBER
    assert s.path_type(frozenset({"a"}), "m", [], [], Diagnostics()) == T.VALUE | T.ABSENT


# --- the code generator never trusts the schema ---------------------------------------------------


def test_a_delivery_breaking_the_schema_still_maps() -> None:
    """`data.customer` is required, yet an event without it maps (the field is left out), because
    generated code is typed as the bare envelope, not by the schema's promises."""
    ms = load_text(PAY + "data.e = lower(data.customer.email)\ndata.c = data.currency\n", "m.map")
    body = sample("payment.succeeded")
    del body["data"]["customer"]
    del body["data"]["currency"]
    assert ms.apply(body) == [{"name": "p", "data": {}}]


def test_envelope_schema_still_available_for_made_up_fields() -> None:
    diags = Diagnostics()
    compile_text('on "t.x"\nname = "n"\ndata.a = data.anything.at.all\n', "m.map", diags, EnvelopeSchema())
    assert diags.items == []


def test_equal_precedence_is_found_through_the_known_event_types(tmp_path: Path) -> None:
    # neither file names `refund.failed`: only Dodo's type list shows both patterns claim it equally
    (tmp_path / "a.map").write_text('on "refund.*"\nname = type\n')
    (tmp_path / "b.map").write_text('on "*.failed"\nname = "failure"\n')
    (d,) = compile_paths([tmp_path]).diagnostics
    assert d.code == "M502" and d.span.file.endswith("b.map")
    assert d.is_error and d.message.startswith("`refund.failed` goes to this rule and to the rule at ")
    assert d.message.endswith("a.map:1 (`on \"refund.*\"`) with equal precedence: only the first one loaded runs, "
                              "so this one never does")
    (tmp_path / "c.map").write_text('on "refund.failed"\nname = "refund.failed"\n')
    assert compile_paths([tmp_path]).diagnostics == []
