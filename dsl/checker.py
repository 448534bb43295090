"""Checks on the AST: names, functions and arity, argument and operator types, boolean
conditions, input paths against the input schema, output targets against the Inngest event
contract. Produces the facts the code generator needs (how each name resolves, each
expression's static type).

Two passes over every module:

* the **checking** pass uses the input schema (Dodo's by default) and reports diagnostics: an
  unknown field, a value that may be null where one is needed, text passed to ``cents`` ...;
* the **facts** pass types every input path as the bare envelope would (anything, maybe absent),
  and its types are what the code generator relies on -- a delivery that breaks the schema's
  promises must still never crash generated code (see :class:`dsl.schema.SoundSchema`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from dsl import nodes as n
from dsl import types as T
from dsl.builtins import BUILTINS, Builtin, Param
from dsl.diagnostics import SPLIT_HELP, Diagnostics, Fix, Severity, suggest
from dsl.habits import JS_FUNCTIONS, JS_ROOTS
from dsl.routing import best_specificity
from dsl.schema import (
    EnvelopeSchema,
    InputSchema,
    PathInfo,
    Segment,
    SoundSchema,
    path_text,
)
from dsl.source import Span
from dsl.visitor import NodeVisitor
from prelude.functions import ROUNDING_MODES

EVENT_FIELDS = ("name", "data", "user", "id", "ts", "v")
_LEAF_FIELDS = {"name", "id", "ts", "v"}
_TS_MIN_MS = 315_532_800_000  # 1980-01-01: Inngest refuses anything earlier
_TS_MAX_MS = 4_102_444_800_000  # 2100-01-01: and anything later
_STATIC_LIMIT = 256  # most names a rule's `name` is worked out to before giving up

_FUNCTION_ALIASES = {
    "toFixed": "cents", "tofixed": "cents", "fixed": "cents", "to_fixed": "cents",
    "now": None, "date": "iso", "timestamp": "epoch_ms", "epochms": "epoch_ms", "epoch_millis": "epoch_ms",
    "lowercase": "lower", "uppercase": "upper", "length": "len", "size": "len", "count": "len",
    "str": "string", "to_string": "string", "tostring": "string", "number": "decimal", "float": "decimal",
    "to_int": "int", "integer": "int", "default": "coalesce", "ifnull": "coalesce", "nvl": "coalesce",
    "concat": None, "strip": "trim", "hash": "sha256", "jmespath": "query", "has": "exists",
}
_STATIC_FUNCTIONS: dict[str, Callable[[str], str]] = {
    "lower": lambda s: s.lower(), "upper": lambda s: s.upper(), "trim": lambda s: s.strip(),
}
_NAME_CHARS = re.compile(r"[A-Za-z0-9._/:\-]+\Z")


@dataclass(frozen=True, slots=True)
class Resolution:
    kind: str  # "input" | "let" | "param" | "element"
    name: str


@dataclass(slots=True)
class _Alias:
    """An input path a name stands for, so `c.email` after `let c = data.customer` is checked too."""

    root: str
    segments: list[Segment]
    spans: list[Span]
    info: PathInfo | None = None


_Visit = tuple[T.Ty, _Alias | None]  # what visiting an expression gives: its type, the input path it reads


@dataclass(slots=True)
class CheckedRule:
    rule: n.Rule
    event_types: frozenset[str] | None
    targets: list[tuple[str, ...]] = field(default_factory=list)
    # the event names this rule can produce, when they can be worked out (None: computed)
    names: frozenset[str] | None = None
    name_span: Span | None = None  # where `name` is assigned
    drops: bool = False  # an unconditional `drop`: the rule ignores its events on purpose


@dataclass(slots=True)
class Facts:
    """What the checker learned, keyed by node identity, for the code generator."""

    names: dict[int, Resolution] = field(default_factory=dict)
    types: dict[int, T.Ty] = field(default_factory=dict)
    input_paths: dict[int, str] = field(default_factory=dict)


def effective_types(rules: Sequence[tuple[n.Rule, InputSchema]]) -> dict[int, frozenset[str]]:
    """For each rule (in load order, with the schema it reads): the known event types it really
    receives. A main rule loses the types a more specific main rule claims (`"credit.*"` does not
    receive `credit.balance_low` when `on "credit.balance_low"` exists), and ties go to the first
    loaded, as at run time. Rules whose schema knows no event types are left out."""
    mains = [(r, [p.text for p in r.patterns]) for r, _ in rules if not r.also]
    owners: dict[str, n.Rule | None] = {}  # each event type's owner, worked out once: linear in rules

    def owner(event_type: str) -> n.Rule | None:
        if event_type not in owners:
            best: n.Rule | None = None
            best_s: tuple[int, int] | None = None
            for other, patterns in mains:
                sp = best_specificity(patterns, event_type)
                if sp is not None and (best_s is None or sp > best_s):
                    best, best_s = other, sp
            owners[event_type] = best
        return owners[event_type]

    out: dict[int, frozenset[str]] = {}
    for rule, schema in rules:
        matched = schema.event_types([p.text for p in rule.patterns])
        if matched is None:
            continue
        if rule.also:
            out[id(rule)] = matched
            continue
        mine = [t for t in matched if owner(t) is rule]
        # a rule every known type of which is taken may still receive types the schema does not
        # know yet: check it against what its patterns match rather than against nothing
        out[id(rule)] = frozenset(mine) if mine else matched
    return out


def suggest_pattern(pattern: str, known: Iterable[str]) -> str | None:
    """The known event type (or `family.*`) an unmatched ``on`` pattern probably meant."""
    ranked = rank_patterns(pattern, known)
    return ranked[0][1] if ranked else None


def rank_patterns(pattern: str, known: Iterable[str], cutoff: float = 0.6) -> list[tuple[float, str]]:
    """Known event types (and `family.*`) close to ``pattern``, best first, scored segment by
    segment, the family first: `payment.success` is nearer `payment.succeeded` than
    `payout.success`, although the whole texts are about as close."""
    known = list(known)
    families = sorted({t.split(".", 1)[0] for t in known})
    wild = [f"{f}.*" for f in families]
    lowered = pattern.lower().strip()
    if lowered != pattern and any(p == lowered for p in known + wild):
        return [(1.0, lowered)]
    candidates = wild if "*" in pattern else known + wild
    segs = lowered.split(".")
    scored = []
    for cand in candidates:
        csegs = cand.split(".")
        if len(csegs) == len(segs):
            ratios = [difflib.SequenceMatcher(None, a, b).ratio() for a, b in zip(segs, csegs, strict=True)]
            # the family (`payment`) is rarely what is misspelt: it weighs twice what follows
            score = (ratios[0] + sum(ratios)) / (len(ratios) + 1) if min(ratios) >= 0.6 else 0.0
        else:
            score = 0.8 * difflib.SequenceMatcher(None, lowered, cand).ratio()
        if score >= cutoff:
            scored.append((score, cand))
    if not scored and "*" in pattern:
        head = lowered.split("*", 1)[0].rstrip(".")
        scored = [(cutoff, f"{f}.*") for f in families if suggest(head, [f])][:1]
    return sorted(scored, key=lambda sc: (-sc[0], sc[1]))


class _RuleDiags(Diagnostics):
    """The checker's diagnostics for one rule: a warning repeated in the rule is reported once."""

    def __init__(self, target: Diagnostics) -> None:
        super().__init__()
        self.items = target.items
        self._seen: set[tuple[str, str, Span | None]] = set()
        self.via: str | None = None  # on a shared line: which rule it was checked for

    def _add(self, code: str, severity: Severity, span: Span, message: str,
             help: str | None, label: str | None, fix: Fix | None) -> None:
        key = (code, message, None if severity is Severity.WARNING else span)
        if key in self._seen:
            return
        self._seen.add(key)
        if self.via is not None:
            label = f"{label} ({self.via})" if label else self.via
        super()._add(code, severity, span, message, help, label, fix)


