"""Diagnostics rendered at the edge: rustc-style text (colour on a terminal), JSON, GitHub annotations."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence

from dsl.codes import CODES
from dsl.diagnostics import Diagnostic
from dsl.source import SourceFile

_RED, _YELLOW, _BLUE, _BOLD, _RESET = "\033[31m", "\033[33m", "\033[34m", "\033[1m", "\033[0m"


def render_text(diags: Sequence[Diagnostic], sources: Mapping[str, SourceFile], *, color: bool = False) -> str:
    return "\n".join(render_one(d, sources.get(d.span.file), color=color) for d in diags)


def escape_controls(text: str) -> str:
    """User text (an event name, a path) inside a message: control and other invisible characters
    are shown as escapes, so they can neither move the terminal's cursor nor break a line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _visible(line: str) -> str:
    """A source line to show: one visible character for every character, so carets line up."""
    line = line.replace("\t", " ")
    return line if line.isprintable() else "".join(ch if ch.isprintable() else "\ufffd" for ch in line)


def _width(text: str) -> int:
    """Terminal columns: wide (CJK, emoji) characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def render_one(d: Diagnostic, source: SourceFile | None, *, color: bool = False) -> str:
    def c(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    sev_color = _RED if d.is_error else _YELLOW
    lines = [c(_BOLD + sev_color, f"{d.severity.value}[{d.code}]") + c(_BOLD, f": {escape_controls(d.message)}")]
    sp = d.span
    gutter_width = len(str(sp.end_line if sp.end_line - sp.line < 3 else sp.line))
    pad = " " * gutter_width
    lines.append(f"{pad}{c(_BLUE, '-->')} {escape_controls(sp.file)}:{sp.line}:{sp.column}")
    if source is not None and source.text and 1 <= sp.line <= source.line_count:
        text = _visible(source.line_text(sp.line))
        lines.append(f"{pad} {c(_BLUE, '|')}")
        lines.append(f"{c(_BLUE, str(sp.line).rjust(gutter_width))} {c(_BLUE, '|')} {text}")
        start = max(sp.column, 1)
        end = sp.end_column if sp.end_line == sp.line else len(text) + 1
        caret = " " * _width(text[: start - 1]) + "^" * max(1, _width(text[start - 1 : end - 1]))
        label = f" {escape_controls(d.label)}" if d.label else ""
        lines.append(f"{pad} {c(_BLUE, '|')} {c(sev_color + _BOLD, caret + label)}")
    if d.help:
        lines.append(f"{pad} {c(_BLUE, '=')} {c(_BOLD, 'help')}: {escape_controls(d.help)}")
    for fix in d.fixes:  # a replacement of several lines cannot be quoted in the help: shown whole
        if "\n" in fix.replacement:
            lines.append(f"{pad} {c(_BLUE, '=')} {c(_BOLD, 'write instead')}:")
            lines.extend(f"{pad} {c(_BLUE, '|')}     {escape_controls(text)}".rstrip()
                         for text in fix.replacement.split("\n"))
    lines.append(f"{pad} {c(_BLUE, '=')} more: paymap explain {d.code}")
    return "\n".join(lines) + "\n"


def summary(diags: Sequence[Diagnostic], files: int) -> str:
    errors = sum(1 for d in diags if d.is_error)
    warnings = len(diags) - errors
    parts = [f"{errors} error{'s' if errors != 1 else ''}", f"{warnings} warning{'s' if warnings != 1 else ''}"]
    return f"{', '.join(parts)} in {files} file{'s' if files != 1 else ''}"


def render_json(diags: Sequence[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in diags], indent=2, ensure_ascii=False)


def _gh_escape_data(text: str) -> str:
    lines = [escape_controls(part) for part in text.split("\n")]
    return "%0A".join(line.replace("%", "%25") for line in lines)


def _gh_escape_prop(text: str) -> str:
    return _gh_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diags: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands, one a line: ``::error file=F,line=L,col=C,endLine=L,
    endColumn=C,title=T::message``; property values escape ``% \\r \\n : ,`` and the message
    ``% \\r \\n`` (the help follows the message on a second line, escaped as ``%0A``)."""
    out = []
    for d in diags:
        sp = d.span
        level = "error" if d.is_error else "warning"
        props = [f"file={_gh_escape_prop(sp.file)}", f"line={sp.line}", f"col={sp.column}"]
        if sp.end_line:
            props.append(f"endLine={sp.end_line}")
        if sp.end_line == sp.line:
            props.append(f"endColumn={sp.end_column}")
        props.append(f"title={_gh_escape_prop(f'paymap {d.code}: {CODES[d.code].title}')}")
        message = d.message + (f"\nhelp: {d.help}" if d.help else "")
        out.append(f"::{level} {','.join(props)}::{_gh_escape_data(message)}")
    return "\n".join(out)
