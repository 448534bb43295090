"""Helpers for the relay tests: the Inngest test double as a process, relays on real uvicorn servers.

Everything runs on 127.0.0.1 with free ports and real SQLite files under pytest's tmp dirs.
Waits are bounded polls with generous deadlines (they fail with a message, never hang).
"""

from __future__ import annotations

import base64
import importlib.resources
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from standardwebhooks import Webhook

from runtime.relay.config import RelaySettings
from runtime.relay.server import server_config
from runtime.relay.service import Relay

HERE = Path(__file__).parent
DOUBLE_SCRIPT = HERE / "inngest_double.py"
MAPPINGS = HERE / "mappings"
SECRET = "whsec_" + base64.b64encode(b"paymap relay tests: 32 byte key!").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another secret, for rotation ok!").decode()
REPO = HERE.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], what: str, timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g}s waiting for: {what} (last value: {last!r})")


def sample_body(event_type: str) -> bytes:
    path = importlib.resources.files("runtime.samples") / "dodo" / f"{event_type}.json"
    return path.read_bytes()


def signed_headers(body: bytes, webhook_id: str, secret: str = SECRET, when: datetime | None = None) -> dict[str, str]:
    when = when or datetime.now(tz=UTC)
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, when, body.decode()),
    }


class Double:
    """Client and process handle of the Inngest Event API test double (tests/relay/inngest_double.py)."""

    def __init__(self, port: int = 0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(DOUBLE_SCRIPT), "--port", str(port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("READY "), f"the Inngest test double did not start: {line!r}"
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._http = httpx.Client(base_url=self.url, timeout=10)

    def config(self, **values: Any) -> None:
        self._http.post("/_control/config", json=values).raise_for_status()

    def script(self, *responses: dict[str, Any]) -> None:
        self._http.post("/_control/script", json={"responses": list(responses)}).raise_for_status()

    def received(self) -> dict[str, Any]:
        data: dict[str, Any] = self._http.get("/_control/received").json()
        return data

    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.received()["events"]
        return events

    def ids(self) -> list[str]:
        return [str(e.get("id")) for e in self.events()]

    def stop(self) -> None:
        self._http.close()
        self.proc.kill()
        self.proc.wait(timeout=10)


def fast_settings(tmp_path: Path, event_api: str, **overrides: Any) -> RelaySettings:
    """Fast settings for tests: short timeouts, backoff and polls; real file store in ``tmp_path``."""
    values: dict[str, Any] = {
        "webhook_key": SECRET,
        "db_path": tmp_path / "relay.sqlite3",
        "mappings": MAPPINGS,
        "inngest_dev": event_api,
        "http_timeout_seconds": 2.0,
        "lease_seconds": 7.0,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.4,
        "auth_pause_seconds": 0.3,
        "poll_seconds": 0.05,
        "watch": False,
    }
    values.update(overrides)
    return RelaySettings(**values)


class RelayServer:
    """A relay on a real uvicorn server in a thread of the test process."""

    def __init__(self, settings: RelaySettings) -> None:
        self.settings = settings
        self.relay = Relay(settings)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.ops_sock = socket.socket()  # the operations listener: /readyz and /metrics
        self.ops_sock.bind(("127.0.0.1", 0))
        self.ops_port = int(self.ops_sock.getsockname()[1])
        # the bounds of `paymap serve`; the sockets are bound here
        config = server_config(self.relay, ops_port=self.ops_port)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock, self.ops_sock]}, daemon=True
        )
        self.thread.start()
        wait_until(lambda: self.server.started, "the relay's uvicorn server to start")
        self.http = httpx.Client(base_url=self.url, timeout=20)
        self.ops = httpx.Client(base_url=f"http://127.0.0.1:{self.ops_port}", timeout=20)

    def post(self, body: bytes, headers: dict[str, str], path: str = "/webhooks/dodo") -> httpx.Response:
        return self.http.post(path, content=body, headers=headers)

    def send(self, event_type: str, webhook_id: str) -> httpx.Response:
        body = sample_body(event_type)
        return self.post(body, signed_headers(body, webhook_id))

    def db(self) -> Any:
        """A connection to the relay's store, SQLite or PostgreSQL (``?`` placeholders either way)."""
        if self.settings.database_url:
            return PgCompat(self.settings.database_url)
        return sqlite3.connect(self.settings.db_path)

    def cli(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        """``paymap ARGS`` on this relay's store: ``--db FILE``, or PAYMAP_DATABASE_URL for PostgreSQL."""
        if self.settings.database_url:
            env = {**kw.pop("env", {}), "PAYMAP_DATABASE_URL": self.settings.database_url}
            return run_cli(*args, env=env, **kw)
        return run_cli(*args, "--db", str(self.settings.db_path), **kw)

    def count(self, sql: str, *params: Any) -> int:
        with self.db() as conn:
            return int(conn.execute(sql, params).fetchone()[0])

    def stop(self) -> None:
        self.http.close()
        self.ops.close()
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()
        self.ops_sock.close()


class PgCompat:
    """Enough of sqlite3's connection for the tests' queries, on PostgreSQL (commits on leaving ``with``)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), params)

    def __enter__(self) -> PgCompat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """Run ``paymap`` as a user would: a separate process, output captured."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYMAP_", "INNGEST_", "DODO_PAYMENTS_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", "import sys; from runtime.cli import main; sys.exit(main())", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


def jdump(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def relay_env(db: Path, port: int, event_api: str, **extra: str) -> dict[str, str]:
    """Environment for a ``paymap serve`` subprocess with fast test timings."""
    env = {
        "DODO_PAYMENTS_WEBHOOK_KEY": SECRET,
        "PAYMAP_DB": str(db),
        "PAYMAP_PORT": str(port),
        "PAYMAP_OPS_PORT": str(free_port()),
        "INNGEST_DEV": event_api,
        "PAYMAP_HTTP_TIMEOUT": "1",
        "PAYMAP_LEASE_SECONDS": "6",
        "PAYMAP_RETRY_BASE_SECONDS": "0.05",
        "PAYMAP_RETRY_MAX_SECONDS": "0.5",
        "PAYMAP_AUTH_PAUSE_SECONDS": "0.3",
        "PAYMAP_POLL_SECONDS": "0.05",
        "PAYMAP_WATCH": "0",
        "PAYMAP_LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


class RelayProcess:
    """``paymap serve`` as its own process (for kill -9 and signals); its log goes to ``log_path``."""

    def __init__(self, mappings: Path, env: dict[str, str], log_path: Path, *args: str, cwd: Path = REPO) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYMAP_", "INNGEST_", "DODO_PAYMENTS_"))}
        full_env.update(env)
        self.port = int(env["PAYMAP_PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.ops_url = f"http://127.0.0.1:{env['PAYMAP_OPS_PORT']}" if "PAYMAP_OPS_PORT" in env else self.url
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "import sys; from runtime.cli import main; sys.exit(main())",
                 "serve", str(mappings), *args],
                env=full_env,
                stdout=log,
                stderr=log,
                cwd=cwd,
            )
        wait_until(self._ready, f"the relay process to answer on {self.url} (log: {log_path})", timeout=60)

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the relay exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
        try:
            return httpx.get(self.ops_url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()
