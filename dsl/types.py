"""Static types: a value's possible kinds, as a set. Small on purpose: enough to catch
`cents(data.customer.email)` and `ts = epoch(...)`, and to say which values may be absent.

Text comes in three kinds, so that a schema can say what a string field holds:

* ``string``   -- text with no numeric or time meaning (an email, an id, a status);
* ``numstr``   -- text that holds a decimal number (Dodo's dispute ``amount``, credit balances);
* ``datetime`` -- text that holds an RFC 3339 timestamp (``timestamp``, ``created_at``).

:data:`STRING` is all three: text whose content is not known (the result of ``trim``, ``&``, ...).
A parameter that accepts :data:`STRING` takes any text; ``cents`` accepts numbers and
:data:`NUMSTR` only, so a plain ``string`` field passed to it is an error while text of unknown
content is checked at run time.
"""

from __future__ import annotations

Ty = frozenset[str]

PLAIN: Ty = frozenset({"string"})
NUMSTR: Ty = frozenset({"numstr"})
DATETIME: Ty = frozenset({"datetime"})
STRING: Ty = PLAIN | NUMSTR | DATETIME
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
    "string": "text",
    "numstr": "numeric text",
    "datetime": "a timestamp",
    "int": "an integer",
    "decimal": "a decimal",
    "bool": "a boolean",
    "null": "null",
    "missing": "missing",
    "list": "a list",
    "object": "an object",
}
_ORDER = ["string", "numstr", "datetime", "int", "decimal", "bool", "list", "object", "null", "missing"]


def describe(t: Ty) -> str:
    """`text`, `a number or null`, `anything` -- for messages."""
    if t >= VALUE:
        rest = [k for k in _ORDER if k in t - VALUE]
        return "anything" if not rest else "a value, " + " or ".join(rest)
    kinds = [k for k in _ORDER if k in t]
    words: list[str] = []
    if t >= STRING:
        words.append("text")
        kinds = [k for k in kinds if k not in STRING]
    if "int" in t and "decimal" in t:
        words.append("a number")
        kinds = [k for k in kinds if k not in ("int", "decimal")]
    words.extend(_WORDS[k] for k in kinds)
    if not words:
        return "nothing"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def present(t: Ty) -> Ty:
    return t - ABSENT


def base(t: Ty) -> Ty:
    """The kinds with every text kind widened to all text: for "can these ever be equal?"."""
    return t | STRING if t & STRING else t
