"""The queue's tables: signing requests and notifications, and the lookups of a round.

Each routing is a *round* (lần trình) of a document: steps 1, 2, … of that round are
approved in order; only the lowest unapproved step is WAITING, later ones PENDING.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..models import Base, Document, Person, Priority, enum_type
from ..sqltypes import Nfc, UtcDateTime, utc_now

#: Độ khẩn as printed (Decree 30, Appendix VI Priority codes).
PRIORITY_NAMES = {
    Priority.NORMAL: "Thường",
    Priority.URGENT: "Khẩn",
    Priority.VERY_URGENT: "Thượng khẩn",
    Priority.IMMEDIATE: "Hỏa tốc",
    Priority.IMMEDIATE_TIMED: "Hỏa tốc hẹn giờ",
}


class RequestStatus(enum.Enum):
    """Where one signing request is; the value is the Vietnamese label."""

    PENDING = "Chờ bước trước"
    WAITING = "Chờ duyệt"
    APPROVED = "Đã duyệt"
    RETURNED = "Trả lại"
    RECALLED = "Đã rút lại"
    REASSIGNED = "Đã chuyển người khác"
    CANCELLED = "Đã hủy"


#: Requests still part of their round's outcome (not replaced, not closed).
LIVE = (RequestStatus.PENDING, RequestStatus.WAITING, RequestStatus.APPROVED)
#: Requests still to be decided.
OPEN = (RequestStatus.PENDING, RequestStatus.WAITING)


class NotificationKind(enum.Enum):
    """Why a person is told something; the value is the e-mail subject's opening."""

    WAITING = "Văn bản chờ ký"
    RETURNED = "Văn bản bị trả lại"
    APPROVED = "Văn bản đã được duyệt"
    ISSUED = "Văn bản đã ban hành"
    OVERDUE = "Văn bản quá hạn ký"
    #: Recalled by the drafter or reassigned: it no longer waits for this person.
    WITHDRAWN = "Văn bản không còn chờ ký"
    #: a certificate in use reaches 60, 30 or 7 days before its end, or its end
    CERT_EXPIRING = "Chứng thư số sắp hết hạn"
    #: background work waits for a service (TSA, token, …) or was done again after a
    #: worker died (documents/background.py)
    WORK_DELAYED = "Văn bản đang chờ xử lý"
    #: background work was given up (documents/background.py)
    WORK_FAILED = "Văn bản xử lý không thành công"


class PriorityType(TypeDecorator[Priority]):
    """:class:`Priority` stored as its Appendix VI integer code (as the register does)."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Priority | int | None,
                           dialect: Dialect) -> int | None:
        return None if value is None else int(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Priority | None:
        return None if value is None else Priority(value)


class SigningRequest(Base):
    """One person's turn to approve one document, at one step of one round."""

    __tablename__ = "signing_request"
    __table_args__ = (
        CheckConstraint("step >= 1", name="step_positive"),
        CheckConstraint("round >= 1", name="round_positive"),
        CheckConstraint("priority BETWEEN 0 AND 4", name="priority_range"),
        CheckConstraint("status <> 'RETURNED' OR reason IS NOT NULL", name="return_reason"),
        CheckConstraint("status <> 'REASSIGNED' OR reassigned_to_id IS NOT NULL",
                        name="reassigned_to"),
        Index("ix_signing_request_person_status", "person_id", "status"),
        Index("ix_signing_request_document_round", "document_id", "round", "step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"))
    #: The routing this request belongs to: 1 for the first, +1 after a return or recall.
    round: Mapped[int] = mapped_column(Integer)
    #: Order of approval within the round, from 1.
    step: Mapped[int] = mapped_column(Integer)
    #: The signer: the person whose approval this request asks for.
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    #: Who routed the document and is told when it comes back or is signed (None: the
    #: router is not a person on file, e.g. an administrator's account).
    drafter_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    status: Mapped[RequestStatus] = mapped_column(enum_type(RequestStatus, "request_status"))
    priority: Mapped[Priority] = mapped_column(PriorityType(), default=Priority.NORMAL)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Nfc())
    #: Why the signer returned the document (required for RETURNED).
    reason: Mapped[str | None] = mapped_column(Nfc())
    created_by: Mapped[str] = mapped_column(Nfc(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(Nfc(100))
    #: The request that replaced this one (status REASSIGNED).
    reassigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("signing_request.id"))

    document: Mapped[Document] = relationship()
    signer: Mapped[Person] = relationship(foreign_keys=[person_id])
    drafter: Mapped[Person | None] = relationship(foreign_keys=[drafter_id])
    reassigned_to: Mapped[SigningRequest | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return (f"<SigningRequest {self.id} doc={self.document_id} round={self.round} "
                f"step={self.step} signer={self.person_id} {self.status.name}>")


class Notification(Base):
    """An in-app message to one person, e-mailed later by :func:`send_pending`."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_person_read", "person_id", "read_at"),
        Index("ix_notification_emailed", "emailed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("document.id"))
    #: The request the message is about, when there is one.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("signing_request.id"))
    kind: Mapped[NotificationKind] = mapped_column(enum_type(NotificationKind, "notification_kind"))
    text: Mapped[str] = mapped_column(Nfc())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    person: Mapped[Person] = relationship()
    document: Mapped[Document | None] = relationship()
    request: Mapped[SigningRequest | None] = relationship()

    @property
    def subject(self) -> str:
        """The e-mail subject: the kind and, when there is one, the document's subject."""
        if self.document is None:
            return f"[Kyso] {self.kind.value}"
        return _shorten(f"[Kyso] {self.kind.value}: {self.document.subject}", 150)

    def __repr__(self) -> str:
        return f"<Notification {self.id} person={self.person_id} {self.kind.name}>"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"



# ---------------------------------------------------------------------------- a round

def round_requests(session: Session, document_id: str, round_: int,
                    *statuses: RequestStatus) -> list[SigningRequest]:
    session.flush()  # so reloading below (populate_existing) loses no change of ours
    query = select(SigningRequest).where(SigningRequest.document_id == document_id,
                                         SigningRequest.round == round_)
    if statuses:
        query = query.where(SigningRequest.status.in_(statuses))
    return list(session.scalars(query.order_by(SigningRequest.step, SigningRequest.id)
                                .execution_options(populate_existing=True)))


def current_round(session: Session, document: Document) -> int | None:
    return session.scalar(select(func.max(SigningRequest.round))
                          .where(SigningRequest.document_id == document.id))


def count_steps(session: Session, request: SigningRequest) -> int:
    return len(round_requests(session, request.document_id, request.round, *LIVE))

