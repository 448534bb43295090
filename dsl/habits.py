"""JavaScript habits, recognised before parsing: each gets one diagnostic at its span, in plain
words, with the text to write instead as a machine-applicable :class:`Fix`.

Merchants arrive from the dashboard's JavaScript handlers, so `//` comments, `;`, `const`,
`===`, `&&`, backtick templates, `Math.floor(...)`, `new Date(t).getTime()` ... are the first
things they write. :func:`scan` reports each and gives the parser a stand-in text with the same
lines and columns, so nothing cascades and everything else in the file is still checked:

* a habit with a same-length stand-in (`//` → `# `, `===` → `== `, `&&` → `or`, `;` → space,
  curly quotes → straight quotes, a backtick template → a string of the same length) leaves its
  statement in the file, checked as usual;
* any other (a JavaScript function, `return { ... }`, an `if (...) { ... }` block) blanks its whole
  statement, up to the closing bracket; the rule is then *partial* and the checker does not report
  what the statement might have set (see :attr:`dsl.nodes.Rule.partial`).

Habits the parser cannot see (text joined with `+`, `parseInt(...)`, `payload.` in front of a
field, a field without `data.`, text without quotes) are reported by the checker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from dsl.diagnostics import Diagnostics, Fix
from dsl.source import Span

# words in front of Dodo's fields in the dashboard's handlers (`payload.data.customer.email`)
JS_ROOTS = ("webhook", "payload", "event", "body", "req", "request", "evt")

# JavaScript functions called as `f(x)`: (name here, the arguments kept, what to say)
JS_FUNCTIONS: dict[str, tuple[str, int, str]] = {
    "parseInt": ("int", 1, "JavaScript's `parseInt` is `int` here"),
    "parseFloat": ("decimal", 1, "JavaScript's `parseFloat` is `decimal` here (exact, no rounding errors)"),
    "Number": ("decimal", 1, "JavaScript's `Number` is `decimal` here (exact, no rounding errors)"),
    "String": ("string", 1, "JavaScript's `String` is `string` here"),
}

_METHODS = {  # `x.method(...)` → a function of x
    "toFixed": "round", "getTime": "epoch_ms", "valueOf": "epoch_ms", "toLowerCase": "lower",
    "toUpperCase": "upper", "trim": "trim", "toISOString": "iso", "toString": "string",
    "map": "map", "filter": "filter", "includes": "contains", "startsWith": "starts_with",
    "endsWith": "ends_with", "join": "join", "split": "split",
}
_CALL_START = re.compile(r"\bMath\.(?:floor|round|ceil|trunc)\s*\(|\bnew\s+Date\s*\(|\bDate\.(?:now|parse)\s*\("
                         r"|\bJSON\.stringify\s*\(")
_METHOD = re.compile(r"\.\s*(" + "|".join(_METHODS) + r")\s*\(")
_ROUND_MODES = {"floor": "floor", "ceil": "ceiling", "trunc": "down"}


_INTERESTING = re.compile("[\"'#/`\u201c\u201d\u2018\u2019]")


@dataclass(slots=True)
class _Segment:
    kind: str  # code | string | comment | line_comment | block_comment | template | curly
    start: int  # offsets in the text, end exclusive
    end: int


def _segments(text: str) -> Iterator[_Segment]:
    """The text cut into code, strings and comments (JavaScript's included), in one pass."""
    i, n, start = 0, len(text), 0
    closers = {"\u201c": "\u201d\u201c\"", "\u2018": "\u2019\u2018'", "\u201d": "\u201d\u201c\"",
               "\u2019": "\u2019\u2018'"}
    while i < n:
        m = _INTERESTING.search(text, i)  # jump to the next character that can start a segment
        if m is None:
            break
        i = m.start()
        ch = text[i]
        kind, end = "", i
        if ch in "\"'":
            kind, end = "string", _string_end(text, i, ch)
        elif ch == "#":
            kind, end = "comment", _line_end(text, i)
        elif text.startswith("//", i):
            kind, end = "line_comment", _line_end(text, i)
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            kind, end = "block_comment", (n if close < 0 else close + 2)
        elif ch == "`":
            close = text.find("`", i + 1)
            kind, end = "template", (_line_end(text, i) if close < 0 else close + 1)
        elif ch in closers:
            stop = min((p for p in (text.find(c, i + 1) for c in closers[ch]) if p >= 0), default=-1)
            line_end = _line_end(text, i)
            if 0 <= stop < line_end:
                kind, end = "curly", stop + 1
        if kind:
            if start < i:
                yield _Segment("code", start, i)
            yield _Segment(kind, i, end)
            i = start = end
        else:
            i += 1
    if start < n:
        yield _Segment("code", start, n)


def _string_end(text: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(text) and text[j] not in (quote, "\n"):
        j += 2 if text[j] == "\\" else 1
    return min(j + 1, len(text)) if j < len(text) and text[j] == quote else j


def _line_end(text: str, i: int) -> int:
    j = text.find("\n", i)
    return len(text) if j < 0 else j


class _Scan:
    def __init__(self, text: str, file: str, diags: Diagnostics) -> None:
        self.text = text
        self.file = file
        self.diags = diags
        self.out = list(text)  # the stand-in text, same length
        self.blanked: set[int] = set()  # lines whose statement was left out
        self.line_starts = [0]
        for m in re.finditer("\n", text):
            self.line_starts.append(m.end())
        self.taken: list[tuple[int, int]] = []  # spans already reported
        self.late: list[tuple[int, int, str]] = []  # stand-ins of another length, put in last
        self.in_block = False  # past an `on`, `group` or `defaults` line (set by statements())

    # positions
    def pos(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.line_starts[lo] + 1

    def span(self, start: int, end: int) -> Span:
        (l1, c1), (l2, c2) = self.pos(start), self.pos(max(end, start))
        return Span(self.file, l1, c1, l2, c2)

    def report(self, start: int, end: int, message: str, help: str, replacement: str, title: str,
               standin: str | None) -> None:
        """One habit: its diagnostic and fix, and the stand-in the parser reads (None: blank the statement)."""
        if any(s < end and start < e for s, e in self.taken):
            return
        self.taken.append((start, end))
        span = self.span(start, end)
        self.diags.error("M107", span, message, help=help, fix=Fix(span, replacement, title))
        if standin is not None and len(standin) == end - start:
            self.out[start:end] = list(standin)
        elif standin is not None:  # only at the end of a line: what the line holds after it does not move
            self.late.append((start, end, standin))
        else:
            self.blank_statement(start)

    def blank_statement(self, offset: int) -> None:
        """Blank the statement around ``offset``: from its first line to where its brackets close."""
        first = self.pos(offset)[0]
        while first > 1 and self.depth_before(first) > 0:
            first -= 1
        last = first
        depth = 0
        while True:
            depth += self.line_depth(last)
            if depth <= 0 or last >= len(self.line_starts):
                break
            last += 1
        for line in range(first, last + 1):
            self.blanked.add(line)
            a = self.line_starts[line - 1]
            b = _line_end(self.text, a)
            self.out[a:b] = [" "] * (b - a)

    def code_of_line(self, line: int) -> str:
        a = self.line_starts[line - 1]
        return self.code[a:_line_end(self.text, a)]

    def line_depth(self, line: int) -> int:
        code = self.code_of_line(line)
        return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")

    def depth_before(self, line: int) -> int:
        return sum(self.line_depth(k) for k in range(1, line))

    # the pass
    def run(self) -> str:
        segments = list(_segments(self.text))
        masked = list(self.text)  # code only: strings and comments masked, for the regexes below
        for seg in segments:
            if seg.kind != "code":  # a string keeps its quotes (`on "x"` is told from `on x`), not its text
                for k in range(seg.start, seg.end):
                    keep = seg.kind == "string" and k in (seg.start, seg.end - 1)
                    if masked[k] != "\n" and not keep:
                        masked[k] = "_" if seg.kind in ("string", "template", "curly") else " "
        self.code = "".join(masked)
        for seg in segments:
            self.segment(seg)
        self.statements()  # whole statements first: what they contain is part of their fix
        self.calls()
        self.operators()
        for start, end, standin in sorted(self.late, reverse=True):
            self.out[start:end] = list(standin)
        return "".join(self.out)

    def segment(self, seg: _Segment) -> None:
        raw = self.text[seg.start:seg.end]
        if seg.kind == "line_comment":
            self.report(seg.start, seg.start + 2, "`//` starts a comment in JavaScript; here a comment starts with `#`",
                        "write `#` instead of `//`", "#", "use # for the comment", "# ")
        elif seg.kind == "block_comment":
            lines = raw[2:-2 if raw.endswith("*/") else None].split("\n")
            replacement = "\n".join("# " + ln.strip().lstrip("*").strip() if ln.strip() else "#" for ln in lines)
            standin = "".join(c if c == "\n" else " " for c in raw)
            self.report(seg.start, seg.end, "`/* ... */` is a JavaScript comment; here every comment line starts with `#`",
                        "start each line of the comment with `#`", replacement, "use # comments", standin)
        elif seg.kind == "template":
            replacement = template_text(raw)
            inner = raw[1:-1] if raw.endswith("`") and len(raw) > 1 else raw[1:]
            standin = '"' + re.sub(r'["\\]', " ", inner) + ('"' if raw.endswith("`") and len(raw) > 1 else "")
            self.report(seg.start, seg.end, "backtick templates are JavaScript; here text is joined with `&`",
                        f"write `{replacement}`", replacement, "join the text with &", standin)
        elif seg.kind == "curly":
            inner = raw[1:-1]
            quoted = '"' + inner.replace('\\', '\\\\').replace('"', '\\"') + '"'
            self.report(seg.start, seg.end, "curly quotes (from a word processor) do not start a text",
                        f"use straight quotes: `{quoted}`", quoted, "use straight quotes",
                        '"' + inner.replace('"', "'") + '"' if '"' not in inner else None)

    def statements(self) -> None:
        """Habits that make up a whole statement: `const`, `return {`, `if (...)`, `name: value`, `;`,
        an `on` line without quotes."""
        depth = 0
        for line in range(1, len(self.line_starts) + 1):
            a = self.line_starts[line - 1]
            code = self.code_of_line(line)
            if depth == 0 and code.strip():
                if re.match(r"\s*(?:(?:also\s+)?on\b|group\b|defaults\b)", code):
                    self.in_block = True
                self.statement_start(a, code)
            depth = max(0, depth + self.line_depth(line))
            semi = re.search(r";\s*$", code)
            if semi:
                at = a + semi.start()
                self.report(at, at + 1, "statements do not end with `;` here: a line ends a statement",
                            "remove the `;`", "", "remove the ;", " ")

    def statement_start(self, a: int, code: str) -> None:
        indent = len(code) - len(code.lstrip())
        s = code.strip()
        m = re.match(r"(const|var)\s+([A-Za-z_]\w*)\s*=", s)
        # before the first rule or group `const` declares a paymap constant; inside one it is JavaScript's
        if m and (m.group(1) == "var" or self.in_block):
            at = a + indent
            self.report(at, at + len(m.group(1)), f"`{m.group(1)}` is JavaScript; here a name is defined with `let`",
                        f"write `let {m.group(2)} = ...`", "let", "use let",
                        "let" + " " * (len(m.group(1)) - 3))
            return
        m = re.match(r"(?:also\s+)?on\s+(?![\"'])(\S[^#]*?)\s*$", s)
        if m and not re.match(r"on\s*=", s):
            raw = self.text[a + indent + m.start(1): a + indent + m.end(1)]
            types = [t.strip().strip(",;") for t in raw.split(",") if t.strip()]
            replacement = ", ".join(f'"{t}"' for t in types)
            at = a + indent + m.start(1)
            self.report(at, at + len(raw), "the event type after `on` is written in quotes",
                        f"write `on {replacement}`", replacement, "quote the event type", replacement)
            return
        if re.match(r"(?:export\s+(?:default\s+)?)?(?:async\s+)?function\b", s):
            self.function_block(a + indent)
            return
        if re.match(r"return\b", s):
            self.return_object(a + indent)
            return
        if re.match(r"if\s*\(", s):
            self.if_block(a + indent)
            return
        m = re.match(r"([A-Za-z_][\w.]*)\s*(:)(?!:)", s)
        if m and not s.startswith(("http:", "https:")):
            at = a + indent + m.start(2)
            rest = self.code[at + 1:_line_end(self.text, at)]
            comma = re.search(r",\s*$", rest)
            end = at + 1 + comma.start() + 1 if comma else at + 1
            value = self.text[at + 1:end - 1] if comma else ""
            self.report(at, end, f"`{m.group(1)}: value` is how a JavaScript object is written; "
                                 "here a field is assigned with `=`",
                        f"write `{m.group(1)} ={value}`" if value.strip() else f"write `{m.group(1)} = ...`",
                        " =" + value, "use =", "=" + value + (" " if comma else ""))

    def statement_text(self, start: int) -> tuple[int, str]:
        """The end offset and the text of the statement starting at ``start`` (brackets closed)."""
        depth, i = 0, start
        while i < len(self.text):
            ch = self.code[i]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth == 0 and self.code[start:i + 1].lstrip().startswith(("return", "if")) \
                        and not re.match(r"\s*else\b", self.code[i + 1:i + 40]) \
                        and (ch == "}" or not re.search(r"\S", self.code[i + 1:_line_end(self.text, i)])):
                    end = i + 1
                    while end < len(self.text) and self.text[end] in " \t;":
                        end += 1
                    return end, self.text[start:end]
            elif ch == "\n" and depth <= 0:
                return i, self.text[start:i]
            i += 1
        return i, self.text[start:i]

    def function_block(self, start: int) -> None:
        """A whole JavaScript handler pasted in (Dodo's dashboard transformations): one diagnostic,
        and as its fix the rules it amounts to, when it has the dashboard's shape."""
        end, raw = self.statement_text(start)
        replacement = translate_handler(raw)
        self.report(start, end, "this is a JavaScript function: a mapping is a list of rules, one per event type",
                    "each `if (webhook.eventType === ...)` becomes a rule `on \"...\"` that assigns the event's "
                    "fields (see docs/migration.md)", replacement, "rewrite as rules", None)

    def return_object(self, start: int) -> None:
        end, raw = self.statement_text(start)
        body = raw.strip().removeprefix("return").strip().rstrip(";").strip()
        if body.startswith("{") and body.endswith("}"):
            entries = split_top(body[1:-1])
            lines = []
            for entry in entries:
                key, _, value = entry.partition(":")
                if value:
                    lines.append(f"{key.strip().strip(chr(34) + chr(39))} = {js_expr(value.strip())}")
            replacement = "\n".join(lines)
        else:
            replacement = "# the rule's event is the fields assigned above; `drop` produces none"
        self.report(start, end, "a rule does not `return` an object: it assigns the event's fields, one a line",
                    "write each field as `field = value` on its own line" if "\n" in replacement
                    else f"write `{replacement}`", replacement, "assign each field", None)

    def if_block(self, start: int) -> None:
        end, raw = self.statement_text(start)
        m = re.match(r"if\s*\((.*?)\)\s*(\{(.*)\}|return\b(.*))\s*;?\s*$", raw, re.S)
        if not m:
            self.report(start, end, "there are no `if` blocks here", "write `field = if cond then a else b`, "
                        "or `drop if cond` to ignore the event", "", "remove the if block", None)
            return
        cond = js_expr(m.group(1).strip())
        body = (m.group(3) if m.group(3) is not None else "return " + (m.group(4) or "")).strip()
        if re.fullmatch(r"return(\s+(null|undefined|false))?\s*;?", body) or body in ("", "return;"):
            replacement = f"drop if {cond}"
            help = f"write `{replacement}`: a rule that drops an event sends nothing"
        else:
            parts = re.split(r"\}\s*else\s*\{", body, maxsplit=1)
            then_part, else_part = parts[0], parts[1] if len(parts) > 1 else ""
            otherwise = _assignments(else_part)
            lines = [f"{target} = if {cond} then {value} else {otherwise.pop(target, 'null')}"
                     for target, value in _assignments(then_part).items()]
            lines += [f"{target} = if {cond} then null else {value}" for target, value in otherwise.items()]
            replacement = "\n".join(lines) or f"drop if not ({cond})"
            help = "make each value conditional: `field = if cond then value else other`" if "\n" in replacement \
                else f"make the value conditional: `{replacement}`"
        self.report(start, end, "there are no `if (...) { ... }` blocks here", help, replacement,
                    "rewrite the if block", None)

    def operators(self) -> None:
        code = self.code
        for m in re.finditer(r"\.\s*length\b(?!\s*\()", code):
            start = _receiver_start(code, m.start())
            receiver = self.text[start:m.start()]
            line_start = self.line_starts[self.pos(m.start())[0] - 1]
            if receiver.strip() and code[line_start:start].strip():  # not an assignment's target
                replacement = f"len({js_expr(receiver)})"
                self.report(start, m.end(), "`.length` is JavaScript; here it is the function `len`",
                            f"write `{replacement}`", replacement, f"replace with {replacement}", None)
        for m in re.finditer(r"(?<![?])\?(?![?.])", code):  # `c ? a : b`
            line_start = self.line_starts[self.pos(m.start())[0] - 1]
            eq = re.match(r"[ \t]*(?:let\s+)?[\w.]+\s*=\s*", code[line_start:m.start()])
            end = _line_end(self.text, m.start())
            colon = code.find(":", m.end(), end)
            if eq and colon > 0:
                start = line_start + eq.end()
                cond, then = self.text[start:m.start()].strip(), self.text[m.end():colon].strip()
                other = self.text[colon + 1:end].split("#")[0].strip()
                replacement = f"if {js_expr(cond)} then {js_expr(then)} else {js_expr(other.rstrip(';'))}"
                stop = start + len(self.text[start:end].split("#")[0].rstrip())
                self.report(start, stop, "`c ? a : b` is JavaScript; here it is `if c then a else b`",
                            f"write `{replacement}`", replacement, "use if ... then ... else", None)
        for m in re.finditer(r"===|!==|&&|\|\||\?\.|!(?!=)", code):
            op, at = m.group(0), m.start()
            if op in ("===", "!=="):
                self.report(at, at + 3, f"`{op}` is JavaScript; here `{op[:2]}` compares values exactly",
                            f"write `{op[:2]}`", op[:2], f"use {op[:2]}", op[:2] + " ")
            elif op == "&&":
                self.report(at, at + 2, "`&&` is JavaScript; here it is `and`", "write `and`", "and", "use and", "or")
            elif op == "||":
                rest = code[at + 2:_line_end(self.text, at)].lstrip()
                default = bool(rest) and (rest[0] in "_0123456789-[{" or rest.startswith(("null", "true", "false")))
                if default:
                    self.report(at, at + 2, "`||` is JavaScript; for a fallback value write `??`",
                                "`a ?? b` gives `b` when `a` is missing or null; to combine two conditions, use `or`",
                                "??", "use ??", "??")
                else:
                    self.report(at, at + 2, "`||` is JavaScript; here it is `or`",
                                "write `or` (or `??` for a fallback when a value is missing or null)", "or", "use or",
                                "or")
            elif op == "?.":
                self.report(at, at + 2, "`?.` is not needed here: reading a field of a missing value gives "
                                        "a missing value", "write `.`", ".", "use .", " .")
            else:
                self.report(at, at + 1, "`!` is JavaScript; here it is `not`", "write `not ` before the condition",
                            "not ", "use not", " ")

    def calls(self) -> None:
        """`Math.floor(...)`, `new Date(...)`, `x.toFixed(2)` ...: the outermost call is reported once,
        with the whole expression rewritten (what it contains included)."""
        found: list[tuple[int, int]] = []
        for m in _CALL_START.finditer(self.code):
            close = _close_paren(self.code, m.end() - 1)
            if close is not None:
                found.append((m.start(), self._chain_end(close + 1)))
        for m in _METHOD.finditer(self.code):
            close = _close_paren(self.code, m.end() - 1)
            if close is not None:
                found.append((_receiver_start(self.code, m.start()), self._chain_end(close + 1)))
        found.sort(key=lambda s: (s[0], -s[1]))
        outer: list[tuple[int, int]] = []
        for s, e in found:
            if outer and s < outer[-1][1]:
                continue
            outer.append((s, e))
        for s, e in outer:
            raw = self.text[s:e]
            replacement = js_expr(raw)
            message, help = _describe_call(raw, replacement)
            self.report(s, e, message, help, replacement, f"replace with {replacement}", None)

    def _chain_end(self, i: int) -> int:
        while True:
            m = _METHOD.match(self.code, i)
            if not m:
                return i
            close = _close_paren(self.code, m.end() - 1)
            if close is None:
                return i
            i = close + 1


def _close_paren(code: str, open_at: int) -> int | None:
    depth = 0
    for i in range(open_at, len(code)):
        if code[i] in "([{":
            depth += 1
        elif code[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
        elif code[i] == "\n" and depth > 8:
            return None
    return None


def _receiver_start(code: str, dot: int) -> int:
    """Where the expression before `.method(` starts: a path, a call or a bracketed expression."""
    i = dot
    while i > 0:
        ch = code[i - 1]
        if ch in ")]":
            depth = 0
            j = i - 1
            while j >= 0:
                if code[j] in ")]":
                    depth += 1
                elif code[j] in "([":
                    depth -= 1
                    if depth == 0:
                        break
                j -= 1
            i = max(j, 0)
        elif ch.isalnum() or ch in "_.":
            i -= 1
        else:
            break
    m = re.search(r"\bnew\s+$", code[max(0, i - 8):i])
    return i - len(m.group(0)) if m else i


def _assignments(body: str) -> dict[str, str]:
    """`a = 1; b.c = x` (a JavaScript block's statements) as targets and rewritten values."""
    out: dict[str, str] = {}
    for stmt in re.split(r";?\s*\n|;", body):
        target, eq, value = stmt.strip().partition("=")
        if eq and target.strip() and not value.startswith("=") and re.fullmatch(r"[\w.]+", target.strip()):
            out[js_expr(target.strip())] = js_expr(value.strip())
    return out


def _statements(body: str) -> list[str]:
    """A JavaScript block's statements: split at `;` and line ends outside brackets and quotes."""
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in body:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in ";\n" and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


def translate_handler(raw: str) -> str:
    """`function handler(webhook) { if (webhook.eventType === "x") { ... } return webhook; }` (or a
    `switch` on `webhook.eventType`) as rules; "" when the function does not have that shape."""
    body = raw[raw.find("{") + 1: raw.rfind("}")] if "{" in raw else ""
    shared: list[str] = []  # `const s = webhook.payload.data` before the branches: in every rule
    rules: list[str] = []
    for stmt in _statements(body):
        let = _let_line(stmt)
        if let and not rules:
            shared.append(let)
            continue
        m = re.match(r"if\s*\((.*?)\)\s*\{(.*)\}\s*$", stmt, re.S)
        if m:
            cond = m.group(1)
            patterns = re.findall(r"eventType\s*===?\s*[\"']([^\"']+)[\"']", cond)
            patterns += [p + "*" for p in re.findall(r"eventType\.startsWith\(\s*[\"']([^\"']+)[\"']\s*\)", cond)]
            if patterns:
                rules.append(_rule(patterns, shared, m.group(2)))
            continue
        m = re.match(r"switch\s*\([^)]*eventType\s*\)\s*\{(.*)\}\s*$", stmt, re.S)
        if m:
            pieces = re.split(r"case\s*[\"']([^\"']+)[\"']\s*:", m.group(1))
            cases: list[str] = []
            for k in range(1, len(pieces), 2):
                cases.append(pieces[k])
                block = re.sub(r"\bbreak\s*;?", "", pieces[k + 1])
                if block.strip():  # an empty case falls through to the next one
                    rules.append(_rule(cases, shared, block))
                    cases = []
    return "\n\n\n".join(rules)


def _let_line(stmt: str) -> str | None:
    let = re.match(r"(?:const|let|var)\s+(\w+)\s*=\s*(.*)$", stmt, re.S)
    return f"let {let.group(1)} = {js_expr(let.group(2))}" if let else None


def _rule(patterns: list[str], shared: list[str], block: str) -> str:
    lines = ["on " + ", ".join(f'"{p}"' for p in patterns), "", *shared]
    for inner in _statements(block):
        whole = re.match(r"[\w.]+\.payload\s*=\s*\{(.*)\}\s*$", inner, re.S)
        let = _let_line(inner)
        if let:
            lines.append(let)
        elif whole:
            for entry in split_top(whole.group(1)):
                key, _, value = entry.partition(":")
                if value:
                    lines.append(f"{key.strip().strip(chr(34) + chr(39))} = {js_expr(value.strip())}")
    return "\n".join(lines)


def split_top(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and quotes."""
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return [p for p in parts if p]


def template_text(raw: str) -> str:
    """`` `dodo:${data.id}` `` → ``"dodo:" & data.id``."""
    inner = raw[1:-1] if raw.endswith("`") and len(raw) > 1 else raw[1:]
    parts: list[str] = []
    for k, piece in enumerate(re.split(r"\$\{(.*?)\}", inner)):
        if k % 2:
            parts.append(js_expr(piece.strip()))
        elif piece:
            parts.append('"' + piece.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " & ".join(parts) or '""'


def js_expr(text: str) -> str:
    """A JavaScript expression rewritten in this language (best effort: what the fixes show)."""
    out = text
    out = re.sub(r"`[^`]*`", lambda m: template_text(m.group(0)), out)
    out = re.sub(r"\b(?:" + "|".join(JS_ROOTS) + r")\.eventType\b", "type", out)
    out = re.sub(r"\b(?:" + "|".join(JS_ROOTS) + r")\.(?=[A-Za-z_])", "", out)
    out = re.sub(r"\s*\|\|\s*(?=[\"'\d\[{-]|null\b|true\b|false\b)", " ?? ", out)
    out = re.sub(r"===", "==", out)
    out = re.sub(r"!==", "!=", out)
    out = re.sub(r"\s*&&\s*", " and ", out)
    out = re.sub(r"\s*\|\|\s*", " or ", out)
    out = re.sub(r"\?\.", ".", out)
    out = re.sub(r"!(?!=)\s*", "not ", out)
    out = re.sub(r"\s*;\s*$", "", out)
    for _ in range(20):
        new = _rewrite_one_call(out)
        if new == out:
            break
        out = new
    return out.strip()


def _rewrite_one_call(text: str) -> str:
    """The innermost JavaScript call in ``text`` rewritten (called until nothing changes)."""
    calls: list[tuple[int, int, str]] = []
    for m in _CALL_START.finditer(text):
        close = _close_paren(text, m.end() - 1)
        if close is not None:
            calls.append((m.start(), close + 1, "prefix"))
    for m in _METHOD.finditer(text):
        close = _close_paren(text, m.end() - 1)
        if close is not None:
            calls.append((_receiver_start(text, m.start()), close + 1, "method"))
    for m in re.finditer(r"\b(" + "|".join(JS_FUNCTIONS) + r")\s*\(", text):
        close = _close_paren(text, m.end() - 1)
        if close is not None and (m.start() == 0 or text[m.start() - 1] != "."):
            calls.append((m.start(), close + 1, "function"))
    if not calls:
        return text
    s, e, kind = min(calls, key=lambda c: c[1] - c[0])  # innermost: the shortest
    raw = text[s:e]
    return text[:s] + _rewrite_call(raw, kind) + text[e:]


def _rewrite_call(raw: str, kind: str) -> str:
    if kind == "function":
        name, _, rest = raw.partition("(")
        args = split_top(rest[:-1])
        target, keep, _ = JS_FUNCTIONS[name.strip()]
        return f"{target}({', '.join(args[:keep])})"
    if kind == "method":
        m = list(_METHOD.finditer(raw))[-1]
        receiver = raw[: m.start()].strip()
        args = split_top(raw[m.end():-1])
        method = m.group(1)
        inner = receiver[1:-1].strip() if receiver.startswith("(") and receiver.endswith(")") else receiver
        date = re.fullmatch(r"new\s+Date\s*\((.*)\)", inner, re.S)
        if method in ("getTime", "valueOf", "toISOString") and (date or inner.startswith(("epoch_ms(", "iso("))):
            arg = date.group(1).strip() if date else inner[inner.index("(") + 1:-1]
            return f"{'iso' if method == 'toISOString' else 'epoch_ms'}({arg or 'timestamp'})"
        if method in ("map", "filter", "includes", "startsWith", "endsWith", "join", "split"):
            # `list.map(p => p.id)` → `map(list, p -> p.id)`: the list first, `=>` written `->`
            more = [re.sub(r"^\(?\s*(\w+)\s*\)?\s*=>", r"\1 ->", a.strip()) for a in args]
            return f"{_METHODS[method]}({', '.join([inner, *more])})"
        if method == "toFixed":
            cents = re.fullmatch(r"(.+?)\s*/\s*100", inner, re.S)
            if cents:
                return f"money({cents.group(1).strip()}, data.currency)"
            return f"round({inner}, {args[0] if args else '0'})"
        return f"{_METHODS[method]}({inner})"
    name = raw[: raw.index("(")].strip()
    args = split_top(raw[raw.index("(") + 1:-1])
    if re.fullmatch(r"new\s+Date", name):
        return f"iso({args[0]})" if args else "iso(timestamp)"
    if name == "Date.now":
        return "epoch_ms(timestamp)"
    if name == "Date.parse":
        return f"epoch_ms({args[0] if args else 'timestamp'})"
    if name == "JSON.stringify":
        return args[0] if args else "null"
    fn = name.removeprefix("Math.")
    arg = args[0] if args else "0"
    seconds = re.fullmatch(r"epoch_ms\((.*)\)\s*/\s*1000", arg, re.S)
    if seconds:
        return f"epoch_ms({seconds.group(1)})"
    if fn == "round":
        return f"round({arg})"
    return f'round({arg}, 0, "{_ROUND_MODES[fn]}")'


def _describe_call(raw: str, replacement: str) -> tuple[str, str]:
    """The message and help of a JavaScript call, from its outermost function."""
    head = raw.strip()
    write = f"write `{replacement}`"
    if re.match(r"Math\.\w+\s*\(", head) and "getTime" in head and "1000" in head:
        return ("this turns the time into seconds, but Inngest reads times in milliseconds",
                f"{write}: the event's time in milliseconds since 1970")
    if re.match(r"Math\.\w+\s*\(", head):
        fn = head[5:head.index("(")].strip()
        return (f"`Math.{fn}` is JavaScript; here numbers are rounded with `round`", write)
    if re.match(r"new\s+Date\s*\(", head) or head.startswith("Date."):
        if replacement.startswith("epoch_ms(") and "Date.now" in head:
            return ("mappings do not read the clock: the event's own `timestamp` is used instead", write)
        return ("JavaScript dates are not used here: times are read with `epoch_ms` (milliseconds) and "
                "`iso` (text)", write)
    if head.startswith("JSON.stringify"):
        return ("`JSON.stringify` is not needed: every value is sent to Inngest as JSON already",
                f"{write}: assign the value itself")
    found = list(_METHOD.finditer(head))
    method = found[-1].group(1) if found else ""
    if method == "toFixed" and replacement.startswith("money("):
        return ("amounts are in the currency's smallest unit: `money` formats them for the currency "
                "(two decimals for USD, none for JPY)", write)
    if method in _METHODS:
        return (f"`.{method}()` is JavaScript; here it is the function `{_METHODS[method]}`", write)
    return ("this is JavaScript", write)


# what any habit needs somewhere in the text (strings included: this only decides whether to look);
# plain substrings first, then a few regexes that start with a literal (fast on a large file)
_WORDS = ("//", "/*", ";", "`", "\u201c", "\u201d", "\u2018", "\u2019", "===", "!==", "&&", "||", "?.", "const",
          "var", "return", "Math.", "Date", "JSON.")
_MAYBE = (re.compile(r"!(?!=)"), re.compile(r"\.\s*(?:" + "|".join(_METHODS) + r")\s*\("),
          re.compile(r"^[ \t]*(?:if\s*\(|[A-Za-z_][\w.]*[ \t]*:|(?:also\s+)?on[ \t]+[^\"'\s#])", re.M))


def _maybe(text: str) -> bool:
    return any(w in text for w in _WORDS) or any(r.search(text) for r in _MAYBE)


def scan(text: str, file: str, diags: Diagnostics) -> tuple[str, set[int]]:
    """Report every JavaScript habit in ``text``; return the stand-in text for the parser (same
    lines and columns) and the lines whose statement was left out."""
    if not _maybe(text):
        return text, set()  # the common case: nothing to look at
    s = _Scan(text, file, diags)
    out = s.run()
    return out, s.blanked
