"""Proof against the seed: its own JavaScript, run in V8, against paymap.

* `tests/seed/js/*.js` are the seed's three transformations, verbatim; `tests/seed/literal/*.map`
  translate them literally — defects included (`ts` in seconds, `/ 100` for every currency,
  `||`). On every sample body in `samples/dodo/` and on the edge cases below, paymap's output
  equals the JavaScript's, as JSON, key for key and in the same key order.
* Where the JavaScript throws or gives something paymap deliberately does not ("NaN", a `ts` of 0
  for a null timestamp, binary floating point …), the tests below pin both results; each such
  difference is a row of "Differences from the seed's JavaScript" in docs/language.md.
* The shipped, corrected mappings (`mappings/payment.map`, `subscription.map`, `dispute.map`)
  give valid Inngest events on every sample of their families and on currency edge cases.

How the JavaScript is run: as Dodo does, `handler(webhook)` with `webhook = {eventType, payload}`
(`eventType` is the body's `type`); its result is `webhook.payload` after the call. For an event
type a transformation does not handle, the JavaScript returns the body unchanged (it would be
sent to Inngest as is, without a `name`); paymap's rule does not receive it and gives no event.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from py_mini_racer import MiniRacer

import runtime
from dsl.compiler import ALLOWABLE, compile_paths
from runtime import CompileError, MappingError, MappingSet

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "seed"
SAMPLES = ROOT / "samples" / "dodo"
FAMILIES = ("payment", "subscription", "dispute")
SAMPLE_TYPES = sorted(p.name.removesuffix(".json") for p in SAMPLES.glob("*.json"))
TS_1980_MS = 315_532_800_000

# Which event types each seed transformation rewrites (the `if`/`switch` in its JavaScript).
HANDLES: dict[str, Callable[[str], bool]] = {
    "payment": lambda t: t == "payment.succeeded",
    "subscription": lambda t: t in ("subscription.active", "subscription.cancelled"),
    "dispute": lambda t: t.startswith("dispute."),
}

# Dodo calls `handler(webhook)` and sends `webhook.payload`. The wrapper returns that payload as
# JSON text (JSON.stringify drops `undefined`, writes NaN as null), or the exception thrown.
WRAPPER = """
function __paymap_run(eventType, text) {
  const webhook = {eventType: eventType, payload: JSON.parse(text)};
  let out;
  try { out = handler(webhook); } catch (e) { return "throw:" + String(e); }
  return "ok:" + JSON.stringify(out.payload);
}
"""


def sample(event_type: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
    return body


@dataclass
class JsResult:
    payload: Any = None
    error: str | None = None


class Seed:
    """One seed transformation in its own V8 context."""

    def __init__(self, family: str) -> None:
        self.ctx = MiniRacer()
        self.ctx.eval((SEED / "js" / f"{family}.js").read_text(encoding="utf-8"))
        self.ctx.eval(WRAPPER)

    def run(self, body: dict[str, Any]) -> JsResult:
        out = self.ctx.call("__paymap_run", body.get("type"), json.dumps(body, ensure_ascii=False))
        assert isinstance(out, str)
        if out.startswith("throw:"):
            return JsResult(error=out.removeprefix("throw:"))
        return JsResult(payload=json.loads(out.removeprefix("ok:")))

    def close(self) -> None:
        self.ctx.close()


@pytest.fixture(scope="module")
def v8() -> Iterator[dict[str, Seed]]:
    seeds = {f: Seed(f) for f in FAMILIES}
    yield seeds
    for s in seeds.values():
        s.close()  # an unclosed context can keep the interpreter from exiting


def load_literal(family: str) -> MappingSet:
    # `ts = epoch(timestamp)` is the seed's defect, refused as error M405: allowed here only.
    return runtime.load(str(SEED / "literal" / f"{family}.map"), allow={"M405"})


@pytest.fixture(scope="module")
def literal() -> dict[str, MappingSet]:
    return {f: load_literal(f) for f in FAMILIES}


@pytest.fixture(scope="module")
def shipped() -> dict[str, MappingSet]:
    return {f: runtime.load(str(ROOT / "mappings" / f"{f}.map")) for f in FAMILIES}


def as_json(value: Any) -> str:
    """JSON text in Python's spelling: equal texts are equal values with the same key order
    (unlike `==`, which also says `True == 1`)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def assert_same(v8: dict[str, Seed], literal: dict[str, MappingSet], family: str, body: dict[str, Any]) -> Any:
    """The literal translation gives what the seed's JavaScript gives; returns that payload."""
    text = json.dumps(body, ensure_ascii=False)
    js = v8[family].run(json.loads(text))
    assert js.error is None, f"the JavaScript threw {js.error}"
    outcome = literal[family].run(json.loads(text))
    if HANDLES[family](body["type"]):
        assert outcome.matched and len(outcome.events) == 1
        assert as_json(outcome.events[0]) == as_json(js.payload)
    else:
        # the JavaScript passes the body through untouched; paymap's rule does not receive it
        assert as_json(js.payload) == as_json(body)
        assert not outcome.matched and outcome.events == []
    return js.payload


