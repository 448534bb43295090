"""The event names your Inngest functions listen for, checked against the names mappings produce
(``paymap check --functions FILE``).

``FILE`` is one of:

* a text file: one event name per line (``#`` starts a comment; ``*`` matches any text);
* a JSON file: a list of names, or any JSON holding Inngest function configurations
  (``"triggers": [{"event": "payment.succeeded"}]``, as the SDKs send when they sync);
* a Python file (``.py``) defining Inngest functions with the Inngest Python SDK: it is run, and
  the event triggers of every ``inngest.Function`` it defines (also inside lists) are read.

Warnings both ways: M410 for a name a rule produces that no function listens for (the event would
start nothing), M411 for a name a function listens for that no rule produces (the function never
runs). M411 is only reported when every rule's name can be worked out without an event.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsl.checker import CheckedRule
from dsl.diagnostics import Diagnostics, suggest
from dsl.routing import pattern_regex
from dsl.source import SourceFile, Span, decode_source


@dataclass(frozen=True, slots=True)
class Listener:
    """One event name (or ``*`` pattern) an Inngest function is triggered by."""

    name: str
    span: Span


def read_listeners(path: str | os.PathLike[str], diags: Diagnostics) -> tuple[list[Listener], SourceFile | None]:
    """The listened-for names in ``path``; problems become diagnostics (M106)."""
    p = Path(path)
    name = str(p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        diags.error("M106", Span(name, 1, 1, 1, 1), f"cannot read the functions file {name}: {exc.strerror or exc}")
        return [], None
    text, bad = decode_source(name, data)
    source = SourceFile(name, text)
    if bad is not None:
        diags.error("M106", Span(name, 1, 1, 1, 1), f"the functions file {name} is not UTF-8 text (byte {bad})")
        return [], source
    if p.suffix == ".py":
        names = _python_triggers(p, diags)
    elif p.suffix == ".json" or text.lstrip().startswith(("[", "{")):
        try:
            names = list(_json_names(json.loads(text)))
        except json.JSONDecodeError as exc:  # at the place in that file, in words
            diags.error("M106", Span(name, exc.lineno, exc.colno, exc.lineno, exc.colno + 1),
                        f"the functions file {name} is not valid JSON here ({exc.msg.lower()})")
            return [], source
        except RecursionError:
            diags.error("M106", Span(name, 1, 1, 1, 1), f"the functions file {name} is nested too deeply")
            return [], source
    else:
        return _text_listeners(name, text), source
    return [Listener(n, _find(name, text, n)) for n in dict.fromkeys(names)], source


def _text_listeners(file: str, text: str) -> list[Listener]:
    out: list[Listener] = []
    for i, raw in enumerate(text.split("\n"), start=1):
        line = raw.split("#", 1)[0]
        stripped = line.strip()
        if stripped:
            col = line.index(stripped) + 1
            out.append(Listener(stripped, Span(file, i, col, i, col + len(stripped))))
    return out


def _json_names(value: Any) -> Iterator[str]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        yield from value
        return
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            triggers = v.get("triggers")
            if isinstance(triggers, list):
                for t in triggers:
                    if isinstance(t, dict) and isinstance(t.get("event"), str):
                        yield t["event"]
            stack.extend(reversed(list(v.values())))
        elif isinstance(v, list):
            stack.extend(reversed(v))


def _python_triggers(path: Path, diags: Diagnostics) -> list[str]:
    name = str(path)
    try:
        import inngest
    except ImportError:
        diags.error("M106", Span(name, 1, 1, 1, 1), f"reading {name} needs the Inngest Python SDK",
                    help="`pip install inngest`, or list the event names in a text file")
        return []
    sys.path.insert(0, str(path.resolve().parent))
    try:
        namespace = runpy.run_path(str(path), run_name="paymap_functions")
    except BaseException as exc:  # the user's code: report anything it raises, never a traceback
        if isinstance(exc, KeyboardInterrupt):
            raise
        diags.error("M106", Span(name, 1, 1, 1, 1), f"running {name} failed: {type(exc).__name__}: {exc}")
        return []
    finally:
        sys.path.pop(0)
    functions: list[Any] = []
    for value in namespace.values():
        items = value if isinstance(value, list | tuple) else [value]
        functions.extend(v for v in items if isinstance(v, inngest.Function))
    names: list[str] = []
    for fn in {id(f): f for f in functions}.values():
        try:
            config = fn.get_config("http://paymap.invalid")
        except Exception:
            continue
        for trigger in getattr(config.main, "triggers", None) or []:
            event = getattr(trigger, "event", None)
            if isinstance(event, str):
                names.append(event)
    if not names:
        diags.warning("M411", Span(name, 1, 1, 1, 1), f"{name} defines no Inngest function triggered by an event")
    return names


def _find(file: str, text: str, name: str) -> Span:
    """Where ``name`` is written in the file (its first quoted occurrence), for messages."""
    for quoted in (json.dumps(name), f"'{name}'"):
        at = text.find(quoted)
        if at >= 0:
            line = text.count("\n", 0, at) + 1
            col = at - (text.rfind("\n", 0, at) + 1) + 1
            return Span(file, line, col, line, col + len(quoted))
    return Span(file, 1, 1, 1, 1)


def _matches(pattern: str, name: str) -> bool:
    return pattern_regex(pattern).match(name) is not None if "*" in pattern else pattern == name


def check_listeners(rules: Sequence[CheckedRule], listeners: Sequence[Listener], diags: Diagnostics) -> None:
    """M410 / M411 between the names rules produce and the names functions listen for."""
    producing = [r for r in rules if not r.drops]
    known: set[str] = set()
    for r in producing:
        if r.names is None or r.name_span is None:
            continue
        known |= r.names
        missed = sorted(n for n in r.names if not any(_matches(lis.name, n) for lis in listeners))
        if not missed:
            continue
        shown = ", ".join(f"`{n}`" for n in missed[:3]) + (f" and {len(missed) - 3} more" if len(missed) > 3 else "")
        guess = suggest(missed[0], [lis.name for lis in listeners if "*" not in lis.name], 0.85)
        help = f"did you mean `{guess}`? " if guess and len(missed) == 1 else ""
        diags.warning(
            "M410", r.name_span,
            f"no Inngest function listens for {shown}: {'this event starts' if len(missed) == 1 else 'these events start'} nothing",
            help=help + "check the name against your functions' triggers, or remove the rule (`drop`) "
                        "if nothing needs these events",
        )
    if any(r.names is None for r in producing):
        return  # a computed name could be anything: "nobody produces it" cannot be said
    for lis in listeners:
        if any(_matches(lis.name, n) for n in known):
            continue
        guess = suggest(lis.name, sorted(known), 0.85)
        diags.warning(
            "M411", lis.span, f"an Inngest function listens for `{lis.name}`, but no mapping produces it",
            help=(f"did you mean `{guess}`? " if guess else "")
            + "the function never runs unless something else sends this event",
        )
