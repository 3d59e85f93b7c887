"""Reading what was made: a document's PDF versions (audited downloads) and the outgoing
register (query, export now or in a worker)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import KysoError

from ..accounts import Role, User, bodies_of, require_role
from ..audit import AuditAction, record
from ..authority import in_force
from ..errors import NotFound, UnknownValue
from ..issuance import latest_version
from ..models import (
    Document,
    DocumentStatus,
    DocumentVersion,
    NumberBook,
    Organisation,
    Person,
    RegisterEntry,
    SigningAuthority,
    Unit,
    VersionKind,
)
from ..paging import MAX_PAGE, Page, document_page
from ..queue import Notification, mark_read, unread
from ..register import RegisterRow, register_entries, register_row
from .access import actor_of, member_body, visible_document
from .ports import Tools

#: The register's export formats.
REGISTER_FORMATS = ("pdf", "xlsx")


@dataclass(frozen=True)
class Download:
    document: Document
    kind: VersionKind
    data: bytes


def download_version(db: Session, tools: Tools, actor: int, document_id: str, kind: str, *,
                     inline: bool = False, ordinal: int | None = None) -> Download:
    """The latest version of ``kind`` (draft, prepared, signed, issued …) of a document of
    the caller's body — or its ``ordinal``-th (from 1: the first draft, then the corrected
    ones) — read back against its hash; every download is an audit event (``inline``:
    shown in the browser)."""
    user = actor_of(db, actor)
    document = visible_document(db, user, document_id)
    try:
        wanted = VersionKind[kind.upper()]
    except KeyError as exc:
        raise NotFound(f"phiên bản {kind} / version {kind}") from exc
    if ordinal is None:
        version = latest_version(db, document, wanted)
    else:
        every = db.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.kind == wanted)
            .order_by(DocumentVersion.id)).all()
        version = every[ordinal - 1] if 1 <= ordinal <= len(every) else None
    if version is None:
        raise NotFound(f"phiên bản {kind} / version {kind}")
    data = tools.store.get(version.sha256)  # the hash is checked on every read
    details: dict[str, object] = {"kind": version.kind.name, "sha256": version.sha256}
    if inline:
        details["inline"] = True
    record(db, AuditAction.DOWNLOAD, actor=user.username, body_id=document.body_id,
           object_type="document", object_id=document.id, details=details)
    db.commit()
    return Download(document, version.kind, data)


def register_body(db: Session, user: User, body_id: int) -> Organisation:
    """The body whose register the caller may read (clerk, auditor, administrator)."""
    body = member_body(db, user, body_id)
    require_role(db, user, body, Role.CLERK, Role.AUDITOR, Role.ADMIN)
    return body


def _filters(db: Session, body: Organisation, unit: str | None,
             book: str | None) -> tuple[Unit | None, NumberBook | None]:
    """The unit (by abbreviation) and number book (by code) a query is limited to."""
    chosen_unit = next((u for u in body.units if u.abbreviation == unit), None)
    if unit and chosen_unit is None:
        raise NotFound(f"đơn vị {unit} / unit {unit}")
    chosen_book = db.scalar(select(NumberBook).where(NumberBook.body_id == body.id,
                                                     NumberBook.code == book)) if book else None
    if book and chosen_book is None:
        raise NotFound(f"sổ {book} / book {book}")
    return chosen_unit, chosen_book


def query_register(db: Session, actor: int, body_id: int, year: int, *,
                   date_from: date | None = None, date_to: date | None = None,
                   unit: str | None = None,
                   book: str | None = None) -> list[tuple[RegisterEntry, RegisterRow]]:
    """The register lines of a year with their cells; ``unit`` (abbreviation) and ``book``
    (code) narrow it."""
    body = register_body(db, actor_of(db, actor), body_id)
    chosen_unit, chosen_book = _filters(db, body, unit, book)
    return [(entry, register_row(entry))
            for entry in register_entries(db, body, year, date_from=date_from,
                                          date_to=date_to, unit=chosen_unit, book=chosen_book)]


#: Lays the register out as a file: (session, body, year, unit, from, to, book) → bytes.
RegisterWriter = Callable[[Session, Organisation, int, Unit | None, date | None, date | None,
                           NumberBook | None], bytes]


def export_register_now(db: Session, actor: int, body_id: int, year: int, fmt: str,
                        write: RegisterWriter, *, date_from: date | None = None,
                        date_to: date | None = None, unit: str | None = None,
                        book: str | None = None) -> bytes:
    """The register as a file at once, laid out by ``write`` (audited)."""
    user = actor_of(db, actor)
    body = register_body(db, user, body_id)
    if fmt not in REGISTER_FORMATS:
        raise NotFound(f"định dạng {fmt} / format {fmt}")
    chosen_unit, chosen_book = _filters(db, body, unit, book)
    data = write(db, body, year, chosen_unit, date_from, date_to, chosen_book)
    record(db, AuditAction.EXPORT, actor=user.username, body_id=body.id, object_type="register",
           object_id=f"{body.id}/{year}", details={"format": fmt, "unit": unit, "book": book})
    db.commit()
    return data


def start_register_export(db: Session, tools: Tools, actor: int, body_id: int, year: int,
                          fmt: str = "pdf", *, date_from: date | None = None,
                          date_to: date | None = None, unit: str | None = None,
                          book: str | None = None) -> str:
    """Export the register in a worker (audited when asked); the task's id."""
    user = actor_of(db, actor)
    body = register_body(db, user, body_id)
    if fmt not in REGISTER_FORMATS:
        raise UnknownValue("định dạng", "format", fmt, REGISTER_FORMATS)
    _filters(db, body, unit, book)
    record(db, AuditAction.EXPORT, actor=user.username, body_id=body.id, object_type="register",
           object_id=f"{body.id}/{year}", details={
               "format": fmt, "date_from": date_from.isoformat() if date_from else None,
               "date_to": date_to.isoformat() if date_to else None, "unit": unit,
               "book": book})
    body_id = body.id  # read before the commit: no transaction open after it
    db.commit()
    return tools.dispatcher.export_register(
        body_id, year, fmt, unit, date_from.isoformat() if date_from else None,
        date_to.isoformat() if date_to else None, book)


