"""Checks on the AST: names, functions and arity, argument and operator types, boolean
conditions, output targets against the Inngest event contract. Produces the facts the code
generator needs (how each name resolves, each expression's static type)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from dsl import nodes as n
from dsl import types as T
from dsl.builtins import BUILTINS, Builtin
from dsl.diagnostics import Diagnostics
from dsl.schema import EnvelopeSchema, InputSchema, Segment
from dsl.source import Span

EVENT_FIELDS = ("name", "data", "user", "id", "ts", "v")
_LEAF_FIELDS = {"name", "id", "ts", "v"}
_TS_MIN_MS = 315_532_800_000  # 1980-01-01: Inngest refuses anything earlier

_FUNCTION_ALIASES = {
    "toFixed": "cents", "tofixed": "cents", "fixed": "cents", "to_fixed": "cents",
    "now": None, "date": "iso", "timestamp": "epoch_ms", "epochms": "epoch_ms", "epoch_millis": "epoch_ms",
    "lowercase": "lower", "uppercase": "upper", "length": "len", "size": "len", "count": "len",
    "str": "string", "to_string": "string", "tostring": "string", "number": "decimal", "float": "decimal",
    "to_int": "int", "integer": "int", "default": "coalesce", "ifnull": "coalesce", "nvl": "coalesce",
    "concat": None, "strip": "trim", "hash": "sha256", "jmespath": "query", "has": "exists",
}


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


@dataclass(slots=True)
class CheckedRule:
    rule: n.Rule
    event_types: frozenset[str] | None
    targets: list[tuple[str, ...]] = field(default_factory=list)


@dataclass(slots=True)
class Facts:
    """What the checker learned, keyed by node identity, for the code generator."""

    names: dict[int, Resolution] = field(default_factory=dict)
    types: dict[int, T.Ty] = field(default_factory=dict)
    input_paths: dict[int, str] = field(default_factory=dict)


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


class _Scope:
    def __init__(self) -> None:
        self.lets: dict[str, tuple[n.Let, T.Ty, _Alias | None]] = {}
        self.used: set[str] = set()
        self.params: list[tuple[str, T.Ty, _Alias | None]] = []


class Checker:
    def __init__(self, diags: Diagnostics, schema: InputSchema | None = None) -> None:
        self.diags = diags
        self.schema: InputSchema = schema or EnvelopeSchema()
        self.facts = Facts()

    # --- rules ----------------------------------------------------------------------------
    def check_module(self, module: n.Module) -> list[CheckedRule]:
        return [self.check_rule(r) for r in module.rules]

    def check_rule(self, rule: n.Rule) -> CheckedRule:
        for p in rule.patterns:
            self._check_pattern(p)
        event_types = self.schema.event_types([p.text for p in rule.patterns])
        checked = CheckedRule(rule, event_types)
        self._event_types = event_types
        scope = _Scope()
        self._scope = scope
        targets: list[tuple[tuple[str, ...], n.Assign]] = []
        unconditional_drop = False
        if not rule.body:
            self.diags.warning("M503", rule.span, f"the rule for {rule.label} has no statements",
                               help="add assignments such as `name = \"...\"`, or `drop` to ignore these events")
        for stmt in rule.body:
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
                ty = self.expr(stmt.value)
                self._check_target(stmt, ty, targets)
                targets.append((stmt.target, stmt))
            elif isinstance(stmt, n.Drop):
                if stmt.cond is None:
                    unconditional_drop = True
                else:
                    self._condition(stmt.cond, "the `drop if` condition")
        for name, (let, _ty, _alias) in scope.lets.items():
            if name not in scope.used:
                self.diags.warning("M600", let.name_span, f"`{name}` is defined but never used",
                                   help=f"remove the `let {name}` line, or use `{name}` in an assignment")
        if not unconditional_drop and rule.body and not any(t[0] == ("name",) for t in targets):
            self.diags.error("M403", rule.span, f"the rule for {rule.label} does not set the event `name`",
                             help='add a line such as `name = "payment.succeeded"`; Inngest refuses events without one')
        checked.targets = [t for t, _ in targets]
        return checked

    def _check_pattern(self, p: n.Pattern) -> None:
        text = p.text
        if not text:
            self.diags.error("M501", p.span, "an empty event type pattern matches nothing")
        elif any(c in text for c in "[]?{}") or "**" in text:
            self.diags.error("M501", p.span, f"`{text}` uses pattern syntax that is not supported",
                             help='only `*` is special: `"dispute.*"` matches every dispute event')
        elif any(c.isspace() for c in text):
            self.diags.error("M501", p.span, f"event type pattern `{text}` contains white space")

    def _check_target(self, stmt: n.Assign, ty: T.Ty, seen: list[tuple[tuple[str, ...], n.Assign]]) -> None:
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
        for prev, prev_stmt in seen:
            if prev == target:
                self.diags.error("M400", stmt.target_span,
                                 f"`{text}` is already assigned on line {prev_stmt.span.line}",
                                 help="each field is assigned once; combine the values with `??` or `if ... then ... else ...`")
                return
            short, long_ = (prev, target) if len(prev) < len(target) else (target, prev)
            if long_[: len(short)] == short:
                self.diags.error("M401", stmt.target_span,
                                 f"`{text}` overlaps `{'.'.join(prev)}` assigned on line {prev_stmt.span.line}",
                                 help="assign either the whole object or its fields, not both")
                return
        present = T.present(ty)
        value = stmt.value
        if target == ("name",):
            if present and not present & T.STRING:
                self.diags.error("M404", value.span, f"the event name must be a string, not {T.describe(present)}")
            if isinstance(value, n.Literal) and isinstance(value.value, str):
                if not value.value.strip():
                    self.diags.error("M404", value.span, "the event name is empty",
                                     help='use a descriptive name such as "payment.succeeded"')
                elif value.value.startswith("inngest/"):
                    self.diags.error("M404", value.span, "names starting with `inngest/` are reserved by Inngest",
                                     help="choose another prefix, e.g. `dodo/`")
        elif target == ("ts",):
            if isinstance(value, n.Call) and value.func == "epoch":
                self.diags.error("M405", value.span, "`epoch(...)` gives seconds, but Inngest reads `ts` as milliseconds",
                                 label="seconds", help=f"use `epoch_ms({_source_args(value)})`")
            elif isinstance(value, n.Literal) and type(value.value) is int and 0 < value.value < _TS_MIN_MS:
                self.diags.error("M406", value.span, f"`ts = {value.value}` is before 1980 when read as milliseconds",
                                 help="Inngest reads `ts` as milliseconds since 1970; use `epoch_ms(timestamp)`")
            elif present and not present & T.INT:
                help = "use `epoch_ms(timestamp)`" if present & T.STRING else "`ts` must be whole milliseconds"
                self.diags.error("M406", value.span,
                                 f"`ts` must be an integer of milliseconds, but this is {T.describe(present)}", help=help)
        elif target in (("data",), ("user",)) and present and not present & T.OBJECT:
            self.diags.error("M407", value.span,
                             f"`{head}` must be an object, but this is {T.describe(present)}",
                             help=f"assign fields instead: `{head}.something = ...`")
        elif target in (("id",), ("v",)) and present and not present & T.STRING:
            self.diags.error("M408", value.span, f"`{head}` must be a string, but this is {T.describe(present)}",
                             help="convert it with `string(...)`")

    # --- expressions ------------------------------------------------------------------------
    def expr(self, e: n.Expr) -> T.Ty:
        return self._expr_alias(e)[0]

    def _expr_alias(self, e: n.Expr) -> tuple[T.Ty, _Alias | None]:
        ty, alias = self._visit(e)
        self.facts.types[id(e)] = ty
        return ty, alias

    def _visit(self, e: n.Expr) -> tuple[T.Ty, _Alias | None]:
        if isinstance(e, n.Literal):
            v = e.value
            if v is None:
                return T.NULL, None
            if isinstance(v, bool):
                return T.BOOL, None
            if isinstance(v, int):
                return T.INT, None
            if isinstance(v, str):
                return T.STRING, None
            return T.DECIMAL, None
        if isinstance(e, n.Name):
            return self._name(e)
        if isinstance(e, n.Element):
            self.facts.names[id(e)] = Resolution("element", "")
            param = self._scope.params[-1] if self._scope.params else None
            if param is None:
                return T.ANY, None
            return param[1], param[2]
        if isinstance(e, n.Field | n.Index):
            base_ty, alias = self._expr_alias(e.obj)
            seg: Segment = e.name if isinstance(e, n.Field) else e.index
            seg_span = e.name_span if isinstance(e, n.Field) else e.span
            if alias is not None:
                new = _Alias(alias.root, [*alias.segments, seg], [*alias.spans, seg_span])
                return self._path(e, new), new
            present = T.present(base_ty)
            if present and not present & (T.OBJECT if isinstance(e, n.Field) else T.LIST):
                what = "field" if isinstance(e, n.Field) else "item"
                self.diags.error("M301", e.span, f"cannot read a {what} of {T.describe(present)}")
            return T.ANY, None
        if isinstance(e, n.Project):
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
        if isinstance(e, n.Unary):
            ty = self.expr(e.operand)
            if e.op == "not":
                self._require_bool(e.operand, ty, "`not`")
                return T.BOOL, None
            self._require(e.operand, ty, T.NUMBER, "`-`", "a number")
            return (T.present(ty) & T.NUMBER or T.NUMBER) | (ty & T.ABSENT), None
        if isinstance(e, n.Binary):
            return self._binary(e), None
        if isinstance(e, n.IfExpr):
            self._condition(e.cond, "the `if` condition")
            return self.expr(e.then) | self.expr(e.otherwise), None
        if isinstance(e, n.Match):
            return self._match(e), None
        if isinstance(e, n.Call):
            return self._call(e), None
        if isinstance(e, n.ListExpr):
            for item in e.items:
                self._no_lambda(item)
                self.expr(item)
            return T.LIST, None
        if isinstance(e, n.ObjectExpr):
            keys: set[str] = set()
            for entry in e.entries:
                if entry.key in keys:
                    self.diags.error("M400", entry.key_span, f"key `{entry.key}` appears twice in this object")
                keys.add(entry.key)
                self._no_lambda(entry.value)
                self.expr(entry.value)
            return T.OBJECT, None
        if isinstance(e, n.Lambda):
            self.diags.error("M205", e.span, "`x -> ...` can only be the last argument of `map` or `filter`")
            return T.ANY, None
        raise AssertionError(type(e))

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
                   "; names come from `let`"
        if e.name in ("True", "False", "None", "undefined", "nil", "NULL"):
            help = "write `true`, `false` or `null`"
        self.diags.error("M200", e.span, f"unknown name `{e.name}`", help=help)
        return T.ANY, None

    def _path(self, e: n.Expr, alias: _Alias) -> T.Ty:
        ty = self.schema.path_type(self._event_types, alias.root, alias.segments, alias.spans, self.diags)
        self.facts.input_paths[id(e)] = _alias_text(alias)
        return ty

    def _no_lambda(self, e: n.Expr) -> None:
        if isinstance(e, n.Lambda):
            self.diags.error("M205", e.span, "`x -> ...` can only be the last argument of `map` or `filter`")

    def _condition(self, e: n.Expr, what: str) -> None:
        ty = self.expr(e)
        self._require_bool(e, ty, what)

    def _require_bool(self, e: n.Expr, ty: T.Ty, what: str) -> None:
        present = T.present(ty)
        if present and not present & T.BOOL:
            help = "compare it explicitly, e.g. `x == \"succeeded\"` or `x != null`; there is no truthiness"
            self.diags.error("M302", e.span, f"{what} must be true or false, but this is {T.describe(present)}",
                             help=help)

    def _require(self, e: n.Expr, ty: T.Ty, want: T.Ty, what: str, want_text: str) -> bool:
        present = T.present(ty)
        if present and not present & want:
            help = None
            if want & T.NUMBER and present & T.STRING:
                help = "convert text with `decimal(...)` or `int(...)`"
            self.diags.error("M301", e.span, f"{what} expects {want_text}, but this is {T.describe(present)}",
                             help=help)
            return False
        return True

    def _binary(self, e: n.Binary) -> T.Ty:
        op = e.op
        if op == "??":
            left = self.expr(e.left)
            right = self.expr(e.right)
            if not left & T.ABSENT:
                self.diags.warning("M601", e.op_span, f"the left side of `??` is never missing or null ({T.describe(left)})",
                                   help="remove `?? ...`; it can never be used")
            return T.present(left) | right
        if op in ("and", "or"):
            lt, rt = self.expr(e.left), self.expr(e.right)
            self._require_bool(e.left, lt, f"the left side of `{op}`")
            self._require_bool(e.right, rt, f"the right side of `{op}`")
            return T.BOOL
        lt, rt = self.expr(e.left), self.expr(e.right)
        absent = (lt | rt) & T.ABSENT
        if op == "&":
            ok = self._require(e.left, lt, T.STRING, "`&`", "text (convert with `string(...)`)")
            if ok:
                self._require(e.right, rt, T.STRING, "`&`", "text (convert with `string(...)`)")
            return T.STRING | absent
        if op in ("==", "!="):
            return T.BOOL
        if op in ("<", "<=", ">", ">="):
            lp, rp = T.present(lt), T.present(rt)
            if lp and rp and not ((lp & T.NUMBER and rp & T.NUMBER) or (lp & T.STRING and rp & T.STRING)):
                self.diags.error("M301", e.op_span, f"`{op}` cannot compare {T.describe(lp)} with {T.describe(rp)}",
                                 help="both sides must be numbers, or both text")
            return T.BOOL
        # arithmetic
        joins_text = op == "+" and bool((T.present(lt) | T.present(rt)) & T.STRING)
        want = "numbers (to join text use `&`)" if joins_text else "numbers"
        if self._require(e.left, lt, T.NUMBER, f"`{op}`", want):
            self._require(e.right, rt, T.NUMBER, f"`{op}`", want)
        if op == "/":
            return T.DECIMAL | absent
        lp, rp = T.present(lt) & T.NUMBER, T.present(rt) & T.NUMBER
        if lp == T.INT and rp == T.INT:
            return T.INT | absent
        return (lp | rp if lp | rp else T.NUMBER) | absent

    def _match(self, e: n.Match) -> T.Ty:
        subject_ty = self.expr(e.subject) if e.subject is not None else None
        result: T.Ty = T.NOTHING
        default_seen: n.Arm | None = None
        seen_values: list[object] = []
        for arm in e.arms:
            if default_seen is not None:
                self.diags.warning("M602", arm.span, "this arm can never be reached: the default arm `_` comes before it",
                                   help="move the `_ => ...` arm to the end")
            if arm.pattern is None:
                default_seen = default_seen or arm
            elif e.subject is not None:
                pat = arm.pattern
                if not isinstance(pat, n.Literal):
                    self.diags.error("M304", pat.span, "a `match value { ... }` arm must be a literal such as \"paid\" or 3",
                                     help="for conditions, write `match { cond => value, _ => other }` without a value")
                else:
                    key = (type(pat.value).__name__, pat.value)
                    if key in seen_values:
                        self.diags.warning("M602", arm.span, f"this arm repeats the pattern {_lit_text(pat.value)}",
                                           help="an earlier arm already matches it; remove this one")
                    seen_values.append(key)
                    self.expr(pat)
                    if subject_ty is not None:
                        pt, st = self.facts.types[id(pat)], T.present(subject_ty)
                        if st and pt != T.NULL and not (st & pt or (st & T.NUMBER and pt & T.NUMBER)):
                            self.diags.warning("M602", pat.span,
                                               f"this arm can never match: the value is {T.describe(st)}")
            else:
                self._condition(arm.pattern, "a `match` arm condition")
            result |= self.expr(arm.value)
        if default_seen is None:
            self.diags.error("M303", e.span, "this `match` has no default arm",
                             help="add `_ => value` as the last arm, for every other case")
        return result or T.ANY

    def _call(self, e: n.Call) -> T.Ty:
        fn = BUILTINS.get(e.func)
        if fn is None:
            for a in e.args:
                if not isinstance(a, n.Lambda):
                    self.expr(a)
            alias = _FUNCTION_ALIASES.get(e.func, "")
            guess = alias or suggest(e.func, BUILTINS)
            if e.func == "concat":
                help = "join text with `&`: `a & b`"
            elif e.func == "now":
                help = "mappings are pure: use the event's `timestamp` instead of the current time"
            elif guess:
                help = f"did you mean `{guess}`?"
            else:
                help = "see docs/functions.md for the list of functions"
            self.diags.error("M202", e.func_span, f"unknown function `{e.func}`", help=help)
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
            ty = self.expr(arg)
            arg_types.append(ty)
            self._check_arg(fn, i, param, arg, ty)
        if fn.lambda_param is not None and nargs > fn.lambda_param and not isinstance(e.args[fn.lambda_param], n.Lambda):
            self.diags.error("M205", e.args[fn.lambda_param].span,
                             f"`{fn.name}` needs a function of each item here, e.g. `{fn.name}(list, x -> x.id)`")
        return self._call_type(fn, arg_types)

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
            body_ty = self.expr(arg.body)
        finally:
            self._scope.params.pop()
        if fn.name == "filter":
            self._require_bool(arg.body, body_ty, "a `filter` condition")
        self.facts.types[id(arg)] = body_ty
        return body_ty

    def _last_alias(self, e: n.Expr) -> _Alias | None:
        # re-derive the alias of an already-checked list argument without re-reporting diagnostics
        scratch = Diagnostics()
        saved, self.diags = self.diags, scratch
        try:
            return self._visit(e)[1]
        finally:
            self.diags = saved

    def _check_arg(self, fn: Builtin, i: int, param: object, arg: n.Expr, ty: T.Ty) -> None:
        from dsl.builtins import Param

        assert isinstance(param, Param)
        present = T.present(ty)
        if present and not present & param.accepts:
            what = _arg_text(arg)
            help = None
            if param.accepts & T.STRING and present & (T.NUMBER | T.BOOL):
                help = f"convert it with `string({what})`"
            elif param.accepts & T.NUMBER and present & T.STRING:
                help = f"convert it with `decimal({what})`"
            self.diags.error("M300", arg.span,
                             f"`{fn.name}` expects {T.describe(param.accepts)} for `{param.name}`, "
                             f"but `{what}` is {T.describe(present)}", help=help)
            return
        if param.literal:
            value = _literal_value(arg)
            if value is _NOT_LITERAL:
                self.diags.error("M211", arg.span, f"`{param.name}` of `{fn.name}` must be written as a literal value",
                                 help=f"usage: {fn.signature()}")
                return
        check = fn.checks.get(i)
        if check is not None:
            value = _literal_value(arg)
            if value is not _NOT_LITERAL:
                problem = check(value)
                if problem:
                    code = "M210" if fn.name == "query" else "M211"
                    help = None
                    if fn.name == "round":
                        from runtime.functions import ROUNDING_MODES

                        guess = suggest(str(value), ROUNDING_MODES)
                        help = f"did you mean \"{guess}\"?" if guess else None
                    self.diags.error(code, arg.span, problem, help=help)

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


_NOT_LITERAL = object()


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
    out = alias.root
    for seg in alias.segments:
        if seg is None:
            out += "[*]"
        elif isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if seg.isidentifier() else f'."{seg}"'
    return out
