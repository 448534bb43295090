"""``paymap serve [MAPPINGS]``: run the relay (receive, store, map, deliver) on uvicorn."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

# the relay's modules (pydantic-settings, httpx, starlette, uvicorn) are imported by `run` only, so
# building the command line for `paymap check` (pre-commit hooks) stays fast


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the relay: Dodo webhooks in, Inngest events out",
        description=(
            "Receive Dodo Payments webhooks on POST /webhooks/dodo, verify their signatures, store "
            "them durably, map them with the .map files and deliver the events to Inngest. Settings "
            "come from the environment (see docs/relay.md); flags override them."
        ),
    )
    p.add_argument("mappings", nargs="?", type=Path, help="a .map file or a directory of them (default: mappings/)")
    p.add_argument("--host", help="address to listen on (PAYMAP_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (PAYMAP_PORT, default 8000)")
    p.add_argument("--db", type=Path, help="SQLite store file (PAYMAP_DB, default paymap-data/relay.sqlite3)")
    p.add_argument(
        "--insecure-dev",
        action="store_true",
        default=None,
        help="accept webhooks without a signature check when no secret is set (local testing only; "
        "PAYMAP_INSECURE_DEV=1)",
    )
    p.add_argument("--no-watch", action="store_true", help="do not reload on .map file changes (SIGHUP still works)")
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (PAYMAP_LOG_LEVEL)")
    p.add_argument(
        "--console-token-file",
        type=Path,
        metavar="FILE",
        help="serve the operator console at /console behind the token in FILE (PAYMAP_CONSOLE_TOKEN; a file "
        "keeps the token out of the process list); see docs/console.md",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from runtime.errors import CompileError
    from runtime.relay.app import create_app
    from runtime.relay.config import SettingsError, load_settings
    from runtime.relay.logs import setup_logging
    from runtime.relay.service import Relay
    from runtime.relay.store import StoreError

    console_token = None
    if args.console_token_file is not None:
        try:
            console_token = args.console_token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"paymap serve: cannot read the console token from {args.console_token_file}: "
                  f"{getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            return 2
        if not console_token:
            print(f"paymap serve: {args.console_token_file} is empty: put the console token in it", file=sys.stderr)
            return 2
    try:
        settings = load_settings(
            console_token=console_token,
            mappings=args.mappings,
            host=args.host,
            port=args.port,
            db_path=args.db,
            insecure_dev=args.insecure_dev,
            watch=False if args.no_watch else None,
            log_level=args.log_level,
        )
        settings.require_startable()
    except SettingsError as exc:
        print(f"paymap serve: {exc}", file=sys.stderr)
        return 2
    if not settings.mappings.exists():
        print(f"paymap serve: mappings not found: {settings.mappings} (give a .map file or a directory)", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    try:
        relay = Relay(settings)
    except CompileError as exc:
        print(f"paymap serve: the mappings in {settings.mappings} have errors:\n{exc.rendered}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"paymap serve: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"paymap serve: cannot read the mappings: {exc}", file=sys.stderr)
        return 1
    config = uvicorn.Config(
        create_app(relay),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    # everything built so far (compiler, mappings, libraries) lives as long as the process: take it out
    # of the cyclic collector's view, so its full passes stay short (without this one pass took ~50 ms
    # under load, every answer waiting meanwhile)
    gc.collect()
    gc.freeze()
    server.run()
    return 0 if server.started else 1
