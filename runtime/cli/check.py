"""``paymap check PATH...``: compile mappings and print every diagnostic.

Exit status: 0 when nothing is wrong, 1 when there are errors (or, with ``--strict``, warnings).
``--format text`` (the default: rustc-style, coloured on a terminal), ``json`` or ``github``
(GitHub Actions annotations). ``--coverage`` also lists the event types no rule maps;
``--functions FILE`` checks the produced event names against your Inngest functions' triggers;
``--target dodo|inngest`` also reports what ``paymap export`` could not export (M7xx) and the size.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dsl.compiler import CompileResult, Coverage, compile_paths, coverage
from dsl.diagnostics import Diagnostics
from dsl.jsgen import TARGETS, Export, export_result
from dsl.listeners import check_listeners, read_listeners
from dsl.render import render_github, render_text, summary
from dsl.schema import types_text
from dsl.source import SourceFile
from runtime.cli.common import use_color


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="check .map files and print diagnostics",
                       description="Compile .map files (or directories of them) and report every problem: "
                                   "against the input schema (Dodo's, or the file's `input`), Inngest's "
                                   "event contract, and the whole set of rules.")
    p.add_argument("paths", nargs="+", metavar="PATH", help=".map files or directories")
    p.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="text (default), json, or github (GitHub Actions annotations)")
    p.add_argument("--strict", action="store_true", help="warnings fail the check too")
    p.add_argument("--coverage", action="store_true",
                   help="also list the known event types that no rule maps")
    p.add_argument("--functions", action="append", default=[], metavar="FILE",
                   help="the event names your Inngest functions listen for: a text file (one name a line), "
                        "JSON, or a Python file of Inngest functions; warns both ways (repeatable)")
    p.add_argument("--target", choices=sorted(TARGETS),
                   help="also check what `paymap export --target` would refuse: Dodo's dashboard or an Inngest webhook")
    p.add_argument("--on", metavar="PATTERN", help="with --target: only the event types matching PATTERN")
    p.add_argument("--max-size", type=int, metavar="CHARS", help="with --target: the size limit to check against")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = compile_paths(args.paths, generate=True)
    sources: dict[str, SourceFile] = dict(result.sources)
    if args.functions:
        extra = Diagnostics()
        listeners = []
        for path in args.functions:
            found, source = read_listeners(path, extra)
            listeners.extend(found)
            if source is not None:
                sources[source.path] = source
        if not extra.has_errors:
            check_listeners([r for f in result.files for r in f.rules], listeners, extra)
        result = CompileResult(result.files, sorted([*result.diagnostics, *extra.items],
                                                    key=lambda d: (d.span.file, d.span.line, d.span.column, d.code)))
    export: Export | None = None
    if args.target:
        export = export_result(result, args.target, args.on, max_size=args.max_size)
        own = [d for d in export.diagnostics if d.code.startswith("M7")]
        result = CompileResult(result.files, sorted([*result.diagnostics, *own],
                                                    key=lambda d: (d.span.file, d.span.line, d.span.column, d.code)))
    diags = result.diagnostics
    cover = coverage(result) if args.coverage else []
    if args.format == "json":
        items = [d.to_dict() for d in diags]
        doc: Any = {"diagnostics": items, "coverage": [c.to_dict() for c in cover]} if args.coverage else items
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    elif args.format == "github":
        lines = [render_github(diags)] if diags else []
        lines.extend(f"::notice title=paymap coverage::{_coverage_line(c)}" for c in cover)
        if lines:
            print("\n".join(lines))
    else:
        color = use_color(sys.stdout)
        if diags:
            print(render_text(diags, sources, color=color))
        for c in cover:
            print(_coverage_text(c))
        if export is not None and export.code is not None:
            limit = args.max_size or export.target.limit
            print(f"export: {export.size:,} characters for the {export.target.title} (limit {limit:,})")
        print(summary(diags, len(result.files)))
    failed = any(d.is_error for d in diags) or (args.strict and bool(diags))
    return 1 if failed else 0


def _coverage_line(c: Coverage) -> str:
    text = f"{len(c.mapped)} of {len(c.known)} {c.source} event types are mapped"
    if c.dropped:
        text += f", {len(c.dropped)} dropped on purpose"
    if c.unmapped:
        text += "; not mapped: " + ", ".join(c.unmapped)
    return text


def _coverage_text(c: Coverage) -> str:
    lines = [f"coverage: {len(c.mapped)} of {len(c.known)} {c.source} event types are mapped"
             + (f", {len(c.dropped)} dropped on purpose" if c.dropped else "")]
    if c.dropped:
        lines.append(f"  dropped:    {types_text(c.dropped, c.known, limit=100)}")
    if c.unmapped:
        lines.append(f"  not mapped: {types_text(c.unmapped, c.known, limit=100)}")
        lines.append("  (an event no rule receives produces nothing; write `on \"...\"` + `drop` to ignore it "
                     "on purpose)")
    return "\n".join(lines) + "\n"
