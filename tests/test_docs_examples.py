"""docs/examples/inngest_functions.py: every trigger is an event the mapping library produces, and
every function runs (Inngest's mocked executor) on the events mapped from Dodo's samples."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import inngest
import pytest
from inngest.experimental import mocked

import runtime

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples" / "inngest_functions.py"
SAMPLES = ROOT / "samples" / "dodo"
COOKBOOK = ROOT / "docs" / "cookbook.md"


def _import_examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("inngest_functions", EXAMPLES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["inngest_functions"] = module
    spec.loader.exec_module(module)
    return module


ex = _import_examples()
LIBRARY = runtime.load(str(ROOT / "mappings"))
MAPPED: dict[str, dict[str, Any]] = {}  # Inngest event name → the event mapped from a shipped sample
for _path in sorted(SAMPLES.glob("*.json")):
    for _event in LIBRARY.apply(json.loads(_path.read_text(encoding="utf-8"))):
        MAPPED.setdefault(_event["name"], _event)

mock_client = mocked.Inngest(app_id="test", is_production=False)


def triggers(fn: inngest.Function[Any]) -> list[str]:
    config = fn.get_config("http://localhost/api/inngest")
    return [t.event for t in config.main.triggers if isinstance(t, inngest.TriggerEvent)]


def run(fn: inngest.Function[Any], name: str, **changes: Any) -> Any:
    event = json.loads(json.dumps(MAPPED[name]))
    event["data"].update(changes)
    result = mocked.trigger(fn, inngest.Event(name=event["name"], data=event["data"], id=event["id"],
                                              ts=event["ts"]), mock_client)
    assert result.status is mocked.Status.COMPLETED, result.error
    return result.output


@pytest.fixture(autouse=True)
def _reset_stand_ins() -> None:
    for store in (ex.OUTBOX, ex.CUSTOMERS, ex.INVOICES, ex.STOCK, ex.METRICS, ex.ALERTS, ex.REVENUE):
        store.clear()


def test_every_function_is_exported_with_a_unique_id() -> None:
    found = [v for v in vars(ex).values() if isinstance(v, inngest.Function)]
    assert sorted(f.id for f in found) == sorted(f.id for f in ex.functions)
    assert len({f.id for f in ex.functions}) == len(ex.functions)


def test_every_trigger_is_produced_by_a_rule_in_mappings() -> None:
    names = {t for fn in ex.functions for t in triggers(fn)}
    assert names, "no triggers found"
    missing = sorted(names - set(MAPPED))
    assert missing == [], f"no rule in mappings/ produces {missing}"


def test_the_cookbook_shows_every_function() -> None:
    text = COOKBOOK.read_text(encoding="utf-8")
    for fn in ex.functions:
        assert f'fn_id="{fn.id.removeprefix(ex.client.app_id + "-")}"' in text or fn.name in text, fn.name


@pytest.mark.parametrize("fn", ex.functions, ids=lambda f: f.name)
def test_every_function_runs_on_every_trigger(fn: inngest.Function[Any]) -> None:
    for name in triggers(fn):
        run(fn, name)


def test_payment_confirmation_email() -> None:
    assert run(ex.send_payment_confirmation, "payment.succeeded") == "sent to sofiarossi+dodo@example.org"
    assert ex.OUTBOX[0]["subject"] == "Thank you for your payment of 29.99 USD"


def test_payment_confirmation_without_a_customer() -> None:
    event = dict(MAPPED["payment.succeeded"]["data"])
    event.pop("customer_email")
    ex.OUTBOX.clear()
    result = mocked.trigger(ex.send_payment_confirmation,
                            inngest.Event(name="payment.succeeded", data=event, id="x", ts=1), mock_client)
    assert result.output == "no email" and ex.OUTBOX == []


def test_customer_record_keeps_your_user_id() -> None:
    run(ex.sync_customer_record, "payment.succeeded")
    assert ex.CUSTOMERS["cus_idrL0xM2upobkDBKsiUZ6"]["your_user_id"] == "90128"
    assert ex.CUSTOMERS["cus_idrL0xM2upobkDBKsiUZ6"]["email"] == "sofiarossi+dodo@example.org"


def test_invoice_amounts_are_exact() -> None:
    invoice = run(ex.create_invoice, "payment.succeeded")
    assert (invoice["total"], invoice["tax"], invoice["net"]) == ("29.99", "4.49", "25.50")
    assert invoice["invoice_id"] == "inv_InCs360OpIqfTk96kZvJ8"


def test_invoice_in_kwd_keeps_three_decimals() -> None:
    invoice = run(ex.create_invoice, "payment.succeeded", amount="12.345", tax="1.005", currency="KWD")
    assert (invoice["total"], invoice["tax"], invoice["net"]) == ("12.345", "1.005", "11.340")


def test_inventory_counts_units() -> None:
    assert run(ex.update_inventory, "payment.succeeded") == {"pdt_GCY0baex2RzVLGAoPa1yU": 1}


def test_refund_email_names_the_amount() -> None:
    run(ex.handle_refund, "refund.succeeded")
    assert "149.50 USD" in ex.OUTBOX[0]["text"]


def test_renewal_reminder_mentions_the_next_billing_date_and_tax_on_top() -> None:
    run(ex.renewal_reminder, "subscription.renewed")  # the sample's price is before tax
    assert ex.OUTBOX[0]["text"] == "On 2025-08-07 we will charge 49.00 USD plus tax."


def test_renewal_reminder_with_a_tax_inclusive_price() -> None:
    run(ex.renewal_reminder, "subscription.renewed", tax_inclusive=True)
    assert ex.OUTBOX[0]["text"] == "On 2025-08-07 we will charge 49.00 USD."


def test_renewal_reminder_in_a_zero_decimal_currency() -> None:
    run(ex.renewal_reminder, "subscription.started", recurring_amount="2980", recurring_amount_minor=2980,
        currency="JPY", tax_inclusive=True)
    assert ex.OUTBOX[0]["text"].endswith("we will charge 2980 JPY.")


def test_failed_payment_email_has_the_retry_link() -> None:
    run(ex.recover_failed_payment, "payment.failed")
    assert "https://test.checkout.dodopayments.com/p3u4Z3mL" in ex.OUTBOX[0]["text"]


def test_churn_records_the_lost_revenue_and_reason() -> None:
    row = run(ex.track_churn, "subscription.cancelled")
    assert row == {"metric": "churn:other", "amount_minor": -4900, "currency": "USD", "ref": "sub_rNJ9YldEOvdgwMPp9e20E"}


def test_revenue_signs() -> None:
    assert run(ex.sync_revenue, "payment.succeeded")["amount_minor"] == 2999
    assert run(ex.sync_revenue, "refund.succeeded")["amount_minor"] == -14950
    assert run(ex.sync_revenue, "dispute.lost")["amount_minor"] == -2999


def test_revenue_is_kept_in_minor_units_per_currency_without_tax() -> None:
    run(ex.sync_revenue, "payment.succeeded")  # 29.99 USD of which 4.49 tax
    run(ex.sync_revenue, "payment.succeeded", amount="4500", amount_minor=4500, tax="409", tax_minor=409, currency="JPY")
    run(ex.sync_revenue, "payment.succeeded", amount="12.345", amount_minor=12345, tax_minor=5, currency="KWD")
    run(ex.sync_revenue, "payment.succeeded")
    run(ex.sync_revenue, "dispute.lost")  # -29.99 USD
    assert ex.REVENUE == {
        "USD": {"gross_minor": 2999 + 2999 - 2999, "tax_minor": 449 + 449, "net_minor": 2999 + 2999 - 2999 - 898},
        "JPY": {"gross_minor": 4500, "tax_minor": 409, "net_minor": 4091},
        "KWD": {"gross_minor": 12345, "tax_minor": 5, "net_minor": 12340},
    }


def test_digital_delivery_sends_the_files_and_the_key() -> None:
    run(ex.sync_customer_record, "payment.succeeded")  # your records know the customer's email
    customer = MAPPED["payment.succeeded"]["data"]["customer_id"]
    delivery = {"files": [{"file_id": "fil_1", "filename": "handbook.pdf", "download_url": "https://f.example/1",
                           "expires_in": 3600}], "external_url": None, "instructions": "Enjoy"}
    run(ex.deliver_digital_product, "entitlement_grant.delivered", customer_id=customer,
        digital_product_delivery=delivery, license_key_activations_limit=3,
        license_key_expires_at="2026-08-14T00:00:00Z")
    assert ex.OUTBOX[-1]["to"] == "sofiarossi+dodo@example.org"
    assert ex.OUTBOX[-1]["text"] == ("handbook.pdf: https://f.example/1 (the link works for 60 minutes)\nEnjoy\n"
                                     "Your license key: PRO-MFC6-FDIG-LQGD-IRJ7 (for 3 devices), valid until 2026-08-14")


def test_digital_delivery_without_a_known_email_asks_the_team() -> None:
    run(ex.deliver_digital_product, "entitlement_grant.delivered")
    assert ex.OUTBOX == [] and ex.ALERTS[0].startswith("grant grant_NKN8NI9PwQyRdUoDUi9ge: no email")


def test_the_functions_follow_the_library_prefix(tmp_path: Path) -> None:
    """With `const prefix = "dodo/"` in the mappings and DODO_EVENT_PREFIX=dodo/ for the functions,
    every trigger is still an event the mappings produce (checked as `paymap check --functions` does)."""
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    settings = tmp_path / "mappings" / "_settings.map"
    settings.write_text(settings.read_text(encoding="utf-8").replace('const prefix = ""', 'const prefix = "dodo/"'),
                        encoding="utf-8")
    proc = subprocess.run([str(Path(sys.prefix) / "bin" / "paymap"), "check", "--format", "json",
                           "--functions", str(EXAMPLES), str(tmp_path / "mappings")],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "DODO_EVENT_PREFIX": "dodo/"})
    diagnostics = json.loads(proc.stdout)
    assert [d for d in diagnostics if d["code"] == "M411" or d["severity"] == "error"] == []
    assert {d["code"] for d in diagnostics} <= {"M410"}
    # and without the prefix for the functions, every trigger is one no mapping produces
    proc = subprocess.run([str(Path(sys.prefix) / "bin" / "paymap"), "check", "--format", "json",
                           "--functions", str(EXAMPLES), str(tmp_path / "mappings")],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={k: v for k, v in os.environ.items() if k != "DODO_EVENT_PREFIX"})
    assert "M411" in {d["code"] for d in json.loads(proc.stdout)}


def test_dispute_alert_is_urgent() -> None:
    text = run(ex.escalate_dispute, "dispute.opened")
    assert text.startswith("URGENT dispute dsp_rVX6gD3i2RO6cvQcmlmkf on payment pay_kjIIpYleQ04GfdPAPowJX: 19.00 USD")


def _python_blocks(markdown: str) -> list[str]:
    blocks, current, inside = [], [], False
    for line in markdown.splitlines():
        if line.strip() == "```python":
            inside, current = True, []
        elif inside and line.strip() == "```":
            inside = False
            blocks.append("\n".join(current))
        elif inside:
            current.append(line)
    return blocks


def test_the_cookbook_code_is_the_tested_code() -> None:
    """Every function shown in the cookbook is copied verbatim from the tested examples file."""
    source = EXAMPLES.read_text(encoding="utf-8")
    blocks = _python_blocks(COOKBOOK.read_text(encoding="utf-8"))
    assert len(blocks) >= len(ex.functions)
    lines = set(source.splitlines())
    for block in blocks:
        if "fn_id=" in block:
            assert block in source, f"this cookbook block differs from {EXAMPLES.name}:\n{block}"
        else:
            assert all(line in lines for line in block.splitlines() if line), block


def test_paymap_check_finds_every_trigger_in_the_mappings() -> None:
    """The same promise, as `paymap check --functions` checks it: no M411 (a trigger no mapping produces)."""
    proc = subprocess.run([str(Path(sys.prefix) / "bin" / "paymap"), "check", "--format", "json",
                           "--functions", str(EXAMPLES), str(ROOT / "mappings")],
                          capture_output=True, text=True, timeout=60, check=False)
    diagnostics = json.loads(proc.stdout)
    assert [d for d in diagnostics if d["code"] == "M411" or d["severity"] == "error"] == []
    # M410 (an event no function listens to) is expected: the library maps every event type
    assert {d["code"] for d in diagnostics} <= {"M410"}