# --- the literal translations -----------------------------------------------------------------


def test_literal_translations_compile_with_only_the_seeds_defects_reported() -> None:
    paths = [str(SEED / "literal" / f"{f}.map") for f in FAMILIES]
    refused = compile_paths(paths)
    ts_lines = {(Path(d.span.file).stem, d.span.line) for d in refused.errors}
    assert {d.code for d in refused.errors} == {"M405"}
    assert ts_lines == {("payment", 27), ("subscription", 16), ("subscription", 27), ("dispute", 24)}

    allowed = compile_paths(paths, allow={"M405"})
    assert allowed.ok and all(f.functions for f in allowed.files)
    m405 = [d for d in allowed.diagnostics if d.code == "M405"]
    assert {(Path(d.span.file).stem, d.span.line) for d in m405} == ts_lines
    assert all(d.severity == "warning" and "allowed by the caller" in d.notes for d in m405)
    # what else the checker says about the seed: `cents` ignores the currency (M305), and the
    # `||` arms for "", 0 and false cannot occur in a body that follows Dodo's schema (M602)
    assert {d.code for d in allowed.diagnostics} <= {"M405", "M305", "M602"}


def test_allow_accepts_only_inngest_contract_checks() -> None:
    assert "M405" in ALLOWABLE and "M200" not in ALLOWABLE
    with pytest.raises(ValueError, match="M201"):
        compile_paths([str(SEED / "literal")], allow={"M201"})
    with pytest.raises(CompileError, match="M405"):
        runtime.load(str(SEED / "literal" / "payment.map"))


@pytest.mark.parametrize("event_type", SAMPLE_TYPES)
@pytest.mark.parametrize("family", FAMILIES)
def test_parity_on_every_sample(v8: dict[str, Seed], literal: dict[str, MappingSet], family: str,
                                event_type: str) -> None:
    assert_same(v8, literal, family, sample(event_type))


def test_the_samples_cover_every_seed_branch() -> None:
    handled = {f: [t for t in SAMPLE_TYPES if HANDLES[f](t)] for f in FAMILIES}
    assert handled["payment"] == ["payment.succeeded"]
    assert handled["subscription"] == ["subscription.active", "subscription.cancelled"]
    assert len(handled["dispute"]) == 7


DELETE = object()


def edited(event_type: str, **changes: Any) -> dict[str, Any]:
    """A sample with changes at dotted paths under `data` (`customer__email` → data.customer.email);
    the keys `timestamp` and `type` change the envelope."""
    body = sample(event_type)
    for key, value in changes.items():
        if key in ("timestamp", "type"):
            target, name = body, key
        else:
            *parents, name = key.split("__")
            target = body["data"]
            for p in parents:
                target = target[p]
        if value is DELETE:
            target.pop(name, None)
        else:
            target[name] = value
    return body


UNICODE = {"email": "zoë.山田@exämple.org", "name": "Zoë 山田 😀 O'Brien \"Q\"\n", "customer_id": "cus_1"}

