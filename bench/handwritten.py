"""The seed's three transformations written by hand in idiomatic Python: the yardstick for the
compiled mappings in ``bench/mapping_bench.py``.

Written as a careful Python developer would: exact money with ``Decimal`` and integers (never
binary floats), ``datetime.fromisoformat`` and integer ``timedelta`` arithmetic for ``ts``, an
absent input field leaves the output field out (``null`` stays ``null``), dispatch on the event
type with a dict. Two sets, each giving the same JSON as its compiled counterpart on the bench
corpus (the bench checks this before it times anything):

* ``SHIPPED`` — what ``mappings/payment.map``, ``subscription.map`` and ``dispute.map`` do for
  the seed's event types (the corrected rules: ``ts`` in ms, currency decimals, an ``id``, more
  fields);
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


def shipped_payment_succeeded(body: Body) -> Event:
    d = body["data"]
    customer = d.get("customer") or {}
    currency = d.get("currency")
    out: Event = {"name": "payment.succeeded"}
    if "payment_id" in d:
        out["id"] = event_id(body, d["payment_id"])
    data: dict[str, Any] = {}
    if "payment_id" in d:
        data["payment_id"] = d["payment_id"]
    if "total_amount" in d and "currency" in d:
        data["amount"] = money(d["total_amount"], currency)
    if "currency" in d:
        data["currency"] = currency
    if "email" in customer:
        data["customer_email"] = customer["email"]
    if "name" in customer:
        data["customer_name"] = customer["name"]
    method = d.get("payment_method")
    data["payment_method"] = "unknown" if method is None else method
    if "customer_id" in customer:
        data["customer_id"] = customer["customer_id"]
    if "status" in d:
        data["status"] = d["status"]
    if "tax" in d and "currency" in d:
        data["tax"] = money(d["tax"], currency)
    if "settlement_amount" in d and "settlement_currency" in d:
        data["settlement_amount"] = money(d["settlement_amount"], d["settlement_currency"])
    for key in ("settlement_currency", "subscription_id", "invoice_id", "product_cart", "metadata"):
        if key in d:
            data[key] = d[key]
    out["data"] = data
    user = out["user"] = {}
    if "email" in customer:
        user["email"] = customer["email"]
    out["ts"] = epoch_ms(body["timestamp"])
    if "customer_id" in customer:
        user["customer_id"] = customer["customer_id"]
    return out


def shipped_subscription_active(body: Body) -> Event:
    d = body["data"]
    customer = d.get("customer") or {}
    out: Event = {"name": "subscription.started"}
    if "subscription_id" in d:
        out["id"] = event_id(body, d["subscription_id"])
    data: dict[str, Any] = {}
    if "subscription_id" in d:
        data["subscription_id"] = d["subscription_id"]
    if "email" in customer:
        data["customer_email"] = customer["email"]
    if "name" in customer:
        data["customer_name"] = customer["name"]
    if "product_id" in d:
        data["product_id"] = d["product_id"]
    if "recurring_pre_tax_amount" in d and "currency" in d:
        data["amount"] = money(d["recurring_pre_tax_amount"], d["currency"])
    if "currency" in d:
        data["currency"] = d["currency"]
    if "payment_frequency_interval" in d:
        data["frequency"] = d["payment_frequency_interval"]
    if "next_billing_date" in d:
        data["next_billing"] = d["next_billing_date"]
    if "customer_id" in customer:
        data["customer_id"] = customer["customer_id"]
    for key in ("status", "quantity"):
        if key in d:
            data[key] = d[key]
    if "payment_frequency_count" in d:
        data["frequency_count"] = d["payment_frequency_count"]
    for key in ("trial_period_days", "metadata"):
        if key in d:
            data[key] = d[key]
    out["data"] = data
    user = out["user"] = {}
    if "email" in customer:
        user["email"] = customer["email"]
    out["ts"] = epoch_ms(body["timestamp"])
    if "customer_id" in customer:
        user["customer_id"] = customer["customer_id"]
    return out


def shipped_subscription_cancelled(body: Body) -> Event:
    d = body["data"]
    customer = d.get("customer") or {}
    out: Event = {"name": "subscription.cancelled"}
    if "subscription_id" in d:
        out["id"] = event_id(body, d["subscription_id"])
    data: dict[str, Any] = {}
    if "subscription_id" in d:
        data["subscription_id"] = d["subscription_id"]
    if "email" in customer:
        data["customer_email"] = customer["email"]
    if "cancelled_at" in d:
        data["cancelled_at"] = d["cancelled_at"]
    if "cancel_at_next_billing_date" in d:
        data["cancel_at_next_billing"] = d["cancel_at_next_billing_date"]
    if "customer_id" in customer:
        data["customer_id"] = customer["customer_id"]
    if "name" in customer:
        data["customer_name"] = customer["name"]
    if "product_id" in d:
        data["product_id"] = d["product_id"]
    if "recurring_pre_tax_amount" in d and "currency" in d:
        data["amount"] = money(d["recurring_pre_tax_amount"], d["currency"])
    if "currency" in d:
        data["currency"] = d["currency"]
    if "payment_frequency_interval" in d:
        data["frequency"] = d["payment_frequency_interval"]
    for key in ("status", "cancellation_feedback", "cancellation_comment"):
        if key in d:
            data[key] = d[key]
    cancelled_by = d.get("cancelled_by") or {}
    if "actor_type" in cancelled_by:
        data["cancelled_by"] = cancelled_by["actor_type"]
    if "metadata" in d:
        data["metadata"] = d["metadata"]
    out["data"] = data
    user = out["user"] = {}
    if "email" in customer:
        user["email"] = customer["email"]
    out["ts"] = epoch_ms(body["timestamp"])
    if "customer_id" in customer:
        user["customer_id"] = customer["customer_id"]
    return out


def shipped_dispute(body: Body) -> Event:
    d = body["data"]
    customer = d.get("customer") or {}
    out: Event = {"name": body["type"]}
    if "dispute_id" in d:
        out["id"] = event_id(body, d["dispute_id"])
    data: dict[str, Any] = {}
    for key in ("dispute_id", "payment_id"):
        if key in d:
            data[key] = d[key]
    if "amount" in d and "currency" in d:
        data["amount"] = money(d["amount"], d["currency"])
    if "currency" in d:
        data["currency"] = d["currency"]
    if "dispute_status" in d:
        data["status"] = d["dispute_status"]
    if "dispute_stage" in d:
        data["stage"] = d["dispute_stage"]
    remarks = d.get("remarks")
    data["remarks"] = "" if remarks is None else remarks
    data["urgent"] = body["type"] == "dispute.opened"
    email = customer.get("email")
    out["data"] = data
    user = out["user"] = {"email": "unknown" if email is None else email}
    out["ts"] = epoch_ms(body["timestamp"])
    if "customer_id" in customer:
        data["customer_id"] = customer["customer_id"]
    if "is_resolved_by_rdr" in d:
        data["is_resolved_by_rdr"] = d["is_resolved_by_rdr"]
    if "customer_id" in customer:
        user["customer_id"] = customer["customer_id"]
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
    "subscription.active": shipped_subscription_active,
    "subscription.cancelled": shipped_subscription_cancelled,
}, shipped_dispute)

LITERAL = Transformations({
    "payment.succeeded": literal_payment_succeeded,
    "subscription.active": literal_subscription_active,
    "subscription.cancelled": literal_subscription_cancelled,
}, literal_dispute)
