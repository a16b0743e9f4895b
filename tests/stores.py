"""The two event stores every domain test runs on: SQLite (default) and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from domain.application import postgres_env, sqlite_env

# Every domain test runs once per kind of store.
STORES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

POSTGRES_URL_VARIABLE = "REGIOTWIN_TEST_DATABASE_URL"


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        raise RuntimeError(
            f"PostgreSQL tests need {POSTGRES_URL_VARIABLE}; `make test` starts a server and "
            "sets it (or deselect them with -m 'not postgres')"
        )
    return url


@contextmanager
def postgres_schema() -> Iterator[dict[str, str]]:
    """A fresh schema on the test server, dropped afterwards: tests never share state."""
    import psycopg

    url = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield postgres_env(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def store_env(kind: str, folder: Path) -> Iterator[dict[str, str]]:
    if kind == "sqlite":
        yield sqlite_env(str(folder / "events.sqlite"))
    else:
        with postgres_schema() as env:
            yield env