EDGE_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    # amounts
    "amount 5 cents": ("payment.succeeded", {"total_amount": 5}),
    "amount 12.5 cents": ("payment.succeeded", {"total_amount": 12.5}),
    "amount 0": ("payment.succeeded", {"total_amount": 0}),
    "amount 1 cent": ("payment.succeeded", {"total_amount": 1}),
    "amount -5": ("payment.succeeded", {"total_amount": -5}),
    "amount 2.5 cents": ("payment.succeeded", {"total_amount": 2.5}),
    "amount 10^15": ("payment.succeeded", {"total_amount": 10**15}),
    "amount as text": ("payment.succeeded", {"total_amount": "1234"}),
    "amount as text with spaces": ("payment.succeeded", {"total_amount": " 1234 "}),
    "amount as text 1e3": ("payment.succeeded", {"total_amount": "1e3"}),
    "JPY: the seed divides by 100": ("payment.succeeded", {"currency": "JPY", "total_amount": 2999}),
    "KWD: the seed divides by 100": ("payment.succeeded", {"currency": "KWD", "total_amount": 12345}),
    # `||` falls back on every falsy value
    "currency missing": ("payment.succeeded", {"currency": DELETE}),
    "currency null": ("payment.succeeded", {"currency": None}),
    "currency empty": ("payment.succeeded", {"currency": ""}),
    "currency 0": ("payment.succeeded", {"currency": 0}),
    "currency false": ("payment.succeeded", {"currency": False}),
    "currency true": ("payment.succeeded", {"currency": True}),
    "payment_method missing": ("payment.succeeded", {"payment_method": DELETE}),
    "payment_method null": ("payment.succeeded", {"payment_method": None}),
    "payment_method empty": ("payment.succeeded", {"payment_method": ""}),
    "payment_method 0": ("payment.succeeded", {"payment_method": 0}),
    "payment_method false": ("payment.succeeded", {"payment_method": False}),
    "payment_method object": ("payment.succeeded", {"payment_method": {"kind": "card"}}),
    # optional and odd fields
    "payment_id missing": ("payment.succeeded", {"payment_id": DELETE}),
    "payment_id null": ("payment.succeeded", {"payment_id": None}),
    "customer name missing": ("payment.succeeded", {"customer__name": DELETE}),
    "customer name null": ("payment.succeeded", {"customer__name": None}),
    "customer email missing": ("payment.succeeded", {"customer__email": DELETE}),
    "customer empty object": ("payment.succeeded", {"customer": {}}),
    "unicode customer": ("payment.succeeded", {"customer": UNICODE}),
    # timestamps
    "timestamp +02:00": ("payment.succeeded", {"timestamp": "2025-08-04T10:13:04+02:00"}),
    "timestamp -05:30 with ms": ("payment.succeeded", {"timestamp": "2025-08-04T02:43:04.999-05:30"}),
    "timestamp +0200": ("payment.succeeded", {"timestamp": "2025-08-04T10:13:04+0200"}),
    "timestamp 9 fraction digits": ("payment.succeeded", {"timestamp": "2025-08-04T08:13:04.123456789Z"}),
    "timestamp 1 fraction digit": ("payment.succeeded", {"timestamp": "2025-08-04T08:13:04.5Z"}),
    "timestamp no seconds": ("payment.succeeded", {"timestamp": "2025-08-04T08:13Z"}),
    "timestamp lower-case t and z": ("payment.succeeded", {"timestamp": "2025-08-04t08:13:04z"}),
    "timestamp space": ("payment.succeeded", {"timestamp": "2025-08-04 08:13:04Z"}),
    "timestamp date only": ("payment.succeeded", {"timestamp": "2025-08-04"}),
    "timestamp before 1970": ("payment.succeeded", {"timestamp": "1969-12-31T23:59:59.5Z"}),
    "timestamp leap day": ("payment.succeeded", {"timestamp": "2024-02-29T23:59:59.999999+14:00"}),
    # subscriptions
    "subscription 5 cents": ("subscription.active", {"recurring_pre_tax_amount": 5}),
    "subscription 12.5 cents": ("subscription.active", {"recurring_pre_tax_amount": 12.5}),
    "subscription JPY": ("subscription.active", {"currency": "JPY", "recurring_pre_tax_amount": 1500}),
    "subscription optional fields missing": ("subscription.active", {
        "product_id": DELETE, "next_billing_date": DELETE, "payment_frequency_interval": DELETE,
        "customer__name": DELETE}),
    "subscription nulls": ("subscription.active", {"next_billing_date": None, "product_id": None}),
    "subscription unicode": ("subscription.active", {"customer": UNICODE}),
    "subscription offset": ("subscription.active", {"timestamp": "2025-08-07T00:20:20.999999-07:00"}),
    "cancelled at next billing": ("subscription.cancelled", {"cancel_at_next_billing_date": True}),
    "cancelled fields missing": ("subscription.cancelled", {
        "cancelled_at": DELETE, "cancel_at_next_billing_date": DELETE}),
    "cancelled nulls": ("subscription.cancelled", {"cancelled_at": None, "cancel_at_next_billing_date": None}),
    "cancelled unicode": ("subscription.cancelled", {"customer": UNICODE}),
    # disputes
    "dispute 5 cents as text": ("dispute.opened", {"amount": "5"}),
    "dispute 12.5 cents as text": ("dispute.opened", {"amount": "12.5"}),
    "dispute amount as a number": ("dispute.lost", {"amount": 1900}),
    "dispute amount negative text": ("dispute.lost", {"amount": "-250"}),
    "dispute remarks missing": ("dispute.won", {"remarks": DELETE}),
    "dispute remarks null": ("dispute.won", {"remarks": None}),
    "dispute remarks empty": ("dispute.won", {"remarks": ""}),
    "dispute remarks 0": ("dispute.won", {"remarks": 0}),
    "dispute remarks false": ("dispute.won", {"remarks": False}),
    "dispute remarks unicode": ("dispute.won", {"remarks": "Zurückbuchung – 払い戻し 💳"}),
    "dispute with customer": ("dispute.opened", {"customer": UNICODE}),
    "dispute customer null": ("dispute.opened", {"customer": None}),
    "dispute customer email empty": ("dispute.opened", {"customer": {"email": ""}}),
    "dispute customer email null": ("dispute.opened", {"customer": {"email": None}}),
    "dispute customer email false": ("dispute.opened", {"customer": {"email": False}}),
    "dispute optional fields missing": ("dispute.challenged", {
        "dispute_stage": DELETE, "dispute_status": DELETE, "payment_id": DELETE, "dispute_id": DELETE}),
    "dispute offset": ("dispute.expired", {"timestamp": "2025-08-05T08:26:09.811271+05:45"}),
    "dispute type nothing after the dot": ("dispute.opened", {"type": "dispute."}),
    "dispute type unknown to Dodo": ("dispute.opened", {"type": "dispute.reopened"}),
    "not a dispute": ("dispute.opened", {"type": "disputes.opened"}),
}


