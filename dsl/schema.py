"""What a mapping may read: the input schema interface, and its implementations.

The checker asks the schema for the type of every input path a rule reads
(:meth:`InputSchema.path_type`), against every event type the rule's ``on`` patterns receive.

* :class:`DodoSchema` -- the default: the bundled ``dsl/schemas/dodo.json`` (all Dodo webhook
  event types, generated from the ``dodopayments`` SDK by ``scripts/gen_dodo_schema.py``).
* :class:`NodeSchema` -- the same machinery over any schema in that format; built from a JSON
  Schema file (:func:`from_json_schema`) or from sample bodies (:func:`from_samples`) when a
  ``.map`` file declares ``input schema "..."`` or ``input samples "..."``.
* :class:`EnvelopeSchema` -- the envelope only (``business_id``, ``type``, ``timestamp``, ``data``
  of any shape): for language tests with made-up fields.
* :class:`SoundSchema` -- what the code generator may rely on whatever the payload really holds.

The schema format (one node per value): ``{"type": "string", "enum"|"const": ...}``,
``datetime``, ``date``, ``int`` (``money: true`` with ``currency_field``), ``decimal_string``,
``number``, ``bool``, ``any``, ``{"type": "list", "items": node}``, ``{"type": "map", "values":
node}``, ``{"type": "object", "fields": {name: {"schema": node, "optional": bool, "nullable":
bool}}}`` (``"open": true`` lets it hold fields not listed) and ``{"type": "union", "of": [...]}``.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Protocol

from dsl import types as T
from dsl.diagnostics import Diagnostics, Fix, suggest
from dsl.routing import pattern_regex
from dsl.source import Span
from prelude.errors import PaymapError
from prelude.functions import Fault, parse_time

# A path below a root name: a field name, an index, or None for `[*]`.
Segment = str | int | None
Node = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PathInfo:
    """What a schema knows about an input path beyond its kinds (for the checker's warnings)."""

    absent: str | None = None  # why it may be missing or null, e.g. "`data.tax` is optional"
    currency: tuple[Segment, ...] | None = None  # money in minor units: the path of its currency
    values: frozenset[str] | None = None  # the only texts it can hold (an enum or a constant)


class InputSchema(Protocol):
    """Answers "what can this path be?" for the event types a rule receives."""

    def event_types(self, patterns: Sequence[str]) -> frozenset[str] | None:
        """The known event types matched by these patterns (None: this schema does not know types)."""
        ...

    def roots(self) -> frozenset[str]:
        """Top-level field names of the input body."""
        ...

    def path_type(
        self,
        event_types: frozenset[str] | None,
        root: str,
        segments: Sequence[Segment],
        spans: Sequence[Span],
        diags: Diagnostics,
    ) -> T.Ty:
        """The static type of ``root.segments``; report unknown fields into ``diags``.

        ``spans[i]`` is where ``segments[i]`` is written."""
        ...

    def path_info(self, event_types: frozenset[str] | None, root: str,
                  segments: Sequence[Segment]) -> PathInfo | None:
        """More about a path :meth:`path_type` accepted (None: nothing known)."""
        ...


_ENVELOPE: dict[str, T.Ty] = {
    "business_id": T.STRING,
    "type": T.STRING,
    "timestamp": T.STRING,
    "data": T.OBJECT,
}


class EnvelopeSchema:
    """The Dodo envelope only: `business_id`, `type`, `timestamp` and an object `data` of any shape."""

    name = "the envelope"
    known_types: tuple[str, ...] = ()
    _ROOTS: ClassVar[dict[str, T.Ty]] = _ENVELOPE

    def event_types(self, patterns: Sequence[str]) -> frozenset[str] | None:
        return None

    def roots(self) -> frozenset[str]:
        return frozenset(self._ROOTS)

    def path_type(
        self,
        event_types: frozenset[str] | None,
        root: str,
        segments: Sequence[Segment],
        spans: Sequence[Span],
        diags: Diagnostics,
    ) -> T.Ty:
        if not segments:
            return self._ROOTS.get(root, T.ANY)
        return T.ANY

    def path_info(self, event_types: frozenset[str] | None, root: str,
                  segments: Sequence[Segment]) -> PathInfo | None:
        return None


class SoundSchema:
    """The types the code generator may rely on, whatever a payload really holds.

    A schema describes what a sender promises; a delivery may still lack a "required" field or
    hold a number where text was promised. Generated code must then still leave the field out
    (or fail with a located error), never crash, so it is generated from these types: the
    envelope's roots as before, and anything below them."""

    def __init__(self, inner: InputSchema) -> None:
        self._roots = inner.roots()

    def event_types(self, patterns: Sequence[str]) -> frozenset[str] | None:
        return None

    def roots(self) -> frozenset[str]:
        return self._roots

    def path_type(self, event_types: frozenset[str] | None, root: str, segments: Sequence[Segment],
                  spans: Sequence[Span], diags: Diagnostics) -> T.Ty:
        if not segments:
            return _ENVELOPE.get(root, T.ANY)
        return T.ANY

    def path_info(self, event_types: frozenset[str] | None, root: str,
                  segments: Sequence[Segment]) -> PathInfo | None:
        return None


# --- paths and event type lists, for messages -------------------------------------------------


def path_text(root: str, segments: Iterable[Segment]) -> str:
    out = root
    for seg in segments:
        if seg is None:
            out += "[*]"
        elif isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if seg.isidentifier() else f'."{seg}"'
    return out


def types_text(types: Iterable[str], known: Sequence[str], limit: int = 6) -> str:
    """`payment.*, refund.succeeded` -- whole families as `family.*`, at most ``limit`` items."""
    chosen = set(types)
    families: dict[str, list[str]] = {}
    for t in known:
        families.setdefault(t.split(".", 1)[0], []).append(t)
    items: list[str] = []
    done: set[str] = set()
    if known and chosen >= set(known):
        return "every event type"
    for t in sorted(chosen):
        if t in done:
            continue
        family = t.split(".", 1)[0]
        members = families.get(family, [])
        if len(members) > 1 and set(members) <= chosen:
            items.append(f"{family}.*")
            done.update(members)
        else:
            items.append(t)
            done.add(t)
    if len(items) > limit:
        return ", ".join(items[: limit - 1]) + f" and {len(items) - limit + 1} more"
    return ", ".join(items)


# --- resolving a path in one body -------------------------------------------------------------

_MAX_CACHE = 50_000


@dataclass(slots=True)
class _Walk:
    """A path resolved in one body: its kinds and absence, or where and why it failed."""

    ok: bool
    ty: T.Ty = T.NOTHING
    absent_at: int = -1  # index in the full path (0 = root) of the field that makes it absent
    absent_optional: bool = False
    absent_nullable: bool = False
    currency: str | None = None
    values: frozenset[str] | None = None
    fail: int = -1  # index in the full path of the segment that could not be read
    fail_nodes: list[Node] = field(default_factory=list)  # what it was read from
    vague: bool = False  # reached through `any`, a map or an open object: not a declared field


def _expand(nodes: list[tuple[Node, bool]]) -> list[tuple[Node, bool]]:
    out: list[tuple[Node, bool]] = []
    stack = list(reversed(nodes))
    while stack:
        node, in_map = stack.pop()
        if node.get("type") == "union":
            stack.extend((m, in_map) for m in reversed(node.get("of", [])))
        else:
            out.append((node, in_map))
    return out


def node_kinds(node: Node, in_map: bool = False) -> T.Ty:
    kind = node.get("type")
    if kind == "string":
        # a value in a map is the sender's user's own data (metadata): its content is unknown
        return T.STRING if in_map else T.PLAIN
    if kind in ("datetime", "date"):
        return T.DATETIME
    if kind == "decimal_string":
        return T.NUMSTR
    if kind == "int":
        return T.INT
    if kind == "number":
        return T.NUMBER
    if kind == "bool":
        return T.BOOL
    if kind == "list":
        return T.LIST
    if kind in ("map", "object"):
        return T.OBJECT
    if kind == "union":
        out: T.Ty = T.NOTHING
        for m in node.get("of", []):
            out |= node_kinds(m, in_map)
        return out
    return T.VALUE | T.NULL  # "any"


def _string_values(node: Node) -> frozenset[str] | None:
    if node.get("type") != "string":
        return None
    if "const" in node:
        return frozenset([node["const"]])
    if "enum" in node:
        return frozenset(node["enum"])
    return None


def walk(body: Node, path: Sequence[Segment]) -> _Walk:
    """Resolve ``path`` (root name first) in ``body``."""
    cur: list[tuple[Node, bool]] = [(body, False)]
    missing = null = vague = False
    absent_at, absent_opt, absent_null = -1, False, False
    for i, seg in enumerate(path):
        cur = _expand(cur)
        nxt: list[tuple[Node, bool]] = []
        step_opt = step_null = step_missing = False
        stuck = 0
        for node, in_map in cur:
            kind = node.get("type")
            if kind == "any":
                nxt.append((node, in_map))
                step_missing |= seg is not None
                step_null = vague = True
                continue
            if isinstance(seg, str):
                if kind == "object":
                    f = node.get("fields", {}).get(seg)
                    if f is not None:
                        nxt.append((f["schema"], in_map))
                        step_opt |= bool(f.get("optional"))
                        step_null |= bool(f.get("nullable"))
                    elif node.get("open"):
                        nxt.append(({"type": "any"}, in_map))
                        step_missing = step_null = vague = True
                    else:
                        stuck += 1
                elif kind == "map":
                    nxt.append((node.get("values", {"type": "any"}), True))
                    step_missing = vague = True
                else:
                    stuck += 1
            elif kind == "list":
                nxt.append((node.get("items", {"type": "any"}), in_map))
                step_missing |= isinstance(seg, int)  # an index may be out of range
            else:
                stuck += 1
        if not nxt:
            return _Walk(False, fail=i, fail_nodes=[n for n, _ in cur])
        if seg is None:  # inside `[*]`: each element exists; start afresh
            missing = null = False
            absent_at, absent_opt, absent_null = -1, False, False
        else:
            missing = missing or null or step_opt or step_missing or stuck > 0
            null = step_null
            if absent_at < 0 and (step_opt or (step_null and not step_missing)):
                absent_at, absent_opt, absent_null = i, step_opt, step_null
        cur = nxt
    cur = _expand(cur)
    ty: T.Ty = T.NOTHING
    values: frozenset[str] | None = frozenset()
    currency: str | None = None
    money = True
    for node, in_map in cur:
        ty |= node_kinds(node, in_map)
        v = _string_values(node)
        values = None if v is None or values is None else values | v
        if node.get("money") and node.get("currency_field"):
            currency = currency or str(node["currency_field"])
        else:
            money = False
    if missing:
        ty |= T.MISSING
    if null:
        ty |= T.NULL
    return _Walk(True, ty, absent_at, absent_opt, absent_null,
                 currency if money else None, values or None, vague=vague)


# --- a schema over nodes ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Report:
    code: str
    warning: bool
    index: int  # the segment (index into segments) to point at
    message: str
    help: str | None
    label: str | None
    fix: str | None = None  # replacement text for the segment at ``index``


@dataclass(frozen=True, slots=True)
class _Resolved:
    ty: T.Ty
    info: PathInfo | None
    report: _Report | None


class NodeSchema:
    """An input schema in the bundled format: one body per known event type, or one for all."""

    def __init__(self, name: str, bodies: dict[str, Node], *, typed: bool, origin: str = "schema") -> None:
        self.name = name  # for messages: "Dodo", "the JSON Schema shop.json", ...
        self.origin = origin  # "schema" or "samples": how to phrase "not in the schema"
        # "matches no {types_label}"
        self.types_label = f"{name} event type" if name == "Dodo" else f"event type of {name}"
        self._bodies = bodies
        self._typed = typed
        self.known_types: tuple[str, ...] = tuple(sorted(bodies)) if typed else ()
        roots: set[str] = set()
        for body in bodies.values():
            for node, _ in _expand([(body, False)]):
                if node.get("type") == "object":
                    roots.update(node.get("fields", {}))
        self._roots = frozenset(roots) if roots else frozenset(_ENVELOPE)
        self._cache: dict[tuple[frozenset[str] | None, tuple[Segment, ...]], _Resolved] = {}
        self._walks: dict[tuple[str, tuple[Segment, ...]], _Walk] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {len(self._bodies)} bodies>"

    # InputSchema ---------------------------------------------------------------------------
    def event_types(self, patterns: Sequence[str]) -> frozenset[str] | None:
        if not self._typed:
            return None
        regexes = [pattern_regex(p) for p in patterns]
        return frozenset(t for t in self.known_types if any(r.match(t) for r in regexes))

    def roots(self) -> frozenset[str]:
        return self._roots

    def path_type(
        self,
        event_types: frozenset[str] | None,
        root: str,
        segments: Sequence[Segment],
        spans: Sequence[Span],
        diags: Diagnostics,
    ) -> T.Ty:
        res = self._resolve(event_types, (root, *segments))
        rep = res.report
        if rep is not None and 0 <= rep.index < len(spans):
            add = diags.warning if rep.warning else diags.error
            span = spans[rep.index]
            fix = Fix(span, rep.fix, f"replace with `{rep.fix}`") if rep.fix is not None else None
            add(rep.code, span, rep.message, help=rep.help, label=rep.label, fix=fix)
        return res.ty

    def path_info(self, event_types: frozenset[str] | None, root: str,
                  segments: Sequence[Segment]) -> PathInfo | None:
        return self._resolve(event_types, (root, *segments)).info

    def body(self, event_type: str) -> Node | None:
        return self._bodies.get(event_type)

    # resolution ----------------------------------------------------------------------------
    def _walk(self, key: str, path: tuple[Segment, ...]) -> _Walk:
        hit = self._walks.get((key, path))
        if hit is None:
            if len(self._walks) > _MAX_CACHE:
                self._walks.clear()
            hit = self._walks[(key, path)] = walk(self._bodies[key], path)
        return hit

    def _resolve(self, event_types: frozenset[str] | None, path: tuple[Segment, ...]) -> _Resolved:
        key = (event_types, path)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > _MAX_CACHE:
                self._cache.clear()
            hit = self._cache[key] = self._compute(event_types, path)
        return hit

    def _compute(self, event_types: frozenset[str] | None, path: tuple[Segment, ...]) -> _Resolved:
        keys = sorted(self._bodies) if event_types is None or not self._typed else sorted(event_types)
        if not keys:  # the rule receives no known type: already reported on its `on` line
            return _Resolved(T.ANY, None, None)
        last = len(path) - 1
        found: list[tuple[str, _Walk]] = []
        failed_here: list[tuple[str, _Walk]] = []
        failed_before = False
        for k in keys:
            w = self._walk(k, path)
            if w.ok:
                found.append((k, w))
            elif w.fail == last:
                failed_here.append((k, w))
            else:
                failed_before = True
        if not found:
            if not failed_here:
                return _Resolved(T.ANY, None, None)  # a prefix was already reported
            return _Resolved(T.ANY, None, self._unknown(path, failed_here, event_types))
        ty: T.Ty = T.NOTHING
        values: frozenset[str] | None = frozenset()
        currencies = set()
        absent: str | None = None
        for _k, w in found:
            ty |= w.ty
            values = None if w.values is None or values is None else values | w.values
            currencies.add(w.currency)
            if absent is None and w.absent_at >= 0:
                absent = _absent_text(path, w)
        if failed_here or failed_before:
            ty |= T.MISSING
        currency = next(iter(currencies)) if len(currencies) == 1 else None
        info = PathInfo(
            absent=absent if ty & T.ABSENT else None,
            currency=(*path[1:-1], currency) if currency else None,
            values=values or None,
        )
        report = self._partial(path, found, failed_here) if failed_here else None
        return _Resolved(ty, info, report)

    # messages ------------------------------------------------------------------------------
    def _where(self, keys: Iterable[str]) -> str:
        return types_text(keys, self.known_types)

    def _partial(self, path: tuple[Segment, ...], found: list[tuple[str, _Walk]],
                 failed: list[tuple[str, _Walk]]) -> _Report:
        text = path_text(str(path[0]), path[1:])
        where = self._where(k for k, _ in failed)
        has = self._where(k for k, _ in found)
        return _Report(
            "M206", True, len(path) - 2,
            f"`{text}` exists for {has} but not for {where}",
            f"this rule also receives {where}, where `{text}` is missing: narrow the `on` pattern, "
            f"or give a default with `{text} ?? ...`",
            f"missing for {where}",
        )

    def _unknown(self, path: tuple[Segment, ...], failed: list[tuple[str, _Walk]],
                 event_types: frozenset[str] | None) -> _Report:
        seg = path[-1]
        parent = path_text(str(path[0]), path[1:-1])
        text = path_text(str(path[0]), path[1:])
        nodes = _expand([(n, False) for _, w in failed for n in w.fail_nodes])
        objects = [n for n, _ in nodes if n.get("type") == "object"]
        where = f" for {self._where(k for k, _ in failed)}" if self._typed else ""
        index = len(path) - 2
        if isinstance(seg, str) and objects:
            siblings = sorted({f for o in objects for f in o.get("fields", {})})
            help = None
            guess = _close(seg, siblings)
            fix = guess
            if guess is not None:
                help = f"did you mean `{path_text(str(path[0]), (*path[1:-1], guess))}`?"
            else:
                deeper = _find_below(objects, seg)
                if deeper is not None:
                    help = f"did you mean `{path_text(str(path[0]), (*path[1:-1], *deeper))}`?"
            elsewhere = self._exists_elsewhere(path, event_types)
            if elsewhere:
                help = (help + " " if help else "") + (
                    f"`{text}` exists for {elsewhere}: is the `on` pattern right?")
            if help is None:
                shown = ", ".join(f"`{s}`" for s in siblings[:12]) + (", ..." if len(siblings) > 12 else "")
                help = f"the fields of `{parent}` are {shown}" if siblings else None
            label = f"not a field of `{parent}`{where}"
            if self.origin == "samples":
                label = f"no sample has this field in `{parent}`{where}"
            return _Report("M201", False, index, f"unknown input field `{text}`", help, label, fix)
        kinds: T.Ty = T.NOTHING
        for n, in_map in nodes:
            kinds |= node_kinds(n, in_map)
        what = T.describe(kinds)
        if isinstance(seg, str):
            if kinds & T.LIST:
                help = (f"`{parent}` is a list: write `{parent}[*].{seg}` for every item's `{seg}`, "
                        f"or `{parent}[0].{seg}` for the first item's")
            else:
                help = f"`{parent}` holds {what}, which has no fields"
            return _Report("M201", False, index, f"`{parent}` is {what}, not an object: it has no field `{seg}`",
                           help, f"`{parent}` is {what}{where}")
        shown = "[*]" if seg is None else f"[{seg}]"
        help = f"read one of its fields with `{parent}.name`" if kinds & T.OBJECT else None
        return _Report("M201", False, index, f"`{parent}` is {what}, not a list: `{shown}` cannot be used on it",
                       help, f"`{parent}` is {what}{where}")

    def _exists_elsewhere(self, path: tuple[Segment, ...], event_types: frozenset[str] | None) -> str | None:
        if not self._typed or event_types is None:
            return None
        others = [k for k in self.known_types if k not in event_types
                  and (w := self._walk(k, path)).ok and not w.vague]
        return self._where(others) if others else None


def _absent_text(path: tuple[Segment, ...], w: _Walk) -> str:
    where = path_text(str(path[0]), path[1 : w.absent_at + 1])
    if w.absent_optional and w.absent_nullable:
        how = "may be missing or null"
    elif w.absent_optional:
        how = "is optional (may be missing)"
    else:
        how = "may be null"
    return f"`{where}` {how}"


def _close(word: str, candidates: Sequence[str]) -> str | None:
    lower = {c.lower(): c for c in candidates}
    if word.lower() in lower:
        return lower[word.lower()]
    return suggest(word, candidates)


def _find_below(objects: list[Node], name: str, depth: int = 3) -> tuple[Segment, ...] | None:
    """A path to a field called ``name`` nested below these objects (breadth first)."""
    frontier: list[tuple[Node, tuple[Segment, ...]]] = [(o, ()) for o in objects]
    for _ in range(depth):
        nxt: list[tuple[Node, tuple[Segment, ...]]] = []
        for node, prefix in frontier:
            for child, _ in _expand([(node, False)]):
                if child.get("type") == "list":
                    nxt.append((child.get("items", {}), (*prefix, None)))
                    continue
                if child.get("type") != "object":
                    continue
                for fname, f in child.get("fields", {}).items():
                    if prefix and fname == name:
                        return (*prefix, fname)
                    nxt.append((f["schema"], (*prefix, fname)))
        frontier = nxt
    return None


class DodoSchema(NodeSchema):
    """The bundled schema of every Dodo Payments webhook event type (``dsl/schemas/dodo.json``)."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        doc = document if document is not None else _dodo_document()
        super().__init__("Dodo", dict(doc["events"]), typed=True)
        self.source = str(doc.get("source", ""))


@functools.cache
def _dodo_document() -> dict[str, Any]:
    text = (resources.files("dsl.schemas") / "dodo.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@functools.cache
def dodo_schema() -> DodoSchema:
    """The Dodo schema, loaded once per process."""
    return DodoSchema()


# --- other sources: JSON Schema files and sample bodies ---------------------------------------


class SchemaLoadError(PaymapError):
    """A declared input schema could not be read; the message is for the mapping's author."""


_DECIMAL_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}.*)?\Z")
_JSON_SCHEMA_STRING_FORMATS = {"date-time": "datetime", "date": "date", "decimal": "decimal_string"}
_JSON_SCHEMA_TYPES = {"integer": "int", "number": "number", "boolean": "bool"}
_MAX_SCHEMA_BYTES = 8 << 20
_ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "examples", "default", "$defs", "definitions"}


