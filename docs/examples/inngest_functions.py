"""Inngest functions that consume the events of paymap's mapping library (docs/cookbook.md).

Each function is triggered by an event name that a rule in `mappings/` produces, and reads only
fields that rule sets. Run them in your app with the Inngest Python SDK (`pip install inngest`),
for example with FastAPI:

    import fastapi
    import inngest.fast_api
    from inngest_functions import client, functions

    app = fastapi.FastAPI()
    inngest.fast_api.serve(app, client, functions)

The helpers at the top (`send_email`, `save_customer`, …) stand in for your email provider,
database and analytics: they only record what they were asked to do, so the examples run as they
are (tests/test_docs_examples.py runs every function on the events mapped from Dodo's samples).
Replace their bodies with real calls.

Money arrives twice: as exact decimal strings with the currency's decimals ("29.99", JPY "2999",
KWD "12.345") to show people -- read them with `Decimal(...)`, never `float(...)` -- and as Dodo's
integer minor units (`amount_minor`: 2999) to add up, per currency.

Event names follow the library's prefix (`const prefix` in mappings/_settings.map): set
`DODO_EVENT_PREFIX` to the same text (e.g. "dodo/") and every trigger below follows.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import inngest

client = inngest.Inngest(app_id="dodo-payments", is_production=False)

PREFIX = os.environ.get("DODO_EVENT_PREFIX", "")  # the same text as `const prefix` in mappings/_settings.map


def dodo(name: str) -> inngest.TriggerEvent:
    """The trigger for a library event, e.g. dodo("payment.succeeded")."""
    return inngest.TriggerEvent(event=PREFIX + name)


def event_name(ctx: inngest.ContextSync) -> str:
    """The event's name without the prefix, e.g. "payment.succeeded"."""
    return ctx.event.name.removeprefix(PREFIX)


# --- stand-ins for your own services ------------------------------------------------------------

OUTBOX: list[dict[str, str]] = []  # emails "sent"
CUSTOMERS: dict[str, dict[str, Any]] = {}  # your customer table, by Dodo customer id
INVOICES: dict[str, dict[str, Any]] = {}  # invoices, by payment id
STOCK: dict[str, int] = {}  # units sold, by product id
METRICS: list[dict[str, Any]] = []  # rows sent to your analytics
REVENUE: dict[str, dict[str, int]] = {}  # running totals in minor units, by currency
ALERTS: list[str] = []  # messages to your team's chat


def send_email(to: str, subject: str, text: str) -> str:
    OUTBOX.append({"to": to, "subject": subject, "text": text})
    return f"sent to {to}"


def save_customer(customer_id: str, **fields: Any) -> dict[str, Any]:
    record = CUSTOMERS.setdefault(customer_id, {"customer_id": customer_id})
    record.update({k: v for k, v in fields.items() if v is not None})
    return record


def record_metric(name: str, amount_minor: int, currency: str, ref: str, **extra: int) -> dict[str, Any]:
    """One analytics row; amounts in the currency's minor units (integers: exact, and summable)."""
    row = {"metric": name, "amount_minor": amount_minor, "currency": currency, "ref": ref, **extra}
    METRICS.append(row)
    return row


def alert_team(text: str) -> str:
    ALERTS.append(text)
    return text


def data_of(ctx: inngest.ContextSync) -> dict[str, Any]:
    """The event's `data` as a plain dict (fields the mapping left out are simply absent)."""
    return dict(ctx.event.data)


# --- confirmation emails ------------------------------------------------------------------------


