"""Diagnostics are values: collected by every phase, rendered only at the edge (CLI, relay log)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from dsl.codes import CODES
from dsl.source import Span

# the help of every M105 about an expression too deep or too long for the compiler
SPLIT_HELP = "split it with `let`: give parts of the expression names on lines of their own"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Fix:
    """A machine-applicable edit: put ``replacement`` where ``span`` is (an editor's quick fix)."""

    span: Span
    replacement: str
    title: str

    def to_dict(self) -> dict[str, object]:
        return {
            "title": self.title,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "replacement": self.replacement,
        }


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    span: Span
    message: str
    help: str | None = None
    label: str | None = None  # short text under the caret
    notes: tuple[str, ...] = field(default_factory=tuple)
    fixes: tuple[Fix, ...] = field(default_factory=tuple)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "message": self.message,
            "help": self.help,
            "fixes": [f.to_dict() for f in self.fixes],
        }


class Diagnostics:
    """An ordered collection that phases append to; nothing here raises."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, code: str, span: Span, message: str, *, help: str | None = None,
              label: str | None = None, fix: Fix | None = None) -> None:
        self._add(code, Severity.ERROR, span, message, help, label, fix)

    def warning(self, code: str, span: Span, message: str, *, help: str | None = None,
                label: str | None = None, fix: Fix | None = None) -> None:
        self._add(code, Severity.WARNING, span, message, help, label, fix)

    def _add(self, code: str, severity: Severity, span: Span, message: str,
             help: str | None, label: str | None, fix: Fix | None) -> None:
        assert code in CODES, f"unregistered diagnostic code {code}"
        fixes = (fix,) if fix is not None else ()
        self.items.append(Diagnostic(code, severity, span, message, help, label, fixes=fixes))

    def extend(self, other: Diagnostics) -> None:
        self.items.extend(other.items)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=lambda d: (d.span.file, d.span.line, d.span.column, d.code))


def suggest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to ``word`` for a "did you mean", or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def apply_fix(text: str, fix: Fix) -> str:
    """``text`` with ``fix`` applied (lines and columns are 1-based characters, end exclusive)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    begin = starts[fix.span.line - 1] + fix.span.column - 1
    end = starts[fix.span.end_line - 1] + fix.span.end_column - 1
    return text[:begin] + fix.replacement + text[end:]
