#!/usr/bin/env python3
"""Generate ``dsl/schemas/dodo.json``: the body schema of every Dodo Payments webhook event type.

Why: the paymap checker validates every input path a ``.map`` file reads against the real Dodo
event shapes. The source of truth for those shapes is the official ``dodopayments`` SDK (pydantic
v2 models generated from Dodo's OpenAPI spec), but the SDK is only a *test* dependency, so the
compiler cannot import it at runtime. Instead this script walks the SDK models once and the result
is committed as plain data; ``tests/test_dodo_schema.py`` regenerates it in memory and fails when
the committed file drifts from the installed SDK.

On top of the SDK it applies a few corrections taken from the project's Dodo webhook notes (what
real deliveries carry but the SDK does not model); each is explained below and recorded as a
``"note"`` on the field in the JSON.

Usage::

    .venv/bin/python scripts/gen_dodo_schema.py          # (re)write dsl/schemas/dodo.json
    .venv/bin/python scripts/gen_dodo_schema.py --check  # exit 1 with a diff summary if stale
"""

from __future__ import annotations

import argparse
import collections.abc
import datetime as dt
import enum
import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dodopayments
import pydantic
from dodopayments.types.customer_limited_details import CustomerLimitedDetails
from dodopayments.types.unwrap_webhook_event import UnwrapWebhookEvent
from dodopayments.types.webhook_event_type import WebhookEventType

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "dsl" / "schemas" / "dodo.json"

Node = dict[str, Any]

# --------------------------------------------------------------------------------------------
# Explicit tables. Keys are SDK model ids: module path below ``dodopayments.types.`` + class
# qualname. A table entry applies to the model and to every subclass of it (the per-event
# subscription ``Data`` classes subclass ``subscription.Subscription``). Every entry must match a
# field of the expected type somewhere, otherwise generation fails: an SDK rename must be noticed,
# not silently drop an annotation.
# --------------------------------------------------------------------------------------------

# Strings that hold a decimal number (not money in minor units; compare as decimals, never as
# floats). Only where the SDK docstrings or the reference say so:
#   * reference §3 / §4 "Dispute": dispute ``amount`` is a string "to accommodate precision";
#   * reference §3 / §4 "CreditLedgerEntry": credit ledger amounts and balances are decimal
#     strings of credits;
#   * reference §4 "CreditBalanceLow": available_balance, subscription_credits_amount,
#     threshold_amount are decimal strings;
#   * reference §4 "Subscription" meters: ``price_per_unit`` (str) — the SDK's meter price params
#     document it as a decimal with up to 12 decimal places.
# Consumers must parse these with Decimal, not a digits-only pattern: exponent notation occurs
# (samples/dodo/credit.manual_adjustment.json has balance_after "-1e+06").
DECIMAL_STRING_FIELDS: dict[str, frozenset[str]] = {
    "dispute.Dispute": frozenset({"amount"}),
    "credit_entitlements.credit_ledger_entry.CreditLedgerEntry": frozenset(
        {"amount", "balance_after", "balance_before", "overage_after", "overage_before"}
    ),
    "credit_balance_low_webhook_event.Data": frozenset(
        {"available_balance", "subscription_credits_amount", "threshold_amount"}
    ),
    "meter_cart_response_item.MeterCartResponseItem": frozenset({"price_per_unit"}),
}

# Integer money in the currency's smallest unit (reference §3): field -> sibling currency field.
# Lets the checker suggest ``money(x, currency)`` instead of ``x / 100`` (wrong for JPY, KWD, ...).
_PAYOUT_MONEY = {"amount": "currency", "fee": "currency"}
MONEY_FIELDS: dict[str, dict[str, str]] = {
    "payment.Payment": {
        "total_amount": "currency",
        "tax": "currency",
        "settlement_amount": "settlement_currency",
        "settlement_tax": "settlement_currency",
    },
    "subscription.Subscription": {"recurring_pre_tax_amount": "currency", "trial_amount": "currency"},
    "refund.Refund": {"amount": "currency"},
    # the refunds embedded in a payment (payment.refunds[])
    "refund_list_item.RefundListItem": {"amount": "currency"},
    # payouts have one Data class per event module (reference §4 "Payout")
    "payout_created_webhook_event.Data": _PAYOUT_MONEY,
    "payout_on_hold_webhook_event.Data": _PAYOUT_MONEY,
    "payout_in_progress_webhook_event.Data": _PAYOUT_MONEY,
    "payout_failed_webhook_event.Data": _PAYOUT_MONEY,
    "payout_success_webhook_event.Data": _PAYOUT_MONEY,
}

