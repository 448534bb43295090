"""What a mapping may read: the input schema interface, and the plain envelope used when no
richer schema is known. The checker asks the schema for the type of every input path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

from dsl import types as T
from dsl.diagnostics import Diagnostics
from dsl.source import Span

# A path below a root name: a field name, an index, or None for `[*]`.
Segment = str | int | None


class InputSchema(Protocol):
    """Answers "what can this path be?" for the event types a rule receives."""

    def event_types(self, patterns: Sequence[str]) -> frozenset[str] | None:
        """The known event types matched by these patterns (None: this schema does not know types)."""
        ...

    def roots(self) -> frozenset[str]:
        """Top-level field names of the input body."""
        ...

    def path_type(
        self,
        event_types: frozenset[str] | None,
        root: str,
        segments: Sequence[Segment],
        spans: Sequence[Span],
        diags: Diagnostics,
    ) -> T.Ty:
        """The static type of ``root.segments``; report unknown fields into ``diags``."""
        ...


class EnvelopeSchema:
    """The Dodo envelope only: `business_id`, `type`, `timestamp` and an object `data` of any shape."""

    _ROOTS: ClassVar[dict[str, T.Ty]] = {
        "business_id": T.STRING,
        "type": T.STRING,
        "timestamp": T.STRING,
        "data": T.OBJECT,
    }

    def event_types(self, patterns: Sequence[str]) -> frozenset[str] | None:
        return None

    def roots(self) -> frozenset[str]:
        return frozenset(self._ROOTS)

    def path_type(
        self,
        event_types: frozenset[str] | None,
        root: str,
        segments: Sequence[Segment],
        spans: Sequence[Span],
        diags: Diagnostics,
    ) -> T.Ty:
        if not segments:
            return self._ROOTS.get(root, T.ANY)
        if segments[-1] is None:
            return T.LIST | T.MISSING
        return T.ANY
