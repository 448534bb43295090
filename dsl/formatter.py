"""The canonical layout of ``.map`` files (``paymap fmt``).

The formatter changes white space and quotes, nothing else: the same tokens in the same order, the
same comments on the same lines. Its input is the token stream of the real grammar (a second Lark
parser with ``keep_all_tokens`` knows each token's rule, e.g. whether ``{`` opens an object or a
``match``) plus the comments, collected with a lexer callback. The layout (docs/formatting.md):

* one space around binary operators, ``=``, ``=>``, ``->``; none inside ``()``/``[]``/``{}`` of
  calls, lists, indexes and objects; ``{ ... }`` of a ``match`` has spaces; ``, `` and ``: ``;
* strings in double quotes (``'it'`` → ``"it"``, re-escaping ``"``); numbers as written;
* in a *block* — consecutive ``=`` statements (assignments and ``let``) not separated by a blank
  line or a comment line — the ``=`` are aligned one space after the longest target, and the
  trailing comments of the block's one-line statements are aligned two spaces after the longest
  of those lines; elsewhere a trailing comment follows its line after two spaces;
* no indentation of statements; inside brackets an expression keeps the author's line breaks and
  is indented four spaces per open bracket; a ``\\`` continuation is kept (indented four spaces);
* at most one blank line; exactly two before every ``on``, ``group`` and ``defaults`` line but the
  file's first (counting the comment lines directly above it as part of the block); one after each
  of them; none at the start of the file; no trailing white space; ``const`` lines align like
  assignments;
  ``\\n`` line ends; one newline at the end.

After formatting, the result is parsed again and must give the same syntax tree and the same
comments, else :class:`FormatterBug` is raised and nothing is written.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError

from dsl import nodes as n
from dsl.diagnostics import Diagnostic, Diagnostics
from dsl.parser import BracketNewlines, grammar_text, parse
from prelude.errors import PaymapError

_OPEN = {"LPAR", "LSQB", "LBRACE"}
_CLOSE = {"RPAR", "RSQB", "RBRACE"}


class FormatterBug(PaymapError):
    """The formatted text would not mean the same as the original (never written)."""


@dataclass(slots=True)
class FormatResult:
    original: str
    text: str | None  # None when the source has syntax errors
    diagnostics: list[Diagnostic]

    @property
    def changed(self) -> bool:
        return self.text is not None and self.text != self.original


def format_source(text: str, file: str = "<stdin>") -> FormatResult:
    """Format one ``.map`` file's text; syntax errors give diagnostics and no text."""
    diags = Diagnostics()
    source = text.removeprefix("\ufeff")
    before = parse(source, file, diags)
    errors = [d for d in diags.items if d.is_error]
    if errors:
        return FormatResult(text, None, sorted(errors, key=lambda d: (d.span.line, d.span.column)))
    tree, comments = _cst(source)
    out = _Layout(source, tree, comments).render()
    _verify(before, comments, out, file)
    return FormatResult(text, out, [])


# --- the concrete syntax tree --------------------------------------------------------------------


_local = threading.local()  # this thread's comments of the parse under way: no lock, no shared list
# The compiler's own post-lexer (newlines inside brackets, `a - b` vs `-x`): the formatter must see
# exactly the tokens the compiler sees.
_postlex = BracketNewlines()


def _comment(tok: Token) -> None:
    _local.comments.append(tok)


@functools.cache
def _cst_parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="contextual", postlex=_postlex,
                propagate_positions=True, maybe_placeholders=False, keep_all_tokens=True,
                lexer_callbacks={"COMMENT": _comment})


def _cst(text: str) -> tuple[Tree[Token], list[Token]]:
    parser = _cst_parser()
    source = text + "\n"
    comments: list[Token] = []
    _local.comments = comments
    _postlex.begin(source)
    try:
        tree = parser.parse(source)
    except LarkError as exc:  # parse() accepted the text, so this is our bug, not the user's
        raise FormatterBug(f"the formatter cannot read text the compiler accepts ({type(exc).__name__})") from exc
    return tree, comments


@dataclass(slots=True)
class _Tok:
    type: str
    text: str
    parent: str
    line: int
    column: int


def _leaves(tree: Tree[Token], parent: str) -> Iterator[_Tok]:
    for c in tree.children:
        if isinstance(c, Tree):
            yield from _leaves(c, str(c.data))
        else:
            yield _Tok(c.type, str(c), parent, c.line or 0, c.column or 0)


# --- strings -------------------------------------------------------------------------------------