class _Targets:
    """The fields a rule assigns, indexed so that each new assignment is checked against all the
    earlier ones in time proportional to its own length (a 50,000-line file stays linear)."""

    def __init__(self) -> None:
        self.order: list[n.Assign] = []
        self.first: dict[tuple[str, ...], tuple[int, n.Assign]] = {}  # a target's first assignment
        self.under: dict[tuple[str, ...], tuple[int, n.Assign]] = {}  # first assignment below a prefix

    def add(self, stmt: n.Assign) -> None:
        entry = (len(self.order), stmt)
        self.order.append(stmt)
        self.first.setdefault(stmt.target, entry)
        for k in range(1, len(stmt.target)):
            self.under.setdefault(stmt.target[:k], entry)

    def earlier(self, target: tuple[str, ...]) -> n.Assign | None:
        """The earliest assignment to ``target``, to a field above it or to one below it."""
        hits = [self.first.get(target[:k]) for k in range(1, len(target) + 1)]
        hits.append(self.under.get(target))
        found = [h for h in hits if h is not None]
        return min(found, key=lambda h: h[0])[1] if found else None


class _Scope:
    def __init__(self) -> None:
        self.lets: dict[str, tuple[n.Let, T.Ty, _Alias | None]] = {}
        self.used: set[str] = set()
        self.params: list[tuple[str, T.Ty, _Alias | None]] = []


