"""The shipped mapping library (`mappings/`): every Dodo event type gives valid Inngest events that
follow the library's data contract (docs/mappings.md): ids, `ts`, `v`, event `id`, an honest `user`,
money twice (the currency's decimals and integer minor units), one naming scheme, required ids, and
one prefix setting for every name."""

from __future__ import annotations

import copy
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import runtime
from dsl.compiler import compile_paths
from runtime import testing

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = ROOT / "mappings"
SAMPLES = ROOT / "samples" / "dodo"
SCHEMA = ROOT / "dsl" / "schemas" / "dodo.json"

SAMPLE_TYPES = sorted(p.stem for p in SAMPLES.glob("*.json"))
MIN_TS = 315_532_800_000  # 1980-01-01T00:00:00Z in ms: Inngest rejects earlier `ts`

# The one documented exception to "the Inngest name is Dodo's event type".
RENAMED = {"subscription.active": "subscription.started"}

# event type prefix → (data key of the primary id, where the body keeps it)
PRIMARY_ID: dict[str, tuple[str, str]] = {
    "payment.": ("payment_id", "payment_id"),
    "refund.": ("refund_id", "refund_id"),
    "dispute.": ("dispute_id", "dispute_id"),
    "subscription.": ("subscription_id", "subscription_id"),
    "license_key.": ("license_key_id", "id"),
    "payout.": ("payout_id", "payout_id"),
    "credit.": ("ledger_entry_id", "id"),
    "abandoned_checkout.": ("payment_id", "payment_id"),
    "dunning.": ("subscription_id", "subscription_id"),
    "entitlement_grant.": ("entitlement_grant_id", "id"),
}
# an alert with no id of its own: identified by its credit entitlement (and customer)
PRIMARY_ID_BY_TYPE = {"credit.balance_low": ("credit_entitlement_id", "credit_entitlement_id")}

