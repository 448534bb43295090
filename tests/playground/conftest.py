"""A real playground server (uvicorn on loopback, real worker process) over a copy of mappings/."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from runtime.playground.app import create_app

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Playground:
    root: Path
    url: str
    client: httpx.Client

    def call(self, method: str, **params: Any) -> httpx.Response:
        return self.client.post(f"/api/{method}", json=params)

    def ok(self, method: str, **params: Any) -> Any:
        response = self.call(method, **params)
        assert response.status_code == 200, response.text
        return response.json()


def copy_mappings(target: Path) -> Path:
    shutil.copytree(REPO / "mappings", target)
    return target


def serve(root: Path) -> Iterator[Playground]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(str(root)), host="127.0.0.1", port=port,
                                           log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the playground server did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=30) as client:
        yield Playground(root, url, client)
    server.should_exit = True
    thread.join(15)


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Playground]:
    root = copy_mappings(tmp_path_factory.mktemp("playground") / "mappings")
    yield from serve(root)
