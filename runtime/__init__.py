"""paymap's runtime: compiled mappings applied to webhook bodies, and the relay around them.

Public API::

    from runtime import load
    mappings = load("mappings/")          # compile a .map file or a directory
    events = mappings.apply(payload)      # -> list of Inngest event dicts
"""

from __future__ import annotations

from prelude.errors import PaymapError

# The folder `samples/` is installed as the package `runtime.samples` (pyproject's package-dir), which
# mypy cannot see from the source tree; imported here so `from runtime import samples` type-checks.
from runtime import samples as samples  # type: ignore[attr-defined]
from runtime.errors import CompileError, MappingError
from runtime.mappingset import MappingSet, Outcome, load, load_text

__all__ = ["CompileError", "MappingError", "MappingSet", "Outcome", "PaymapError", "load", "load_text"]
