"""The database a program opens: the data directory's (SQLite by default) or the one
``KYSO_DATABASE_URL`` names.

Migrations are an explicit step (``kyso db upgrade``, run by ops/ and the
``kyso-migrate`` unit before the services start). A program creates the schema of an
empty database (a new instance) but never migrates an existing one: on an older schema
it stops with :class:`~documents.SchemaOutdated`, which says to back up and upgrade.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from documents import (
    create_engine_for,
    require_current_schema,
    schema_state,
    session_factory,
    upgrade_database,
)

from .datadir import DataDir
from .settings import Settings


def _opened(url: str) -> sessionmaker[Session]:
    if schema_state(url).current is None:
        upgrade_database(url)  # a new instance: nothing to migrate, the schema is created
    require_current_schema(url)
    return session_factory(create_engine_for(url))


def open_database(data: DataDir) -> sessionmaker[Session]:
    """The data directory's database; created when empty, refused when its schema is
    older than this release's."""
    return _opened(data.database_url)


def open_database_url(settings: Settings) -> sessionmaker[Session]:
    """The settings' database (``KYSO_DATABASE_URL``), else the data directory's."""
    return _opened(settings.database_url or settings.data.database_url)


__all__ = ["open_database", "open_database_url"]
