"""Implementations of the builtin functions and operators that compiled mappings call.

Signatures and documentation live in the registry (``dsl/builtins.py``), which refers to these
functions; the code generator binds them into each compiled mapping. Functions marked
"propagating" in the registry never see ``MISSING``/``None``: the generated code passes those
through before calling. All failures raise :class:`prelude.values.Fault`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    InvalidOperation,
)
from typing import Any

import jmespath
from iso4217 import Currency

from prelude.values import MISSING, Fault, kind, show

DECIMAL_CONTEXT = Context(prec=34)  # IEEE decimal128: exact for any realistic amount
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_MILLISECOND = timedelta(milliseconds=1)

ROUNDING_MODES: dict[str, str] = {
    "half_up": ROUND_HALF_UP,  # 0.125 → 0.13, -0.125 → -0.13 (away from zero on ties; Excel ROUND)
    "half_even": ROUND_HALF_EVEN,  # banker's rounding: 0.125 → 0.12
    "half_down": ROUND_HALF_DOWN,  # 0.125 → 0.12
    "up": ROUND_UP,  # away from zero
    "down": ROUND_DOWN,  # toward zero (truncate)
    "ceiling": ROUND_CEILING,  # toward +infinity
    "floor": ROUND_FLOOR,  # toward -infinity
}


# --- number conversions ----------------------------------------------------------------------


def to_decimal(value: Any, what: str) -> Decimal:
    t = type(value)
    if t is int:
        return Decimal(value)
    if t is Decimal:
        return value  # type: ignore[no-any-return]
    if t is float:
        return Decimal(repr(value))
    if t is str:
        if not value.isascii():  # Decimal() would read other scripts' digits ("١٢"); JSON numbers are ASCII
            raise Fault(f"{what} expected a number, got {show(value)}", hint="the text is not a decimal number")
        try:
            d = Decimal(value.strip().replace("_", "!"))
        except InvalidOperation:
            d = None
        if d is None or not d.is_finite():
            raise Fault(f"{what} expected a number, got {show(value)}",
                        hint="the text is not a decimal number")
        return d
    raise Fault(f"{what} expected a number, got {show(value)}")


def _integral(value: Any, what: str) -> int:
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit():  # Dodo's "1900": what to_decimal gives, faster
        return int(value)
    d = to_decimal(value, what)
    if d != d.to_integral_value():
        raise Fault(f"{what} expected a whole number of minor units, got {show(value)}",
                    hint="amounts from Dodo are integers in the currency's smallest unit")
    return int(d)


# --- money -----------------------------------------------------------------------------------


def cents(amount: Any) -> str:
    """``(amount / 100).toFixed(2)`` computed exactly: ties round away from zero like ``toFixed``."""
    if type(amount) is str and amount.isascii() and amount.isdigit():  # "1900": as to_decimal reads it
        amount = int(amount)
    if type(amount) is int:
        sign = "-" if amount < 0 else ""
        a = -amount if amount < 0 else amount
        return f"{sign}{a // 100}.{a % 100:02d}"
    d = to_decimal(amount, "cents()")
    q = DECIMAL_CONTEXT.divide(d, _HUNDRED).quantize(_CENT, rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT)
    if d == 0:
        q = abs(q)  # (-0).toFixed(2) is "0.00"; a negative fraction of a cent stays "-0.00", as in toFixed
    return format(q, "f")


# ISO 4217 minor-unit exponents by code, read once (an Enum lookup per call costs ~0.6 µs);
# "N.A." (gold, test codes …) counts as 0.
_EXPONENTS: dict[str, int] = {c.value: c.exponent or 0 for c in Currency}


def currency_exponent(code: str) -> int:
    exponent = _EXPONENTS.get(code) if code.isupper() else _EXPONENTS.get(code.upper())
    if exponent is None:
        raise Fault(f"unknown currency code {code!r}",
                    hint="use an ISO 4217 code such as \"USD\", \"JPY\" or \"KWD\"")
    return exponent


def money(amount: Any, currency: Any) -> str:
    """Minor units → a decimal string with the currency's ISO 4217 number of decimals."""
    if type(currency) is not str:
        raise Fault(f"money() expected a currency code string, got {show(currency)}")
    units = amount if type(amount) is int else _integral(amount, "money()")
    exponent = _EXPONENTS.get(currency)
    if exponent is None:
        exponent = currency_exponent(currency)  # lower case, or unknown: fails
    if exponent == 0:
        return str(units)
    scale = 10**exponent
    if units < 0:
        return f"-{-units // scale}.{-units % scale:0{exponent}d}"
    return f"{units // scale}.{units % scale:0{exponent}d}"


