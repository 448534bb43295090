"""What the playground does, without HTTP: the ``.map`` files under one directory, compiled with the
editor's unsaved text in place of one of them, applied to a body, saved back, and turned into tests.

Compiling is the compiler's own (``dsl.compiler.compile_sources``, the orchestration ``paymap check``
runs): the edited file is parsed and checked on every call, the others only when their text, the
event types they receive or the constants and groups they read change (so a keystroke costs one
file's parse, not the directory's). The diagnostics are exactly those of ``paymap check PATH`` with
the edited text saved.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dsl import nodes as n
from dsl.builtins import BUILTINS
from dsl.codes import CODES
from dsl.compiler import (
    MAP_SUFFIX,
    CompiledFile,
    CompileResult,
    ParsedFile,
    compile_sources,
    coverage,
    parse_source,
    read_map_file,
    walk_files,
)
from dsl.diagnostics import Diagnostic, Diagnostics
from dsl.formatter import FormatterBug, format_source
from dsl.jsgen import TARGETS as JS_TARGETS
from dsl.jsgen import export_js
from dsl.render import render_one
from dsl.schema import dodo_schema
from dsl.shared import Declarations
from dsl.source import SourceFile, Span, decode_source
from prelude.errors import PaymapError
from prelude.values import MISSING
from runtime import samples, testing, testyaml
from runtime.errors import MappingError
from runtime.mappingset import MappingSet

# Limits on what the page may send; the worker's deadlines are in runtime.playground.worker.
MAX_TEXT_CHARS = 256 * 1024  # a mapping: the shipped files are 2-6 KB
MAX_BODY_BYTES = 1024 * 1024  # a webhook body: the relay's default PAYMAP_MAX_BODY_BYTES
MAX_NAME_CHARS = 200  # a test name


class PlaygroundError(PaymapError):
    """A request the playground refuses; ``message`` is shown to the author as it is."""

    def __init__(self, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.extra = extra


# Inngest's event fields a rule may set (the left of `=`), for completion.
TARGETS: tuple[tuple[str, str], ...] = (
    ("name", "the event name Inngest functions trigger on (required), e.g. \"payment.succeeded\""),
    ("id", "idempotency key: Inngest ignores a second event with the same id for 24 hours"),
    ("ts", "when it happened, in milliseconds since 1970 (use epoch_ms(timestamp))"),
    ("data.", "the event's payload: any fields, e.g. data.amount"),
    ("user.", "the user the event is about, e.g. user.email"),
    ("v", "a version string for the event's shape, e.g. \"2025-01-01.1\""),
)

TEMPLATE = """\
# {event_type}: the Inngest event your functions receive for it.
on "{event_type}"

name = "{event_type}"
id   = "dodo:" & type & ":" & timestamp
ts   = epoch_ms(timestamp)
"""

# When PATH declares the library's `group event` (name, v, id and ts from `object_id`), a new file
# uses it like the shipped files do, so it follows `const prefix` and `const version`.
LIBRARY_TEMPLATE = """\
# {event_type}: the Inngest event your functions receive for it.
# `use event` ({where}) sets name, v, id and ts; `object_id` makes the event id.
on "{event_type}"

let object_id = required({id_path})
use event
"""
EXPORT_TARGET = "dodo"  # the playground exports for Dodo's dashboard, as `paymap export --target dodo`


@dataclass(slots=True)
class _Cached:
    """One other file, parsed once per text (and, kept in ``parsed``, its last check: the compiler
    checks it again only when the types its rules receive or the shared declarations change)."""

    stamp: tuple[int, int]
    parsed: ParsedFile


@dataclass(slots=True)
class Compiled:
    """The whole directory compiled with the editor's text for one file."""

    result: CompileResult
    name: str  # the edited file as diagnostics name it
    mappings: MappingSet
    decl: Declarations = field(default_factory=Declarations)
    modules: list[tuple[SourceFile, n.Module]] = field(default_factory=list)

    def own(self) -> list[Diagnostic]:
        return [d for d in self.result.diagnostics if d.span.file == self.name]

    def others(self) -> list[Diagnostic]:
        return [d for d in self.result.diagnostics if d.span.file != self.name]

    @property
    def own_errors(self) -> int:
        return sum(1 for d in self.own() if d.is_error)