@dataclass(frozen=True)
class OperatorRegister:
    """The register as the operator reads it at the command line (no account: they hold the
    data directory): the body, the unit and book it is narrowed to, and its lines."""

    body: Organisation
    unit: Unit | None
    book: NumberBook | None
    rows: list[RegisterRow]


def operator_register(db: Session, year: int, *, body: str | None = None,
                      unit: str | None = None, book: str | None = None,
                      date_from: date | None = None,
                      date_to: date | None = None) -> OperatorRegister:
    """The register of the body named ``body`` (default: the first), for ``kyso register``."""
    query = select(Organisation).order_by(Organisation.id)
    if body:
        query = query.where(Organisation.name == body)
    organisation = db.scalars(query).first()
    if organisation is None:
        raise KysoError(f"chưa có cơ quan ban hành {body or ''} (chạy kyso demo?)",
                        f"no issuing body {body or ''} (run kyso demo?)")
    chosen = next((u for u in organisation.units if u.abbreviation == unit), None)
    if unit and chosen is None:
        raise KysoError(f"không có đơn vị {unit}", f"no unit {unit}")
    only = db.scalars(select(NumberBook).where(
        NumberBook.body_id == organisation.id, NumberBook.code == book)).first() \
        if book else None
    if book and only is None:
        raise KysoError(f"không có sổ {book}", f"no number book {book}")
    rows = [register_row(e) for e in register_entries(
        db, organisation, year, unit=chosen, date_from=date_from, date_to=date_to, book=only)]
    return OperatorRegister(organisation, chosen, only, rows)


#: The most documents a listing shows, newest first.
def documents_of(db: Session, actor: int, *, statuses: Sequence[DocumentStatus] = (),
                 limit: int = 50, following: str | None = None,
                 preceding: str | None = None, body_id: int | None = None,
                 oldest_first: bool = False) -> Page[Document]:
    """A page of the documents of the caller's bodies (``body_id``: of that one, which
    must be one of them), newest first, ``limit`` (at most :data:`MAX_PAGE`) of them, of
    ``statuses`` (all without), following or preceding a cursor of an earlier page."""
    user = actor_of(db, actor)
    if body_id is not None:
        body_ids = [member_body(db, user, body_id).id]
    else:
        body_ids = [b.id for b in bodies_of(db, user)]
    if not 1 <= limit <= MAX_PAGE:
        raise UnknownValue("số văn bản một trang", "page size", limit,
                           [f"1–{MAX_PAGE}"])
    return document_page(db, body_ids, statuses=statuses, limit=limit, following=following,
                         preceding=preceding, oldest_first=oldest_first)


def routable_signers(db: Session, actor: int,
                     body_id: int) -> list[tuple[Person, SigningAuthority]]:
    """People holding signing authority in the body now: whom a draft can be routed to."""
    body = member_body(db, actor_of(db, actor), body_id)
    return [(person, authority) for person, authority in db.execute(
        select(Person, SigningAuthority).join(
            SigningAuthority, SigningAuthority.person_id == Person.id).where(
            SigningAuthority.body_id == body.id, Person.active.is_(True), in_force())).all()]


def notifications_of(db: Session, actor: int) -> list[Notification]:
    """The caller's unread notifications, newest first (none for an account linked to
    nobody)."""
    user = actor_of(db, actor)
    if user.person_id is None:
        return []
    return unread(db, db.get_one(Person, user.person_id))


def read_notifications(db: Session, actor: int, ids: Sequence[int] | None = None) -> int:
    """Mark the caller's notifications read (all unread ones without ``ids``); how many."""
    user = actor_of(db, actor)
    if user.person_id is None:
        return 0
    marked = mark_read(db, db.get_one(Person, user.person_id), ids)
    db.commit()
    return marked
