"""The compiler driver: files → parse → check → generate → Python code objects.

Never raises for bad input: every problem is a diagnostic in the result.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dsl import nodes as n
from dsl.checker import CheckedRule, Checker, Facts, effective_types
from dsl.codegen import CodeGen, GeneratedModule
from dsl.diagnostics import SPLIT_HELP, Diagnostic, Diagnostics, Severity
from dsl.parser import parse
from dsl.routing import best_specificity, select
from dsl.schema import EnvelopeSchema, InputSchema, SchemaLoadError, dodo_schema, load_input_schema
from dsl.shared import Declarations, declarations, expand_module
from dsl.source import SourceFile, Span, decode_source, sniff

MAP_SUFFIX = ".map"


@dataclass(slots=True)
class CompiledFile:
    source: SourceFile
    module: n.Module
    rules: list[CheckedRule]
    facts: Facts
    generated: GeneratedModule | None = None
    functions: list[Any] = field(default_factory=list)
    schema: InputSchema | None = None  # what its rules read: declared with `input`, else the default


@dataclass(slots=True)
class CompileResult:
    files: list[CompiledFile]
    diagnostics: list[Diagnostic]
    # files read only for their `const`s and groups (beside a file compiled on its own)
    extra_sources: dict[str, SourceFile] = field(default_factory=dict)
    constants: dict[str, n.Expr] = field(default_factory=dict)  # every `const`, other constants inlined
    declarations: Declarations = field(default_factory=Declarations)  # the constants and groups, by name

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def sources(self) -> dict[str, SourceFile]:
        return {**self.extra_sources, **{f.source.path: f.source for f in self.files}}

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def default_schema() -> InputSchema:
    """Dodo's webhook schema (every event type), loaded once."""
    return dodo_schema()


def file_schema(module: n.Module, path: str, diags: Diagnostics, schema: InputSchema | None) -> InputSchema:
    """The schema a file's rules read: its own ``input`` declaration, else ``schema``, else Dodo's."""
    if not module.inputs:
        return schema or default_schema()
    decl = module.inputs[0]
    for extra in module.inputs[1:]:
        diags.error("M121", extra.span, "a file declares its input once",
                    help=f"keep one `input` line; this file already reads {decl.kind} `{decl.path}` "
                         f"(line {decl.span.line})")
    target = Path(decl.path)
    if not target.is_absolute():
        target = Path(path).parent / target
    try:
        return load_input_schema(decl.kind, target)
    except SchemaLoadError as exc:
        what = "a JSON Schema file" if decl.kind == "schema" else "a directory (or file) of JSON sample bodies"
        diags.error("M120", decl.path_span, f"cannot use this input {decl.kind}: {exc}",
                    help=f"the path is relative to the .map file and names {what}")
    except RecursionError:
        diags.error("M120", decl.path_span, f"cannot use this input {decl.kind}: it is nested too deeply")
    # checking against a schema we could not read would only add noise: the envelope, any shape
    return EnvelopeSchema()


SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv"})  # and every hidden directory


def walk_files(root: Path, suffixes: tuple[str, ...]) -> Iterable[Path]:
    """Files under ``root`` ending in one of ``suffixes``, sorted; hidden and vendor directories skipped."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        yield from (Path(dirpath) / f for f in sorted(filenames) if f.endswith(suffixes))


def find_map_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[str]]:
    """Expand directories to their ``.map`` files (sorted, recursive); report missing paths.

    Used by `check`, `fmt`, `serve` and `runtime.load` alike, so they all see the same files."""
    found: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            inside = list(walk_files(p, (MAP_SUFFIX,)))
            if not inside:  # checking nothing must not look like a success
                problems.append(f"{p}: no {MAP_SUFFIX} file in this directory")
            found.extend(inside)
        elif p.is_file():
            found.append(p)
        else:
            problems.append(f"{p}: no such file or directory")
    return list(dict.fromkeys(found)), problems


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The compiler builds large trees (the AST, the facts) and drops them whole; CPython's
    cycle collector would walk them again at every collection it triggers while they grow (an `else
    if` chain of 10,000 branches: 5x the time to build its AST). Collected once, afterwards.
    Compiles on several threads overlap: the last one to finish turns the collector back on."""
    global _paused, _was_enabled
    with _pause_lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _pause_lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()


