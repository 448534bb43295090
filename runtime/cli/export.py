"""``paymap export [PATH...] --target dodo|inngest``: the mappings as one JavaScript function to paste
into Dodo's dashboard (a Svix transformation) or an Inngest webhook transform; see docs/dashboard.md.

The code goes to standard output (or ``-o FILE``); diagnostics and the size report to standard error.
Exit status: 0 exported, 1 refused (an error diagnostic says why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from dsl.compiler import compile_paths
from dsl.jsgen import TARGETS, export_result
from dsl.render import render_text, summary
from runtime.cli.common import use_color


def register(sub: Any) -> None:
    p = sub.add_parser("export", help="compile mappings to JavaScript for Dodo's dashboard or an Inngest webhook",
                       description="Compile .map files to one self-contained ES5 function: `handler(webhook)` for "
                                   "Dodo's dashboard (--target dodo) or `transform(evt, headers, queryParams, raw)` "
                                   "for an Inngest webhook (--target inngest). See docs/dashboard.md.")
    p.add_argument("paths", nargs="*", default=["mappings"], metavar="PATH",
                   help=".map files or directories (default: mappings)")
    p.add_argument("--target", required=True, choices=sorted(TARGETS), help="where the code runs")
    p.add_argument("--on", metavar="PATTERN",
                   help="only event types matching PATTERN (e.g. \"payment.*\"); others are cancelled/skipped. "
                        "Splits a library too large for one endpoint")
    p.add_argument("--also", choices=("include", "skip", "only"), default="include",
                   help="the `also on` rules: include them (default), skip them, or export only them "
                        "(for a second endpoint: a dashboard sends one event per webhook)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the code to FILE instead of standard output")
    p.add_argument("--max-size", type=int, metavar="CHARS",
                   help="the size limit to enforce (default: 51200 for dodo, 2048 for inngest)")
    p.add_argument("--sizes", action="store_true",
                   help="print the size of each file exported alone and of all together, instead of the code")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.on is not None and not args.on.strip():
        print("paymap: --on needs an event type pattern such as \"payment.*\"", file=sys.stderr)
        return 2
    if args.max_size is not None and args.max_size < 10:
        print("paymap: --max-size must be at least 10 characters", file=sys.stderr)
        return 2
    result = compile_paths(args.paths)
    if args.sizes:
        return _sizes(args, result)
    out = export_result(result, args.target, args.on, max_size=args.max_size, also=args.also)
    color = use_color(sys.stderr)
    if out.diagnostics:
        print(render_text(out.diagnostics, result.sources, color=color), file=sys.stderr)
    if out.code is None:
        print(summary(out.diagnostics, len(result.files)) + "; nothing exported", file=sys.stderr)
        return 1
    limit = args.max_size or out.target.limit
    note = (f"exported {out.rules} rule{'s' if out.rules != 1 else ''} from {len(out.files)} "
            f"file{'s' if len(out.files) != 1 else ''} for the {out.target.title}: "
            f"{out.size:,} characters (limit {limit:,})")
    if args.output:
        try:
            _write(Path(args.output), out.code)
        except OSError as exc:
            print(f"paymap: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"{note}; written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(out.code)
        print(note, file=sys.stderr)
    return 0


def _write(path: Path, text: str) -> None:
    """Replace the file whole or not at all."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sizes(args: argparse.Namespace, result: Any) -> int:
    if not result.ok:
        print(render_text(result.errors, result.sources, color=use_color(sys.stderr)), file=sys.stderr)
        return 1
    target = TARGETS[args.target]
    limit = args.max_size or target.limit
    rows: list[tuple[str, int | None, str]] = []
    for f in result.files:
        if not f.rules:
            continue  # declarations only (`const`, groups: `_settings.map`): nothing of its own to export
        alone = type(result)([f], [])
        one = export_result(alone, args.target, args.on, max_size=10**9, also=args.also)
        rows.append((f.source.path, one.size if one.code else None, _why(one)))
    whole = export_result(result, args.target, args.on, max_size=10**9, also=args.also)
    rows.append(("all together", whole.size if whole.code else None, _why(whole)))
    width = max(len(r[0]) for r in rows)
    print(f"{'':<{width}}  characters  (limit {limit:,} for the {target.title})")
    for name, size, why in rows:
        text = f"{size:>10,}" + ("  over the limit" if size > limit else "") if size is not None else f"{'-':>10}  {why}"
        print(f"{name:<{width}}  {text}")
    return 0


def _why(export: Any) -> str:
    errors = [d for d in export.diagnostics if d.is_error]
    return f"not exportable: {errors[0].code} {errors[0].message}" if errors else ""
