"""``paymap playground [PATH]``: a local page to write mappings and see the Inngest events as you type."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
import webbrowser
from pathlib import Path
from types import FrameType
from typing import Any

# Loopback only, always: the page reads and writes files under PATH.
HOST = "127.0.0.1"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "playground", help="write mappings in the browser and see the events as you type",
        description="Serve a local web page (on 127.0.0.1) with an editor for the .map files under PATH, "
                    "the 48 Dodo sample bodies, the Inngest events they give, diagnostics as you type, "
                    "and save. Nothing leaves this computer. See docs/playground.md.")
    p.add_argument("path", nargs="?", default="mappings", metavar="PATH",
                   help="the directory of .map files to edit (default: mappings)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 picks a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser, just print the address")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = Path(args.path)
    if not root.is_dir():
        hint = " (give the directory that holds it)" if root.is_file() else ""
        print(f"paymap playground: {root}: not a directory{hint}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"paymap playground: --port {args.port}: give a port from 0 to 65535", file=sys.stderr)
        return 2
    import uvicorn

    from runtime.playground.app import create_app

    try:
        sock = socket.socket(socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, args.port))
    except OSError as exc:
        print(f"paymap playground: cannot listen on {HOST}:{args.port}: {exc.strerror or exc}"
              + (" (try --port 0 for a free port)" if args.port else ""), file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    url = f"http://{HOST}:{port}/"
    config = uvicorn.Config(create_app(str(root)), log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)

    def announce() -> None:
        print(f"paymap playground: editing {root}/ at {url}  (Ctrl+C stops it)", flush=True)
        if not args.no_browser:
            webbrowser.open(url)

    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets)
        if server.started:
            threading.Thread(target=announce, daemon=True).start()

    server.startup = startup  # type: ignore[method-assign]
    stopped_by: list[int] = []
    handle_exit = server.handle_exit

    def note_exit(sig: int, frame: FrameType | None) -> None:
        stopped_by.append(sig)
        handle_exit(sig, frame)

    server.handle_exit = note_exit  # type: ignore[method-assign]
    server.run(sockets=[sock])
    if signal.SIGINT in stopped_by:
        # uvicorn raises the signal again once it has stopped, which usually ends here as a
        # KeyboardInterrupt (130 in runtime.cli); say so ourselves when that raise was absorbed
        return 130
    return 0 if server.started else 1
