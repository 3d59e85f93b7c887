"""Paging over the real app in-process: ``GET /api/v1/documents`` (a JSON list as before, a
page of it, its cursors in ``X-Next-Cursor``/``X-Prev-Cursor`` and ``Link``), its status
filter and limits, nothing of another body; and the pages — the drafter's lists (what waits
for the drafter first, filters by state with counts, "Xem thêm"), the clerk's (every
document waiting for a number reachable, oldest first) and the signer's queue (a page,
"select all on this page") — each fetching again only the page shown.

Rows are seeded directly in the database (documents need no file to be listed)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from documents import (
    Document,
    DocumentStatus,
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    RequestStatus,
    SigningRequest,
)

from .inprocess_support import ACCOUNT, World, served
from .ui_support import browser, login, new_page, require_browser, swapped
from .web_pages_support import htmx_as

S = DocumentStatus
#: Seeded rows are made from here on, a minute apart, each call later than the last.
_CLOCK = [datetime(2026, 3, 1, 8, 0, tzinfo=UTC)]


def seed(world: World, statuses: list[DocumentStatus], body_id: int | None = None,
         subject: str = "Về việc thử phân trang") -> list[str]:
    with world.sessions() as session, session.begin():
        if body_id is None:
            body_id = home(session)
        made = []
        for status in statuses:
            _CLOCK[0] += timedelta(minutes=1)
            made.append(Document(body_id=body_id, doc_type_code="quyet-dinh", subject=subject,
                                 status=status, created_at=_CLOCK[0]))
        session.add_all(made)
        session.flush()
        return [d.id for d in made]


def home(session: Any) -> int:
    body = session.scalars(select(Organisation).order_by(Organisation.id)).first()
    return int(body.id)


def listed(world: World, statuses: tuple[DocumentStatus, ...] = ()) -> list[str]:
    """The body's documents (of ``statuses``) as the database has them, newest first."""
    with world.sessions() as session:
        query = select(Document).where(Document.body_id == home(session))
        if statuses:
            query = query.where(Document.status.in_(statuses))
        rows = session.scalars(query).all()
        return [d.id for d in sorted(rows, key=lambda d: (d.created_at, d.id), reverse=True)]


def ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body, list)  # the list shape callers have always read
    return [d["id"] for d in body]


# --- the JSON list -----------------------------------------------------------------------

def test_the_list_is_a_page_and_its_cursor_does_not_move_when_documents_arrive(
        world: World) -> None:
    clerk = world.login("vanthu")
    seed(world, [S.ISSUED] * 60)
    everything = listed(world)
    first = world.client.get("/api/v1/documents", headers=clerk)
    assert ids(first) == everything[:50]  # the default page: 50, newest first
    cursor = first.headers["X-Next-Cursor"]
    assert "X-Prev-Cursor" not in first.headers
    assert 'rel="next"' in first.headers["Link"] and f"before={cursor}" in first.headers["Link"]
    arrived = seed(world, [S.DRAFT] * 3)
    second = world.client.get("/api/v1/documents", params={"before": cursor}, headers=clerk)
    assert ids(second) == everything[50:100]
    assert not set(arrived) & set(ids(second))
    # the Link header's next address is the same page
    following = re.search(r'<([^>]+)>; rel="next"', first.headers["Link"])
    assert following
    assert ids(world.client.get(following.group(1), headers=clerk)) == ids(second)
    # and back: the 50 before the second page's first are the first page, as it was
    back = world.client.get("/api/v1/documents", headers=clerk,
                            params={"after": second.headers["X-Prev-Cursor"]})
    assert ids(back) == everything[:50]
    # to the end: every document once, in order
    seen, cursor = [], None
    while True:
        page = world.client.get("/api/v1/documents", headers=clerk,
                                params={"limit": 37, **({"before": cursor} if cursor else {})})
        seen += ids(page)
        cursor = page.headers.get("X-Next-Cursor")
        if cursor is None:
            break
    assert seen == listed(world)
    assert first.json()[0]["created_at"]  # the key of the order is in each row


