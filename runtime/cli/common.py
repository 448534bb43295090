"""Helpers shared by the subcommands: reading events, choosing output formats, printing diagnostics."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from dsl.diagnostics import suggest
from prelude.errors import PaymapError
from runtime import samples


def use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


class UserError(PaymapError):
    """A problem the user can fix; printed as one line, exit code 2."""


def read_sample(event_type: str) -> bytes:
    body: bytes | None = samples.read(event_type)
    if body is None:
        guess = suggest(event_type, samples.names())
        hint = f"; did you mean {guess!r}?" if guess else "; `paymap run --list-samples` lists them"
        raise UserError(f"no sample for event type {event_type!r}{hint}")
    return body


def read_event_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None


def parse_event(data: bytes, where: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
