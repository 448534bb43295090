"""Checked AST → ES5 JavaScript: the second back end, for the dashboards that run a transformation
instead of the relay (Dodo's, which is Svix's ``handler(webhook)``, and Inngest's webhook
``transform(evt, headers, queryParams, raw)``).

Same front end and the same checked facts as ``dsl/codegen.py``; the semantics of the Python runtime
come from ``dsl/js/runtime.js``, of which only the helpers a mapping uses are copied into the output.
Nodes compile one ``visit_<NodeType>`` method each (``dsl.visitor``), so a new AST node is one new method; a node
without one is reported (M700), never exported wrong.

No text from a ``.map`` file reaches the output except through ``json.dumps`` of literals and keys
(ASCII-escaped, so U+2028 cannot end a line inside a string literal); every identifier is generated.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from dsl import nodes as n
from dsl.builtins import BUILTINS
from dsl.checker import CheckedRule, Facts
from dsl.codegen import MayBeAbsent
from dsl.compiler import CompiledFile, CompileResult, compile_paths
from dsl.diagnostics import Diagnostic, Diagnostics
from dsl.source import Span
from dsl.visitor import NodeVisitor
from prelude.functions import _EXPONENTS  # the one source of exponents


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # "dodo" | "inngest"
    title: str
    limit: int  # characters the platform accepts
    limit_source: str


TARGETS: dict[str, Target] = {
    "dodo": Target("dodo", "Dodo Payments dashboard (Svix transformation)", 51_200,
                   "Svix's API caps transformation code at 51,200 characters"),
    "inngest": Target("inngest", "Inngest webhook transform", 2_048,
                      "Inngest's documentation (older pages) caps transforms at 2 KB"),
}

SAFE_INT = 2**53 - 1
SKIPPED_EVENT = "paymap/webhook.skipped"


# --- the runtime library -----------------------------------------------------------------------


@cache
def runtime_blocks() -> dict[str, str]:
    """``dsl/js/runtime.js`` split at its ``//# NAME`` lines, in file order."""
    text = (resources.files("dsl") / "js" / "runtime.js").read_text(encoding="utf-8")
    blocks: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("//# "):
            if name is not None:
                blocks[name] = "\n".join(lines).strip("\n")
            name, lines = line[4:].strip(), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        blocks[name] = "\n".join(lines).strip("\n")
    return blocks


_IDENT = re.compile(r"\b_[A-Za-z0-9_]+\b")


def runtime_for(code: str) -> list[str]:
    """The runtime blocks ``code`` needs, with the blocks they need in turn, in file order."""
    blocks = runtime_blocks()
    needed: set[str] = set()
    todo = [m for m in _IDENT.findall(code) if m in blocks]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(m for m in _IDENT.findall(blocks[name]) if m in blocks and m not in needed)
    return [name for name in blocks if name in needed]


def exponent_table() -> str:
    """ISO 4217 exponents in the runtime's packed form (``2|AED|AFN|…| 0|BIF|CLP|…|``), from the same
    table as the Python runtime."""
    groups: dict[int, list[str]] = {}
    for code, exp in sorted(_EXPONENTS.items()):
        if len(code) == 3 and code.isalpha():
            groups.setdefault(exp, []).append(code)
    return " ".join(f"{exp}|{'|'.join(codes)}|" for exp, codes in sorted(groups.items()))


def _js_block(name: str, compact: bool) -> str:
    text = runtime_blocks()[name]
    if name == "_exp":
        text = text.replace("/*EXPONENTS*/", exponent_table())
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("//")]
    if compact:
        lines = [ln.strip() for ln in lines]
    return "\n".join(lines)


def js_string(text: str) -> str:
    return json.dumps(text)  # ASCII-only: a valid ES5 string literal


# --- one file's rules -> JavaScript ----------------------------------------------------------


def _is_cat(e: n.Expr) -> bool:
    return isinstance(e, n.Binary) and e.op == "&"


