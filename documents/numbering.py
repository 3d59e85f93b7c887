"""Numbers: gapless, unique, one per document, starting at 01 every 1 January.

:func:`allocate` takes the next number of a book for a year while holding the
book's counter row: ``SELECT … FOR UPDATE`` on PostgreSQL, the SQLite write lock
that :func:`documents.db.create_engine_for` takes with ``BEGIN IMMEDIATE``. It never
commits: the caller commits once, together with the register entry, so a number
either exists with its entry or not at all (a rolled-back transaction gives the
number back — no gap). A number once allocated is written on the document itself,
so a retry gets the same number instead of a second one. A number is withdrawn only
by :func:`cancel_number`, which leaves the entry in the register marked as cancelled
with its reason.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .db import is_serialised
from .errors import (
    AlreadyCancelled,
    BookClosed,
    BookMismatch,
    DocumentCancelled,
    MissingReason,
    NoNumberBook,
    NumberAlreadyBound,
    SqliteNotSerialised,
    UnknownDocumentType,
    UnsupportedDatabase,
)
from .models import (
    BookScope,
    Document,
    DocumentStatus,
    DocumentType,
    EntryStatus,
    NumberBook,
    NumberCounter,
    Organisation,
    RegisterEntry,
    Unit,
)
from .sqltypes import nfc, utc_now


def insert_for(session: Session) -> Any:
    """The dialect's INSERT (for ON CONFLICT DO NOTHING), after checking the engine."""
    connection = session.connection()
    name = connection.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert
    if name == "sqlite":
        if not is_serialised(connection.engine):
            raise SqliteNotSerialised()
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        return sqlite_insert
    raise UnsupportedDatabase(name)


def _next_value(session: Session, book_id: int, year: int) -> int:
    insert = insert_for(session)
    where = (NumberCounter.book_id == book_id, NumberCounter.year == year)
    locked = select(NumberCounter.value).where(*where).with_for_update()
    current = session.execute(locked).scalar_one_or_none()
    if current is None:
        # first number of the year: create the counter; a concurrent creator makes
        # this a no-op (ON CONFLICT), after which the row lock is taken as usual
        session.execute(insert(NumberCounter).values(book_id=book_id, year=year, value=0,
                                                     updated_at=utc_now())
                        .on_conflict_do_nothing(index_elements=["book_id", "year"]))
        current = session.execute(locked).scalar_one()
    value = current + 1
    session.execute(update(NumberCounter).where(*where)
                    .values(value=value, updated_at=utc_now())
                    .execution_options(synchronize_session=False))
    return value


def lock_document(session: Session, document: Document) -> None:
    """Flush ``document`` and reload it under a row lock.

    Two workers numbering the same document (a retried task running twice) then
    queue here, and the second sees the number the first bound.
    """
    session.flush()
    session.refresh(document, with_for_update=True)


def allocate(session: Session, book: NumberBook, document: Document, year: int) -> int:
    """The next number of ``book`` in ``year``, bound to ``document``; does not commit.

    Called again for a document that already holds a number in this book and year
    it returns that number and touches no counter. Refuses a document numbered in
    another book or year (:class:`NumberAlreadyBound`), a cancelled one, a book of
    another body or a closed book.
    """
    if not 1 <= year <= 9999:
        raise ValueError(f"year out of range: {year}")
    lock_document(session, document)
    if document.status is DocumentStatus.CANCELLED:
        raise DocumentCancelled(document.id)
    if document.number is not None:
        if document.number_book_id == book.id and document.number_year == year:
            return document.number
        bound = session.get(NumberBook, document.number_book_id)
        raise NumberAlreadyBound(document.id, f"{document.number:02d}",
                                 bound.name if bound else "?", document.number_year or 0)
    if book.body_id != document.body_id:
        raise BookMismatch(book.name, document.body.name)
    if not book.active:
        raise BookClosed(book.name)
    number = _next_value(session, book.id, year)
    document.number_book_id = book.id
    document.number_year = year
    document.number = number
    session.flush()
    return number


def counter_value(session: Session, book: NumberBook, year: int) -> int:
    """The last number given in ``book`` for ``year`` (0 when none yet)."""
    value = session.scalar(select(NumberCounter.value).where(
        NumberCounter.book_id == book.id, NumberCounter.year == year))
    return value or 0


def cancel_number(session: Session, entry: RegisterEntry, reason: str,
                  actor: str) -> RegisterEntry:
    """Cancel the number of a register entry: an explicit, recorded act.

    The entry stays in the register with status "Đã hủy số", the reason, who and
    when; the number is never given again and its document is cancelled too (a
    corrected document is a new document with a new number). Does not commit.
    """
    reason = nfc(reason.strip())
    if not reason:
        raise MissingReason()
    session.flush()
    session.refresh(entry, with_for_update=True)
    if entry.status is EntryStatus.CANCELLED:
        raise AlreadyCancelled(entry.number_symbol)
    entry.status = EntryStatus.CANCELLED
    entry.cancel_reason = reason
    entry.cancelled_by = nfc(actor.strip())
    entry.cancelled_at = utc_now()
    entry.document.status = DocumentStatus.CANCELLED
    session.flush()
    return entry


def book_for(session: Session, body: Organisation, doc_type: DocumentType | str,
             unit: Unit | None = None, *, secret: bool = False) -> NumberBook:
    """The one open book of ``body`` that numbers this kind of document.

    Secret documents go to a ``SECRET`` book, copies (SY/TrS/SL) to a ``COPIES``
    book, everything else to a ``BODY``/``DOC_TYPE``/``UNIT`` book. A book listing
    document types takes only those; a book with a unit takes only that unit's
    documents. Among the books that fit, the most specific wins (types before unit
    before the body's general book); a tie is a configuration error, reported
    rather than guessed.
    """
    if isinstance(doc_type, str):
        found = session.get(DocumentType, doc_type)
        if found is None:
            raise UnknownDocumentType(doc_type)
        doc_type = found
    if secret:
        scopes = {BookScope.SECRET}
    elif doc_type.is_copy:
        scopes = {BookScope.COPIES}
    else:
        scopes = {BookScope.BODY, BookScope.DOC_TYPE, BookScope.UNIT}
    books = session.scalars(select(NumberBook).where(
        NumberBook.body_id == body.id, NumberBook.active.is_(True),
        NumberBook.scope.in_(scopes)).order_by(NumberBook.id)).all()
    fitting = [
        book for book in books
        if (not book.doc_types or doc_type in book.doc_types)
        and (book.unit_id is None or (unit is not None and book.unit_id == unit.id))
    ]
    if not fitting:
        raise NoNumberBook(body.name, doc_type.name, "không có sổ phù hợp", "none fits")

    def specificity(book: NumberBook) -> int:
        return 2 * bool(book.doc_types) + bool(book.unit_id)

    best = max(specificity(book) for book in fitting)
    winners = [book for book in fitting if specificity(book) == best]
    if len(winners) > 1:
        names = ", ".join(book.name for book in winners)
        raise NoNumberBook(body.name, doc_type.name, f"nhiều sổ cùng phù hợp ({names})",
                           f"several books fit equally ({names})")
    return winners[0]
