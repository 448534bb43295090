"""The ``paymap`` command line.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser, which receives the parsed arguments and returns the exit code. Adding a
subcommand is one line in ``_COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# module names under runtime.cli, in the order shown by --help
_COMMANDS = (
    "check",
    "run",
    "test",
    "fmt",
    "serve",
    "send_sample",
    "status",
    "replay",
    "playground",
    "purge",
    "export",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paymap",
        description="Map Dodo Payments webhooks to Inngest events with checked, compiled .map files.",
        epilog="`paymap COMMAND --help` describes a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        try:
            module = importlib.import_module(f"runtime.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"runtime.cli.{name}":
                continue  # subcommand not built yet
            raise
        module.register(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("paymap")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `paymap` alone: what it can do, not an error
        parser.print_help()
        return 0
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: never a traceback for a user
        if os.environ.get("PAYMAP_DEBUG"):
            raise
        print(
            f"paymap: internal error: {type(exc).__name__}: {exc}\n"
            "       (set PAYMAP_DEBUG=1 for a traceback, and please report it)",
            file=sys.stderr,
        )
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
