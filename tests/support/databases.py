"""A PostgreSQL database of a test's own, made on the test server and dropped after."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def throwaway_postgres(prefix: str, base: str | None = None) -> Iterator[str]:
    """The URL of a new database named ``prefix_…`` on ``base``'s server
    (``KYSO_TEST_POSTGRES_URL`` by default), dropped afterwards. An unreachable server
    skips the test, except in CI, where it fails."""
    base = base or os.environ.get("KYSO_TEST_POSTGRES_URL", POSTGRES_DEFAULT)
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                          connect_args={"connect_timeout": 5})
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        admin.dispose()
        message = (f"PostgreSQL unreachable at {make_url(base).render_as_string()} "
                   f"(set KYSO_TEST_POSTGRES_URL): {str(exc).splitlines()[0]}")
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {message}")
        pytest.skip(message)
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
