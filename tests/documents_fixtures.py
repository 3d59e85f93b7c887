"""Fixtures of the ``documents`` tests: real databases, migrated by the real migrations.

``db`` runs a test twice: on a SQLite file (a fresh copy of a migrated template per
test) and on PostgreSQL (one database per test run, created under a unique name
and dropped at the end; tables emptied after each test). PostgreSQL comes from
``KYSO_TEST_POSTGRES_URL`` (default: trust auth on 127.0.0.1); when it cannot be
reached the PostgreSQL half is skipped with the reason — or fails, when ``CI=true``,
so CI never passes without having exercised it.

Test modules import the fixtures under their function names (``db`` needs the two
database fixtures visible too, as it asks for them by name)::

    from .documents_fixtures import (  # noqa: F401
        commune_fixture, db_fixture, postgres_url_fixture, sqlite_template_fixture)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, make_url, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from documents import (
    Base,
    BookScope,
    Designation,
    Document,
    DocumentType,
    IssueDetails,
    NumberBook,
    Organisation,
    OrganisationKind,
    Person,
    RegisterEntry,
    SigningAuthority,
    Unit,
    create_engine_for,
    session_factory,
    upgrade_database,
)

from .support.databases import POSTGRES_DEFAULT

#: Pool large enough that each concurrent allocator has its own connection.
POOL_SIZE = 48

#: Tables emptied between PostgreSQL tests (children first); document_type keeps
#: the rows the migration seeded.
#: Every table but the seeded document types: emptied after each PostgreSQL test.
DATA_TABLES = tuple(t.name for t in Base.metadata.sorted_tables if t.name != "document_type")

_PG_URL = pytest.StashKey[str]()
_PG_ERROR = pytest.StashKey[str]()


@dataclass
class Database:
    """One test database: its kind, URL, engine and session factory."""

    kind: str
    url: str
    engine: Engine
    Session: sessionmaker[Session]


def _unreachable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI: {message}")
    pytest.skip(message)


def _admin_engine(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool,
                         connect_args={"connect_timeout": 5})


@pytest.fixture(scope="session", name="postgres_url")
def postgres_url_fixture(request: pytest.FixtureRequest) -> str:
    """URL of this run's own PostgreSQL database, migrated to head."""
    stash = request.config.stash
    if _PG_URL in stash:
        return stash[_PG_URL]
    base = os.environ.get("KYSO_TEST_POSTGRES_URL", POSTGRES_DEFAULT)
    shown = make_url(base).render_as_string(hide_password=True)
    if _PG_ERROR in stash:
        _unreachable(stash[_PG_ERROR])
    admin = _admin_engine(base)
    name = f"kyso_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        admin.dispose()
        stash[_PG_ERROR] = (f"PostgreSQL unreachable at {shown} "
                            f"(set KYSO_TEST_POSTGRES_URL): {str(exc).splitlines()[0]}")
        _unreachable(stash[_PG_ERROR])

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    request.config.add_cleanup(drop)
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    upgrade_database(url)
    stash[_PG_URL] = url
    return url