@pytest.mark.parametrize("case", EDGE_CASES)
def test_parity_on_edge_cases(v8: dict[str, Seed], literal: dict[str, MappingSet], case: str) -> None:
    event_type, changes = EDGE_CASES[case]
    family = "subscription" if event_type.startswith("subscription.") else event_type.split(".")[0]
    assert_same(v8, literal, family, edited(event_type, **changes))


def test_edge_cases_reach_the_fields_they_name(v8: dict[str, Seed], literal: dict[str, MappingSet]) -> None:
    """A few spot checks that the parity above compares what it claims to."""
    def out(family: str, event_type: str, **changes: Any) -> Any:
        return assert_same(v8, literal, family, edited(event_type, **changes))

    assert out("payment", "payment.succeeded", total_amount=12.5)["data"]["amount"] == "0.13"
    assert out("payment", "payment.succeeded", total_amount=5)["data"]["amount"] == "0.05"
    assert out("payment", "payment.succeeded", currency="JPY")["data"]["amount"] == "29.99"
    assert out("payment", "payment.succeeded", currency="")["data"]["currency"] == "USD"
    assert out("payment", "payment.succeeded", timestamp="2025-08-04T10:13:04+02:00")["ts"] == 1754295184
    assert out("payment", "payment.succeeded", timestamp="1969-12-31T23:59:59.5Z")["ts"] == -1
    assert "customer_name" not in out("payment", "payment.succeeded", customer__name=DELETE)["data"]
    assert out("dispute", "dispute.won", remarks=False)["data"]["remarks"] == ""
    assert out("dispute", "dispute.opened", customer=UNICODE)["user"]["email"] == UNICODE["email"]
    assert out("dispute", "dispute.opened", type="dispute.")["name"] == "dispute."


# --- where paymap deliberately differs (docs/language.md, "Differences from the seed") -----------


def both(v8: dict[str, Seed], literal: dict[str, MappingSet], family: str, body: dict[str, Any]) -> tuple[JsResult, Any]:
    """The JavaScript's result, and paymap's event (or the MappingError it raised)."""
    js = v8[family].run(copy.deepcopy(body))
    try:
        [event] = literal[family].apply(copy.deepcopy(body))
    except MappingError as exc:
        return js, exc
    return js, event