class Workspace:
    """The ``.map`` files under ``root``; every path the page sends is checked to stay inside it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.display_root = Path(root)
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise PlaygroundError(f"{root}: not a directory", 404)
        self._cache: dict[str, _Cached] = {}
        self._tested: dict[Path, tuple[tuple[int, int], frozenset[str]]] = {}
        self.last: Compiled | None = None

    # --- paths ---------------------------------------------------------------------------
    def path(self, rel: str, *, suffix: str = MAP_SUFFIX, must_exist: bool = True) -> Path:
        """``rel`` under the root, or a PlaygroundError saying why not."""
        if not isinstance(rel, str) or not rel.strip():
            raise PlaygroundError("no file name given")
        if len(rel) > 1000 or "\x00" in rel or "\\" in rel:
            raise PlaygroundError("a file name may not hold backslashes or NUL characters")
        if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
            raise PlaygroundError(f"{rel!r}: give a path relative to {self.display_root}, not an absolute one")
        parts = Path(rel).parts
        if ".." in parts:
            raise PlaygroundError(f"{rel!r}: `..` is not allowed; the playground only opens files under "
                                  f"{self.display_root}")
        if any(p.startswith(".") for p in parts):
            raise PlaygroundError(f"{rel!r}: hidden files and directories are not served")
        if not rel.endswith(suffix):
            raise PlaygroundError(f"{rel!r}: only {suffix} files can be opened and saved here")
        target = self.root / rel
        real = target.resolve()
        if not real.is_relative_to(self.root):
            raise PlaygroundError(f"{rel!r} leads outside {self.display_root} (a symbolic link?); refused", 403)
        if must_exist and not real.is_file():
            raise PlaygroundError(f"{rel!r}: no such file under {self.display_root}", 404)
        if not real.parent.is_dir():
            raise PlaygroundError(f"{rel!r}: the directory {Path(rel).parent} does not exist under "
                                  f"{self.display_root}", 404)
        return target

    def name(self, rel: str) -> str:
        """How ``paymap check PATH`` names the file in its diagnostics."""
        return str(self.display_root / rel)

    def rel(self, name: str) -> str:
        try:
            return Path(name).relative_to(self.display_root).as_posix()
        except ValueError:
            return name

    def files(self) -> list[str]:
        return [p.relative_to(self.root).as_posix() for p in walk_files(self.root, (MAP_SUFFIX,))
                if p.resolve().is_relative_to(self.root)]

    def read(self, rel: str) -> str:
        path = self.path(rel)
        data = path.read_bytes()
        if len(data) > MAX_TEXT_CHARS * 4:
            raise PlaygroundError(f"{rel}: {len(data)} bytes is too large for the playground", 413)
        text, bad = decode_source(str(path), data)
        if bad is not None:
            raise PlaygroundError(f"{rel}: byte {bad} is not valid UTF-8 text; fix the file in an editor first")
        return text

    # --- compiling -----------------------------------------------------------------------
    def compile(self, rel: str, text: str) -> Compiled:
        """The directory as ``paymap check`` sees it once ``text`` is saved as ``rel``."""
        check_text(text, "the mapping", MAX_TEXT_CHARS)
        self.path(rel, must_exist=False)
        name = self.name(rel)
        found = Diagnostics()  # the other files that cannot be read as mappings, as `paymap check` says
        parsed: dict[str, ParsedFile | CompiledFile] = {}
        order: list[str] = []
        for path in walk_files(self.root, (MAP_SUFFIX,)):
            other = self.name(path.relative_to(self.root).as_posix())
            order.append(other)
            if other != name and (slot := self._other(path, other, found)) is not None:
                parsed[other] = slot
        if name not in order:  # a new file: where `paymap check` will find it once saved
            order.append(name)
            order.sort(key=lambda k: walk_order(Path(self.rel(k))))
        parsed[name] = parse_source(text, name)
        slots = [parsed[k] for k in order if k in parsed]
        result = compile_sources(slots, found=found)
        usable = CompileResult([f for f in result.files if f.generated is not None or not f.module.rules], [],
                               constants=result.constants)
        self.last = Compiled(result, name, MappingSet(usable), result.declarations,
                             [(p.source, p.module) for p in slots])
        return self.last

    def _other(self, path: Path, name: str, found: Diagnostics) -> ParsedFile | CompiledFile | None:
        """Another file of the directory, parsed again only when it changes; one that cannot be read as
        a mapping is reported in ``found`` (M103, M106) and stands empty, as in `paymap check`."""
        try:
            st = path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        hit = self._cache.get(name)
        if hit is not None and hit.stamp == stamp:
            return hit.parsed
        slot = read_map_file(path, name, found)
        if isinstance(slot, ParsedFile) and stamp is not None:
            self._cache[name] = _Cached(stamp, slot)
        return slot

    def diagnostics_json(self, compiled: Compiled) -> dict[str, Any]:
        sources = compiled.result.sources
        own = [diagnostic_json(d, sources.get(d.span.file)) for d in compiled.own()]
        others = [dict(diagnostic_json(d, sources.get(d.span.file)), path=self.rel(d.span.file))
                  for d in compiled.others()]
        return {"diagnostics": own, "others": others, "declarations": self.declarations_json(compiled),
                "rules": self.rules_json(compiled)}

    def declarations_json(self, compiled: Compiled) -> dict[str, Any]:
        """The constants and groups of every file (the edited text included), for completion and hover."""
        consts, groups = [], []
        for source, module in compiled.modules:
            where = self.rel(source.path)
            for c in module.consts:
                if compiled.decl.consts.get(c.name) is c:
                    consts.append({"name": c.name, "value": span_text(source, c.value.span), "file": where,
                                   "line": c.span.line})
            for g in module.groups:
                if g.name is not None and compiled.decl.groups.get(g.name) is g:
                    groups.append({"name": g.name, "file": where, "line": g.span.line,
                                   "lines": [span_text(source, s.span) for s in g.body]})
        return {"consts": consts, "groups": groups}

    def rules_json(self, compiled: Compiled) -> list[dict[str, Any]]:
        """The edited file's rules with their lines and `on` patterns (the page offers them to `export`)."""
        for source, module in compiled.modules:
            if source.path != compiled.name or not module.rules:
                continue
            out = []
            ends = [r.span.line - 1 for r in module.rules[1:]] + [source.line_count]
            for r, end in zip(module.rules, ends, strict=True):
                while end > r.span.line and not source.line_text(end).strip():
                    end -= 1
                out.append({"line": r.span.line, "end_line": end, "patterns": [p.text for p in r.patterns],
                            "also": r.also})
            return out
        return []

    # --- exporting -----------------------------------------------------------------------
    def export(self, compiled: Compiled, on: str | None) -> dict[str, Any]:
        """What `paymap export PATH --target dodo [--on PATTERN]` gives with the edited text saved."""
        code, diags = export_js(compiled, EXPORT_TARGET, on)
        sources = compiled.result.sources
        target = JS_TARGETS[EXPORT_TARGET]
        return {"code": code, "size": len(code) if code is not None else None, "limit": target.limit,
                "target": target.title, "on": on,
                "diagnostics": [dict(diagnostic_json(d, sources.get(d.span.file)), path=self.rel(d.span.file))
                                for d in diags]}

    # --- applying ------------------------------------------------------------------------
    def apply(self, body_text: str, *, explain: bool = True) -> dict[str, Any]:
        """The last compiled mappings applied to a body: events, dropped, skipped or an error (and,
        with ``explain``, every statement's value: a second, traced run)."""
        compiled = self.last
        if compiled is None:
            raise PlaygroundError("nothing compiled yet")
        payload = parse_body(body_text)
        if compiled.own_errors:
            k = compiled.own_errors
            return {"kind": "not_compiled",
                    "message": f"the mapping has {k} error{'s' if k != 1 else ''}: fix {'them' if k != 1 else 'it'} "
                               "to see the event"}
        out = outcome_json(compiled.mappings, payload, self.rel, explain=explain)
        skipped = [self.rel(f.source.path) for f in compiled.result.files
                   if f.generated is None and f.module.rules and f.source.path != compiled.name]
        if skipped:
            out["left_out"] = skipped
        return out

    # --- saving --------------------------------------------------------------------------
    def save(self, rel: str, text: str) -> dict[str, Any]:
        """Write ``text`` (formatted by ``paymap fmt`` when it parses) unless it adds errors."""
        path = self.path(rel, must_exist=False)
        before = 0
        if path.is_file():
            before = len(self.compile(rel, self.read(rel)).result.errors)
        compiled = self.compile(rel, text)
        after = len(compiled.result.errors)
        if after > before:
            added = after - before
            raise PlaygroundError(
                f"not saved: this would add {added} error{'s' if added != 1 else ''} "
                f"({after} in all, {before} now); fix {'them' if added != 1 else 'it'} first",
                409, **self.diagnostics_json(compiled))
        formatted = text
        try:
            result = format_source(text, self.name(rel))
            if result.text is not None:
                formatted = result.text
        except (FormatterBug, RecursionError):
            pass  # saved as written; `paymap fmt` reports the problem
        atomic_write(path, formatted)
        compiled = self.compile(rel, formatted)
        return {"path": rel, "text": formatted, "formatted": formatted != text,
                **self.diagnostics_json(compiled)}

    def template(self, event_type: str) -> str:
        """A rule that compiles as is: with the library's `group event` when PATH declares it, else
        standalone (name, id and ts of its own)."""
        if event_type not in dodo_schema().known_types:
            raise PlaygroundError(f"unknown event type {event_type!r}")
        group = self._event_group()
        id_path = object_id_path(event_type)
        if group is not None and id_path is not None:
            return LIBRARY_TEMPLATE.format(event_type=event_type, id_path=id_path, where=group)
        return TEMPLATE.format(event_type=event_type)

    def _event_group(self) -> str | None:
        """Where PATH declares a `group event` that reads `object_id`, as "file:line", or None."""
        for found in walk_files(self.root, (MAP_SUFFIX,)):
            name = self.name(found.relative_to(self.root).as_posix())
            slot = self._other(found, name, Diagnostics())  # a file that cannot be read declares nothing
            if slot is None:
                continue
            for g in slot.module.groups:
                body = "\n".join(span_text(slot.source, s.span) for s in g.body)
                if g.name == "event" and "object_id" in body:
                    return f"{self.rel(name)}:{g.span.line}"
        return None

    # --- tests ---------------------------------------------------------------------------
    def test_path(self, rel: str) -> Path:
        path = self.path(rel, must_exist=False)
        return path.with_name(path.name.removesuffix(MAP_SUFFIX) + testing.TEST_SUFFIX)

    def examples(self, rel: str) -> dict[str, Any]:
        """The bodies of the file's ``*.test.yaml`` cases, to try in the page."""
        tpath = self.test_path(rel)
        if not tpath.is_file():
            return {"file": None, "examples": [], "problems": []}
        cf = testing.load_file(tpath)
        cases = [{"name": c.name, "line": c.line, "body": c.body} for c in cf.cases
                 if not c.problems and isinstance(c.body, dict)]
        problems = [str(p) for p in cf.problems] + [str(p) for c in cf.cases for p in c.problems]
        return {"file": tpath.relative_to(self.root).as_posix(), "examples": cases, "problems": problems}

    def save_test(self, rel: str, text: str, name: str, body_text: str, sample: str | None) -> dict[str, Any]:
        """Append a case to ``rel``'s test file recording what the saved mapping does with the body."""
        name = name.strip() if isinstance(name, str) else ""
        if not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
            raise PlaygroundError(f"give the test a name (one line, at most {MAX_NAME_CHARS} characters)")
        if self.read(rel) != text:
            raise PlaygroundError("save the mapping first: a test records what the saved file does", 409)
        payload = parse_body(body_text)
        compiled = self.compile(rel, text)
        if compiled.result.errors:
            raise PlaygroundError("the mappings have errors; a test needs mappings that compile", 409)
        tpath = self.test_path(rel)
        existing = tpath.read_text(encoding="utf-8") if tpath.is_file() else ""
        if existing:
            cf = testing.load_file(tpath, existing)
            if cf.problems:
                raise PlaygroundError(f"{tpath.name} has problems; fix it first: {cf.problems[0]}", 409)
            if any(c.name == name for c in cf.cases):
                raise PlaygroundError(f"{tpath.name} already has a test named {name!r}", 409)
        actual = testing.execute(compiled.mappings, payload)
        key, value = testing.expectation_of(actual)
        case: dict[str, Any] = {"name": name}
        if sample and samples.read(sample) is not None and json.loads(samples.read(sample) or b"") == payload:
            case["sample"] = sample
        else:
            case["input"] = payload
        case[key] = value
        entry = "  - " + testyaml.dump_block(case, 4) + "\n"
        if not existing:
            new_text = (f"# Examples for {self.name(rel)}. Run them with `paymap test {self.display_root}`.\n"
                        f"tests:\n{entry}")
        else:
            new_text = existing + ("" if existing.endswith("\n") else "\n") + "\n" + entry
        cf = testing.load_file(tpath, new_text)
        added = [c for c in cf.cases if c.name == name]
        if cf.problems or not added or added[0].problems:
            raise PlaygroundError("could not write this test safely (please report it)", 500)
        result = testing.compare(added[0], actual)
        atomic_write(tpath, new_text)
        return {"file": tpath.relative_to(self.root).as_posix(), "name": name, "status": result.status,
                "text": entry}

    # --- overview ------------------------------------------------------------------------
    def coverage(self) -> dict[str, Any]:
        """Which known event types the saved files map, and which have a test."""
        files = self.files()
        if files:
            compiled = self.compile(files[0], self.read(files[0]))
            covers = coverage(compiled.result)
        else:
            compiled, covers = None, []
        status: dict[str, str] = {}
        for c in covers:
            status.update({t: "mapped" for t in c.mapped})
            status.update({t: "dropped" for t in c.dropped})
        tested = self._tested_types()
        rows = []
        for t in dodo_schema().known_types:
            rules = [r.label for r in compiled.mappings.route(t)] if compiled is not None else []
            rows.append({"type": t, "status": status.get(t, "unmapped"), "tested": t in tested,
                         "rules": [self.rel(x) for x in rules]})
        return {"types": rows, "files": files}

    def _tested_types(self) -> set[str]:
        """The event types of every test body under the root (each file read again only when it changes)."""
        found: set[str] = set()
        for p in walk_files(self.root, (testing.TEST_SUFFIX,)):
            try:
                st = p.stat()
            except OSError:
                continue
            stamp = (st.st_mtime_ns, st.st_size)
            hit = self._tested.get(p)
            if hit is None or hit[0] != stamp:
                types = {c.body["type"] for c in testing.load_file(p).cases
                         if isinstance(c.body, dict) and isinstance(c.body.get("type"), str)}
                hit = self._tested[p] = (stamp, frozenset(types))
            found |= hit[1]
        return found


