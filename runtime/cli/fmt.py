"""``paymap fmt [PATH...]``: rewrite .map files in the canonical layout (docs/formatting.md)."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

from dsl.compiler import find_map_files
from dsl.formatter import FormatResult, FormatterBug, format_source
from dsl.render import render_text
from dsl.source import SourceFile
from runtime.cli.common import use_color


def register(sub: Any) -> None:
    p = sub.add_parser(
        "fmt", help="format .map files in the canonical layout",
        description="Rewrite .map files in the canonical layout: aligned `=`, normalised spacing and "
                    "quotes, every comment kept. Exit status: 0 done (or nothing to change with --check), "
                    "1 a file would change (--check) or has syntax errors, 2 usage error. "
                    "The layout is described in docs/formatting.md.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help=".map files or directories (searched for *.map); - reads standard input and "
                        "writes the result to standard output; default: mappings")
    p.add_argument("--check", action="store_true",
                   help="change nothing; list the files that would change and exit 1 if any")
    p.add_argument("--diff", action="store_true", help="change nothing; print a unified diff of the changes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    paths = args.paths or ["mappings"]
    if "-" in paths:
        if len(paths) > 1:
            print("paymap fmt: `-` (standard input) cannot be combined with other paths", file=sys.stderr)
            return 2
        return _stdin(args)
    files, problems = find_map_files(paths)
    if problems:
        for problem in problems:
            print(f"paymap fmt: {problem}", file=sys.stderr)
        return 2
    if not files:
        print(f"paymap fmt: no .map files under {', '.join(paths)}", file=sys.stderr)
        return 2
    write = not (args.check or args.diff)
    changed = unchanged = failed = 0
    for path in files:
        result = _format_file(path)
        if result is None:
            failed += 1
            continue
        if not result.changed:
            unchanged += 1
            continue
        changed += 1
        assert result.text is not None
        if args.diff:
            sys.stdout.write(_diff(str(path), result.original, result.text))
        if args.check:
            print(f"would reformat {path}")
        if write:
            try:
                path.write_text(result.text, encoding="utf-8", newline="\n")
            except OSError as exc:
                print(f"error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
                failed += 1
                changed -= 1
                continue
            print(f"reformatted {path}")
    verb = "reformatted" if write else "would be reformatted"
    parts = [f"{changed} file{'s' if changed != 1 else ''} {verb}",
             f"{unchanged} unchanged"]
    if failed:
        parts.append(f"{failed} not formatted (errors above)")
    print(", ".join(parts), file=sys.stderr)
    if failed or (args.check and changed):
        return 1
    return 0


def _format_file(path: Path) -> FormatResult | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        print(f"error: {path}:{line}: byte {exc.start} is not valid UTF-8 text; not formatted", file=sys.stderr)
        return None
    return _format_text(text, str(path))


def _format_text(text: str, name: str) -> FormatResult | None:
    try:
        result = format_source(text, name)
    except FormatterBug as exc:
        print(f"error: {exc}; the file was left unchanged (this is a bug in paymap fmt: please report it)",
              file=sys.stderr)
        return None
    except RecursionError:
        print(f"error: {name}: too deeply nested to format; the file was left unchanged", file=sys.stderr)
        return None
    if result.text is None:
        sources = {name: SourceFile(name, text)}
        print(render_text(result.diagnostics, sources, color=use_color(sys.stderr)), file=sys.stderr)
        print(f"error: {name} has syntax errors; not formatted", file=sys.stderr)
        return None
    return result


def _diff(name: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        f"{name}", f"{name} (formatted)"))


def _stdin(args: argparse.Namespace) -> int:
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        print(f"error: <stdin>: byte {exc.start} is not valid UTF-8 text", file=sys.stderr)
        return 1
    result = _format_text(text, "<stdin>")
    if result is None:
        return 1
    assert result.text is not None
    if args.diff:
        sys.stdout.write(_diff("<stdin>", text, result.text))
    elif not args.check:
        sys.stdout.write(result.text)
    return 1 if args.check and result.changed else 0