# data.payload_type per event family (reference §1 table). Keyed by the part of the event type
# before the dot; exact event types override the family.
PAYLOAD_TYPE_BY_FAMILY: dict[str, str] = {
    "payment": "Payment",
    "refund": "Refund",
    "dispute": "Dispute",
    "subscription": "Subscription",
    "license_key": "LicenseKey",
    "payout": "Payout",
    "credit": "CreditLedgerEntry",
    "abandoned_checkout": "AbandonedCheckout",
    "dunning": "DunningAttempt",
    "entitlement_grant": "EntitlementGrant",
}
PAYLOAD_TYPE_BY_EVENT: dict[str, str] = {"credit.balance_low": "CreditBalanceLow"}

# JSON notes for the corrections (see apply_corrections).
NOTE_PAYLOAD_TYPE = (
    "Not modelled by the dodopayments SDK (its models allow extra fields) but present on real "
    "deliveries and in all Dodo doc samples; constant per event family."
)
NOTE_DISPUTE_CUSTOMER = (
    "Not in the current SDK Dispute model; sent by older webhook shapes and the Dodo CLI mock, "
    "and read by Dodo's Inngest example (d.customer?.email). Treat as optional."
)
NOTE_DISPUTE_REASON = (
    "Not in the current SDK Dispute model; seen in older webhook shapes and the Dodo CLI mock. "
    "Treat as optional."
)
NOTE_SUB_PAST_DUE_ENDS_AT = (
    "Webhook-only subscription field (grace-period end); added because the SDK lacks it."
)
NOTE_SUB_PAYMENT_ID = (
    "Webhook-only subscription field: set only for subscription.renewed, null otherwise; "
    "added because the SDK lacks it."
)


def model_id(cls: type) -> str:
    return f"{cls.__module__.removeprefix('dodopayments.types.')}.{cls.__qualname__}"


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _split_none(tp: Any) -> tuple[Any, bool]:
    """``Optional[X]`` -> (X, True); anything else -> (tp, False)."""
    tp = _strip_annotated(tp)
    if not _is_union(tp):
        return tp, tp is type(None)
    args = typing.get_args(tp)
    rest = [a for a in args if a is not type(None)]
    if len(rest) == len(args):
        return tp, False
    if len(rest) == 1:
        return rest[0], True
    return typing.Union[tuple(rest)], True  # noqa: UP007  (runtime construction of a union)


def _literal_node(values: tuple[Any, ...], where: str) -> Node:
    if not all(isinstance(v, str) for v in values):
        raise TypeError(f"{where}: non-string Literal {values!r} is not representable")
    uniq = list(dict.fromkeys(values))  # keep SDK order, drop duplicates
    if len(uniq) == 1:
        return {"type": "string", "const": uniq[0]}
    return {"type": "string", "enum": uniq}


