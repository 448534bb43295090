"""The compiler driver: files → parse → check → generate → Python code objects.

Never raises for bad input: every problem is a diagnostic in the result.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsl import nodes as n
from dsl.checker import CheckedRule, Checker, Facts
from dsl.codegen import CodeGen, GeneratedModule
from dsl.diagnostics import Diagnostic, Diagnostics
from dsl.parser import parse
from dsl.routing import best_specificity
from dsl.schema import InputSchema
from dsl.source import SourceFile, Span, decode_source

MAP_SUFFIX = ".map"


@dataclass(slots=True)
class CompiledFile:
    source: SourceFile
    module: n.Module
    rules: list[CheckedRule]
    facts: Facts
    generated: GeneratedModule | None = None
    functions: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class CompileResult:
    files: list[CompiledFile]
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def sources(self) -> dict[str, SourceFile]:
        return {f.source.path: f.source for f in self.files}

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def default_schema() -> InputSchema:
    from dsl.schema import EnvelopeSchema

    return EnvelopeSchema()


def find_map_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[str]]:
    """Expand directories to their ``.map`` files (sorted, recursive); report missing paths."""
    found: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob(f"*{MAP_SUFFIX}") if q.is_file()))
        elif p.is_file():
            found.append(p)
        else:
            problems.append(f"{p}: no such file or directory")
    return found, problems


def compile_text(text: str, path: str, diags: Diagnostics, schema: InputSchema | None = None,
                 *, generate: bool = True) -> CompiledFile:
    source = SourceFile(path, text)
    before = len(diags.items)
    module = parse(text, path, diags)
    checker = Checker(diags, schema or default_schema())
    try:
        rules = checker.check_module(module)
    except RecursionError:
        diags.error("M105", Span(path, 1, 1, 1, 2), "mapping is too deeply nested to check",
                    help="use `let` to name intermediate values")
        return CompiledFile(source, n.Module(path, []), [], checker.facts)
    if not module.rules and not any(d.is_error for d in diags.items[before:]):
        diags.warning("M110", Span(path, 1, 1, 1, 1), "this file defines no rules",
                      help='start a rule with a line such as `on "payment.succeeded"`')
    compiled = CompiledFile(source, module, rules, checker.facts)
    if generate and not any(d.is_error for d in diags.items[before:]):
        _generate(compiled, diags)
    return compiled


def _generate(compiled: CompiledFile, diags: Diagnostics, *, trace: bool = False) -> None:
    path = compiled.source.path
    try:
        gen = CodeGen(compiled.facts, path, trace=trace).module(compiled.rules)
        code = compile(gen.source, gen.filename, "exec")
    except (RecursionError, SyntaxError, MemoryError) as exc:  # e.g. Python's nesting limits
        diags.error("M105", Span(path, 1, 1, 1, 2), f"mapping is too complex to compile ({type(exc).__name__})",
                    help="split long expressions with `let`")
        return
    namespace = dict(gen.namespace)
    exec(code, namespace)  # the generated source holds no user text except repr() literals
    compiled.generated = gen
    compiled.functions = [namespace[name] for name in gen.functions]


def generate_trace(compiled: CompiledFile) -> CompiledFile:
    """A copy whose functions also report each statement's value (for ``paymap run --explain``)."""
    traced = CompiledFile(compiled.source, compiled.module, compiled.rules, compiled.facts)
    _generate(traced, Diagnostics(), trace=True)
    return traced


def compile_paths(paths: Sequence[str | os.PathLike[str]], schema: InputSchema | None = None,
                  *, generate: bool = True) -> CompileResult:
    diags = Diagnostics()
    files, problems = find_map_files(paths)
    for problem in problems:
        diags.error("M106", Span(problem.split(":")[0], 1, 1, 1, 1), problem)
    compiled: list[CompiledFile] = []
    for path in files:
        name = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            diags.error("M106", Span(name, 1, 1, 1, 1), f"cannot read {name}: {exc.strerror or exc}")
            continue
        text, bad = decode_source(name, data)
        if bad is not None:
            line = data[:bad].count(b"\n") + 1
            col = bad - (data.rfind(b"\n", 0, bad) + 1) + 1
            diags.error("M103", Span(name, line, col, line, col + 1),
                        f"byte {bad} is not valid UTF-8 text", help="save the file as UTF-8")
            compiled.append(CompiledFile(SourceFile(name, text), n.Module(name, []), [], Facts()))
            continue
        compiled.append(compile_text(text, name, diags, schema, generate=generate))
    check_routing(compiled, diags, schema)
    return CompileResult(compiled, diags.sorted())


def check_routing(files: Sequence[CompiledFile], diags: Diagnostics, schema: InputSchema | None = None) -> None:
    """Warn when two main rules claim one event type with equal precedence."""
    rules = [(f, r) for f in files for r in f.module.rules if not r.also]
    candidates: set[str] = {p.text for _, r in rules for p in r.patterns if "*" not in p.text}
    known = getattr(schema, "known_types", None)
    if known:
        candidates |= set(known)
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
            diags.warning("M502", later[1].span,
                          f"`{event_type}` is claimed with equal precedence by this rule and the one at {where}; "
                          "only the first loaded runs",
                          help="remove one of them, make one pattern more specific, or write `also on` "
                               "to produce a second event")