_pause_lock = threading.Lock()
_paused = 0  # compiles under way (on any thread) with the cycle collector paused
_was_enabled = True


def compile_text(text: str, path: str, diags: Diagnostics, schema: InputSchema | None = None,
                 *, generate: bool = True) -> CompiledFile:
    """Compile one file's text (rule precedence, constants and groups are worked out within the file)."""
    with _no_cycle_collection():
        parsed = parse_source(text, path, schema)
        expand_module(parsed.module, declarations([parsed.module], lambda _file: parsed.diags), parsed.diags)
        return _check_file(parsed, diags, None, generate=generate)


# what a file's check depends on besides its own text: the event types its rules receive, the
# texts of the files declaring constants or groups, which of its groups some file uses (M605),
# whether code is generated, the allowed codes
CheckKey = tuple[tuple[frozenset[str] | None, ...], tuple[str, ...], frozenset[str], bool, frozenset[str]]


@dataclass(slots=True)
class ParsedFile:
    """One file's text parsed, with the schema its rules read: to be compiled with others by
    :func:`compile_sources`. It keeps its last check: a caller that keeps it (the playground,
    between keystrokes) has it checked again only when what the check depends on changes."""

    source: SourceFile
    module: n.Module
    schema: InputSchema
    diags: Diagnostics  # its own diagnostics so far
    parse_items: tuple[Diagnostic, ...] = ()  # those of the parse and the schema, where a check starts again
    checked: CompiledFile | None = None
    checked_key: CheckKey | None = None
    checked_items: list[Diagnostic] = field(default_factory=list)


def parse_source(text: str, path: str, schema: InputSchema | None = None) -> ParsedFile:
    """Parse a file's text held in memory (an `input` path in it is relative to ``path``)."""
    own = Diagnostics()
    module = parse(text, path, own)
    used = file_schema(module, path, own, schema)
    return ParsedFile(SourceFile(path, text), module, used, own, tuple(own.items))


def compile_sources(files: Sequence[ParsedFile | CompiledFile], *, generate: bool = True,
                    found: Diagnostics | None = None) -> CompileResult:
    """Compile files parsed from memory as one set, as :func:`compile_paths` compiles a directory:
    their constants and groups are shared, each event type goes to the most specific rule of all.

    ``files`` in the order the directory's files load (sorted paths). A file checked by an earlier
    call is not checked again unless what its check depends on changed (:data:`CheckKey`: the event
    types its rules receive, the text of a file declaring constants or named groups, which of its
    groups are used): the playground re-parses and re-checks only the file being edited on each
    keystroke. The same orchestration as :func:`compile_paths` (:func:`_compile_set`). ``found``: what
    reading the files reported (:func:`read_map_file`; its stand-ins are among ``files``)."""
    with _no_cycle_collection():
        return _compile_set(files, found if found is not None else Diagnostics(), generate=generate)


Neighbours = dict[str, tuple[n.Module, SourceFile]]