def test_the_status_filter_keeps_those_statuses_and_limits_are_held(world: World) -> None:
    clerk = world.login("vanthu")
    seed(world, [S.SIGNED, S.NUMBERED, S.ISSUED, S.PREPARED] * 5)
    signed = world.client.get("/api/v1/documents", params={"status": "SIGNED"}, headers=clerk)
    assert ids(signed) == listed(world, (S.SIGNED,))
    assert {d["status"] for d in signed.json()} == {"SIGNED"}
    both = listed(world, (S.SIGNED, S.NUMBERED))
    repeated = world.client.get("/api/v1/documents?status=SIGNED&status=NUMBERED",
                                headers=clerk)
    assert ids(repeated) == both
    assert ids(world.client.get("/api/v1/documents?status=signed,NUMBERED",
                                headers=clerk)) == both
    small = world.client.get("/api/v1/documents?status=SIGNED&status=NUMBERED&limit=3",
                             headers=clerk)
    assert ids(small) == both[:3]
    rest = world.client.get("/api/v1/documents", headers=clerk, params={
        "status": ["SIGNED", "NUMBERED"], "before": small.headers["X-Next-Cursor"]})
    assert ids(rest)[:3] == both[3:6]
    assert len(ids(world.client.get("/api/v1/documents?limit=200", headers=clerk))) == min(
        200, len(listed(world)))
    for query, words in (("status=SIGNEDD", ("trạng thái", "SIGNEDD", "PREPARED")),
                         ("limit=201", ("số văn bản một trang", "page size")),
                         ("limit=0", ("số văn bản một trang",)),
                         ("before=not-a-cursor", ("vị trí trang", "page cursor")),
                         ("after=W10", ("vị trí trang",))):
        refused = world.client.get(f"/api/v1/documents?{query}", headers=clerk)
        assert refused.status_code == 422, (query, refused.text)
        error = refused.json()["error"]
        for word in words:
            assert word in error["vi"] + error["en"], (query, error)


def test_another_bodys_documents_never_appear(world: World) -> None:
    with world.sessions() as session, session.begin():
        other = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE, name="UBND xã Hưng Đạo",
                             abbreviation="UBND", place_name="Hưng Đạo")
        session.add(other)
        session.flush()
        other_id = other.id
    theirs = set(seed(world, [S.SIGNED, S.ISSUED] * 30, body_id=other_id))
    seed(world, [S.SIGNED])
    clerk = world.login("vanthu")
    seen: list[str] = []
    cursor = None
    for query in ({}, {"status": "SIGNED"}):
        while True:
            page = world.client.get("/api/v1/documents", headers=clerk, params={
                **query, "limit": 25, **({"before": cursor} if cursor else {})})
            seen += ids(page)
            cursor = page.headers.get("X-Next-Cursor")
            if cursor is None:
                break
    assert seen and not theirs & set(seen)
    # naming the other body is "not found", as for any id of another body
    assert world.client.get(f"/api/v1/documents?body_id={other_id}",
                            headers=clerk).status_code == 404


# --- the pages ---------------------------------------------------------------------------

def articles(page: str, prefix: str) -> list[str]:
    return re.findall(rf'<article class="queue-item" id="{prefix}-([0-9a-f-]+)"', page)


def link(page: str, rel: str, pager: str) -> str:
    """The htmx address of the ``rel`` link of the navigation ``pager``."""
    found = re.search(rf'<nav class="pager" id="{pager}".*?</nav>', page, re.S)
    assert found, f"no {pager} in the page"
    address = re.search(rf'rel="{rel}"[^>]*hx-get="([^"]+)"', found.group(0))
    assert address, found.group(0)
    return html.unescape(address.group(1))


def polled(page: str, region: str) -> str:
    found = re.search(rf'<div id="{region}" hx-get="([^"]+)"', page)
    assert found
    return html.unescape(found.group(1))


