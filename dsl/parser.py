"""Text → Lark parse tree → AST with spans. Syntax errors become diagnostics, never exceptions.

The grammar is ``grammar/mapping.lark`` (LALR). Newlines end statements, except inside brackets,
where :class:`BracketNewlines` drops them so lists, objects and ``match`` can span lines.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from dsl import habits
from dsl import nodes as n
from dsl.diagnostics import SPLIT_HELP, Diagnostics
from dsl.source import Span
from prelude.errors import PaymapError

MAX_SOURCE_BYTES = 8 << 20  # about 300,000 lines; checking stays linear in size
MAX_INT_DIGITS = 4300  # sys.int_info.default_max_str_digits
MAX_NESTING = 64
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
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        postlex=_POSTLEX,
        propagate_positions=True,
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
        try:
            joined = "\n".join(lines) + "\n"
            _POSTLEX.begin(joined)
            tree = _parser().parse(joined)
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
        if bad_lines:
            return n.Module(file, [])  # only the diagnostics matter: do not check a mangled file
        try:
            module = _Builder(file, diags).module(tree)
            _mark_partial(module, skipped)
            return module
        except RecursionError:
            diags.error("M105", Span(file, 1, 1, 1, 2), "mapping is too deeply nested to read",
                        help="use `let` to name intermediate values")
            return n.Module(file, [])


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


# --- tree → AST ------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "/": "/", "0": "\0"}
_ESCAPE_RE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}|.)", re.S)


class _Builder:
    def __init__(self, file: str, diags: Diagnostics) -> None:
        self.file = file
        self.diags = diags

    # spans
    def span(self, item: Tree[Token] | Token) -> Span:
        if isinstance(item, Token):
            return _span_of_token(self.file, item)
        meta = item.meta
        if getattr(meta, "empty", True):
            return Span(self.file, 1, 1, 1, 1)
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def string(self, tok: Token) -> str:
        raw = str(tok)[1:-1]
        span = self.span(tok)

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

        return _ESCAPE_RE.sub(repl, raw) if "\\" in raw else raw

    def integer(self, tok: Token) -> int:
        digits = str(tok).lstrip("-")
        if len(digits) > MAX_INT_DIGITS:  # Python's own limit (int("9" * 5000) raises): 0 stands in
            self.diags.error("M105", self.span(tok), f"this number has {len(digits):,} digits; "
                             f"a number may have at most {MAX_INT_DIGITS:,}",
                             help="write a shorter number; if it is an identifier, write it as text in quotes")
            return 0
        return int(str(tok))

    def module(self, tree: Tree[Token]) -> n.Module:
        module = n.Module(self.file, [])
        block: n.Rule | n.Group | None = None  # where the next statement goes
        for stmt_tree in tree.children:
            if not isinstance(stmt_tree, Tree):
                continue
            kind = stmt_tree.data
            if kind == "on_stmt":
                block = self.on_stmt(stmt_tree, len(module.rules))
                module.rules.append(block)
            elif kind in ("group_stmt", "defaults_stmt"):
                block = self.group_stmt(stmt_tree)
                module.groups.append(block)
            elif kind == "input_stmt":
                decl = self.input_stmt(stmt_tree)
                if module.rules:
                    self.diags.error("M121", decl.span, "`input` must come before the first rule",
                                     help="move this line to the top of the file: it applies to every rule in it")
                elif decl.kind in _INPUT_KINDS:
                    module.inputs.append(decl)
            elif kind == "const_stmt":
                const = self.const_stmt(stmt_tree)
                if block is not None:
                    where = "rule" if isinstance(block, n.Rule) else block.label
                    self.diags.error("M130", const.span, f"`const` must come before the first rule or group "
                                                         f"(this one is inside the {where} at line {block.span.line})",
                                     help="move this line to the top of the file: a constant is not part of a rule; for a "
                                          "name used in this rule only, write `let` instead of `const`")
                else:
                    module.consts.append(const)
            else:
                try:
                    stmt = self.stmt(stmt_tree)
                except RecursionError:
                    self.diags.error("M105", self.span(stmt_tree), "this statement is nested too deeply to read",
                                     help=SPLIT_HELP)
                    continue
                if block is None:
                    self.diags.error("M104", stmt.span, "this statement is not inside a rule",
                                     help='start the rule with a line such as `on "payment.succeeded"`')
                else:
                    block.body.append(stmt)
        return module

    def const_stmt(self, t: Tree[Token]) -> n.Const:
        name_tok, value = t.children
        assert isinstance(name_tok, Token)
        return n.Const(str(name_tok), self.span(name_tok), self.expr(value), self.span(t))

    def group_stmt(self, t: Tree[Token]) -> n.Group:
        if t.data == "defaults_stmt":
            return n.Group(None, self.span(t))
        (name_tok,) = t.children
        assert isinstance(name_tok, Token)
        return n.Group(str(name_tok), self.span(t), [], self.span(name_tok))

    def input_stmt(self, t: Tree[Token]) -> n.InputDecl:
        kind_tok, path_tok = t.children
        assert isinstance(kind_tok, Token) and isinstance(path_tok, Token)
        kind = str(kind_tok)
        decl = n.InputDecl(kind, self.string(path_tok), self.span(t), self.span(path_tok))
        if kind not in _INPUT_KINDS:
            guess = next((k for k in _INPUT_KINDS if k.startswith(kind[:3].lower())), None)
            self.diags.error("M121", self.span(kind_tok), f"`input {kind}` is not a kind of input",
                             help=(f"did you mean `input {guess}`? " if guess else "")
                             + 'write `input schema "file.json"` (a JSON Schema) or `input samples "dir/"` '
                               "(example bodies)")
        elif not decl.path.strip():
            self.diags.error("M121", decl.path_span, f"`input {kind}` needs a path")
        return decl

    def on_stmt(self, t: Tree[Token], index: int) -> n.Rule:
        also = False
        patterns: list[n.Pattern] = []
        for c in t.children:
            if isinstance(c, Token) and c.type == "ALSO":
                also = True
            elif isinstance(c, Tree):
                tok = c.children[0]
                assert isinstance(tok, Token)
                patterns.append(n.Pattern(self.string(tok), self.span(tok)))
        return n.Rule(patterns, also, self.span(t), [], index)

    def stmt(self, t: Tree[Token]) -> n.Stmt:
        if t.data == "let_stmt":
            name_tok, value = t.children
            assert isinstance(name_tok, Token)
            return n.Let(self.span(t), str(name_tok), self.span(name_tok), self.expr(value))
        if t.data == "assign_stmt":
            target, value = t.children
            assert isinstance(target, Tree)
            parts = tuple(self.string(c) if c.type == "STRING" else str(c)
                          for c in target.children if isinstance(c, Token))
            return n.Assign(self.span(t), parts, self.span(target), self.expr(value))
        if t.data == "drop_stmt":
            cond = self.expr(t.children[0]) if t.children else None
            return n.Drop(self.span(t), cond)
        if t.data == "use_stmt":
            toks = [c for c in t.children if isinstance(c, Token)]
            return n.Use(self.span(t), [str(c) for c in toks], [self.span(c) for c in toks])
        raise AssertionError(t.data)

    def expr(self, t: Tree[Token] | Token) -> n.Expr:
        if isinstance(t, Token):  # a lone terminal inlined by `?rule`
            return self.token_expr(t)
        kind = t.data
        sp = self.span(t)
        ch = t.children
        if kind in ("name", "string", "decimal", "integer", "true", "false", "null"):
            tok = ch[0]
            assert isinstance(tok, Token)
            return self.token_expr(tok, kind)
        if kind == "list":
            return n.ListExpr(sp, [self.expr(c) for c in ch])
        if kind == "object":
            entries = []
            for e in ch:
                assert isinstance(e, Tree)
                key_tok, value = e.children
                assert isinstance(key_tok, Token)
                key = self.string(key_tok) if key_tok.type == "STRING" else str(key_tok)
                entries.append(n.ObjectEntry(key, self.span(key_tok), self.expr(value)))
            return n.ObjectExpr(sp, entries)
        if kind == "call":
            fn = ch[0]
            assert isinstance(fn, Token)
            return n.Call(sp, str(fn), self.span(fn), [self.expr(a) for a in ch[1:]])
        if kind == "lambda_":
            param, body = ch
            assert isinstance(param, Token)
            return n.Lambda(sp, str(param), self.span(param), self.expr(body))
        if kind == "field":
            obj, name_tok = ch
            assert isinstance(name_tok, Token)
            name = self.string(name_tok) if name_tok.type == "STRING" else str(name_tok)
            return _push(self.expr(obj), lambda base: n.Field(sp, base, name, self.span(name_tok)))
        if kind == "index":
            obj, idx = ch
            assert isinstance(idx, Token)
            i = self.integer(idx)
            return _push(self.expr(obj), lambda base: n.Index(sp, base, i))
        if kind == "project":
            base = self.expr(ch[0])
            return _push(base, lambda b: n.Project(sp, b, n.Element(sp)))
        if kind == "neg":
            return n.Unary(sp, "-", self.expr(ch[0]))
        if kind == "not_":
            return n.Unary(sp, "not", self.expr(ch[0]))
        if kind in ("arith", "compare"):
            left, op, right = ch
            assert isinstance(op, Token)
            return n.Binary(sp, str(op), self.expr(left), self.expr(right), self.span(op))
        if kind in ("concat", "and_", "or_", "coalesce"):
            left, right = ch
            op_text = {"concat": "&", "and_": "and", "or_": "or", "coalesce": "??"}[kind]
            lsp, rsp = self.expr(left), self.expr(right)
            op_span = Span(self.file, lsp.span.end_line, lsp.span.end_column,
                           rsp.span.line, rsp.span.column)
            return n.Binary(sp, op_text, lsp, rsp, op_span)
        if kind == "if_expr":  # an `else if` chain is built in a loop, however long
            chain: list[tuple[Span, Tree[Token] | Token, Tree[Token] | Token]] = []
            node: Tree[Token] | Token = t
            while isinstance(node, Tree) and node.data == "if_expr":
                c, a, rest = node.children
                chain.append((self.span(node), c, a))
                node = rest
            out = self.expr(node)
            for span, c, a in reversed(chain):
                out = n.IfExpr(span, self.expr(c), self.expr(a), out)
            return out
        if kind == "match_expr":
            subject: n.Expr | None = None
            arms: list[n.Arm] = []
            for c in ch:
                if isinstance(c, Tree) and c.data == "arm":
                    pat, value = c.children
                    pattern = None if isinstance(pat, Token) and pat.type == "UNDERSCORE" else self.expr(pat)
                    arms.append(n.Arm(pattern, self.expr(value), self.span(c)))
                else:
                    subject = self.expr(c)
            return n.Match(sp, subject, arms)
        raise AssertionError(kind)

    def token_expr(self, tok: Token, kind: str | None = None) -> n.Expr:
        sp = self.span(tok)
        ty = tok.type
        if ty == "NAME":
            return n.Name(sp, str(tok))
        if ty == "STRING":
            return n.Literal(sp, self.string(tok))
        if ty == "DECIMAL":
            return n.Literal(sp, Decimal(str(tok)))
        if ty in ("INT", "NEG_INT"):
            return n.Literal(sp, self.integer(tok))
        if ty == "TRUE":
            return n.Literal(sp, True)
        if ty == "FALSE":
            return n.Literal(sp, False)
        if ty == "NULL":
            return n.Literal(sp, None)
        raise AssertionError(ty)


def _push(base: n.Expr, make: object) -> n.Expr:
    """Apply an accessor; after ``[*]`` it applies to each element instead of the list."""
    assert callable(make)
    if isinstance(base, n.Project):
        base.each = _push(base.each, make)
        return base
    result = make(base)
    assert isinstance(result, n.Expr)
    return result
