"""The signing queue (hàng chờ ký) and the notifications it sends.

A drafter (chuyên viên) routes a prepared document to one or more people who hold
signing authority for it; they approve in order, or return it with a reason; the
drafter may recall it before it is signed, and a waiting request may be reassigned
to another competent person::

    PREPARED ──route──▶ AWAITING_SIGNATURE ──(every step approved)──▶ ready to sign
        ▲                    │   │                                    (current_signer)
        │ prepare again      │   └──return (reason)──▶ RETURNED (drafter fixes it)
        └── DRAFT ◀──recall──┘

    request:  PENDING ──(previous step approved)──▶ WAITING ──approve──▶ APPROVED
                 │                                    │ return ──▶ RETURNED (later steps
                 │                                    │                       CANCELLED)
                 └──────────── recall ────────────────┴──▶ RECALLED
                 └──────────── reassign ──────────────┴──▶ REASSIGNED (+ a new request)

Each routing is a *round* (lần trình) of a document: steps 1, 2, … of that round
are approved in order; only the lowest unapproved step is WAITING, later ones are
PENDING. A return or a recall closes the round; routing again opens the next one.

The queue and the signing act are kept apart: approving the last step does not
sign — the document stays AWAITING_SIGNATURE and :func:`current_signer` names the
person whose approval signature :func:`documents.issuance.approve` should accept.

**The drafter is a** :class:`~documents.models.Person`, not a name: notifications
are rows addressed to a person (and e-mailed to that person's address), so
:func:`route` takes ``drafter=`` and every request of the round keeps ``drafter_id``.
When the account routing the document is not a person on file (``drafter=None``),
nobody is told when it comes back or is signed; the document's status still says
so. The signer of a request is ``person_id`` / ``signer``. ``actor``
arguments are the free text recorded in ``created_by`` / ``decided_by`` (the
login name or full name the caller chooses), as elsewhere in ``documents``.
Who may act (only the signer approves their request, only the drafter recalls…)
is the caller's check; these functions check the state and the signing authority.

None of these functions commits. Every transition first locks the document row
(row lock on PostgreSQL; SQLite serialises writers with ``BEGIN IMMEDIATE``) and
reloads the request, so two people acting at once cannot both approve the same
request or approve a request being recalled.

Notifications: every transition writes in-app :class:`Notification` rows (the
signer when something waits for them or leaves their queue, the drafter when the
document is approved, comes back or is signed/issued). :func:`send_pending` e-mails
those not yet e-mailed through a :class:`Mailer`; a failure leaves them pending.
"""

from __future__ import annotations

import enum
import smtplib
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    func,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from signer import SignatureBlock

from .authority import find_authority
from .block import block_differences, overridable
from .errors import (
    BlockMismatch,
    DuplicateSigner,
    MailFailed,
    MissingReturnReason,
    NoSigners,
    NoSigningAuthority,
    WrongRequestStatus,
    WrongStep,
)
from .jobs import cancel_jobs
from .models import Base, Document, DocumentStatus, Organisation, Person, Priority, _enum
from .numbering import lock_document
from .sqltypes import Nfc, UtcDateTime, nfc, utc_now

#: Vietnam time (UTC+7, no daylight saving): how times are written in notifications.
VIETNAM = timezone(timedelta(hours=7), "ICT")

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
_LIVE = (RequestStatus.PENDING, RequestStatus.WAITING, RequestStatus.APPROVED)
#: Requests still to be decided.
_OPEN = (RequestStatus.PENDING, RequestStatus.WAITING)


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
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus, "request_status"))
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
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind, "notification_kind"))
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


# ---------------------------------------------------------------------------- texts

def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _when(moment: datetime) -> str:
    local = moment.astimezone(VIETNAM)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def _describe(document: Document) -> str:
    return f"{document.doc_type.name} “{document.subject}”"


