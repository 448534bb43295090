"""Source text and spans: every node and diagnostic points back at the exact characters."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A range in one source file. Lines and columns are 1-based; ``end_column`` is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to(self, other: Span) -> Span:
        """The span from the start of ``self`` to the end of ``other``."""
        return Span(self.file, self.line, self.column, other.end_line, other.end_column)


@dataclass(slots=True)
class SourceFile:
    """A ``.map`` file's text, kept so diagnostics can quote the offending line."""

    path: str
    text: str
    _lines: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._lines = self.text.split("\n")

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self._lines):
            return self._lines[line - 1].rstrip("\r")
        return ""

    @property
    def line_count(self) -> int:
        return len(self._lines)


def decode_source(path: str, data: bytes) -> tuple[str, int | None]:
    """Decode bytes as UTF-8; on failure return the text decoded with replacement and the bad offset."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", errors="replace"), exc.start
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None