def looks_like_time(text: str) -> bool:
    if not _DATE_TEXT.match(text):
        return False
    try:
        parse_time(text, "schema")
    except Fault:
        return False
    return True


def looks_like_decimal(text: str) -> bool:
    return bool(_DECIMAL_TEXT.match(text))


class _JsonSchemaReader:
    """JSON Schema (draft 4 to 2020-12, the common parts) to schema nodes."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self._refs: list[str] = []

    def deref(self, s: Any) -> Any:
        seen = 0
        while isinstance(s, dict) and isinstance(s.get("$ref"), str) and seen < 32:
            ref = s["$ref"]
            if not ref.startswith("#"):
                return {}
            target: Any = self.doc
            for part in [p for p in ref[1:].split("/") if p]:
                part = part.replace("~1", "/").replace("~0", "~")
                if isinstance(target, dict) and part in target:
                    target = target[part]
                elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                    target = target[int(part)]
                else:
                    raise SchemaLoadError(f"`$ref` {ref!r} points at nothing in the schema")
            s = target
            seen += 1
        return s

    def node(self, s: Any, depth: int = 0) -> tuple[Node, bool]:
        """The node for schema ``s`` and whether it allows null."""
        if depth > 64:
            return {"type": "any"}, True
        ref = s.get("$ref") if isinstance(s, dict) else None
        if isinstance(ref, str) and len(s) > 1 and any(k not in _ANNOTATIONS for k in s if k != "$ref"):
            # `$ref` next to other keywords applies both (draft 2019-09 and later)
            rest = {k: v for k, v in s.items() if k != "$ref"}
            return self.node({"allOf": [{"$ref": ref}, rest]}, depth + 1)
        if isinstance(ref, str):
            if ref in self._refs:  # recursive definition: stop here
                return {"type": "any"}, True
            self._refs.append(ref)
            try:
                return self.node(self.deref(s), depth + 1)
            finally:
                self._refs.pop()
        if not isinstance(s, dict):
            return {"type": "any"}, True
        nullable = bool(s.get("nullable"))
        if "allOf" in s and isinstance(s["allOf"], list):
            return self._all_of(s, depth)
        for key in ("oneOf", "anyOf"):
            if isinstance(s.get(key), list):
                members: list[Node] = []
                for m in s[key]:
                    node, null = self.node(m, depth + 1)
                    nullable |= null
                    if not (node.get("type") == "any" and isinstance(m, dict) and m.get("type") == "null"):
                        members.append(node)
                if not members:
                    return {"type": "any"}, True
                return (members[0] if len(members) == 1 else {"type": "union", "of": members}), nullable
        if "const" in s:
            c = s["const"]
            if c is None:
                return {"type": "any"}, True
            return (_value_node(c) if not isinstance(c, str) else {"type": "string", "const": c}), nullable
        if isinstance(s.get("enum"), list):
            values = s["enum"]
            texts = [v for v in values if isinstance(v, str)]
            others = [_value_node(v) for v in values if v is not None and not isinstance(v, str)]
            nullable |= None in values
            members = ([{"type": "string", "enum": texts}] if texts else []) + others
            if not members:
                return {"type": "any"}, True
            return (members[0] if len(members) == 1 else {"type": "union", "of": members}), nullable
        types = s.get("type")
        if isinstance(types, str):
            types = [types]
        if not isinstance(types, list):
            types = ["object"] if "properties" in s else ["array"] if "items" in s else []
        if "null" in types:
            nullable = True
        kinds = [t for t in types if isinstance(t, str) and t != "null"]
        if not kinds:
            return {"type": "any"}, True
        nodes = [self._typed(t, s, depth) for t in kinds]
        return (nodes[0] if len(nodes) == 1 else {"type": "union", "of": nodes}), nullable

    def _typed(self, kind: Any, s: dict[str, Any], depth: int) -> Node:
        if kind == "string":
            fmt = _JSON_SCHEMA_STRING_FORMATS.get(str(s.get("format", "")))
            return {"type": fmt} if fmt else {"type": "string"}
        if kind in _JSON_SCHEMA_TYPES:
            return {"type": _JSON_SCHEMA_TYPES[kind]}
        if kind == "array":
            items = s.get("items")
            if isinstance(items, dict):
                return {"type": "list", "items": self.node(items, depth + 1)[0]}
            return {"type": "list", "items": {"type": "any"}}
        if kind == "object":
            return self._object(s, depth)
        return {"type": "any"}

    def _object(self, s: dict[str, Any], depth: int) -> Node:
        props = s.get("properties")
        extra = s.get("additionalProperties")
        if not isinstance(props, dict) or not props:
            if isinstance(extra, dict):
                return {"type": "map", "values": self.node(extra, depth + 1)[0]}
            if extra is False:
                return {"type": "object", "fields": {}}
            return {"type": "map", "values": {"type": "any"}}
        required: list[Any] = s["required"] if isinstance(s.get("required"), list) else []
        fields: dict[str, Node] = {}
        for name, sub in props.items():
            node, nullable = self.node(sub, depth + 1)
            fields[str(name)] = {"schema": node, "optional": name not in required, "nullable": nullable}
        out: Node = {"type": "object", "fields": fields}
        if extra is True or isinstance(extra, dict) or isinstance(s.get("patternProperties"), dict):
            out["open"] = True
        return out

    def _all_of(self, s: dict[str, Any], depth: int) -> tuple[Node, bool]:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        rest = {k: v for k, v in s.items() if k != "allOf"}
        todo = [rest, *s["allOf"]]
        seen = 0
        while todo and seen < 256:
            seen += 1
            part = self.deref(todo.pop(0))
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("allOf"), list) and part is not rest:
                todo[:0] = part["allOf"]
            if isinstance(part.get("properties"), dict):
                merged["properties"].update(part["properties"])
            if isinstance(part.get("required"), list):
                merged["required"].extend(part["required"])
            if "additionalProperties" in part:
                merged["additionalProperties"] = part["additionalProperties"]
        if not merged["properties"]:
            parts = [p for p in s["allOf"] if isinstance(p, dict)]
            return self.node(parts[0], depth + 1) if parts else ({"type": "any"}, True)
        return self._object(merged, depth), bool(s.get("nullable"))


def _value_node(v: Any) -> Node:
    if isinstance(v, bool):
        return {"type": "bool"}
    if isinstance(v, int):
        return {"type": "int"}
    if isinstance(v, float):
        return {"type": "number"}
    if isinstance(v, str):
        return {"type": "string"}
    if isinstance(v, list):
        return {"type": "list", "items": {"type": "any"}}
    return {"type": "map", "values": {"type": "any"}}


def _event_type_values(reader: _JsonSchemaReader, member: Any, depth: int = 0) -> list[str]:
    """The constant values of a body schema's ``type`` property (through ``$ref`` and ``allOf``)."""
    if not isinstance(member, dict) or depth > 16:
        return []
    props = member.get("properties")
    if isinstance(props, dict) and "type" in props:
        t = reader.deref(props["type"])
        if isinstance(t, dict) and isinstance(t.get("const"), str):
            return [t["const"]]
        if isinstance(t, dict) and isinstance(t.get("enum"), list) and all(isinstance(v, str) for v in t["enum"]):
            return list(t["enum"])
    all_of = member.get("allOf")
    parts: list[Any] = list(all_of) if isinstance(all_of, list) else []
    if "$ref" in member:
        parts.append(reader.deref({"$ref": member["$ref"]}))
    for part in parts:
        found = _event_type_values(reader, part, depth + 1)
        if found:
            return found
    return []


