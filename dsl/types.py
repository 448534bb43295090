"""Static types: a value's possible kinds, as a set. Small on purpose: enough to catch
`cents(data.customer.email)` and `ts = epoch(...)`, and to say which values may be absent."""

from __future__ import annotations

Ty = frozenset[str]

STRING: Ty = frozenset({"string"})
INT: Ty = frozenset({"int"})
DECIMAL: Ty = frozenset({"decimal"})
NUMBER: Ty = INT | DECIMAL
BOOL: Ty = frozenset({"bool"})
NULL: Ty = frozenset({"null"})
MISSING: Ty = frozenset({"missing"})
LIST: Ty = frozenset({"list"})
OBJECT: Ty = frozenset({"object"})
ABSENT: Ty = NULL | MISSING
VALUE: Ty = STRING | NUMBER | BOOL | LIST | OBJECT
ANY: Ty = VALUE | ABSENT
NOTHING: Ty = frozenset()

_WORDS = {
    "string": "a string",
    "int": "an integer",
    "decimal": "a decimal",
    "bool": "a boolean",
    "null": "null",
    "missing": "missing",
    "list": "a list",
    "object": "an object",
}
_ORDER = ["string", "int", "decimal", "bool", "list", "object", "null", "missing"]


def describe(t: Ty) -> str:
    """`a string`, `a number or null`, `anything` — for messages."""
    if t >= VALUE:
        rest = [k for k in _ORDER if k in t - VALUE]
        return "anything" if not rest else "a value, " + " or ".join(rest)
    kinds = [k for k in _ORDER if k in t]
    words: list[str] = []
    if "int" in t and "decimal" in t:
        words.append("a number")
        kinds = [k for k in kinds if k not in ("int", "decimal")]
    words.extend(_WORDS[k] for k in kinds)
    if not words:
        return "nothing"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def present(t: Ty) -> Ty:
    return t - ABSENT
