"""Compiled mappings applied to events: ``load(path) -> MappingSet``, ``MappingSet.apply(payload)``."""

from __future__ import annotations

import os
import types
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsl import nodes as n
from dsl.codegen import GeneratedModule, Site
from dsl.compiler import (
    CompiledFile,
    CompileResult,
    check_routing,
    compile_paths,
    compile_text,
    generate_trace,
)
from dsl.diagnostics import Diagnostic, Diagnostics
from dsl.render import render_text, summary
from dsl.routing import select
from dsl.schema import InputSchema
from dsl.shared import NOT_LITERAL, constant_value
from dsl.source import SourceFile, Span
from prelude.values import Fault, show
from runtime.errors import CompileError, MappingError

_ROUTE_CACHE_MAX = 4096


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule: where it is written, what it matches, and its function."""

    file: str
    index: int
    line: int
    patterns: tuple[str, ...]
    also: bool
    function: Any
    compiled: CompiledFile

    @property
    def label(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(slots=True)
class Outcome:
    """What happened to one payload: the events, and whether any rule received it at all."""

    events: list[dict[str, Any]]
    matched: bool
    rules: list[Rule] = field(default_factory=list)
    dropped: list[Rule] = field(default_factory=list)


@dataclass(slots=True)
class Step:
    """One statement's value, for ``paymap run --explain``."""

    span: Span
    label: str
    source: str
    value: Any
    origin: str | None = None  # "group customer (mappings/payment.map:12)": where a shared line comes from
    consts: tuple[str, ...] = ()  # "prefix = \"\" (mappings/_settings.map:3)": the constants it read


@dataclass(slots=True)
class Explanation:
    rule: Rule
    steps: list[Step]
    event: dict[str, Any] | None
    error: MappingError | None = None


