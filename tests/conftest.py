"""Shared fixtures: sample bodies shipped with the project, and a compiler for inline mappings."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest

from dsl.schema import EnvelopeSchema
from runtime import MappingSet, load_text


def sample(event_type: str) -> dict[str, Any]:
    path = resources.files("runtime.samples") / "dodo" / f"{event_type}.json"
    return copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))


def sample_types() -> list[str]:
    root = resources.files("runtime.samples") / "dodo"
    return sorted(p.name.removesuffix(".json") for p in root.iterdir() if p.name.endswith(".json"))


@pytest.fixture
def compile_map() -> Callable[[str], MappingSet]:
    """Compile mapping text against the plain envelope schema (language tests use made-up fields)."""

    def _compile(text: str) -> MappingSet:
        return load_text(text, "test.map", schema=EnvelopeSchema())

    return _compile
