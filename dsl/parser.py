"""Text → AST with spans, built as the LALR parser reduces (a Lark ``Transformer`` passed to the
parser, so no parse tree is built). Syntax errors become diagnostics, never exceptions.

The grammar is ``grammar/mapping.lark`` (LALR). Newlines end statements, except inside brackets,
where :class:`BracketNewlines` drops them so lists, objects and ``match`` can span lines.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from decimal import Decimal
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from dsl import habits
from dsl import nodes as n
from dsl.diagnostics import SPLIT_HELP, Diagnostics
from dsl.source import Span
from prelude.errors import PaymapError

MAX_SOURCE_BYTES = 8 << 20  # about 300,000 lines; checking stays linear in size
MAX_INT_DIGITS = 4300  # sys.int_info.default_max_str_digits
MAX_NESTING = 64
# Expressions nested deeper than this (`- - - … 1`, `a + a + …`) are not read: the passes after the
# parser walk the tree by recursion. About what Python's recursion limit allowed when the AST was
# built by recursion; the checker reports statements less deep that it cannot walk itself (M105).
MAX_EXPR_DEPTH = 950
MAX_SYNTAX_ERRORS = 20
_INPUT_KINDS = ("schema", "samples")

_OPEN = {"LPAR", "LSQB", "LBRACE"}
_CLOSE = {"RPAR", "RSQB", "RBRACE"}


class BracketNewlines:
    """Post-lexer: inside (), [] and {} a newline is only white space.

    Its state (the text being parsed, the brackets still open) lives in a ``threading.local``: one
    Lark parser, built once, serves every thread at once (a web server, a test runner) without a lock.
    The formatter uses its own instance, so it sees exactly the tokens the compiler sees.
    """

    always_accept = ("_NL",)

    def __init__(self) -> None:
        self._state = threading.local()

    def begin(self, source: str) -> None:
        """Set the text about to be parsed on this thread (to tell `a - b` from a misplaced `x -> ...`)."""
        self._state.source = source
        self._state.open = []

    @property
    def open(self) -> list[Token]:
        """Brackets still open when this thread's last parse stopped: syntax errors point at them."""
        opened: list[Token] = getattr(self._state, "open", [])
        return opened

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        opened: list[Token] = []
        self._state.open = opened
        source: str = getattr(self._state, "source", "")
        prev = ""
        for tok in stream:
            if tok.type in _OPEN:
                opened.append(tok)
                if len(opened) > MAX_NESTING:
                    raise _TooDeep(tok)
            elif tok.type in _CLOSE:
                if opened:
                    opened.pop()
            elif tok.type == "_NL" and opened:
                continue
            elif tok.type == "MINUS" and prev in OPERAND_END and not _arrow(source, tok):
                tok = binary_minus(tok)
            prev = tok.type
            yield tok


def _arrow(source: str, tok: Token) -> bool:
    end = tok.end_pos if tok.end_pos is not None else -1
    return 0 <= end < len(source) and source[end] == ">"


# A `-` right after one of these ends an operand, so it subtracts. The lexer cannot tell: since a
# `match` arm may start with a negative number (`1 => "a"  -1 => "b"`), LALR lookahead after an
# operand holds both the binary `ADD_OP` and the unary `MINUS`, and both match `-`.
OPERAND_END = frozenset({"NAME", "STRING", "INT", "DECIMAL", "TRUE", "FALSE", "NULL", "RPAR", "RSQB", "RBRACE"})


def binary_minus(tok: Token) -> Token:
    """The unary-minus token ``tok`` retyped as the binary operator (`a - b`)."""
    return Token.new_borrow_pos("ADD_OP", str(tok), tok)


class _TooDeep(PaymapError):
    def __init__(self, tok: Token) -> None:
        super().__init__("nesting too deep")
        self.tok = tok


@functools.cache
def grammar_text() -> str:
    return (resources.files("dsl.grammar") / "mapping.lark").read_text(encoding="utf-8")