class Checker(NodeVisitor[_Visit]):
    def __init__(self, diags: Diagnostics, schema: InputSchema | None = None, source: str | None = None) -> None:
        self.diags = diags
        self.source = source  # the file's text, for the replacement text of fixes
        self.schema: InputSchema = schema or EnvelopeSchema()
        self.facts = Facts()
        self._event_types: frozenset[str] | None = None
        self._wildcard = False
        self._scope = _Scope()
        self._routes: dict[int, frozenset[str]] = {}
        self._aliases: dict[int, _Alias] = {}
        self._warned_absent: set[int] = set()

    # --- rules ----------------------------------------------------------------------------
    def check_module(self, module: n.Module,
                     routes: dict[int, frozenset[str]] | None = None) -> list[CheckedRule]:
        """Check every rule. ``routes`` maps ``id(rule)`` to the event types the rule really
        receives once other files' rules are taken into account (see :func:`effective_types`);
        without it, precedence is worked out within this module only."""
        if routes is None:
            routes = effective_types([(r, self.schema) for r in module.rules])
        self._routes = routes
        rules = [self.check_rule(r) for r in module.rules]
        # the code generator gets the facts of a pass that trusts nothing below the envelope
        sound = Checker(Diagnostics(), SoundSchema(self.schema))
        for r in module.rules:
            sound.check_rule(r)
        self.facts = sound.facts
        return rules

    def check_rule(self, rule: n.Rule) -> CheckedRule:
        outer = self.diags
        self.diags = _RuleDiags(outer)
        try:
            return self._check_rule(rule)
        finally:
            self.diags = outer

    def _check_rule(self, rule: n.Rule) -> CheckedRule:
        guesses = [g for p in rule.patterns if (g := self._check_pattern(p))]
        event_types = self._routes.get(id(rule)) if id(rule) in self._routes else \
            self.schema.event_types([p.text for p in rule.patterns])
        if not event_types and guesses:
            # a misspelt pattern: check the body against what was meant, so all mistakes show at once
            event_types = self.schema.event_types(guesses)
        checked = CheckedRule(rule, event_types)
        self._event_types = event_types
        self._wildcard = any("*" in p.text for p in rule.patterns)
        scope = _Scope()
        self._scope = scope
        targets = _Targets()
        unconditional_drop = False
        if not rule.body and not rule.partial:
            self.diags.warning("M503", rule.span, f"the rule for {rule.label} has no statements",
                               help="add assignments such as `name = \"...\"`, or `drop` to ignore these events")
        for stmt in rule.body:
            if isinstance(self.diags, _RuleDiags):
                self.diags.via = None if stmt.origin is None else \
                    f"in the rule at {rule.span.file}:{rule.span.line}, from " + \
                    ("its file's defaults" if stmt.origin.group is None else f"group {stmt.origin.group}")
            try:
                unconditional_drop |= self._check_stmt(stmt, checked, scope, targets)
            except RecursionError:
                self.diags.error("M105", stmt.span, "this statement is nested too deeply to check",
                                 help=SPLIT_HELP)
        if isinstance(self.diags, _RuleDiags):
            self.diags.via = None
        self._finish_rule(rule, checked, scope, targets, unconditional_drop)
        return checked

    def _check_stmt(self, stmt: n.Stmt, checked: CheckedRule, scope: _Scope, targets: _Targets) -> bool:
        """Check one statement; True for an unconditional `drop`."""
        if isinstance(stmt, n.Let):
            ty, alias = self._expr_alias(stmt.value)
            if stmt.name in scope.lets:
                self.diags.error("M204", stmt.name_span, f"`{stmt.name}` is already defined in this rule",
                                 help="choose another name")
            elif stmt.name in self.schema.roots():
                self.diags.error("M204", stmt.name_span,
                                 f"`{stmt.name}` is an input field; a `let` may not hide it",
                                 help="choose another name")
            elif stmt.name in BUILTINS:
                self.diags.warning("M204", stmt.name_span, f"`{stmt.name}` is also the name of a function")
            scope.lets[stmt.name] = (stmt, ty, alias)
        elif isinstance(stmt, n.Assign):
            ty, alias = self._expr_alias(stmt.value)
            self._check_target(stmt, ty, alias, targets)
            if stmt.target == ("name",) and checked.name_span is None:
                checked.name_span = stmt.value.span
                checked.names = self._static_strings(stmt.value)
            targets.add(stmt)
        elif isinstance(stmt, n.Drop):
            if stmt.cond is None:
                return True
            self._condition(stmt.cond, "the `drop if` condition")
        return False

    def _finish_rule(self, rule: n.Rule, checked: CheckedRule, scope: _Scope, targets: _Targets,
                     unconditional_drop: bool) -> None:
        for name, (let, _ty, _alias) in scope.lets.items():
            if name not in scope.used and not rule.partial:
                self.diags.warning("M600", let.name_span, f"`{name}` is defined but never used",
                                   help=f"remove the `let {name}` line, or use `{name}` in an assignment")
        if not unconditional_drop and rule.body and ("name",) not in targets.first and not rule.partial:
            self.diags.error("M403", rule.span, f"the rule for {rule.label} does not set the event `name`",
                             help='add a line such as `name = "payment.succeeded"`; Inngest refuses events without one')
        checked.targets = [a.target for a in targets.order]
        checked.drops = unconditional_drop
        if unconditional_drop:
            checked.names = frozenset()

    def _check_pattern(self, p: n.Pattern) -> str | None:
        """Report a bad pattern; return the pattern it most likely meant, if one is close."""
        text = p.text
        if not text:
            self.diags.error("M501", p.span, "an empty event type pattern matches nothing")
        elif any(c in text for c in "[]?{}") or "**" in text:
            self.diags.error("M501", p.span, f"`{text}` uses pattern syntax that is not supported",
                             help='only `*` is special: `"dispute.*"` matches every dispute event')
        elif any(c.isspace() for c in text):
            self.diags.error("M501", p.span, f"event type pattern `{text}` contains white space")
        else:
            known = getattr(self.schema, "known_types", ())
            matched = self.schema.event_types([text])
            if known and matched is not None and not matched:
                label = getattr(self.schema, "types_label", "known event type")
                ranked = rank_patterns(text, known)
                guess = ranked[0][1] if ranked else None
                # the rule's fields are checked against the guess only when it clearly wins
                clear = bool(ranked) and (len(ranked) == 1 or ranked[1][0] < ranked[0][0] - 0.08)
                if guess and not clear:
                    help = f'did you mean "{guess}" or "{ranked[1][1]}"?'
                elif guess:
                    help = f'did you mean "{guess}"?'
                elif len(known) <= 8:
                    help = "the known event types are " + ", ".join(f'"{k}"' for k in known)
                else:
                    help = "`paymap check --coverage` lists every known event type"
                message = f"the pattern `{text}` matches no {label}" if "*" in text else \
                    f"`{text}` is not a{'n' if label[0] in 'aeiouAEIOU' else ''} {label}"
                fix = Fix(p.span, f'"{guess}"', f'replace with "{guess}"') if guess else None
                self.diags.error("M500", p.span, message, label="no such event", help=help, fix=fix)
                return guess if clear else None
        return None

    def _check_target(self, stmt: n.Assign, ty: T.Ty, alias: _Alias | None,
                      seen: _Targets) -> None:
        target = stmt.target
        head = target[0]
        text = stmt.target_text
        if head not in EVENT_FIELDS:
            guess = suggest(head, EVENT_FIELDS)
            self.diags.error(
                "M402", stmt.target_span, f"`{head}` is not a field of an Inngest event",
                help=(f"did you mean `{guess}`? " if guess else "")
                + "an event has `name`, `data`, `user`, `id`, `ts` and `v`; put your own fields under `data.`",
            )
            return
        if head in _LEAF_FIELDS and len(target) > 1:
            self.diags.error("M402", stmt.target_span, f"`{head}` is a single value and has no fields",
                             help=f"assign `{head} = ...` directly, or put the value under `data.`")
            return
        prev_stmt = seen.earlier(target)
        if prev_stmt is not None:
            prev = prev_stmt.target
            if prev == target:
                self.diags.error("M400", stmt.target_span,
                                 f"`{text}` is already assigned on line {prev_stmt.span.line}",
                                 help="each field is assigned once; combine the values with `??` or `if ... then ... else ...`")
            else:
                self.diags.error("M401", stmt.target_span,
                                 f"`{text}` overlaps `{'.'.join(prev)}` assigned on line {prev_stmt.span.line}",
                                 help="assign either the whole object or its fields, not both")
            return
        present = T.present(ty)
        value = stmt.value
        if target == ("name",):
            self._check_name(value, present, alias, ty)
        elif target == ("ts",):
            self._check_ts(value, present, alias, ty)
        elif target in (("data",), ("user",)) and present and not present & T.OBJECT:
            self.diags.error("M407", value.span,
                             f"`{head}` must be an object, but this is {T.describe(present)}",
                             help=f"assign fields instead: `{head}.something = ...`")
        elif target in (("id",), ("v",)) and present and not present & T.STRING:
            self.diags.error("M408", value.span, f"`{head}` must be a string, but this is {T.describe(present)}",
                             help="convert it with `string(...)`")
        elif target == ("id",):
            self._maybe_absent(value, alias, ty, "the event `id` is then left out, and Inngest cannot "
                                                 "tell a retried webhook from a new one", through=True)

    def _check_name(self, value: n.Expr, present: T.Ty, alias: _Alias | None, ty: T.Ty) -> None:
        if present and not present & T.STRING:
            self.diags.error("M404", value.span, f"the event name must be a string, not {T.describe(present)}")
            return
        if isinstance(value, n.Literal) and isinstance(value.value, str):
            if not value.value.strip():
                self.diags.error("M404", value.span, "the event name is empty",
                                 help='use a descriptive name such as "payment.succeeded"')
                return
            if value.value.startswith("inngest/"):
                self.diags.error("M404", value.span, "names starting with `inngest/` are reserved by Inngest",
                                 help="choose another prefix, e.g. `dodo/`")
                return
        names = self._static_strings(value)
        if names is not None:
            bad = sorted(x for x in names if x.startswith("inngest/"))
            if bad and not isinstance(value, n.Literal):
                self.diags.error("M404", value.span,
                                 f"this name can be `{bad[0]}`: names starting with `inngest/` are reserved by Inngest",
                                 help="choose another prefix, e.g. `dodo/`")
                return
            if "" in names and not isinstance(value, n.Literal):
                self.diags.error("M404", value.span, "this name can be empty; Inngest refuses an event without one",
                                 help="give every branch a name")
                return
            for name in sorted(names):
                problem = _name_format_problem(name)
                if problem:
                    self.diags.warning("M409", value.span, f"the event name `{name}` {problem}",
                                       help="Inngest functions match event names exactly: use letters, digits "
                                            "and `. _ - / :`, e.g. `dodo/payment.succeeded`")
                    break
        self._maybe_absent(value, alias, ty, "the event then has no `name`, and Inngest refuses it",
                           through=True)

    def _check_ts(self, value: n.Expr, present: T.Ty, alias: _Alias | None, ty: T.Ty) -> None:
        seconds = _seconds_expr(value)
        if isinstance(value, n.Call) and value.func == "epoch":
            better = f"epoch_ms({_source_args(value)})"
            self.diags.error("M405", value.span, "`epoch(...)` gives seconds, but Inngest reads `ts` as milliseconds",
                             label="seconds", help=f"use `{better}`",
                             fix=Fix(value.span, better, f"replace with `{better}`"))
        elif seconds is not None:
            self.diags.error("M405", value.span, "this turns milliseconds into seconds, but Inngest reads `ts` "
                                                 "as milliseconds", label="seconds",
                             help=f"use the milliseconds as they are: `ts = {seconds}`",
                             fix=Fix(value.span, seconds, f"replace with `{seconds}`"))
        elif isinstance(value, n.Literal) and type(value.value) is int and 0 < value.value < _TS_MIN_MS:
            looks = 10**9 <= value.value < 10**10
            self.diags.error("M406", value.span, f"`ts = {value.value}` is before 1980 when read as milliseconds",
                             help=("this looks like seconds: multiply by 1000, or use `epoch_ms(timestamp)`"
                                   if looks else
                                   "Inngest reads `ts` as milliseconds since 1970; use `epoch_ms(timestamp)`"))
        elif isinstance(value, n.Literal) and type(value.value) is int and value.value > _TS_MAX_MS:
            self.diags.error("M406", value.span, f"`ts = {value.value}` is after 2100 when read as milliseconds",
                             help="Inngest reads `ts` as milliseconds since 1970; use `epoch_ms(timestamp)`")
        elif present and not present & T.INT:
            help = "use `epoch_ms(timestamp)`" if present & T.STRING else "`ts` must be whole milliseconds"
            self.diags.error("M406", value.span,
                             f"`ts` must be an integer of milliseconds, but this is {T.describe(present)}", help=help)
        else:
            self._maybe_absent(value, alias, ty, "`ts` is then left out, and Inngest uses the time it "
                                                 "receives the event", through=True)

    # --- values that may be missing or null where one is needed ----------------------------
    def _maybe_absent(self, e: n.Expr, alias: _Alias | None, ty: T.Ty, then: str, *,
                      through: bool = False) -> None:
        """M603: an input path the schema says may be missing or null, used where that hurts --
        where it fails the event (conditions, `<`), loses the other side of an operator, or leaves
        the event without its `name`, `id` or `ts`. With ``through``, also a path that reaches
        ``e`` through functions and operators (which pass missing and null on)."""
        found = (e, alias) if alias is not None else None
        if through and (found is None or not self._absent_alias(found[1], ty)):
            found = self._absent_source(e)
        if found is None:
            return
        path_expr, path_alias = found
        path_ty = self.facts.types.get(id(path_expr), ty)
        if not self._absent_alias(path_alias, path_ty) or id(path_expr) in self._warned_absent:
            return
        self._warned_absent.add(id(path_expr))
        text = _alias_text(path_alias)
        assert path_alias.info is not None
        self.diags.warning(
            "M603", path_expr.span, f"`{text}` may be missing or null: {then}",
            label=path_alias.info.absent,
            help=f"give a default with `{text} ?? ...`, or fail the event loudly with `required({text})`",
        )

    @staticmethod
    def _absent_alias(alias: _Alias | None, ty: T.Ty) -> bool:
        return alias is not None and alias.info is not None and alias.info.absent is not None \
            and bool(ty & T.ABSENT)

    def _absent_source(self, e: n.Expr, depth: int = 0) -> tuple[n.Expr, _Alias] | None:
        """The input path that can make ``e`` missing or null by being so itself."""
        if depth > 32:
            return None
        alias = self._aliases.get(id(e))
        if alias is not None and self._absent_alias(alias, self.facts.types.get(id(e), T.NOTHING)):
            return e, alias
        parts: list[n.Expr] = []
        if isinstance(e, n.Call):
            fn = BUILTINS.get(e.func)
            if fn is not None and fn.absent == "propagate" and fn.lambda_param is None:
                parts = [a for i, a in enumerate(e.args)
                         if not fn.params[min(i, len(fn.params) - 1)].literal]
        elif isinstance(e, n.Binary) and e.op in ("+", "-", "*", "/", "%", "&"):
            parts = [e.left, e.right]
        elif isinstance(e, n.Unary) and e.op == "-":
            parts = [e.operand]
        elif isinstance(e, n.Name) and e.name in self._scope.lets:
            res = self.facts.names.get(id(e))
            if res is not None and res.kind == "let":
                parts = [self._scope.lets[e.name][0].value]
        for p in parts:
            got = self._absent_source(p, depth + 1)
            if got is not None:
                return got
        return None

    # --- expressions ------------------------------------------------------------------------
    def expr(self, e: n.Expr) -> T.Ty:
        return self._expr_alias(e)[0]

    def _expr_alias(self, e: n.Expr) -> tuple[T.Ty, _Alias | None]:
        ty, alias = self.visit(e)
        self.facts.types[id(e)] = ty
        if alias is not None:
            self._aliases[id(e)] = alias
        return ty, alias

    # One ``visit_<Node>`` per expression kind (``dsl.visitor``): its type, and the input path it
    # reads when it is one (an alias of ``data.x`` gives ``data.x.y`` its schema type).
    def visit_Literal(self, e: n.Literal) -> _Visit:
        return _literal_type(e.value), None

    def visit_Name(self, e: n.Name) -> _Visit:
        return self._name(e)

    def visit_Element(self, e: n.Element) -> _Visit:
        self.facts.names[id(e)] = Resolution("element", "")
        param = self._scope.params[-1] if self._scope.params else None
        if param is None:
            return T.ANY, None
        return param[1], param[2]

    def visit_Field(self, e: n.Field) -> _Visit:
        if (prefix := self._js_prefix(e.obj)) is not None:
            return self._strip_prefix(e, prefix)
        if isinstance(e.obj, n.Name) and self._unknown(e.obj.name):
            return self._unknown_root(e, e.obj)
        return self._member(e, e.name, e.name_span, "field", T.OBJECT)

    def visit_Index(self, e: n.Index) -> _Visit:
        return self._member(e, e.index, e.span, "item", T.LIST)

    def _member(self, e: n.Field | n.Index, seg: Segment, seg_span: Span, what: str, container: T.Ty) -> _Visit:
        base_ty, alias = self._expr_alias(e.obj)
        if alias is not None:
            new = _Alias(alias.root, [*alias.segments, seg], [*alias.spans, seg_span])
            return self._path(e, new), new
        present = T.present(base_ty)
        if present and not present & container:
            self.diags.error("M301", e.span, f"cannot read a {what} of {T.describe(present)}")
        return T.ANY, None

    def visit_Project(self, e: n.Project) -> _Visit:
        base_ty, alias = self._expr_alias(e.base)
        elem_alias = None
        if alias is not None:
            elem_alias = _Alias(alias.root, [*alias.segments, None], [*alias.spans, e.span])
        elem_ty = self._path(e, elem_alias) if elem_alias else T.ANY
        self._scope.params.append(("", elem_ty, elem_alias))
        try:
            self.expr(e.each)
        finally:
            self._scope.params.pop()
        return T.LIST | (base_ty & T.ABSENT and T.MISSING), None

    def visit_Unary(self, e: n.Unary) -> _Visit:
        ty, alias = self._expr_alias(e.operand)
        if e.op == "not":
            self._require_bool(e.operand, ty, "`not`")
            self._maybe_absent(e.operand, alias, ty, "`not` then fails the event")
            return T.BOOL, None
        self._require(e.operand, ty, T.NUMBER, "`-`", "a number")
        return (T.present(ty) & T.NUMBER or T.NUMBER) | (ty & T.ABSENT), None

    def visit_Binary(self, e: n.Binary) -> _Visit:
        return self._binary(e), None

    def visit_IfExpr(self, e: n.IfExpr) -> _Visit:
        return self._if_chain(e), None

    def visit_Match(self, e: n.Match) -> _Visit:
        return self._match(e), None

    def visit_Call(self, e: n.Call) -> _Visit:
        return self._call(e), None

    def visit_ListExpr(self, e: n.ListExpr) -> _Visit:
        for item in e.items:
            self._no_lambda(item)
            self.expr(item)
        return T.LIST, None

    def visit_ObjectExpr(self, e: n.ObjectExpr) -> _Visit:
        keys: set[str] = set()
        for entry in e.entries:
            if entry.key in keys:
                self.diags.error("M400", entry.key_span, f"key `{entry.key}` appears twice in this object")
            keys.add(entry.key)
            self._no_lambda(entry.value)
            self.expr(entry.value)
        return T.OBJECT, None

    def visit_Lambda(self, e: n.Lambda) -> _Visit:
        self.diags.error("M205", e.span, "`x -> ...` can only be the last argument of `map` or `filter`")
        return T.ANY, None

    def _if_chain(self, e: n.IfExpr) -> T.Ty:
        """An `else if` chain, walked in a loop however long; each inner `if` gets its own type."""
        chain: list[tuple[n.IfExpr, T.Ty]] = []
        node: n.Expr = e
        while isinstance(node, n.IfExpr):
            self._condition(node.cond, "the `if` condition")
            chain.append((node, self.expr(node.then)))
            node = node.otherwise
        ty = self.expr(node)
        for inner, then_ty in reversed(chain):
            ty |= then_ty
            if inner is not e:
                self.facts.types[id(inner)] = ty
        return ty

    def _unknown(self, name: str) -> bool:
        scope = self._scope
        return not (name in scope.lets or any(p[0] == name for p in scope.params) or name in self.schema.roots())

    def _js_prefix(self, e: n.Expr) -> tuple[n.Name, str] | None:
        """`webhook` or `webhook.payload` in front of a field (the dashboard's handlers): the root and
        the prefix's text, when the root names nothing here."""
        if isinstance(e, n.Name) and e.name in JS_ROOTS and self._unknown(e.name):
            return e, e.name
        if isinstance(e, n.Field) and e.name in JS_ROOTS and (inner := self._js_prefix(e.obj)) is not None:
            return inner[0], f"{inner[1]}.{e.name}"
        return None

    def _strip_prefix(self, e: n.Field, prefix: tuple[n.Name, str]) -> tuple[T.Ty, _Alias | None]:
        """`payload.data.x` is `data.x`, `webhook.eventType` is `type`: one diagnostic, checked as meant."""
        root, text = prefix
        self.facts.names[id(root)] = Resolution("input", root.name)
        name = "type" if e.name == "eventType" else e.name
        if e.name == "eventType":
            span = Span(root.span.file, root.span.line, root.span.column, e.name_span.end_line,
                        e.name_span.end_column)
            fix = Fix(span, "type", "replace with type")
            message, help = f"`{text}.eventType` is written `type` here", "write `type`"
        else:
            span = Span(root.span.file, root.span.line, root.span.column, e.name_span.line, e.name_span.column)
            fix = Fix(span, "", f"remove {text}.")
            message = f"`{text}.{e.name}` is written `{e.name}` here: the webhook's fields are read by their own names"
            help = f"remove `{text}.`"
        self.diags.error("M200", Span(root.span.file, root.span.line, root.span.column, span.end_line,
                                      span.end_column - (0 if e.name == "eventType" else 1)),
                         message, help=help, fix=fix)
        return self._expr_alias(n.Name(e.name_span, name))

    def _unknown_root(self, e: n.Field, root: n.Name) -> tuple[T.Ty, _Alias | None]:
        """`payment.succeeded` (text without quotes) after an unknown name."""
        dotted = n.path_text(e)
        if dotted and re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", dotted) and not suggest(root.name, self._candidates()):
            self.facts.names[id(root)] = Resolution("input", root.name)
            quoted = f'"{dotted}"'
            self.diags.error("M200", e.span, f"`{dotted}` is not a field: text is written in quotes",
                             help=f"write `{quoted}`", fix=Fix(e.span, quoted, "put the text in quotes"))
            return T.STRING, None
        self._expr_alias(root)  # an unknown name: reported once, at the name
        return T.ANY, None

    def _candidates(self) -> list[str]:
        scope = self._scope
        return [*self.schema.roots(), *scope.lets, *(p[0] for p in scope.params if p[0])]

    def _name(self, e: n.Name) -> tuple[T.Ty, _Alias | None]:
        scope = self._scope
        for pname, pty, palias in reversed(scope.params):
            if pname == e.name:
                self.facts.names[id(e)] = Resolution("param", e.name)
                return pty, palias
        if e.name in scope.lets:
            scope.used.add(e.name)
            _let, ty, alias = scope.lets[e.name]
            self.facts.names[id(e)] = Resolution("let", e.name)
            return ty, alias
        roots = self.schema.roots()
        if e.name in roots:
            self.facts.names[id(e)] = Resolution("input", e.name)
            alias = _Alias(e.name, [], [])
            return self._path(e, alias), alias
        self.facts.names[id(e)] = Resolution("input", e.name)
        candidates = [*roots, *scope.lets, *(p[0] for p in scope.params if p[0])]
        guess = suggest(e.name, candidates)
        if e.name in BUILTINS:
            help = f"`{e.name}` is a function: call it, e.g. `{e.name}(...)`"
        elif guess:
            help = f"did you mean `{guess}`?"
        else:
            help = "input fields start at " + ", ".join(f"`{r}`" for r in sorted(roots)) + \
                   "; names come from `let`, or from a `const` in a .map file compiled with this one"
        fix = Fix(e.span, guess, f"replace with {guess}") if guess and e.name not in BUILTINS else None
        message = f"unknown name `{e.name}`"
        if e.name in ("True", "False", "None", "undefined", "nil", "NULL"):
            help = "write `true`, `false` or `null`"
            word = "null" if e.name in ("None", "undefined", "nil", "NULL") else e.name.lower()
            fix = Fix(e.span, word, f"replace with {word}")
        elif not guess and e.name not in BUILTINS and "data" in roots and self._data_field(e):
            message = f"`{e.name}` is not a top-level field; the webhook has `data.{e.name}`"
            help = f"write `data.{e.name}`"
            fix = Fix(e.span, f"data.{e.name}", f"replace with data.{e.name}")
        elif not guess and e.name not in BUILTINS:
            help = (f"to write the text {e.name}, put it in quotes: `\"{e.name}\"`; input fields start at "
                    + ", ".join(f"`{r}`" for r in sorted(roots)))
            fix = Fix(e.span, f'"{e.name}"', "put the text in quotes")
        self.diags.error("M200", e.span, message, help=help, fix=fix)
        return T.ANY, None

    def _data_field(self, e: n.Name) -> bool:
        """Whether the rule's input has a field `data.<name>` (for a name written without `data.`)."""
        if not getattr(self.schema, "known_types", ()):
            return False
        scratch = Diagnostics()
        self.schema.path_type(self._event_types, "data", [e.name], [e.span], scratch)
        return not scratch.has_errors

    def _path(self, e: n.Expr, alias: _Alias) -> T.Ty:
        ty = self.schema.path_type(self._event_types, alias.root, alias.segments, alias.spans, self.diags)
        alias.info = self.schema.path_info(self._event_types, alias.root, alias.segments)
        self.facts.input_paths[id(e)] = _alias_text(alias)
        return ty

    def _values(self, alias: _Alias | None) -> frozenset[str] | None:
        """The only texts an input path can hold, when the schema says so."""
        if alias is None or alias.info is None or alias.info.values is None:
            return None
        if alias.root == "type" and not alias.segments and self._wildcard:
            return None  # a `*` pattern also receives event types the schema does not know yet
        return alias.info.values

    def _no_lambda(self, e: n.Expr) -> None:
        if isinstance(e, n.Lambda):
            self.diags.error("M205", e.span, "`x -> ...` can only be the last argument of `map` or `filter`")

    def _condition(self, e: n.Expr, what: str) -> None:
        ty, alias = self._expr_alias(e)
        if self._require_bool(e, ty, what):
            self._maybe_absent(e, alias, ty, f"{what} then fails the event", through=True)

    def _require_bool(self, e: n.Expr, ty: T.Ty, what: str) -> bool:
        present = T.present(ty)
        if present and not present & T.BOOL:
            help = "compare it explicitly, e.g. `x == \"succeeded\"` or `x != null`; there is no truthiness"
            self.diags.error("M302", e.span, f"{what} must be true or false, but this is {T.describe(present)}",
                             help=help)
            return False
        return True

    def _require(self, e: n.Expr, ty: T.Ty, want: T.Ty, what: str, want_text: str) -> bool:
        present = T.present(ty)
        if present and not present & want:
            help = None
            if want & T.NUMBER and present & T.STRING:
                help = f"convert text with `decimal({_arg_text(e)})` or `int(...)`"
            self.diags.error("M301", e.span, f"{what} expects {want_text}, but this is {T.describe(present)}",
                             help=help)
            return False
        return True

    def _binary(self, e: n.Binary) -> T.Ty:
        op = e.op
        if op == "??":
            left, lalias = self._expr_alias(e.left)
            right = self.expr(e.right)
            if not left & T.ABSENT:
                if lalias is not None and lalias.info is not None:
                    text = _alias_text(lalias)
                    self.diags.warning(
                        "M601", e.op_span, f"`{text}` is never missing or null here, so `?? ...` is never used",
                        help=f"remove `?? {_arg_text(e.right)}`: the input schema says `{text}` is always present",
                    )
                else:
                    self.diags.warning("M601", e.op_span,
                                       f"the left side of `??` is never missing or null ({T.describe(left)})",
                                       help="remove `?? ...`; it can never be used")
            return T.present(left) | right
        if op in ("and", "or"):
            lt, la = self._expr_alias(e.left)
            rt, ra = self._expr_alias(e.right)
            if self._require_bool(e.left, lt, f"the left side of `{op}`"):
                self._maybe_absent(e.left, la, lt, f"`{op}` then fails the event")
            if self._require_bool(e.right, rt, f"the right side of `{op}`"):
                self._maybe_absent(e.right, ra, rt, f"`{op}` then fails the event")
            return T.BOOL
        lt, la = self._expr_alias(e.left)
        rt, ra = self._expr_alias(e.right)
        absent = (lt | rt) & T.ABSENT
        if op == "&":
            ok = self._require(e.left, lt, T.STRING, "`&`", "text (convert with `string(...)`)")
            if ok and self._require(e.right, rt, T.STRING, "`&`", "text (convert with `string(...)`)"):
                self._maybe_absent(e.left, la, lt, "then the whole text is missing or null too")
                self._maybe_absent(e.right, ra, rt, "then the whole text is missing or null too")
            return T.STRING | absent
        if op in ("==", "!="):
            self._check_enum_compare(e, la, e.right)
            self._check_enum_compare(e, ra, e.left)
            return T.BOOL
        if op in ("<", "<=", ">", ">="):
            lp, rp = T.present(lt), T.present(rt)
            if lp and rp and not ((lp & T.NUMBER and rp & T.NUMBER) or (lp & T.STRING and rp & T.STRING)):
                help = "both sides must be numbers, or both text"
                if lp & T.NUMSTR and rp & T.NUMBER:
                    help = f"`{_arg_text(e.left)}` is numeric text: compare `decimal({_arg_text(e.left)})`"
                elif rp & T.NUMSTR and lp & T.NUMBER:
                    help = f"`{_arg_text(e.right)}` is numeric text: compare `decimal({_arg_text(e.right)})`"
                self.diags.error("M301", e.op_span, f"`{op}` cannot compare {T.describe(lp)} with {T.describe(rp)}",
                                 help=help)
            else:
                self._maybe_absent(e.left, la, lt, f"`{op}` then fails the event")
                self._maybe_absent(e.right, ra, rt, f"`{op}` then fails the event")
            return T.BOOL
        # arithmetic
        if op == "+" and (T.present(lt) | T.present(rt)) & T.STRING and not (T.present(lt) | T.present(rt)) & T.NUMBER:
            joined = f"{self._text(e.left)} & {self._text(e.right)}"
            self.diags.error("M301", e.op_span, "`+` adds numbers; text is joined with `&`",
                             help=f"write `{joined}`" if len(joined) <= 60 else "write `&` instead of `+`",
                             label="joins text",
                             fix=Fix(e.op_span, "&", "join with &"))
            return T.STRING | absent
        joins_text = op == "+" and bool((T.present(lt) | T.present(rt)) & T.STRING)
        want = "numbers (to join text use `&`)" if joins_text else "numbers"
        if self._require(e.left, lt, T.NUMBER, f"`{op}`", want) and \
                self._require(e.right, rt, T.NUMBER, f"`{op}`", want):
            self._maybe_absent(e.left, la, lt, f"then `{op}` gives missing or null, losing the other side")
            self._maybe_absent(e.right, ra, rt, f"then `{op}` gives missing or null, losing the other side")
        if op in ("/", "*"):
            self._check_minor_units(e, self._money_alias(e.left))
        if op == "/":
            return T.DECIMAL | absent
        lp, rp = T.present(lt) & T.NUMBER, T.present(rt) & T.NUMBER
        if lp == T.INT and rp == T.INT:
            return T.INT | absent
        return (lp | rp if lp | rp else T.NUMBER) | absent

    def _money_alias(self, e: n.Expr) -> _Alias | None:
        """The input path of an amount in minor units ``e`` is, also behind `??`, `required` and `( )`."""
        alias = self._aliases.get(id(e))
        if alias is not None:
            return alias
        if isinstance(e, n.Binary) and e.op == "??":
            return self._money_alias(e.left)
        if isinstance(e, n.Call) and e.func in ("required", "coalesce", "int") and e.args:
            return self._money_alias(e.args[0])
        return None

    def _check_minor_units(self, e: n.Binary, alias: _Alias | None) -> None:
        """`data.total_amount / 100`: right for USD, wrong for JPY and KWD."""
        if alias is None or alias.info is None or alias.info.currency is None:
            return
        factor = _literal_value(e.right)
        if type(factor) not in (int, Decimal):
            return
        if (e.op == "/" and factor == 100) or (e.op == "*" and factor == Decimal("0.01")):
            text = _alias_text(alias)
            currency = path_text(alias.root, alias.info.currency)
            self.diags.warning(
                "M305", e.span,
                f"`{text}` is in the currency's smallest unit: {'dividing by 100' if e.op == '/' else 'multiplying by 0.01'}"
                " is wrong for currencies without cents (JPY) or with three decimals (KWD)",
                help=f"use `money({text}, {currency})`",
            )

    def _check_enum_compare(self, e: n.Binary, alias: _Alias | None, other: n.Expr) -> None:
        values = self._values(alias)
        lit = _literal_value(other)
        if values is None or not isinstance(lit, str) or lit in values:
            return
        assert alias is not None
        text = _alias_text(alias)
        guess = suggest(lit, values, 0.75)
        help = f"did you mean \"{guess}\"?" if guess else "it is one of " + _values_text(values)
        always = "true" if e.op == "!=" else "false"
        self.diags.warning("M604", other.span, f"`{text}` is never \"{lit}\": this comparison is always {always}",
                           help=help, label="no such value")

    def _match(self, e: n.Match) -> T.Ty:
        subject_ty, subject_alias = self._expr_alias(e.subject) if e.subject is not None else (None, None)
        values = self._values(subject_alias)
        result: T.Ty = T.NOTHING
        default_seen: n.Arm | None = None
        always_seen: n.Arm | None = None
        seen_values: set[tuple[str, object]] = set()  # a set: a 10,000-arm match stays linear
        for arm in e.arms:
            if default_seen is not None:
                self.diags.warning("M602", arm.span, "this arm can never be reached: the default arm `_` comes before it",
                                   help="move the `_ => ...` arm to the end")
            elif always_seen is not None:
                self.diags.warning("M602", arm.span, f"this arm can never be reached: the condition `true` on line "
                                                     f"{always_seen.span.line} always matches first",
                                   help="remove the arms after it, or write its condition")
            if arm.pattern is None:
                default_seen = default_seen or arm
            elif e.subject is not None:
                pat = arm.pattern
                lit = _literal_value(pat)
                if lit is _NOT_LITERAL:
                    self.diags.error("M304", pat.span, "a `match value { ... }` arm must be a literal such as \"paid\" or 3",
                                     help="for conditions, write `match { cond => value, _ => other }` without a value")
                    self.expr(pat)
                else:
                    key = (type(lit).__name__, lit)
                    self.expr(pat)
                    if key in seen_values:
                        self.diags.warning("M602", arm.span, f"this arm repeats the pattern {_lit_text(lit)}",
                                           help="an earlier arm already matches it; remove this one")
                    elif values is not None and isinstance(lit, str) and lit not in values:
                        assert subject_alias is not None
                        guess = suggest(lit, values, 0.75)
                        self.diags.warning(
                            "M602", pat.span,
                            f"this arm can never match: `{_alias_text(subject_alias)}` is never \"{lit}\"",
                            help=f"did you mean \"{guess}\"?" if guess else "it is one of " + _values_text(values))
                    elif subject_ty is not None:
                        pt, st = T.base(self.facts.types[id(pat)]), T.base(T.present(subject_ty))
                        if st and pt != T.NULL and not (st & pt or (st & T.NUMBER and pt & T.NUMBER)):
                            self.diags.warning("M602", pat.span,
                                               f"this arm can never match: the value is {T.describe(st)}")
                    seen_values.add(key)
            else:
                if isinstance(arm.pattern, n.Literal) and arm.pattern.value is True and always_seen is None:
                    always_seen = arm
                self._condition(arm.pattern, "a `match` arm condition")
            result |= self.expr(arm.value)
        if default_seen is None:
            self.diags.error("M303", e.span, "this `match` has no default arm",
                             help="add `_ => value` as the last arm, for every other case")
        return result or T.ANY

    def _call(self, e: n.Call) -> T.Ty:
        fn = BUILTINS.get(e.func)
        if fn is None and e.func in JS_FUNCTIONS:
            return self._js_function(e)
        if fn is None:
            for a in e.args:
                if not isinstance(a, n.Lambda):
                    self.expr(a)
            renamed = _FUNCTION_ALIASES.get(e.func, "")
            guess = renamed or suggest(e.func, BUILTINS)
            if e.func == "concat":
                help = "join text with `&`: `a & b`"
            elif e.func == "now":
                help = "mappings are pure: use the event's `timestamp` instead of the current time"
            elif guess:
                help = f"did you mean `{guess}`?"
            else:
                help = "see docs/functions.md for the list of functions"
            fix = Fix(e.func_span, guess, f"replace with `{guess}`") if guess and e.func != "concat" else None
            self.diags.error("M202", e.func_span, f"unknown function `{e.func}`", help=help, fix=fix)
            return T.ANY
        nargs = len(e.args)
        if nargs < fn.min_args or (fn.max_args is not None and nargs > fn.max_args):
            want = str(fn.min_args) if fn.min_args == fn.max_args else (
                f"{fn.min_args} to {fn.max_args}" if fn.max_args is not None else f"at least {fn.min_args}")
            self.diags.error("M203", e.span, f"`{fn.name}` takes {want} argument{'s' if want != '1' else ''}, "
                                              f"but {nargs} {'were' if nargs != 1 else 'was'} given",
                             help=f"usage: {fn.signature()}")
        arg_types: list[T.Ty] = []
        for i, arg in enumerate(e.args):
            param = fn.params[min(i, len(fn.params) - 1)]
            if fn.lambda_param is not None and i == fn.lambda_param:
                arg_types.append(self._lambda_arg(fn, e, arg))
                continue
            self._no_lambda(arg)
            if isinstance(arg, n.Lambda):
                arg_types.append(T.ANY)
                continue
            ty, alias = self._expr_alias(arg)
            arg_types.append(ty)
            self._check_arg(fn, i, param, arg, ty)
            if fn.name == "cents" and i == 0 and alias is not None and alias.info is not None \
                    and alias.info.currency is not None:
                text = _alias_text(alias)
                self.diags.warning(
                    "M305", e.span,
                    f"`{text}` is in the currency's smallest unit: `cents()` always gives two decimals, "
                    "which is wrong for currencies without cents (JPY) or with three decimals (KWD)",
                    help=f"use `money({text}, {path_text(alias.root, alias.info.currency)})`",
                )
        if fn.lambda_param is not None and nargs > fn.lambda_param and not isinstance(e.args[fn.lambda_param], n.Lambda):
            self.diags.error("M205", e.args[fn.lambda_param].span,
                             f"`{fn.name}` needs a function of each item here, e.g. `{fn.name}(list, x -> x.id)`")
        if fn.name == "required" and e.args and id(e.args[0]) in self.facts.input_paths:
            # `money(required(data.total_amount), ...)` still names its input in run-time errors
            self.facts.input_paths[id(e)] = self.facts.input_paths[id(e.args[0])]
        return self._call_type(fn, arg_types)

    def _js_function(self, e: n.Call) -> T.Ty:
        """`parseInt(x, 10)`, `Number(x)`, `String(x)`: the function of that name here, as a fix."""
        target, keep, said = JS_FUNCTIONS[e.func]
        args = e.args[:keep]
        for a in e.args:
            if not isinstance(a, n.Lambda):
                self.expr(a)
        text = f"{target}({', '.join(self._text(a) for a in args)})"
        self.diags.error("M202", e.span, said, help=f"write `{text}`",
                         fix=Fix(e.span, text, f"replace with {text}"))
        return BUILTINS[target].returns

    def _text(self, e: n.Expr) -> str:
        """The source text of ``e`` (for a fix), from the file's own lines."""
        if self.source is None:
            return _arg_text(e)
        sp = e.span
        lines = self.source.split("\n")[sp.line - 1:sp.end_line]
        if not lines:
            return _arg_text(e)
        if len(lines) == 1:
            return lines[0][sp.column - 1:sp.end_column - 1]
        return "\n".join([lines[0][sp.column - 1:], *lines[1:-1], lines[-1][:sp.end_column - 1]])

    def _lambda_arg(self, fn: Builtin, call: n.Call, arg: n.Expr) -> T.Ty:
        if not isinstance(arg, n.Lambda):
            return self.expr(arg)
        list_expr = call.args[0]
        list_alias = self._last_alias(list_expr)
        elem_alias = _Alias(list_alias.root, [*list_alias.segments, None], [*list_alias.spans, list_expr.span]) \
            if list_alias else None
        elem_ty = self._path(arg, elem_alias) if elem_alias else T.ANY
        if arg.param in self._scope.lets or arg.param in self.schema.roots():
            self.diags.error("M204", arg.param_span, f"`{arg.param}` already names something else here",
                             help="choose another name for the item, e.g. `item`")
        self._scope.params.append((arg.param, elem_ty, elem_alias))
        try:
            body_ty, body_alias = self._expr_alias(arg.body)
        finally:
            self._scope.params.pop()
        if fn.name == "filter" and self._require_bool(arg.body, body_ty, "a `filter` condition"):
            self._maybe_absent(arg.body, body_alias, body_ty, "the `filter` condition then fails the event")
        self.facts.types[id(arg)] = body_ty
        return body_ty

    def _last_alias(self, e: n.Expr) -> _Alias | None:
        # re-derive the alias of an already-checked list argument without re-reporting diagnostics
        scratch = Diagnostics()
        saved, self.diags = self.diags, scratch
        try:
            return self.visit(e)[1]
        finally:
            self.diags = saved

    def _check_arg(self, fn: Builtin, i: int, param: Param, arg: n.Expr, ty: T.Ty) -> bool:
        present = T.present(ty)
        if present and not present & param.accepts:
            what = _arg_text(arg)
            help = None
            if param.accepts & T.STRING and present & (T.NUMBER | T.BOOL):
                help = f"convert it with `string({what})`"
            elif param.accepts & T.NUMBER and present & T.STRING:
                help = (f"`{what}` is not an amount; if this text really holds a number, "
                        f"convert it with `decimal({what})`")
            elif param.accepts <= T.DATETIME and present & T.STRING:
                help = "use a timestamp, such as `timestamp` or `data.created_at`"
            self.diags.error("M300", arg.span,
                             f"`{fn.name}` expects {T.describe(param.accepts)} for `{param.name}`, "
                             f"but `{what}` is {T.describe(present)}", help=help)
            return False
        if param.literal:
            value = _literal_value(arg)
            if value is _NOT_LITERAL:
                self.diags.error("M211", arg.span, f"`{param.name}` of `{fn.name}` must be written as a literal value",
                                 help=f"usage: {fn.signature()}")
                return False
        check = fn.checks.get(i)
        if check is not None:
            value = _literal_value(arg)
            if value is not _NOT_LITERAL:
                problem = check(value)
                if problem:
                    code = "M210" if fn.name == "query" else "M211"
                    help = None
                    if fn.name == "round":
                        guess = suggest(str(value), ROUNDING_MODES)
                        help = f"did you mean \"{guess}\"?" if guess else None
                    self.diags.error(code, arg.span, problem, help=help)
                    return False
        return True

    def _call_type(self, fn: Builtin, arg_types: list[T.Ty]) -> T.Ty:
        if fn.name == "coalesce":
            result: T.Ty = T.NOTHING
            for ty in arg_types:
                result |= T.present(ty)
                if not ty & T.ABSENT:
                    return result
            return result | (arg_types[-1] & T.ABSENT if arg_types else T.MISSING)
        if fn.returns_from_args and arg_types:
            return T.present(arg_types[0]) or T.VALUE
        result = fn.returns
        if fn.absent == "propagate":
            for i, ty in enumerate(arg_types):
                if fn.lambda_param is not None and i == fn.lambda_param:
                    continue
                result |= ty & T.ABSENT
        return result

    # --- names worked out at compile time ---------------------------------------------------
    def _static_strings(self, e: n.Expr) -> frozenset[str] | None:
        """Every text ``e`` can be, when that is known without an event (None: it is computed)."""
        if isinstance(e, n.Literal):
            return frozenset([e.value]) if isinstance(e.value, str) else None
        if isinstance(e, n.Name):
            res = self.facts.names.get(id(e))
            if res is not None and res.kind == "let" and e.name in self._scope.lets:
                return self._static_strings(self._scope.lets[e.name][0].value)
            if res is not None and res.kind == "input" and e.name == "type":
                types = self._event_types
                return types if types else None
            return None
        if isinstance(e, n.Binary) and e.op == "&":
            left, right = self._static_strings(e.left), self._static_strings(e.right)
            if left is None or right is None or len(left) * len(right) > _STATIC_LIMIT:
                return None
            return frozenset(a + b for a in left for b in right)
        parts: list[n.Expr]
        if isinstance(e, n.Binary) and e.op == "??":
            parts = [e.left, e.right]
        elif isinstance(e, n.IfExpr):
            parts = n.if_branches(e)
        elif isinstance(e, n.Match):
            parts = [a.value for a in e.arms]
        elif isinstance(e, n.Call) and e.func in ("required", "coalesce") and e.args:
            parts = e.args[:1] if e.func == "required" else list(e.args)
        elif isinstance(e, n.Call) and e.func in _STATIC_FUNCTIONS and len(e.args) == 1:
            inner = self._static_strings(e.args[0])
            if inner is None:
                return None
            change = _STATIC_FUNCTIONS[e.func]
            return frozenset(change(s) for s in inner)
        else:
            return None
        out: set[str] = set()
        for p in parts:
            got = self._static_strings(p)
            if got is None:
                return None
            out |= got
        return frozenset(out) if len(out) <= _STATIC_LIMIT else None