@pytest.mark.parametrize(("family", "event_type"), [
    ("payment", "payment.succeeded"), ("subscription", "subscription.active"),
    ("subscription", "subscription.cancelled")])
@pytest.mark.parametrize("customer", [None, DELETE])
def test_null_or_absent_customer(v8: dict[str, Seed], literal: dict[str, MappingSet], family: str,
                                 event_type: str, customer: Any) -> None:
    """JS: `p.customer.email` throws TypeError. paymap: the customer's fields are left out."""
    js, event = both(v8, literal, family, edited(event_type, customer=customer))
    assert js.error is not None and js.error.startswith("TypeError: Cannot read properties of")
    assert "customer_email" not in event["data"] and "customer_name" not in event["data"]
    assert event["user"] == {}
    assert event["data"]["subscription_id" if family == "subscription" else "payment_id"]


def test_absent_data(v8: dict[str, Seed], literal: dict[str, MappingSet]) -> None:
    """JS: reading a field of the missing `data` throws. paymap: every field from it is missing."""
    body = sample("payment.succeeded")
    del body["data"]
    js, event = both(v8, literal, "payment", body)
    assert js.error is not None and js.error.startswith("TypeError")
    assert event == {"name": "payment.succeeded", "data": {"currency": "USD", "payment_method": "unknown"},
                     "user": {}, "ts": 1754295184}


def test_dispute_without_customer_is_not_a_difference(v8: dict[str, Seed], literal: dict[str, MappingSet]) -> None:
    """dispute.js uses `d.customer?.email`: a null customer does not throw there."""
    payload = assert_same(v8, literal, "dispute", edited("dispute.opened", customer=None))
    assert payload["user"] == {"email": "unknown"}


@pytest.mark.parametrize(("value", "js_amount", "paymap_amount"), [
    (DELETE, "NaN", DELETE),  # (undefined / 100).toFixed(2); paymap: the field is left out
    (None, "0.00", None),  # null / 100 is 0 in JS; paymap: null stays null
])
def test_absent_amount(v8: dict[str, Seed], literal: dict[str, MappingSet], value: Any, js_amount: str,
                       paymap_amount: Any) -> None:
    js, event = both(v8, literal, "payment", edited("payment.succeeded", total_amount=value))
    assert js.payload["data"]["amount"] == js_amount
    assert event["data"].get("amount", DELETE) == paymap_amount


@pytest.mark.parametrize(("value", "js_amount"), [
    ("abc", "NaN"), ("", "0.00"), ("0x10", "0.16"), ("1_000", "NaN"), ("Infinity", "Infinity"),
    (True, "0.01"), ([], "0.00"), ({"units": 5}, "NaN"),
])
def test_amount_that_is_not_a_number(v8: dict[str, Seed], literal: dict[str, MappingSet], value: Any,
                                     js_amount: str) -> None:
    """JS converts anything to a number (or NaN); paymap's `cents` fails the event, located."""
    js, err = both(v8, literal, "dispute", edited("dispute.opened", amount=value))
    assert js.payload["data"]["amount"] == js_amount
    assert isinstance(err, MappingError)
    assert re.search(r"literal[/\\]dispute\.map:12:\d+: in `data\.amount`: cents\(\) expected a number", str(err))


def test_amount_in_other_scripts_digits(v8: dict[str, Seed], literal: dict[str, MappingSet]) -> None:
    """JS reads only ASCII digits, and so does paymap: other scripts' digits fail the event, located."""
    js, err = both(v8, literal, "dispute", edited("dispute.opened", amount="١٢"))  # Arabic-Indic 12
    assert js.payload["data"]["amount"] == "NaN"
    assert isinstance(err, MappingError)
    assert "cents() expected a number" in str(err)


@pytest.mark.parametrize(("amount", "js_amount", "paymap_amount"), [
    (100.5, "1.00", "1.01"),  # 1.005 is 1.00499999999999989… in binary
    (1.5, "0.01", "0.02"),  # 0.015 is 0.01499999999999999944…
    (2**53 + 1, "90071992547409.92", "90071992547409.93"),  # beyond 2^53 a double cannot hold it
    (12345678901234567891, "123456789012345664.00", "123456789012345678.91"),
])
def test_binary_floating_point(v8: dict[str, Seed], literal: dict[str, MappingSet], amount: Any,
                               js_amount: str, paymap_amount: str) -> None:
    js, event = both(v8, literal, "payment", edited("payment.succeeded", total_amount=amount))
    assert js.payload["data"]["amount"] == js_amount
    assert event["data"]["amount"] == paymap_amount


