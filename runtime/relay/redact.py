"""What the relay writes for people to read: no personal data, no control characters, bounded size.

Customer-entered text (names, emails, custom fields) and whatever an unauthenticated client puts in
a header reach log lines, stored error text and ``paymap status``. Emails and phone numbers are
masked (``s***@e***.org``, ``+*********78``), every character that is not printable (C0 and C1
controls, U+2028/U+2029, bidi overrides, unassigned code points) is shown as an escape, so one
record stays one line and reads as it is, and untrusted values are clipped.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9\-])[A-Za-z0-9.\-]*?(\.[A-Za-z]{2,24})\b")
# E.164-style numbers (Dodo stores phone numbers as "+<country><number>"), separators allowed
_PHONE = re.compile(r"\+\d(?:[ \-.]?\d){6,14}")


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "+" + "*" * (len(digits) - 2) + digits[-2:]


def mask_personal(text: str) -> str:
    """``text`` with email addresses and phone numbers masked (first letters and the last digits kept)."""
    if "@" in text:
        text = _EMAIL.sub(r"\1***@\2***\3", text)
    if "+" in text:
        text = _PHONE.sub(_mask_phone, text)
    return text


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` for a terminal: each non-printable character as ``\\xNN``/``\\uNNNN``."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP JSON needs a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_printable(encoded: str) -> str:
    """A JSON text with every non-printable character left by the encoder written as a ``\\u`` escape.

    ``json`` escapes C0 controls itself but leaves C1 controls, U+2028/U+2029 and bidi controls raw;
    the escaped text decodes to the same value.
    """
    if encoded.isprintable():
        return encoded
    return "".join(c if c.isprintable() else _json_escape(c) for c in encoded)


def clip(value: str | None, limit: int = 80) -> str | None:
    """An untrusted value for a log line: at most ``limit`` characters, saying how many were cut."""
    if value is None or len(value) <= limit:
        return value
    return f"{value[:limit]}…(+{len(value) - limit} chars)"
