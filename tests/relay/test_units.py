"""Small pure parts: settings, Inngest's event rules (checked against the double), Retry-After, store schema."""

from __future__ import annotations

import base64
import importlib.util
import sqlite3
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.relay.config import CLOUD_EVENT_API_URL, DEV_SERVER_URL, SettingsError, load_settings
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


_values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**40), max_value=2**45), st.floats(allow_nan=False),
    st.text(max_size=12), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_events = st.dictionaries(
    st.sampled_from(["name", "data", "user", "id", "ts", "v"]),
    st.one_of(_values, st.sampled_from(["payment.succeeded", "inngest/x", "", 1754295184882, 1754295184])),
)


@settings(max_examples=400, deadline=None)
@given(_events)
def test_local_rules_agree_with_the_documented_server_rules(event: dict[str, Any]) -> None:
    """Whatever the relay lets through, the contract accepts, and the other way round."""
    mine = validate_event(event, max_bytes=4096)
    theirs = DOUBLE.check_event(event, 4096)
    assert (mine is None) == (theirs is None), (event, mine, theirs)


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


def test_background_loops_yield_to_a_burst_but_not_forever() -> None:
    import time as _time

    from runtime.relay.worker import MIN_DEFER_SECONDS, Intake, _Loop

    intake = Intake()
    assert not intake.busy()
    intake.in_flight = 1
    assert intake.busy()  # a webhook is being received
    intake.in_flight = 0
    intake.last_seen = _time.monotonic()
    assert intake.busy()  # the burst may not be over: the next request is on its way
    intake.last_seen -= 1.0
    assert not intake.busy()

    loop = _Loop(intake)
    loop._round_started = _time.monotonic()
    loop._round_done(oldest=_time.time())  # a round under load: the next one waits its turn
    assert loop._defer >= MIN_DEFER_SECONDS
    loop._round_started = _time.monotonic()
    loop._round_done(oldest=_time.time() - 60)  # mapping lags a minute behind: it gets half the time
    assert loop._defer < MIN_DEFER_SECONDS
    intake.last_seen = 0.0
    assert loop._yield_to_intake() is False  # quiet: no waiting at all


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