def test_negative_fraction_of_a_cent(v8: dict[str, Seed], literal: dict[str, MappingSet]) -> None:
    """toFixed keeps the sign of a negative number that rounds to zero, and so does `cents`."""
    js, event = both(v8, literal, "payment", edited("payment.succeeded", total_amount=-0.4))
    assert js.payload["data"]["amount"] == "-0.00"
    assert event["data"]["amount"] == "-0.00"


@pytest.mark.parametrize(("timestamp", "js_ts"), [
    (DELETE, None),  # new Date(undefined) is Invalid Date: NaN, written as null
    (None, 0),  # new Date(null) is 1970-01-01
])
def test_absent_timestamp(v8: dict[str, Seed], literal: dict[str, MappingSet], timestamp: Any, js_ts: Any) -> None:
    """Like every function, epoch() gives missing for missing (ts left out) and null for null."""
    js, event = both(v8, literal, "payment", edited("payment.succeeded", timestamp=timestamp))
    assert js.payload["ts"] == js_ts
    assert isinstance(event, dict)
    if timestamp is DELETE:
        assert "ts" not in event
    else:
        assert event["ts"] is None


@pytest.mark.parametrize(("timestamp", "js_ts"), [
    ("yesterday", None),
    ("2025-02-30T00:00:00Z", 1740873600),  # V8 rolls over to 2 March
    ("2025-08-04T24:00:00Z", 1754352000),  # V8 reads 24:00 as the next midnight
    (1754295184882, 1754295184),  # a number is milliseconds to `new Date`
])
def test_timestamp_paymap_refuses(v8: dict[str, Seed], literal: dict[str, MappingSet], timestamp: Any,
                                  js_ts: Any) -> None:
    js, err = both(v8, literal, "payment", edited("payment.succeeded", timestamp=timestamp))
    assert js.payload["ts"] == js_ts
    assert isinstance(err, MappingError)
    assert re.search(r"literal[/\\]payment\.map:27:\d+: in `ts`: epoch\(\)", str(err))


@pytest.mark.parametrize("timestamp", ["2025-08-04T08:13:04,5Z", "20250804T081304Z"])
def test_timestamp_only_paymap_reads(v8: dict[str, Seed], literal: dict[str, MappingSet], timestamp: str) -> None:
    """ISO 8601 forms V8's Date does not read (NaN → null): comma fraction, basic format."""
    js, event = both(v8, literal, "payment", edited("payment.succeeded", timestamp=timestamp))
    assert js.payload["ts"] is None
    assert event["ts"] == 1754295184


def test_timestamp_without_offset_is_utc(literal: dict[str, MappingSet]) -> None:
    """`new Date("2025-08-04T08:13:04")` is the machine's local time in JS; in paymap it is UTC,
    whatever the machine's time zone."""
    [event] = literal["payment"].apply(edited("payment.succeeded", timestamp="2025-08-04T08:13:04"))
    assert event["ts"] == int(datetime(2025, 8, 4, 8, 13, 4, tzinfo=UTC).timestamp())


# --- the shipped mappings are valid Inngest events -------------------------------------------

FAMILY_SAMPLES = [t for t in SAMPLE_TYPES if t.split(".")[0] in FAMILIES]
AMOUNT_FIELD = {"payment": "total_amount", "subscription": "recurring_pre_tax_amount", "dispute": "amount"}
# the library's key for that amount: a subscription's price is `recurring_amount` (docs/mappings.md)
AMOUNT_KEY = {"payment": "amount", "subscription": "recurring_amount", "dispute": "amount"}
# the seed's keys the library renamed (docs/migration.md)
RENAMED = {("subscription", "amount"): "recurring_amount", ("subscription", "next_billing"): "next_billing_at"}


def expected_ms(timestamp: str) -> int:
    dt = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // (datetime.resolution * 1000)


def assert_valid_inngest_event(event: dict[str, Any], body: dict[str, Any]) -> None:
    assert set(event) <= {"name", "data", "user", "id", "ts", "v"}
    assert type(event["name"]) is str and event["name"].strip()
    assert type(event["data"]) is dict
    assert type(event.get("user", {})) is dict
    assert type(event["id"]) is str and event["id"]
    assert type(event["ts"]) is int and event["ts"] >= TS_1980_MS
    assert event["ts"] == expected_ms(body["timestamp"])
    json.dumps(event, allow_nan=False)  # plain JSON: no Decimal, no NaN


