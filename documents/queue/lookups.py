"""What the queue holds: a person's queue, what waits for their signature, a
document's routing history, whose decision or signature it waits for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from ..models import Document, DocumentStatus, Organisation, Person
from ..paging import MAX_PAGE, Page, SortKey, decode_cursor, encode_cursor, past
from ..sqltypes import UtcDateTime
from .records import LIVE, RequestStatus, SigningRequest, current_round, round_requests


def my_queue(session: Session, person: Person, *,
             body: Organisation | None = None) -> list[SigningRequest]:
    """What waits for ``person``'s decision now, most urgent first.

    Ordered by priority (Hỏa tốc first), then due time (earliest first, none last),
    then arrival. ``body`` (an :class:`~documents.models.Organisation`) narrows the
    queue to one issuing body's documents, for a person who signs for several.
    """
    return list(session.scalars(_waiting(person, body).order_by(
        SigningRequest.priority.desc(), SigningRequest.due_at.is_(None),
        SigningRequest.due_at, SigningRequest.created_at, SigningRequest.id)))


def _waiting(person: Person, body: Organisation | None,
             what: Any = SigningRequest) -> Select[Any]:
    query = select(what).where(SigningRequest.person_id == person.id,
                               SigningRequest.status == RequestStatus.WAITING)
    if body is not None:
        query = query.join(Document, Document.id == SigningRequest.document_id).where(
            Document.body_id == body.id)
    return query


#: :func:`my_queue`'s order as sort keys (a request without a due time after every due one).
_NO_DUE = datetime(1970, 1, 1, tzinfo=UTC)
_DUE_MISSING: ColumnElement[int] = case((SigningRequest.due_at.is_(None), 1), else_=0)
_DUE: ColumnElement[datetime] = func.coalesce(SigningRequest.due_at,
                                              literal(_NO_DUE, UtcDateTime()))
QUEUE_ORDER = (SortKey(SigningRequest.priority, ascending=False), SortKey(_DUE_MISSING),
               SortKey(_DUE), SortKey(SigningRequest.created_at), SortKey(SigningRequest.id))
_QUEUE_KINDS = (int, int, datetime, datetime, int)


def queue_cursor(request: SigningRequest) -> str:
    return encode_cursor([int(request.priority), 1 if request.due_at is None else 0,
                          request.due_at or _NO_DUE, request.created_at, request.id])


def queue_page(session: Session, person: Person, *, body: Organisation | None = None,
               limit: int = 30, following: str | None = None) -> Page[SigningRequest]:
    """A page of :func:`my_queue`, in its order: the first ``limit`` requests, or those
    following the cursor ``following`` (a :attr:`Page.following`). A request that
    arrives later takes its place by urgency; the pages after a cursor do not move."""
    limit = max(1, min(limit, MAX_PAGE))
    query = _waiting(person, body)
    if following is not None:
        query = query.where(past(QUEUE_ORDER, decode_cursor(following, _QUEUE_KINDS)))
    order = [k.expr.asc() if k.ascending else k.expr.desc() for k in QUEUE_ORDER]
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    shown = rows[:limit]
    return Page(shown, following=queue_cursor(shown[-1]) if len(rows) > limit else None)


def queue_count(session: Session, person: Person, *, body: Organisation | None = None) -> int:
    """How many requests :func:`my_queue` holds."""
    return session.scalar(_waiting(person, body, func.count(SigningRequest.id))) or 0


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
                        later.status.in_(LIVE)).exists())
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
    round_ = current_round(session, document)
    if round_ is None:
        return None
    waiting = round_requests(session, document.id, round_, RequestStatus.WAITING)
    return waiting[0].signer if waiting else None


def current_signer(session: Session, document: Document) -> Person | None:
    """Who may now put the approval signature on ``document``, or None.

    The signer of the last step of the current round, once every step is approved
    and while the document is AWAITING_SIGNATURE; None while a step still waits, and
    for a document that is not (or no longer) in the queue.
    """
    if document.status is not DocumentStatus.AWAITING_SIGNATURE:
        return None
    round_ = current_round(session, document)
    if round_ is None:
        return None
    live = round_requests(session, document.id, round_, *LIVE)
    if live and all(r.status is RequestStatus.APPROVED for r in live):
        return live[-1].signer
    return None