# event type prefix → [(event data key, body data key of the minor units, body data key of the currency)]
MONEY: dict[str, list[tuple[str, str, str]]] = {
    "payment.": [("amount", "total_amount", "currency"), ("tax", "tax", "currency")],
    "refund.": [("amount", "amount", "currency")],
    "dispute.": [("amount", "amount", "currency")],  # a string of minor units
    "subscription.": [("recurring_amount", "recurring_pre_tax_amount", "currency")],
    "payout.": [("amount", "amount", "currency"), ("fee", "fee", "currency")],
}
EXPONENT = {"USD": 2, "EUR": 2, "INR": 2, "JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3}

CREDIT_STRINGS = ("amount", "balance_before", "balance_after", "overage_before", "overage_after")


CASES = testing.collect([str(MAPPINGS)])


@pytest.fixture(scope="module")
def library() -> runtime.MappingSet:
    return runtime.load(str(MAPPINGS))


def sample(event_type: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
    return body


def family(event_type: str) -> str:
    return event_type.split(".", 1)[0] + "."


def epoch_ms(timestamp: str) -> int:
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def expected_money(minor: int | str, currency: str) -> str:
    exponent = EXPONENT[currency]
    value = Decimal(minor).scaleb(-exponent)
    return f"{value:.{exponent}f}"


def assert_valid_inngest_event(event: dict[str, Any]) -> None:
    assert set(event) <= {"name", "data", "user", "id", "ts", "v"}, sorted(event)
    name = event["name"]
    assert isinstance(name, str) and name and not name.startswith("inngest/"), name
    assert isinstance(event["data"], dict)
    ts = event["ts"]
    assert type(ts) is int and ts >= MIN_TS, ts
    assert isinstance(event["id"], str) and event["id"]
    if "user" in event:
        assert isinstance(event["user"], dict)
    json.dumps(event, allow_nan=False)  # plain JSON: what the relay sends


def test_the_samples_cover_every_dodo_event_type() -> None:
    schema_types = set(json.loads(SCHEMA.read_text(encoding="utf-8"))["events"])
    assert len(SAMPLE_TYPES) == 48
    assert set(SAMPLE_TYPES) == schema_types


def test_the_library_compiles_without_warnings(library: runtime.MappingSet) -> None:
    assert library.diagnostics == []
    assert {Path(f).stem for f in library.files} == {p[:-1] for p in PRIMARY_ID} | {"_settings"}


@pytest.mark.parametrize("event_type", SAMPLE_TYPES)
def test_every_event_type_gives_a_valid_inngest_event(library: runtime.MappingSet, event_type: str) -> None:
    body = sample(event_type)
    events = library.apply(body)
    assert len(events) >= 1, f"no rule in mappings/ produces an event for {event_type}"
    for event in events:
        assert_valid_inngest_event(event)

    event = events[0]
    assert event["name"] == RENAMED.get(event_type, event_type)
    assert event["ts"] == epoch_ms(body["timestamp"])

    key, body_key = PRIMARY_ID_BY_TYPE.get(event_type) or PRIMARY_ID[family(event_type)]
    primary = body["data"][body_key]
    assert event["data"][key] == primary
    # "dodo:<Dodo type>:<primary id>[:<second id>]:<timestamp>": the same for every retry of one event
    assert event["id"].startswith(f"dodo:{event_type}:")
    assert event["id"].endswith(f":{body['timestamp']}")
    assert f":{primary}:" in event["id"]
    assert library.apply(copy.deepcopy(body))[0]["id"] == event["id"]


@pytest.mark.parametrize("event_type", SAMPLE_TYPES)
def test_customer_id_and_email_are_carried(library: runtime.MappingSet, event_type: str) -> None:
    body = sample(event_type)
    data = body["data"]
    event = library.apply(body)[0]
    customer = data.get("customer") or {}
    customer_id = customer.get("customer_id") or data.get("customer_id")
    if customer_id is None:
        assert event_type.startswith(("payout.", "dispute.")), event_type
        return
    assert event["data"]["customer_id"] == customer_id
    assert event["user"]["customer_id"] == customer_id
    if customer.get("email"):
        assert event["user"]["email"] == customer["email"]
        assert event["data"]["customer_email"] == customer["email"]


def test_the_event_id_differs_between_events_and_types(library: runtime.MappingSet) -> None:
    ids = [library.apply(sample(t))[0]["id"] for t in SAMPLE_TYPES]
    assert len(set(ids)) == len(ids)
    body = sample("payment.succeeded")
    later = copy.deepcopy(body)
    later["timestamp"] = "2025-08-04T08:13:05.000000Z"
    assert library.apply(later)[0]["id"] != library.apply(body)[0]["id"]


MONEY_TYPES = [t for t in SAMPLE_TYPES if family(t) in MONEY]


@pytest.mark.parametrize("currency", sorted(EXPONENT))
@pytest.mark.parametrize("event_type", MONEY_TYPES)
def test_money_has_the_currency_decimals(library: runtime.MappingSet, event_type: str, currency: str) -> None:
    body = sample(event_type)
    for _, _, currency_key in MONEY[family(event_type)]:
        body["data"][currency_key] = currency
    event = library.apply(body)[0]
    pattern = r"-?\d+" if EXPONENT[currency] == 0 else rf"-?\d+\.\d{{{EXPONENT[currency]}}}"
    for key, minor_key, _ in MONEY[family(event_type)]:
        value = event["data"][key]
        assert isinstance(value, str) and re.fullmatch(pattern, value), (key, value)
        assert value == expected_money(body["data"][minor_key], currency), key
        # the twin keeps Dodo's integer minor units, so sums need no float (and no exponent table)
        twin = event["data"][f"{key}_minor"]
        assert type(twin) is int and twin == int(body["data"][minor_key]), key
    assert event["data"]["currency"] == currency


@pytest.mark.parametrize("currency", sorted(EXPONENT))
def test_settlement_amount_uses_the_settlement_currency(library: runtime.MappingSet, currency: str) -> None:
    body = sample("payment.succeeded")
    body["data"].update(currency="USD", settlement_currency=currency, settlement_amount=123456)
    data = library.apply(body)[0]["data"]
    assert data["settlement_amount"] == expected_money(123456, currency)
    assert data["settlement_currency"] == currency
    assert data["amount"] == "29.99"


@pytest.mark.parametrize("event_type", [t for t in SAMPLE_TYPES if t.startswith("credit.") and t != "credit.balance_low"])
def test_credit_amounts_pass_through_as_strings(library: runtime.MappingSet, event_type: str) -> None:
    body = sample(event_type)
    data = library.apply(body)[0]["data"]
    for key in CREDIT_STRINGS:
        assert data[key] == body["data"][key], key
    # credits are not money: even a "currency-looking" amount keeps every decimal it has
    body["data"]["amount"] = "0.125"
    assert library.apply(body)[0]["data"]["amount"] == "0.125"


def test_credit_balance_low_passes_balances_through(library: runtime.MappingSet) -> None:
    body = sample("credit.balance_low")
    data = library.apply(body)[0]["data"]
    for key in ("available_balance", "subscription_credits_amount", "threshold_amount"):
        assert data[key] == body["data"][key]
    assert data["threshold_percent"] == body["data"]["threshold_percent"]


@pytest.mark.parametrize("event_type", [t for t in SAMPLE_TYPES if t.startswith("dispute.")])
def test_disputes_without_a_customer_still_map(library: runtime.MappingSet, event_type: str) -> None:
    body = sample(event_type)
    body["data"]["customer"] = None
    event = library.apply(body)[0]
    assert event["user"] == {}  # nothing known about the customer: no made-up "unknown" email
    assert "customer_id" not in event["data"]
    assert event["data"]["urgent"] is (event_type == "dispute.opened")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_mapping_examples(case: testing.Case) -> None:
    case.check()


def test_every_mapping_file_has_examples() -> None:
    _, untested = testing.discover([str(MAPPINGS)])
    assert untested == []


def test_every_event_type_has_an_example_on_its_unchanged_sample() -> None:
    """At least one *.test.yaml example maps each shipped sample as it is and expects events."""
    tested = {c.body["type"] for c in CASES
              if c.kind == "events" and c.events and c.body["type"] in SAMPLE_TYPES
              and c.body == sample(c.body["type"])}
    assert sorted(set(SAMPLE_TYPES) - tested) == []


@pytest.mark.parametrize("event_type", SAMPLE_TYPES)
def test_every_event_has_the_schema_version(library: runtime.MappingSet, event_type: str) -> None:
    assert all(e["v"] == "2" for e in library.apply(sample(event_type)))


_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


@pytest.mark.parametrize("event_type", SAMPLE_TYPES)
def test_one_naming_scheme(library: runtime.MappingSet, event_type: str) -> None:
    """Timestamps end in `_at`, every `*_minor` integer has its decimal twin and a currency beside
    it, no Dodo `*_date` names, no made-up defaults."""
    data = library.apply(sample(event_type))[0]["data"]
    for key, value in data.items():
        assert not key.endswith("_date"), key
        if isinstance(value, str) and _ISO.match(value):
            assert key.endswith("_at"), key
        if key.endswith("_minor"):
            assert value is None or type(value) is int, key
            assert key.removesuffix("_minor") in data, key
            assert "currency" in data, key
        assert value != "unknown", key


@pytest.mark.parametrize("event_type", SAMPLE_TYPES)
def test_external_id_is_the_merchant_s_user_id(library: runtime.MappingSet, event_type: str) -> None:
    body = sample(event_type)
    event = library.apply(body)[0]
    user_id = (body["data"].get("metadata") or {}).get("user_id")
    if user_id is None:
        assert "external_id" not in event.get("user", {})
    else:
        assert event["user"]["external_id"] == str(user_id)


@pytest.mark.parametrize("event_type", SAMPLE_TYPES)
def test_a_body_with_only_its_type_fails_at_its_map_line(library: runtime.MappingSet, event_type: str) -> None:
    """A signed body of `{"type": ...}` is refused with the `.map` line requiring the object's id,
    instead of being delivered half-empty."""
    with pytest.raises(runtime.MappingError) as err:
        library.apply({"type": event_type})
    exc = err.value
    assert exc.file is not None and Path(exc.file).name == f"{event_type.split('.')[0]}.map"
    assert exc.line and "a required value is missing" in str(exc)


def test_the_prefix_is_one_setting_and_the_examples_follow_it(tmp_path: Path) -> None:
    copy_dir = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, copy_dir)
    settings = copy_dir / "_settings.map"
    text = settings.read_text(encoding="utf-8")
    assert 'const prefix = ""' in text
    settings.write_text(text.replace('const prefix = ""', 'const prefix = "dodo/"'), encoding="utf-8")
    changed = runtime.load(str(copy_dir))
    assert changed.diagnostics == []
    for event_type in SAMPLE_TYPES:
        name = changed.apply(sample(event_type))[0]["name"]
        assert name == "dodo/" + RENAMED.get(event_type, event_type)
    runner = testing.Runner()
    results = [c.run(runner) for c in testing.collect([str(copy_dir)])]
    assert [r.report() for r in results if r.status != "passed"] == []
    assert len(results) == len(CASES)


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.map")), ids=lambda p: p.name)
def test_every_file_checked_alone_is_clean(path: Path) -> None:
    """`paymap check mappings/payment.map` reads the prefix and the groups from the files beside it,
    and `_settings.map` alone sees the rules that use its groups."""
    result = compile_paths([str(path)])
    assert [f"{d.code} {d.span}: {d.message}" for d in result.diagnostics] == []