@pytest.mark.parametrize("event_type", FAMILY_SAMPLES)
def test_shipped_mappings_give_valid_events(shipped: dict[str, MappingSet], event_type: str) -> None:
    family = event_type.split(".")[0]
    body = sample(event_type)
    [event] = shipped[family].apply(copy.deepcopy(body))
    assert_valid_inngest_event(event, body)
    assert event["id"] == f"dodo:{event_type}:{body['data'][f'{family}_id']}:{body['timestamp']}"
    units = body["data"].get(AMOUNT_FIELD[family])
    if units is not None:
        currency = body["data"]["currency"]
        assert event["data"][AMOUNT_KEY[family]] == str(Decimal(int(units)).scaleb(-{"JPY": 0, "KWD": 3}.get(currency, 2)))


MONEY_CASES = [
    ("USD", 2999, "29.99"), ("USD", 5, "0.05"), ("USD", 0, "0.00"), ("EUR", 100000, "1000.00"),
    ("JPY", 2999, "2999"), ("JPY", 5, "5"), ("KRW", 15000, "15000"),
    ("KWD", 12345, "12.345"), ("KWD", 5, "0.005"), ("BHD", 1000, "1.000"),
]


@pytest.mark.parametrize(("currency", "units", "amount"), MONEY_CASES)
@pytest.mark.parametrize("event_type", ["payment.succeeded", "subscription.active", "subscription.cancelled",
                                        "dispute.opened", "dispute.won"])
def test_shipped_amounts_have_the_currencys_decimals(shipped: dict[str, MappingSet], event_type: str,
                                                     currency: str, units: int, amount: str) -> None:
    family = event_type.split(".")[0]
    value: Any = str(units) if family == "dispute" else units  # Dodo sends a dispute amount as text
    body = edited(event_type, currency=currency, **{AMOUNT_FIELD[family]: value})
    [event] = shipped[family].apply(copy.deepcopy(body))
    assert_valid_inngest_event(event, body)
    assert event["data"][AMOUNT_KEY[family]] == amount
    assert event["data"]["currency"] == currency


def test_shipped_mappings_keep_the_seeds_fields(v8: dict[str, Seed], literal: dict[str, MappingSet],
                                                shipped: dict[str, MappingSet]) -> None:
    """On USD samples the corrected rules give every field the seed gives, with its value, except
    `ts` (milliseconds of the same moment), two renamed subscription keys, and what the seed made
    up (`remarks: ""`, `user.email: "unknown"`)."""
    for event_type in [t for t in SAMPLE_TYPES if any(HANDLES[f](t) for f in FAMILIES)]:
        family = event_type.split(".")[0]
        body = sample(event_type)
        js = assert_same(v8, literal, family, body)
        [event] = shipped[family].apply(copy.deepcopy(body))
        assert event["name"] == js["name"]
        assert event["ts"] // 1000 == js["ts"]
        for key, value in js["data"].items():
            mine = event["data"][RENAMED.get((family, key), key)]
            if (family, key, value) == ("dispute", "remarks", "") and body["data"].get("remarks") is None:
                assert mine is None
            else:
                assert as_json(mine) == as_json(value), (event_type, key)
        if js["user"]["email"] == "unknown":
            assert "email" not in event["user"]
        else:
            assert event["user"]["email"] == js["user"]["email"]


def test_shipped_mappings_differ_from_the_seed_where_documented(shipped: dict[str, MappingSet]) -> None:
    """`??` instead of `||`; a null customer leaves the fields out; no made-up values; an
    unreadable amount fails."""
    [event] = shipped["payment"].apply(edited("payment.succeeded", payment_method="", customer=None))
    assert event["data"]["payment_method"] == ""
    assert "customer_email" not in event["data"] and "email" not in event["user"]
    [event] = shipped["dispute"].apply(edited("dispute.won", remarks=None))
    assert event["data"]["remarks"] is None and event["user"] == {}
    with pytest.raises(MappingError, match=r"dispute\.map:\d+:\d+: in `data\.amount`: money\(\)"):
        shipped["dispute"].apply(edited("dispute.opened", amount="abc"))
