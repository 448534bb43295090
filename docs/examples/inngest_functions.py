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

Money arrives as exact decimal strings with the currency's decimals ("29.99", JPY "2999",
KWD "12.345"): read it with `Decimal(...)`, never `float(...)`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import inngest

client = inngest.Inngest(app_id="dodo-payments", is_production=False)


# --- stand-ins for your own services ------------------------------------------------------------

OUTBOX: list[dict[str, str]] = []  # emails "sent"
CUSTOMERS: dict[str, dict[str, Any]] = {}  # your customer table, by Dodo customer id
INVOICES: dict[str, dict[str, Any]] = {}  # invoices, by payment id
STOCK: dict[str, int] = {}  # units sold, by product id
METRICS: list[dict[str, str]] = []  # rows sent to your analytics
ALERTS: list[str] = []  # messages to your team's chat


def send_email(to: str, subject: str, text: str) -> str:
    OUTBOX.append({"to": to, "subject": subject, "text": text})
    return f"sent to {to}"


def save_customer(customer_id: str, **fields: Any) -> dict[str, Any]:
    record = CUSTOMERS.setdefault(customer_id, {"customer_id": customer_id})
    record.update({k: v for k, v in fields.items() if v is not None})
    return record


def record_metric(name: str, amount: Decimal, currency: str, ref: str) -> dict[str, str]:
    row = {"metric": name, "amount": str(amount), "currency": currency, "ref": ref}
    METRICS.append(row)
    return row


def alert_team(text: str) -> str:
    ALERTS.append(text)
    return text


def data_of(ctx: inngest.ContextSync) -> dict[str, Any]:
    """The event's `data` as a plain dict (fields the mapping left out are simply absent)."""
    return dict(ctx.event.data)


# --- confirmation emails ------------------------------------------------------------------------


@client.create_function(fn_id="send-payment-confirmation", trigger=inngest.TriggerEvent(event="payment.succeeded"))
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
    trigger=[inngest.TriggerEvent(event="payment.succeeded"), inngest.TriggerEvent(event="subscription.started")],
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
            last_event=ctx.event.name,
        ),
    )


# --- welcoming new subscribers ------------------------------------------------------------------


@client.create_function(fn_id="welcome-subscriber", trigger=inngest.TriggerEvent(event="subscription.started"))
def welcome_subscriber(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    return ctx.step.run(
        "send-welcome-email",
        send_email,
        d["customer_email"],
        "Welcome aboard!",
        f"Your subscription {d['subscription_id']} is active: {d['amount']} {d['currency']} every "
        f"{d['frequency'].lower()}. Next billing: {d['next_billing'][:10]}.",
    )


# --- invoices and inventory ---------------------------------------------------------------------


@client.create_function(fn_id="create-invoice", trigger=inngest.TriggerEvent(event="payment.succeeded"))
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
        }
        INVOICES[d["payment_id"]] = invoice
        return invoice

    invoice = ctx.step.run("store-invoice", store)
    if "customer_email" in d:
        ctx.step.run("email-invoice", send_email, d["customer_email"], f"Invoice {invoice['invoice_id']}",
                     f"Total {invoice['total']} {invoice['currency']} (tax {invoice['tax']}).")
    return invoice


@client.create_function(fn_id="update-inventory", trigger=inngest.TriggerEvent(event="payment.succeeded"))
def update_inventory(ctx: inngest.ContextSync) -> dict[str, int]:
    cart = data_of(ctx).get("product_cart") or []  # one-time purchases; null for subscriptions

    def count() -> dict[str, int]:
        for line in cart:
            STOCK[line["product_id"]] = STOCK.get(line["product_id"], 0) + int(line["quantity"])
        return {line["product_id"]: STOCK[line["product_id"]] for line in cart}

    return ctx.step.run("count-units-sold", count)


# --- refunds ------------------------------------------------------------------------------------


@client.create_function(fn_id="handle-refund", trigger=inngest.TriggerEvent(event="refund.succeeded"))
def handle_refund(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    # Dodo may leave a refund's amount out: the event then has no `amount`
    amount_text = f"{d['amount']} {d['currency']}" if "amount" in d else "your refund"
    ctx.step.run("mark-order-refunded",
                 lambda: save_customer(d["customer_id"], last_refund=d["refund_id"], last_event=ctx.event.name))
    return ctx.step.run("send-refund-email", send_email, d["customer_email"], "Your refund is on its way",
                        f"We refunded {amount_text} for payment {d['payment_id']}.")


# --- renewal reminders --------------------------------------------------------------------------


@client.create_function(
    fn_id="renewal-reminder",
    trigger=[inngest.TriggerEvent(event="subscription.started"), inngest.TriggerEvent(event="subscription.renewed")],
    # a cancelled subscription gets no reminder: the waiting run is cancelled
    cancel=[inngest.Cancel(event="subscription.cancelled",
                           if_exp="event.data.subscription_id == async.data.subscription_id")],
)
def renewal_reminder(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    next_billing = datetime.fromisoformat(d["next_billing"].replace("Z", "+00:00"))
    ctx.step.sleep_until("wait-until-3-days-before-renewal", next_billing - timedelta(days=3))
    return ctx.step.run(
        "send-renewal-reminder",
        send_email,
        d["customer_email"],
        "Your subscription renews in 3 days",
        f"On {next_billing:%Y-%m-%d} we will charge {d['amount']} {d['currency']}.",
    )


# --- failed payments ----------------------------------------------------------------------------


@client.create_function(fn_id="recover-failed-payment", trigger=inngest.TriggerEvent(event="payment.failed"))
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
    trigger=[inngest.TriggerEvent(event="subscription.past_due"), inngest.TriggerEvent(event="subscription.on_hold")],
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
    trigger=[inngest.TriggerEvent(event="subscription.cancelled"), inngest.TriggerEvent(event="subscription.expired")],
)
def track_churn(ctx: inngest.ContextSync) -> dict[str, str]:
    d = data_of(ctx)
    row = ctx.step.run(
        "record-churn",
        record_metric,
        f"churn:{d.get('cancellation_feedback') or 'unknown'}",
        -Decimal(d.get("amount") or "0"),  # the recurring revenue lost
        d.get("currency") or "",
        d["subscription_id"],
    )
    if ctx.event.name == "subscription.cancelled":
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
    trigger=[inngest.TriggerEvent(event=name) for name in REVENUE_SIGN],
)
def sync_revenue(ctx: inngest.ContextSync) -> dict[str, str]:
    d = data_of(ctx)
    amount = Decimal(d.get("amount") or "0") * REVENUE_SIGN[ctx.event.name]
    ref = d.get("refund_id") or d.get("dispute_id") or d.get("payment_id") or d.get("subscription_id") or ""
    return ctx.step.run("send-to-analytics", record_metric, ctx.event.name, amount, d.get("currency") or "", ref)


# --- disputes -----------------------------------------------------------------------------------


@client.create_function(fn_id="escalate-dispute", trigger=inngest.TriggerEvent(event="dispute.opened"))
def escalate_dispute(ctx: inngest.ContextSync) -> str:
    d = data_of(ctx)
    who = d.get("customer_id") or "unknown customer"
    urgency = "URGENT " if d.get("urgent") else ""
    return ctx.step.run(
        "alert-team",
        alert_team,
        f"{urgency}dispute {d['dispute_id']} on payment {d['payment_id']}: {d['amount']} {d['currency']} "
        f"({who}, stage {d['stage']}). Reason: {d.get('remarks') or 'none given'}.",
    )


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
]