def _compile_set(slots: Sequence[ParsedFile | CompiledFile], diags: Diagnostics, *, generate: bool,
                 schema: InputSchema | None = None, allow: frozenset[str] = frozenset(),
                 neighbours: Neighbours | None = None) -> CompileResult:
    """The one compile of a set of files, behind both :func:`compile_paths` (`paymap check`, the
    relay's reload) and :func:`compile_sources` (the playground), so the two cannot differ.

    ``slots`` in load order: a :class:`CompiledFile` stands for a file that could not be read as
    text (already reported in ``diags``, which holds what the caller found so far). ``neighbours``:
    files read only for their constants and groups. Declarations are shared by all the files, then
    which rule receives which event type is worked out across all of them (it depends only on the
    `on` lines, not on the expanded bodies), then each file is expanded and checked -- unless it was
    checked by an earlier call and nothing its check depends on (:data:`CheckKey`) changed."""
    parsed = [p for p in slots if isinstance(p, ParsedFile)]
    extra = neighbours or {}
    found = {p.source.path: Diagnostics() for p in parsed}
    decl = declarations([*(p.module for p in parsed), *(m for m, _ in extra.values())],
                        lambda file: found.get(file, diags))
    decl_key = tuple([*(p.source.text for p in parsed if _declares(p.module)),
                      *(src.text for m, src in extra.values() if _declares(m))])
    # which rule receives which event type depends on every file: work it out before checking
    routes = effective_types([(r, p.schema) for p in parsed for r in p.module.rules])
    stale: list[tuple[ParsedFile, CheckKey]] = []
    for p in parsed:
        used = frozenset(g.name for g in p.module.groups if g.name is not None and g.name in decl.used)
        key = (tuple(routes.get(id(r)) for r in p.module.rules), decl_key, used, generate, allow)
        if p.checked is None or p.checked_key != key:
            p.diags = Diagnostics()
            p.diags.items = [*p.parse_items, *found[p.source.path].items]
            expand_module(p.module, decl, p.diags)
            stale.append((p, key))
    for p, key in stale:
        sink = Diagnostics()
        p.checked = _check_file(p, sink, routes, generate=generate, allow=allow)
        p.checked_key, p.checked_items = key, sink.items
    compiled: list[CompiledFile] = []
    for slot in slots:
        if isinstance(slot, CompiledFile):
            compiled.append(slot)
            continue
        assert slot.checked is not None
        compiled.append(slot.checked)
        diags.items.extend(slot.checked_items)
    routing = Diagnostics()
    check_routing(compiled, routing, schema)
    _downgrade(routing, allow)
    diags.extend(routing)
    return CompileResult(compiled, _once(diags.sorted()), {path: src for path, (_, src) in extra.items()},
                         decl.values, decl)


def _declares(module: n.Module) -> bool:
    """Whether a file declares what other files read: constants or named groups (its `defaults` are
    its own)."""
    return bool(module.consts) or any(g.name is not None for g in module.groups)


def _check_file(parsed: ParsedFile, diags: Diagnostics, routes: dict[int, frozenset[str]] | None,
                *, generate: bool, allow: frozenset[str] = frozenset()) -> CompiledFile:
    own, module, used, source = parsed.diags, parsed.module, parsed.schema, parsed.source
    path = source.path
    checker = Checker(own, used, source.text)
    try:
        rules = checker.check_module(module, routes)
        if allow:
            _downgrade(own, allow)
    except RecursionError:
        own.error("M105", Span(path, 1, 1, 1, 2), "this file is nested too deeply to check", help=SPLIT_HELP)
        diags.extend(own)
        return CompiledFile(source, n.Module(path, []), [], checker.facts, schema=used)
    if not module.rules and not module.consts and not module.groups and not own.has_errors:
        own.warning("M110", Span(path, 1, 1, 1, 1), "this file defines no rules",
                    help='start a rule with a line such as `on "payment.succeeded"`')
    compiled = CompiledFile(source, module, rules, checker.facts, schema=used)
    if generate and not own.has_errors:
        _generate(compiled, own)
    diags.extend(own)
    return compiled


def _generate(compiled: CompiledFile, diags: Diagnostics, *, trace: bool = False) -> None:
    path = compiled.source.path
    gen = CodeGen(compiled.facts, path, trace=trace)
    try:
        out = gen.module(compiled.rules)
        code = compile(out.source, out.filename, "exec")
    except (RecursionError, SyntaxError, MemoryError) as exc:  # Python's own limits on nesting and size
        lineno = exc.lineno if isinstance(exc, SyntaxError) else None
        site = gen.sites[lineno - 1] if lineno and 0 < lineno <= len(gen.sites) else getattr(gen, "site", None)
        span = site.span if site is not None else Span(path, 1, 1, 1, 2)
        diags.error("M105", span, "this is too complex to compile", help=SPLIT_HELP)
        return
    namespace = dict(out.namespace)
    exec(code, namespace)  # the generated source holds no user text except repr() literals
    compiled.generated = out
    compiled.functions = [namespace[name] for name in out.functions]


def generate_trace(compiled: CompiledFile) -> CompiledFile:
    """A copy whose functions also report each statement's value (for ``paymap run --explain``)."""
    traced = CompiledFile(compiled.source, compiled.module, compiled.rules, compiled.facts,
                          schema=compiled.schema)
    _generate(traced, Diagnostics(), trace=True)
    return traced


