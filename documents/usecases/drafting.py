"""The drafting staff's acts: upload a draft, upload a corrected one, route it to its
signers, recall it from the queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from common import VN_TZ
from signer import UPLOADED

from ..accounts import Role, require_role
from ..audit import AuditAction, record
from ..authority import find_authority
from ..block import block_differences
from ..errors import DraftNotPrepared, UnknownValue
from ..issuance import latest_version, new_draft, replace_draft
from ..layouts import prepared_layout
from ..models import Document, Person, Priority, VersionKind
from ..queue import recall, route
from .access import actor_of, member_body, person_of, visible_document
from .ports import Tools, Upload


@dataclass(frozen=True)
class Prepared:
    """A stored draft sent to preparation: the document as it is after waiting for the
    worker (status PREPARED, or still DRAFT when it took longer), and the task's id."""

    document: Document
    task_id: str


def _prepare(db: Session, tools: Tools, document_id: str, actor: str, qr: bool | None,
             cover_draft_mark: bool, wait: float) -> Prepared:
    """Prepare the committed draft in a worker; wait up to ``wait`` seconds for the
    outcome, so that a drafter learns at once when the draft cannot be signed.

    The session must not touch the database while waiting: on SQLite every transaction
    takes the write lock, which the worker needs."""
    pending = tools.dispatcher.prepare(document_id, actor, qr, cover_draft_mark)
    outcome: Any = pending.outcome(wait)
    if isinstance(outcome, dict) and "vi" in outcome:
        raise DraftNotPrepared(document_id, outcome["vi"], outcome["en"], outcome.get("code"))
    return Prepared(db.get_one(Document, document_id), pending.id)


def upload_draft(db: Session, tools: Tools, actor: int, *, body_id: int, doc_type: str,
                 subject: str, read: Upload, file_name: str = "", unit: str | None = None,
                 qr: bool | None = None, cover_draft_mark: bool = False,
                 wait: float = 0.0) -> Prepared:
    """A drafter (or the clerk) uploads a draft PDF: checked, stored, then prepared by a
    worker. ``qr=False``: no verification QR code on page 1 even when the service prints
    them; ``cover_draft_mark``: take "DỰ THẢO" lines and watermarks off the pages
    (audited), else a draft carrying one is refused."""
    user = actor_of(db, actor)
    body = member_body(db, user, body_id)
    require_role(db, user, body, Role.DRAFTER, Role.CLERK)
    data = read()
    db.commit()  # no transaction (no SQLite write lock) while the file is checked
    tools.check_draft(data, draft_marks=True, source=file_name or UPLOADED)
    chosen = next((u for u in body.units if u.abbreviation == unit), None)
    document = new_draft(db, tools.store, body, doc_type, subject, data, unit=chosen,
                         actor=user.username, file_name=file_name, checked=True)
    document_id, username = document.id, user.username
    db.commit()
    return _prepare(db, tools, document_id, username, qr, cover_draft_mark, wait)


def upload_corrected_draft(db: Session, tools: Tools, actor: int, document_id: str, *,
                           read: Upload, file_name: str = "", cover_draft_mark: bool = False,
                           wait: float = 0.0) -> Prepared:
    """The corrected draft of a returned document, or a new draft of one whose preparation
    was refused; it is prepared again."""
    user = actor_of(db, actor)
    document = visible_document(db, user, document_id)
    require_role(db, user, document.body, Role.DRAFTER, Role.CLERK)
    data = read()
    db.commit()  # no transaction (no SQLite write lock) while the file is checked
    tools.check_draft(data, draft_marks=True, source=file_name or UPLOADED)
    replace_draft(db, tools.store, document, data, actor=user.username,
                  file_name=file_name, checked=True)
    username = user.username
    db.commit()
    return _prepare(db, tools, document_id, username, None, cover_draft_mark, wait)


def route_draft(db: Session, tools: Tools, actor: int, document_id: str,
                signer_person_ids: Sequence[int], *, due_at: datetime | None = None,
                priority: int = int(Priority.NORMAL), note: str | None = None,
                block_override: str | None = None) -> Document:
    """Send a prepared document to its signers in order; the last one signs in the draft's
    signature block, which must print them (else refused, unless ``block_override`` says
    why: audited with what differs). A time without offset is Vietnam time."""
    user = actor_of(db, actor)
    document = visible_document(db, user, document_id)
    require_role(db, user, document.body, Role.DRAFTER, Role.CLERK)
    signers = [person_of(db, document.body_id, pid) for pid in signer_person_ids]
    if due_at is not None and due_at.tzinfo is None:
        due_at = due_at.replace(tzinfo=VN_TZ)
    drafter = db.get(Person, user.person_id) if user.person_id else None
    if priority not in {int(p) for p in Priority}:
        raise UnknownValue("độ khẩn", "priority", priority, [str(int(p)) for p in Priority])
    prepared = latest_version(db, document, VersionKind.PREPARED)
    block = prepared_layout(tools.store, prepared.sha256).signature if prepared else None
    route(db, document, signers, due_at=due_at, priority=Priority(priority),
          note=note, actor=user.username, drafter=drafter, block=block,
          block_override=block_override)
    details: dict[str, Any] = {"signers": list(signer_person_ids)}
    if block_override:  # routed although the block may print someone else: say why
        authority = find_authority(db, signers[-1], document.body, document.doc_type,
                                   document.unit)
        assert authority is not None  # route() checked it
        details.update(block_override=block_override, block_differences=[
            d.en for d in block_differences(block, signers[-1], authority)])
    record(db, AuditAction.ROUTE, actor=user.username, body_id=document.body_id,
           object_type="document", object_id=document.id, details=details)
    db.commit()
    return document


def recall_draft(db: Session, actor: int, document_id: str) -> Document:
    """Take a routed document back from its signers' queue."""
    user = actor_of(db, actor)
    document = visible_document(db, user, document_id)
    require_role(db, user, document.body, Role.DRAFTER, Role.CLERK)
    recall(db, document, actor=user.username)
    db.commit()
    return document
