"""Pages of long lists (documents/paging.py) on SQLite and PostgreSQL: a body's documents
newest or oldest first, a page at a time after a cursor that new documents do not move,
filtered by status (each status read by its own seek, merged), and a signer's queue in its
order of urgency; the SQL seeks the new indexes and sorts nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from documents import (
    Document,
    DocumentStatus,
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    RequestStatus,
    SigningRequest,
    document_count,
    document_page,
    parse_statuses,
    queue_count,
    queue_page,
    status_counts,
)
from documents.errors import UnknownValue

from .documents_fixtures import (  # noqa: F401
    Commune,
    Database,
    commune_fixture,
    db_fixture,
    postgres_url_fixture,
    sqlite_template_fixture,
)

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
S = DocumentStatus


def seed(session: Session, body_id: int, statuses: list[DocumentStatus],
         start: datetime = T0, step: timedelta = timedelta(minutes=1),
         ) -> list[str]:
    """Documents of ``body_id`` made one ``step`` apart from ``start`` (in that order)."""
    made = [Document(body_id=body_id, doc_type_code="quyet-dinh", subject=f"Về việc số {n}",
                     status=status, created_at=start + n * step)
            for n, status in enumerate(statuses)]
    session.add_all(made)
    session.flush()
    return [d.id for d in made]


def other_body(session: Session) -> int:
    body = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE, name="UBND xã Hưng Đạo",
                        abbreviation="UBND", place_name="Hưng Đạo")
    session.add(body)
    session.flush()
    return body.id


def every_page(session: Session, body_ids: list[int], **options: Any) -> list[list[str]]:
    """Each page's ids, following the cursors to the end."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        page = document_page(session, body_ids, following=cursor, **options)
        pages.append([d.id for d in page.items])
        cursor = page.following
        if cursor is None:
            return pages
        assert len(pages) < 100


def test_pages_follow_each_other_and_new_documents_do_not_move_them(
        db: Database, commune: Commune) -> None:
    with db.Session() as session, session.begin():
        ids = seed(session, commune.body_id, [S.ISSUED] * 25)
        # two more made at the same instant as the 11th: the id breaks the tie
        twins = [Document(body_id=commune.body_id, doc_type_code="quyet-dinh",
                          subject="Cùng lúc", status=S.ISSUED, created_at=T0 + timedelta(
                              minutes=10)) for _ in range(2)]
        session.add_all(twins)
        session.flush()
        newest_first = [d.id for d in sorted(
            session.query(Document).all(), key=lambda d: (d.created_at, d.id), reverse=True)]
        assert len(newest_first) == 27

        first = document_page(session, [commune.body_id], limit=10)
        assert [d.id for d in first.items] == newest_first[:10]
        assert first.preceding is None and first.following is not None
        # documents arrive between the two reads: the second page does not move
        arrived = seed(session, commune.body_id, [S.DRAFT] * 3, start=T0 + timedelta(days=1))
        second = document_page(session, [commune.body_id], limit=10,
                               following=first.following)
        assert [d.id for d in second.items] == newest_first[10:20]
        third = document_page(session, [commune.body_id], limit=10,
                              following=second.following)
        assert [d.id for d in third.items] == newest_first[20:]
        assert third.following is None
        # back one page: the second again, whole
        back = document_page(session, [commune.body_id], limit=10,
                             preceding=third.preceding)
        assert [d.id for d in back.items] == newest_first[10:20]
        # back from the second: the ten before it, and the three new ones before those
        before = document_page(session, [commune.body_id], limit=10,
                               preceding=second.preceding)
        assert [d.id for d in before.items] == newest_first[:10]
        assert before.preceding is not None
        # back past the start: the first page as it is now (the new ones on top), whole
        start = document_page(session, [commune.body_id], limit=10,
                              preceding=before.preceding)
        assert [d.id for d in start.items] == list(reversed(arrived)) + newest_first[:7]
        assert start.preceding is None
        # oldest first, every document once
        pages = every_page(session, [commune.body_id], limit=7, oldest_first=True)
        flat = [i for page in pages for i in page]
        assert flat == list(reversed(newest_first)) + arrived
        assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
        assert ids[0] == flat[0]


def test_a_status_filter_merges_each_status_in_order(db: Database, commune: Commune) -> None:
    with db.Session() as session, session.begin():
        pattern = [S.SIGNED, S.ISSUED, S.NUMBERED, S.ISSUED, S.DRAFT] * 8
        ids = seed(session, commune.body_id, pattern)
        wanted = [i for i, s in zip(ids, pattern, strict=True) if s in (S.SIGNED, S.NUMBERED)]
        pages = every_page(session, [commune.body_id], limit=5,
                           statuses=[S.SIGNED, S.NUMBERED], oldest_first=True)
        assert [i for page in pages for i in page] == wanted
        assert [len(p) for p in pages] == [5, 5, 5, 1]
        newest = every_page(session, [commune.body_id], limit=6, statuses=[S.ISSUED])
        assert [i for p in newest for i in p] == list(reversed(
            [i for i, s in zip(ids, pattern, strict=True) if s is S.ISSUED]))
        counts = status_counts(session, [commune.body_id])
        assert (counts[S.SIGNED], counts[S.ISSUED], counts[S.PREPARED]) == (8, 16, 0)
        # a narrowed status: the drafts with a problem only
        session.get_one(Document, ids[4]).problem = "bị từ chối / refused"
        narrowed = {S.DRAFT: Document.problem.is_not(None)}
        refused = document_page(session, [commune.body_id], statuses=[S.DRAFT],
                                narrowed=narrowed)
        assert [d.id for d in refused.items] == [ids[4]]
        assert document_count(session, [commune.body_id], [S.DRAFT], narrowed) == 1


