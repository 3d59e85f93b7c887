"""Engines, sessions and migrations, from a URL the caller passes in.

``documents`` never reads settings or the environment: ``api/`` decides the URL
(``KYSO_DATABASE_URL``) and hands it here.

SQLite needs care for gapless numbering. Python's ``sqlite3`` module opens
transactions lazily and as DEFERRED: two writers can both read counter 41 and the
second then fails with "database is locked" half-way, and savepoints and
transactional DDL do not work as documented. :func:`create_engine_for` therefore
takes transaction control from the driver (SQLAlchemy's documented recipe) and
begins every transaction with ``BEGIN IMMEDIATE``: the write lock is taken at the
start, so concurrent allocators queue on SQLite's busy timeout instead of failing,
exactly as they queue on the row lock on PostgreSQL. WAL lets readers go on while
one writer works.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from .errors import SchemaOutdated

if TYPE_CHECKING:
    from alembic.config import Config

#: How long (ms) a SQLite writer waits for the write lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # disable the driver's own BEGIN; _begin_immediate emits ours
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_serialised(engine: Engine) -> bool:
    """Whether a SQLite ``engine`` begins its transactions with BEGIN IMMEDIATE."""
    return event.contains(engine, "begin", _begin_immediate)


def create_engine_for(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url`` (SQLite file or PostgreSQL), set up for numbering.

    SQLite: serialised write transactions (see the module docstring), foreign keys
    on, WAL. PostgreSQL: ``pool_pre_ping`` so a long-running service survives a
    database restart. ``kwargs`` go to :func:`sqlalchemy.create_engine`
    (e.g. ``pool_size``).
    """
    url = make_url(url)
    if url.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _begin_immediate)
    return engine


def session_factory(engine: Engine, **kwargs: Any) -> sessionmaker[Session]:
    """Sessions on ``engine``. Nothing in ``documents`` commits: the caller does."""
    return sessionmaker(bind=engine, **kwargs)


def migrations_location() -> str:
    """Folder of the Alembic environment shipped inside the package."""
    return str(files("documents") / "migrations")


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic ``Config`` for the packaged migrations (no alembic.ini needed).

    With ``url`` the environment connects there itself; :func:`upgrade_database`
    instead hands it an open connection.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", migrations_location())
    if url is not None:
        rendered = make_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade_database(url: str | URL, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` with the Alembic migrations.

    Runs in one transaction on both databases (SQLite DDL is transactional once the
    driver no longer commits behind our back): a failed migration leaves nothing.
    """
    from alembic import command

    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against this release's migrations."""

    #: the revision the database is at (None: never migrated, an empty database)
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_state(url: str | URL) -> SchemaState:
    """The database's schema revision and this release's newest one (reads only)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(make_url(url))
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return SchemaState(current=current, head=str(head))


def require_current_schema(url: str | URL) -> None:
    """Refuse to go on with a database whose schema is not this release's: processes
    start only after ``kyso db upgrade`` (they never migrate on their own)."""
    state = schema_state(url)
    if not state.up_to_date:
        raise SchemaOutdated(state.current, state.head)