class Walker:
    """Turns SDK annotations into schema nodes. Fresh dicts every time (no sharing), so later
    per-event corrections can mutate one event's tree without touching another's."""

    def __init__(self) -> None:
        self._stack: list[type] = []  # models being expanded: recursion guard
        self.used_decimal: set[tuple[str, str]] = set()
        self.used_money: set[tuple[str, str]] = set()

    def node(self, tp: Any, where: str) -> Node:
        tp = _strip_annotated(tp)
        origin = typing.get_origin(tp)
        if tp is str:
            return {"type": "string"}
        if tp is bool:
            return {"type": "bool"}
        if tp is int:
            return {"type": "int"}
        if tp is float:
            return {"type": "number"}
        if tp is dt.datetime:  # before date: datetime subclasses date
            return {"type": "datetime"}
        if tp is dt.date:
            return {"type": "date"}
        if tp is Any or tp is object:
            return {"type": "any"}
        if origin is typing.Literal:
            return _literal_node(typing.get_args(tp), where)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return _literal_node(tuple(m.value for m in tp), where)
        if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
            return self.model(tp)
        if origin in (list, tuple, set, frozenset, collections.abc.Sequence):
            args = typing.get_args(tp)
            if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
                raise TypeError(f"{where}: fixed-length tuple {tp!r} is not representable")
            return {"type": "list", "items": self._non_null(args[0], f"{where}[]")}
        if origin is dict:
            key, value = typing.get_args(tp)
            if key is not str:
                raise TypeError(f"{where}: dict key {key!r} is not str")
            return {"type": "map", "values": self._non_null(value, f"{where}{{}}")}
        if _is_union(tp):
            return {"type": "union", "of": [self._non_null(a, where) for a in typing.get_args(tp)]}
        raise TypeError(f"{where}: unsupported annotation {tp!r}")

    def _non_null(self, tp: Any, where: str) -> Node:
        # Nullability only exists on object fields in this format; a nullable list item, map value
        # or union member would need a format extension, so fail loudly instead of dropping it.
        inner, nullable = _split_none(tp)
        if nullable:
            raise TypeError(f"{where}: nullable {tp!r} outside an object field is not representable")
        return self.node(inner, where)

    def model(self, cls: type[pydantic.BaseModel]) -> Node:
        if cls in self._stack:
            # Self-referential model: stop here rather than recurse forever.
            return {"type": "any", "title": cls.__name__, "note": f"recursive reference to {cls.__name__}"}
        self._stack.append(cls)
        try:
            ids = [
                model_id(c) for c in cls.__mro__ if isinstance(c, type) and issubclass(c, pydantic.BaseModel)
            ]
            fields: dict[str, Node] = {}
            for name, info in cls.model_fields.items():
                key = info.alias or name  # the wire name
                fields[key] = self.field(info, f"{cls.__name__}.{name}", ids, name)
        finally:
            self._stack.pop()
        self._check_currency_siblings(cls, fields)
        return {
            "type": "object",
            "title": cls.__name__,
            # Stainless models use extra="allow": unknown keys are accepted and kept.
            "extra": cls.model_config.get("extra") == "allow",
            "fields": fields,
        }

    def field(self, info: Any, where: str, ids: list[str], name: str) -> Node:
        inner, nullable = _split_none(info.annotation)
        schema = self.node(inner, where)
        for mid in ids:
            if name in DECIMAL_STRING_FIELDS.get(mid, ()):
                if schema != {"type": "string"}:
                    raise TypeError(f"{where}: listed as decimal string but SDK type is {schema}")
                schema = {"type": "decimal_string"}
                self.used_decimal.add((mid, name))
            currency = MONEY_FIELDS.get(mid, {}).get(name)
            if currency is not None:
                if schema.get("type") != "int":
                    raise TypeError(f"{where}: listed as money but SDK type is {schema}")
                schema["money"] = True
                schema["currency_field"] = currency
                self.used_money.add((mid, name))
        return {
            "schema": schema,
            # optional = may be absent: pydantic has a default (the SDK uses ``= None``)
            "optional": not info.is_required(),
            "nullable": nullable,
        }

    @staticmethod
    def _check_currency_siblings(cls: type, fields: dict[str, Node]) -> None:
        for name, f in fields.items():
            currency = f["schema"].get("currency_field")
            if currency is not None and currency not in fields:
                raise TypeError(f"{cls.__name__}.{name}: currency field {currency!r} is not a sibling")


def sdk_event_models() -> dict[str, type[pydantic.BaseModel]]:
    """Event type -> SDK event model, in WebhookEventType order."""
    names = typing.get_args(WebhookEventType)
    union = typing.get_args(UnwrapWebhookEvent)[0]  # Annotated[Union[...], PropertyInfo]
    by_type: dict[str, type[pydantic.BaseModel]] = {}
    for cls in typing.get_args(union):
        (literal,) = typing.get_args(cls.model_fields["type"].annotation)
        by_type[literal] = cls
    if set(names) != set(by_type):
        raise SystemExit(
            "WebhookEventType and UnwrapWebhookEvent disagree: "
            f"only in literal {sorted(set(names) - set(by_type))}, "
            f"only in union {sorted(set(by_type) - set(names))}"
        )
    return {name: by_type[name] for name in names}


def payload_type(event: str) -> str:
    if event in PAYLOAD_TYPE_BY_EVENT:
        return PAYLOAD_TYPE_BY_EVENT[event]
    family = event.split(".", 1)[0]
    if family not in PAYLOAD_TYPE_BY_FAMILY:
        raise SystemExit(
            f"unknown event family for {event!r}: add it to PAYLOAD_TYPE_BY_FAMILY (reference §1)"
        )
    return PAYLOAD_TYPE_BY_FAMILY[family]


def _extra_field(schema: Node, *, optional: bool, nullable: bool, note: str) -> Node:
    return {"schema": schema, "optional": optional, "nullable": nullable, "note": note}


