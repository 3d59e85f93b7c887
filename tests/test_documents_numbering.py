"""Numbers are gapless and unique under concurrency, bound to their document, start at
01 each year, are withdrawn only by a recorded cancellation, and duplicates are
refused with a message the records clerk can read — on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
import threading
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from documents import (
    AlreadyCancelled,
    BookMismatch,
    BookScope,
    Document,
    DocumentCancelled,
    DocumentStatus,
    DocumentType,
    DuplicateDocument,
    DuplicateNumber,
    EntryStatus,
    MissingReason,
    NumberAlreadyBound,
    NumberBook,
    NumberCounter,
    Organisation,
    OrganisationKind,
    RegisterEntry,
    SqliteNotSerialised,
    allocate,
    cancel_number,
    counter_value,
    create_engine_for,
    register_entries,
    register_issue,
    register_row,
    session_factory,
)

from .documents_fixtures import (  # noqa: F401
    Commune,
    Database,
    body,
    book,
    commune_fixture,
    db_fixture,
    details,
    make_commune,
    new_document,
    numbers_in_register,
    postgres_url_fixture,
    sqlite_template_fixture,
)

ALLOCATORS = 40
#: Every FAIL_EVERY-th allocator rolls back after taking its number: the number
#: must go back to the book, not leave a gap.
FAIL_EVERY = 5


class Abandoned(Exception):
    pass


def test_concurrent_allocators_leave_no_gap_and_no_duplicate(db: Database,
                                                            commune: Commune) -> None:
    start = threading.Barrier(ALLOCATORS)
    taken: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def allocator(i: int) -> None:
        try:
            with db.Session() as session:
                # all start together; on SQLite the first write takes the database's
                # write lock, so nothing may be written before the barrier
                start.wait(timeout=30)
                document = new_document(session, commune, subject=f"về việc số {i}")
                entry = register_issue(session, document, book(session, commune), details())
                number = entry.number
                if i % FAIL_EVERY == 0:
                    session.rollback()
                    raise Abandoned
                session.commit()
                with lock:
                    taken.append((number, document.id))
        except Abandoned:
            pass
        except BaseException as exc:  # noqa: BLE001 - the thread's boundary: reported below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=allocator, args=(i,)) for i in range(ALLOCATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    committed = ALLOCATORS - ALLOCATORS // FAIL_EVERY
    assert committed >= 32

    numbers = sorted(number for number, _ in taken)
    assert numbers == list(range(1, committed + 1))  # no gap, no duplicate
    with db.Session() as session:
        assert numbers_in_register(session, commune.book_id, 2025) == numbers
        assert counter_value(session, book(session, commune), 2025) == committed
        entries = register_entries(session, body(session, commune), 2025)
        assert {(e.number, e.document_id) for e in entries} == \
            set(taken)
        assert all(e.number_symbol == f"{e.number:02d}/QĐ-UBND" for e in entries)
        bound = session.execute(select(Document.number, Document.id)
                                .where(Document.number.is_not(None))).all()
        assert sorted(tuple(row) for row in bound) == sorted(taken)
        assert session.scalar(select(Document.id).where(Document.number.is_(None))) is None


def test_a_retry_gets_the_same_number(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        document = new_document(session, commune)
        first = allocate(session, book(session, commune), document, 2025)
        # asked again in the same transaction: same number, counter untouched
        assert allocate(session, book(session, commune), document, 2025) == first == 1
        entry = register_issue(session, document, book(session, commune), details())
        assert entry.number == first
        session.commit()
        document_id, entry_id = document.id, entry.id

    with db.Session() as session:  # the retried task, in a new transaction
        document = session.get_one(Document, document_id)
        assert document.status is DocumentStatus.NUMBERED
        again = register_issue(session, document, book(session, commune), details())
        assert (again.id, again.number) == (entry_id, first)
        assert allocate(session, book(session, commune), document, 2025) == first
        session.commit()
        assert counter_value(session, book(session, commune), 2025) == 1
        with pytest.raises(NumberAlreadyBound) as err:
            allocate(session, book(session, commune), document, 2026)
        assert "một số" in err.value.vi and "one number only" in err.value.en


def test_a_rolled_back_number_is_given_again(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        register_issue(session, new_document(session, commune), book(session, commune),
                       details())
        session.commit()
    with db.Session() as session:
        abandoned = register_issue(session, new_document(session, commune),
                                   book(session, commune), details())
        assert abandoned.number == 2
        session.rollback()
    with db.Session() as session:
        entry = register_issue(session, new_document(session, commune), book(session, commune),
                               details())
        assert entry.number == 2
        session.commit()
        assert numbers_in_register(session, commune.book_id, 2025) == [1, 2]


def test_a_cancelled_number_stays_in_the_register(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        entries = [register_issue(session, new_document(session, commune),
                                  book(session, commune), details()) for _ in range(3)]
        session.commit()
        with pytest.raises(MissingReason):
            cancel_number(session, entries[1], "   ", "Phạm Thị Hoa")
        cancel_number(session, entries[1], unicodedata.normalize("NFD", "Sai thẩm quyền ký"),
                      "Phạm Thị Hoa (văn thư)")
        session.commit()
        cancelled_doc = entries[1].document_id

    with db.Session() as session:
        lines = register_entries(session, body(session, commune), 2025)
        assert [(e.number, e.status) for e in lines] == [
            (1, EntryStatus.REGISTERED), (2, EntryStatus.CANCELLED), (3, EntryStatus.REGISTERED)]
        cancelled = lines[1]
        assert cancelled.cancel_reason == "Sai thẩm quyền ký"
        assert cancelled.cancelled_by == "Phạm Thị Hoa (văn thư)"
        assert cancelled.cancelled_at is not None
        note = register_row(cancelled)[9]
        assert note.startswith("ĐÃ HỦY SỐ — lý do: Sai thẩm quyền ký")
        assert register_row(lines[0])[9] == ""
        document = session.get_one(Document, cancelled_doc)
        assert document.status is DocumentStatus.CANCELLED

        # never reused: the next document gets 04; the cancelled one cannot be issued again
        fresh = register_issue(session, new_document(session, commune), book(session, commune),
                               details())
        assert fresh.number == 4
        with pytest.raises(DocumentCancelled):
            register_issue(session, document, book(session, commune), details())
        with pytest.raises(DocumentCancelled):
            allocate(session, book(session, commune), document, 2025)
        with pytest.raises(AlreadyCancelled):
            cancel_number(session, cancelled, "lần nữa", "Phạm Thị Hoa")
        session.commit()


def _overlapping_book(session: Session, commune: Commune) -> NumberBook:
    """A misconfiguration the register must catch: a second book also numbering QĐ."""
    qd_book = NumberBook(body_id=commune.body_id, code="qd", name="Sổ quyết định",
                         scope=BookScope.DOC_TYPE,
                         doc_types={session.get_one(DocumentType, "quyet-dinh")})
    session.add(qd_book)
    session.flush()
    return qd_book


def test_a_duplicate_number_and_symbol_is_refused(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        first = register_issue(session, new_document(session, commune), book(session, commune),
                               details())
        qd_book = _overlapping_book(session, commune)
        session.commit()
        assert first.number_symbol == "01/QĐ-UBND"

        second = new_document(session, commune, subject="về việc khác")
        with pytest.raises(DuplicateNumber) as err:
            register_issue(session, second, qd_book, details())
        line = err.value.one_line()
        assert line.startswith("Lỗi: số và ký hiệu 01/QĐ-UBND của Ủy ban nhân dân xã Tiên Lữ "
                               "đã có trong sổ đăng ký năm 2025")
        assert "— Error: number and symbol 01/QĐ-UBND of Ủy ban nhân dân xã Tiên Lữ is already " \
               "in the 2025 register" in line
        assert "\n" not in line
        # refused with nothing written: the transaction goes on
        assert second.number is None and second.status is DocumentStatus.DRAFT
        assert counter_value(session, qd_book, 2025) == 0
        session.commit()
        assert session.scalar(select(RegisterEntry).where(
            RegisterEntry.document_id == second.id)) is None

        # a document registered once is not registered again in another book
        with pytest.raises(DuplicateDocument) as dup:
            register_issue(session, first.document, qd_book, details())
        assert "01/QĐ-UBND" in dup.value.vi and "not registered twice" in dup.value.en


def test_a_duplicate_caught_only_by_the_constraint_is_reported_the_same(
        db: Database, commune: Commune, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers racing past the check: the unique constraint refuses, the error is
    the same bilingual one, and the caller's transaction is still usable."""
    import documents.register

    monkeypatch.setattr(documents.register, "_clash", lambda session, entry: None)
    with db.Session() as session:
        register_issue(session, new_document(session, commune), book(session, commune),
                       details())
        qd_book = _overlapping_book(session, commune)
        session.commit()
        second = new_document(session, commune)
        with pytest.raises(DuplicateNumber) as err:
            register_issue(session, second, qd_book, details())
        assert isinstance(err.value.__cause__, IntegrityError)
        assert second.number is None and counter_value(session, qd_book, 2025) == 0
        third = register_issue(session, new_document(session, commune), book(session, commune),
                               details())
        session.commit()
        assert third.number == 2


