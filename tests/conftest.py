"""Shared fixtures: sample bodies shipped with the project, and a compiler for inline mappings."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from dsl.schema import EnvelopeSchema
from runtime import MappingSet, load_text, samples


def sample(event_type: str) -> dict[str, Any]:
    """A fresh copy of the shipped sample body of ``event_type`` (the one reader: :mod:`runtime.samples`)."""
    raw = samples.read(event_type)
    assert raw is not None, f"no shipped sample for {event_type!r}"
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


def sample_types() -> list[str]:
    return samples.names()


@pytest.fixture
def compile_map() -> Callable[[str], MappingSet]:
    """Compile mapping text against the plain envelope schema (language tests use made-up fields)."""

    def _compile(text: str) -> MappingSet:
        return load_text(text, "test.map", schema=EnvelopeSchema())

    return _compile
