"""The outgoing register (sổ đăng ký văn bản đi, Decree 30 Art. 16, Appendix IV).

:func:`register_issue` is the records clerk's act "cấp số, đăng ký": it allocates
the number and writes the register line in the caller's transaction, inside a
savepoint, so a refused duplicate leaves the transaction exactly as it was (no
counter moved, no number bound). :func:`register_entries` and :func:`register_row`
give the lines as the ten columns of Appendix IV, for the printed register and the
spreadsheet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common import VN_TZ

from .doctypes import compose_symbol, format_number, number_symbol
from .errors import (
    BookMismatch,
    DocumentCancelled,
    DuplicateDocument,
    DuplicateNumber,
    FieldTooLong,
)
from .models import (
    Document,
    DocumentStatus,
    NumberBook,
    Organisation,
    Priority,
    RegisterEntry,
    Unit,
)
from .numbering import allocate, lock_document
from .sqltypes import nfc

#: Appendix VI: Subject (trích yếu) has at most 500 characters.
SUBJECT_MAX = 500

#: The ten columns of Appendix IV, in order.
REGISTER_COLUMNS: tuple[str, ...] = (
    "Số, ký hiệu văn bản",
    "Ngày tháng văn bản",
    "Tên loại và trích yếu nội dung văn bản",
    "Người ký",
    "Nơi nhận văn bản",
    "Đơn vị, người nhận bản lưu",
    "Số lượng bản",
    "Ngày chuyển",
    "Ký nhận",
    "Ghi chú",
)

REGISTER_TITLE = "SỔ ĐĂNG KÝ VĂN BẢN ĐI"

_KEPT_BY = re.compile(r"^\s*-?\s*Lưu\s*:\s*(?P<who>.+?)[\s.;]*$", re.IGNORECASE)


def type_and_subject(type_name: str, subject: str) -> str:
    """Column 3 (Tên loại và trích yếu): the type's name before the subject, said once when
    the subject already starts with it ("Bản sao y" + "Sao y 01/QĐ-UBND: …" is
    "Bản sao y 01/QĐ-UBND: …")."""
    folded = subject.casefold()
    if folded.startswith(type_name.casefold()):
        return subject
    bare = type_name[4:] if type_name.casefold().startswith("bản ") else ""
    if bare and folded.startswith(bare.casefold()):
        return f"{type_name}{subject[len(bare):]}"
    return f"{type_name} {subject}"


def archive_holders(recipients: str, unit_abbreviation: str | None = None) -> str:
    """Column 6 of the register (Đơn vị, người nhận bản lưu): who keeps the file copies,
    as the document's own "Lưu:" entry says ("VT, VHXH"); without one, the records office
    and the drafting unit (Decree 30: "Lưu: VT, <đơn vị soạn thảo>")."""
    for part in reversed(recipients.split(";")):
        found = _KEPT_BY.match(part)
        if found is not None:
            return found.group("who")
    return ", ".join(["VT", *([unit_abbreviation] if unit_abbreviation else [])])


@dataclass(frozen=True)
class IssueDetails:
    """What the clerk records besides the number (Appendix IV columns, Appendix VI)."""

    issued_date: date
    signer_full_name: str
    signer_position: str
    recipients: str = ""
    archive_holder: str = ""
    issued_amount: int = 1
    page_amount: int | None = None
    priority: Priority = Priority.NORMAL
    due_date: date | None = None
    file_code: str | None = None
    doc_ordinal: int | None = None
    description: str | None = None
    language: str = "Tiếng Việt"
    transferred_date: date | None = None
    receipt: str | None = None
    note: str | None = None
    registered_by: str | None = None


def _book_fits(book: NumberBook, document: Document) -> None:
    if book.body_id != document.body_id:
        raise BookMismatch(book.name, document.body.name)
    if book.doc_types and document.doc_type not in book.doc_types:
        raise BookMismatch(book.name, f"{document.body.name} / {document.doc_type.name}")
    if book.unit_id is not None and book.unit_id != document.unit_id:
        raise BookMismatch(book.name, f"{document.body.name} / "
                                      f"{document.unit.name if document.unit else '—'}")


def _clash(session: Session, entry: RegisterEntry) -> RegisterEntry | None:
    return session.scalar(select(RegisterEntry).where(
        RegisterEntry.number == entry.number, RegisterEntry.code_notation == entry.code_notation,
        RegisterEntry.body_id == entry.body_id, RegisterEntry.year == entry.year))


def _violates_document_unique(exc: IntegrityError) -> bool:
    """Whether ``exc`` is the one-entry-per-document constraint (PostgreSQL names the
    constraint, SQLite the columns)."""
    message = str(exc.orig)
    return "uq_register_entry_document" in message or "register_entry.document_id" in message


def register_issue(session: Session, document: Document, book: NumberBook,
                   details: IssueDetails) -> RegisterEntry:
    """Give ``document`` its number in ``book`` and write its register line; no commit.

    The year is that of ``details.issued_date``. Idempotent: a document already
    registered in this book gets its existing entry back (a retried task writes
    nothing twice). Refused, with nothing written: a document registered in another
    book (:class:`DuplicateDocument`), a cancelled one, a (number, symbol, body,
    year) already in the register (:class:`DuplicateNumber` — possible when two
    books overlap), an over-long subject or symbol.
    """
    lock_document(session, document)
    existing = session.scalar(select(RegisterEntry).where(
        RegisterEntry.document_id == document.id))
    if existing is not None:
        if existing.cancelled:
            raise DocumentCancelled(document.id)
        if existing.book_id == book.id:
            return existing
        raise DuplicateDocument(document.id, existing.number_symbol)
    if len(document.subject) > SUBJECT_MAX:
        raise FieldTooLong("Trích yếu (Subject)", SUBJECT_MAX, document.subject[:60] + "…")
    _book_fits(book, document)
    symbol = compose_symbol(document.doc_type, document.body, document.unit,
                            with_unit=book.symbol_with_unit)
    year = details.issued_date.year
    body = document.body
    with session.begin_nested():
        number = allocate(session, book, document, year)
        entry = RegisterEntry(
            book_id=book.id, body_id=document.body_id, unit_id=document.unit_id,
            document_id=document.id, year=year, number=number,
            code_number=format_number(number), code_notation=symbol,
            issued_date=details.issued_date, organ_name=body.name,
            type_name=document.doc_type.name, subject=document.subject,
            file_code=details.file_code, doc_ordinal=details.doc_ordinal,
            language=details.language, page_amount=details.page_amount,
            description=details.description, signer_position=details.signer_position,
            signer_full_name=details.signer_full_name, recipients=details.recipients,
            priority=int(details.priority), issued_amount=details.issued_amount,
            due_date=details.due_date, archive_holder=details.archive_holder,
            transferred_date=details.transferred_date, receipt=details.receipt,
            note=details.note, registered_by=details.registered_by,
        )
        if _clash(session, entry) is not None:
            raise DuplicateNumber(number_symbol(number, symbol), body.name, year)
        session.add(entry)
        try:
            session.flush()
        except IntegrityError as exc:
            # a concurrent writer got there between the check and the insert
            if _violates_document_unique(exc):
                raise DuplicateDocument(document.id, number_symbol(number, symbol)) from exc
            raise DuplicateNumber(number_symbol(number, symbol), body.name, year) from exc
        document.status = DocumentStatus.NUMBERED
        session.flush()
    return entry


def register_entries(session: Session, body: Organisation, year: int, *,
                     unit: Unit | None = None, date_from: date | None = None,
                     date_to: date | None = None,
                     book: NumberBook | None = None) -> list[RegisterEntry]:
    """The register lines of ``body`` for ``year``, cancelled ones included, in order.

    Optional filters: the drafting ``unit``, an issue-date range (inclusive) and one
    ``book`` (each book is its own sequence; without it the books follow each other).
    """
    query = select(RegisterEntry).where(RegisterEntry.body_id == body.id,
                                        RegisterEntry.year == year)
    if unit is not None:
        query = query.where(RegisterEntry.unit_id == unit.id)
    if date_from is not None:
        query = query.where(RegisterEntry.issued_date >= date_from)
    if date_to is not None:
        query = query.where(RegisterEntry.issued_date <= date_to)
    if book is not None:
        query = query.where(RegisterEntry.book_id == book.id)
    return list(session.scalars(query.order_by(RegisterEntry.book_id, RegisterEntry.number)))


def display_date(day: date | None) -> str:
    return "" if day is None else day.strftime("%d/%m/%Y")


def cancellation_note(entry: RegisterEntry) -> str:
    """What column 10 says of a cancelled number (empty when not cancelled)."""
    if not entry.cancelled:
        return ""
    when = entry.cancelled_at.astimezone(VN_TZ).date() if entry.cancelled_at else None
    parts = [f"ĐÃ HỦY SỐ — lý do: {entry.cancel_reason}"]
    if entry.cancelled_by:
        parts.append(f"người hủy: {entry.cancelled_by}")
    if when is not None:
        parts.append(f"ngày {display_date(when)}")
    return "; ".join(parts)


RegisterRow = tuple[str, date, str, str, str, str, int, date | None, str, str]


def register_row(entry: RegisterEntry) -> RegisterRow:
    """The ten Appendix IV cells of ``entry`` (dates as dates, the count as a number)."""
    note = "\n".join(part for part in (cancellation_note(entry), entry.note or "") if part)
    return (
        entry.number_symbol,
        entry.issued_date,
        nfc(type_and_subject(entry.type_name, entry.subject)),
        entry.signer_full_name,
        entry.recipients,
        entry.archive_holder,
        entry.issued_amount,
        entry.transferred_date,
        entry.receipt or "",
        note,
    )
