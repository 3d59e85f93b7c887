"""The database a program opens: the data directory's (SQLite by default) or the one
``KYSO_DATABASE_URL`` names, migrated to the newest schema first."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from documents import create_engine_for, session_factory, upgrade_database

from .datadir import DataDir
from .settings import Settings


def open_database(data: DataDir) -> sessionmaker[Session]:
    """Migrate the data directory's database to the newest schema and open it."""
    upgrade_database(data.database_url)
    return session_factory(create_engine_for(data.database_url))


def open_database_url(settings: Settings) -> sessionmaker[Session]:
    """The settings' database (``KYSO_DATABASE_URL``), else the data directory's."""
    if settings.database_url is None:
        return open_database(settings.data)
    upgrade_database(settings.database_url)
    return session_factory(create_engine_for(settings.database_url))


__all__ = ["open_database", "open_database_url"]
