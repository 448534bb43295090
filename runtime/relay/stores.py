"""Picks the store backend: PostgreSQL when ``PAYMAP_DATABASE_URL`` names one, else the SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

from runtime.relay.config import db_path_from
from runtime.relay.store import Store, StoreError, StoreUnavailable
from runtime.relay.store_sqlite import SQLiteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(POSTGRES_SCHEMES)


def database_url_from_env() -> str | None:
    """``PAYMAP_DATABASE_URL`` for the operator commands (``status``, ``replay``, ``purge``)."""
    return os.environ.get("PAYMAP_DATABASE_URL") or None


def open_postgres(url: str, *, accept_timeout: float = 10.0, read_only: bool = False, pool_size: int = 4) -> Store:
    try:  # imported here, not above: psycopg is an optional extra
        from runtime.relay.store_postgres import PostgresStore
    except ImportError as exc:  # the optional extra is missing
        raise StoreUnavailable(
            f"PAYMAP_DATABASE_URL names PostgreSQL, but its driver is not installed ({exc}); "
            "install it with: pip install 'paymap[postgres]'"
        ) from None
    return PostgresStore(url, accept_timeout=accept_timeout, read_only=read_only, pool_size=pool_size)


def open_store(
    db_path: Path,
    database_url: str | None = None,
    *,
    read_only: bool = False,
    accept_timeout: float = 10.0,
    busy_timeout_ms: int = 5000,
    synchronous: str = "FULL",
    pool_size: int = 4,
) -> Store:
    """The PostgreSQL store when ``database_url`` is set, else the SQLite file at ``db_path``."""
    if database_url:
        return open_postgres(database_url, accept_timeout=accept_timeout, read_only=read_only, pool_size=pool_size)
    return SQLiteStore(db_path, busy_timeout_ms=busy_timeout_ms, synchronous=synchronous,
                       accept_timeout=accept_timeout, read_only=read_only)


def open_for_command(db_flag: Path | None, *, read_only: bool = False) -> Store:
    """The store an operator command (``status``, ``replay``, ``purge``) works on.

    ``--db FILE`` names a SQLite file; without it, ``PAYMAP_DATABASE_URL`` (PostgreSQL: the whole
    cluster's store, from any machine) and then ``PAYMAP_DB``. A missing SQLite file is an error,
    not a new empty store.
    """
    url = None if db_flag is not None else database_url_from_env()
    if url is not None:
        if not is_postgres_url(url):
            raise StoreError(f"PAYMAP_DATABASE_URL must be a postgresql:// URL, got {url.split(':', 1)[0]}:…")
        return open_postgres(url, read_only=read_only)
    db = db_path_from(db_flag)
    if not db.exists():
        raise StoreError(f"no store at {db}; has `paymap serve` run here? (use --db, PAYMAP_DB or PAYMAP_DATABASE_URL)")
    return SQLiteStore(db, read_only=read_only)
