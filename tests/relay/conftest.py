"""Fixtures of the relay tests; the helpers they use live in ``harness.py``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import Double, RelayServer, fast_settings


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


@pytest.fixture
def make_relay(tmp_path: Path) -> Iterator[Callable[..., RelayServer]]:
    started: list[RelayServer] = []

    def make(event_api: str, **overrides: Any) -> RelayServer:
        server = RelayServer(fast_settings(tmp_path, event_api, **overrides))
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