def normalize_string(raw: str) -> str:
    """A string literal in double quotes, meaning the same text."""
    quote, body = raw[0], raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append("'" if nxt == "'" else ch + nxt)  # \' needs no escape in "..."
            i += 2
            continue
        out.append('\\"' if ch == '"' and quote == "'" else ch)
        i += 1
    return '"' + "".join(out) + '"'


# --- layout --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Stmt:
    kind: str  # on_stmt | group_stmt | defaults_stmt | let_stmt | assign_stmt | drop_stmt | use_stmt | ...
    toks: list[_Tok]
    line: int
    end_line: int
    lines: list[str] = field(default_factory=list)
    comments: list[str | None] = field(default_factory=list)
    lhs: str | None = None


@dataclass(slots=True)
class _CommentLine:
    text: str
    line: int

    @property
    def end_line(self) -> int:
        return self.line


_Unit = _Stmt | _CommentLine
_HEADERS = ("on_stmt", "group_stmt", "defaults_stmt")  # lines that start a block: a rule or shared lines


def _space(p: _Tok, t: _Tok) -> str:
    if p.type in ("LPAR", "LSQB"):
        return ""
    if p.type == "LBRACE":
        return " " if p.parent == "match_expr" else ""
    if t.type in ("RPAR", "RSQB", "COMMA", "COLON", "DOT"):
        return ""
    if t.type == "RBRACE":
        return " " if t.parent == "match_expr" else ""
    if p.type in ("DOT", "MINUS"):
        return ""
    if t.type == "LPAR" and t.parent == "call":
        return ""
    if t.type == "LSQB" and t.parent in ("index", "project"):
        return ""
    return " "


def _text(t: _Tok) -> str:
    return normalize_string(t.text) if t.type == "STRING" else t.text


class _Layout:
    def __init__(self, source: str, tree: Tree[Token], comments: list[Token]) -> None:
        self.source = source
        self.stmts: list[_Stmt] = []
        for child in tree.children:
            if isinstance(child, Tree):
                toks = list(_leaves(child, str(child.data)))
                self.stmts.append(_Stmt(str(child.data), toks, toks[0].line, toks[-1].line))
        # each comment is a trailing comment of a statement line, inside a statement, or a line of its own
        by_line: dict[int, _Stmt] = {}
        for s in self.stmts:
            for t in s.toks:
                by_line[t.line] = s
        self.trailing: dict[int, str] = {}
        self.inner: dict[int, list[tuple[int, str]]] = {}
        self.comment_lines: list[_CommentLine] = []
        starts = [s.line for s in self.stmts]
        for c in comments:
            text = str(c).rstrip()
            line = c.line or 0
            owner = by_line.get(line)
            if owner is not None:
                self.trailing[line] = text
                continue
            k = bisect.bisect_left(starts, line) - 1  # the last statement starting before this line
            inside = self.stmts[k] if k >= 0 and self.stmts[k].line < line < self.stmts[k].end_line else None
            if inside is not None:
                self.inner.setdefault(id(inside), []).append((line, text))
            else:
                self.comment_lines.append(_CommentLine(text, line))

    def render(self) -> str:
        for s in self.stmts:
            self._render_stmt(s)
        units: list[_Unit] = sorted([*self.stmts, *self.comment_lines], key=lambda u: u.line)
        blanks = self._blank_lines(units)
        self._align(units, blanks)
        out: list[str] = []
        for u, b in zip(units, blanks, strict=True):
            out.extend([""] * b)
            if isinstance(u, _CommentLine):
                out.append(u.text)
            else:
                for line, comment in zip(u.lines, u.comments, strict=True):
                    out.append(line.rstrip() + (comment if comment is not None else ""))
        return "\n".join(ln.rstrip() for ln in out) + "\n" if out else ""

    def _render_stmt(self, s: _Stmt) -> None:
        lines = [""]
        comments: list[str | None] = [None]
        inner = list(self.inner.get(id(s), []))
        depth = 0
        continued = False
        prev: _Tok | None = None
        equal_at = next((i for i, t in enumerate(s.toks) if t.type == "EQUAL"), None)
        for i, tok in enumerate(s.toks):
            if prev is not None and tok.line > prev.line:
                if prev.line in self.trailing:
                    comments[-1] = "  " + self.trailing[prev.line]
                for line, text in [c for c in inner if prev.line < c[0] < tok.line]:
                    lines.append(" " * (4 * depth + (4 if continued else 0)) + text)
                    comments.append(None)
                    inner.remove((line, text))
                if depth == 0:
                    lines[-1] += " \\"
                    continued = True
                d = depth - 1 if tok.type in _CLOSE else depth
                lines.append(" " * (4 * d + (4 if continued else 0)))
                comments.append(None)
            elif prev is not None:
                lines[-1] += _space(prev, tok)
            lines[-1] += _text(tok)
            if tok.type in _OPEN:
                depth += 1
            elif tok.type in _CLOSE:
                depth = max(0, depth - 1)
            prev = tok
            if equal_at is not None and i == equal_at - 1 and len(lines) == 1 and s.kind != "drop_stmt":
                s.lhs = lines[0]
        if prev is not None and prev.line in self.trailing:
            comments[-1] = "  " + self.trailing[prev.line]
        s.lines, s.comments = lines, comments

    def _blank_lines(self, units: list[_Unit]) -> list[int]:
        blanks = [0] * len(units)
        for i in range(1, len(units)):
            gap = units[i].line - units[i - 1].end_line - 1
            blanks[i] = 1 if gap > 0 else 0
            prev = units[i - 1]
            if isinstance(prev, _Stmt) and prev.kind in _HEADERS:
                blanks[i] = 1
        first_rule = True
        for i, u in enumerate(units):
            if not (isinstance(u, _Stmt) and u.kind in _HEADERS):
                continue
            head = i  # the comment lines directly above an `on` line belong to it
            while head > 0 and isinstance(units[head - 1], _CommentLine) and \
                    units[head - 1].end_line == units[head].line - 1:
                head -= 1
            for j in range(head + 1, i + 1):
                blanks[j] = 0
            if head > 0 and not first_rule:
                blanks[head] = 2
            first_rule = False
        return blanks

    def _align(self, units: list[_Unit], blanks: list[int]) -> None:
        block: list[_Stmt] = []

        def flush() -> None:
            if not block:
                return
            width = max((len(s.lhs) for s in block if s.lhs is not None), default=0)
            for s in block:
                if s.lhs is not None:
                    s.lines[0] = s.lhs.ljust(width) + s.lines[0][len(s.lhs):]
            commented = [s for s in block if len(s.lines) == 1 and s.comments[0] is not None]
            col = max((len(s.lines[0]) for s in commented), default=0) + 2
            for s in commented:
                comment = s.comments[0]
                assert comment is not None
                s.comments[0] = " " * (col - len(s.lines[0])) + comment.lstrip()
            block.clear()

        for u, b in zip(units, blanks, strict=True):
            is_eq = isinstance(u, _Stmt) and u.kind in ("assign_stmt", "let_stmt", "const_stmt")
            if not is_eq or b:
                flush()
            if is_eq:
                assert isinstance(u, _Stmt)
                block.append(u)
        flush()


