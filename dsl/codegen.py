"""Checked AST → Python source. Straight-line code, one operation per generated line, so a
runtime failure's line number maps back to the exact `.map` span (Jinja2's ``debug_info`` idea).

No text from a `.map` file reaches the generated source except through ``repr()`` of validated
literals and keys; every identifier in the output is generated here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dsl import nodes as n
from dsl import types as T
from dsl.builtins import BUILTINS
from dsl.checker import CheckedRule, Facts
from dsl.nodes import if_branches
from dsl.source import Span
from dsl.visitor import NodeVisitor
from prelude import functions as F
from prelude.values import MISSING, to_json_value


@dataclass(frozen=True, slots=True)
class Site:
    """Where a generated line came from: reported when that line fails at run time."""

    span: Span
    field: str | None
    input_path: str | None


@dataclass(slots=True)
class GeneratedModule:
    source: str
    filename: str
    namespace: dict[str, Any]
    sites: list[Site | None]  # index = generated line number - 1
    functions: list[str]  # one function name per rule, in order
    trace_labels: list[list[tuple[Span, str]]] = field(default_factory=list)


_ELIF_MAX = 32  # longer chains: `while True:` + `break` (a long `elif` chain overflows compile())

_OPS = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "%": "_mod", "&": "_concat",
        "==": "_eq", "!=": "_ne", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}

BASE_NAMESPACE: dict[str, Any] = {
    "_M": MISSING,
    "_dict": dict,
    "_list": list,
    "_add": F.add, "_sub": F.sub, "_mul": F.mul, "_div": F.div, "_mod": F.mod, "_neg": F.neg,
    "_concat": F.concat, "_eq": F.eq, "_ne": F.ne, "_lt": F.lt, "_le": F.le, "_gt": F.gt, "_ge": F.ge,
    "_truth": F.truth, "_field_slow": F.field_slow, "_index": F.index, "_project": F.project_check,
    "_list_arg": F.list_arg, "_json": to_json_value,
}
for _name, _b in BUILTINS.items():
    if _b.impl is not None:
        BASE_NAMESPACE[f"_f_{_name}"] = _b.impl


class CodeGen(NodeVisitor[str]):
    def __init__(self, facts: Facts, file: str, *, trace: bool = False) -> None:
        self.facts = facts
        self.file = file
        self.trace = trace
        self.lines: list[str] = []
        self.sites: list[Site | None] = []
        self.namespace: dict[str, Any] = dict(BASE_NAMESPACE)
        self.trace_labels: list[list[tuple[Span, str]]] = []
        self._consts: dict[tuple[str, Any], str] = {}
        self._n = 0

    # --- emission helpers -----------------------------------------------------------------
    def tmp(self, prefix: str = "_v") -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def emit(self, code: str) -> None:
        self.lines.append("    " * self.indent + code)
        self.sites.append(self.site)

    def const(self, value: Any, kind: str = "k") -> str:
        key = (kind, repr(value))
        name = self._consts.get(key)
        if name is None:
            name = f"_{kind}{len(self._consts)}"
            self._consts[key] = name
            self.namespace[name] = value
        return name

    def at(self, span: Span, input_path: str | None = None) -> None:
        self.site = Site(span, self.field, input_path)

    # --- module ---------------------------------------------------------------------------
    def module(self, rules: list[CheckedRule]) -> GeneratedModule:
        names = []
        for i, checked in enumerate(rules):
            fname = f"_rule_{i}"
            self.rule(checked, fname)
            names.append(fname)
        filename = f"<paymap {self.file}{' (explain)' if self.trace else ''}>"
        return GeneratedModule("\n".join(self.lines) + "\n", filename, self.namespace, self.sites, names,
                               self.trace_labels)

    def rule(self, checked: CheckedRule, fname: str) -> None:
        rule = checked.rule
        self.indent = 0
        self.field: str | None = None
        self.site = Site(rule.span, None, None)
        self.depth = 0
        self.cache: dict[tuple[str, Any], str] = {}
        self.lets: dict[str, str] = {}
        self.let_exprs: dict[str, n.Expr] = {}
        self.params: list[tuple[str, str]] = []
        self.containers: dict[tuple[str, ...], str] = {(): "_o"}
        labels: list[tuple[Span, str]] = []
        self.trace_labels.append(labels)
        self.emit(f"def {fname}(_in{', _trace' if self.trace else ''}):")
        self.indent = 1
        self.emit("_o = {}")
        self.roots: dict[str, str] = {}
        self.labels: list[tuple[Span, str]] = labels
        for stmt in rule.body:
            self.visit(stmt)
        self.field = None
        self.emit("return _o")

    # --- statements -----------------------------------------------------------------------
    def visit_Let(self, stmt: n.Let) -> str:
        self.field = f"let {stmt.name}"
        self.at(stmt.span)
        value = self.expr(stmt.value)
        var = self.tmp("_l")
        self.emit(f"{var} = {value}")
        self.lets[stmt.name] = var
        self.let_exprs[stmt.name] = stmt.value
        self._trace(self.labels, stmt.span, f"let {stmt.name}", var)
        return ""

    def visit_Assign(self, stmt: n.Assign) -> str:
        self.field = stmt.target_text
        self.at(stmt.span)
        value = self.expr(stmt.value)
        self.at(stmt.span, self.facts.input_paths.get(id(stmt.value)))
        if not _json_safe(stmt.value, self.facts, self.let_exprs):
            value = self._assign_tmp(f"_json({value})")
        container = self.container(stmt.target[:-1])
        key = repr(stmt.target[-1])
        if self.may_be_absent(stmt.value):
            self.emit(f"if {value} is not _M: {container}[{key}] = {value}")
        else:
            self.emit(f"{container}[{key}] = {value}")
        self._trace(self.labels, stmt.span, stmt.target_text, value)
        return ""

    def visit_Drop(self, stmt: n.Drop) -> str:
        self.field = "drop"
        self.at(stmt.span)
        if stmt.cond is None:
            self._trace(self.labels, stmt.span, "drop", "True")
            self.emit("return None")
        else:
            cond = self.expr(stmt.cond)
            self.at(stmt.cond.span)
            flag = self._assign_tmp(f"_truth({cond}, 'the `drop if` condition')")
            self._trace(self.labels, stmt.span, "drop if", flag)
            self.emit(f"if {flag}: return None")
        return ""

    def visit_Use(self, stmt: n.Use) -> str:
        """Shared lines are expanded into the rule before code generation: nothing to emit."""
        return ""

    def _trace(self, labels: list[tuple[Span, str]], span: Span, label: str, value: str) -> None:
        if self.trace:
            labels.append((span, label))
            self.emit(f"_trace({len(labels) - 1}, {value})")

    def _assign_tmp(self, code: str) -> str:
        var = self.tmp()
        self.emit(f"{var} = {code}")
        return var

    def container(self, path: tuple[str, ...]) -> str:
        var = self.containers.get(path)
        if var is None:
            parent = self.container(path[:-1])
            var = self.tmp("_c")
            self.emit(f"{var} = {parent}[{path[-1]!r}] = {{}}")
            self.containers[path] = var
        return var

    # --- expressions ----------------------------------------------------------------------
    def expr(self, e: n.Expr) -> str:
        return self.visit(e)

    def visit_Literal(self, e: n.Literal) -> str:
        v = e.value
        if isinstance(v, Decimal):
            return self.const(v)
        return repr(v)

    def visit_Name(self, e: n.Name) -> str:
        res = self.facts.names.get(id(e))
        kind = res.kind if res else "input"
        if kind == "let":
            return self.lets[e.name]
        if kind == "param":
            for pname, var in reversed(self.params):
                if pname == e.name:
                    return var
        root = self.roots.get(e.name)
        if root is None:
            root = self.tmp("_r")
            if self.depth == 0:
                self.roots[e.name] = root
            self.emit(f"{root} = _in.get({e.name!r}, _M)")
        return root

    def visit_Element(self, e: n.Element) -> str:
        return self.params[-1][1]

    def visit_Field(self, e: n.Field) -> str:
        base = self.expr(e.obj)
        key = (base, e.name)
        cached = self.cache.get(key)
        if cached:
            return cached
        self.at(e.span, self.facts.input_paths.get(id(e)))
        var = self.tmp()
        k = repr(e.name)
        self.emit(f"{var} = {base}.get({k}, _M) if {base}.__class__ is _dict else _field_slow({base}, {k})")
        if self.depth == 0:
            self.cache[key] = var
        return var

    def visit_Index(self, e: n.Index) -> str:
        base = self.expr(e.obj)
        self.at(e.span, self.facts.input_paths.get(id(e)))
        return self._assign_tmp(f"_index({base}, {e.index!r})")

    def visit_Project(self, e: n.Project) -> str:
        base = self.expr(e.base)
        self.at(e.span, self.facts.input_paths.get(id(e)))
        lst = self._assign_tmp(f"_project({base})")
        return self._loop(lst, "", e.each, None)

    def _loop(self, lst: str, param: str, body: n.Expr, filter_of: n.Expr | None) -> str:
        """A bounded loop over ``lst`` (already checked to be a list or absent), one item per pass.

        Collects ``body``'s values (missing ones left out), or with ``filter_of`` the items for
        which ``body`` is true. An absent list stays absent.
        """
        out = self.tmp()
        item = self.tmp("_e")
        self.emit(f"if {lst} is _M or {lst} is None: {out} = {lst}")
        self.emit("else:")
        self.indent += 1
        self.emit(f"{out} = []")
        self.emit(f"for {item} in {lst}:")
        self.indent += 1
        self.depth += 1
        self.params.append((param, item))
        value = self.expr(body)
        self.params.pop()
        if filter_of is None:
            self.emit(f"if {value} is not _M: {out}.append({value})")
        else:
            self.at(filter_of.span)
            self.emit(f"if _truth({value}, 'the `filter` condition'): {out}.append({item})")
        self.depth -= 1
        self.indent -= 2
        return out

    def visit_Unary(self, e: n.Unary) -> str:
        operand = self.expr(e.operand)
        self.at(e.span)
        if e.op == "not":
            return self._assign_tmp(f"not _truth({operand}, 'the operand of `not`')")
        if isinstance(e.operand, n.Literal) and type(e.operand.value) in (int, Decimal):
            return self.visit_Literal(n.Literal(e.span, -e.operand.value))  # type: ignore[operator]
        return self._assign_tmp(f"_neg({operand})")

    def visit_Binary(self, e: n.Binary) -> str:
        op = e.op
        if op == "??":
            left = self.expr(e.left)
            out = self._assign_tmp(left)
            self.emit(f"if {out} is _M or {out} is None:")
            self._branch(e.right, out)
            return out
        if op in ("and", "or"):
            left = self.expr(e.left)
            self.at(e.left.span)
            out = self._assign_tmp(f"_truth({left}, 'the left side of `{op}`')")
            self.emit(f"if {'' if op == 'and' else 'not '}{out}:")
            self.indent += 1
            self.depth += 1
            right = self.expr(e.right)
            self.at(e.right.span)
            self.emit(f"{out} = _truth({right}, 'the right side of `{op}`')")
            self.depth -= 1
            self.indent -= 1
            return out
        left = self.expr(e.left)
        right = self.expr(e.right)
        self.at(e.span, self.facts.input_paths.get(id(e.left)) or self.facts.input_paths.get(id(e.right)))
        if op in ("==", "!=") and self._plain_strings(e.left) and self._plain_strings(e.right):
            return self._assign_tmp(f"{left} {op} {right}")
        if op in ("==", "!="):
            cond = _eq_inline(left, e.right) or _eq_inline(right, e.left)
            if cond is not None:
                return self._assign_tmp(cond if op == "==" else f"not ({cond})")
        if op == "&":  # text joined inline when both sides are text, else `_concat` (absent values, faults)
            checks = [f"{code}.__class__ is str" for code, side in ((left, e.left), (right, e.right))
                      if not (isinstance(side, n.Literal) and type(side.value) is str)]
            if checks:
                return self._assign_tmp(f"{left} + {right} if {' and '.join(checks)} else _concat({left}, {right})")
        return self._assign_tmp(f"{_OPS[op]}({left}, {right})")

    def _plain_strings(self, e: n.Expr) -> bool:
        return self.facts.types.get(id(e), T.ANY) <= T.STRING

    def _branch(self, e: n.Expr, out: str) -> None:
        """Compile ``e`` as a conditional block that stores its value in ``out``."""
        self.indent += 1
        self.depth += 1
        value = self.expr(e)
        self.emit(f"{out} = {value}")
        self.depth -= 1
        self.indent -= 1

    def visit_IfExpr(self, e: n.IfExpr) -> str:
        """An `else if` chain is one flat chain of tests, however long (see :meth:`_chain`)."""
        branches: list[tuple[Callable[[], str], n.Expr]] = []
        node: n.Expr = e
        while isinstance(node, n.IfExpr):
            branches.append((functools.partial(self._if_test, node.cond), node.then))
            node = node.otherwise
        return self._chain(branches, node)

    def _if_test(self, cond_expr: n.Expr) -> str:
        cond = self.expr(cond_expr)
        self.at(cond_expr.span)
        return f"_truth({cond}, 'the `if` condition')"

    def visit_Match(self, e: n.Match) -> str:
        """One flat chain of tests; arms after the default `_` can never run."""
        subject = self.expr(e.subject) if e.subject is not None else None
        default = next((a for a in e.arms if a.pattern is None), None)
        arms = e.arms[: e.arms.index(default)] if default is not None else e.arms
        branches = [(functools.partial(self._arm_test, subject, arm), arm.value) for arm in arms]
        return self._chain(branches, default.value if default is not None else None,
                           default.span if default is not None else None)

    def _arm_test(self, subject: str | None, arm: n.Arm) -> str:
        assert arm.pattern is not None
        if subject is not None:
            pat = self.expr(arm.pattern)
            self.at(arm.span)
            return _eq_inline(subject, arm.pattern) or f"_eq({subject}, {pat})"
        cond = self.expr(arm.pattern)
        self.at(arm.pattern.span)
        return f"_truth({cond}, 'a `match` arm condition')"

    def _chain(self, branches: Sequence[tuple[Callable[[], str], n.Expr]], default: n.Expr | None,
               default_span: Span | None = None) -> str:
        """Tests tried in order, the value of the first that holds, else ``default``.

        Flat code whatever the number of branches (Python refuses more than 100 levels of
        indentation, and compiles an ``elif`` as a nested ``if``): ``if/elif/else`` when the
        branches are few and no test needs a statement of its own (literal `match` arms), else one
        ``while True:`` block that each branch leaves with ``break``."""
        out = self.tmp()
        saved = (len(self.lines), len(self.sites), dict(self.cache), dict(self.roots), self.site)
        if len(branches) <= _ELIF_MAX and self._elif_chain(branches, default, default_span, out):
            return out
        del self.lines[saved[0]:], self.sites[saved[1]:]
        self.cache, self.roots, self.site = saved[2], saved[3], saved[4]
        self.emit("while True:")
        self.indent += 1
        for i, (test, value) in enumerate(branches):
            self.depth += i == 1  # later tests only run when the earlier ones failed
            self.emit(f"if {test()}:")
            self._branch(value, out)
            self.indent += 1
            self.emit("break")
            self.indent -= 1
        self.depth += len(branches) == 1
        self._default(default, default_span, out)
        self.emit("break")
        self.depth -= bool(branches)
        self.indent -= 1
        return out

    def _elif_chain(self, branches: Sequence[tuple[Callable[[], str], n.Expr]], default: n.Expr | None,
                    default_span: Span | None, out: str) -> bool:
        """``if/elif/else``; False (and the caller rolls back) as soon as a test emits a statement."""
        for i, (test, value) in enumerate(branches):
            before = len(self.lines)
            cond = test()
            if len(self.lines) != before:
                return False
            self.emit(f"{'elif' if i else 'if'} {cond}:")
            self._branch(value, out)
        if branches:
            self.emit("else:")
            self.indent += 1
            self.depth += 1
        self._default(default, default_span, out)
        if branches:
            self.depth -= 1
            self.indent -= 1
        return True

    def _default(self, default: n.Expr | None, span: Span | None, out: str) -> None:
        if default is None:  # the checker requires a default arm (M303); kept total for safety
            self.emit(f"{out} = _M")
            return
        if span is not None:
            self.at(span)
        self.emit(f"{out} = {self.expr(default)}")

    def visit_ListExpr(self, e: n.ListExpr) -> str:
        items = []
        for item in e.items:
            value = self.expr(item)
            if self.may_be_absent(item):
                value = f"(None if {value} is _M else {value})"
            items.append(value)
        return self._assign_tmp(f"[{', '.join(items)}]")

    def visit_ObjectExpr(self, e: n.ObjectExpr) -> str:
        out = self._assign_tmp("{}")
        for entry in e.entries:
            value = self.expr(entry.value)
            if self.may_be_absent(entry.value):
                self.emit(f"if {value} is not _M: {out}[{entry.key!r}] = {value}")
            else:
                self.emit(f"{out}[{entry.key!r}] = {value}")
        return out

    def may_be_absent(self, e: n.Expr) -> bool:
        """Whether ``e`` can be missing or null at run time (:class:`MayBeAbsent`)."""
        return MayBeAbsent(self.facts, self.let_exprs).visit(e)

    def visit_Lambda(self, e: n.Lambda) -> str:  # only reached through map/filter
        raise AssertionError("lambda outside map/filter")

    def visit_Call(self, e: n.Call) -> str:
        fn = BUILTINS[e.func]
        if fn.lambda_param is not None:
            return self._lambda_call(e)
        args: list[str] = []
        maybe_absent: list[str] = []
        for i, arg in enumerate(e.args):
            param = fn.params[min(i, len(fn.params) - 1)]
            if fn.name == "query" and i == 1 and isinstance(arg, n.Literal):
                args.append(self.const(F.compile_query(str(arg.value)), "q"))
                continue
            value = self.expr(arg)
            args.append(value)
            if fn.absent == "propagate" and not param.literal and self.may_be_absent(arg):
                maybe_absent.append(value)
        first_path = next((self.facts.input_paths[id(a)] for a in e.args if id(a) in self.facts.input_paths), None)
        self.at(e.span, first_path)
        call = f"_f_{fn.name}({', '.join(args)})"
        if not maybe_absent:
            return self._assign_tmp(call)
        out = self.tmp()
        self.emit(f"if {' or '.join(f'{a} is _M' for a in maybe_absent)}: {out} = _M")
        self.emit(f"elif {' or '.join(f'{a} is None' for a in maybe_absent)}: {out} = None")
        self.emit(f"else: {out} = {call}")
        return out

    def _lambda_call(self, e: n.Call) -> str:
        lst_expr, lam = e.args[0], e.args[1]
        assert isinstance(lam, n.Lambda)
        base = self.expr(lst_expr)
        self.at(e.span, self.facts.input_paths.get(id(lst_expr)))
        lst = self._assign_tmp(f"_list_arg({base}, {e.func!r})")
        return self._loop(lst, lam.param, lam.body, lam.body if e.func == "filter" else None)


def _eq_inline(code: str, literal: n.Expr) -> str | None:
    """``_eq(code, literal)`` as an inline condition with the same result for every runtime value
    (JSON values, Decimal, missing), or None when ``literal`` is not a scalar literal."""
    if not isinstance(literal, n.Literal) or not code.isidentifier():  # `1.__class__` would not parse
        return None
    v = literal.value
    if v is None:
        return f"({code} is None or {code} is _M)"  # missing equals null
    if type(v) is bool:
        return f"{code} is {v!r}"
    if type(v) is str:
        return f"{code} == {v!r}"  # `==` of a str with any other runtime value is False, as in _eq
    if type(v) is int:
        return f"({code} == {v!r} and {code}.__class__ is not bool)"  # `true == 1` is false
    return None


def _json_safe(e: n.Expr, facts: Facts, lets: dict[str, n.Expr]) -> bool:
    """True when the value can hold no Decimal (input values come from JSON and hold none)."""
    return JsonSafe(facts, lets).visit(e)


class MayBeAbsent(NodeVisitor[bool]):
    """Whether an expression can be missing or null at run time.

    Decided from the expression's shape, not from the schema: a real body can lack a field the
    schema calls required, and then the generated code must still treat it as missing. Shared by
    both back ends. ``let_exprs``: the rule's `let` values so far, by name.
    """

    def __init__(self, facts: Facts, let_exprs: dict[str, n.Expr]) -> None:
        self.facts = facts
        self.let_exprs = let_exprs

    def generic_visit(self, node: n.Expr) -> bool:
        return True  # input paths, projections, elements, lambdas

    def visit_Literal(self, e: n.Literal) -> bool:
        return e.value is None

    def visit_ListExpr(self, e: n.ListExpr) -> bool:
        return False

    def visit_ObjectExpr(self, e: n.ObjectExpr) -> bool:
        return False

    def visit_Name(self, e: n.Name) -> bool:
        res = self.facts.names.get(id(e))
        if res is not None and res.kind == "let" and res.name in self.let_exprs:
            return self.visit(self.let_exprs[res.name])
        return True

    def visit_Binary(self, e: n.Binary) -> bool:
        if e.op == "??":
            return self.visit(e.right)
        if e.op in ("==", "!=", "<", "<=", ">", ">=", "and", "or"):
            return False
        return self.visit(e.left) or self.visit(e.right)

    def visit_Unary(self, e: n.Unary) -> bool:
        return e.op != "not" and self.visit(e.operand)

    def visit_IfExpr(self, e: n.IfExpr) -> bool:
        return any(self.visit(x) for x in if_branches(e))

    def visit_Match(self, e: n.Match) -> bool:
        return any(self.visit(a.value) for a in e.arms) or all(a.pattern is not None for a in e.arms)

    def visit_Call(self, e: n.Call) -> bool:
        fn = BUILTINS.get(e.func)
        if fn is None:
            return True
        if fn.name in ("required", "exists", "is_null"):
            return False
        if fn.name == "coalesce":
            return all(self.visit(a) for a in e.args)
        if fn.lambda_param is not None:
            return self.visit(e.args[0]) if e.args else True
        if fn.absent != "propagate":
            return True
        return any(self.visit(a) for i, a in enumerate(e.args) if not fn.params[min(i, len(fn.params) - 1)].literal)


class JsonSafe(NodeVisitor[bool]):
    """Whether a value can hold no Decimal (input values come from JSON and hold none), so the
    generated code can skip converting it to JSON values."""

    def __init__(self, facts: Facts, lets: dict[str, n.Expr]) -> None:
        self.facts = facts
        self.lets = lets

    def visit(self, node: n.Expr) -> bool:
        if id(node) in self.facts.input_paths:
            return True
        return super().visit(node)

    def generic_visit(self, node: n.Expr) -> bool:
        return False  # projections and anything new: convert, to be safe

    def visit_Element(self, e: n.Element) -> bool:
        return True

    def visit_Literal(self, e: n.Literal) -> bool:
        return not isinstance(e.value, Decimal)

    def visit_Name(self, e: n.Name) -> bool:
        res = self.facts.names.get(id(e))
        if res is not None and res.kind == "let" and res.name in self.lets:
            return self.visit(self.lets[res.name])
        return res is None or res.kind != "let"

    def visit_Binary(self, e: n.Binary) -> bool:
        if e.op == "??":
            return self.visit(e.left) and self.visit(e.right)
        return e.op not in ("+", "-", "*", "/", "%") or self.facts.types.get(id(e), T.ANY) <= T.INT | T.ABSENT

    def visit_Unary(self, e: n.Unary) -> bool:
        return e.op == "not" or self.visit(e.operand)

    def visit_IfExpr(self, e: n.IfExpr) -> bool:
        return all(self.visit(x) for x in if_branches(e))

    def visit_Match(self, e: n.Match) -> bool:
        return all(self.visit(a.value) for a in e.arms)

    def visit_ListExpr(self, e: n.ListExpr) -> bool:
        return all(self.visit(i) for i in e.items)

    def visit_ObjectExpr(self, e: n.ObjectExpr) -> bool:
        return all(self.visit(en.value) for en in e.entries)

    def visit_Call(self, e: n.Call) -> bool:
        fn = BUILTINS.get(e.func)
        if fn is None:
            return False
        if fn.name in ("coalesce", "required"):
            return all(self.visit(a) for a in e.args)
        if fn.name == "query":
            return self.visit(e.args[0])
        if fn.name in ("map", "filter"):
            lam = e.args[1] if len(e.args) > 1 else None
            body_ok = not isinstance(lam, n.Lambda) or fn.name == "filter" or self.visit(lam.body)
            return self.visit(e.args[0]) and body_ok
        return fn.returns <= T.STRING | T.INT | T.BOOL
