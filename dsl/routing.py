"""Which rules receive an event type: exact names beat glob patterns, longer literal text beats
shorter; `also on` rules fire in addition. Shared by the runtime router and the checker."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache


@lru_cache(maxsize=1024)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in pattern) + r"\Z")


def specificity(pattern: str, event_type: str) -> tuple[int, int] | None:
    """How well ``pattern`` matches ``event_type`` (higher is better), or None for no match."""
    if "*" not in pattern:
        return (2, len(pattern)) if pattern == event_type else None
    if pattern_regex(pattern).match(event_type):
        return (1, len(pattern.replace("*", "")))
    return None


def best_specificity(patterns: Iterable[str], event_type: str) -> tuple[int, int] | None:
    best = None
    for p in patterns:
        s = specificity(p, event_type)
        if s is not None and (best is None or s > best):
            best = s
    return best


def select(rules: Sequence[tuple[Sequence[str], bool]], event_type: str) -> list[int]:
    """Indexes of the rules that fire for ``event_type``: the best main rule, then every `also` rule.

    ``rules`` is (patterns, also) in load order; ties between main rules go to the first loaded.
    """
    best_i, best_s = -1, None
    extra = []
    for i, (patterns, also) in enumerate(rules):
        s = best_specificity(patterns, event_type)
        if s is None:
            continue
        if also:
            extra.append(i)
        elif best_s is None or s > best_s:
            best_i, best_s = i, s
    return ([best_i] if best_i >= 0 else []) + extra
