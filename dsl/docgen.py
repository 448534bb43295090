"""Generate ``docs/functions.md`` from the builtin registry (:data:`dsl.builtins.BUILTINS`).

    .venv/bin/python -m dsl.docgen > docs/functions.md      # regenerate
    .venv/bin/python -m dsl.docgen --check docs/functions.md  # exit 1 when the file is stale

The registry is the one source of truth: signatures, summaries, details and examples all come
from it. Examples that read the webhook body (``data.customer.email``) are evaluated against
:data:`EXAMPLE_BODY`, which the page shows; ``tests/test_docs_functions.py`` checks that every
example really gives the documented result.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from dsl import types as T
from dsl.builtins import BUILTINS, Builtin, Param

OUTPUT = "docs/functions.md"

# The body the examples that read `data` are evaluated against (a shortened payment.succeeded).
EXAMPLE_BODY: dict[str, Any] = {
    "business_id": "bus_H4ekzPSlcg",
    "type": "payment.succeeded",
    "timestamp": "2025-08-04T08:13:04.882151Z",
    "data": {
        "payment_id": "pay_Zee03jcyHp44wEmKDUIr2",
        "total_amount": 2999,
        "currency": "USD",
        "customer": {"customer_id": "cus_idrL0xM2upobkDBKsiUZ6", "email": "ada@example.com"},
        "product_cart": [
            {"product_id": "pdt_1", "quantity": 2},
            {"product_id": "pdt_2", "quantity": 1},
        ],
    },
}

# Category headings, in the order the registry first uses each category.
# (Never just "Money": its anchor would collide with the function `money`'s.)
_TITLES = {
    "money": "Money functions",
    "time": "Time functions",
    "text": "Text functions",
    "numbers": "Number functions",
    "absent values": "Missing and null values",
    "lists": "Lists and queries",
    "general": "Other functions",
}


def registry() -> dict[str, Builtin]:
    """The builtin registry (one source for checker, code generators and this page)."""
    return BUILTINS


def categories() -> list[tuple[str, list[Builtin]]]:
    """The builtins grouped by category, categories and functions in registry order."""
    groups: dict[str, list[Builtin]] = {}
    for builtin in registry().values():
        groups.setdefault(builtin.category, []).append(builtin)
    return list(groups.items())


def title(category: str) -> str:
    return _TITLES.get(category, category.capitalize())


def anchor(text: str) -> str:
    """The GitHub-style anchor of a heading."""
    out = []
    for ch in text.lower():
        if ch.isalnum() or ch in "-_":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


def _cell(text: str) -> str:
    """Text for a Markdown table cell: pipes escaped, inside backticks when it is code."""
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code that may itself contain backticks (JMESPath literals)."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _param_line(p: Param) -> str:
    accepts = T.describe(p.accepts)
    notes = []
    if p.optional:
        notes.append("optional")
    if p.literal:
        notes.append("must be written as a literal")
    text = f"* `{p.name}` — {accepts}"
    if notes:
        text += f" ({', '.join(notes)})"
    if p.doc:
        text += f": {p.doc}"
    return text


def render_builtin(b: Builtin) -> list[str]:
    lines = [f"### `{b.name}`", "", "```", b.signature(), "```", "", b.summary, ""]
    if b.params:
        lines += [_param_line(p) for p in b.params]
        if b.variadic:
            lines.append(f"* … more `{b.params[-1].name}` arguments")
        lines.append("")
    if b.details:
        lines += [b.details, ""]
    if b.absent == "handle":
        lines += ["Reads missing and null arguments itself: they do not simply give missing or null.", ""]
    if b.examples:
        lines += ["| example | result |", "|---|---|"]
        lines += [f"| {_cell(_code(expr))} | {_cell(_code(result))} |" for expr, result in b.examples]
        lines.append("")
    return lines


def render_functions_md() -> str:
    """The whole of ``docs/functions.md``."""
    groups = categories()
    handlers = [f"`{b.name}`" for _, bs in groups for b in bs if b.absent == "handle"]
    lines = [
        "# Functions",
        "",
        "<!-- Generated from dsl/builtins.py by `python -m dsl.docgen`. Do not edit: edit the registry"
        " and regenerate. -->",
        "",
        "Every function a `.map` expression can call, generated from the builtin registry "
        "(`dsl/builtins.py`) — the same registry the compiler checks calls against. "
        "See [language.md](language.md) for the language itself.",
        "",
        "Functions never crash on absent values: unless a function says otherwise, a **missing** "
        "argument gives missing (the output field is left out) and a **null** argument gives null, "
        f"without calling the function. {_and(handlers)} look at missing and null themselves.",
        "",
        "Signatures read `name(parameter: what it accepts, …) -> what it returns`; `?` marks an "
        "optional parameter. Text that must hold a number (`\"1900\"`) or a timestamp is checked when "
        "the event is mapped.",
        "",
    ]
    for category, builtins in groups:
        names = ", ".join(f"[`{b.name}`](#{anchor(b.name)})" for b in builtins)
        lines.append(f"* **[{title(category)}](#{anchor(title(category))})**: {names}")
    lines.append("")
    for category, builtins in groups:
        lines += [f"## {title(category)}", ""]
        for b in builtins:
            lines += render_builtin(b)
    lines += [
        "## The example body",
        "",
        "Examples that read the webhook body (`data.customer.email`, `data.product_cart`) give the "
        "results shown for this body:",
        "",
        "```json",
        json.dumps(EXAMPLE_BODY, indent=2, ensure_ascii=False),
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    text = render_functions_md()
    if args[:1] == ["--check"]:
        path = args[1] if len(args) > 1 else OUTPUT
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except OSError as exc:
            print(f"{path}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        if current != text:
            print(f"{path} is stale: run `.venv/bin/python -m dsl.docgen > {path}`", file=sys.stderr)
            return 1
        return 0
    if args:
        print("usage: python -m dsl.docgen [--check [FILE]]", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