class JsGen(NodeVisitor[str]):
    """Generates the rule functions of one file: a statement per `let`, assignment and `drop`,
    each one expression (``??``, ``if`` and ``match`` as lazy conditionals, ``map``/``filter`` as
    nested functions). ``sites`` (shared by every file of an export) are the
    ``file:line:col: in `field`:`` prefixes of run-time errors, selected by ``_s``."""

    def __init__(self, facts: Facts, diags: Diagnostics, sites: list[str], files: list[str]) -> None:
        self.facts = facts
        self.diags = diags
        self.sites = sites
        self.files = files
        self.lines: list[str] = []
        self.absent = MayBeAbsent(facts, {})  # the shape-based analysis the Python back end uses
        self.pending = ""  # `_s = N; ` to put in front of the next line
        self._n = 0

    # --- emission -------------------------------------------------------------------------
    def tmp(self, prefix: str = "_v") -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def emit(self, code: str) -> None:
        self.lines.append("  " + self.pending + code)
        self.pending = ""

    def hoist(self, code: str) -> str:
        """``code`` evaluated once, here, into a variable (only where it is always evaluated)."""
        var = self.tmp()
        self.emit(f"var {var} = {code};")
        return var

    def temp(self) -> str:
        var = self.tmp("_t")
        self.emit(f"var {var};")
        return var

    def site(self, span: Span, label: str | None) -> None:
        if span.file not in self.files:
            self.files.append(span.file)
        self.sites.append(js_string(f"{self.files.index(span.file)}:{span.line}:{span.column}:{label or ''}"))
        self.pending = f"_s = {len(self.sites) - 1}; "

    def refuse(self, span: Span, what: str, help: str) -> str:
        self.diags.error("M700", span, f"{what} cannot be exported to JavaScript", help=help)
        return "undefined"

    # --- rules ----------------------------------------------------------------------------
    def rule(self, checked: CheckedRule, fname: str) -> None:
        rule = checked.rule
        self.depth = 0
        self.cache: dict[str, str] = {}
        self.lets: dict[str, str] = {}
        self.absent.let_exprs = {}
        self.params: list[tuple[str, str]] = []
        self.containers: dict[tuple[str, ...], str] = {(): "_o"}
        self.lines.append(f"function {fname}(_in) {{")
        self.site(rule.span, None)
        self.emit("var _o = {};")
        for stmt in rule.body:
            self.visit(stmt)
        self.emit("return _o;")
        self.lines.append("}")

    def visit_Let(self, stmt: n.Let) -> None:
        self.site(stmt.span, f"let {stmt.name}")
        value = self.expr(stmt.value)
        var = self.tmp("_l")
        self.emit(f"var {var} = {value};")
        self.lets[stmt.name] = var
        self.absent.let_exprs[stmt.name] = stmt.value

    def visit_Assign(self, stmt: n.Assign) -> None:
        self.site(stmt.span, stmt.target_text)
        value = self.expr(stmt.value)
        container = self.container(stmt.target[:-1])
        self.emit(f"_set({container}, {js_string(stmt.target[-1])}, {value});")

    def visit_Drop(self, stmt: n.Drop) -> None:
        self.site(stmt.span, "drop")
        if stmt.cond is None:
            self.emit("return null;")
            return
        cond = self.expr(stmt.cond)
        self.emit(f"if (_truth({cond}, {js_string('the `drop if` condition')})) return null;")

    def container(self, path: tuple[str, ...]) -> str:
        var = self.containers.get(path)
        if var is None:
            parent = self.container(path[:-1])
            var = self.tmp("_c")
            self.emit(f"var {var} = _put({parent}, {js_string(path[-1])}, {{}});")
            self.containers[path] = var
        return var

    # --- expressions ----------------------------------------------------------------------
    def expr(self, e: n.Expr) -> str:
        return self.visit(e)

    def generic_visit(self, node: n.Expr | n.Stmt) -> str:
        """A node without a ``visit_`` method here is reported (M700), never exported wrong."""
        kind = "statement" if isinstance(node, n.Stmt) else "expression"
        return self.refuse(node.span, f"a `{type(node).__name__}` {kind}",
                           "this construct is not in the JavaScript back end yet")

    def lazy(self, e: n.Expr) -> str:
        """``e`` where it may not be evaluated (a branch): nothing of it is hoisted."""
        self.depth += 1
        try:
            return self.expr(e)
        finally:
            self.depth -= 1

    def visit_Literal(self, e: n.Literal) -> str:
        v = e.value
        if v is None:
            return "null"
        if type(v) is bool:
            return "true" if v else "false"
        if isinstance(v, str):
            return js_string(v)
        if type(v) is int:
            return str(v) if -SAFE_INT <= v <= SAFE_INT else f"_inorm(_dparse({js_string(str(v))}))"
        return f"_dparse({js_string(str(v))})"

    def visit_Name(self, e: n.Name) -> str:
        res = self.facts.names.get(id(e))
        kind = res.kind if res else "input"
        if kind == "let":
            return self.lets[e.name]
        if kind == "param":
            for pname, var in reversed(self.params):
                if pname == e.name:
                    return var
        return f"_get(_in, {js_string(e.name)})"

    def base(self, e: n.Expr) -> str:
        """An object read to read fields of it: once per rule (where it is always evaluated)."""
        code = self.expr(e)
        if self.depth or not code.startswith("_get("):
            return code
        cached = self.cache.get(code)
        if cached is None:
            cached = self.cache[code] = self.hoist(code)
        return cached

    def visit_Element(self, e: n.Element) -> str:
        return self.params[-1][1]

    def visit_Field(self, e: n.Field) -> str:
        return f"_get({self.base(e.obj)}, {js_string(e.name)})"

    def visit_Index(self, e: n.Index) -> str:
        return f"_idx({self.base(e.obj)}, {e.index})"

    def visit_Project(self, e: n.Project) -> str:
        return self.loop("_map", f"_proj({self.expr(e.base)})", "", e.each)

    def loop(self, helper: str, lst: str, param: str, body: n.Expr) -> str:
        """``_map``/``_filter`` over a list with the body as a nested function of one item."""
        item = self.tmp("_e")
        self.params.append((param, item))
        value = self.lazy(body)
        self.params.pop()
        if helper == "_filter":
            value = f"_truth({value}, {js_string('the `filter` condition')})"
        return f"{helper}({lst}, function ({item}) {{ return {value}; }})"

    def visit_Unary(self, e: n.Unary) -> str:
        if e.op == "-" and isinstance(e.operand, n.Literal) and type(e.operand.value) in (int, Decimal):
            return self.visit_Literal(n.Literal(e.span, -e.operand.value))  # type: ignore[operator]
        operand = self.expr(e.operand)
        if e.op == "not":
            return f"!_truth({operand}, {js_string('the operand of `not`')})"
        return f"_neg({operand})"

    def visit_Binary(self, e: n.Binary) -> str:
        op = e.op
        if op == "??":
            t = self.temp()
            left = self.expr(e.left)
            return f"({t} = {left}, {t} === undefined || {t} === null ? {self.lazy(e.right)} : {t})"
        if op in ("and", "or"):
            left = f"_truth({self.expr(e.left)}, {js_string(f'the left side of `{op}`')})"
            right = f"_truth({self.lazy(e.right)}, {js_string(f'the right side of `{op}`')})"
            return f"({left} ? {right} : false)" if op == "and" else f"({left} ? true : {right})"
        left, right = self.expr(e.left), self.expr(e.right)
        if op in ("==", "!="):
            text = any(isinstance(s, n.Literal) and isinstance(s.value, str) for s in (e.left, e.right))
            return f"({left} {op}= {right})" if text else f"{'!' if op == '!=' else ''}_eq({left}, {right})"
        if op in ("<", "<=", ">", ">="):
            return f"_cmp({js_string(op)}, {left}, {right})"
        if op == "&":  # `a & b & c` as one call: the same left fold of `&`
            return f"_cat({left[5:-1] if left.startswith('_cat(') and _is_cat(e.left) else left}, {right})"
        return f"_arith({js_string(op)}, {left}, {right})"

    def visit_IfExpr(self, e: n.IfExpr) -> str:
        cond = self.expr(e.cond)
        return f"(_truth({cond}, {js_string('the `if` condition')}) ? {self.lazy(e.then)} : {self.lazy(e.otherwise)})"

    def visit_Match(self, e: n.Match) -> str:
        """Nested conditionals, one per arm; arms after the default ``_`` can never run."""
        default = next((a for a in e.arms if a.pattern is None), None)
        arms = e.arms[: e.arms.index(default)] if default is not None else e.arms
        head = ""
        subject = None
        if e.subject is not None:
            subject = self.temp()
            head = f"{subject} = {self.expr(e.subject)}, "
        parts = []
        for i, arm in enumerate(arms):
            assert arm.pattern is not None
            pat = self.expr(arm.pattern) if i == 0 else self.lazy(arm.pattern)
            cond = f"_eq({subject}, {pat})" if subject is not None else \
                f"_truth({pat}, {js_string('a `match` arm condition')})"
            parts.append(f"{cond} ? {self.lazy(arm.value)} : ")
        # the checker requires a default arm (M303); kept total for safety
        last = self.lazy(default.value) if default is not None else "undefined"
        return f"({head}{''.join(parts)}{last})"

    def visit_ListExpr(self, e: n.ListExpr) -> str:
        items = [self.expr(item) for item in e.items]
        code = f"[{', '.join(items)}]"
        return f"_list({code})" if any(self.absent.visit(i) for i in e.items) else code

    def visit_ObjectExpr(self, e: n.ObjectExpr) -> str:
        parts: list[str] = []
        for entry in e.entries:
            parts.extend((js_string(entry.key), self.expr(entry.value)))
        return f"_obj([{', '.join(parts)}])"

    def visit_Lambda(self, e: n.Lambda) -> str:  # only reached through map/filter
        return self.refuse(e.span, "a `x -> ...` function outside map/filter",
                           "use it as the second argument of map or filter")

    def visit_Call(self, e: n.Call) -> str:
        fn = BUILTINS[e.func]
        if fn.lambda_param is not None:
            lam = e.args[1]
            assert isinstance(lam, n.Lambda)
            lst = f"_larg({self.expr(e.args[0])}, {js_string(e.func)})"
            return self.loop("_filter" if e.func == "filter" else "_map", lst, lam.param, lam.body)
        if fn.name == "query":
            return self.refuse(e.span, "`query()` (JMESPath)",
                               "write the path with `.field`, `[*]`, `map` and `filter` instead; paymap does not "
                               "ship a JMESPath engine in JavaScript")
        args = [self.expr(a) for a in e.args]
        absent = fn.absent == "propagate" and any(
            self.absent.visit(a) for i, a in enumerate(e.args) if not fn.params[min(i, len(fn.params) - 1)].literal)
        if absent:  # a missing argument gives missing, a null one null, without calling
            return f"_ap(_f_{fn.name}, [{', '.join(args)}])"
        return f"_f_{fn.name}({', '.join(args)})"


