"""Customer data and the signing secret are readable by their owner only, whatever the umask."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.relay.store_sqlite import SQLiteStore

from .harness import Double, RelayServer, fast_settings, sample_body, signed_headers

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("permissive_umask")
def test_store_directory_and_files_are_owner_only_under_umask_022(tmp_path: Path, double: Double) -> None:
    data = tmp_path / "deep" / "paymap-data"
    server = RelayServer(fast_settings(tmp_path, double.url, db_path=data / "relay.sqlite3"))
    try:
        body = sample_body("payment.succeeded")
        assert server.post(body, signed_headers(body, "msg_modes")).status_code == 200
        db = data / "relay.sqlite3"
        assert Path(f"{db}-wal").exists()
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert _mode(path) == 0o600, path
        assert _mode(data) == 0o700
        assert _mode(data.parent) == 0o700  # every directory the relay had to create
    finally:
        server.stop()


@pytest.mark.usefixtures("permissive_umask")
def test_existing_directory_keeps_its_mode_and_the_new_store_is_private(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "relay.sqlite3")
    try:
        assert _mode(tmp_path / "relay.sqlite3") == 0o600
    finally:
        store.close()


def test_start_warns_when_an_existing_store_or_secret_is_readable_by_others(
    tmp_path: Path, double: Double, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "paymap-data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    secret = data / "dev-webhook-secret"
    secret.write_text("whsec_x\n")
    os.chmod(secret, 0o644)
    caplog.set_level(logging.WARNING, logger="paymap.relay")
    server = RelayServer(fast_settings(tmp_path, double.url, db_path=data / "relay.sqlite3"))
    try:
        warnings = [r for r in caplog.records if "readable by other local users" in r.getMessage()]
        assert len(warnings) == 1
        paths = warnings[0].__dict__["paths"]
        assert any(p.startswith(str(secret)) and "0644" in p for p in paths)
        assert any(p.startswith(f"{data} ") for p in paths)
        assert not any(p.startswith(f"{data / 'relay.sqlite3'} ") for p in paths)  # created private
    finally:
        server.stop()


def test_private_files_give_no_warning(tmp_path: Path, double: Double, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="paymap.relay")
    server = RelayServer(fast_settings(tmp_path / "private", double.url, db_path=tmp_path / "private" / "r.sqlite3"))
    try:
        assert not [r for r in caplog.records if "readable by other local users" in r.getMessage()]
    finally:
        server.stop()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_creates_the_secret_and_directory_owner_only(tmp_path: Path) -> None:
    """The Makefile's `run` recipe, on its own: the dev secret it writes is 0600 in a 0700 directory."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    recipe = subprocess.run(
        ["make", "-n", "run", "STAMP=", "BIN=/bin"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    setup = recipe.split("DODO_PAYMENTS_WEBHOOK_KEY=$(cat")[0] + "true; fi"
    subprocess.run(["sh", "-c", f"umask 022; {setup}"], cwd=tmp_path, check=True, env={"PATH": os.environ["PATH"]})
    assert _mode(tmp_path / "paymap-data") == 0o700
    assert _mode(tmp_path / "paymap-data" / "dev-webhook-secret") == 0o600
    assert (tmp_path / "paymap-data" / "dev-webhook-secret").read_text().startswith("whsec_")
