"""``paymap explain M201``: the page of a diagnostic code, as ``rustc --explain E0308`` does.

The pages are shipped inside the package, so this works wherever paymap is installed (a pre-commit
hook, CI). Without a code, lists every code."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dsl import explain


def register(sub: Any) -> None:
    p = sub.add_parser("explain", help="show the page of a diagnostic code (e.g. M201)",
                       description="Show what a diagnostic code means, with a wrong and a right example. "
                                   "Without a code, list every code.")
    p.add_argument("code", nargs="?", help="a code such as M201 (the last line of each diagnostic names it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.code:
        sys.stdout.write(explain.index())
        return 0
    text = explain.page(args.code)
    if text is None:
        print(f"paymap explain: {explain.unknown(args.code)}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0
