"""Constants and shared statements: ``const``, ``group``, ``defaults`` and ``use``.

Resolved on the AST before checking, so the checker and every code generator see plain rules:

* each rule's body gets the statements it shares written into it -- the file's ``defaults`` first,
  each ``use``d group where the ``use`` line is -- as copies that remember where they were written
  (:class:`dsl.nodes.Origin`); a shared assignment is left out when a closer one sets the same field
  (or an object containing it): the rule's own lines beat the groups it uses, a group's own lines
  beat the groups it uses, a later ``use`` beats an earlier one, and anything beats ``defaults``;
* every name of a constant is replaced by a copy of its value (constants may use other constants,
  never the event), and the statement remembers which constants it read.

Constants and groups are shared by all the files compiled together (a directory); the checker
then checks every rule, shared lines included, against the event types that rule receives.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from dsl import nodes as n
from dsl.diagnostics import SPLIT_HELP, Diagnostics, suggest
from dsl.source import Span

ENVELOPE_ROOTS = frozenset({"business_id", "type", "timestamp", "data"})


@dataclass(slots=True)
class Declarations:
    """Every ``const`` and named ``group`` of the files compiled together."""

    consts: dict[str, n.Const] = field(default_factory=dict)
    groups: dict[str, n.Group] = field(default_factory=dict)
    values: dict[str, n.Expr] = field(default_factory=dict)  # each constant, other constants inlined
    used: set[str] = field(default_factory=set)  # group names some `use` line names


DiagsFor = Callable[[str], Diagnostics]


def declarations(modules: Sequence[n.Module], diags_for: DiagsFor) -> Declarations:
    """Collect the constants and groups of ``modules``; report names declared twice and bad constants."""
    decl = Declarations()
    for module in modules:
        for const in module.consts:
            first = decl.consts.get(const.name)
            if first is not None:
                diags_for(const.span.file).error(
                    "M130", const.name_span, f"the constant `{const.name}` is already declared at {_at(first.span)}",
                    help="each constant is declared once, in one file; the files compiled together share it")
            elif const.name in ENVELOPE_ROOTS:
                diags_for(const.span.file).error(
                    "M130", const.name_span, f"`{const.name}` is a field of the webhook body; a constant may not hide it",
                    help="choose another name")
            else:
                decl.consts[const.name] = const
        defaults = [g for g in module.groups if g.name is None]
        for extra in defaults[1:]:
            diags_for(extra.span.file).error(
                "M131", extra.span, f"this file already has `defaults` at line {defaults[0].span.line}",
                help="put every shared line of the file under one `defaults`")
        for group in module.groups:
            if group.name is None:
                continue
            assert group.name_span is not None
            first_group = decl.groups.get(group.name)
            if first_group is not None:
                diags_for(group.span.file).error(
                    "M131", group.name_span,
                    f"the group `{group.name}` is already declared at {_at(first_group.span)}",
                    help="choose another name; the files compiled together share their groups")
            else:
                decl.groups[group.name] = group
        for stmt in _all_statements(module):
            if isinstance(stmt, n.Use):
                decl.used.update(stmt.names)
    _resolve_consts(decl, diags_for)
    return decl


def _all_statements(module: n.Module) -> Iterable[n.Stmt]:
    for rule in module.rules:
        # as written: a module expanded before (the playground's cache) has its `use` lines replaced
        yield from rule.written if rule.written is not None else rule.body
    for group in module.groups:
        yield from group.body


def _at(span: Span) -> str:
    return f"{span.file}:{span.line}"


def _resolve_consts(decl: Declarations, diags_for: DiagsFor) -> None:
    state: dict[str, str] = {}  # "busy" while resolving, "done" after

    def resolve(name: str) -> n.Expr:
        const = decl.consts[name]
        if state.get(name) == "done":
            return decl.values[name]
        state[name] = "busy"
        diags = diags_for(const.span.file)

        def replace(e: n.Name) -> n.Expr:
            if e.name in decl.consts:
                if state.get(e.name) == "busy":
                    diags.error("M130", e.span, f"the constant `{name}` depends on itself through `{e.name}`",
                                help="give one of them a literal value")
                    return n.Literal(e.span, None)
                return copy.deepcopy(resolve(e.name))
            guess = suggest(e.name, decl.consts)
            diags.error("M130", e.span, f"the constant `{name}` reads `{e.name}`, which is not a constant",
                        help=(f"did you mean `{guess}`? " if guess else "")
                        + "a constant's value is the same for every event: literals, other constants and "
                          "functions of them; read the event in the rules")
            return n.Literal(e.span, None)

        try:
            value = _substitute(copy.deepcopy(const.value), replace, frozenset(), [])
        except RecursionError:  # deeper than copying can go, though the parser could read it
            diags.error("M105", const.span, f"the constant `{name}` is nested too deeply to use", help=SPLIT_HELP)
            value = n.Literal(const.value.span, None)
        decl.values[name] = value
        state[name] = "done"
        return value

    for name in decl.consts:
        resolve(name)


def _substitute(e: n.Expr, replace: Callable[[n.Name], n.Expr], bound: frozenset[str],
                seen: list[str]) -> n.Expr:
    """``e`` with every free name that ``replace`` resolves replaced (``x ->`` parameters are bound)."""
    if isinstance(e, n.Name):
        if e.name in bound:
            return e
        out = replace(e)
        if out is not e:
            seen.append(e.name)
        return out

    def sub(x: n.Expr) -> n.Expr:
        return _substitute(x, replace, bound, seen)

    # copy on write: the parsed tree stays as written, so a module can be expanded again (the
    # playground re-expands cached files when a constant or a group changes)
    e = copy.copy(e)
    if isinstance(e, n.ListExpr):
        e.items = [sub(x) for x in e.items]
    elif isinstance(e, n.ObjectExpr):
        entries = [copy.copy(entry) for entry in e.entries]
        for entry in entries:
            entry.value = sub(entry.value)
        e.entries = entries
    elif isinstance(e, n.Field | n.Index):
        e.obj = sub(e.obj)
    elif isinstance(e, n.Project):
        e.base = sub(e.base)
        e.each = sub(e.each)
    elif isinstance(e, n.Unary):
        e.operand = sub(e.operand)
    elif isinstance(e, n.Binary):
        e.left, e.right = sub(e.left), sub(e.right)
    elif isinstance(e, n.IfExpr):
        e.cond, e.then, e.otherwise = sub(e.cond), sub(e.then), sub(e.otherwise)
    elif isinstance(e, n.Match):
        if e.subject is not None:
            e.subject = sub(e.subject)
        arms = [copy.copy(arm) for arm in e.arms]
        for arm in arms:
            if arm.pattern is not None:
                arm.pattern = sub(arm.pattern)
            arm.value = sub(arm.value)
        e.arms = arms
    elif isinstance(e, n.Lambda):
        e.body = _substitute(e.body, replace, bound | {e.param}, seen)
    elif isinstance(e, n.Call):
        e.args = [sub(a) for a in e.args]
    return e


# --- rules ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    stmt: n.Stmt
    rank: tuple[bool, int, int]  # (from defaults, depth of `use`, -position): smaller wins
    source: int  # which expansion the statement comes from: 0 is the rule itself


class _Expander:
    def __init__(self, decl: Declarations, diags: Diagnostics) -> None:
        self.decl = decl
        self.diags = diags
        self.entries: list[_Entry] = []
        self.expanded: set[str] = set()  # a group is written into a rule once
        self.sources = 0

    def block(self, body: Sequence[n.Stmt], *, defaults: bool, depth: int, origin: n.Origin | None,
              stack: tuple[str, ...]) -> None:
        self.sources += 1
        source = 0 if origin is None else self.sources
        for stmt in body:
            if isinstance(stmt, n.Use):
                for name, span in zip(stmt.names, stmt.name_spans, strict=True):
                    self.use(name, span, defaults=defaults, depth=depth + 1, stack=stack)
                continue
            if origin is not None:
                try:
                    stmt = copy.deepcopy(stmt)
                except RecursionError:  # deeper than copying can go, though the parser could read it
                    self.diags.error("M105", stmt.span, "this statement is nested too deeply to share",
                                     help=SPLIT_HELP)
                    continue
                stmt.origin = origin
            self.entries.append(_Entry(stmt, (defaults, depth, -len(self.entries)), source))

    def use(self, name: str, span: Span, *, defaults: bool, depth: int, stack: tuple[str, ...]) -> None:
        group = self.decl.groups.get(name)
        if group is None:
            guess = suggest(name, self.decl.groups)
            known = ", ".join(f"`{g}`" for g in sorted(self.decl.groups))
            self.diags.error("M131", span, f"there is no group `{name}`",
                             help=f"did you mean `{guess}`?" if guess else
                             (f"the groups are {known}" if known else
                              "declare it with a `group " + name + "` line followed by its statements"))
            return
        if name in stack:
            self.diags.error("M131", span, f"the group `{name}` uses itself (" + " → ".join([*stack, name]) + ")",
                             help="a group may use other groups, but not in a circle")
            return
        if name in self.expanded:
            return
        self.expanded.add(name)
        self.block(group.body, defaults=defaults, depth=depth, origin=n.Origin(name, group.span),
                   stack=(*stack, name))


def expand_module(module: n.Module, decl: Declarations, diags: Diagnostics) -> None:
    """Write shared statements and constants into every rule of ``module`` (in place)."""
    defaults = next((g for g in module.groups if g.name is None), None)
    for group in module.groups:
        if group.name is not None and group.name not in decl.used and decl.groups.get(group.name) is group:
            assert group.name_span is not None
            diags.warning("M605", group.name_span, f"the group `{group.name}` is never used",
                          help=f"add `use {group.name}` to the rules that share these lines, or remove the group")
        if group.name is not None and not group.body:
            diags.warning("M503", group.span, f"the {group.label} has no statements",
                          help="write the shared lines under it, or remove it")
    for rule in module.rules:
        if rule.written is None:
            rule.written = rule.body  # expanding again starts from the rule as written
        ex = _Expander(decl, diags)
        if defaults is not None and not any(isinstance(s, n.Drop) and s.cond is None for s in rule.written):
            ex.block(defaults.body, defaults=True, depth=1, origin=n.Origin(None, defaults.span), stack=())
        ex.block(rule.written, defaults=False, depth=0, origin=None, stack=())
        rule.body = [_inline_consts(e.stmt, decl, diags) for e in _winners(ex.entries)]


def _winners(entries: list[_Entry]) -> list[_Entry]:
    """The entries left once each shared assignment a closer one overrides is taken out."""
    assigns = [e for e in entries if isinstance(e.stmt, n.Assign)]
    out = []
    for e in entries:
        stmt = e.stmt
        if isinstance(stmt, n.Assign) and e.source != 0 and any(
                o is not e and o.source != e.source and o.rank < e.rank and _covers(o.stmt, stmt)
                for o in assigns):
            continue
        out.append(e)
    return out


def _covers(winner: n.Stmt, loser: n.Assign) -> bool:
    """Whether ``winner`` sets ``loser``'s field or an object containing it."""
    return isinstance(winner, n.Assign) and loser.target[: len(winner.target)] == winner.target


