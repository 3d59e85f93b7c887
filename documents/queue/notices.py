"""In-app notifications (thông báo): who is told what when the queue moves.

Every transition writes :class:`~documents.queue.records.Notification` rows addressed to
a person: the signer when something waits for them or leaves their queue, the drafter
when the document is approved, comes back or is signed/issued. E-mailing them is
:mod:`documents.queue.mail`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import VN_TZ

from ..models import Document, Person
from ..sqltypes import nfc, utc_now
from .records import (
    PRIORITY_NAMES,
    Notification,
    NotificationKind,
    RequestStatus,
    SigningRequest,
    current_round,
)


def _when(moment: datetime) -> str:
    local = moment.astimezone(VN_TZ)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def describe(document: Document) -> str:
    return f"{document.doc_type.name} “{document.subject}”"


def notify(session: Session, person: Person | int | None, kind: NotificationKind, text: str,
            document: Document | None = None,
            request: SigningRequest | None = None) -> Notification | None:
    if person is None:  # a drafter who is not a person on file
        return None
    notification = Notification(
        person_id=person if isinstance(person, int) else person.id,
        document=document, request=request, kind=kind, text=nfc(text))
    session.add(notification)
    return notification


def _waiting_text(request: SigningRequest, steps: int) -> str:
    parts = [f"Văn bản chờ ký: {describe(request.document)}."]
    if request.drafter is not None:
        parts.append(f"Người trình: {request.drafter.full_name}.")
    if steps > 1:
        parts.append(f"Bước {request.step}/{steps}.")
    parts.append(f"Độ khẩn: {PRIORITY_NAMES[request.priority]}.")
    if request.due_at is not None:
        parts.append(f"Hạn xử lý: {_when(request.due_at)}.")
    if request.note:
        parts.append(f"Ghi chú: {request.note}")
    return " ".join(parts)


def notify_waiting(session: Session, request: SigningRequest,
                    steps: int) -> Notification | None:
    return notify(session, request.signer, NotificationKind.WAITING,
                   _waiting_text(request, steps), request.document, request)



def _drafter_of(session: Session, document: Document) -> int | None:
    round_ = current_round(session, document)
    if round_ is None:
        return None
    return session.scalar(select(SigningRequest.drafter_id).where(
        SigningRequest.document_id == document.id, SigningRequest.round == round_).limit(1))



def notify_signed(session: Session, document: Document, signer: Person) -> Notification | None:
    """Tell the drafter that ``signer`` has signed (call after
    :func:`documents.issuance.approve`); None when there is no drafter to tell."""
    drafter = _drafter_of(session, document)
    notification = notify(
        session, drafter, NotificationKind.APPROVED,
        f"{signer.full_name} đã ký số {describe(document)}; "
        "văn bản chờ văn thư cấp số và ban hành.", document)
    session.flush()
    return notification


def notify_issued(session: Session, document: Document,
                  number_symbol: str | None = None) -> Notification | None:
    """Tell the drafter the document was issued (call after :func:`documents.issuance.issue`);
    None when there is no drafter to tell."""
    drafter = _drafter_of(session, document)
    number = f", số {number_symbol}" if number_symbol else ""
    notification = notify(session, drafter, NotificationKind.ISSUED,
                           f"{describe(document)} đã được ban hành{number}.", document)
    session.flush()
    return notification


def notify_overdue(session: Session, *, now: datetime | None = None) -> list[Notification]:
    """Tell each signer once about every WAITING request past its due time.

    Idempotent: a request already notified as overdue is not notified again, so a
    periodic task may call this as often as it likes.
    """
    now = now or utc_now()
    already = select(Notification.id).where(
        Notification.request_id == SigningRequest.id,
        Notification.kind == NotificationKind.OVERDUE).exists()
    overdue = session.scalars(select(SigningRequest).where(
        SigningRequest.status == RequestStatus.WAITING,
        SigningRequest.due_at.is_not(None), SigningRequest.due_at < now,
        ~already).order_by(SigningRequest.due_at, SigningRequest.id))
    sent = []
    for request in overdue:
        assert request.due_at is not None
        notification = notify(
            session, request.person_id, NotificationKind.OVERDUE,
            f"{describe(request.document)} đã quá hạn xử lý ({_when(request.due_at)}).",
            request.document, request)
        assert notification is not None
        sent.append(notification)
    session.flush()
    return sent


def unread(session: Session, person: Person) -> list[Notification]:
    """``person``'s unread notifications, newest first."""
    return list(session.scalars(select(Notification).where(
        Notification.person_id == person.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc())))


def mark_read(session: Session, person: Person,
              notification_ids: Iterable[int] | None = None) -> int:
    """Mark ``person``'s notifications read (all unread ones when no ids are given).

    Ids of other people's notifications are ignored, so the ids may come straight
    from the client. Returns how many were marked.
    """
    query = select(Notification).where(Notification.person_id == person.id,
                                       Notification.read_at.is_(None))
    if notification_ids is not None:
        query = query.where(Notification.id.in_(list(notification_ids)))
    now = utc_now()
    marked = 0
    for notification in session.scalars(query):
        notification.read_at = now
        marked += 1
    session.flush()
    return marked