_NOT_LITERAL = object()


def _literal_type(v: object) -> T.Ty:
    if v is None:
        return T.NULL
    if isinstance(v, bool):
        return T.BOOL
    if isinstance(v, int):
        return T.INT
    if isinstance(v, str):
        # any text: `cents("abc")` and `epoch_ms("yesterday")` fail at run time with a located error
        return T.STRING
    return T.DECIMAL


def _name_format_problem(name: str) -> str | None:
    if name != name.strip():
        return "starts or ends with white space"
    if any(c.isspace() for c in name):
        return "contains white space"
    if any(not c.isprintable() for c in name):
        return "contains a control character"
    if not _NAME_CHARS.match(name):
        bad = next(c for c in name if not _NAME_CHARS.match(c))
        return f"contains `{bad}`"
    return None


def _seconds_expr(e: n.Expr) -> str | None:
    """For ``epoch_ms(x) / 1000`` (also inside ``round``/``int``): the milliseconds expression text."""
    if isinstance(e, n.Call) and e.func in ("round", "int") and e.args:
        return _seconds_expr(e.args[0])
    if isinstance(e, n.Binary) and e.op == "/" and _literal_value(e.right) == 1000:
        left = e.left
        if isinstance(left, n.Call) and left.func == "epoch_ms":
            return f"epoch_ms({_source_args(left)})"
        return None
    return None


def _values_text(values: frozenset[str], limit: int = 8) -> str:
    shown = sorted(values)
    text = ", ".join(f'"{v}"' for v in shown[:limit])
    return text + (f" and {len(shown) - limit} more" if len(shown) > limit else "")


def _literal_value(e: n.Expr) -> object:
    if isinstance(e, n.Literal):
        return e.value
    if (isinstance(e, n.Unary) and e.op == "-" and isinstance(e.operand, n.Literal)
            and type(e.operand.value) in (int, Decimal)):
        return -e.operand.value  # type: ignore[operator]
    return _NOT_LITERAL


def _lit_text(v: object) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _arg_text(e: n.Expr) -> str:
    text = n.path_text(e)
    if text:
        return text
    if isinstance(e, n.Literal):
        return _lit_text(e.value)
    if isinstance(e, n.Call):
        return f"{e.func}(...)"
    return "this value"


def _source_args(call: n.Call) -> str:
    return ", ".join(_arg_text(a) for a in call.args)


def _alias_text(alias: _Alias) -> str:
    return path_text(alias.root, alias.segments)