# --- helpers shared with the API ------------------------------------------------------------


def walk_order(rel: Path) -> list[tuple[int, str]]:
    """Sort key giving ``walk_files``' order: a directory's files (sorted), then its subdirectories."""
    return [(1, d) for d in rel.parts[:-1]] + [(0, rel.name)]


def span_text(source: SourceFile, span: Span) -> str:
    """The text a span covers (lines joined by newlines)."""
    lines = [source.line_text(i) for i in range(span.line, span.end_line + 1)]
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0][span.column - 1:span.end_column - 1]
    lines[0] = lines[0][span.column - 1:]
    lines[-1] = lines[-1][:span.end_column - 1]
    return "\n".join(lines)


def object_id_path(event_type: str) -> str | None:
    """The body field that identifies what ``event_type`` is about (always present, text):
    ``data.<noun>_id``, ``data.id``, else another ``data.*_id``; for the library template's ``object_id``."""
    paths = {p["path"]: p for p in schema_paths(event_type) if not p["optional"] and not p["nullable"]
             and p["type"] == "text"}
    noun = event_type.split(".")[0]
    for candidate in (f"data.{noun}_id", "data.id", f"data.{noun.split('_')[-1]}_id"):
        if candidate in paths:
            return candidate
    # else the first top-level `data.*_id` that is not about someone (abandoned checkouts, dunning)
    return next((p for p in paths if re.fullmatch(r"data\.\w+_id", p)
                 and p not in ("data.customer_id", "data.business_id", "data.brand_id")), None)


