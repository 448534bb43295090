"""``paymap check PATH...``: compile mappings and print every diagnostic."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dsl.compiler import compile_paths
from dsl.render import render_github, render_json, render_text, summary
from runtime.cli.common import use_color


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="check .map files and print diagnostics",
                       description="Compile .map files (or directories of them) and report every problem.")
    p.add_argument("paths", nargs="+", metavar="PATH", help=".map files or directories")
    p.add_argument("--format", choices=("text", "json", "github"), default="text", help="output format")
    p.add_argument("--strict", action="store_true", help="warnings fail the check too")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = compile_paths(args.paths, generate=True)
    diags = result.diagnostics
    if args.format == "json":
        print(render_json(diags))
    elif args.format == "github":
        if diags:
            print(render_github(diags))
    else:
        if diags:
            print(render_text(diags, result.sources, color=use_color(sys.stdout)))
        print(summary(diags, len(result.files)))
    failed = any(d.is_error for d in diags) or (args.strict and bool(diags))
    return 1 if failed else 0
