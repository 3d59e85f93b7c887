"""The signing queue and its notifications, on SQLite and PostgreSQL; e-mail through a
real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import socket
import ssl
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SMTPSession
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.worker.mail import SmtpMailer
from common import KysoError
from documents import (
    Designation,
    Document,
    DocumentStatus,
    DuplicateSigner,
    MailFailed,
    MissingReturnReason,
    NoSigners,
    NoSigningAuthority,
    Notification,
    NotificationKind,
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    RequestStatus,
    SigningAuthority,
    SigningRequest,
    WrongRequestStatus,
    WrongStep,
    approve_batch,
    approve_request,
    current_signer,
    mark_read,
    my_queue,
    notify_issued,
    notify_overdue,
    notify_signed,
    reassign,
    recall,
    requests_of,
    return_request,
    route,
    send_pending,
    to_sign,
    unread,
    waiting_for,
)

from .documents_fixtures import (  # noqa: F401
    FINGERPRINT,
    Commune,
    Database,
    add_authority,
    commune_fixture,
    db_fixture,
    new_document,
    postgres_url_fixture,
    sqlite_template_fixture,
)

SUBJECT = "về việc thành lập Tổ công tác phòng, chống thiên tai"


def assert_bilingual(error: KysoError) -> None:
    line = error.one_line()
    assert line.startswith("Lỗi: ") and " — Error: " in line and "\n" not in line


@dataclass
class People:
    chair: Person
    vice: Person
    head_vx: Person
    drafter: Person


def people(session: Session, commune: Commune) -> People:
    """Authorities of the commune: the chair signs everything (TM.), the vice-chair
    signs decisions (KT.), the head of VX signs its own công văn; the drafter is a
    staff member of the Văn phòng."""
    add_authority(session, commune, "chu-tich", designation=Designation.TM,
                  on_behalf_of="ỦY BAN NHÂN DÂN")
    add_authority(session, commune, "pho-chu-tich", "quyet-dinh", designation=Designation.KT,
                  on_behalf_of="CHỦ TỊCH")
    add_authority(session, commune, "truong-phong-vx", "cong-van", unit="VX",
                  designation=Designation.TL, on_behalf_of="CHỦ TỊCH")
    drafter = Person(body_id=commune.body_id, unit_id=commune.units["VP"],
                     full_name="Phạm Thị Hoa", position="Chuyên viên")
    session.add(drafter)
    session.flush()
    chair, vice, head_vx = (session.get_one(Person, commune.people[key])
                            for key in ("chu-tich", "pho-chu-tich", "truong-phong-vx"))
    return People(chair, vice, head_vx, drafter)


def prepared(session: Session, commune: Commune, subject: str = SUBJECT,
             doc_type: str = "quyet-dinh", unit: str = "VP") -> Document:
    document = new_document(session, commune, doc_type, unit=unit, subject=subject)
    document.status = DocumentStatus.PREPARED  # as documents.issuance.prepare leaves it
    session.flush()
    return document


def notices(session: Session, person: Person) -> list[tuple[NotificationKind, str]]:
    return [(n.kind, n.text) for n in session.scalars(
        select(Notification).where(Notification.person_id == person.id)
        .order_by(Notification.id))]


def kinds(session: Session, person: Person) -> list[NotificationKind]:
    return [kind for kind, _ in notices(session, person)]


# ------------------------------------------------------------------------ routing

def test_route_to_one_signer_approve_then_ready_to_sign(db: Database, commune: Commune) -> None:
    due = datetime(2025, 9, 1, 10, 30, tzinfo=UTC)
    with db.Session() as session:
        p = people(session, commune)
        document = prepared(session, commune)
        [request] = route(session, document, [p.chair], drafter=p.drafter,
                          actor=unicodedata.normalize("NFD", "Phạm Thị Hoa"), due_at=due,
                          priority=Priority.URGENT, note="Kính trình Chủ tịch xem xét")
        assert document.status is DocumentStatus.AWAITING_SIGNATURE
        assert (request.step, request.round, request.status) == (1, 1, RequestStatus.WAITING)
        session.commit()
        ids = request.id, document.id

    with db.Session() as session:
        request = session.get_one(SigningRequest, ids[0])
        document = session.get_one(Document, ids[1])
        chair = request.signer
        assert request.priority is Priority.URGENT and request.due_at == due
        assert request.created_by == "Phạm Thị Hoa"  # stored in NFC
        assert request.created_at.tzinfo is not None
        assert request.drafter is not None and request.drafter.full_name == "Phạm Thị Hoa"
        [(kind, text)] = notices(session, chair)
        assert kind is NotificationKind.WAITING
        assert text == ("Văn bản chờ ký: Quyết định “về việc thành lập Tổ công tác phòng, "
                        "chống thiên tai”. Người trình: Phạm Thị Hoa. Độ khẩn: Khẩn. "
                        "Hạn xử lý: 17:30 ngày 01/09/2025. Ghi chú: Kính trình Chủ tịch xem xét")
        assert my_queue(session, chair) == [request]
        assert waiting_for(session, document) == chair
        assert current_signer(session, document) is None  # not approved yet

        approve_request(session, request, actor="chutich")
        session.commit()

    with db.Session() as session:
        request = session.get_one(SigningRequest, ids[0])
        document = session.get_one(Document, ids[1])
        chair, drafter = request.signer, request.drafter
        assert drafter is not None
        assert request.status is RequestStatus.APPROVED and request.decided_by == "chutich"
        assert request.decided_at is not None and request.decided_at.tzinfo is not None
        # the queue does not sign: the document waits for the chair's signature
        assert document.status is DocumentStatus.AWAITING_SIGNATURE
        assert current_signer(session, document) == chair
        assert waiting_for(session, document) is None
        assert my_queue(session, chair) == []
        assert to_sign(session, chair) == [request]
        assert notices(session, drafter) == [(
            NotificationKind.APPROVED,
            "Nguyễn Văn An đã duyệt Quyết định “về việc thành lập Tổ công tác phòng, chống "
            "thiên tai”; văn bản chờ ký số.")]
        # once signed (documents.issuance.approve), nobody is to sign any more
        document.status = DocumentStatus.SIGNED
        assert current_signer(session, document) is None and to_sign(session, chair) == []


def test_route_to_two_signers_in_order(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        document = prepared(session, commune)
        first, second = route(session, document, [p.vice, p.chair], drafter=p.drafter,
                              actor="hoa")
        assert [(r.step, r.status) for r in (first, second)] == \
            [(1, RequestStatus.WAITING), (2, RequestStatus.PENDING)]
        # the chair sees nothing until the vice-chair has approved
        assert my_queue(session, p.chair) == [] and kinds(session, p.chair) == []
        assert my_queue(session, p.vice) == [first]
        assert "Bước 1/2." in notices(session, p.vice)[0][1]
        with pytest.raises(WrongRequestStatus) as early:
            approve_request(session, second, actor="chutich")
        assert "Chờ bước trước" in early.value.vi and "pending" in early.value.en

        approve_request(session, first, actor="phochutich")
        assert second.status is RequestStatus.WAITING
        assert my_queue(session, p.chair) == [second] and my_queue(session, p.vice) == []
        assert current_signer(session, document) is None
        assert to_sign(session, p.vice) == []  # not the last step: the vice-chair signs nothing
        assert kinds(session, p.chair) == [NotificationKind.WAITING]
        assert "Bước 2/2." in notices(session, p.chair)[0][1]
        assert notices(session, p.drafter)[0][1].startswith(
            "Trần Thị Bình đã duyệt Quyết định")
        assert "(bước 1/2); văn bản được chuyển đến Nguyễn Văn An." in \
            notices(session, p.drafter)[0][1]

        approve_request(session, second, actor="chutich")
        assert current_signer(session, document) == p.chair
        assert to_sign(session, p.chair) == [second]
        assert [r.status for r in requests_of(session, document)] == \
            [RequestStatus.APPROVED, RequestStatus.APPROVED]


def test_queue_order_priority_then_due_time_then_arrival(db: Database, commune: Commune) -> None:
    base = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
    with db.Session() as session:
        p = people(session, commune)
        plan = [  # (name, priority, due)
            ("thường, không hạn", Priority.NORMAL, None),
            ("thường, hạn muộn", Priority.NORMAL, base + timedelta(days=3)),
            ("hỏa tốc", Priority.IMMEDIATE, None),
            ("thường, hạn sớm", Priority.NORMAL, base + timedelta(days=1)),
            ("khẩn", Priority.URGENT, base + timedelta(days=5)),
            ("thường, không hạn, sau", Priority.NORMAL, None),
        ]
        for name, priority, due in plan:
            route(session, prepared(session, commune, name), [p.chair], drafter=p.drafter,
                  actor="hoa", priority=priority, due_at=due)
        session.commit()

    with db.Session() as session:
        chair = session.get_one(Person, commune.people["chu-tich"])
        assert [r.document.subject for r in my_queue(session, chair)] == [
            "hỏa tốc", "khẩn", "thường, hạn sớm", "thường, hạn muộn", "thường, không hạn",
            "thường, không hạn, sau"]


def test_queue_of_one_issuing_body(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        council = Organisation(kind=OrganisationKind.COUNCIL, parent_id=commune.body_id,
                               name="Hội đồng thi đua - khen thưởng xã Tiên Lữ",
                               abbreviation="HĐTĐKT", place_name="Tiên Lữ")
        session.add(council)
        session.flush()
        session.add(SigningAuthority(person=p.chair, body=council, all_types=True,
                                     designation=Designation.NONE,
                                     certificate_sha256=FINGERPRINT, token_name="token-chu-tich"))
        ubnd = session.get_one(Organisation, commune.body_id)
        ours = route(session, prepared(session, commune), [p.chair], drafter=p.drafter,
                     actor="hoa")
        theirs = route(session, prepared(session, commune, "khen thưởng"), [p.chair],
                       drafter=p.drafter, actor="hoa")
        theirs[0].document.body = council
        theirs[0].document.unit = None
        session.flush()
        assert my_queue(session, p.chair, body=ubnd) == ours
        assert my_queue(session, p.chair, body=council) == theirs
        assert len(my_queue(session, p.chair)) == 2


# ------------------------------------------------------------------------ refusals

def test_route_refusals_leave_nothing(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        document = prepared(session, commune)
        # the head of VX signs only VX's công văn, not the Văn phòng's decisions
        with pytest.raises(NoSigningAuthority) as no_authority:
            route(session, document, [p.vice, p.head_vx], drafter=p.drafter, actor="hoa")
        assert_bilingual(no_authority.value)
        assert "Lê Văn Cường" in no_authority.value.vi and "Quyết định" in no_authority.value.en
        with pytest.raises(NoSigners) as none:
            route(session, document, [], drafter=p.drafter, actor="hoa")
        assert_bilingual(none.value)
        with pytest.raises(DuplicateSigner) as twice:
            route(session, document, [p.chair, p.vice, p.chair], drafter=p.drafter, actor="hoa")
        assert_bilingual(twice.value)
        assert "Nguyễn Văn An" in twice.value.vi
        assert document.status is DocumentStatus.PREPARED
        assert requests_of(session, document) == []
        assert session.scalars(select(Notification)).all() == []

        draft = new_document(session, commune)  # still a DRAFT: not prepared
        with pytest.raises(WrongStep) as not_prepared:
            route(session, draft, [p.chair], drafter=p.drafter, actor="hoa")
        assert "Dự thảo" in not_prepared.value.vi and "Đã chuẩn bị" in not_prepared.value.en

        route(session, document, [p.chair], drafter=p.drafter, actor="hoa")
        with pytest.raises(WrongStep):  # already in the queue
            route(session, document, [p.vice], drafter=p.drafter, actor="hoa")


def test_approve_twice_and_lost_authority_are_refused(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        [request] = route(session, prepared(session, commune), [p.chair], drafter=p.drafter,
                          actor="hoa")
        approve_request(session, request, actor="chutich")
        with pytest.raises(WrongRequestStatus) as twice:
            approve_request(session, request, actor="chutich")
        assert_bilingual(twice.value)
        assert twice.value.vi == "yêu cầu ký đang ở trạng thái “Đã duyệt” — không thể duyệt"
        assert twice.value.en == "the signing request is approved — it cannot be approved"

        [other] = route(session, prepared(session, commune, "khác"), [p.vice],
                        drafter=p.drafter, actor="hoa")
        p.vice.active = False  # left office after the routing
        with pytest.raises(NoSigningAuthority):
            approve_request(session, other, actor="phochutich")
        assert other.status is RequestStatus.WAITING


def test_a_stale_request_cannot_be_approved_twice(db: Database, commune: Commune) -> None:
    """Two people (or two clicks) acting on the same request: the second sees the first's
    decision, because every transition reloads the request under the document lock."""
    with db.Session() as session:
        p = people(session, commune)
        [request] = route(session, prepared(session, commune), [p.chair], drafter=p.drafter,
                          actor="hoa")
        session.commit()
        request_id = request.id

    stale_session = db.Session(expire_on_commit=False)
    try:
        stale = stale_session.get_one(SigningRequest, request_id)
        assert stale.status is RequestStatus.WAITING
        stale_session.commit()  # keeps the (now stale) object loaded

        with db.Session() as session:
            approve_request(session, session.get_one(SigningRequest, request_id), actor="a")
            session.commit()

        assert stale.status is RequestStatus.WAITING  # still what it read
        with pytest.raises(WrongRequestStatus):
            approve_request(stale_session, stale, actor="b")
        stale_session.rollback()
    finally:
        stale_session.close()
    with db.Session() as session:
        assert len(session.scalars(select(Notification).where(
            Notification.kind == NotificationKind.APPROVED)).all()) == 1


# ------------------------------------------------------------------------ batch

def test_approve_batch_is_all_or_nothing(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        requests = [route(session, prepared(session, commune, f"văn bản {i}"), [p.chair],
                          drafter=p.drafter, actor="hoa")[0] for i in range(3)]
        recall(session, requests[1].document, actor="hoa")
        with pytest.raises(WrongRequestStatus) as refused:
            approve_batch(session, requests, actor="chutich")
        assert "Đã rút lại" in refused.value.vi and "recalled" in refused.value.en
        assert [r.status for r in requests] == \
            [RequestStatus.WAITING, RequestStatus.RECALLED, RequestStatus.WAITING]
        assert kinds(session, p.drafter) == []

        done = approve_batch(session, [requests[0], requests[2], requests[0]], actor="chutich")
        assert done == [requests[0], requests[2]]
        assert [r.status for r in requests] == \
            [RequestStatus.APPROVED, RequestStatus.RECALLED, RequestStatus.APPROVED]
        assert to_sign(session, p.chair) == [requests[0], requests[2]]
        assert kinds(session, p.drafter) == [NotificationKind.APPROVED] * 2
        session.commit()


# ------------------------------------------------------------------------ return, recall

def test_return_with_a_reason(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        document = prepared(session, commune)
        first, second = route(session, document, [p.vice, p.chair], drafter=p.drafter,
                              actor="hoa")
        approve_request(session, first, actor="phochutich")
        for empty in ("", "   "):
            with pytest.raises(MissingReturnReason) as no_reason:
                return_request(session, second, empty, actor="chutich")
        assert_bilingual(no_reason.value)
        assert second.status is RequestStatus.WAITING

        reason = unicodedata.normalize("NFD", "Sai căn cứ pháp lý ở Điều 2, đề nghị sửa")
        return_request(session, second, reason, actor="chutich")
        session.commit()
        ids = document.id, second.id, p.drafter.id

    with db.Session() as session:
        document = session.get_one(Document, ids[0])
        second = session.get_one(SigningRequest, ids[1])
        drafter = session.get_one(Person, ids[2])
        assert document.status is DocumentStatus.RETURNED
        assert second.status is RequestStatus.RETURNED
        assert second.reason == "Sai căn cứ pháp lý ở Điều 2, đề nghị sửa"
        assert notices(session, drafter)[-1] == (
            NotificationKind.RETURNED,
            "Nguyễn Văn An đã trả lại Quyết định “về việc thành lập Tổ công tác phòng, chống "
            "thiên tai”. Lý do: Sai căn cứ pháp lý ở Điều 2, đề nghị sửa")
        assert my_queue(session, second.signer) == []
        assert current_signer(session, document) is None
        with pytest.raises(WrongRequestStatus):
            approve_request(session, second, actor="chutich")
        with pytest.raises(WrongStep):  # nothing to recall any more
            recall(session, document, actor="hoa")


def test_return_cancels_the_later_steps(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        first, second = route(session, prepared(session, commune), [p.vice, p.chair],
                              drafter=p.drafter, actor="hoa")
        return_request(session, first, "Chưa đủ hồ sơ", actor="phochutich")
        assert (first.status, second.status) == (RequestStatus.RETURNED, RequestStatus.CANCELLED)
        assert kinds(session, p.chair) == []  # never reached the chair


def test_recall_then_route_a_new_round(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        document = prepared(session, commune)
        first, second = route(session, document, [p.vice, p.chair], drafter=p.drafter,
                              actor="hoa")
        recalled = recall(session, document, actor="Phạm Thị Hoa")
        assert recalled == [first, second]
        assert {r.status for r in recalled} == {RequestStatus.RECALLED}
        assert document.status is DocumentStatus.DRAFT
        assert kinds(session, p.vice) == [NotificationKind.WAITING, NotificationKind.WITHDRAWN]
        assert "rút lại (Phạm Thị Hoa)" in notices(session, p.vice)[-1][1]
        assert kinds(session, p.chair) == []
        with pytest.raises(WrongRequestStatus) as refused:
            approve_request(session, first, actor="phochutich")
        assert_bilingual(refused.value)
        with pytest.raises(WrongStep):
            recall(session, document, actor="hoa")

        document.status = DocumentStatus.PREPARED  # prepared again
        [again] = route(session, document, [p.chair], drafter=p.drafter, actor="hoa")
        assert (again.round, again.step, again.status) == (2, 1, RequestStatus.WAITING)
        approve_request(session, again, actor="chutich")
        assert current_signer(session, document) == p.chair
        assert [(r.round, r.step, r.status) for r in requests_of(session, document)] == [
            (1, 1, RequestStatus.RECALLED), (1, 2, RequestStatus.RECALLED),
            (2, 1, RequestStatus.APPROVED)]

        # recalled after every approval, before the signature: the chair is told
        recall(session, document, actor="hoa")
        assert document.status is DocumentStatus.DRAFT
        assert current_signer(session, document) is None and to_sign(session, p.chair) == []
        assert kinds(session, p.chair)[-1] is NotificationKind.WITHDRAWN
        assert again.status is RequestStatus.APPROVED  # what was decided stays decided


# ------------------------------------------------------------------------ reassign

def test_reassign_to_a_competent_person(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        document = prepared(session, commune)
        [request] = route(session, document, [p.chair], drafter=p.drafter, actor="hoa",
                          priority=Priority.URGENT, note="Gấp")
        with pytest.raises(NoSigningAuthority):
            reassign(session, request, p.head_vx, actor="chutich")
        with pytest.raises(DuplicateSigner):
            reassign(session, request, p.chair, actor="chutich")
        assert my_queue(session, p.chair) == [request]  # still waiting for the chair

        new = reassign(session, request, p.vice, actor="chutich")
        assert request.status is RequestStatus.REASSIGNED and request.reassigned_to == new
        assert (new.step, new.round, new.status, new.priority, new.note) == \
            (1, 1, RequestStatus.WAITING, Priority.URGENT, "Gấp")
        assert new.signer == p.vice and new.drafter == p.drafter
        assert my_queue(session, p.chair) == [] and my_queue(session, p.vice) == [new]
        assert kinds(session, p.chair) == [NotificationKind.WAITING, NotificationKind.WITHDRAWN]
        assert "chuyển cho Trần Thị Bình" in notices(session, p.chair)[-1][1]
        assert kinds(session, p.vice) == [NotificationKind.WAITING]
        with pytest.raises(WrongRequestStatus):
            approve_request(session, request, actor="chutich")
        with pytest.raises(WrongRequestStatus):
            reassign(session, request, p.vice, actor="chutich")
        session.commit()
        new_id = new.id

    with db.Session() as session:
        new = session.get_one(SigningRequest, new_id)
        old = session.scalars(select(SigningRequest).where(
            SigningRequest.reassigned_to_id == new_id)).one()
        assert old.status is RequestStatus.REASSIGNED and old.decided_by == "chutich"
        approve_request(session, new, actor="phochutich")
        assert current_signer(session, new.document) == new.signer


def test_reassign_a_later_step_before_its_turn(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        document = prepared(session, commune)
        first, second = route(session, document, [p.vice, p.chair], drafter=p.drafter,
                              actor="hoa")
        add_authority(session, commune, "truong-phong-vx", "quyet-dinh")
        new = reassign(session, second, p.head_vx, actor="hoa")
        assert (new.status, new.step) == (RequestStatus.PENDING, 2)
        assert kinds(session, p.head_vx) == [] and kinds(session, p.chair) == []
        approve_request(session, first, actor="phochutich")
        assert new.status is RequestStatus.WAITING
        assert my_queue(session, p.head_vx) == [new]


# ------------------------------------------------------------------------ notifications

def test_notifications_unread_and_mark_read(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        for i in range(3):
            route(session, prepared(session, commune, f"văn bản {i}"), [p.chair],
                  drafter=p.drafter, actor="hoa")
        route(session, prepared(session, commune, "của người khác"), [p.vice],
              drafter=p.drafter, actor="hoa")
        session.commit()

    with db.Session() as session:
        chair = session.get_one(Person, commune.people["chu-tich"])
        vice = session.get_one(Person, commune.people["pho-chu-tich"])
        mine = unread(session, chair)
        assert [n.document.subject for n in mine if n.document] == \
            ["văn bản 2", "văn bản 1", "văn bản 0"]  # newest first
        assert all(unicodedata.is_normalized("NFC", n.text) for n in mine)
        assert mine[0].subject == "[Kyso] Văn bản chờ ký: văn bản 2"
        theirs = unread(session, vice)
        # someone else's ids are ignored
        assert mark_read(session, chair, [mine[0].id, theirs[0].id]) == 1
        assert [n.id for n in unread(session, chair)] == [mine[1].id, mine[2].id]
        assert len(unread(session, vice)) == 1
        assert mark_read(session, chair) == 2
        session.commit()
        assert unread(session, chair) == []
        read = session.get_one(Notification, mine[0].id)
        assert read.read_at is not None and read.read_at.tzinfo is not None


def test_overdue_signed_and_issued_notices(db: Database, commune: Commune) -> None:
    due = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)
    with db.Session() as session:
        p = people(session, commune)
        document = prepared(session, commune)
        [request] = route(session, document, [p.chair], drafter=p.drafter, actor="hoa",
                          due_at=due)
        route(session, prepared(session, commune, "chưa đến hạn"), [p.chair],
              drafter=p.drafter, actor="hoa", due_at=due + timedelta(days=2))
        assert notify_overdue(session, now=due - timedelta(minutes=1)) == []
        [late] = notify_overdue(session, now=due + timedelta(hours=1))
        assert late.kind is NotificationKind.OVERDUE and late.person_id == p.chair.id
        assert late.text.endswith("đã quá hạn xử lý (17:00 ngày 01/09/2025).")
        assert notify_overdue(session, now=due + timedelta(hours=2)) == []  # once only

        approve_request(session, request, actor="chutich")
        document.status = DocumentStatus.SIGNED  # documents.issuance.approve
        signed = notify_signed(session, document, p.chair)
        assert signed is not None and signed.person_id == p.drafter.id
        assert signed.text.startswith("Nguyễn Văn An đã ký số Quyết định")
        issued = notify_issued(session, document, "05/QĐ-UBND")
        assert issued is not None and issued.kind is NotificationKind.ISSUED
        assert issued.text.endswith("đã được ban hành, số 05/QĐ-UBND.")
        assert notify_signed(session, prepared(session, commune, "chưa trình"), p.chair) is None


def test_a_router_who_is_not_a_person_gets_no_notices(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        p = people(session, commune)
        [request] = route(session, prepared(session, commune), [p.chair], actor="admin")
        assert request.drafter is None
        assert "Người trình" not in notices(session, p.chair)[0][1]
        return_request(session, request, "Không thuộc thẩm quyền", actor="chutich")
        assert session.scalars(select(Notification).where(
            Notification.kind == NotificationKind.RETURNED)).all() == []


# ------------------------------------------------------------------------ e-mail

class Inbox:
    """An aiosmtpd handler keeping what it receives; refuses the addresses in ``refuse``."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.refuse = refuse
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(self, server: SMTPServer, session: SMTPSession, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: SMTPSession,
                          envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.envelopes:
            assert isinstance(envelope.content, bytes)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(refuse=("tu-choi@tienlu.gov.vn",)), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


ADDRESSES = {"Nguyễn Văn An": "chutich@tienlu.gov.vn", "Trần Thị Bình": "tu-choi@tienlu.gov.vn",
             "Lê Văn Cường": "vx@tienlu.gov.vn"}


def address_of(person: Person) -> str | None:
    return ADDRESSES.get(person.full_name)


def test_notices_are_emailed_through_smtp(db: Database, commune: Commune,
                                          smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer("127.0.0.1", port, "Kyso UBND xã Tiên Lữ <kyso@tienlu.gov.vn>")
    with db.Session() as session:
        p = people(session, commune)
        [request] = route(session, prepared(session, commune), [p.chair], drafter=p.drafter,
                          actor="hoa", priority=Priority.IMMEDIATE)
        approve_request(session, request, actor="chutich")  # and one for the drafter
        report = send_pending(session, mailer, address_of)
        session.commit()
        [waiting] = notices(session, p.chair)
        chair_notice = session.scalars(select(Notification).where(
            Notification.person_id == p.chair.id)).one()
        drafter_notice = session.scalars(select(Notification).where(
            Notification.person_id == p.drafter.id)).one()

    assert report.sent == [chair_notice.id] and report.failed == {}
    assert report.no_address == [drafter_notice.id]  # the drafter has no address: in-app only
    assert chair_notice.emailed_at is not None and drafter_notice.emailed_at is None
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["chutich@tienlu.gov.vn"]
    assert envelope.mail_from == "kyso@tienlu.gov.vn"
    [message] = inbox.messages()
    assert message["Subject"] == ("[Kyso] Văn bản chờ ký: về việc thành lập Tổ công tác "
                                  "phòng, chống thiên tai")
    assert message["To"] == "chutich@tienlu.gov.vn"
    assert message["From"] == "Kyso UBND xã Tiên Lữ <kyso@tienlu.gov.vn>"
    assert message["Message-ID"] and message["Date"]
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert body.startswith(waiting[1]) and "Độ khẩn: Hỏa tốc." in body
    assert "Thư tự động của hệ thống Kyso" in body
    assert unicodedata.is_normalized("NFC", body)

    with db.Session() as session:  # nothing is sent twice
        again = send_pending(session, mailer, address_of)
        assert again.sent == [] and len(inbox.envelopes) == 1


def test_a_refused_address_stays_pending_and_others_go(db: Database, commune: Commune,
                                                       smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer("127.0.0.1", port, "kyso@tienlu.gov.vn")
    with db.Session() as session:
        p = people(session, commune)
        add_authority(session, commune, "truong-phong-vx", "quyet-dinh")
        route(session, prepared(session, commune, "cho phó chủ tịch"), [p.vice],
              drafter=p.drafter, actor="hoa")
        route(session, prepared(session, commune, "cho trưởng phòng"), [p.head_vx],
              drafter=p.drafter, actor="hoa")
        report = send_pending(session, mailer, address_of)
        session.commit()
        vice_notice, vx_notice = (session.scalars(select(Notification).where(
            Notification.person_id == person.id)).one() for person in (p.vice, p.head_vx))

    assert list(report.failed) == [vice_notice.id] and not report.stopped
    failure = report.failed[vice_notice.id]
    assert not failure.server_down and "tu-choi@tienlu.gov.vn" in failure.vi
    assert_bilingual(failure)
    assert report.sent == [vx_notice.id]
    assert vice_notice.emailed_at is None and vx_notice.emailed_at is not None
    assert [m["To"] for m in inbox.messages()] == ["vx@tienlu.gov.vn"]


def test_a_server_down_leaves_every_notice_pending(db: Database, commune: Commune) -> None:
    port = free_port()  # nothing listens there
    mailer = SmtpMailer("127.0.0.1", port, "kyso@tienlu.gov.vn", timeout=5)
    with db.Session() as session:
        p = people(session, commune)
        for i in range(2):
            route(session, prepared(session, commune, f"văn bản {i}"), [p.chair],
                  drafter=p.drafter, actor="hoa")
        report = send_pending(session, mailer, address_of)
        session.commit()
        assert report.stopped and report.sent == []
        [(notice_id, failure)] = report.failed.items()  # stopped at the first
        assert failure.server_down and isinstance(failure, MailFailed)
        assert isinstance(failure.__cause__, OSError)
        pending = session.scalars(select(Notification).where(
            Notification.emailed_at.is_(None))).all()
        assert len(pending) == 2

    # the server comes back: the same notices go out, none lost
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with db.Session() as session:
            report = send_pending(session, mailer, address_of)
            session.commit()
    finally:
        controller.stop()
    assert len(report.sent) == 2 and notice_id in report.sent
    assert sorted(m["Subject"] for m in inbox.messages()) == \
        ["[Kyso] Văn bản chờ ký: văn bản 0", "[Kyso] Văn bản chờ ký: văn bản 1"]


def self_signed_localhost() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def test_starttls_and_login(db: Database, commune: Commune, tmp_path: Path) -> None:
    cert_pem, key_pem = self_signed_localhost()
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client_tls = ssl.create_default_context(cadata=cert_pem.decode())

    def authenticator(server: SMTPServer, session: SMTPSession, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and \
            (auth_data.login, auth_data.password) == (b"kyso", b"mat-khau-2025")
        return AuthResult(success=ok, handled=False)  # not handled: the server says 535

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_tls,
                            require_starttls=True, authenticator=authenticator,
                            auth_required=True)
    controller.start()
    try:
        with db.Session() as session:
            p = people(session, commune)
            route(session, prepared(session, commune), [p.chair], drafter=p.drafter,
                  actor="hoa")
            plain = SmtpMailer("127.0.0.1", port, "kyso@tienlu.gov.vn")
            refused = send_pending(session, plain, address_of)  # the server demands TLS
            assert refused.stopped and refused.sent == []
            assert "STARTTLS" in next(iter(refused.failed.values())).en
            wrong = SmtpMailer("127.0.0.1", port, "kyso@tienlu.gov.vn", username="kyso",
                               password="sai", starttls=True, ssl_context=client_tls)
            bad_login = send_pending(session, wrong, address_of)
            assert bad_login.stopped and bad_login.sent == []
            [failure] = bad_login.failed.values()
            assert "SMTPAuthenticationError" in failure.en
            good = SmtpMailer("127.0.0.1", port, "kyso@tienlu.gov.vn", username="kyso",
                              password="mat-khau-2025", starttls=True, ssl_context=client_tls)
            assert "mat-khau-2025" not in repr(good)
            assert len(send_pending(session, good, address_of).sent) == 1
            session.commit()
    finally:
        controller.stop()
    [message] = inbox.messages()
    assert message["Subject"].startswith("[Kyso] Văn bản chờ ký")
