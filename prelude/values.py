"""The value model shared by the compiler and compiled mappings.

JSON values plus one more state, :data:`MISSING`: a field that is absent is not the same as a field
that is ``null`` (JS ``undefined`` vs ``null``). Numbers that need exactness are ``Decimal``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Final

from prelude.errors import PaymapError


class _Missing:
    __slots__ = ()
    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "missing"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class Fault(PaymapError):
    """A value-level failure inside a mapping (e.g. ``cents("abc")``); located by the runtime."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def kind(value: Any) -> str:
    """The paymap type name of a runtime value, as used in messages."""
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    t = type(value)
    if t is bool:
        return "boolean"
    if t is int:
        return "integer"
    if t is Decimal or t is float:
        return "decimal"
    if t is str:
        return "string"
    if t is list:
        return "list"
    if t is dict:
        return "object"
    return t.__name__


def show(value: Any, limit: int = 60) -> str:
    """A short rendering of a value for error messages: its type and its JSON text."""
    if value is MISSING:
        return "missing"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{kind(value)} {text}"


def to_json_value(value: Any) -> Any:
    """Make a computed value JSON-safe: Decimals become exact JSON numbers (int or shortest float)."""
    t = type(value)
    if t is Decimal:
        if value == value.to_integral_value():
            return int(value)
        f = float(value)
        if Decimal(repr(f)) != value:
            raise Fault(
                f"decimal {value} cannot be written as an exact JSON number",
                hint="round it first, e.g. `round(x, 2)`, or convert it with `string(x)`",
            )
        return f
    if t is list:
        return [to_json_value(v) for v in value if v is not MISSING]
    if t is dict:
        return {k: to_json_value(v) for k, v in value.items() if v is not MISSING}
    return value
