"""``paymap serve [MAPPINGS]``: run the relay (receive, store, map, deliver) on uvicorn."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import socket
import sys
from pathlib import Path

# the relay's modules (pydantic-settings, httpx, starlette, uvicorn) are imported by `run` only, so
# building the command line for `paymap check` (pre-commit hooks) stays fast; for the same reason the
# variables are listed here (a test checks the list against runtime.relay.config.RelaySettings)
ENVIRONMENT = """\
environment (flags override; docs/relay.md has the details):
  DODO_PAYMENTS_WEBHOOK_KEY    signing secret(s) whsec_... of the Dodo endpoint (required)
  INNGEST_EVENT_KEY            Inngest event key (unset: send to the dev server)
  INNGEST_DEV                  1, 0 or the dev server's URL
  INNGEST_BASE_URL, INNGEST_EVENT_API_BASE_URL, INNGEST_ENV
                               where events go (as the Inngest SDKs read them)
  PAYMAP_HOST, PAYMAP_PORT, PAYMAP_DB, PAYMAP_MAPPINGS, PAYMAP_WATCH, PAYMAP_INSECURE_DEV
  PAYMAP_LOG_LEVEL, PAYMAP_LOG_FORMAT (auto, json, text)
  receiving:  PAYMAP_MAX_BODY_BYTES, PAYMAP_ACCEPT_TIMEOUT, PAYMAP_HEADER_TIMEOUT, PAYMAP_BODY_TIMEOUT,
              PAYMAP_MAX_CONNECTIONS, PAYMAP_MAX_HEADER_BYTES, PAYMAP_MAX_CONCURRENT_BODIES
  operations: PAYMAP_OPS_HOST, PAYMAP_OPS_PORT, PAYMAP_OPS_TOKEN (readiness and metrics listener)
  console:    PAYMAP_CONSOLE_TOKEN (serves /console on the webhook listener; --console-token-file),
              PAYMAP_CONSOLE_PLAYGROUND_URL (where "open in playground" points)
  store:      PAYMAP_DB_SYNCHRONOUS, PAYMAP_DB_BUSY_TIMEOUT_MS, PAYMAP_RETENTION_DAYS, PAYMAP_RETARGET
  cluster:    PAYMAP_DATABASE_URL (postgresql://…: several instances on one database),
              PAYMAP_DB_POOL_SIZE, PAYMAP_HEARTBEAT_SECONDS
  delivering: PAYMAP_BATCH_MAX_EVENTS, PAYMAP_BATCH_MAX_BYTES, PAYMAP_EVENT_MAX_BYTES, PAYMAP_HTTP_TIMEOUT,
              PAYMAP_LEASE_SECONDS, PAYMAP_RETRY_BASE_SECONDS, PAYMAP_RETRY_MAX_SECONDS,
              PAYMAP_AUTH_PAUSE_SECONDS, PAYMAP_POLL_SECONDS, PAYMAP_ALERT_PENDING_AGE
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the relay: Dodo webhooks in, Inngest events out",
        description=(
            "Receive Dodo Payments webhooks on POST /webhooks/dodo, verify their signatures, store "
            "them durably, map them with the .map files and deliver the events to Inngest. Readiness "
            "and metrics are on their own listener (PAYMAP_OPS_HOST:PAYMAP_OPS_PORT, default 127.0.0.1:8001). "
            "Settings come from the environment (below); flags override them."
        ),
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    p.add_argument(
        "--retarget",
        action="store_true",
        default=None,
        help="send the store's queue to the Inngest environment/key configured now, although it was "
        "queued for another (PAYMAP_RETARGET=1)",
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
    p.add_argument("--log-format", choices=("auto", "json", "text"),
                   help="text on a terminal and JSON lines otherwise (auto, the default), or either (PAYMAP_LOG_FORMAT)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from runtime.errors import CompileError
    from runtime.relay.config import SettingsError, load_settings
    from runtime.relay.logs import setup_logging
    from runtime.relay.server import server_config
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
            retarget=args.retarget,
            watch=False if args.no_watch else None,
            log_level=args.log_level,
            log_format=args.log_format,
        )
        settings.require_startable()
    except SettingsError as exc:
        print(f"paymap serve: {exc}", file=sys.stderr)
        return 2
    if not settings.mappings.exists():
        print(f"paymap serve: mappings not found: {settings.mappings} (give a .map file or a directory)", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
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
    try:
        sockets = [_listen(settings.host, settings.port), _listen(settings.ops_host, settings.ops_port)]
    except OSError as exc:
        relay.store.close()
        print(f"paymap serve: {exc}", file=sys.stderr)
        return 1
    server = uvicorn.Server(server_config(relay, ops_port=sockets[1].getsockname()[1]))
    # everything built so far (compiler, mappings, libraries) lives as long as the process: take it out
    # of the cyclic collector's view, so its full passes stay short (without this one pass took ~50 ms
    # under load, every answer waiting meanwhile)
    gc.collect()
    gc.freeze()
    _stop_cleanly_on_signals()
    server.run(sockets=sockets)
    return 0 if server.started else 1


def _stop_cleanly_on_signals() -> None:
    """A stop by SIGINT or SIGTERM is a clean exit (0): uvicorn shuts down gracefully, then raises the
    signal again through the handlers that were in place before it; here they let it pass, so
    `make run` stopped with Ctrl-C or SIGTERM does not end with "Error 143"."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _sig, _frame: None)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket; the error names the address (the webhook and the operations listener)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family, backlog=2048)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise OSError(f"cannot listen on {host}:{port}: {reason}") from None