class MappingSet:
    def __init__(self, result: CompileResult) -> None:
        self.result = result
        self.rules: list[Rule] = []
        for f in result.files:
            for checked, fn in zip(f.rules, f.functions, strict=False):
                r = checked.rule
                self.rules.append(Rule(f.source.path, r.index, r.span.line,
                                       tuple(p.text for p in r.patterns), r.also, fn, f))
        self._table = [(r.patterns, r.also) for r in self.rules]
        self._routes: dict[str, list[Rule]] = {}

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.result.diagnostics

    def constant(self, name: str) -> object:
        """The value of the ``const`` called ``name`` when it is made of literals; KeyError when
        there is no such constant, ValueError when its value is computed."""
        value = constant_value(self.result.constants[name])
        if value is NOT_LITERAL:
            raise ValueError(f"the constant `{name}` is computed, not a literal value")
        return value

    @property
    def files(self) -> list[str]:
        return [f.source.path for f in self.result.files]

    def route(self, event_type: str) -> list[Rule]:
        """The rules that receive ``event_type``; after the first time a dict lookup."""
        rules = self._routes.get(event_type)
        if rules is None:
            rules = [self.rules[i] for i in select(self._table, event_type)]
            if len(self._routes) < _ROUTE_CACHE_MAX:
                self._routes[event_type] = rules
        return rules

    def apply(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """The Inngest events for one Dodo body; empty when no rule matches or the rule drops it."""
        # the hot path: a cached route is one dict lookup; anything else takes the checked way
        event_type: Any = payload.get("type") if payload.__class__ is dict else None
        rules = self._routes.get(event_type) if event_type.__class__ is str else None
        if rules is None:
            event_type = _event_type(payload)
            rules = self.route(event_type)
        return self._fire(rules, payload, event_type, None)

    def run(self, payload: dict[str, Any]) -> Outcome:
        """Like :meth:`apply`, and also whether any rule received the body and which rules dropped it."""
        event_type = _event_type(payload)
        rules = self.route(event_type)
        dropped: list[Rule] = []
        events = self._fire(rules, payload, event_type, dropped)
        return Outcome(events, bool(rules), rules, dropped)

    @staticmethod
    def _fire(rules: list[Rule], payload: dict[str, Any], event_type: str,
              dropped: list[Rule] | None) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for rule in rules:
            try:
                event = rule.function(payload)
            except Exception as exc:
                raise locate(exc, rule, event_type) from exc
            if event is not None:
                events.append(event)
            elif dropped is not None:
                dropped.append(rule)
        return events

    def explain(self, payload: dict[str, Any]) -> list[Explanation]:
        """Run each receiving rule with tracing: every `let`, assignment and `drop` with its value."""
        event_type = _event_type(payload)
        out = []
        for rule in self.route(event_type):
            traced = generate_trace(rule.compiled)
            gen = traced.generated
            assert gen is not None
            labels = gen.trace_labels[rule.index]
            steps: list[Step] = []
            body = {stmt.span: stmt for stmt in traced.rules[rule.index].rule.body}
            sources = self.result.sources

            def record(i: int, value: Any, _labels: Any = labels, _steps: list[Step] = steps,
                       _body: dict[Span, n.Stmt] = body, _sources: dict[str, SourceFile] = sources) -> None:
                span, label = _labels[i]
                _steps.append(_step(span, label, value, _body.get(span), _sources))

            fn = traced.functions[rule.index]
            try:
                event = fn(payload, record)
                out.append(Explanation(rule, steps, event))
            except Exception as exc:
                err = locate(exc, Rule(rule.file, rule.index, rule.line, rule.patterns, rule.also, fn, traced),
                             event_type)
                out.append(Explanation(rule, steps, None, err))
        return out


def _step(span: Span, label: str, value: Any, stmt: n.Stmt | None, sources: dict[str, SourceFile]) -> Step:
    """One traced statement, with where its text, its group and its constants were written."""

    def text(sp: Span) -> str:
        src = sources.get(sp.file)
        if src is None:
            return ""
        return " ".join(src.line_text(ln).strip() for ln in range(sp.line, sp.end_line + 1))

    origin = consts = None
    if stmt is not None and stmt.origin is not None:
        where = stmt.origin
        origin = f"{'defaults' if where.group is None else 'group ' + where.group} ({where.span.file}:{where.span.line})"
    if stmt is not None and stmt.consts:
        consts = tuple(f"{text(sp).removeprefix('const ').strip()} ({sp.file}:{sp.line})" for _, sp in stmt.consts)
    return Step(span, label, text(span), value, origin, consts or ())


def _event_type(payload: Any) -> str:
    if type(payload) is not dict:
        raise MappingError(f"the webhook body must be a JSON object, got {show(payload)}")
    event_type = payload.get("type")
    if type(event_type) is not str:
        raise MappingError(f"the webhook body has no string `type` field (got {show(event_type)})",
                           input_path="type")
    return event_type


def locate(exc: BaseException, rule: Rule, event_type: str) -> MappingError:
    """Turn an exception raised inside generated code into a MappingError at its `.map` span."""
    if isinstance(exc, MappingError):
        return exc
    gen = rule.compiled.generated
    site = _site_from_traceback(exc.__traceback__, gen) if gen else None
    if isinstance(exc, Fault):
        message, hint = exc.message, exc.hint
    elif isinstance(exc, RecursionError):
        message, hint = "the value is nested too deeply to process", None
    else:
        message, hint = f"internal error ({type(exc).__name__}: {exc})", "please report this with the mapping and event"
    if site is None:
        return MappingError(message, span=Span(rule.file, rule.line, 1, rule.line, 1), event_type=event_type, hint=hint)
    return MappingError(message, span=site.span, field=site.field, input_path=site.input_path, event_type=event_type, hint=hint)


def _site_from_traceback(tb: types.TracebackType | None, gen: GeneratedModule) -> Site | None:
    site = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == gen.filename:
            lineno = tb.tb_lineno
            if 0 < lineno <= len(gen.sites):
                site = gen.sites[lineno - 1]
        tb = tb.tb_next
    return site


def load_text(text: str, path: str = "<text>", schema: InputSchema | None = None) -> MappingSet:
    """Compile mapping source held in memory (tests, playgrounds); same errors as :func:`load`."""
    diags = Diagnostics()
    compiled = compile_text(text, path, diags, schema)
    check_routing([compiled], diags, schema)
    result = CompileResult([compiled], diags.sorted())
    if not result.ok:
        errors = result.errors
        raise CompileError(list(errors), render_text(errors, result.sources) + "\n" + summary(errors, 1))
    return MappingSet(result)


def load(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
         schema: InputSchema | None = None, *, allow: Collection[str] = ()) -> MappingSet:
    """Compile a `.map` file or a directory of them; raise CompileError listing every error.

    ``allow``: diagnostic codes (Inngest-contract checks, see ``dsl.compiler.ALLOWABLE``) reported
    as warnings instead of errors, e.g. ``{"M405"}`` for the tests' literal seed translations.
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    result = compile_paths(paths, schema, allow=allow)
    if not result.ok:
        errors = result.errors
        rendered = render_text(errors, result.sources) + "\n" + summary(errors, len(result.files))
        raise CompileError(list(errors), rendered)
    return MappingSet(result)