# Errors a caller may downgrade to warnings (``compile_paths(..., allow={"M405"})``): checks of the
# Inngest event contract, after which the generated code is still well defined. Used by the tests
# that run literal translations of the seed's JavaScript, whose `ts = epoch(...)` is in seconds.
ALLOWABLE: frozenset[str] = frozenset({"M403", "M404", "M405", "M406", "M407", "M408", "M502"})


def _downgrade(diags: Diagnostics, allow: frozenset[str]) -> None:
    diags.items = [replace(d, severity=Severity.WARNING, notes=(*d.notes, "allowed by the caller"))
                   if d.is_error and d.code in allow else d for d in diags.items]


def compile_paths(paths: Sequence[str | os.PathLike[str]], schema: InputSchema | None = None,
                  *, generate: bool = True, allow: Collection[str] = ()) -> CompileResult:
    """Compile ``.map`` files and directories. ``allow``: codes from :data:`ALLOWABLE` whose errors
    are reported as warnings instead, so the files still compile (not exposed by the CLI)."""
    allowed = frozenset(allow)
    if not allowed <= ALLOWABLE:
        raise ValueError(f"cannot allow {sorted(allowed - ALLOWABLE)}; allowable: {sorted(ALLOWABLE)}")
    with _no_cycle_collection():
        return _compile_paths(paths, schema, generate, allowed)


def _compile_paths(paths: Sequence[str | os.PathLike[str]], schema: InputSchema | None, generate: bool,
                   allowed: frozenset[str]) -> CompileResult:
    diags = Diagnostics()
    files, problems = find_map_files(paths)
    for problem in problems:
        where, _, what = problem.rpartition(": ")
        diags.error("M106", Span(where, 1, 1, 1, 1), problem,
                    help="name .map files, or directories that hold some" if what.startswith("no .") else None)
    slots = [slot for path in files if (slot := read_map_file(path, str(path), diags, schema)) is not None]
    return _compile_set(slots, diags, generate=generate, schema=schema, allow=allowed,
                        neighbours=_neighbours(paths, files))


