"""The seed's three transformations written by hand in idiomatic Python: the yardstick for the
compiled mappings in ``bench/mapping_bench.py``.

Written as a careful Python developer would: exact money with ``Decimal`` and integers (never
binary floats), ``datetime.fromisoformat`` and integer ``timedelta`` arithmetic for ``ts``, an
absent input field leaves the output field out (``null`` stays ``null``), dispatch on the event
type with a dict. Two sets, each giving the same JSON as its compiled counterpart on the bench
corpus (the bench checks this before it times anything):

* ``SHIPPED`` — what ``mappings/payment.map``, ``subscription.map`` and ``dispute.map`` (with
  ``_settings.map``) do for the seed's event types: the library's data contract (``ts`` in ms,
  currency decimals and minor units, an ``id``, ``v``, every field of docs/mappings.md);
* ``LITERAL`` — what ``tests/seed/literal/*.map`` (and so the seed's JavaScript) do: ``ts`` in
  seconds, ``(x / 100).toFixed(2)`` computed exactly, JavaScript's ``||``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from iso4217 import Currency

Event = dict[str, Any]
Body = dict[str, Any]

EXPONENT: dict[str, int] = {c.code: c.exponent or 0 for c in Currency}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
SECOND = timedelta(seconds=1)
CENT = Decimal("0.01")


def money(units: Any, currency: Any) -> str | None:
    """Minor units (an integer, or Dodo's text of one) → decimal text with the currency's decimals."""
    if units is None or currency is None:
        return None
    return str(Decimal(int(units)).scaleb(-EXPONENT[currency.upper()]))


def cents(amount: Any) -> str | None:
    """``(amount / 100).toFixed(2)``, exactly."""
    if amount is None:
        return None
    d = Decimal(repr(amount)) if type(amount) is float else Decimal(amount)
    q = (d / 100).quantize(CENT, ROUND_HALF_UP)
    return str(abs(q) if q == 0 else q)


def parse_time(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def epoch_ms(text: str) -> int:
    return (parse_time(text) - EPOCH) // MILLISECOND


def epoch(text: str) -> int:
    return (parse_time(text) - EPOCH) // SECOND


def js_or(value: Any, default: Any) -> Any:
    """JavaScript's ``value || default`` over JSON values (``[]`` and ``{}`` are truthy there)."""
    if value is None or value is False or value == "" or (type(value) in (int, float) and value == 0):
        return default
    return value


def event_id(body: Body, object_id: Any) -> str | None:
    if object_id is None:
        return None
    return f"dodo:{body['type']}:{object_id}:{body['timestamp']}"


# --- SHIPPED: mappings/{payment,subscription,dispute}.map for the seed's event types -------------
# (with mappings/_settings.map: prefix "", version "2"; the data contract of docs/mappings.md)


def text(value: Any) -> str:
    """The mapping language's ``string(x)`` for the JSON scalars metadata holds."""
    if value is True or value is False:
        return "true" if value else "false"
    return value if type(value) is str else str(value)


def copy_keys(out: dict[str, Any], d: dict[str, Any], pairs: tuple[tuple[str, str], ...]) -> None:
    for key, src in pairs:
        if src in d:
            out[key] = d[src]


def put_money(out: dict[str, Any], key: str, d: dict[str, Any], src: str, currency_key: str) -> None:
    """``key = money(src, currency)`` and ``key_minor = src``: absent stays absent, null stays null."""
    if src in d:
        if currency_key in d:
            out[key] = money(d[src], d[currency_key])
        out[key + "_minor"] = d[src]


def envelope(body: Body, name: str, object_id: Any) -> Event:
    """The group ``event``: name, v, id and ts."""
    return {"name": name, "v": "2", "id": event_id(body, object_id), "ts": epoch_ms(body["timestamp"])}


def customer_lines(data: dict[str, Any], user: dict[str, Any], d: dict[str, Any]) -> None:
    """The group ``customer``."""
    customer = d.get("customer") or {}
    copy_keys(data, customer, (("customer_id", "customer_id"), ("customer_email", "email"),
                               ("customer_name", "name"), ("customer_metadata", "metadata")))
    copy_keys(user, customer, (("customer_id", "customer_id"), ("email", "email")))


def external_id_lines(data: dict[str, Any], user: dict[str, Any], d: dict[str, Any]) -> None:
    """The group ``external_id``."""
    if "metadata" in d:
        data["metadata"] = d["metadata"]
    user_id = (d.get("metadata") or {}).get("user_id")
    if user_id is not None:
        user["external_id"] = text(user_id)


PAYMENT_KEYS = (
    ("status", "status"), ("created_at", "created_at"), ("charge_type", "charge_type"),
    ("subscription_id", "subscription_id"), ("subscription_ids", "subscription_ids"),
    ("service_periods", "service_periods"), ("product_cart", "product_cart"), ("discounts", "discounts"),
    ("discount_id", "discount_id"), ("billing", "billing"), ("custom_field_responses", "custom_field_responses"),
    ("checkout_session_id", "checkout_session_id"), ("invoice_id", "invoice_id"),
    ("payment_method", "payment_method"), ("payment_method_type", "payment_method_type"),
    ("card_network", "card_network"), ("card_last_four", "card_last_four"), ("card_type", "card_type"),
    ("card_issuing_country", "card_issuing_country"), ("error_code", "error_code"),
    ("error_message", "error_message"), ("retry_attempt", "retry_attempt"), ("payment_link", "payment_link"),
    ("settlement_currency", "settlement_currency"),
)


def shipped_payment_succeeded(body: Body) -> Event:
    d = body["data"]
    out = envelope(body, body["type"], d["payment_id"])
    data: dict[str, Any] = {"payment_id": d["payment_id"], "currency": d["currency"]}
    copy_keys(data, d, PAYMENT_KEYS)
    put_money(data, "amount", d, "total_amount", "currency")
    put_money(data, "tax", d, "tax", "currency")
    put_money(data, "settlement_amount", d, "settlement_amount", "settlement_currency")
    put_money(data, "settlement_tax", d, "settlement_tax", "settlement_currency")
    user: dict[str, Any] = {}
    customer_lines(data, user, d)
    external_id_lines(data, user, d)
    out["data"], out["user"] = data, user
    return out


SUBSCRIPTION_KEYS = (
    ("status", "status"), ("product_id", "product_id"), ("quantity", "quantity"), ("addons", "addons"),
    ("tax_inclusive", "tax_inclusive"), ("currency", "currency"), ("frequency", "payment_frequency_interval"),
    ("frequency_count", "payment_frequency_count"), ("period_interval", "subscription_period_interval"),
    ("period_count", "subscription_period_count"), ("trial_period_days", "trial_period_days"),
    ("created_at", "created_at"), ("previous_billing_at", "previous_billing_date"),
    ("next_billing_at", "next_billing_date"), ("cancel_at_next_billing", "cancel_at_next_billing_date"),
    ("cancelled_at", "cancelled_at"), ("cancellation_feedback", "cancellation_feedback"),
    ("cancellation_comment", "cancellation_comment"), ("paused_at", "paused_at"), ("expires_at", "expires_at"),
    ("past_due_ends_at", "past_due_ends_at"), ("payment_id", "payment_id"),
    ("payment_method_id", "payment_method_id"), ("has_payment_method", "has_payment_method"),
    ("scheduled_change", "scheduled_change"), ("discounts", "discounts"), ("discount_id", "discount_id"),
    ("billing", "billing"), ("tax_id", "tax_id"), ("customer_business_name", "customer_business_name"),
    ("on_demand", "on_demand"),
)


def shipped_subscription(body: Body) -> Event:
    d = body["data"]
    name = "subscription.started" if body["type"] == "subscription.active" else body["type"]
    out = envelope(body, name, d["subscription_id"])
    data: dict[str, Any] = {"subscription_id": d["subscription_id"]}
    copy_keys(data, d, SUBSCRIPTION_KEYS)
    put_money(data, "recurring_amount", d, "recurring_pre_tax_amount", "currency")
    put_money(data, "trial_amount", d, "trial_amount", "currency")
    cancelled_by = d.get("cancelled_by") or {}
    if "actor_type" in cancelled_by:
        data["cancelled_by"] = cancelled_by["actor_type"]
    user: dict[str, Any] = {}
    customer_lines(data, user, d)
    external_id_lines(data, user, d)
    out["data"], out["user"] = data, user
    return out


def shipped_dispute(body: Body) -> Event:
    d = body["data"]
    out = envelope(body, body["type"], d["dispute_id"])
    data: dict[str, Any] = {"dispute_id": d["dispute_id"], "payment_id": d["payment_id"],
                            "amount": money(d["amount"], d["currency"]), "amount_minor": int(d["amount"]),
                            "currency": d["currency"], "urgent": body["type"] == "dispute.opened"}
    copy_keys(data, d, (("status", "dispute_status"), ("stage", "dispute_stage"), ("remarks", "remarks"),
                        ("is_resolved_by_rdr", "is_resolved_by_rdr"), ("created_at", "created_at")))
    user: dict[str, Any] = {}
    customer_lines(data, user, d)
    out["data"], out["user"] = data, user
    return out


# --- LITERAL: the seed's JavaScript, as tests/seed/literal/*.map translate it --------------------


def literal_payment_succeeded(body: Body) -> Event:
    d = body["data"]
    customer = d.get("customer") or {}
    data: dict[str, Any] = {}
    if "payment_id" in d:
        data["payment_id"] = d["payment_id"]
    if "total_amount" in d:
        data["amount"] = cents(d["total_amount"])
    data["currency"] = js_or(d.get("currency"), "USD")
    if "email" in customer:
        data["customer_email"] = customer["email"]
    if "name" in customer:
        data["customer_name"] = customer["name"]
    data["payment_method"] = js_or(d.get("payment_method"), "unknown")
    user = {"email": customer["email"]} if "email" in customer else {}
    return {"name": "payment.succeeded", "data": data, "user": user, "ts": epoch(body["timestamp"])}


def literal_subscription_active(body: Body) -> Event:
    d = body["data"]
    customer = d.get("customer") or {}
    data: dict[str, Any] = {}
    if "subscription_id" in d:
        data["subscription_id"] = d["subscription_id"]
    if "email" in customer:
        data["customer_email"] = customer["email"]
    if "name" in customer:
        data["customer_name"] = customer["name"]
    if "product_id" in d:
        data["product_id"] = d["product_id"]
    if "recurring_pre_tax_amount" in d:
        data["amount"] = cents(d["recurring_pre_tax_amount"])
    if "payment_frequency_interval" in d:
        data["frequency"] = d["payment_frequency_interval"]
    if "next_billing_date" in d:
        data["next_billing"] = d["next_billing_date"]
    user = {"email": customer["email"]} if "email" in customer else {}
    return {"name": "subscription.started", "data": data, "user": user, "ts": epoch(body["timestamp"])}


def literal_subscription_cancelled(body: Body) -> Event:
    d = body["data"]
    customer = d.get("customer") or {}
    data: dict[str, Any] = {}
    if "subscription_id" in d:
        data["subscription_id"] = d["subscription_id"]
    if "email" in customer:
        data["customer_email"] = customer["email"]
    if "cancelled_at" in d:
        data["cancelled_at"] = d["cancelled_at"]
    if "cancel_at_next_billing_date" in d:
        data["cancel_at_next_billing"] = d["cancel_at_next_billing_date"]
    user = {"email": customer["email"]} if "email" in customer else {}
    return {"name": "subscription.cancelled", "data": data, "user": user, "ts": epoch(body["timestamp"])}


def literal_dispute(body: Body) -> Event:
    d = body["data"]
    customer = d.get("customer") or {}
    data: dict[str, Any] = {}
    for key in ("dispute_id", "payment_id"):
        if key in d:
            data[key] = d[key]
    if "amount" in d:
        data["amount"] = cents(d["amount"])
    if "dispute_status" in d:
        data["status"] = d["dispute_status"]
    if "dispute_stage" in d:
        data["stage"] = d["dispute_stage"]
    data["remarks"] = js_or(d.get("remarks"), "")
    data["urgent"] = body["type"] == "dispute.opened"
    user = {"email": js_or(customer.get("email"), "unknown")}
    return {"name": body["type"], "data": data, "user": user, "ts": epoch(body["timestamp"])}


# --- dispatch ------------------------------------------------------------------------------------


class Transformations:
    """``apply(body) -> list of events``, like ``MappingSet.apply``: exact types by dict lookup,
    then the ``dispute.*`` prefix; a type nothing handles gives no event."""

    def __init__(self, exact: dict[str, Callable[[Body], Event]], dispute: Callable[[Body], Event]) -> None:
        self.exact = exact
        self.dispute = dispute

    def apply(self, body: Body) -> list[Event]:
        event_type = body["type"]
        fn = self.exact.get(event_type)
        if fn is not None:
            return [fn(body)]
        if event_type.startswith("dispute."):
            return [self.dispute(body)]
        return []


SHIPPED = Transformations({
    "payment.succeeded": shipped_payment_succeeded,
    "subscription.active": shipped_subscription,
    "subscription.cancelled": shipped_subscription,
}, shipped_dispute)

LITERAL = Transformations({
    "payment.succeeded": literal_payment_succeeded,
    "subscription.active": literal_subscription_active,
    "subscription.cancelled": literal_subscription_cancelled,
}, literal_dispute)