# --- whole exports -----------------------------------------------------------------------------


@dataclass(slots=True)
class Export:
    code: str | None  # None when an error diagnostic refused the export
    diagnostics: list[Diagnostic]
    target: Target
    files: list[str] = field(default_factory=list)
    rules: int = 0

    @property
    def size(self) -> int:
        return len(self.code) if self.code is not None else 0


def globs_overlap(a: str, b: str) -> bool:
    """Whether some event type matches both patterns (``*`` matches any text)."""

    @cache
    def go(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            return go(i + 1, j) or (j < len(b) and go(i, j + 1))
        if j < len(b) and b[j] == "*":
            return go(i, j + 1) or (i < len(a) and go(i + 1, j))
        return i < len(a) and j < len(b) and a[i] == b[j] and go(i + 1, j + 1)

    return go(0, 0)


def _overlaps(patterns: Iterable[str], others: Iterable[str]) -> bool:
    others = list(others)
    return any(globs_overlap(p, q) for p in patterns for q in others)


def _header(target: Target, files: Sequence[CompiledFile], on: str | None) -> list[str]:
    try:
        ver = version("paymap")
    except PackageNotFoundError:  # running from a source tree without installing
        ver = "unknown"
    entry = "handler(webhook)" if target.name == "dodo" else "transform(evt, headers, queryParams, raw)"
    lines = [f"// Generated by paymap {ver} for the {target.title}: function {entry}.",
             "// Do not edit: change the .map files and run `paymap export` again."]
    for f in files:
        digest = hashlib.sha256(f.source.text.encode("utf-8")).hexdigest()[:16]
        lines.append(f"// {f.source.path} sha256:{digest}")
    if on is not None:
        lines.append(f"// only event types matching {on}")
    return lines


def export_result(result: CompileResult, target: str, on: str | None = None, *,
                  max_size: int | None = None, also: str = "include") -> Export:
    """Export compiled mappings; every problem is a diagnostic (M700-M702), nothing raises.

    ``on``: only rules that can receive an event type matching this pattern, and only such types
    (others are cancelled). ``also``: "include" the `also on` rules, "skip" them or export "only"
    them: a second endpoint for the events they add."""
    tgt = TARGETS[target]
    diags = Diagnostics()
    if not result.ok:
        return Export(None, list(result.diagnostics), tgt)
    chosen: list[tuple[CompiledFile, CheckedRule]] = []
    for f in result.files:
        for cr in f.rules:
            pats = [p.text for p in cr.rule.patterns]
            wanted = also == "include" or (also == "only") == cr.rule.also
            if wanted and (on is None or _overlaps(pats, [on])):
                chosen.append((f, cr))
    for _, cr in chosen:
        if not cr.rule.also:
            continue
        pats = [p.text for p in cr.rule.patterns]
        clash = next((o for _, o in chosen if o is not cr and _overlaps(pats, [p.text for p in o.rule.patterns])), None)
        if clash is not None:
            where = f"{clash.rule.span.file}:{clash.rule.span.line}"
            diags.error("M701", cr.rule.span,
                        f"this `also on` rule makes a second event from bodies the rule at {where} receives; "
                        f"the {tgt.title} sends one event per webhook",
                        help="export the `also on` rules for a second endpoint: `paymap export --also only`, "
                             "and the others with `--also skip`")
    if tgt.name == "dodo":
        for _, cr in chosen:
            if not cr.drops and cr.rule.body and ("id",) not in cr.targets:
                diags.warning("M703", cr.rule.span,
                              f"the rule for {cr.rule.label} sets no event `id`: in Dodo's dashboard each retry "
                              "of a webhook becomes one more Inngest event",
                              help='set one from the body, e.g. `id = "dodo:" & type & ":" & data.payment_id & ":" '
                                   '& timestamp` (the relay and the Inngest target use the webhook id instead)')
    sites: list[str] = []
    site_files: list[str] = []
    body: list[str] = []
    table: list[str] = []
    files: list[CompiledFile] = []
    for f in result.files:
        rules = [cr for g, cr in chosen if g is f]
        if not rules:
            continue
        files.append(f)
        gen = JsGen(f.facts, diags, sites, site_files)
        for cr in rules:
            fname = f"_r{len(table)}"
            gen.rule(cr, fname)
            table.append(f"[[{', '.join(js_string(p.text) for p in cr.rule.patterns)}], {fname}]")
        body.extend(gen.lines)
    if not chosen:
        span = Span(result.files[0].source.path, 1, 1, 1, 1) if result.files else Span("<export>", 1, 1, 1, 1)
        diags.error("M702", span, "nothing to export: no rule receives " + (f"event types matching `{on}`" if on else "any event type")
                    + ("" if also == "include" else f" (with --also {also})"),
                    help="check the PATH, --on and --also")
    if diags.has_errors:
        return Export(None, sorted([*result.diagnostics, *diags.sorted()], key=_order), tgt)
    code = _assemble(tgt, files, body, table, sites, site_files, on)
    limit = max_size if max_size is not None else tgt.limit
    if len(code) > limit:
        span = Span(files[0].source.path, 1, 1, 1, 1)
        diags.error("M702", span,
                    f"the exported code is {len(code):,} characters; the {tgt.title} accepts at most {limit:,}",
                    help=f"export fewer event types at once with `--on PATTERN` (e.g. --on \"{_family(chosen)}.*\"), "
                         "one endpoint each" + (
                             f"; {tgt.limit_source} (current pages state no limit: `--max-size` raises it)"
                             if tgt.name == "inngest" else ""))
        return Export(None, sorted([*result.diagnostics, *diags.sorted()], key=_order), tgt, [f.source.path for f in files], len(chosen))
    return Export(code, sorted([*result.diagnostics, *diags.sorted()], key=_order), tgt,
                  [f.source.path for f in files], len(chosen))


def _family(chosen: list[tuple[CompiledFile, CheckedRule]]) -> str:
    first = chosen[0][1].rule.patterns[0].text
    return first.split(".")[0].replace("*", "") or "payment"


def _order(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.span.file, d.span.line, d.span.column, d.code)


def _assemble(tgt: Target, files: list[CompiledFile], body: list[str], table: list[str], sites: list[str],
              site_files: list[str], on: str | None) -> str:
    compact = tgt.name == "inngest"
    if tgt.name == "dodo":
        head = "function handler(webhook) {"
        main = [
            "var body = webhook.payload;",
            "var ev = _run(body);",
            "if (ev === null) { webhook.cancel = true; return webhook; }",
            "webhook.payload = ev;",
            "return webhook;",
        ]
    else:
        head = "function transform(evt, headers, queryParams, raw) {"
        main = [
            "var body = evt, wid = headers && typeof headers[\"Webhook-Id\"] === \"string\" ? headers[\"Webhook-Id\"] : null;",
            "var ev = _run(body);",
            "if (ev === null) {",
            f"  ev = {{name: {js_string(SKIPPED_EVENT)}, data: {{type: body.type}}}};",
            "  if (wid !== null) ev.id = \"dodo:\" + wid + \":skipped\";",
            "  return ev;",
            "}",
            "if ((ev.id === undefined || ev.id === null) && wid !== null) ev.id = \"dodo:\" + wid;",
            "return ev;",
        ]
    run = [
        "function _run(body) {",
        "  if (!_isobj(body)) _fail(\"the webhook body must be a JSON object, got \" + _show(body));",
        "  var type = body.type;",
        "  if (typeof type !== \"string\") _fail(\"the webhook body has no string `type` field (got \" + _show(type) + \")\");",
    ]
    if on is not None:
        run.append(f"  if (!_glob({js_string(on)}, type)) return null;")
    run += [
        "  var rule = _route(_rules, type);",
        "  if (rule === null) return null;",
        "  var ev;",
        "  try { ev = rule(body); } catch (e) {",
        "    var w = /^(\\d+):(\\d+:\\d+):([\\s\\S]*)$/.exec(_S[_s]);",
        "    throw new Error(_F[+w[1]] + \":\" + w[2] + \":\" + (w[3] ? \" in `\" + w[3] + \"`:\" : \"\") + \" \" +",
        "                    (e && e.message ? e.message : String(e)) + \" [event type \" + JSON.stringify(type) + \"]\");",
        "  }",
        "  if (ev !== null && (ev.data === undefined || ev.data === null)) ev.data = {};",
        "  return ev;",
        "}",
    ]
    glue = [
        f"var _F = [{', '.join(js_string(f) for f in site_files)}];",
        f"var _s = 0, _S = [{', '.join(sites)}];",
        *body,
        f"var _rules = [{', '.join(table)}];",
        *run,
        *main,
    ]
    needed = runtime_for("\n".join(glue))
    runtime_code = [_js_block(name, compact) for name in needed]
    inner = [*runtime_code, *glue]
    lines: list[str] = []
    for chunk in inner:
        for ln in chunk.splitlines():
            lines.append(ln.strip() if compact else "  " + ln)
    return "\n".join([*_header(tgt, files, on), head, *lines, "}"]) + "\n"


def export_js(mappings: Any, target: str, on: str | None = None, *,
              max_size: int | None = None, also: str = "include") -> tuple[str | None, list[Diagnostic]]:
    """The playground's entry point: a ``MappingSet``, a ``CompileResult`` or paths → (code, diagnostics).

    ``code`` is None when an error diagnostic refused the export."""
    if isinstance(mappings, CompileResult):
        result = mappings
    elif hasattr(mappings, "result") and isinstance(mappings.result, CompileResult):
        result = mappings.result
    else:
        paths = [mappings] if isinstance(mappings, str | os.PathLike) else list(mappings)
        result = compile_paths(paths)
    out = export_result(result, target, on, max_size=max_size, also=also)
    return out.code, out.diagnostics
