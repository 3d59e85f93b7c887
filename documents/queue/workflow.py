"""The queue's acts: route, approve (one or a batch), return, recall, reassign, and
reopening a request whose server-side signature failed for good.

Who may act (only the signer approves their request, only the drafter recalls…) is the
caller's check; these functions check the state and the signing authority. None of
them commits. Every transition first locks the document row (row lock on PostgreSQL;
SQLite serialises writers with ``BEGIN IMMEDIATE``) and reloads the request, so two
people acting at once cannot both approve the same request or approve a request being
recalled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from signer import SignatureBlock

from ..authority import find_authority
from ..block import block_differences, overridable
from ..errors import (
    BlockMismatch,
    DuplicateSigner,
    MissingReturnReason,
    NoSigners,
    NoSigningAuthority,
    WrongRequestStatus,
    WrongStep,
)
from ..jobs import cancel_jobs
from ..models import Document, DocumentStatus, Person, Priority
from ..numbering import lock_document
from ..sqltypes import nfc, utc_now
from .lookups import current_signer
from .notices import describe, notify, notify_waiting
from .records import (
    LIVE,
    OPEN,
    NotificationKind,
    RequestStatus,
    SigningRequest,
    count_steps,
    current_round,
    round_requests,
)


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
    round_ = (current_round(session, document) or 0) + 1
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
    notify_waiting(session, requests[0], len(requests))
    session.flush()
    return requests



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
    pending = round_requests(session, request.document_id, request.round,
                              RequestStatus.PENDING)
    steps = count_steps(session, request)
    what = describe(request.document)
    if pending:
        following = pending[0]
        following.status = RequestStatus.WAITING
        notify_waiting(session, following, steps)
        text = (f"{request.signer.full_name} đã duyệt {what} (bước {request.step}/{steps}); "
                f"văn bản được chuyển đến {following.signer.full_name}.")
    else:
        text = f"{request.signer.full_name} đã duyệt {what}; văn bản chờ ký số."
    notify(session, request.drafter_id, NotificationKind.APPROVED, text,
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
    closed = round_requests(session, request.document_id, request.round, *OPEN)
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
    notify(session, request.drafter_id, NotificationKind.RETURNED,
            f"{request.signer.full_name} đã trả lại {describe(document)}. Lý do: {reason}",
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
    round_ = current_round(session, document)
    assert round_ is not None, "a document awaiting signature has been routed"
    waiting_for = current_signer(session, document)
    recalled = []
    now = utc_now()
    for request in round_requests(session, document.id, round_, *OPEN):
        if request.status is RequestStatus.WAITING:
            waiting_for = request.signer
        request.status = RequestStatus.RECALLED
        request.decided_at = now
        request.decided_by = actor
        recalled.append(request)
    document.status = DocumentStatus.DRAFT
    cancel_jobs(session, document)  # digests prepared for an agent are void now
    if waiting_for is not None:
        notify(session, waiting_for, NotificationKind.WITHDRAWN,
                f"{describe(document)} đã được người trình rút lại ({actor}); "
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
    _require_request(request, "chuyển người khác", "reassigned", *OPEN)
    _require_document(document, DocumentStatus.AWAITING_SIGNATURE)
    live = round_requests(session, document.id, request.round, *LIVE)
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
        notify_waiting(session, replacement, len(live))
        notify(session, request.person_id, NotificationKind.WITHDRAWN,
                f"{describe(document)} đã được chuyển cho {new_signer.full_name} xử lý "
                f"({actor}); văn bản không còn chờ ông/bà.", document, request)
    session.flush()
    return replacement



def reopen_after_failure(session: Session, document: Document, person: Person,
                         reason: str) -> SigningRequest | None:
    """``person``'s server-side approval signature failed for good: their approved
    request waits for them again, the reason stays on the document (``problem``), and the
    signer and the drafter are told. None when no approved request of theirs waits for
    the signature (the document moved on meanwhile)."""
    if document.status is not DocumentStatus.AWAITING_SIGNATURE:
        return None
    round_ = current_round(session, document)
    live = round_requests(session, document.id, round_, *LIVE) if round_ else []
    if not live or live[-1].person_id != person.id \
            or live[-1].status is not RequestStatus.APPROVED:
        return None
    request = live[-1]
    request.status = RequestStatus.WAITING
    request.decided_at = None
    request.decided_by = None
    document.problem = reason[:1000]
    what = describe(document)
    notify(session, person, NotificationKind.WAITING,
            f"Ký số {what} không thành công: {reason}. Văn bản trở lại hàng chờ ký; "
            "xử lý nguyên nhân rồi duyệt lại.", document, request)
    notify(session, request.drafter_id, NotificationKind.WAITING,
            f"{person.full_name} chưa ký số được {what}: {reason}. Văn bản vẫn chờ ký.",
            document, request)
    session.flush()
    return request