@pytest.fixture(scope="session", name="sqlite_template")
def sqlite_template_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied for each test."""
    path = tmp_path_factory.mktemp("kyso-sqlite") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"], name="db")
def db_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    yield from fresh_database(request, tmp_path)


def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database of kind ``request.param``, emptied again after the test."""
    if request.param == "sqlite":
        path = tmp_path / "kyso.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine_for(url, pool_size=POOL_SIZE, max_overflow=0)
    database = Database(request.param, url, engine, session_factory(engine))
    try:
        yield database
    finally:
        if request.param == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                conn.execute(text(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY"))
        engine.dispose()


@dataclass
class Commune:
    """Ids of the demo commune "UBND xã Tiên Lữ" as stored by :func:`make_commune`."""

    body_id: int
    book_id: int
    units: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)


FINGERPRINT = "ab" * 32


def fingerprint(person: str) -> str:
    """A certificate SHA-256 of ``person``'s own: a certificate belongs to one holder
    (documents.custody), so each test official has a different one."""
    return hashlib.sha256(person.encode()).hexdigest()


def make_commune(session: Session, name: str = "Ủy ban nhân dân xã Tiên Lữ",
                 place: str = "Tiên Lữ") -> Commune:
    """A UBND with its three departments, three officials and its general number book."""
    body = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE, name=name,
                        abbreviation="UBND", place_name=place)
    units = [Unit(body=body, name=n, abbreviation=a) for n, a in (
        ("Văn phòng HĐND và UBND", "VP"), ("Phòng Kinh tế", "KT"),
        ("Phòng Văn hóa - Xã hội", "VX"))]
    people = {
        "chu-tich": Person(body=body, full_name="Nguyễn Văn An", position="Chủ tịch"),
        "pho-chu-tich": Person(body=body, full_name="Trần Thị Bình", position="Phó Chủ tịch"),
        "truong-phong-vx": Person(body=body, unit=units[2], full_name="Lê Văn Cường",
                                  position="Trưởng phòng Văn hóa - Xã hội"),
    }
    book = NumberBook(body=body, code="chung", name="Sổ văn bản đi",
                      scope=BookScope.BODY,
                      scope_description="Văn bản hành chính của UBND xã")
    session.add_all([body, *units, *people.values(), book])
    session.flush()
    return Commune(body.id, book.id, {u.abbreviation: u.id for u in units},
                   {key: p.id for key, p in people.items()})


@pytest.fixture(name="commune")
def commune_fixture(db: Database) -> Commune:
    with db.Session() as session:
        commune = make_commune(session)
        session.commit()
    return commune


def add_authority(session: Session, commune: Commune, person: str, *types: str,
                  designation: Designation = Designation.NONE, unit: str | None = None,
                  on_behalf_of: str | None = None, **kwargs: object) -> SigningAuthority:
    authority = SigningAuthority(
        person_id=commune.people[person], body_id=commune.body_id,
        unit_id=commune.units[unit] if unit else None, designation=designation,
        on_behalf_of=on_behalf_of, certificate_sha256=fingerprint(person),
        token_name=f"token-{person}", all_types=not types, **kwargs)
    authority.doc_types = {session.get_one(DocumentType, code) for code in types}
    session.add(authority)
    session.flush()
    return authority


def new_document(session: Session, commune: Commune, doc_type: str = "quyet-dinh",
                 unit: str | None = "VP", subject: str = "về việc thành lập Tổ công tác",
                 body_id: int | None = None) -> Document:
    document = Document(body_id=body_id or commune.body_id,
                        unit_id=commune.units[unit] if unit else None,
                        doc_type_code=doc_type, subject=subject)
    session.add(document)
    session.flush()
    return document


def details(day: date = date(2025, 3, 5), **overrides: Any) -> IssueDetails:
    """What the clerk records for a document signed by the vice-chair."""
    fields: dict[str, Any] = {
        "signer_full_name": "Trần Thị Bình", "signer_position": "Phó Chủ tịch",
        "recipients": "Như Điều 3; Lưu: VT, VP.", "archive_holder": "VP (Phạm Thị Hoa)",
        "issued_amount": 2, **overrides}
    return IssueDetails(issued_date=day, **fields)


def book(session: Session, commune: Commune) -> NumberBook:
    return session.get_one(NumberBook, commune.book_id)


def body(session: Session, commune: Commune) -> Organisation:
    return session.get_one(Organisation, commune.body_id)


def numbers_in_register(session: Session, book_id: int, year: int) -> list[int]:
    return list(session.scalars(select(RegisterEntry.number).where(
        RegisterEntry.book_id == book_id, RegisterEntry.year == year)
        .order_by(RegisterEntry.number)))
