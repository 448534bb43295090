"""The relay's log: JSON lines (one object per line, context as fields) for collectors, or human text on
a terminal, where multi-line fields (a rejected reload's diagnostics) print as ``paymap check`` shows them.

Every line is masked (emails, phone numbers) and escaped (nothing non-printable), whatever logged it:
see :mod:`runtime.relay.redact`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from runtime.relay.redact import json_printable, mask_personal

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "color_message"}
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False, separators=(",", ":"))  # as compact as orjson
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


def _encode(out: dict[str, Any]) -> str:
    """One line of JSON: orjson (a log line a webhook: ~5x cheaper), the stdlib where orjson refuses
    (ints beyond 64 bits, lone surrogates). Values of other types are written as ``str()`` by both."""
    try:
        return orjson.dumps(out, default=str, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return _ENCODER.encode(out)


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...extra}``; extras come from ``extra={...}``."""

    _second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def format(self, record: logging.LogRecord) -> str:
        second, stamp = self._second
        if int(record.created) != second:
            second = int(record.created)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, stamp)
        out: dict[str, Any] = {
            "ts": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = self.formatException(record.exc_info)
        return json_printable(mask_personal(_encode(out)))


class LogSampler:
    """At most ``per_second`` lines a second for one kind of line; counts what it held back.

    Unauthenticated clients choose how often the relay rejects them: without a bound they choose how
    fast the log grows. ``allow()`` returns None to suppress the line, or how many lines were
    suppressed since the last one written (report it with the line).
    """

    def __init__(self, per_second: int, on_suppressed: Callable[[], object] | None = None) -> None:
        self.per_second = per_second
        self._window = -1
        self._written = 0
        self._suppressed = 0
        self._on_suppressed = on_suppressed  # e.g. a Prometheus counter's ``inc``

    def allow(self) -> int | None:
        window = int(time.monotonic())
        if window != self._window:
            self._window, self._written = window, 0
        if self._written >= self.per_second:
            self._suppressed += 1
            if self._on_suppressed is not None:
                self._on_suppressed()
            return None
        self._written += 1
        held, self._suppressed = self._suppressed, 0
        return held


_BLOCK_FIELDS = ("diagnostics",)  # multi-line text shown as is, below the line


class TextFormatter(logging.Formatter):
    """``HH:MM:SS LEVEL message  key=value ...`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        fields: list[str] = []
        blocks: list[str] = []
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if key in _BLOCK_FIELDS and isinstance(value, str):
                blocks.append(value.rstrip("\n"))
            else:
                shown = value if isinstance(value, str) and value and " " not in value else _ENCODER.encode(value)
                fields.append(f"{key}={shown}")
        text = f"{stamp} {record.levelname:<7} {record.getMessage()}"
        if fields:
            text += "  " + " ".join(fields)
        for block in blocks:
            text += "\n" + block
        if record.exc_info and record.exc_info[0] is not None:
            text += "\n" + self.formatException(record.exc_info)
        return text


def setup_logging(level: str, fmt: str = "json") -> None:
    """Route every logger (ours and uvicorn's) to stderr: ``fmt`` json, text, or auto (text on a terminal)."""
    # the JSON lines carry neither process nor thread: spare every record the getpid() call
    logging.logProcesses = logging.logThreads = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    text = fmt == "text" or (fmt == "auto" and sys.stderr.isatty())
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
