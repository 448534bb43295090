"""Errors raised while loading and applying compiled mappings (the family: :mod:`prelude.errors`).

One type, :class:`MappingError`, for every runtime failure inside a mapping, so callers (the relay,
``paymap run``, tests) can park the event with a message that points at the ``.map`` source.
"""

from __future__ import annotations

import re

from dsl.diagnostics import Diagnostic
from dsl.source import Span
from prelude.errors import PaymapError

_LOCATION = re.compile(r"^(?P<file>[^\n]*?\.map):(?P<line>\d+):(?P<column>\d+):")



class MappingError(PaymapError):
    """A compiled mapping failed on one event; ``span`` is where in the ``.map`` source (None when the
    body itself is unusable, before any rule ran)."""

    def __init__(
        self,
        message: str,
        *,
        span: Span | None = None,
        field: str | None = None,
        input_path: str | None = None,
        event_type: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.field = field
        self.input_path = input_path
        self.event_type = event_type
        self.hint = hint

    @property
    def file(self) -> str:
        return self.span.file if self.span is not None else "<unknown>"

    @property
    def line(self) -> int:
        return self.span.line if self.span is not None else 0

    @property
    def column(self) -> int:
        return self.span.column if self.span is not None else 0

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        parts = [where + ":"]
        if self.field:
            parts.append(f"in `{self.field}`:")
        parts.append(self.message)
        if self.input_path:
            parts.append(f"(input `{self.input_path}`)")
        if self.event_type:
            parts.append(f"[event type {self.event_type!r}]")
        text = " ".join(parts)
        return f"{text}; {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, object]:
        return {
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "input_path": self.input_path,
            "event_type": self.event_type,
            "hint": self.hint,
        }


def mapping_error_location(text: str) -> tuple[str, int, int] | None:
    """The ``(file, line, column)`` a stored :class:`MappingError` message starts with, if it does.

    The relay stores ``str(MappingError)``; the console reads the ``.map`` location back from it.
    """
    m = _LOCATION.match(text)
    return (m["file"], int(m["line"]), int(m["column"])) if m else None


def mapping_error_message(text: str) -> str:
    """A stored :class:`MappingError` message without its leading ``file:line:column:``.

    Where the console shows the location beside the message, repeating the full path (often long)
    in front of it only pushes the reason out of sight.
    """
    m = _LOCATION.match(text)
    return text[m.end():].lstrip() if m else text


class CompileError(PaymapError):
    """Raised by :func:`runtime.load` when mapping files have error diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic], rendered: str) -> None:
        super().__init__(rendered)
        self.diagnostics = diagnostics
        self.rendered = rendered
