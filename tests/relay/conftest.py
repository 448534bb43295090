"""Fixtures of the relay tests; the helpers they use live in ``harness.py``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import Double, RelayServer, fast_settings
from .pg import fresh_schema


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The relay reads its settings from the environment: start every test from none of them."""
    for key in list(os.environ):
        if key.startswith(("PAYMAP_", "INNGEST_", "DODO_PAYMENTS_")):
            monkeypatch.delenv(key)


@pytest.fixture
def double() -> Iterator[Double]:
    d = Double()
    yield d
    d.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: run the module's relays on SQLite and on PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: this test is about SQLite itself (locks, files)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Modules marked ``both_backends`` run every relay test on both stores (``sqlite_only`` tests on one)."""
    if "relay_backend" not in metafunc.fixturenames or not metafunc.definition.get_closest_marker("both_backends"):
        return
    only = metafunc.definition.get_closest_marker("sqlite_only")
    metafunc.parametrize("relay_backend", ["sqlite"] if only else ["sqlite", "postgres"])


@pytest.fixture
def relay_backend() -> str:
    return "sqlite"


@pytest.fixture
def database_url(relay_backend: str) -> Iterator[str | None]:
    """None for SQLite; for PostgreSQL the URL of a fresh schema of the real server (dropped afterwards)."""
    if relay_backend != "postgres":
        yield None
        return
    with fresh_schema() as url:
        yield url


@pytest.fixture
def make_relay(tmp_path: Path, database_url: str | None) -> Iterator[Callable[..., RelayServer]]:
    started: list[RelayServer] = []

    def make(event_api: str, **overrides: Any) -> RelayServer:
        if database_url is not None:
            overrides.setdefault("database_url", database_url)
        server = RelayServer(fast_settings(tmp_path, event_api, **overrides))
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