def read_map_file(path: Path, name: str, diags: Diagnostics,
                  schema: InputSchema | None = None) -> ParsedFile | CompiledFile | None:
    """``path`` as one file of a compile, called ``name`` in diagnostics: parsed; or, when it is not a
    mapping's UTF-8 text, an empty stand-in and M103 in ``diags``; or None and M106 when it cannot be
    read. Shared by `paymap check` and the playground, so a file one of them skips the other reports too."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        diags.error("M106", Span(name, 1, 1, 1, 1), f"cannot read {name}: {exc.strerror or exc}",
                    help="check that it exists and can be read (a link whose target is gone cannot), or move it out of the directory")
        return None
    text, bad = decode_source(name, data)
    looks = sniff(data)
    if looks is None and bad is None:
        return parse_source(text, name, schema)
    if bad is None or not looks or not looks.endswith(" text"):
        span = Span(name, 1, 1, 1, 2)
        text = ""  # nothing of it is worth quoting
    else:
        line = data[:bad].count(b"\n") + 1
        col = bad - (data.rfind(b"\n", 0, bad) + 1) + 1
        span = Span(name, line, col, line, col + 1)
    what = looks or "a file that is not UTF-8 text"
    if bad is not None and looks and looks.startswith("Windows"):
        byte = data[bad:bad + 1]
        what += f" (byte 0x{byte.hex().upper()} is `{byte.decode('cp1252', errors='replace')}` there)"
    diags.error("M103", span, f"this looks like {what}, not a mapping's UTF-8 text",
                help="save it as UTF-8 (in most editors: Save As, encoding UTF-8)"
                if "text" in what else "check the path: a mapping is a text file of rules")
    return CompiledFile(SourceFile(name, text), n.Module(name, []), [], Facts())


def _once(items: list[Diagnostic]) -> list[Diagnostic]:
    """Each diagnostic once: a shared line checked for several rules reports one mistake once."""
    seen: set[tuple[str, Severity, Span, str]] = set()
    out = []
    for d in items:
        key = (d.code, d.severity, d.span, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


_DECLARES = re.compile(r"^[ \t]*(?:const|group|use)\b", re.M)  # worth parsing: declares or uses a group


def _neighbours(paths: Sequence[str | os.PathLike[str]], files: Sequence[Path]) -> Neighbours:
    """The other ``.map`` files beside each file named on its own, parsed for their constants and
    groups (and their `use` lines, so a group is not reported unused): a directory's files share
    them, also when one of them is checked or run alone."""
    named = {Path(p) for p in paths if Path(p).is_file()}
    taken = {str(f) for f in files}
    out: Neighbours = {}
    for parent in sorted({f.parent for f in named}):
        for other in sorted(parent.glob("*" + MAP_SUFFIX)):
            name = str(other)
            if name in taken or name in out or not other.is_file():
                continue
            try:
                text, bad = decode_source(name, other.read_bytes())
            except OSError:
                continue
            if bad is None and _DECLARES.search(text):
                module = parse(text, name, Diagnostics())  # its own mistakes show when it is checked
                out[name] = (module, SourceFile(name, text))
    return out


def check_routing(files: Sequence[CompiledFile], diags: Diagnostics, schema: InputSchema | None = None) -> None:
    """M502 (an error: a merchant's rule would silently never run) when two main rules receive one
    event type with equal precedence; both places are named."""
    rules = [(f, r) for f in files for r in f.module.rules if not r.also]
    candidates: set[str] = {p.text for _, r in rules for p in r.patterns if "*" not in p.text}
    for sch in {id(x): x for x in [schema or default_schema(), *(f.schema for f in files if f.schema)]}.values():
        candidates |= set(getattr(sch, "known_types", ()))
    reported: set[tuple[int, int]] = set()
    for event_type in sorted(candidates):
        best: list[tuple[tuple[int, int], n.Rule, CompiledFile]] = []
        for f, r in rules:
            s = best_specificity([p.text for p in r.patterns], event_type)
            if s is None:
                continue
            if not best or s > best[0][0]:
                best = [(s, r, f)]
            elif s == best[0][0]:
                best.append((s, r, f))
        if len(best) > 1:
            first, later = best[0], best[1]
            key = (id(first[1]), id(later[1]))
            if key in reported:
                continue
            reported.add(key)
            where = f"{first[2].source.path}:{first[1].span.line}"
            diags.error("M502", later[1].span,
                        f"`{event_type}` goes to this rule and to the rule at {where} (`on {first[1].label}`) "
                        "with equal precedence: only the first one loaded runs, so this one never does",
                        label=f"never runs for `{event_type}`",
                        help=f"make one pattern more specific (a rule `on \"{event_type}\"` wins over both), "
                             "remove one of the rules, or write `also on` to produce a second event")


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which known event types of one input schema the mappings turn into events."""

    source: str  # the schema's name, e.g. "Dodo"
    known: tuple[str, ...]
    mapped: tuple[str, ...]  # some rule produces an event
    dropped: tuple[str, ...]  # received only by rules that `drop` it: ignored on purpose
    unmapped: tuple[str, ...]  # no rule receives it

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "known": len(self.known), "mapped": list(self.mapped),
                "dropped": list(self.dropped), "unmapped": list(self.unmapped)}


def coverage(result: CompileResult) -> list[Coverage]:
    """For every input schema with known event types, which types the mappings map
    (routing as at run time: every file's rules, in load order)."""
    rules = [(f, cr) for f in result.files for cr in f.rules]
    table = [([p.text for p in cr.rule.patterns], cr.rule.also) for _, cr in rules]
    schemas = {id(f.schema): f.schema for f in result.files if f.schema is not None}
    out: list[Coverage] = []
    for schema in schemas.values():
        known = tuple(getattr(schema, "known_types", ()))
        if not known:
            continue
        mapped, dropped, unmapped = [], [], []
        for t in known:
            fired = [rules[i][1] for i in select(table, t)]
            if not fired:
                unmapped.append(t)
            elif all(cr.drops for cr in fired):
                dropped.append(t)
            else:
                mapped.append(t)
        out.append(Coverage(str(getattr(schema, "name", "input")), known, tuple(mapped), tuple(dropped),
                            tuple(unmapped)))
    return out
