"""The page of a diagnostic code, read from the installed package (``paymap explain M201``)."""

from __future__ import annotations

from importlib import resources

from dsl.codes import CODES
from dsl.diagnostics import suggest


def page(code: str) -> str | None:
    """The Markdown page of ``code`` (any case; `201` means `M201`), or None for an unknown code."""
    wanted = code.strip().upper()
    if wanted.isdigit():
        wanted = "M" + wanted
    if wanted not in CODES:
        return None
    return (resources.files("dsl.errors") / f"{wanted}.md").read_text(encoding="utf-8")


def index() -> str:
    """Every code with its severity and title, one a line."""
    return "\n".join(f"{code}  {c.severity:<7}  {c.title}" for code, c in CODES.items()) + "\n"


def unknown(code: str) -> str:
    guess = suggest(code.strip().upper(), CODES, 0.5)
    return f"no diagnostic code {code!r}" + (f"; did you mean {guess}?" if guess else "") + \
        " (`paymap explain` lists them all)"