def from_json_schema(doc: Any, name: str) -> NodeSchema:
    """A schema from a JSON Schema document. When the top level is a ``oneOf``/``anyOf`` of
    objects whose ``type`` property is a constant (or an enum), each is the body of those event
    types, and ``on`` patterns are checked against them."""
    if not isinstance(doc, dict):
        raise SchemaLoadError("a JSON Schema must be an object")
    reader = _JsonSchemaReader(doc)
    members = doc.get("oneOf") or doc.get("anyOf")
    if isinstance(members, list) and members:
        bodies: dict[str, Node] = {}
        for m in members:
            types = _event_type_values(reader, m)
            if not types:
                bodies = {}
                break
            node = reader.node(m)[0]
            for t in types:
                bodies[t] = node
        if bodies:
            return NodeSchema(name, bodies, typed=True)
    body = reader.node(doc)[0]
    return NodeSchema(name, {"": body}, typed=False)


def infer_node(values: list[Any]) -> tuple[Node, bool]:
    """The node describing every one of ``values`` (sample data), and whether null occurs."""
    present = [v for v in values if v is not None]
    nullable = len(present) < len(values)
    members: list[Node] = []
    if any(isinstance(v, bool) for v in present):
        members.append({"type": "bool"})
    numbers = [v for v in present if isinstance(v, int | float) and not isinstance(v, bool)]
    if numbers:
        members.append({"type": "int" if all(isinstance(v, int) for v in numbers) else "number"})
    texts = [v for v in present if isinstance(v, str)]
    if texts:
        if all(looks_like_time(v) for v in texts):
            members.append({"type": "datetime"})
        elif all(looks_like_decimal(v) for v in texts):
            members.append({"type": "decimal_string"})
        else:
            members.append({"type": "string"})
    lists = [v for v in present if isinstance(v, list)]
    if lists:
        items = [x for v in lists for x in v]
        members.append({"type": "list", "items": infer_node(items)[0] if items else {"type": "any"}})
    objects = [v for v in present if isinstance(v, dict)]
    if objects:
        names: dict[str, None] = {}
        for o in objects:
            names.update(dict.fromkeys(o))
        fields: dict[str, Node] = {}
        for k in names:
            vals = [o[k] for o in objects if k in o]
            node, null = infer_node(vals)
            fields[k] = {"schema": node, "optional": len(vals) < len(objects), "nullable": null}
        members.append({"type": "object", "fields": fields})
    if not members:
        return {"type": "any"}, True
    return (members[0] if len(members) == 1 else {"type": "union", "of": members}), nullable