def _notify(session: Session, person: Person | int | None, kind: NotificationKind, text: str,
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
    parts = [f"Văn bản chờ ký: {_describe(request.document)}."]
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


def _notify_waiting(session: Session, request: SigningRequest,
                    steps: int) -> Notification | None:
    return _notify(session, request.signer, NotificationKind.WAITING,
                   _waiting_text(request, steps), request.document, request)


# ---------------------------------------------------------------------------- checks

def _actor(actor: str) -> str:
    actor = nfc(actor.strip())
    if not actor:
        raise ValueError("actor is required (who did this)")
    return actor


def _require_document(document: Document, *statuses: DocumentStatus) -> None:
    if document.status not in statuses:
        raise WrongStep(document.status.value, " / ".join(s.value for s in statuses))


def _require_request(request: SigningRequest, action_vi: str, action_en: str,
                     *statuses: RequestStatus) -> None:
    if request.status not in statuses:
        raise WrongRequestStatus(request.status.value, request.status.name.lower(),
                                 action_vi, action_en)


def _require_authority(session: Session, person: Person, document: Document) -> None:
    if find_authority(session, person, document.body, document.doc_type,
                      document.unit) is None:
        raise NoSigningAuthority(person.full_name, document.doc_type.name, document.body.name)


def _lock(session: Session, *documents: Document) -> None:
    """Lock the documents' rows (in a fixed order, so two batches cannot deadlock)."""
    for document in sorted(set(documents), key=lambda d: d.id):
        lock_document(session, document)


def _reload(session: Session, request: SigningRequest) -> None:
    """The request as committed by whoever held the document lock before us."""
    session.refresh(request)


def _round_requests(session: Session, document_id: str, round_: int,
                    *statuses: RequestStatus) -> list[SigningRequest]:
    session.flush()  # so reloading below (populate_existing) loses no change of ours
    query = select(SigningRequest).where(SigningRequest.document_id == document_id,
                                         SigningRequest.round == round_)
    if statuses:
        query = query.where(SigningRequest.status.in_(statuses))
    return list(session.scalars(query.order_by(SigningRequest.step, SigningRequest.id)
                                .execution_options(populate_existing=True)))


def _current_round(session: Session, document: Document) -> int | None:
    return session.scalar(select(func.max(SigningRequest.round))
                          .where(SigningRequest.document_id == document.id))


def _steps(session: Session, request: SigningRequest) -> int:
    return len(_round_requests(session, request.document_id, request.round, *_LIVE))


# ---------------------------------------------------------------------------- routing

def route(session: Session, document: Document, signers: Sequence[Person], *,
          actor: str, drafter: Person | None = None, due_at: datetime | None = None,
          priority: Priority = Priority.NORMAL, note: str | None = None,
          block: SignatureBlock | None = None,
          block_override: str | None = None) -> list[SigningRequest]:
    """Send a prepared document to ``signers``, who approve in the order given.

    ``block`` is the draft's signature block: the last signer signs in it, so it must
    print their name, title and designation (:class:`BlockMismatch` otherwise). A title
    or designation printed otherwise may be sent all the same when ``block_override``
    gives the drafter's reason (the caller records it in the audit trail); another
    person's name, never.

    One request per signer (step 1, 2, …): the first is WAITING, the others PENDING
    until the step before is approved. Every signer must hold signing authority for
    the document's type, body and unit; the same person cannot appear twice. The
    document becomes AWAITING_SIGNATURE and the first signer is notified. ``drafter``
    is told when it comes back, is approved or signed (see the module docstring).
    ``due_at`` must be an aware time (stored in UTC).
    """
    actor = _actor(actor)
    if due_at is not None and due_at.tzinfo is None:
        raise ValueError("naive due_at: pass an aware time (UTC or Vietnam time)")
    if not signers:
        raise NoSigners()
    seen: set[int] = set()
    for person in signers:
        if person.id in seen:
            raise DuplicateSigner(person.full_name)
        seen.add(person.id)
    _lock(session, document)
    _require_document(document, DocumentStatus.PREPARED)
    for person in signers:
        _require_authority(session, person, document)
    last = signers[-1]
    authority = find_authority(session, last, document.body, document.doc_type, document.unit)
    assert authority is not None  # checked just above
    differences = block_differences(block, last, authority)
    if differences and not (overridable(differences) and block_override
                            and block_override.strip()):
        raise BlockMismatch([(d.vi, d.en) for d in differences])
    round_ = (_current_round(session, document) or 0) + 1
    requests = [
        SigningRequest(document=document, round=round_, step=step, signer=person,
                       drafter=drafter,
                       status=RequestStatus.WAITING if step == 1 else RequestStatus.PENDING,
                       priority=Priority(priority), due_at=due_at,
                       note=nfc(note.strip()) if note and note.strip() else None,
                       created_by=actor)
        for step, person in enumerate(signers, start=1)]
    session.add_all(requests)
    document.status = DocumentStatus.AWAITING_SIGNATURE
    _notify_waiting(session, requests[0], len(requests))
    session.flush()
    return requests


def my_queue(session: Session, person: Person, *,
             body: Organisation | None = None) -> list[SigningRequest]:
    """What waits for ``person``'s decision now, most urgent first.

    Ordered by priority (Hỏa tốc first), then due time (earliest first, none last),
    then arrival. ``body`` (an :class:`~documents.models.Organisation`) narrows the
    queue to one issuing body's documents, for a person who signs for several.
    """
    query = select(SigningRequest).where(SigningRequest.person_id == person.id,
                                         SigningRequest.status == RequestStatus.WAITING)
    if body is not None:
        query = query.join(Document, Document.id == SigningRequest.document_id).where(
            Document.body_id == body.id)
    return list(session.scalars(query.order_by(
        SigningRequest.priority.desc(), SigningRequest.due_at.is_(None),
        SigningRequest.due_at, SigningRequest.created_at, SigningRequest.id)))


def to_sign(session: Session, person: Person) -> list[SigningRequest]:
    """The last-step requests ``person`` approved whose document still waits for the
    signature: the jobs a signing agent or the signing page picks up."""
    later = aliased(SigningRequest)
    latest_round = (select(func.max(SigningRequest.round))
                    .where(SigningRequest.document_id == Document.id)
                    .correlate(Document).scalar_subquery())
    query = (select(SigningRequest)
             .join(Document, Document.id == SigningRequest.document_id)
             .where(SigningRequest.person_id == person.id,
                    SigningRequest.status == RequestStatus.APPROVED,
                    Document.status == DocumentStatus.AWAITING_SIGNATURE,
                    SigningRequest.round == latest_round,
                    ~select(later.id).where(
                        later.document_id == SigningRequest.document_id,
                        later.round == SigningRequest.round,
                        later.step > SigningRequest.step,
                        later.status.in_(_LIVE)).exists())
             .order_by(SigningRequest.priority.desc(), SigningRequest.decided_at,
                       SigningRequest.id))
    return list(session.scalars(query))


def requests_of(session: Session, document: Document) -> list[SigningRequest]:
    """Every request of ``document``, every round, in order: its routing history."""
    return list(session.scalars(select(SigningRequest)
                                .where(SigningRequest.document_id == document.id)
                                .order_by(SigningRequest.round, SigningRequest.step,
                                          SigningRequest.id)))


def waiting_for(session: Session, document: Document) -> Person | None:
    """Whose decision the queue waits for now (the WAITING request's signer), or None
    (not in the queue, or every step approved: then see :func:`current_signer`)."""
    if document.status is not DocumentStatus.AWAITING_SIGNATURE:
        return None
    round_ = _current_round(session, document)
    if round_ is None:
        return None
    waiting = _round_requests(session, document.id, round_, RequestStatus.WAITING)
    return waiting[0].signer if waiting else None


def current_signer(session: Session, document: Document) -> Person | None:
    """Who may now put the approval signature on ``document``, or None.

    The signer of the last step of the current round, once every step is approved
    and while the document is AWAITING_SIGNATURE; None while a step still waits, and
    for a document that is not (or no longer) in the queue.
    """
    if document.status is not DocumentStatus.AWAITING_SIGNATURE:
        return None
    round_ = _current_round(session, document)
    if round_ is None:
        return None
    live = _round_requests(session, document.id, round_, *_LIVE)
    if live and all(r.status is RequestStatus.APPROVED for r in live):
        return live[-1].signer
    return None


# ---------------------------------------------------------------------------- decisions

def _check_approvable(session: Session, request: SigningRequest) -> None:
    _reload(session, request)
    _require_request(request, "duyệt", "approved", RequestStatus.WAITING)
    _require_document(request.document, DocumentStatus.AWAITING_SIGNATURE)
    _require_authority(session, request.signer, request.document)


def _apply_approval(session: Session, request: SigningRequest, actor: str) -> None:
    request.status = RequestStatus.APPROVED
    request.decided_at = utc_now()
    request.decided_by = actor
    pending = _round_requests(session, request.document_id, request.round,
                              RequestStatus.PENDING)
    steps = _steps(session, request)
    what = _describe(request.document)
    if pending:
        following = pending[0]
        following.status = RequestStatus.WAITING
        _notify_waiting(session, following, steps)
        text = (f"{request.signer.full_name} đã duyệt {what} (bước {request.step}/{steps}); "
                f"văn bản được chuyển đến {following.signer.full_name}.")
    else:
        text = f"{request.signer.full_name} đã duyệt {what}; văn bản chờ ký số."
    _notify(session, request.drafter_id, NotificationKind.APPROVED, text,
            request.document, request)


def approve_request(session: Session, request: SigningRequest, *,
                    actor: str) -> SigningRequest:
    """Approve a WAITING request: the next step becomes WAITING (and is notified), or,
    after the last step, the document is ready for :func:`current_signer`'s signature.

    The signer's authority is checked again (it may have ended since routing).
    """
    actor = _actor(actor)
    _lock(session, request.document)
    _check_approvable(session, request)
    _apply_approval(session, request, actor)
    session.flush()
    return request


def approve_batch(session: Session, requests: Iterable[SigningRequest], *,
                  actor: str) -> list[SigningRequest]:
    """Approve several requests at once — all of them, or (on any refusal) none.

    Every request is checked before any is changed; a request given twice counts once.
    """
    actor = _actor(actor)
    unique = list({id(r): r for r in requests}.values())
    _lock(session, *(r.document for r in unique))
    for request in unique:
        _check_approvable(session, request)
    for request in unique:
        _apply_approval(session, request, actor)
    session.flush()
    return unique


def _close_round(session: Session, request: SigningRequest, status: RequestStatus,
                 actor: str) -> list[SigningRequest]:
    """Mark every still-open request of ``request``'s round ``status``; return them."""
    closed = _round_requests(session, request.document_id, request.round, *_OPEN)
    now = utc_now()
    for other in closed:
        other.status = status
        other.decided_at = now
        other.decided_by = actor
    return closed


def return_request(session: Session, request: SigningRequest, reason: str, *,
                   actor: str) -> SigningRequest:
    """The signer sends the document back to the drafter with a reason.

    The request becomes RETURNED, later steps CANCELLED, the document RETURNED (the
    drafter fixes it, prepares it again and routes a new round); the drafter is told
    why.
    """
    actor = _actor(actor)
    reason = nfc(reason.strip()) if reason else ""
    if not reason:
        raise MissingReturnReason()
    document = request.document
    _lock(session, document)
    _reload(session, request)
    _require_request(request, "trả lại", "returned", RequestStatus.WAITING)
    _require_document(document, DocumentStatus.AWAITING_SIGNATURE)
    _close_round(session, request, RequestStatus.CANCELLED, actor)
    request.status = RequestStatus.RETURNED
    request.reason = reason
    document.status = DocumentStatus.RETURNED
    _notify(session, request.drafter_id, NotificationKind.RETURNED,
            f"{request.signer.full_name} đã trả lại {_describe(document)}. Lý do: {reason}",
            document, request)
    session.flush()
    return request


def recall(session: Session, document: Document, *, actor: str) -> list[SigningRequest]:
    """The drafter takes the document back before it is signed.

    Allowed while the document is AWAITING_SIGNATURE (also after every step is
    approved, as long as nobody has signed). Open requests become RECALLED; the
    document goes back to DRAFT (prepare it again to route it again); whoever it was
    waiting for is told. Returns the requests recalled.
    """
    actor = _actor(actor)
    _lock(session, document)
    _require_document(document, DocumentStatus.AWAITING_SIGNATURE)
    round_ = _current_round(session, document)
    assert round_ is not None, "a document awaiting signature has been routed"
    waiting_for = current_signer(session, document)
    recalled = []
    now = utc_now()
    for request in _round_requests(session, document.id, round_, *_OPEN):
        if request.status is RequestStatus.WAITING:
            waiting_for = request.signer
        request.status = RequestStatus.RECALLED
        request.decided_at = now
        request.decided_by = actor
        recalled.append(request)
    document.status = DocumentStatus.DRAFT
    cancel_jobs(session, document)  # digests prepared for an agent are void now
    if waiting_for is not None:
        _notify(session, waiting_for, NotificationKind.WITHDRAWN,
                f"{_describe(document)} đã được người trình rút lại ({actor}); "
                "văn bản không còn chờ ông/bà xử lý.", document)
    session.flush()
    return recalled


def reassign(session: Session, request: SigningRequest, new_signer: Person, *,
             actor: str) -> SigningRequest:
    """Give a WAITING or PENDING request to another person who holds authority.

    The old request becomes REASSIGNED and points to the new one, which takes its
    step, status, priority, due time and note. The new signer is told when the
    request waits for them; the old signer when it left their queue. Returns the
    new request.
    """
    actor = _actor(actor)
    document = request.document
    _lock(session, document)
    _reload(session, request)
    _require_request(request, "chuyển người khác", "reassigned", *_OPEN)
    _require_document(document, DocumentStatus.AWAITING_SIGNATURE)
    live = _round_requests(session, document.id, request.round, *_LIVE)
    if any(r.person_id == new_signer.id for r in live):
        raise DuplicateSigner(new_signer.full_name)
    _require_authority(session, new_signer, document)
    replacement = SigningRequest(
        document=document, round=request.round, step=request.step, signer=new_signer,
        drafter_id=request.drafter_id, status=request.status, priority=request.priority,
        due_at=request.due_at, note=request.note, created_by=actor)
    session.add(replacement)
    session.flush()
    was_waiting = request.status is RequestStatus.WAITING
    request.status = RequestStatus.REASSIGNED
    request.reassigned_to = replacement
    request.decided_at = utc_now()
    request.decided_by = actor
    if was_waiting:
        _notify_waiting(session, replacement, len(live))
        _notify(session, request.person_id, NotificationKind.WITHDRAWN,
                f"{_describe(document)} đã được chuyển cho {new_signer.full_name} xử lý "
                f"({actor}); văn bản không còn chờ ông/bà.", document, request)
    session.flush()
    return replacement


# ---------------------------------------------------------------------------- other news

def _drafter_of(session: Session, document: Document) -> int | None:
    round_ = _current_round(session, document)
    if round_ is None:
        return None
    return session.scalar(select(SigningRequest.drafter_id).where(
        SigningRequest.document_id == document.id, SigningRequest.round == round_).limit(1))


def reopen_after_failure(session: Session, document: Document, person: Person,
                         reason: str) -> SigningRequest | None:
    """``person``'s server-side approval signature failed for good: their approved
    request waits for them again, the reason stays on the document (``problem``), and the
    signer and the drafter are told. None when no approved request of theirs waits for
    the signature (the document moved on meanwhile)."""
    if document.status is not DocumentStatus.AWAITING_SIGNATURE:
        return None
    round_ = _current_round(session, document)
    live = _round_requests(session, document.id, round_, *_LIVE) if round_ else []
    if not live or live[-1].person_id != person.id \
            or live[-1].status is not RequestStatus.APPROVED:
        return None
    request = live[-1]
    request.status = RequestStatus.WAITING
    request.decided_at = None
    request.decided_by = None
    document.problem = reason[:1000]
    what = _describe(document)
    _notify(session, person, NotificationKind.WAITING,
            f"Ký số {what} không thành công: {reason}. Văn bản trở lại hàng chờ ký; "
            "xử lý nguyên nhân rồi duyệt lại.", document, request)
    _notify(session, request.drafter_id, NotificationKind.WAITING,
            f"{person.full_name} chưa ký số được {what}: {reason}. Văn bản vẫn chờ ký.",
            document, request)
    session.flush()
    return request


def notify_signed(session: Session, document: Document, signer: Person) -> Notification | None:
    """Tell the drafter that ``signer`` has signed (call after
    :func:`documents.issuance.approve`); None when there is no drafter to tell."""
    drafter = _drafter_of(session, document)
    notification = _notify(
        session, drafter, NotificationKind.APPROVED,
        f"{signer.full_name} đã ký số {_describe(document)}; "
        "văn bản chờ văn thư cấp số và ban hành.", document)
    session.flush()
    return notification


def notify_issued(session: Session, document: Document,
                  number_symbol: str | None = None) -> Notification | None:
    """Tell the drafter the document was issued (call after :func:`documents.issuance.issue`);
    None when there is no drafter to tell."""
    drafter = _drafter_of(session, document)
    number = f", số {number_symbol}" if number_symbol else ""
    notification = _notify(session, drafter, NotificationKind.ISSUED,
                           f"{_describe(document)} đã được ban hành{number}.", document)
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
        notification = _notify(
            session, request.person_id, NotificationKind.OVERDUE,
            f"{_describe(request.document)} đã quá hạn xử lý ({_when(request.due_at)}).",
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


# ---------------------------------------------------------------------------- e-mail

class Mailer(Protocol):
    """Delivers one e-mail; raises :class:`~documents.errors.MailFailed` when it cannot."""

    def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    """E-mail through an SMTP server (smtplib), one connection per message.

    ``starttls`` upgrades the connection before logging in (``ssl_context`` defaults
    to the system's trust store); ``username`` and ``password`` log in when given.
    Messages are UTF-8 (subject as RFC 2047 words, body as UTF-8 text).
    """

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body, charset="utf-8")
        return message

    def send(self, to: str, subject: str, body: str) -> None:
        message = self.message(to, subject, body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
            # this address or this message only
            raise MailFailed(to, f"{type(exc).__name__}: {exc}", server_down=False) from exc
        except (smtplib.SMTPException, OSError, UnicodeError) as exc:
            # unreachable, TLS, login or sender refused (smtplib logs in with ASCII
            # only): nothing will go through until the server or the settings change
            raise MailFailed(to, f"{type(exc).__name__}: {exc}", server_down=True) from exc


#: Closes every e-mailed notification.
MAIL_FOOTER = ("\n\n—\nThư tự động của hệ thống Kyso; vui lòng không trả lời thư này. "
               "Xem và xử lý văn bản trong hệ thống.")


@dataclass
class MailReport:
    """What :func:`send_pending` did: ids sent, ids failed (with the error), ids of
    people without an address (left pending)."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, MailFailed] = field(default_factory=dict)
    no_address: list[int] = field(default_factory=list)
    #: True when the server could not be reached and the run stopped early.
    stopped: bool = False


def send_pending(session: Session, mailer: Mailer,
                 address_of: Callable[[Person], str | None], *,
                 limit: int | None = None) -> MailReport:
    """E-mail the notifications not yet e-mailed nor read, oldest first.

    ``emailed_at`` is set only after the mailer accepted the message; a failure
    leaves the notification pending for the next run, never lost. A message refused
    for one address does not stop the others; a server that cannot be reached stops
    the run (the rest stay pending). A person ``address_of`` gives no address for is
    skipped (in-app only). A notification already read in the app is not e-mailed.
    Delivery is at least once: the caller commits after the run, and a crash before
    that commit sends those messages again next time. On PostgreSQL the rows are
    locked (SKIP LOCKED), so two senders running at once do not send the same one.
    """
    query = (select(Notification)
             .where(Notification.emailed_at.is_(None), Notification.read_at.is_(None))
             .order_by(Notification.id).with_for_update(skip_locked=True))
    if limit is not None:
        query = query.limit(limit)
    report = MailReport()
    for notification in session.scalars(query).all():
        address = address_of(notification.person)
        if not address:
            report.no_address.append(notification.id)
            continue
        try:
            mailer.send(address, notification.subject, notification.text + MAIL_FOOTER)
        except MailFailed as exc:
            report.failed[notification.id] = exc
            if exc.server_down:
                report.stopped = True
                break
            continue
        notification.emailed_at = utc_now()
        report.sent.append(notification.id)
    session.flush()
    return report


__all__ = [
    "MAIL_FOOTER",
    "PRIORITY_NAMES",
    "MailReport",
    "Mailer",
    "Notification",
    "NotificationKind",
    "PriorityType",
    "RequestStatus",
    "SigningRequest",
    "SmtpMailer",
    "approve_batch",
    "approve_request",
    "current_signer",
    "mark_read",
    "my_queue",
    "notify_issued",
    "notify_overdue",
    "notify_signed",
    "reassign",
    "recall",
    "requests_of",
    "return_request",
    "route",
    "send_pending",
    "to_sign",
    "unread",
    "waiting_for",
]