def decimals(currency: Any) -> int:
    if type(currency) is not str:
        raise Fault(f"decimals() expected a currency code string, got {show(currency)}")
    return currency_exponent(currency)


# --- time ------------------------------------------------------------------------------------


def parse_time(value: Any, what: str) -> datetime:
    if type(value) is not str:
        raise Fault(f"{what} expected an RFC 3339 timestamp string, got {show(value)}")
    try:
        dt = datetime.fromisoformat(value)  # refuses surrounding white space: stripped below
    except ValueError:
        text = value.strip()
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            slow = _parse_time_slow(text)
            if slow is None:
                raise Fault(f"{what} could not read {value!r} as a timestamp",
                            hint='expected RFC 3339, e.g. "2025-08-04T08:13:04.882151Z"') from None
            dt = slow
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # documented: a timestamp without offset is UTC
    return dt


def _parse_time_slow(text: str) -> datetime | None:
    """Accept what fromisoformat refuses but RFC 3339 allows: lower-case t/z, >6 fraction digits."""
    t = text.replace("t", "T").replace("z", "Z").replace(" ", "T", 1)
    if "." in t:
        head, _, rest = t.partition(".")
        digits = ""
        i = 0
        while i < len(rest) and rest[i].isdigit():
            digits += rest[i]
            i += 1
        if not digits:
            return None
        t = f"{head}.{digits[:6].ljust(6, '0')}{rest[i:]}"
    try:
        return datetime.fromisoformat(t)
    except ValueError:
        return None


def epoch(value: Any) -> int:
    """Whole seconds since 1970 (floor), like ``Math.floor(new Date(x).getTime() / 1000)``."""
    return (parse_time(value, "epoch()") - _EPOCH) // _SECOND  # exact: timedelta // timedelta floors


def epoch_ms(value: Any) -> int:
    """Whole milliseconds since 1970 (floor): what Inngest's ``ts`` expects."""
    return (parse_time(value, "epoch_ms()") - _EPOCH) // _MILLISECOND


def iso(value: Any) -> str:
    """Normalise a timestamp to RFC 3339 in UTC with a ``Z`` (fraction kept, up to microseconds)."""
    dt = parse_time(value, "iso()").astimezone(UTC)
    text = dt.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def from_epoch_ms(value: Any) -> str:
    ms = _integral(value, "from_epoch_ms()")
    dt = _EPOCH + timedelta(milliseconds=ms)
    text = dt.isoformat(timespec="milliseconds")
    return text[:-6] + "Z"


# --- strings ---------------------------------------------------------------------------------


def _str(value: Any, what: str) -> str:
    if type(value) is not str:
        raise Fault(f"{what} expected a string, got {show(value)}",
                    hint="convert it with `string(...)` first")
    return value


def lower(s: Any) -> str:
    return _str(s, "lower()").lower()


def upper(s: Any) -> str:
    return _str(s, "upper()").upper()


def trim(s: Any) -> str:
    return _str(s, "trim()").strip()


def replace(s: Any, old: Any, new: Any) -> str:
    return _str(s, "replace()").replace(_str(old, "replace()"), _str(new, "replace()"))


def split(s: Any, sep: Any) -> list[str]:
    text, sep_ = _str(s, "split()"), _str(sep, "split()")
    if sep_ == "":
        return list(text)
    return text.split(sep_)


def join(items: Any, sep: Any) -> str:
    if type(items) is not list:
        raise Fault(f"join() expected a list, got {show(items)}")
    sep_ = _str(sep, "join()")
    parts = []
    for item in items:
        if item is MISSING:
            continue
        if type(item) is not str:
            raise Fault(f"join() expected a list of strings, but it holds {show(item)}",
                        hint="convert the items with `map(list, x -> string(x))`")
        parts.append(item)
    return sep_.join(parts)


def starts_with(s: Any, prefix: Any) -> bool:
    return _str(s, "starts_with()").startswith(_str(prefix, "starts_with()"))


def ends_with(s: Any, suffix: Any) -> bool:
    return _str(s, "ends_with()").endswith(_str(suffix, "ends_with()"))


def contains(container: Any, item: Any) -> bool:
    if type(container) is str:
        return _str(item, "contains()") in container
    if type(container) is list:
        return any(eq(x, item) for x in container)
    raise Fault(f"contains() expected a string or a list, got {show(container)}")


def length(value: Any) -> int:
    if type(value) in (str, list, dict):
        return len(value)
    raise Fault(f"len() expected a string, list or object, got {show(value)}")


