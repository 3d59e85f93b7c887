"""What the queue holds: a person's queue, what waits for their signature, a
document's routing history, whose decision or signature it waits for."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ..models import Document, DocumentStatus, Organisation, Person
from .records import LIVE, RequestStatus, SigningRequest, current_round, round_requests


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