def test_the_drafter_sees_what_waits_for_them_first_then_a_page_of_the_rest(
        world: World) -> None:
    htmx_as(world, "chuyenvien")
    seed(world, [S.PREPARED] * 23, subject="Về việc chờ trình ký")
    seed(world, [S.ISSUED] * 30)
    page = world.client.get("/chuyen-vien/danh-sach").text
    action = articles(page.split('id="shown-list"')[0], "doc")
    assert action == listed(world, (S.PREPARED, S.RETURNED))[::-1][:20]  # oldest first
    counts = dict(re.findall(r'data-state="([a-z-]+)"[^>]*>[^<]*: <span class="count">'
                             r'(\d+)</span>', page))
    with world.sessions() as session:
        total = session.query(Document).filter(Document.body_id == home(session)).count()
    assert int(counts["tat-ca"]) == total
    assert int(counts["da-ban-hanh"]) == len(listed(world, (S.ISSUED, S.DELIVERED)))
    assert f"Cần anh/chị xử lý: <span class=\"count\">{counts['can-xu-ly']}</span>" in page
    assert "Xem thêm: tất cả" in page  # more than a page waits: the filter shows them all
    others = articles(page.split('id="shown-list"')[1], "doc")
    assert len(others) == 20 and not set(others) & set(action)
    # "Xem thêm": the next page of the others, nothing shown twice; the list's polling
    # then asks for that page, not the first
    following = link(page, "next", "documents-pager")
    second = world.client.get(following).text
    assert polled(second, "documents") == following
    more = articles(second.split('id="shown-list"')[1], "doc")
    assert more and not set(more) & set(others)
    assert link(second, "first", "documents-pager") == "/chuyen-vien/danh-sach"
    # the filter "Cần xử lý": every one of them, a page at a time, oldest first
    waiting = listed(world, (S.PREPARED, S.RETURNED))[::-1]
    seen: list[str] = []
    address = "/chuyen-vien/danh-sach?state=can-xu-ly"
    while True:
        shown = world.client.get(address).text
        assert 'id="action-list"' not in shown
        seen += articles(shown, "doc")
        try:
            address = link(shown, "next", "documents-pager")
        except AssertionError:
            break
    assert [d for d in seen if d in waiting] == waiting
    # the whole page takes the same arguments (a reload of a pushed address)
    full = world.client.get("/chuyen-vien?state=da-ban-hanh")
    assert full.status_code == 200 and 'aria-current="page">Đã ban hành' in full.text


def test_the_clerk_reaches_every_document_waiting_for_a_number_oldest_first(
        world: World) -> None:
    htmx_as(world, "vanthu")
    seed(world, [S.SIGNED] * 27)
    waiting = listed(world, (S.SIGNED, S.NUMBERED))[::-1]
    page = world.client.get("/van-thu").text
    assert f'Chờ cấp số: <span class="count">{len(waiting)}</span>' in page
    seen = articles(page, "wait")
    assert seen == waiting[:20]
    # the hint counts every document waiting for the same book, not only this page's
    assert f"còn {len(waiting) - 1} văn bản khác cũng chờ số của sổ này" in page
    address = link(page, "next", "waiting-pager")
    while True:
        shown = world.client.get(address).text
        assert polled(shown, "clerk-lists") == address  # an issue refreshes this page
        seen += articles(shown, "wait")
        try:
            address = link(shown, "next", "waiting-pager")
        except AssertionError:
            break
    assert seen == waiting
    assert 'id="issued-pager"' in page or len(listed(world, (S.ISSUED, S.DELIVERED))) <= 20
    issued_next = link(page, "next", "issued-pager")
    both = world.client.get(issued_next).text
    # paging the issued list keeps the waiting list's first page
    assert articles(both, "wait") == waiting[:20]
    assert set(articles(both, "issued")).isdisjoint(articles(page, "issued"))


