"""Small pure parts: settings, Inngest's event rules (checked against the double), Retry-After, store schema."""

from __future__ import annotations

import base64
import importlib.util
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.relay.config import CLOUD_EVENT_API_URL, DEV_SERVER_URL, SettingsError, load_settings
from runtime.relay.contract import check_event
from runtime.relay.inngest import parse_retry_after, validate_event
from runtime.relay.mapping import default_event_id
from runtime.relay.store import SchemaTooNew
from runtime.relay.store_sqlite import SCHEMA_VERSION, SQLiteStore

from .harness import DOUBLE_SCRIPT, OTHER_SECRET, SECRET


def _double_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("inngest_double", DOUBLE_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DOUBLE = _double_module()


def test_event_api_origin_follows_the_sdk_precedence() -> None:
    assert load_settings().event_api_base == DEV_SERVER_URL  # no key at all: the local dev server
    assert load_settings(inngest_event_key="k").event_api_base == CLOUD_EVENT_API_URL
    assert load_settings(inngest_event_key="k", inngest_dev="1").event_api_base == DEV_SERVER_URL
    assert load_settings(inngest_dev="http://127.0.0.1:9999/").event_api_base == "http://127.0.0.1:9999"
    both = load_settings(inngest_base_url="https://a.example", inngest_event_api_base_url="https://b.example")
    assert both.event_api_base == "https://b.example"
    assert load_settings(inngest_base_url="https://a.example").event_api_base == "https://a.example"


def test_several_secrets_for_rotation_and_clear_errors() -> None:
    assert load_settings(webhook_key=f"{SECRET},{OTHER_SECRET}").secrets == [SECRET, OTHER_SECRET]
    assert load_settings(webhook_key=f" {SECRET}\n{OTHER_SECRET} ").secrets == [SECRET, OTHER_SECRET]
    with pytest.raises(SettingsError, match="secret #2 contains characters that are not base64"):
        load_settings(webhook_key=f"{SECRET},whsec_n*t-base64!")
    with pytest.raises(SettingsError, match="no webhook secret configured"):
        load_settings().require_startable()
    load_settings(insecure_dev=True).require_startable()


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ({"name": "", "data": {}}, "`name` is required"),
        ({"data": {}}, "`name` is required"),
        ({"name": "inngest/function.finished"}, "reserved"),
        ({"name": "a", "data": []}, "`data` must be an object"),
        ({"name": "a", "user": "x@example.org"}, "`user` must be an object"),
        ({"name": "a", "ts": 1754295184}, "looks like seconds"),
        ({"name": "a", "ts": 1754295184.5}, "integer of milliseconds"),
        ({"name": "a", "ts": 5_000_000_000_000}, "after 2100"),
        ({"name": "a", "v": 2}, "`v` must be a string"),
        ({"name": "a", "id": 7}, "`id` must be a string"),
        ({"name": "a", "data": {"x": "y" * 2000}}, "over the maximum event size of 1024 bytes"),
    ],
)
def test_local_rules_explain_each_rejection(event: dict[str, Any], fragment: str) -> None:
    reason = validate_event(event, max_bytes=1024)
    assert reason is not None and fragment in reason


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIRST_MS = (datetime(1980, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
_LAST_MS = (datetime(2100, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
_GO_TYPES: dict[str, type] = {"name": str, "id": str, "v": str, "data": dict, "user": dict}


def inngest_accepts(event: Any, max_bytes: int) -> bool:
    """A model of the server written from its Go source, independently of runtime.relay.contract:
    decode into ``event.Event`` (typed fields; null leaves the zero value), ``Validate()``, size."""
    if not isinstance(event, dict):
        return False
    for key, go_type in _GO_TYPES.items():
        if event.get(key) is not None and not isinstance(event[key], go_type):
            return False
    ts = event.get("ts")
    if ts is not None and type(ts) is not int:
        return False
    name = event.get("name") or ""
    if name == "" or name.startswith("inngest/"):
        return False
    if ts and not _FIRST_MS <= ts <= _LAST_MS:
        return False
    try:
        raw = json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # NaN and Infinity are not JSON: such a body never decodes
        return False
    return len(raw.encode("utf-8")) <= max_bytes


_names = st.one_of(
    st.sampled_from(["payment.succeeded", "inngest/x", "inngest", "", " ", "   ", "\t\n", " a ", "é", "支付.成功", "😀"]),
    st.text(max_size=8),
)
_timestamps = st.one_of(
    st.sampled_from([0, _FIRST_MS - 1, _FIRST_MS, _LAST_MS, _LAST_MS + 1, 1754295184, 1754295184882, -1]),
    st.integers(min_value=-(2**40), max_value=2**45),
    st.floats(), st.booleans(),
)
_values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**40), max_value=2**45), st.floats(),
    st.text(max_size=12), st.sampled_from(["é€😀", "\u00a0", "\ud7ff", "支付"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.one_of(st.integers(), st.floats(), st.text(max_size=4)), max_size=2),
)
_events = st.one_of(
    st.fixed_dictionaries({}, optional={"name": _names, "data": _values, "user": _values, "id": _values,
                                        "ts": _timestamps, "v": _values}),
    st.fixed_dictionaries({"name": _names, "data": st.dictionaries(st.text(max_size=4), _values, max_size=3)},
                          optional={"ts": _timestamps, "id": st.text(max_size=6)}),
    _values,
)


def _size(event: Any) -> int:
    try:
        return len(json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode())
    except ValueError:
        return 100


@pytest.mark.parametrize(("event", "rule"), [
    ({"name": " "}, None),  # Inngest compares with "": a name of spaces is accepted (paymap check warns, M409)
    ({"name": ""}, "name.empty"),
    ({"name": None}, "name.empty"),
    ({"name": 3}, "name.type"),
    ({"name": "a", "ts": _FIRST_MS}, None),
    ({"name": "a", "ts": _FIRST_MS - 1}, "ts.early"),
    ({"name": "a", "ts": _LAST_MS}, None),
    ({"name": "a", "ts": _LAST_MS + 1}, "ts.late"),
    ({"name": "a", "ts": 0}, None),
    ({"name": "a", "ts": -1}, "ts.early"),
    ({"name": "a", "ts": True}, "ts.type"),
    ({"name": "a", "data": {"x": float("nan")}}, "json"),
    ({"name": "a", "data": {"x": float("inf")}}, "json"),
])
def test_contract_edges(event: dict[str, Any], rule: str | None) -> None:
    violation = check_event(event, max_bytes=1024)
    assert (violation and violation.rule) == rule


_GO = "json: cannot unmarshal into Go struct field Event."


@pytest.mark.parametrize(("rule", "event", "reason", "server"), [
    ("object", [], "an event must be a JSON object, got list",
     "Request body must contain an event object or an array of event objects"),
    ("name.type", {"name": 3}, "`name` must be a string, got int", _GO + "name of type string"),
    ("name.empty", {"data": {}}, "`name` is required and must be a non-empty string", "event name is empty"),
    ("name.reserved", {"name": "inngest/x"}, "`name` 'inngest/x' is reserved: names starting with 'inngest/' are rejected by Inngest",
     "event name is reserved for internal use"),
    ("data.type", {"name": "a", "data": [1]}, "`data` must be an object, got list", _GO + "data of type map[string]interface {}"),
    ("user.type", {"name": "a", "user": "u"}, "`user` must be an object, got str", _GO + "user of type map[string]interface {}"),
    ("id.type", {"name": "a", "id": 7}, "`id` must be a string, got int", _GO + "id of type string"),
    ("v.type", {"name": "a", "v": 2.0}, "`v` must be a string (the schema version), got float", _GO + "v of type string"),
    ("ts.type", {"name": "a", "ts": "1"}, "`ts` must be an integer of milliseconds since the epoch, got '1'",
     _GO + "ts of type int64"),
    ("ts.early", {"name": "a", "ts": 1754295184}, "`ts` 1754295184 is before 1980-01-01 when read as milliseconds "
     "(looks like seconds: multiply by 1000)", "timestamp is before Jan 1, 1980"),
    ("ts.early", {"name": "a", "ts": _FIRST_MS // 1000}, f"`ts` {_FIRST_MS // 1000} is before 1980-01-01 when read as "
     "milliseconds (looks like seconds: multiply by 1000)", "timestamp is before Jan 1, 1980"),
    ("ts.early", {"name": "a", "ts": _FIRST_MS // 1000 - 1}, f"`ts` {_FIRST_MS // 1000 - 1} is before 1980-01-01 when read "
     "as milliseconds", "timestamp is before Jan 1, 1980"),
    ("ts.early", {"name": "a", "ts": _LAST_MS // 1000 - 1}, f"`ts` {_LAST_MS // 1000 - 1} is before 1980-01-01 when read as "
     "milliseconds (looks like seconds: multiply by 1000)", "timestamp is before Jan 1, 1980"),
    ("ts.early", {"name": "a", "ts": _LAST_MS // 1000}, f"`ts` {_LAST_MS // 1000} is before 1980-01-01 when read as "
     "milliseconds", "timestamp is before Jan 1, 1980"),
    ("ts.late", {"name": "a", "ts": _LAST_MS + 1}, f"`ts` {_LAST_MS + 1} is after 2100-01-01 when read as milliseconds",
     "timestamp is after Jan 1, 2100"),
    ("json", {"name": "a", "data": {"x": float("nan")}}, "the event holds NaN or Infinity, which JSON cannot carry",
     "invalid character 'N' looking for beginning of value"),
    ("size", {"name": "a", "data": {"x": "y" * 14}}, "event is 42 bytes, over the maximum event size of 41 bytes",
     "Event is over the max size: Max 41 bytes / Size 42 bytes"),
])
def test_each_rule_says_what_the_relay_and_inngest_say(rule: str, event: Any, reason: str, server: str) -> None:
    violation = check_event(event, max_bytes=41)
    assert violation is not None and (violation.rule, violation.reason, violation.server) == (rule, reason, server)


def test_a_given_encoding_is_measured_as_is() -> None:
    event = {"name": "a"}
    assert check_event(event, max_bytes=5, encoded="12345") is None
    violation = check_event(event, max_bytes=5, encoded="123456")
    assert violation is not None and violation.rule == "size"


@pytest.mark.parametrize("text", ["é" * 5, "€" * 5, "😀" * 5, "x" * 5])
def test_sizes_count_utf8_bytes_as_sent(text: str) -> None:
    event = {"name": "a", "data": {"t": text}}
    size = len(f'{{"name":"a","data":{{"t":"{text}"}}}}'.encode())
    assert check_event(event, max_bytes=size) is None
    violation = check_event(event, max_bytes=size - 1)
    assert violation is not None and f"event is {size} bytes" in violation.reason
    assert violation.server == f"Event is over the max size: Max {size - 1} bytes / Size {size} bytes"


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_the_contract_matches_the_servers_rules(data: st.DataObject) -> None:
    """The one statement of the rules against a model of the Go server, with sizes at the limit."""
    event = data.draw(_events)
    max_bytes = _size(event) + data.draw(st.sampled_from([-1, 0, 1, 10_000]))
    violation = check_event(event, max_bytes=max_bytes)
    assert (violation is None) == inngest_accepts(event, max_bytes), (event, max_bytes, violation)
    # the relay and the test double answer from that same statement
    assert validate_event(event, max_bytes=max_bytes) == (violation and violation.reason)
    assert DOUBLE.check_event(event, max_bytes) == (violation and violation.server)


def test_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-3") == 0


def test_default_ids_are_stable_and_indexed() -> None:
    assert default_event_id("msg_1", 0, 1) == "dodo:msg_1"
    assert [default_event_id("msg_1", i, 2) for i in range(2)] == ["dodo:msg_1:0", "dodo:msg_1:1"]


def test_store_is_created_migrated_and_refuses_a_newer_schema(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "relay.sqlite3"
    store = SQLiteStore(db)
    store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew, match="newer than this paymap"):
        SQLiteStore(db)


@pytest.mark.parametrize(("secret", "problem"), [
    ("whsec_" + base64.b64encode(b"k" * 32).decode(), None),
    ("whsec_" + base64.b64encode(b"k" * 24).decode(), None),
    ("bad", "decodes to 2 bytes"),
    ("whsec_" + base64.b64encode(b"k" * 10).decode(), "decodes to 10 bytes"),
    ("whsec_", "is empty"),
    ("whsec_ab$cd", "not base64"),
])
def test_secret_checks_catch_truncated_and_malformed_secrets(secret: str, problem: str | None) -> None:
    from runtime.relay.config import check_secret

    found = check_secret(secret)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_a_store_of_schema_1_upgrades_and_its_retention_takes_the_attempts_along(tmp_path: Path) -> None:
    """A store written before the console (schema 1, the relay without migration 2) opens read-only for
    `paymap status`, upgrades when the relay opens it, and pruning then deletes an event's attempts too."""
    from runtime.relay.overview import collect
    from runtime.relay.store_sqlite import _MIGRATIONS

    db = tmp_path / "relay.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.executescript(_MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO webhooks (webhook_id, received_at, headers, body, state, event_type, mapped_at) "
                     "VALUES ('msg_old', 1000, '{}', x'7b7d', 'mapped', 'payment.succeeded', 1001)")
        conn.execute("INSERT INTO events (webhook_seq, generation, idx, event_id, name, payload, size, state, "
                     "next_attempt_at, received_at, created_at, updated_at, delivered_at) "
                     "VALUES (1, 0, 0, 'dodo:msg_old', 'payment.succeeded', '{}', 2, 'delivered', 1001, 1000, "
                     "1001, 1002, 1002)")
    old = SQLiteStore(db, read_only=True)
    try:
        info = collect(old, 10)
        assert info["webhooks"]["mapped"] == 1 and info["events"]["delivered"] == 1
    finally:
        old.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1  # read-only changed nothing

    store = SQLiteStore(db)
    try:
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            conn.execute("INSERT INTO attempts (event_seq, at, status, outcome) VALUES (1, 1002, 200, 'delivered')")
        found = store.webhook("msg_old")
        assert found is not None and found[1][0].history  # the console reads the attempt
        assert store.prune(before=2000, limit=10) == 1
    finally:
        store.close()
    with sqlite3.connect(db) as conn:
        assert [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("webhooks", "events", "attempts")] \
            == [0, 0, 0]


def test_database_url_is_checked_and_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DODO_PAYMENTS_WEBHOOK_KEY", SECRET)
    monkeypatch.setenv("PAYMAP_DATABASE_URL", "mysql://app:hunter2@db/paymap")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "PAYMAP_DATABASE_URL" in str(err.value) and "postgresql://" in str(err.value)
    assert "hunter2" not in str(err.value)
    monkeypatch.setenv("PAYMAP_DATABASE_URL", "postgresql://app:hunter2@db:5432/paymap")
    settings = load_settings()
    assert settings.store_location == "postgresql://app:***@db:5432/paymap"
    assert "hunter2" not in repr(settings)


def test_an_unreachable_database_is_one_sentence() -> None:
    from runtime.relay.store import StoreUnavailable
    from runtime.relay.stores import open_store

    with pytest.raises(StoreUnavailable) as err:
        open_store(Path("unused"), "postgresql://app:hunter2@127.0.0.1:1/paymap")
    text = str(err.value)
    assert text.startswith("cannot open the store at postgresql://app:***@127.0.0.1:1/paymap: ")
    assert "refused" in text and "hunter2" not in text