# --- verification --------------------------------------------------------------------------------


def _shape(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        parts = [_shape(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                 if "span" not in f.name and f.name != "file"]
        return (type(obj).__name__, *parts)
    if isinstance(obj, list | tuple):
        return tuple(_shape(x) for x in obj)
    if isinstance(obj, Decimal):
        return ("decimal", str(obj))
    return (type(obj).__name__, obj)


def same_meaning(a: n.Module, b: n.Module) -> bool:
    """Whether two modules have the same syntax tree, ignoring positions."""
    return bool(_shape(a) == _shape(b))


def _verify(before: n.Module, comments: list[Token], out: str, file: str) -> None:
    diags = Diagnostics()
    after = parse(out, file, diags)
    if diags.has_errors:
        raise FormatterBug(f"the formatted text of {file} does not parse: {diags.items[0].message}")
    if not same_meaning(before, after):
        raise FormatterBug(f"formatting {file} would change its meaning")
    _, again = _cst(out)
    if [str(c).rstrip() for c in comments] != [str(c).rstrip() for c in again]:
        raise FormatterBug(f"formatting {file} would lose or change a comment")




# --- the token stream, for tools -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lexeme:
    """One token of a ``.map`` file: its grammar terminal, text, enclosing rule and position."""

    type: str  # a terminal of grammar/mapping.lark, e.g. NAME, STRING, _ON, or COMMENT
    text: str
    rule: str  # the grammar rule the token belongs to, e.g. call, field, target, match_expr
    line: int
    column: int  # 1-based


def lexemes(text: str) -> list[Lexeme]:
    """Every token and comment of a syntactically valid file, in order (editor tests use it)."""
    tree, comments = _cst(text.removeprefix("\ufeff"))
    toks = [Lexeme(t.type, t.text, t.parent, t.line, t.column) for t in _leaves(tree, "start") if t.type != "_NL"]
    toks += [Lexeme("COMMENT", str(c).rstrip(), "", c.line or 0, c.column or 0) for c in comments]
    return sorted(toks, key=lambda x: (x.line, x.column))