def test_the_database_itself_refuses_duplicates(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        entry = register_issue(session, new_document(session, commune), book(session, commune),
                               details())
        qd_book = _overlapping_book(session, commune)
        session.commit()
        copy = {c.key: getattr(entry, c.key) for c in RegisterEntry.__table__.columns
                if c.key != "id"}
        other = new_document(session, commune)
        session.commit()
        # same (number, symbol, body, year) from another book and document
        session.add(RegisterEntry(**{**copy, "book_id": qd_book.id, "document_id": other.id}))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        # same document twice
        session.add(RegisterEntry(**{**copy, "book_id": qd_book.id, "number": 2,
                                     "code_number": "02"}))
        with pytest.raises(IntegrityError):
            session.commit()


def test_numbers_start_at_01_each_year(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        for _ in range(11):
            last = register_issue(session, new_document(session, commune),
                                  book(session, commune), details(date(2025, 12, 31)))
        first = register_issue(session, new_document(session, commune), book(session, commune),
                               details(date(2026, 1, 1)))
        session.commit()
        assert (last.year, last.code_number) == (2025, "11")
        assert (first.year, first.number, first.code_number) == (2026, 1, "01")
        assert first.number_symbol == "01/QĐ-UBND"
        counters = session.execute(select(NumberCounter.year, NumberCounter.value)
                                   .order_by(NumberCounter.year)).all()
        assert [tuple(c) for c in counters] == [(2025, 11), (2026, 1)]
        assert [e.number for e in register_entries(session, body(session, commune), 2026)] == [1]


def test_a_book_of_another_body_is_refused(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        other = Organisation(kind=OrganisationKind.COUNCIL, name="Hội đồng nghĩa vụ quân sự",
                             abbreviation="HĐNVQS", place_name="Tiên Lữ")
        council_book = NumberBook(body=other, code="chung", name="Sổ của Hội đồng")
        session.add_all([other, council_book])
        session.flush()
        with pytest.raises(BookMismatch) as err:
            allocate(session, council_book, new_document(session, commune), 2025)
        assert "không thuộc" in err.value.vi and "does not belong" in err.value.en
        council_doc = new_document(session, commune, unit=None, body_id=other.id)
        entry = register_issue(session, council_doc, council_book, details())
        assert entry.number_symbol == "01/QĐ-HĐNVQS"


def test_cong_van_symbol_carries_the_drafting_unit(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        entry = register_issue(session, new_document(session, commune, "cong-van", unit="VX"),
                               book(session, commune), details())
        assert entry.number_symbol == "01/UBND-VX"
        book(session, commune).symbol_with_unit = True
        entry = register_issue(session, new_document(session, commune), book(session, commune),
                               details())
        assert entry.number_symbol == "02/QĐ-UBND-VP"


def test_sqlite_without_serialised_transactions_is_refused(sqlite_template: Path,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine_for(f"sqlite:///{path}")
    with session_factory(engine)() as session:
        commune = make_commune(session)
        session.commit()
    engine.dispose()
    plain = create_engine(f"sqlite:///{path}")  # the driver's deferred transactions
    try:
        with session_factory(plain)() as session:
            document = new_document(session, commune)
            with pytest.raises(SqliteNotSerialised) as err:
                allocate(session, session.get_one(NumberBook, commune.book_id), document, 2025)
            assert "BEGIN IMMEDIATE" in err.value.en
    finally:
        plain.dispose()
