"""docs/migration.md: the seed's JavaScript transformations, run in a JavaScript engine, against the
`.map` rules shown next to them — the differences are exactly the documented ones."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from py_mini_racer import MiniRacer

import runtime

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "migration.md"
SAMPLES = ROOT / "samples" / "dodo"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)\n```", DOC.read_text(encoding="utf-8"), flags=re.S)


def _family(js: str) -> str:
    """payment.js tests `=== "payment.succeeded"`, dispute.js `startsWith("dispute.")` …"""
    found = re.search(r'"(\w+)\.', js)
    assert found, js
    return found.group(1)


JS = {_family(b): b for b in blocks("js")}
SEED_TYPES = ["payment.succeeded", "subscription.active", "subscription.cancelled",
              *sorted(p.stem for p in SAMPLES.glob("dispute.*.json"))]


# the seed's keys the library renamed (docs/migration.md, "What changed"): one name, one meaning
RENAMED = {("subscription", "amount"): "recurring_amount", ("subscription", "next_billing"): "next_billing_at"}


@pytest.fixture(scope="module")
def library() -> runtime.MappingSet:
    return runtime.load(str(ROOT / "mappings"))


def sample(event_type: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
    return body


def run_js(event_type: str, body: dict[str, Any]) -> dict[str, Any]:
    family = "subscription" if event_type.startswith("subscription.") else event_type.split(".")[0]
    ctx = MiniRacer()
    ctx.eval(JS[family])
    out = ctx.eval(f"JSON.stringify(handler({json.dumps({'eventType': event_type, 'payload': body})}).payload)")
    result: dict[str, Any] = json.loads(out)
    return result


def test_the_three_seed_transformations_are_shown() -> None:
    assert sorted(JS) == ["dispute", "payment", "subscription"]
    for text in JS.values():
        assert text.startswith("function handler(webhook) {") and text.endswith("return webhook;\n}")


def test_the_map_rules_shown_are_the_librarys() -> None:
    shown = blocks("map")
    assert len(shown) == 4
    library_text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "mappings").glob("*.map")))
    for block in shown:
        assert block in library_text, block


@pytest.mark.parametrize("event_type", SEED_TYPES)
def test_same_fields_except_the_documented_changes(library: runtime.MappingSet, event_type: str) -> None:
    body = sample(event_type)
    js = run_js(event_type, copy.deepcopy(body))
    [event] = library.apply(body)
    assert event["name"] == js["name"]
    # ts: JavaScript gave seconds, the rule gives milliseconds of the same moment
    assert js["ts"] < 315_532_800_000  # read as milliseconds it is before 1980: Inngest refuses it
    assert event["ts"] // 1000 == js["ts"]
    # id: none before, a stable one now
    assert "id" not in js and event["id"].startswith(f"dodo:{event_type}:")
    # every field the JavaScript set has the same value (these samples are in USD), under its
    # documented new name; what the JavaScript made up ("" remarks, "unknown" email) is not sent
    family = event_type.split(".")[0]
    for key, value in js["data"].items():
        mine = event["data"][RENAMED.get((family, key), key)]
        if family == "dispute" and key == "remarks" and body["data"].get("remarks") is None:
            assert (value, mine) == ("", None)
        else:
            assert mine == value, key
    if js["user"]["email"] == "unknown":
        assert "email" not in event["user"] and family == "dispute"
    else:
        assert event["user"]["email"] == js["user"]["email"]


@pytest.mark.parametrize(("currency", "js_amount", "map_amount"), [("JPY", "29.99", "2999"), ("KWD", "29.99", "2.999")])
def test_currency_decimals(library: runtime.MappingSet, currency: str, js_amount: str, map_amount: str) -> None:
    body = sample("payment.succeeded")
    body["data"]["currency"] = currency
    assert run_js("payment.succeeded", copy.deepcopy(body))["data"]["amount"] == js_amount
    assert library.apply(body)[0]["data"]["amount"] == map_amount


def test_kwd_subscription_amount(library: runtime.MappingSet) -> None:
    body = sample("subscription.active")
    body["data"].update(currency="KWD", recurring_pre_tax_amount=12345)
    assert run_js("subscription.active", copy.deepcopy(body))["data"]["amount"] == "123.45"
    assert library.apply(body)[0]["data"]["recurring_amount"] == "12.345"


def test_or_versus_fallback(library: runtime.MappingSet) -> None:
    body = sample("payment.succeeded")
    body["data"]["payment_method"] = ""
    assert run_js("payment.succeeded", copy.deepcopy(body))["data"]["payment_method"] == "unknown"
    assert library.apply(body)[0]["data"]["payment_method"] == ""


def test_null_customer(library: runtime.MappingSet) -> None:
    body = sample("payment.succeeded")
    body["data"]["customer"] = None
    with pytest.raises(Exception, match="TypeError"):
        run_js("payment.succeeded", copy.deepcopy(body))
    [event] = library.apply(body)
    assert "customer_email" not in event["data"] and "email" not in event["user"]
    assert event["data"]["amount"] == "29.99"


def test_not_a_number(library: runtime.MappingSet) -> None:
    body = sample("dispute.opened")
    body["data"]["amount"] = "abc"
    assert run_js("dispute.opened", copy.deepcopy(body))["data"]["amount"] == "NaN"
    with pytest.raises(runtime.MappingError, match=r"dispute\.map:\d+:\d+"):
        library.apply(body)


def test_missing_and_null_amounts(library: runtime.MappingSet) -> None:
    body = sample("payment.succeeded")
    del body["data"]["total_amount"]
    assert run_js("payment.succeeded", copy.deepcopy(body))["data"]["amount"] == "NaN"
    with pytest.raises(runtime.MappingError, match=r"payment\.map:\d+:\d+: in `data\.amount`: a required value is missing"):
        library.apply(copy.deepcopy(body))
    body["data"]["total_amount"] = None
    assert run_js("payment.succeeded", copy.deepcopy(body))["data"]["amount"] == "0.00"
    with pytest.raises(runtime.MappingError, match="a required value is null"):
        library.apply(body)


def test_made_up_defaults_are_gone(library: runtime.MappingSet) -> None:
    body = sample("payment.succeeded")
    body["data"]["payment_method"] = None
    assert run_js("payment.succeeded", copy.deepcopy(body))["data"]["payment_method"] == "unknown"
    assert library.apply(body)[0]["data"]["payment_method"] is None


def test_other_subscription_events_were_passed_through(library: runtime.MappingSet) -> None:
    body = sample("subscription.renewed")
    assert run_js("subscription.renewed", copy.deepcopy(body)) == body  # not an Inngest event
    assert library.apply(body)[0]["name"] == "subscription.renewed"
