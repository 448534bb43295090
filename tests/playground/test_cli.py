"""`paymap playground`: the one command a newcomer runs, and its clear refusals."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtime.cli import main

from .conftest import copy_mappings


@contextlib.contextmanager
def playground(root: Path, *python: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`paymap playground ROOT` as a process (``python``: how to start it), its first line; Ctrl+C after."""
    proc = subprocess.Popen([sys.executable, *(python or ("-m", "runtime.cli")), "playground", str(root),
                             "--no-browser", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "BROWSER": "false"})
    try:
        assert proc.stdout is not None
        yield proc, proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


def test_it_serves_the_page_on_loopback_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    root = copy_mappings(tmp_path / "mappings")
    with playground(root) as (proc, line):
        assert line.startswith(f"paymap playground: editing {root}/ at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split()[0]
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and "paymap playground" in page.text
        meta = httpx.post(url + "api/meta", json={}, timeout=30).json()
        assert "payment.map" in meta["files"]
    assert proc.returncode == 130  # the shell's code for "stopped by Ctrl+C"
    assert proc.stderr is not None
    assert "Traceback" not in proc.stderr.read()


def test_ctrl_c_is_130_even_when_uvicorns_raised_signal_goes_astray(tmp_path: Path) -> None:
    """uvicorn stops, then raises SIGINT again for the caller; if that raise is absorbed on its way (seen
    once under load: exit 0), the exit status still says "stopped by Ctrl+C". Simulated by dropping it."""
    code = "import signal, sys; signal.raise_signal = lambda sig: None; from runtime.cli import main; sys.exit(main())"
    with playground(copy_mappings(tmp_path / "mappings"), "-c", code) as (proc, line):
        assert "paymap playground: editing" in line
    assert proc.returncode == 130


def test_a_missing_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playground", str(tmp_path / "nowhere"), "--no-browser"]) == 2
    assert "nowhere: not a directory" in capsys.readouterr().err
    (tmp_path / "one.map").write_text('on "payment.succeeded"\nname = "x"\n')
    assert main(["playground", str(tmp_path / "one.map"), "--no-browser"]) == 2
    assert "give the directory that holds it" in capsys.readouterr().err


def test_a_port_in_use_is_refused_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["playground", str(tmp_path), "--no-browser", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port 0" in err
