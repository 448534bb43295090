"""The real PostgreSQL the tests run against (127.0.0.1:5432, database ``test``; PAYMAP_TEST_POSTGRES overrides).

Each test gets a schema of its own (dropped afterwards) through the URL's ``search_path``, so tests
never see each other's rows. Unreachable: the test fails when ``CI`` is set (true, 1, ...), and is
skipped with the reason elsewhere (a developer machine without PostgreSQL).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

BASE_URL = os.environ.get("PAYMAP_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")


def require_postgres() -> None:
    try:
        with psycopg.connect(BASE_URL, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        why = f"PostgreSQL at {BASE_URL} is unreachable: {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):  # CI=true, CI=1, ...
            pytest.fail(why + " (CI must run these tests: `make test` starts the local PostgreSQL if it is installed)")
        pytest.skip(why)


def admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(BASE_URL, autocommit=True, connect_timeout=5)


def url_for(schema: str) -> str:
    sep = "&" if "?" in BASE_URL else "?"
    return f"{BASE_URL}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A new empty schema; yields the URL that points the relay at it."""
    require_postgres()
    schema = f"paymap_t_{uuid.uuid4().hex[:12]}"
    with admin() as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield url_for(schema)
    finally:
        with admin() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def target_of_base() -> tuple[str, int]:
    parts = urlsplit(BASE_URL)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def via_port(url: str, port: int) -> str:
    """``url`` pointed at 127.0.0.1:``port`` (a proxy in front of the server)."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def with_param(url: str, key: str, value: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{key}={quote(value)}"


def PgConn(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    """An autocommit connection for a test's own queries (``%s`` placeholders)."""
    return psycopg.connect(url, autocommit=True, connect_timeout=5)
