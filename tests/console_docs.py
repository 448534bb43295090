"""Comparing a command's output with what a page shows (docs/tutorial.md, docs/relay.md's runbook).

A line `...` stands for any number of lines (including none); `...` inside a line for any text
within that line.
"""

from __future__ import annotations

import re


def line_matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual) is not None


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line, with the wildcards above."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and line_matches(expected[0], actual[0]) and matches(expected[1:], actual[1:])
