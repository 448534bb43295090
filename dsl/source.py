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


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (or a Word or Excel file)"),
    (b"\x1f\x8b", "a gzip archive"), (b"\xd0\xcf\x11\xe0", "an old Word or Excel file"),
    (b"\x00\x00\xfe\xff", "a UTF-32 text file"), (b"\xff\xfe\x00\x00", "a UTF-32 text file"),
    (b"\xff\xfe", "a UTF-16 text file"), (b"\xfe\xff", "a UTF-16 text file"),
)


def sniff(data: bytes) -> str | None:
    """What a file that is not a mapping's UTF-8 text looks like ("a PNG image", "a UTF-16 text
    file", "Windows-1252 text"), or None when it is UTF-8 text."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    head = data[:4096]
    if head.count(0):
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if max(odd, even) > len(head) // 4 and min(odd, even) < max(odd, even) // 8:
            return "a UTF-16 text file"
        return "a binary file"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "Windows-1252 (or Latin-1) text"
    return None
