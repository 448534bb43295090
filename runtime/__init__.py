"""paymap's runtime: compiled mappings applied to webhook bodies, and the relay around them.

Public API::

    from runtime import load
    mappings = load("mappings/")          # compile a .map file or a directory
    events = mappings.apply(payload)      # -> list of Inngest event dicts
"""

from runtime.errors import CompileError, MappingError
from runtime.mappingset import MappingSet, Outcome, load, load_text

__all__ = ["CompileError", "MappingError", "MappingSet", "Outcome", "load", "load_text"]
