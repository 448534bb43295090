"""paymap's runtime: compiled mappings applied to webhook bodies, and the relay around them.

Public API::

    from runtime import load
    mappings = load("mappings/")          # compile a .map file or a directory
    events = mappings.apply(payload)      # -> list of Inngest event dicts

Names are resolved lazily (PEP 562) so that ``runtime.functions`` and ``runtime.values`` can be
imported by the compiler without pulling in the compiler itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.errors import CompileError, MappingError
    from runtime.mappingset import MappingSet, Outcome, load, load_text

__all__ = ["CompileError", "MappingError", "MappingSet", "Outcome", "load", "load_text"]

_HOMES = {
    "CompileError": "runtime.errors",
    "MappingError": "runtime.errors",
    "MappingSet": "runtime.mappingset",
    "Outcome": "runtime.mappingset",
    "load": "runtime.mappingset",
    "load_text": "runtime.mappingset",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