def apply_corrections(event: str, data: Node, walker: Walker) -> None:
    """Reference corrections the SDK lacks. Each is added only when the SDK does not already
    model the field, so an SDK that catches up wins (and the drift test shows the change)."""
    fields = data["fields"]
    # Reference §2: every delivery's data carries payload_type (the family name, §1); the SDK
    # does not model it. Required: present on all real deliveries and doc samples.
    if "payload_type" not in fields:
        fields["payload_type"] = _extra_field(
            {"type": "string", "const": payload_type(event)},
            optional=False,
            nullable=False,
            note=NOTE_PAYLOAD_TYPE,
        )
    family = event.split(".", 1)[0]
    # Reference §4 "Dispute": customer and reason appear in other sources; "Treat as optional".
    if family == "dispute":
        if "customer" not in fields:
            fields["customer"] = _extra_field(
                walker.model(CustomerLimitedDetails), optional=True, nullable=True, note=NOTE_DISPUTE_CUSTOMER
            )
        if "reason" not in fields:
            fields["reason"] = _extra_field(
                {"type": "string"}, optional=True, nullable=True, note=NOTE_DISPUTE_REASON
            )
    # Reference §4 "Subscription": webhook-only extras. SDK 1.123.0 already has both on every
    # per-event Data subclass, so today this is a no-op kept for older SDKs.
    if family == "subscription":
        if "past_due_ends_at" not in fields:
            fields["past_due_ends_at"] = _extra_field(
                {"type": "datetime"}, optional=True, nullable=True, note=NOTE_SUB_PAST_DUE_ENDS_AT
            )
        if "payment_id" not in fields:
            fields["payment_id"] = _extra_field(
                {"type": "string"}, optional=True, nullable=True, note=NOTE_SUB_PAYMENT_ID
            )


def build_schema() -> dict[str, Any]:
    walker = Walker()
    events: dict[str, Node] = {}
    for event, cls in sdk_event_models().items():
        body = walker.model(cls)
        data_field = body["fields"]["data"]
        if data_field["schema"].get("type") != "object" or data_field["nullable"]:
            raise TypeError(f"{event}: data is not a non-null object: {data_field}")
        apply_corrections(event, data_field["schema"], walker)
        events[event] = body
    missing_decimal = {(m, f) for m, fs in DECIMAL_STRING_FIELDS.items() for f in fs} - walker.used_decimal
    missing_money = {(m, f) for m, fs in MONEY_FIELDS.items() for f in fs} - walker.used_money
    if missing_decimal or missing_money:
        raise SystemExit(
            f"table entries matched no SDK field (renamed?): decimal {sorted(missing_decimal)}, "
            f"money {sorted(missing_money)}"
        )
    return {"source": f"dodopayments {dodopayments.__version__}", "events": events}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def diff_summary(old: Any, new: Any, path: str = "$") -> Iterator[str]:
    """Yield human-readable differences between two JSON values (old -> new)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() - new.keys()):
            yield f"- {path}.{key}"
        for key in sorted(new.keys() - old.keys()):
            yield f"+ {path}.{key}: {_short(new[key])}"
        for key in sorted(old.keys() & new.keys()):
            yield from diff_summary(old[key], new[key], f"{path}.{key}")
    elif isinstance(old, list) and isinstance(new, list) and old != new:
        if all(not isinstance(v, dict | list) for v in old + new):
            removed = [v for v in old if v not in new]
            added = [v for v in new if v not in old]
            if removed or added:
                yield f"~ {path}: removed {_short(removed)} added {_short(added)}"
            else:
                yield f"~ {path}: reordered"
        else:
            for i, (a, b) in enumerate(zip(old, new, strict=False)):
                yield from diff_summary(a, b, f"{path}[{i}]")
            if len(old) != len(new):
                yield f"~ {path}: length {len(old)} -> {len(new)}"
    elif old != new:
        yield f"~ {path}: {_short(old)} -> {_short(new)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    args = parser.parse_args(argv)
    schema = build_schema()
    text = render(schema)
    rel = OUTPUT.relative_to(ROOT)
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else None
        if current == text:
            print(f"{rel} is up to date ({schema['source']})")
            return 0
        print(
            f"{rel} is stale; regenerate with: .venv/bin/python scripts/gen_dodo_schema.py", file=sys.stderr
        )
        if current is None:
            print(f"  (missing {rel})", file=sys.stderr)
        else:
            lines = list(diff_summary(json.loads(current), schema)) or ["(formatting only)"]
            for line in lines[:60]:
                print(f"  {line}", file=sys.stderr)
            if len(lines) > 60:
                print(f"  ... and {len(lines) - 60} more", file=sys.stderr)
        return 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {rel}: {len(schema['events'])} events from {schema['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