def _inline_consts(stmt: n.Stmt, decl: Declarations, diags: Diagnostics) -> n.Stmt:
    if not decl.consts:
        return stmt
    seen: list[str] = []

    def replace(e: n.Name) -> n.Expr:
        value = decl.values.get(e.name)
        return e if value is None else copy.deepcopy(value)

    stmt = copy.copy(stmt)  # the rule's own statement stays as written
    if isinstance(stmt, n.Let):
        if stmt.name in decl.consts:
            diags.error("M204", stmt.name_span,
                        f"`{stmt.name}` is a constant (declared at {_at(decl.consts[stmt.name].span)}); "
                        "a `let` may not hide it", help="choose another name")
        stmt.value = _substitute(stmt.value, replace, frozenset(), seen)
    elif isinstance(stmt, n.Assign):
        stmt.value = _substitute(stmt.value, replace, frozenset(), seen)
    elif isinstance(stmt, n.Drop) and stmt.cond is not None:
        stmt.cond = _substitute(stmt.cond, replace, frozenset(), seen)
    if seen:
        stmt.consts = tuple((name, decl.consts[name].span) for name in dict.fromkeys(seen))
    return stmt


def constant_value(value: n.Expr) -> object:
    """A constant's value when it is made of literals, lists, objects and ``&`` (e.g. for the test
    runner's ``name_prefix``); :data:`NOT_LITERAL` for anything that needs the runtime."""
    if isinstance(value, n.Literal):
        return value.value
    if isinstance(value, n.Binary) and value.op == "&":
        left, right = constant_value(value.left), constant_value(value.right)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
    if isinstance(value, n.ListExpr):
        items = [constant_value(x) for x in value.items]
        return NOT_LITERAL if any(x is NOT_LITERAL for x in items) else items
    if isinstance(value, n.ObjectExpr):
        entries = {e.key: constant_value(e.value) for e in value.entries}
        return NOT_LITERAL if any(x is NOT_LITERAL for x in entries.values()) else entries
    return NOT_LITERAL


NOT_LITERAL = object()