def sha256(value: Any) -> str:
    return hashlib.sha256(_str(value, "sha256()").encode("utf-8")).hexdigest()


# --- numbers ---------------------------------------------------------------------------------


def round_(value: Any, places: Any = 0, mode: Any = "half_up") -> Decimal:
    d = to_decimal(value, "round()")
    if type(places) is not int or not -18 <= places <= 18:
        raise Fault(f"round() expected a whole number of places between -18 and 18, got {show(places)}")
    rounding = ROUNDING_MODES.get(mode) if type(mode) is str else None
    if rounding is None:
        raise Fault(f"round() does not know the rounding mode {show(mode)}",
                    hint="one of: " + ", ".join(ROUNDING_MODES))
    return d.quantize(Decimal(1).scaleb(-places), rounding=rounding, context=DECIMAL_CONTEXT)


def to_int(value: Any) -> int:
    t = type(value)
    if t is int:
        return value  # type: ignore[no-any-return]
    if t is bool:
        raise Fault(f"int() expected a number or numeric text, got {show(value)}",
                    hint="use `if b then 1 else 0`")
    d = to_decimal(value, "int()")
    if d != d.to_integral_value():
        raise Fault(f"int() got {show(value)}, which is not a whole number",
                    hint="use `round(x)` (or `round(x, 0, \"down\")` to truncate) first")
    return int(d)


def to_decimal_fn(value: Any) -> Decimal:
    if type(value) is bool:
        raise Fault(f"decimal() expected a number or numeric text, got {show(value)}")
    return to_decimal(value, "decimal()")


def to_string(value: Any) -> str:
    t = type(value)
    if t is str:
        return value  # type: ignore[no-any-return]
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is Decimal or t is float:
        return format(to_decimal(value, "string()"), "f")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def sum_(items: Any) -> int | Decimal:
    if type(items) is not list:
        raise Fault(f"sum() expected a list of numbers, got {show(items)}")
    total: int | Decimal = 0
    for item in items:
        if item is MISSING or item is None:
            continue
        total = add(total, item)
    return total


# --- absent-aware functions ------------------------------------------------------------------


def required(value: Any, message: Any = None) -> Any:
    if value is MISSING or value is None:
        state = "missing" if value is MISSING else "null"
        text = message if type(message) is str else f"a required value is {state}"
        raise Fault(text)
    return value


def coalesce(*values: Any) -> Any:
    for v in values:
        if v is not MISSING and v is not None:
            return v
    return values[-1] if values and values[-1] is None else MISSING


def exists(value: Any) -> bool:
    return value is not MISSING


def is_null(value: Any) -> bool:
    return value is None


# --- JMESPath ----------------------------------------------------------------------------------


def compile_query(expression: str) -> Any:
    """Compile once at mapping-compile time; raises jmespath's ParseError on a bad expression."""
    return jmespath.compile(expression)


def run_query(value: Any, compiled: Any) -> Any:
    try:
        return compiled.search(value)
    except jmespath.exceptions.JMESPathError as exc:
        raise Fault(f"query() failed: {exc}") from None


# --- operators ---------------------------------------------------------------------------------


def _num(value: Any, op: str, side: str) -> int | Decimal:
    t = type(value)
    if t is int or t is Decimal:
        return value  # type: ignore[no-any-return]
    if t is float:
        return Decimal(repr(value))
    hint = None
    if t is str:
        hint = "text is not a number: convert it with `decimal(...)` or `int(...)`"
        if op == "+":
            hint = "to join text use `&`; to add numeric text convert it with `decimal(...)`"
    raise Fault(f"`{op}` expected numbers, but its {side} side is {show(value)}", hint=hint)


def _absent(a: Any, b: Any) -> Any:
    """The result of an operator when an operand is absent: missing wins over null."""
    if a is MISSING or b is MISSING:
        return MISSING
    return None


def _arithmetic(symbol: str, on_ints: Callable[[int, int], int],
                on_decimals: Callable[[Decimal, Decimal], Decimal]) -> Callable[[Any, Any], Any]:
    """``+``, ``-`` and ``*``: absent operands give absent; integers stay integers, else exact Decimal."""

    def operator(a: Any, b: Any) -> Any:
        if a is MISSING or b is MISSING or a is None or b is None:
            return _absent(a, b)
        x, y = _num(a, symbol, "left"), _num(b, symbol, "right")
        if type(x) is int and type(y) is int:
            return on_ints(x, y)
        return on_decimals(Decimal(x), Decimal(y))

    return operator


add = _arithmetic("+", int.__add__, DECIMAL_CONTEXT.add)
sub = _arithmetic("-", int.__sub__, DECIMAL_CONTEXT.subtract)
mul = _arithmetic("*", int.__mul__, DECIMAL_CONTEXT.multiply)