_POSTLEX = BracketNewlines()


@functools.cache
def _parser() -> Lark:
    """The LALR parser that calls :class:`_AstBuilder` at each reduction and returns the module.

    It keeps every token (``keep_all_tokens``): a span reaches the keywords and brackets that start
    and end its construct, which Lark otherwise drops before a rule's method sees its children."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        postlex=_POSTLEX,
        transformer=_BUILDER,
        keep_all_tokens=True,
        maybe_placeholders=False,
        cache=True,
    )


# --- messages --------------------------------------------------------------------------------

_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "a number",
    "NEG_INT": "a number",
    "DECIMAL": "a number",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "EQUAL": "`=`",
    "DOT": "`.`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "STAR": "`*`",
    "MINUS": "`-`",
    "AMPERSAND": "`&`",
    "COMP_OP": "a comparison",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*`, `/` or `%`",
    "UNDERSCORE": "`_`",
    "_ON": "`on`",
    "_INPUT": "`input`",
    "_CONST": "`const`",
    "_GROUP": "`group`",
    "_DEFAULTS": "`defaults`",
    "_USE": "`use`",
    "ALSO": "`also`",
    "_LET": "`let`",
    "_DROP": "`drop`",
    "_IF": "`if`",
    "_THEN": "`then`",
    "_ELSE": "`else`",
    "_MATCH": "`match`",
    "_AND": "`and`",
    "_OR": "`or`",
    "_NOT": "`not`",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "NULL": "`null`",
}


def _describe_token(tok: Token) -> str:
    if tok.type in ("_NL", "$END"):
        return _TERMINAL_WORDS[tok.type].removeprefix("the ")
    text = str(tok)
    return f"`{text}`" if len(text) <= 30 else f"`{text[:27]}...`"


def _expected_words(expected: set[str]) -> str:
    words = sorted({_TERMINAL_WORDS.get(t, f"`{t.lower()}`") for t in expected})
    if "NAME" in expected and ("STRING" in expected or "INT" in expected) and "LPAR" in expected:
        return "an expression"
    if len(words) > 6:
        return "something else"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _hint(tok: Token, expected: set[str], line: str) -> str | None:
    text = str(tok)
    if tok.type == "EQUAL":
        return "to compare two values write `==`; a statement has a single `=`"
    if text == "-" and line[tok.column or 0: (tok.column or 0) + 1] == ">":
        return "`x -> ...` can only be the last argument of `map` or `filter`"
    if tok.type == "COMP_OP" and text == "==" and "EQUAL" in expected:
        return "to assign a value write a single `=`"
    if tok.type == "_NL" and "_ELSE" in expected:
        return "an `if` expression needs both branches: `if cond then a else b`"
    if tok.type == "_NL" and "_THEN" in expected:
        return "write `if cond then a else b`"
    if tok.type == "_NL" and {"RPAR", "RSQB", "RBRACE"} & expected:
        return "a bracket is still open; close it before the end of the line"
    if tok.type == "NAME" and text in ("elif", "elsif", "elseif"):
        return "write `else if`"
    if tok.type == "NAME" and text in ("when", "case", "switch"):
        return "use `match value { \"a\" => ..., _ => ... }`"
    if tok.type == "NAME" and text in ("AND", "OR", "NOT", "And", "Or", "Not"):
        return f"operators are lower case: `{text.lower()}`"
    if text in ("||", "|"):
        return "use `or` (booleans) or `??` (fallback when missing or null)"
    if text in ("&&",):
        return "use `and`"
    if "NAME" in expected and tok.type == "STRING" and "EQUAL" not in expected:
        return None
    return None


def _span_of_token(file: str, tok: Token) -> Span:
    line = tok.line or 1
    col = tok.column or 1
    end_line = tok.end_line or line
    end_col = tok.end_column or col + max(1, len(str(tok)))
    if tok.type in ("_NL", "$END"):
        end_line, end_col = line, col + 1
    return Span(file, line, col, end_line, end_col)


# --- entry point -----------------------------------------------------------------------------


def parse(text: str, file: str, diags: Diagnostics) -> n.Module:
    """Parse a whole file. On syntax errors, report each and retry with the faulty line blanked."""
    if len(text.encode("utf-8", errors="replace")) > MAX_SOURCE_BYTES:
        diags.error("M105", Span(file, 1, 1, 1, 2),
                    f"mapping file is larger than {MAX_SOURCE_BYTES // 1024} KiB",
                    help="split it into several files in one directory")
        return n.Module(file, [])
    try:
        standin, skipped = habits.scan(text, file, diags)
    except Exception:  # a recogniser's own bug must not cost the user the check (fuzzed: tests/test_habits.py)
        standin, skipped = text, set()
    lines = standin.split("\n")
    attempts = 0
    bad_lines: set[int] = set()
    while True:
        attempts += 1
        build = _Build(file)
        try:
            _attempt("\n".join(lines) + "\n", build)
        except _TooDeep as exc:
            diags.error("M105", _span_of_token(file, exc.tok),
                        f"brackets are nested more than {MAX_NESTING} deep",
                        help="use `let` to name intermediate values")
            return n.Module(file, [])
        except UnexpectedInput as exc:
            opened = [int(t.line or 1) for t in _POSTLEX.open]
            line_no = _report_syntax(exc, file, lines, diags)
            if line_no is None or line_no in bad_lines or attempts >= MAX_SYNTAX_ERRORS:
                return n.Module(file, [])
            # resynchronise at the end of the statement: a bracket open across lines is skipped
            # up to its closing bracket, so its other lines are not reported again
            never_closed = bool(diags.items) and diags.items[-1].message.endswith("is never closed")
            first = min([line_no, *opened])
            last = _statement_end(lines, first) if opened else line_no
            if never_closed and isinstance(exc, UnexpectedToken):  # it runs to the next statement
                last = len(lines) if exc.token.type == "$END" else max(line_no, int(exc.token.line or 1) - 1)
            for k in range(first, max(last, line_no) + 1):
                bad_lines.add(k)
                lines[k - 1] = ""
            continue
        except RecursionError:
            diags.error("M105", Span(file, 1, 1, 1, 2), "mapping is too deeply nested to read")
            return n.Module(file, [])
        except _FileTooDeep:
            diags.extend(build.diags)
            diags.error("M105", Span(file, 1, 1, 1, 2), "mapping is too deeply nested to read",
                        help="use `let` to name intermediate values")
            return n.Module(file, [])
        if bad_lines:
            return n.Module(file, [])  # only the diagnostics matter: do not check a mangled file
        diags.extend(build.diags)
        _mark_partial(build.module, skipped)
        return build.module


def _attempt(text: str, build: _Build) -> None:
    """One parse into ``build``: the post-lexer and the AST builder set up on this thread, let go after."""
    _POSTLEX.begin(text)
    _BUILDER.begin(build)
    try:
        _parser().parse(text)
    finally:
        _BUILDER.end()  # the thread does not keep the last module alive


_NOT_CODE = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#.*')


def _statement_end(lines: list[str], first: int) -> int:
    """The last line of the statement starting on line ``first``: where its brackets close
    (the line itself when they never do: then the closer is what is missing)."""
    depth = 0
    for k in range(first, len(lines) + 1):
        code = _NOT_CODE.sub("", lines[k - 1])
        depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
        if depth <= 0:
            return k
    return first


def _mark_partial(module: n.Module, skipped: set[int]) -> None:
    """Rules one of whose statements was left out (a JavaScript habit blanked it)."""
    if not skipped:
        return
    starts = [r.span.line for r in module.rules] + [1 << 30]
    for rule, start, end in zip(module.rules, starts, starts[1:], strict=False):
        rule.partial = any(start <= line < end for line in skipped)


def _starts_later_line(tok: Token, opener: Token, lines: list[str]) -> bool:
    """An unexpected token that starts a later line than an open bracket: the bracket was never
    closed (`[1, 2` then the next statement), rather than a mistake inside it."""
    line, col = tok.line or 0, tok.column or 1
    if line <= (opener.line or 0) or not 0 < line <= len(lines):
        return False
    return not lines[line - 1][: col - 1].strip() or bool(_STATEMENT_START.match(lines[line - 1]))


# a line that reads as a statement of its own (`data.b = 1`, `on "x"`), not a continuation
_STATEMENT_START = re.compile(r"\s*(?:(?:also\s+)?on\s|let\s|drop\b|input\s|[A-Za-z_][\w.]*\s*=[^=>])")


def _report_syntax(exc: UnexpectedInput, file: str, lines: list[str], diags: Diagnostics) -> int | None:
    if isinstance(exc, UnexpectedCharacters):
        line, col = exc.line, exc.column
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        ch = src[col - 1] if 0 < col <= len(src) else ""
        span = Span(file, line, col, line, col + 1)
        if ch in "\"'":
            diags.error("M102", Span(file, line, col, line, len(src) + 1), "this string is not closed",
                        help=f"add the closing {ch} before the end of the line")
        elif ch == "\t":
            diags.error("M101", span, "unexpected tab character")
        else:
            shown = ch if ch.isprintable() and ch else repr(ch)
            help = None
            if ch == "$":
                help = "input fields are written without `$`: `data.total_amount`"
            elif ch in "|":
                help = "use `or` for booleans, or `??` for a fallback"
            elif ch == "!":
                help = "use `not`, or `!=` to compare"
            elif ch == "\ufffd":
                help = "the file contains bytes that are not UTF-8 text"
            diags.error("M101", span, f"unexpected character `{shown}`", help=help)
        return line
    if isinstance(exc, UnexpectedToken) and _POSTLEX.open and (
            exc.token.type == "$END" or _starts_later_line(exc.token, _POSTLEX.open[-1], lines)):
        opener = _POSTLEX.open[-1]
        closer = {"(": ")", "[": "]", "{": "}"}[str(opener)]
        diags.error("M100", _span_of_token(file, opener), f"this `{opener}` is never closed",
                    help=f"add `{closer}` where the expression ends")
        return opener.line
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = set(exc.accepts or exc.expected)
        line = tok.line or len(lines)
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        span = _span_of_token(file, tok)
        if tok.type == "$END":
            span = Span(file, len(lines), 1, len(lines), 2)
        msg = f"unexpected {_describe_token(tok)}; expected {_expected_words(expected)}"
        diags.error("M100", span, msg, help=_hint(tok, expected, src))
        return line if tok.type != "$END" else None
    if isinstance(exc, UnexpectedEOF):
        diags.error("M100", Span(file, len(lines), 1, len(lines), 2), "unexpected end of file")
        return None
    diags.error("M100", Span(file, 1, 1, 1, 2), "syntax error")
    return None


# --- the AST, built as the parser reduces ----------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "/": "/", "0": "\0"}
_ESCAPE_RE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}|.)", re.S)


class _Build:
    """One parse attempt's state: the file, its diagnostics, the module growing statement by statement."""

    __slots__ = ("block", "diags", "file", "module", "nodes")

    def __init__(self, file: str) -> None:
        self.file = file
        self.diags = Diagnostics()  # kept only if the attempt parses: a mangled file is not checked
        self.module = n.Module(file, [])
        self.block: n.Rule | n.Group | None = None  # where the next statement goes
        self.nodes = 0  # nodes with children built since the last statement: a bound on its depth

    def string(self, tok: Token) -> str:
        raw = str(tok)[1:-1]
        if "\\" not in raw:
            return raw
        span = _span_of_token(self.file, tok)

        def repl(m: re.Match[str]) -> str:
            esc = m.group(1)
            if esc.startswith("u") and len(esc) > 1:
                code = int(esc[2:-1] if esc[1] == "{" else esc[1:], 16)
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    self.diags.error("M102", span, f"`\\{esc}` is not a valid unicode character")
                    return ""
                return chr(code)
            if esc in _ESCAPES:
                return _ESCAPES[esc]
            self.diags.error("M102", span, f"unknown escape `\\{esc}` in string",
                             help='write `\\\\` for a backslash; known escapes: \\n \\t \\r \\" \\\' \\\\ \\uXXXX')
            return esc

        return _ESCAPE_RE.sub(repl, raw)

    def integer(self, tok: Token) -> int:
        digits = str(tok).lstrip("-")
        if len(digits) > MAX_INT_DIGITS:  # Python's own limit (int("9" * 5000) raises): 0 stands in
            self.diags.error("M105", _span_of_token(self.file, tok), f"this number has {len(digits):,} digits; "
                             f"a number may have at most {MAX_INT_DIGITS:,}",
                             help="write a shorter number; if it is an identifier, write it as text in quotes")
            return 0
        return int(str(tok))

    def add(self, stmt: _Statement) -> None:
        """Place a statement just reduced: the rules and groups open blocks, the rest goes in one."""
        module, diags = self.module, self.diags
        if self.nodes > MAX_EXPR_DEPTH and _too_deep(stmt):
            if isinstance(stmt, n.Const):  # as when the tree was built by recursion: the file is not read
                raise _FileTooDeep
            diags.error("M105", stmt.span, "this statement is nested too deeply to read", help=SPLIT_HELP)
            self.nodes = 0
            return
        self.nodes = 0
        if isinstance(stmt, n.Rule):
            stmt.index = len(module.rules)
            module.rules.append(stmt)
            self.block = stmt
        elif isinstance(stmt, n.Group):
            module.groups.append(stmt)
            self.block = stmt
        elif isinstance(stmt, n.InputDecl):
            if module.rules:
                diags.error("M121", stmt.span, "`input` must come before the first rule",
                            help="move this line to the top of the file: it applies to every rule in it")
            elif stmt.kind in _INPUT_KINDS:
                module.inputs.append(stmt)
        elif isinstance(stmt, n.Const):
            block = self.block
            if block is not None:
                where = "rule" if isinstance(block, n.Rule) else block.label
                diags.error("M130", stmt.span, f"`const` must come before the first rule or group "
                                               f"(this one is inside the {where} at line {block.span.line})",
                            help="move this line to the top of the file: a constant is not part of a rule; for a "
                                 "name used in this rule only, write `let` instead of `const`")
            else:
                module.consts.append(stmt)
        elif self.block is None:
            diags.error("M104", stmt.span, "this statement is not inside a rule",
                        help='start the rule with a line such as `on "payment.succeeded"`')
        else:
            self.block.body.append(stmt)


