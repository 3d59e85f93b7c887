"""Who may act on what: the acting account, the bodies it belongs to, the documents,
people and requests it may name. Something of another body is "not found", whether it
exists or not, so one commune cannot even learn another's ids; roles are checked after
(a member lacking the role gets :class:`~documents.errors.Forbidden`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..accounts import Role, User, bodies_of, require_role
from ..errors import Forbidden, NotFound, UnknownValue
from ..jobs import SigningJob
from ..models import Document, Organisation, Person
from ..queue import SigningRequest


def actor_of(db: Session, actor: int) -> User:
    """The acting account, by id."""
    return db.get_one(User, actor)


def member_body(db: Session, user: User, body_id: int) -> Organisation:
    """The body ``body_id`` if the caller is a member of it; else "not found"."""
    body = db.get(Organisation, body_id)
    if body is None or body.id not in {b.id for b in bodies_of(db, user)}:
        raise NotFound(f"cơ quan {body_id} / body {body_id}")
    return body


def visible_document(db: Session, user: User, document_id: str) -> Document:
    """The document, if the caller is a member of its body (else: not found, not forbidden,
    so one commune cannot even learn another's document ids)."""
    document = db.get(Document, document_id)
    if document is None or document.body_id not in {b.id for b in bodies_of(db, user)}:
        raise NotFound(f"văn bản {document_id} / document {document_id}")
    return document


def person_of(db: Session, body_id: int, person_id: int) -> Person:
    """The person ``person_id`` of the body ``body_id``; one of another body is as unknown
    as one that does not exist (422, naming nobody)."""
    person = db.get(Person, person_id)
    if person is None or person.body_id != body_id:
        raise UnknownValue("người", "person", person_id)
    return person


def signer_of(db: Session, user: User) -> Person:
    """The official the caller's account belongs to (signers act as their person); an
    account linked to nobody is refused."""
    if user.person_id is None:
        raise Forbidden(user.username, Role.SIGNER.value, Role.SIGNER.english,
                        "(tài khoản chưa gắn với người ký / account not linked to a signer)")
    return db.get_one(Person, user.person_id)


def own_request(db: Session, user: User, request_id: int) -> SigningRequest:
    """A signing request addressed to the caller's own person, in a body where they sign."""
    request = db.get(SigningRequest, request_id)
    person = signer_of(db, user)
    if request is None or request.person_id != person.id:
        raise NotFound(f"yêu cầu ký {request_id} / signing request {request_id}")
    require_role(db, user, request.document.body, Role.SIGNER)
    return request


def own_job(db: Session, user: User, job_id: str) -> SigningJob:
    """A hash-only signing job of the caller's own person."""
    job = db.get(SigningJob, job_id)
    if job is None or job.person_id != user.person_id:
        raise NotFound(f"việc ký {job_id} / signing job {job_id}")
    return job