def from_samples(bodies: list[Any], name: str) -> NodeSchema:
    """A schema inferred from example bodies: a field seen in every body of an event type is
    required, in some optional; null seen makes it nullable. Bodies with a text ``type`` field
    are grouped by it, and ``on`` patterns are checked against those types."""
    if not bodies:
        raise SchemaLoadError("no sample bodies found")
    if all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in bodies):
        groups: dict[str, list[Any]] = {}
        for b in bodies:
            groups.setdefault(b["type"], []).append(b)
        typed = {t: infer_node(bs)[0] for t, bs in groups.items()}
        return NodeSchema(name, typed, typed=True, origin="samples")
    return NodeSchema(name, {"": infer_node(bodies)[0]}, typed=False, origin="samples")


def _read_json(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > _MAX_SCHEMA_BYTES:
            raise SchemaLoadError(f"{path} is larger than {_MAX_SCHEMA_BYTES >> 20} MiB")
        data = path.read_bytes()
    except OSError as exc:
        raise SchemaLoadError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SchemaLoadError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise SchemaLoadError(f"{path} is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise SchemaLoadError(f"{path} is nested too deeply") from None


def _stamp(path: Path) -> tuple[tuple[str, int, int], ...]:
    files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
    out = []
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _load_cached(kind: str, path: str, stamp: tuple[tuple[str, int, int], ...]) -> NodeSchema:
    p = Path(path)
    if kind == "schema":
        if p.is_dir():
            raise SchemaLoadError(f"{path} is a directory; `input schema` takes one JSON Schema file")
        return from_json_schema(_read_json(p), f"the JSON Schema {p.name}")
    files = [Path(f) for f, _, _ in stamp]
    bodies: list[Any] = []
    for f in files:
        value = _read_json(f)
        bodies.extend(value if isinstance(value, list) else [value])
    return from_samples(bodies, f"the samples in {path}")


def load_input_schema(kind: str, path: str | os.PathLike[str]) -> NodeSchema:
    """The schema declared by ``input schema "path"`` or ``input samples "path"`` (cached until
    the files change). Raises :class:`SchemaLoadError` with a message for the author."""
    p = Path(path)
    if not p.exists():
        raise SchemaLoadError(f"{p}: no such file or directory")
    stamp = _stamp(p)
    if kind == "samples" and not stamp:
        raise SchemaLoadError(f"{p} holds no `.json` sample files")
    try:
        return _load_cached(kind, str(p), stamp)
    except RecursionError:
        raise SchemaLoadError(f"{p} is nested too deeply") from None
    except SchemaLoadError:
        raise
    except Exception as exc:  # a shape the reader did not foresee: a diagnostic, never a traceback
        what = "a JSON Schema" if kind == "schema" else "samples"
        raise SchemaLoadError(f"{p} could not be read as {what}: a part of it has a shape paymap does not "
                              "understand") from exc
