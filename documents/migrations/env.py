"""Alembic environment: the ``documents`` metadata, on the connection or URL handed in.

The URL never comes from the environment. :func:`documents.upgrade_database` puts
an open connection in ``config.attributes["connection"]`` (its transaction is the
migration's); the ``alembic`` command line gives ``-x url=…`` or ``sqlalchemy.url``.
Revisions are rendered in batch mode so later ALTERs also work on SQLite, and the
project's column types (NFC text, UTC times) are written as their plain SQL types,
so a revision never imports the models it predates.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlalchemy.types import TypeDecorator

from documents.db import create_engine_for
from documents.models import Base

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _url() -> str:
    url = (context.get_x_argument(as_dictionary=True).get("url")
           or config.get_main_option("sqlalchemy.url"))
    if not url:
        raise RuntimeError("no database URL: use documents.upgrade_database(url) "
                           "or pass -x url=… to alembic")
    return url


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, render_item=render_item, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine_for(_url())
    try:
        with engine.connect() as connection:
            _migrate(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