@client.create_function(fn_id="send-payment-confirmation", trigger=dodo("payment.succeeded"))
def send_payment_confirmation(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    if "customer_email" not in d:  # a payment without a customer email: nobody to write to
        return "no email"
    return ctx.step.run(
        "send-confirmation-email",
        send_email,
        d["customer_email"],
        f"Thank you for your payment of {d['amount']} {d['currency']}",
        f"Hi {d.get('customer_name') or 'there'}, we received {d['amount']} {d['currency']} "
        f"(payment {d['payment_id']}).",
    )


# --- customer records ---------------------------------------------------------------------------


@client.create_function(
    fn_id="sync-customer-record",
    trigger=[dodo("payment.succeeded"), dodo("subscription.started")],
)
def sync_customer_record(ctx: inngest.ContextSync) -> dict[str, Any]:
    d = data_of(ctx)
    metadata = d.get("metadata") or {}
    return ctx.step.run(
        "upsert-customer",
        lambda: save_customer(
            d["customer_id"],
            email=d.get("customer_email"),
            name=d.get("customer_name"),
            your_user_id=metadata.get("user_id"),  # the metadata you passed to Dodo's checkout
            last_event=event_name(ctx),
        ),
    )


# --- welcoming new subscribers ------------------------------------------------------------------


def price(d: dict[str, Any]) -> str:
    """A subscription's price as the customer will pay it: Dodo's price is before tax unless
    `tax_inclusive`, and then tax is added on top."""
    amount = f"{d['recurring_amount']} {d['currency']}"
    return amount if d.get("tax_inclusive") else f"{amount} plus tax"



@client.create_function(fn_id="welcome-subscriber", trigger=dodo("subscription.started"))
def welcome_subscriber(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    return ctx.step.run(
        "send-welcome-email",
        send_email,
        d["customer_email"],
        "Welcome aboard!",
        f"Your subscription {d['subscription_id']} is active: {price(d)} every "
        f"{d['frequency'].lower()}. Next billing: {d['next_billing_at'][:10]}.",
    )


# --- invoices and inventory ---------------------------------------------------------------------


@client.create_function(fn_id="create-invoice", trigger=dodo("payment.succeeded"))
def create_invoice(ctx: inngest.ContextSync) -> dict[str, Any]:
    d = data_of(ctx)
    total = Decimal(d["amount"])
    tax = Decimal(d.get("tax") or "0")

    def store() -> dict[str, Any]:
        invoice = {
            "invoice_id": d.get("invoice_id") or f"inv-{d['payment_id']}",
            "customer_id": d["customer_id"],
            "currency": d["currency"],
            "net": str(total - tax),  # exact: Decimal("29.99") - Decimal("4.49") == Decimal("25.50")
            "tax": str(tax),
            "total": str(total),
            "lines": d.get("product_cart") or [],
            "billing": d.get("billing"),  # country, state, zipcode: where the tax was due
        }
        INVOICES[d["payment_id"]] = invoice
        return invoice

    invoice = ctx.step.run("store-invoice", store)
    if "customer_email" in d:
        ctx.step.run("email-invoice", send_email, d["customer_email"], f"Invoice {invoice['invoice_id']}",
                     f"Total {invoice['total']} {invoice['currency']} (tax {invoice['tax']}).")
    return invoice


@client.create_function(fn_id="update-inventory", trigger=dodo("payment.succeeded"))
def update_inventory(ctx: inngest.ContextSync) -> dict[str, int]:
    cart = data_of(ctx).get("product_cart") or []  # one-time purchases; null for subscriptions

    def count() -> dict[str, int]:
        for line in cart:
            STOCK[line["product_id"]] = STOCK.get(line["product_id"], 0) + int(line["quantity"])
        return {line["product_id"]: STOCK[line["product_id"]] for line in cart}

    return ctx.step.run("count-units-sold", count)


# --- refunds ------------------------------------------------------------------------------------


@client.create_function(fn_id="handle-refund", trigger=dodo("refund.succeeded"))
def handle_refund(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    # Dodo may leave a refund's amount out: the event then has no `amount`
    amount_text = f"{d['amount']} {d['currency']}" if "amount" in d else "your refund"
    ctx.step.run("mark-order-refunded",
                 lambda: save_customer(d["customer_id"], last_refund=d["refund_id"], last_event=event_name(ctx)))
    return ctx.step.run("send-refund-email", send_email, d["customer_email"], "Your refund is on its way",
                        f"We refunded {amount_text} for payment {d['payment_id']}.")


# --- renewal reminders --------------------------------------------------------------------------


@client.create_function(
    fn_id="renewal-reminder",
    trigger=[dodo("subscription.started"), dodo("subscription.renewed")],
    # a cancelled subscription gets no reminder: the waiting run is cancelled
    cancel=[inngest.Cancel(event=PREFIX + "subscription.cancelled",
                           if_exp="event.data.subscription_id == async.data.subscription_id")],
)
def renewal_reminder(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    next_billing = datetime.fromisoformat(d["next_billing_at"].replace("Z", "+00:00"))
    ctx.step.sleep_until("wait-until-3-days-before-renewal", next_billing - timedelta(days=3))
    return ctx.step.run(
        "send-renewal-reminder",
        send_email,
        d["customer_email"],
        "Your subscription renews in 3 days",
        f"On {next_billing:%Y-%m-%d} we will charge {price(d)}.",  # "49.00 USD plus tax" unless tax-inclusive
    )


# --- failed payments ----------------------------------------------------------------------------


@client.create_function(fn_id="recover-failed-payment", trigger=dodo("payment.failed"))
def recover_failed_payment(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    link = d.get("payment_link")
    retry = f" You can retry here: {link}" if link else ""
    return ctx.step.run(
        "send-payment-failed-email",
        send_email,
        d["customer_email"],
        "Your payment did not go through",
        f"We could not charge {d['amount']} {d['currency']}: {d.get('error_message') or 'unknown reason'}.{retry}",
    )


@client.create_function(
    fn_id="warn-subscription-past-due",
    trigger=[dodo("subscription.past_due"), dodo("subscription.on_hold")],
)
def warn_subscription_past_due(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    deadline = d.get("past_due_ends_at")
    until = f" before {deadline[:10]}" if deadline else ""
    return ctx.step.run("send-update-card-email", send_email, d["customer_email"],
                        "Please update your payment method",
                        f"Your subscription {d['subscription_id']} is {d['status']}: update your card{until}.")


# --- churn and cancellations --------------------------------------------------------------------


@client.create_function(
    fn_id="track-churn",
    trigger=[dodo("subscription.cancelled"), dodo("subscription.expired")],
)
def track_churn(ctx: inngest.ContextSync) -> dict[str, str]:
    d = data_of(ctx)
    row = ctx.step.run(
        "record-churn",
        record_metric,
        f"churn:{d.get('cancellation_feedback') or 'unknown'}",
        -(d.get("recurring_amount_minor") or 0),  # the recurring revenue lost, per period
        d.get("currency") or "",
        d["subscription_id"],
    )
    if event_name(ctx) == "subscription.cancelled":
        ctx.step.sleep("wait-a-week", timedelta(days=7))
        ctx.step.run("send-win-back-email", send_email, d["customer_email"], "We miss you",
                     "Come back with 20% off your next three months.")
    return row


# --- revenue metrics and analytics sync ---------------------------------------------------------

# Money in, money out: the sign of each event's amount in the revenue ledger. (A renewal's charge
# arrives as payment.succeeded too: count it there, not on subscription.renewed.)
REVENUE_SIGN = {"payment.succeeded": 1, "refund.succeeded": -1, "dispute.lost": -1}


@client.create_function(
    fn_id="sync-revenue",
    trigger=[dodo(name) for name in REVENUE_SIGN],
)
def sync_revenue(ctx: inngest.ContextSync) -> dict[str, Any]:
    d = data_of(ctx)
    name = event_name(ctx)
    sign = REVENUE_SIGN[name]
    # integers in the currency's minor units, kept apart by currency: 2999 USD and 4500 JPY are
    # never added together, and no float ever rounds a cent
    gross = sign * (d.get("amount_minor") or 0)
    tax = sign * (d.get("tax_minor") or 0)  # payments say how much of `amount` is tax
    currency = d.get("currency") or ""
    ref = d.get("refund_id") or d.get("dispute_id") or d.get("payment_id") or ""

    def book() -> dict[str, Any]:
        totals = REVENUE.setdefault(currency, {"gross_minor": 0, "tax_minor": 0, "net_minor": 0})
        totals["gross_minor"] += gross
        totals["tax_minor"] += tax
        totals["net_minor"] += gross - tax  # revenue excludes the tax you collect for the state
        return record_metric(name, gross, currency, ref, tax_minor=tax)

    return ctx.step.run("send-to-analytics", book)


# --- disputes -----------------------------------------------------------------------------------


@client.create_function(fn_id="escalate-dispute", trigger=dodo("dispute.opened"))
def escalate_dispute(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    who = d.get("customer_id") or "unknown customer"
    urgency = "URGENT " if d.get("urgent") else ""
    return ctx.step.run(
        "alert-team",
        alert_team,
        f"{urgency}dispute {d['dispute_id']} on payment {d['payment_id']}: {d['amount']} {d['currency']} "
        f"({who}, stage {d['stage']}, opened {d['created_at'][:10]}). Reason: {d.get('remarks') or 'none given'}.",
    )


# --- digital delivery ---------------------------------------------------------------------------


@client.create_function(fn_id="deliver-digital-product", trigger=dodo("entitlement_grant.delivered"))
def deliver_digital_product(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    lines = []
    delivery = d.get("digital_product_delivery") or {}
    for f in delivery.get("files") or []:
        lines.append(f"{f['filename']}: {f['download_url']} (the link works for {f['expires_in'] // 60} minutes)")
    if delivery.get("external_url"):
        lines.append(f"Open: {delivery['external_url']}")
    if delivery.get("instructions"):
        lines.append(delivery["instructions"])
    if d.get("license_key"):
        limit = d.get("license_key_activations_limit")
        expires = d.get("license_key_expires_at")
        lines.append(f"Your license key: {d['license_key']}"
                     + (f" (for {limit} devices)" if limit else "")
                     + (f", valid until {expires[:10]}" if expires else ""))
    if d.get("oauth_url"):
        lines.append(f"Connect your account: {d['oauth_url']}")
    # the grant names the customer by id only: the email comes from your customer records
    email = CUSTOMERS.get(d["customer_id"], {}).get("email")
    if email is None:
        return ctx.step.run("ask-team-to-deliver", alert_team,
                            f"grant {d['entitlement_grant_id']}: no email for customer {d['customer_id']}")
    return ctx.step.run("send-delivery-email", send_email, email, "Your purchase is ready", "\n".join(lines))


functions = [
    send_payment_confirmation,
    sync_customer_record,
    welcome_subscriber,
    create_invoice,
    update_inventory,
    handle_refund,
    renewal_reminder,
    recover_failed_payment,
    warn_subscription_past_due,
    track_churn,
    sync_revenue,
    escalate_dispute,
    deliver_digital_product,
]