def div(a: Any, b: Any) -> Any:
    if a is MISSING or b is MISSING or a is None or b is None:
        return _absent(a, b)
    x, y = _num(a, "/", "left"), _num(b, "/", "right")
    if y == 0:
        raise Fault("division by zero")
    return DECIMAL_CONTEXT.divide(Decimal(x), Decimal(y)).normalize(DECIMAL_CONTEXT)


def mod(a: Any, b: Any) -> Any:
    if a is MISSING or b is MISSING or a is None or b is None:
        return _absent(a, b)
    x, y = _num(a, "%", "left"), _num(b, "%", "right")
    if y == 0:
        raise Fault("division by zero in `%`")
    if type(x) is int and type(y) is int:
        return x % y
    return DECIMAL_CONTEXT.remainder(Decimal(x), Decimal(y))


def neg(a: Any) -> Any:
    if a is MISSING or a is None:
        return a
    x = _num(a, "-", "right")
    return -x


def concat(a: Any, b: Any) -> Any:
    if a is MISSING or b is MISSING or a is None or b is None:
        return _absent(a, b)
    if type(a) is not str or type(b) is not str:
        bad = a if type(a) is not str else b
        raise Fault(f"`&` joins text, but one side is {show(bad)}",
                    hint="convert it with `string(...)`")
    return a + b


def eq(a: Any, b: Any) -> bool:
    """Equality without coercion: ``1 == "1"`` is false, ``true == 1`` is false; missing equals null."""
    if a is MISSING:
        a = None
    if b is MISSING:
        b = None
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (int, float, Decimal) and tb in (int, float, Decimal):
        return bool(a == b)
    if ta is not tb:
        return False
    if ta is list:
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b, strict=True))
    if ta is dict:
        return a.keys() == b.keys() and all(eq(a[k], b[k]) for k in a)
    return bool(a == b)


def ne(a: Any, b: Any) -> bool:
    return not eq(a, b)


def _ordered(a: Any, b: Any, op: str) -> tuple[Any, Any]:
    ta, tb = type(a), type(b)
    if ta in (int, float, Decimal) and tb in (int, float, Decimal) and ta is not bool and tb is not bool:
        return a, b
    if ta is str and tb is str:
        return a, b
    raise Fault(f"`{op}` cannot compare {show(a)} with {show(b)}",
                hint="both sides must be numbers, or both text; use `??` to give a missing value a default"
                if a is MISSING or b is MISSING or a is None or b is None else None)


def lt(a: Any, b: Any) -> bool:
    x, y = _ordered(a, b, "<")
    return bool(x < y)


def le(a: Any, b: Any) -> bool:
    x, y = _ordered(a, b, "<=")
    return bool(x <= y)


def gt(a: Any, b: Any) -> bool:
    x, y = _ordered(a, b, ">")
    return bool(x > y)


def ge(a: Any, b: Any) -> bool:
    x, y = _ordered(a, b, ">=")
    return bool(x >= y)


def truth(value: Any, where: str) -> bool:
    """Conditions must be booleans: no truthiness (``0``, ``""`` and ``null`` are not false)."""
    if value is True or value is False:
        return value
    hint = "compare it explicitly, e.g. `x == \"paid\"`, or give a default with `??`"
    raise Fault(f"{where} must be true or false, got {show(value)}", hint=hint)


# --- paths -------------------------------------------------------------------------------------


def field_slow(obj: Any, key: str) -> Any:
    """Reading ``.key`` of something that is not an object: absent stays absent, else a fault."""
    if obj is MISSING or obj is None:
        return MISSING
    raise Fault(f"cannot read field `{key}` of {show(obj)}; it is not an object")


def index(obj: Any, i: int) -> Any:
    if type(obj) is list:
        try:
            return obj[i]
        except IndexError:
            return MISSING
    if obj is MISSING or obj is None:
        return MISSING
    raise Fault(f"cannot take item [{i}] of {show(obj)}; it is not a list")


def project_check(obj: Any) -> Any:
    """``x[*]``: a list stays a list; absent stays absent; anything else is a fault."""
    if type(obj) is list or obj is MISSING:
        return obj
    if obj is None:
        return MISSING
    raise Fault(f"`[*]` expected a list, got {show(obj)}")


def list_arg(obj: Any, fn: str) -> Any:
    if type(obj) is list or obj is MISSING or obj is None:
        return obj
    raise Fault(f"{fn}() expected a list, got {show(obj)}")


__all__ = ["MISSING", "Fault", "kind", "show"]