def check_text(text: Any, what: str, limit: int) -> None:
    if not isinstance(text, str):
        raise PlaygroundError(f"{what} must be text")
    if len(text) > limit:
        raise PlaygroundError(f"{what} is {size_text(len(text))}; the playground accepts up to {size_text(limit)}",
                              413)


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def parse_body(text: Any) -> dict[str, Any]:
    check_text(text, "the body", MAX_BODY_BYTES)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        raise PlaygroundError(f"the body is over {size_text(MAX_BODY_BYTES)} of UTF-8", 413)
    if not text.strip():
        raise PlaygroundError("the body is empty: pick a sample event type, or paste a webhook body")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlaygroundError(f"the body is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}",
                              line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise PlaygroundError("the body is nested too deeply") from None
    if not isinstance(value, dict):
        raise PlaygroundError("the body must be a JSON object (a Dodo webhook body: {\"type\": ..., \"data\": ...})")
    return value


def diagnostic_json(d: Diagnostic, source: SourceFile | None) -> dict[str, Any]:
    """A diagnostic as the page shows it: ``paymap check``'s words, help, docs page and fixes."""
    out = d.to_dict()
    out["title"] = CODES[d.code].title
    out["docs"] = f"docs/errors/{d.code}.md"
    out["label"] = d.label
    out["rendered"] = render_one(d, source)
    return out


def outcome_json(ms: MappingSet, payload: dict[str, Any], rel: Any = str, *, explain: bool = True) -> dict[str, Any]:
    """What ``paymap run`` and ``paymap run --explain`` print, as data."""
    actual = testing.execute(ms, payload)
    out: dict[str, Any] = {"kind": actual.kind, "events": actual.events,
                           "event_type": payload.get("type")}
    if actual.kind == "dropped":
        out["dropped_by"] = [f"{rel(r.file)}:{r.line}" for r in actual.dropped_by]
    if actual.error is not None:
        out["error"] = error_json(actual.error, rel)
    try:
        explanations = ms.explain(payload) if explain else []
    except MappingError:
        explanations = []
    out["explained"] = explain
    out["explain"] = [{
        "rule": f"{rel(ex.rule.file)}:{ex.rule.line}",
        "file": rel(ex.rule.file),
        "line": ex.rule.line,
        "patterns": list(ex.rule.patterns),
        "also": ex.rule.also,
        "steps": [{"line": s.span.line, "end_line": s.span.end_line, "source": s.source,
                   "missing": s.value is MISSING,
                   "value": None if s.value is MISSING else json_safe(s.value)} for s in ex.steps],
        "event": ex.event,
        "error": error_json(ex.error, rel) if ex.error is not None else None,
    } for ex in explanations]
    safe: dict[str, Any] = json_safe(out)
    return safe


def error_json(err: MappingError, rel: Any = str) -> dict[str, Any]:
    out = err.to_dict()
    out["file"] = rel(err.file)
    out["text"] = str(err)
    return out


def json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


@functools.cache
def _field_docs() -> dict[str, Any]:
    """Dodo's description of every field (``dsl/schemas/dodo_docs.json``, from the SDK's docstrings)."""
    try:
        doc: dict[str, Any] = json.loads((resources.files("dsl.schemas") / "dodo_docs.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {"texts": [], "events": {}}
    return doc


def schema_paths(event_type: str, limit: int = 2000) -> list[dict[str, Any]]:
    """Every input path of ``event_type``'s body in the Dodo schema, with its type and Dodo's
    description, for completion and hover."""
    body = dodo_schema().body(event_type)
    if body is None:
        return []
    docs = _field_docs()
    described: dict[str, int] = docs["events"].get(event_type, {})
    out: list[dict[str, Any]] = []

    def visit(node: dict[str, Any], path: str, f: dict[str, Any], optional: bool, depth: int) -> None:
        if len(out) >= limit or depth > 8:
            return
        if path:
            where = described.get(path)
            out.append({"path": path, "type": node_text(node), "optional": optional,
                        "nullable": bool(f.get("nullable")),
                        "doc": docs["texts"][where] if where is not None else None, "note": f.get("note")})
        kind = node.get("type")
        if kind == "object":
            for fname, sub in node.get("fields", {}).items():
                visit(sub.get("schema", {}), f"{path}.{fname}" if path else fname, sub, bool(sub.get("optional")),
                      depth + 1)
        elif kind == "list" and isinstance(node.get("items"), dict):
            visit(node["items"], f"{path}[0]", {}, False, depth + 1)
        elif kind == "union":
            for m in node.get("of", []):
                for fname, sub in m.get("fields", {}).items() if m.get("type") == "object" else ():
                    visit(sub.get("schema", {}), f"{path}.{fname}", sub, True, depth + 1)

    visit(body, "", {}, False, 0)
    seen: set[str] = set()
    unique = []
    for item in out:
        if item["path"] not in seen:
            seen.add(item["path"])
            unique.append(item)
    return unique


def node_text(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "string" and "const" in node:
        return f"text {json.dumps(node['const'])}"
    if kind == "string" and "enum" in node:
        values = node["enum"]
        shown = ", ".join(json.dumps(v) for v in values[:6])
        return f"text, one of {shown}" + (f" and {len(values) - 6} more" if len(values) > 6 else "")
    if kind == "int" and node.get("money"):
        return f"integer, money in minor units of `{node.get('currency_field')}`"
    if kind == "list":
        return "list of " + node_text(node.get("items", {}))
    if kind == "union":
        return " or ".join(node_text(m) for m in node.get("of", []))
    if kind == "object":
        return f"object {node['title']}" if node.get("title") else "object"
    names = {"string": "text", "datetime": "timestamp (RFC 3339 text)", "date": "date (text)",
             "int": "integer", "decimal_string": "decimal number as text", "number": "number",
             "bool": "true or false", "map": "object of your own keys", "any": "any value"}
    return names.get(str(kind), str(kind))


def builtins_json() -> list[dict[str, Any]]:
    return [{"name": b.name, "signature": b.signature(), "summary": b.summary, "details": b.details,
             "category": b.category, "examples": [list(e) for e in b.examples]} for b in BUILTINS.values()]


def atomic_write(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory, so a crash leaves the old file whole."""
    fd, tmp = tempfile.mkstemp(prefix=".paymap-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

