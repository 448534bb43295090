"""``bench/RESULTS.md`` holds one section per benchmark between its own markers; each benchmark
rewrites only its section."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(start: str, end: str, section: str, path: Path = RESULTS) -> None:
    """Replace the text between ``start`` and ``end`` (markers included) with ``section``, or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if start in text and end in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def publish(section: str, start: str, end: str, *, write: bool, path: Path = RESULTS) -> None:
    """Print a benchmark's section; with ``--write`` also put it in its place in ``path``."""
    print(section)
    if write:
        write_section(start, end, section, path)
        print(f"written to {path}")
