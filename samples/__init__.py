"""Realistic Dodo Payments webhook bodies, one per event type (package data ``runtime.samples``).

The one place that knows where the samples live: ``paymap run --sample``, ``paymap send-sample``
and ``sample:`` in test files all read them through :func:`names` and :func:`read`.
"""

from __future__ import annotations

from importlib import resources


def names() -> list[str]:
    """The event types that have a sample, sorted."""
    folder = resources.files(__name__) / "dodo"
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def read(event_type: str) -> bytes | None:
    """The raw JSON body of ``event_type``'s sample, or None when there is none."""
    if not event_type or "/" in event_type or "\\" in event_type or event_type.startswith("."):
        return None
    path = resources.files(__name__) / "dodo" / f"{event_type}.json"
    return path.read_bytes() if path.is_file() else None