def waiting_requests(world: World, count: int) -> int:
    """``count`` documents waiting for the vice-chair's approval (every fifth Khẩn); his
    person id."""
    with world.sessions() as session, session.begin():
        person = session.scalars(select(Person).where(
            Person.full_name == "Lê Minh Đức")).one()
        person_id = int(person.id)
    documents = seed(world, [S.AWAITING_SIGNATURE] * count, subject="Về việc chờ ký")
    with world.sessions() as session, session.begin():
        for n, document_id in enumerate(documents):
            session.add(SigningRequest(
                document_id=document_id, round=1, step=1, person_id=person_id,
                status=RequestStatus.WAITING, created_by="chuyenvien",
                priority=Priority.URGENT if n % 5 == 0 else Priority.NORMAL))
    return person_id


def test_the_signers_queue_shows_a_page_and_select_all_takes_that_page(world: World) -> None:
    htmx_as(world, ACCOUNT)
    person_id = waiting_requests(world, 34)
    page = world.client.get("/lanh-dao").text
    with world.sessions() as session:
        total = session.query(SigningRequest).filter(
            SigningRequest.person_id == person_id,
            SigningRequest.status == RequestStatus.WAITING).count()
    assert f'Chờ anh/chị ký: <strong class="count">{total}</strong>' in page
    first = re.findall(r'name="request_ids" value="(\d+)"', page)
    assert len(first) == 30
    assert "Chọn tất cả trên trang này" in page
    following = link(page, "next", "queue-pager")
    second = world.client.get(following).text
    assert polled(second, "queue") == following  # the 15 s refresh keeps this page
    rest = re.findall(r'name="request_ids" value="(\d+)"', second)
    assert rest and not set(rest) & set(first) and len(first) + len(rest) == total


# --- in the browser ----------------------------------------------------------------------

def test_in_the_browser_xem_them_keeps_its_page_through_a_refresh_and_select_all_takes_it(
        world: World) -> None:
    """Chromium: "Xem thêm ›" swaps in the next page and puts its address in the bar; the
    list's refresh (what a change in the page, or a worker's progress, makes) fetches that
    page again, not the first; on the signer's queue "Chọn tất cả trên trang này" ticks the
    page's boxes only."""
    require_browser()
    seed(world, [S.ISSUED] * 45, subject="Về việc xem trong trình duyệt")
    waiting_requests(world, 31)
    with served(world) as url, browser() as chromium:
        page = new_page(chromium, url)
        login(page, "chuyenvien")
        page.goto("/chuyen-vien")
        shown = "#shown-list article"
        first = page.locator(shown).evaluate_all("a => a.map(i => i.id)")
        with swapped(page, "/chuyen-vien/danh-sach"):
            page.locator("#documents-pager").get_by_role("link", name="Xem thêm ›").click()
        page.wait_for_url(lambda address: "next=" in address)
        second = page.locator(shown).evaluate_all("a => a.map(i => i.id)")
        assert second and not set(second) & set(first)
        with swapped(page, "/chuyen-vien/danh-sach"):
            page.evaluate("document.body.dispatchEvent(new Event('documents-changed'))")
        assert page.locator(shown).evaluate_all("a => a.map(i => i.id)") == second
        page.reload()  # the address in the bar is that page
        assert page.locator(shown).evaluate_all("a => a.map(i => i.id)") == second
        page.context.close()

        page = new_page(chromium, url)
        login(page, ACCOUNT)
        page.goto("/lanh-dao")
        boxes = page.locator("#queue input[name=request_ids]")
        assert page.locator("#queue-pager").count() == 1  # more than a page waits
        page.get_by_label("Chọn tất cả trên trang này").check()
        assert boxes.count() == 30
        assert all(boxes.nth(n).is_checked() for n in range(boxes.count()))
        page.context.close()


def test_what_the_benchmarks_poll_reads_every_page_of_a_status(world: World) -> None:
    from bench.listing import at_status

    clerk = world.login("vanthu")

    class Client:  # the TestClient with the clerk's token, as the benchmarks' httpx client
        def get(self, path: str, params: dict[str, Any]) -> httpx.Response:
            answer: httpx.Response = world.client.get(path, params=params, headers=clerk)
            return answer

    numbered = seed(world, [S.NUMBERED] * 230)  # more than one page of 200
    assert at_status(Client(), "NUMBERED") == set(listed(world, (S.NUMBERED,))) >= set(
        numbered)
