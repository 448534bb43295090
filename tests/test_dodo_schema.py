"""The bundled Dodo webhook schema (dsl/schemas/dodo.json).

The checker trusts this file for every input path a mapping reads, so it must (a) match what the
installed ``dodopayments`` SDK says (drift test), (b) accept every canonical sample body, and
(c) cover exactly the 48 event types we have samples for. The validator below is deliberately
small and lives here: it is the test's independent reading of the schema format.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "dsl" / "schemas" / "dodo.json"
SAMPLES_DIR = ROOT / "samples" / "dodo"
GENERATOR = ROOT / "scripts" / "gen_dodo_schema.py"

SAMPLE_TYPES = sorted(p.name.removesuffix(".json") for p in SAMPLES_DIR.glob("*.json"))
# What a decimal string may look like: Decimal-parseable and finite. Exponent notation is real:
# samples/dodo/credit.manual_adjustment.json has balance_after "-1e+06".
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def sample(event: str) -> Any:
    return json.loads((SAMPLES_DIR / f"{event}.json").read_text(encoding="utf-8"))


def load_generator() -> ModuleType:
    pytest.importorskip("dodopayments")
    spec = importlib.util.spec_from_file_location("gen_dodo_schema", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# A minimal validator for the schema format.
# ---------------------------------------------------------------------------------------------


def _parses(parser: Any, value: str) -> bool:
    try:
        parser(value)
    except ValueError:
        return False
    return True


def validate(node: dict[str, Any], value: Any, path: str = "$") -> list[str]:
    errors: list[str] = []
    _check(node, value, path, errors)
    return errors


def _check(node: dict[str, Any], value: Any, path: str, errors: list[str]) -> None:
    kind = node["type"]

    def bad(msg: str) -> None:
        errors.append(f"{path}: {msg} (got {value!r:.60})")

    if kind == "any":
        return
    if kind == "string":
        if not isinstance(value, str):
            bad("expected string")
        elif "const" in node and value != node["const"]:
            bad(f"expected const {node['const']!r}")
        elif "enum" in node and value not in node["enum"]:
            bad("not in enum")
    elif kind == "decimal_string":
        if not (isinstance(value, str) and _DECIMAL.fullmatch(value)):
            bad("expected decimal string")
    elif kind == "datetime":
        if not (isinstance(value, str) and "T" in value and _parses(dt.datetime.fromisoformat, value)):
            bad("expected ISO-8601 datetime")
    elif kind == "date":
        if not (isinstance(value, str) and _parses(dt.date.fromisoformat, value)):
            bad("expected ISO-8601 date")
    elif kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            bad("expected int")
    elif kind == "number":
        if not isinstance(value, int | float) or isinstance(value, bool):
            bad("expected number")
    elif kind == "bool":
        if not isinstance(value, bool):
            bad("expected bool")
    elif kind == "list":
        if not isinstance(value, list):
            bad("expected list")
        else:
            for i, item in enumerate(value):
                _check(node["items"], item, f"{path}[{i}]", errors)
    elif kind == "map":
        if not isinstance(value, dict):
            bad("expected map")
        else:
            for key, item in value.items():
                _check(node["values"], item, f"{path}.{key}", errors)
    elif kind == "union":
        if not any(not validate(option, value, path) for option in node["of"]):
            bad("matches no union member")
    elif kind == "object":
        if not isinstance(value, dict):
            bad("expected object")
            return
        fields = node["fields"]
        for key, item in value.items():
            field = fields.get(key)
            if field is None:
                if not node["extra"]:
                    errors.append(f"{path}.{key}: unknown field in {node.get('title')}")
            elif item is None:
                if not field["nullable"]:
                    errors.append(f"{path}.{key}: null but not nullable")
            else:
                _check(field["schema"], item, f"{path}.{key}", errors)
        for key, field in fields.items():
            if key not in value and not field["optional"]:
                errors.append(f"{path}.{key}: required field missing")
    else:
        errors.append(f"{path}: unknown schema type {kind!r}")


def walk_fields(node: dict[str, Any], path: str = "$") -> Any:
    """Yield (path, field, parent object node) for every field at any depth."""
    if node["type"] == "object":
        for name, field in node["fields"].items():
            yield f"{path}.{name}", field, node
            yield from walk_fields(field["schema"], f"{path}.{name}")
    elif node["type"] == "list":
        yield from walk_fields(node["items"], f"{path}[]")
    elif node["type"] == "map":
        yield from walk_fields(node["values"], f"{path}{{}}")
    elif node["type"] == "union":
        for option in node["of"]:
            yield from walk_fields(option, path)


# ---------------------------------------------------------------------------------------------
# (a) drift against the installed SDK
# ---------------------------------------------------------------------------------------------


def test_committed_schema_matches_installed_sdk() -> None:
    gen = load_generator()
    expected = gen.render(gen.build_schema())
    actual = SCHEMA_PATH.read_text(encoding="utf-8")
    if actual != expected:
        lines = list(gen.diff_summary(json.loads(actual), json.loads(expected))) or ["(formatting only)"]
        pytest.fail(
            "dsl/schemas/dodo.json is stale for the installed dodopayments; run "
            "`.venv/bin/python scripts/gen_dodo_schema.py` and review the diff:\n  " + "\n  ".join(lines[:40])
        )


def test_event_types_match_sdk_literal() -> None:
    pytest.importorskip("dodopayments")
    import typing

    from dodopayments.types.webhook_event_type import WebhookEventType

    assert sorted(schema()["events"]) == sorted(typing.get_args(WebhookEventType))


# ---------------------------------------------------------------------------------------------
# (b) every sample conforms to the schema of its type
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", SAMPLE_TYPES)
def test_sample_conforms(event: str) -> None:
    body = sample(event)
    assert body["type"] == event
    assert validate(schema()["events"][event], body) == []


def test_validator_rejects_bad_bodies() -> None:
    """The conformance test is only meaningful if the validator can fail."""
    node = schema()["events"]["payment.succeeded"]
    good = sample("payment.succeeded")

    def errors_after(mutate: Any) -> list[str]:
        body = copy.deepcopy(good)
        mutate(body)
        return validate(node, body)

    assert errors_after(lambda b: b["data"].pop("total_amount"))  # required missing
    assert errors_after(lambda b: b["data"].update(total_amount=None))  # null, not nullable
    assert errors_after(lambda b: b["data"].update(total_amount="29.99"))  # wrong type
    assert errors_after(lambda b: b["data"].update(total_amount=True))  # bool is not int
    assert errors_after(lambda b: b["data"].update(currency="XXX"))  # not in enum
    assert errors_after(lambda b: b["data"].update(payload_type="Refund"))  # wrong const
    assert errors_after(lambda b: b.update(type="payment.failed"))  # wrong const
    assert errors_after(lambda b: b.update(timestamp="yesterday"))  # not a datetime
    assert errors_after(lambda b: b["data"]["metadata"].update(nested={"a": 1}))  # metadata is flat
    assert not errors_after(lambda b: b["data"].pop("tax"))  # optional may be absent
    assert not errors_after(lambda b: b["data"].update(tax=None))  # ... or null
    assert not errors_after(lambda b: b["data"].update(unknown_new_field=1))  # extra allowed

    dispute = schema()["events"]["dispute.opened"]
    body = sample("dispute.opened")
    body["data"]["amount"] = 1900  # the CLI mock sends a number; the schema says decimal string
    assert validate(dispute, body)

    closed = {
        "type": "object",
        "extra": False,
        "fields": {"a": {"schema": {"type": "int"}, "optional": False, "nullable": False}},
    }
    assert validate(closed, {"a": 1, "b": 2}) == ["$.b: unknown field in None"]


# ---------------------------------------------------------------------------------------------
# (c) coverage and structure
# ---------------------------------------------------------------------------------------------


def test_all_48_event_types_present_and_match_samples() -> None:
    events = schema()["events"]
    assert len(events) == 48
    assert sorted(events) == SAMPLE_TYPES


def test_source_and_envelope() -> None:
    assert schema()["source"].startswith("dodopayments ")
    for event, node in schema()["events"].items():
        fields = node["fields"]
        assert set(fields) == {"business_id", "type", "timestamp", "data"}, event
        assert fields["type"]["schema"] == {"type": "string", "const": event}
        assert fields["timestamp"]["schema"] == {"type": "datetime"}
        assert fields["business_id"]["schema"] == {"type": "string"}
        data = fields["data"]
        assert data["schema"]["type"] == "object" and not data["optional"] and not data["nullable"]
        payload_type = data["schema"]["fields"]["payload_type"]
        assert payload_type["schema"]["type"] == "string" and "const" in payload_type["schema"]
        assert not payload_type["optional"] and not payload_type["nullable"]


def test_reference_corrections() -> None:
    for event, node in schema()["events"].items():
        data = node["fields"]["data"]["schema"]["fields"]
        assert "note" in data["payload_type"], event
        if event.startswith("dispute."):
            assert data["customer"]["optional"] and data["customer"]["nullable"]
            assert data["customer"]["schema"]["title"] == "CustomerLimitedDetails"
            assert data["reason"]["optional"] and data["reason"]["nullable"]
            assert data["amount"]["schema"] == {"type": "decimal_string"}
        if event.startswith("subscription."):
            for name in ("past_due_ends_at", "payment_id"):
                assert data[name]["optional"] and data[name]["nullable"], (event, name)


def test_money_fields_name_a_currency_sibling() -> None:
    money: set[str] = set()
    for event, node in schema()["events"].items():
        for path, field, parent in walk_fields(node):
            s = field["schema"]
            if s.get("money"):
                assert s["type"] == "int", (event, path)
                sibling = parent["fields"][s["currency_field"]]["schema"]
                assert sibling["type"] == "string", (event, path)
                money.add(path.removeprefix("$."))
    assert {
        "data.total_amount",
        "data.tax",
        "data.settlement_amount",
        "data.settlement_tax",
        "data.refunds[].amount",
        "data.amount",
        "data.fee",
        "data.recurring_pre_tax_amount",
        "data.trial_amount",
    } <= money
    # Not money: discount amounts are basis points (reference §3).
    discount = schema()["events"]["payment.succeeded"]["fields"]["data"]["schema"]["fields"]["discounts"]
    assert "money" not in discount["schema"]["items"]["fields"]["amount"]["schema"]