_Statement = n.Stmt | n.Rule | n.Group | n.InputDecl | n.Const


class _FileTooDeep(PaymapError):
    """A `const` nested more than MAX_EXPR_DEPTH deep: the file is not read."""


_SUBTREES: dict[type, tuple[str, ...]] = {}


def _too_deep(stmt: _Statement) -> bool:
    """Whether a statement nests expressions more than MAX_EXPR_DEPTH deep (walked with a stack;
    only statements with that many nodes are walked at all). The branches of an `else if` chain
    count as one level, as when the AST was built by recursion."""
    stack: list[tuple[object, int]] = [(stmt, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPR_DEPTH:
            return True
        names = _SUBTREES.get(type(node))
        if names is None:
            names = _SUBTREES[type(node)] = tuple(f.name for f in fields(node))  # type: ignore[arg-type]
        for name in names:
            value = getattr(node, name)
            for child in value if isinstance(value, list) else (value,):
                if isinstance(child, n.Expr):  # an `else if` chain is flat: every pass walks it in a loop
                    flat = isinstance(node, n.IfExpr) and child is node.otherwise
                    stack.append((child, depth if flat else depth + 1))
                elif isinstance(child, (n.ObjectEntry, n.Arm)):
                    stack.append((child, depth))
    return False


@dataclass(slots=True)
class _Extent:
    """A node whose text reaches further than its span: an expression in parentheses (the enclosing
    node's span reaches the brackets: ``(a + b) * c`` starts at ``(``), or a list projection an
    accessor was pushed into (``a[*].b`` is the ``[*]`` node; the statement ends after ``.b``)."""

    node: n.Expr
    start: tuple[int, int]
    end: tuple[int, int]


@dataclass(slots=True)
class _Target:
    """The left of `=`: its segments and where it is written."""

    parts: tuple[str, ...]
    span: Span


# What a rule's method receives: tokens (every one, brackets and keywords included: the parser keeps
# them so spans reach them), nodes already built, and the rules' own small results.
_Child = Any


def _node(c: _Child) -> n.Expr:
    return c.node if isinstance(c, _Extent) else c


def _start(c: _Child) -> tuple[int, int]:
    if isinstance(c, Token):
        return c.line or 1, c.column or 1
    if isinstance(c, _Extent):
        return c.start
    span: Span = c.span
    return span.line, span.column


def _end(c: _Child) -> tuple[int, int]:
    if isinstance(c, Token):
        return c.end_line or 1, c.end_column or 1
    if isinstance(c, _Extent):
        return c.end
    span: Span = c.span
    return span.end_line, span.end_column


class _AstBuilder(Transformer[Token, n.Module]):
    """One method per rule (or alias) of the grammar, called by the LALR parser as it reduces the
    rule: the AST is built during the parse, with no parse tree in between.

    A node's span runs from its first token to its last, brackets and keywords included (so a
    parser with ``keep_all_tokens`` hands them over), and reaches the parentheses around its first
    or last operand (``(a + b) * c`` starts at ``(``). One instance serves every thread: the state
    of a parse (:class:`_Build`) is per thread.
    """

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self._local = threading.local()

    def begin(self, build: _Build) -> None:
        """Start a parse on this thread; what it builds goes in ``build``."""
        self._local.build = build

    def end(self) -> None:
        self._local.build = None

    def _span(self, c: list[_Child]) -> Span:
        build: _Build = self._local.build
        build.nodes += 1
        return Span(build.file, *_start(c[0]), *_end(c[-1]))

    def _tok_span(self, tok: Token) -> Span:
        return _span_of_token(self._local.build.file, tok)

    def __default__(self, data: Any, children: Any, meta: Any) -> Any:
        # the grammar's inlined rules (`_stmt`, and Lark's own for `(...)*`): the parent takes their children
        assert data.startswith("_"), f"no AST for the rule {data}"
        return Tree(data, children)

    # --- statements
    def start(self, c: list[_Child]) -> n.Module:
        module: n.Module = self._local.build.module
        return module

    def on_stmt(self, c: list[_Child]) -> None:
        also = isinstance(c[0], Token) and c[0].type == "ALSO"
        patterns = [p for p in c if isinstance(p, n.Pattern)]
        self._local.build.add(n.Rule(patterns, also, self._span(c), [], 0))

    def pattern(self, c: list[_Child]) -> n.Pattern:
        (tok,) = c
        return n.Pattern(self._local.build.string(tok), self._tok_span(tok))

    def group_stmt(self, c: list[_Child]) -> None:
        name_tok = c[1]
        self._local.build.add(n.Group(str(name_tok), self._span(c), [], self._tok_span(name_tok)))

    def defaults_stmt(self, c: list[_Child]) -> None:
        self._local.build.add(n.Group(None, self._span(c)))

    def input_stmt(self, c: list[_Child]) -> None:
        build: _Build = self._local.build
        _, kind_tok, path_tok = c
        kind = str(kind_tok)
        decl = n.InputDecl(kind, build.string(path_tok), self._span(c), self._tok_span(path_tok))
        if kind not in _INPUT_KINDS:
            guess = next((k for k in _INPUT_KINDS if k.startswith(kind[:3].lower())), None)
            build.diags.error("M121", self._tok_span(kind_tok), f"`input {kind}` is not a kind of input",
                              help=(f"did you mean `input {guess}`? " if guess else "")
                              + 'write `input schema "file.json"` (a JSON Schema) or `input samples "dir/"` '
                                "(example bodies)")
        elif not decl.path.strip():
            build.diags.error("M121", decl.path_span, f"`input {kind}` needs a path")
        build.add(decl)

    def const_stmt(self, c: list[_Child]) -> None:
        _, name_tok, _, value = c
        self._local.build.add(n.Const(str(name_tok), self._tok_span(name_tok), _node(value), self._span(c)))

    def let_stmt(self, c: list[_Child]) -> None:
        _, name_tok, _, value = c
        self._local.build.add(n.Let(self._span(c), str(name_tok), self._tok_span(name_tok), _node(value)))

    def assign_stmt(self, c: list[_Child]) -> None:
        target, _, value = c
        self._local.build.add(n.Assign(self._span(c), target.parts, target.span, _node(value)))

    def target(self, c: list[_Child]) -> _Target:
        build: _Build = self._local.build
        parts = tuple(build.string(t) if t.type == "STRING" else str(t) for t in c if t.type != "DOT")
        return _Target(parts, self._span(c))

    def drop_stmt(self, c: list[_Child]) -> None:
        cond = _node(c[-1]) if not isinstance(c[-1], Token) else None
        self._local.build.add(n.Drop(self._span(c), cond))

    def use_stmt(self, c: list[_Child]) -> None:
        toks = [t for t in c if t.type == "NAME"]
        self._local.build.add(n.Use(self._span(c), [str(t) for t in toks], [self._tok_span(t) for t in toks]))

    # --- atoms
    def name(self, c: list[_Child]) -> n.Expr:
        return n.Name(self._tok_span(c[0]), str(c[0]))

    def string(self, c: list[_Child]) -> n.Expr:
        return n.Literal(self._tok_span(c[0]), self._local.build.string(c[0]))

    def decimal(self, c: list[_Child]) -> n.Expr:
        return n.Literal(self._tok_span(c[0]), Decimal(str(c[0])))

    def integer(self, c: list[_Child]) -> n.Expr:
        return n.Literal(self._tok_span(c[0]), self._local.build.integer(c[0]))

    def true(self, c: list[_Child]) -> n.Expr:
        return n.Literal(self._tok_span(c[0]), True)

    def false(self, c: list[_Child]) -> n.Expr:
        return n.Literal(self._tok_span(c[0]), False)

    def null(self, c: list[_Child]) -> n.Expr:
        return n.Literal(self._tok_span(c[0]), None)

    def atom(self, c: list[_Child]) -> _Extent:  # "(" expr ")": the only `atom` that is not inlined
        open_, inner, close = c
        return _Extent(_node(inner), _start(open_), _end(close))

    def list_(self, c: list[_Child]) -> n.Expr:
        return n.ListExpr(self._span(c), [_node(e) for e in c[1:-1] if not isinstance(e, Token)])

    def object_(self, c: list[_Child]) -> n.Expr:
        return n.ObjectExpr(self._span(c), [e for e in c if isinstance(e, n.ObjectEntry)])

    def entry(self, c: list[_Child]) -> n.ObjectEntry:
        key_tok, _, value = c
        key = self._local.build.string(key_tok) if key_tok.type == "STRING" else str(key_tok)
        return n.ObjectEntry(key, self._tok_span(key_tok), _node(value))

    def call(self, c: list[_Child]) -> n.Expr:
        fn = c[0]
        return n.Call(self._span(c), str(fn), self._tok_span(fn), [_node(a) for a in c[2:-1] if not isinstance(a, Token)])

    def lambda_(self, c: list[_Child]) -> n.Expr:
        param, _, body = c
        return n.Lambda(self._span(c), str(param), self._tok_span(param), _node(body))

    # --- accessors: after `[*]` they apply to each element
    def field(self, c: list[_Child]) -> n.Expr | _Extent:
        obj, _, name_tok = c
        name = self._local.build.string(name_tok) if name_tok.type == "STRING" else str(name_tok)
        sp, name_span = self._span(c), self._tok_span(name_tok)
        return _access(_node(obj), sp, lambda base: n.Field(sp, base, name, name_span))

    def index(self, c: list[_Child]) -> n.Expr | _Extent:
        obj, _, idx, _ = c
        i = self._local.build.integer(idx)
        sp = self._span(c)
        return _access(_node(obj), sp, lambda base: n.Index(sp, base, i))

    def project(self, c: list[_Child]) -> n.Expr | _Extent:
        sp = self._span(c)
        return _access(_node(c[0]), sp, lambda b: n.Project(sp, b, n.Element(sp)))

    # --- operators
    def neg(self, c: list[_Child]) -> n.Expr:
        return n.Unary(self._span(c), "-", _node(c[1]))

    def not_(self, c: list[_Child]) -> n.Expr:
        return n.Unary(self._span(c), "not", _node(c[1]))

    def arith(self, c: list[_Child]) -> n.Expr:
        left, op, right = c
        return n.Binary(self._span(c), str(op), _node(left), _node(right), self._tok_span(op))

    compare = arith

    def _keyword_op(self, c: list[_Child], op_text: str) -> n.Expr:
        left, _, right = c
        lsp, rsp = _node(left), _node(right)
        op_span = Span(self._local.build.file, lsp.span.end_line, lsp.span.end_column, rsp.span.line, rsp.span.column)
        return n.Binary(self._span(c), op_text, lsp, rsp, op_span)

    def concat(self, c: list[_Child]) -> n.Expr:
        return self._keyword_op(c, "&")

    def and_(self, c: list[_Child]) -> n.Expr:
        return self._keyword_op(c, "and")

    def or_(self, c: list[_Child]) -> n.Expr:
        return self._keyword_op(c, "or")

    def coalesce(self, c: list[_Child]) -> n.Expr:
        return self._keyword_op(c, "??")

    def if_expr(self, c: list[_Child]) -> n.Expr:
        _, cond, _, then, _, other = c
        return n.IfExpr(self._span(c), _node(cond), _node(then), _node(other))

    def match_expr(self, c: list[_Child]) -> n.Expr:
        subject: n.Expr | None = None
        arms: list[n.Arm] = []
        for x in c:
            if isinstance(x, n.Arm):
                arms.append(x)
            elif not isinstance(x, Token):
                subject = _node(x)
        return n.Match(self._span(c), subject, arms)

    def arm(self, c: list[_Child]) -> n.Arm:
        pat, value = c[0], c[2]
        pattern = None if isinstance(pat, Token) else _node(pat)  # `_`
        return n.Arm(pattern, _node(value), self._span(c))


# the rules `list` and `object`, named like Python's builtins (so not defined under these names above)
setattr(_AstBuilder, "list", _AstBuilder.list_)  # noqa: B010
setattr(_AstBuilder, "object", _AstBuilder.object_)  # noqa: B010


def _access(base: n.Expr, sp: Span, make: Callable[[n.Expr], n.Expr]) -> n.Expr | _Extent:
    """An accessor written over ``sp``: pushed into a projection, the node returned is the projection,
    and the enclosing node's span still reaches the accessor's end."""
    if isinstance(base, n.Project):
        return _Extent(_push(base, make), (sp.line, sp.column), (sp.end_line, sp.end_column))
    return make(base)


def _push(base: n.Expr, make: Callable[[n.Expr], n.Expr]) -> n.Expr:
    """Apply an accessor; after ``[*]`` it applies to each element instead of the list."""
    if not isinstance(base, n.Project):
        return make(base)
    inner = base  # the innermost projection (a loop: `a[*][*]…` may be long)
    while isinstance(inner.each, n.Project):
        inner = inner.each
    inner.each = make(inner.each)
    return base


_BUILDER = _AstBuilder()