def test_another_bodys_documents_never_appear(db: Database, commune: Commune) -> None:
    with db.Session() as session, session.begin():
        other = other_body(session)
        mine = seed(session, commune.body_id, [S.ISSUED, S.SIGNED] * 6)
        seed(session, other, [S.ISSUED, S.SIGNED] * 6, start=T0 + timedelta(seconds=30))
        pages = every_page(session, [commune.body_id], limit=4)
        assert sorted(i for p in pages for i in p) == sorted(mine)
        both = every_page(session, [commune.body_id, other], limit=5,
                          statuses=[S.SIGNED, S.ISSUED])
        assert len({i for p in both for i in p}) == 24
        assert status_counts(session, [other])[S.SIGNED] == 6


def test_a_cursor_or_a_status_that_is_not_one_is_refused_in_both_languages(
        db: Database, commune: Commune) -> None:
    with db.Session() as session:
        for bad in ("xyz", "eyJ4Ijox", "W10", "WyJub3QtYS10aW1lIiwiYSJd", "%%%"):
            with pytest.raises(UnknownValue) as refused:
                document_page(session, [commune.body_id], following=bad)
            assert "vị trí trang" in refused.value.vi and "page cursor" in refused.value.en
    assert parse_statuses(["SIGNED,numbered", "SIGNED"]) == [S.SIGNED, S.NUMBERED]
    with pytest.raises(UnknownValue) as unknown:
        parse_statuses(["SIGNED", "SIGNEDD"])
    assert "trạng thái" in unknown.value.vi and "PREPARED" in unknown.value.en


def requests(session: Session, commune: Commune, rows: list[tuple[Priority, int | None]]
             ) -> list[int]:
    """Waiting requests of the chair, one per row: (priority, due in hours or None), made
    a minute apart."""
    person = session.get_one(Person, commune.people["chu-tich"])
    documents = seed(session, commune.body_id, [S.AWAITING_SIGNATURE] * len(rows))
    made = [SigningRequest(document_id=d, round=1, step=1, person_id=person.id,
                           status=RequestStatus.WAITING, priority=priority,
                           due_at=T0 + timedelta(hours=due) if due is not None else None,
                           created_by="chuyenvien", created_at=T0 + n * timedelta(minutes=1))
            for n, (d, (priority, due)) in enumerate(zip(documents, rows, strict=True))]
    session.add_all(made)
    session.flush()
    return [r.id for r in made]


def test_the_signers_queue_pages_in_its_order_of_urgency(db: Database,
                                                         commune: Commune) -> None:
    from documents import my_queue

    with db.Session() as session, session.begin():
        rows = [(Priority.NORMAL, None), (Priority.URGENT, 5), (Priority.NORMAL, 2),
                (Priority.VERY_URGENT, None), (Priority.NORMAL, 2), (Priority.URGENT, None),
                (Priority.NORMAL, None), (Priority.URGENT, 1)] * 3
        requests(session, commune, rows)
        person = session.get_one(Person, commune.people["chu-tich"])
        whole = [r.id for r in my_queue(session, person)]
        seen: list[int] = []
        cursor = None
        while True:
            page = queue_page(session, person, limit=5, following=cursor)
            seen += [r.id for r in page.items]
            cursor = page.following
            if cursor is None:
                break
        assert seen == whole and len(whole) == 24
        assert queue_count(session, person) == 24
        # an urgent request arriving takes its place on the first page; the later pages
        # after a cursor stay as they were
        first = queue_page(session, person, limit=5)
        second = queue_page(session, person, limit=5, following=first.following)
        (arrived,) = requests(session, commune, [(Priority.IMMEDIATE, None)])
        assert queue_page(session, person, limit=5).items[0].id == arrived
        again = queue_page(session, person, limit=5, following=first.following)
        assert [r.id for r in again.items] == [r.id for r in second.items]


def plans(session: Session, call: Any) -> list[str]:
    """SQLite's query plan of every SELECT ``call()`` makes."""
    statements: list[tuple[str, Any]] = []
    connection = session.connection()

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
             executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", seen)
    try:
        call()
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    found = []
    for statement, parameters in statements:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        found.append(" | ".join(str(r[-1]) for r in rows))
    return found


@pytest.fixture
def sqlite_only(db: Database) -> Iterator[Database]:
    if db.kind != "sqlite":
        pytest.skip("the plan read here is SQLite's (EXPLAIN QUERY PLAN)")
    yield db


def test_each_page_is_a_seek_on_an_index_without_a_sort(sqlite_only: Database,
                                                        commune: Commune) -> None:
    with sqlite_only.Session() as session, session.begin():
        seed(session, commune.body_id, [S.ISSUED, S.SIGNED, S.DRAFT] * 40)
        session.execute(text("ANALYZE"))
        first = document_page(session, [commune.body_id], limit=10)
        for options in ({}, {"statuses": [S.SIGNED, S.ISSUED]},
                        {"statuses": [S.SIGNED], "oldest_first": True},
                        {"following": first.following}, {"preceding": first.following},
                        {"statuses": [S.ISSUED], "following": first.following}):
            found = plans(session, lambda o=options: document_page(
                session, [commune.body_id], limit=10, **o))
            assert found, options
            for plan in found:
                assert "ix_document_body_" in plan, (options, plan)
                assert "TEMP B-TREE" not in plan, (options, plan)
            if "following" in options or "preceding" in options:  # a seek to the cursor
                assert re.search(r"created_at ?[<>]", found[0]), (options, found)
