"""The AST: what the parser builds and the checker and code generator read. Every node has a span."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from dsl.source import Span

LiteralValue = str | int | Decimal | bool | None


@dataclass(eq=False, slots=True)
class Expr:
    span: Span


@dataclass(eq=False, slots=True)
class Literal(Expr):
    value: LiteralValue


@dataclass(eq=False, slots=True)
class ListExpr(Expr):
    items: list[Expr]


@dataclass(eq=False, slots=True)
class ObjectEntry:
    key: str
    key_span: Span
    value: Expr


@dataclass(eq=False, slots=True)
class ObjectExpr(Expr):
    entries: list[ObjectEntry]


@dataclass(eq=False, slots=True)
class Name(Expr):
    """A bare name: a ``let``, a ``x ->`` parameter, or a top-level input field (resolved by the checker)."""

    name: str


@dataclass(eq=False, slots=True)
class Element(Expr):
    """The current element inside a ``[*]`` projection (no source text of its own)."""


@dataclass(eq=False, slots=True)
class Field(Expr):
    obj: Expr
    name: str
    name_span: Span


@dataclass(eq=False, slots=True)
class Index(Expr):
    obj: Expr
    index: int


@dataclass(eq=False, slots=True)
class Project(Expr):
    """``base[*]`` followed by ``each`` (an expression over :class:`Element`) for every element."""

    base: Expr
    each: Expr


@dataclass(eq=False, slots=True)
class Unary(Expr):
    op: str  # "-" | "not"
    operand: Expr


@dataclass(eq=False, slots=True)
class Binary(Expr):
    op: str  # + - * / % & == != < <= > >= and or ??
    left: Expr
    right: Expr
    op_span: Span


@dataclass(eq=False, slots=True)
class IfExpr(Expr):
    cond: Expr
    then: Expr
    otherwise: Expr


@dataclass(eq=False, slots=True)
class Arm:
    pattern: Expr | None  # None is the default arm `_`
    value: Expr
    span: Span


@dataclass(eq=False, slots=True)
class Match(Expr):
    subject: Expr | None
    arms: list[Arm]


@dataclass(eq=False, slots=True)
class Lambda(Expr):
    param: str
    param_span: Span
    body: Expr


@dataclass(eq=False, slots=True)
class Call(Expr):
    func: str
    func_span: Span
    args: list[Expr]


# statements ---------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class Origin:
    """Where a statement of a rule was written when it is not the rule's own: a group or the file's
    defaults (set by :mod:`dsl.shared`; ``paymap run --explain`` shows it)."""

    group: str | None  # None: the file's `defaults`
    span: Span  # the `group NAME` / `defaults` line


@dataclass(eq=False, slots=True)
class Stmt:
    span: Span
    # set on the statements dsl.shared copies into a rule: the group they come from, and the
    # constants their expressions read (name, the `const` line)
    origin: Origin | None = field(default=None, kw_only=True)
    consts: tuple[tuple[str, Span], ...] = field(default=(), kw_only=True)


@dataclass(eq=False, slots=True)
class Let(Stmt):
    name: str
    name_span: Span
    value: Expr


@dataclass(eq=False, slots=True)
class Assign(Stmt):
    target: tuple[str, ...]
    target_span: Span
    value: Expr

    @property
    def target_text(self) -> str:
        return ".".join(self.target)


@dataclass(eq=False, slots=True)
class Drop(Stmt):
    cond: Expr | None


@dataclass(eq=False, slots=True)
class Use(Stmt):
    """``use customer, envelope``: the statements of these groups, here (expanded by dsl.shared)."""

    names: list[str]
    name_spans: list[Span]


@dataclass(eq=False, slots=True)
class Const:
    """``const prefix = "dodo/"``: a value every file compiled together can read by its name."""

    name: str
    name_span: Span
    value: Expr
    span: Span


@dataclass(eq=False, slots=True)
class Group:
    """``group NAME`` (or ``defaults``, with no name) and the statements under it, shared by rules."""

    name: str | None  # None: the file's `defaults`, which every rule of the file uses first
    span: Span  # the header line
    body: list[Stmt] = field(default_factory=list)
    name_span: Span | None = None

    @property
    def label(self) -> str:
        return "defaults" if self.name is None else f"group {self.name}"


@dataclass(eq=False, slots=True)
class Pattern:
    text: str
    span: Span


@dataclass(eq=False, slots=True)
class Rule:
    patterns: list[Pattern]
    also: bool
    span: Span  # the `on` line
    body: list[Stmt] = field(default_factory=list)
    index: int = 0  # position within its file

    @property
    def label(self) -> str:
        return ", ".join(f'"{p.text}"' for p in self.patterns)


@dataclass(eq=False, slots=True)
class InputDecl:
    """``input schema "shop.schema.json"`` / ``input samples "samples/shop/"``: what the file reads."""

    kind: str  # "schema" | "samples"
    path: str  # as written: relative to the .map file's directory
    span: Span
    path_span: Span


@dataclass(eq=False, slots=True)
class Module:
    file: str
    rules: list[Rule]
    inputs: list[InputDecl] = field(default_factory=list)
    consts: list[Const] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)  # `defaults` included, as a group without a name


def path_text(expr: Expr) -> str | None:
    """``data.customer.email`` for a pure input path, else None (used in messages)."""
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, Element):
        return ""
    if isinstance(expr, Field):
        base = path_text(expr.obj)
        if base is None:
            return None
        key = expr.name if expr.name.isidentifier() else f'"{expr.name}"'
        return f"{base}.{key}" if base else key
    if isinstance(expr, Index):
        base = path_text(expr.obj)
        return None if base is None else f"{base}[{expr.index}]"
    if isinstance(expr, Project):
        base = path_text(expr.base)
        each = path_text(expr.each)
        if base is None or each is None:
            return None
        return f"{base}[*]" + (f".{each}" if each and not each.startswith("[") else each)
    return None
