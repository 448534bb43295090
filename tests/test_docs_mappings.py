"""docs/mappings.md describes the library as it is: every event type, every `data` key each family
produces, and the naming convention."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import runtime

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "mappings.md"
SAMPLES = ROOT / "samples" / "dodo"
SAMPLE_TYPES = sorted(p.stem for p in SAMPLES.glob("*.json"))

# section heading of each family in docs/mappings.md
SECTIONS = {
    "_settings": "Settings and shared lines (`_settings.map`)",
    "payment": "Payments (`payment.map`)",
    "refund": "Refunds (`refund.map`)",
    "dispute": "Disputes (`dispute.map`)",
    "subscription": "Subscriptions (`subscription.map`)",
    "license_key": "License keys (`license_key.map`)",
    "payout": "Payouts (`payout.map`)",
    "credit": "Credits (`credit.map`)",
    "abandoned_checkout": "Abandoned checkouts (`abandoned_checkout.map`)",
    "dunning": "Dunning (`dunning.map`)",
    "entitlement_grant": "Entitlement grants (`entitlement_grant.map`)",
}


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def library() -> runtime.MappingSet:
    return runtime.load(str(ROOT / "mappings"))


def test_every_family_file_has_a_section(doc: str) -> None:
    files = sorted(p.stem for p in (ROOT / "mappings").glob("*.map"))
    assert files == sorted(SECTIONS)
    for heading in SECTIONS.values():
        assert f"\n## {heading}\n" in doc


@pytest.mark.parametrize("event_type", SAMPLE_TYPES)
def test_every_event_type_and_data_key_is_documented(doc: str, library: runtime.MappingSet, event_type: str) -> None:
    family = event_type.split(".")[0]
    text = section(doc, SECTIONS[family])
    suffix = event_type.split(".", 1)[1]
    assert f"`{event_type}`" in text or f"`.{suffix}`" in text, f"{event_type} not in the {family} section"
    event = library.apply(json.loads((SAMPLES / f"{event_type}.json").read_text(encoding="utf-8")))[0]
    undocumented = [k for k in event["data"] if not re.search(rf"`{re.escape(k)}`", text)]
    assert undocumented == [], f"{event_type}: keys missing from docs/mappings.md: {undocumented}"


@pytest.mark.parametrize("family", [f for f in SECTIONS if not f.startswith("_")])
def test_every_documented_key_exists(doc: str, library: runtime.MappingSet, family: str) -> None:
    """No stale rows: each `data` key a family's tables name is produced by its mapping (on a
    shipped sample, or on the sample with every optional object filled in)."""
    text = section(doc, SECTIONS[family])
    rows = re.findall(r"^\| ((?:`[a-z_]+`(?:, )?)+) \| (?:text|money|integer|boolean|timestamp|object|list|credits)",
                      text, re.M)
    documented = {k for row in rows for k in re.findall(r"`([a-z_]+)`", row)}
    produced: set[str] = set()
    for t in [t for t in SAMPLE_TYPES if t.startswith(family + ".")]:
        body = json.loads((SAMPLES / f"{t}.json").read_text(encoding="utf-8"))
        data = body["data"]
        data.setdefault("customer", {"customer_id": "c", "email": "e", "name": "n", "metadata": {}})
        if isinstance(data.get("license_key"), dict) or "license_key" in data:
            data["license_key"] = {"id": "l", "key": "k", "status": "active", "activations_used": 0,
                                   "activations_limit": 1, "expires_at": None}
        data["cancelled_by"] = {"actor_type": "customer"}
        produced |= set(library.apply(body)[0]["data"])
    assert sorted(documented - produced) == []
    assert len(documented) >= 5


def test_the_naming_convention_holds(library: runtime.MappingSet) -> None:
    """"The Inngest name is Dodo's event type unchanged, except subscription.active"."""
    for event_type in SAMPLE_TYPES:
        body = json.loads((SAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
        names = [e["name"] for e in library.apply(body)]
        assert names == ["subscription.started" if event_type == "subscription.active" else event_type]
