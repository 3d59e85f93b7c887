"""The records clerk's issuing acts: number, date, register and seal a signed document;
sign an attachment in its own file; make an electronic copy. They name no key and no
date: the body's organisation key follows from the clerk's body (:mod:`documents.custody`),
the date is the day of the organisation signature. Each is queued for the host of that
key, after the commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from signer import CopyKind

from ..custody import Act, issuing_custody
from ..errors import enum_member
from ..models import Document
from .access import actor_of, visible_document
from .ports import Tools, Upload


@dataclass(frozen=True)
class Queued:
    """An issuing act sent to the key's host: the task, the document it is about, and the
    attachment's stored name or the copy's request key."""

    task_id: str
    document: Document
    file_name: str | None = None
    request_key: str | None = None


def issue_document(db: Session, tools: Tools, actor: int, document_id: str,
                   recipients: str = "") -> Queued:
    """Number, date, register and seal the signed document, for ``recipients``."""
    user = actor_of(db, actor)
    document = visible_document(db, user, document_id)
    custody = issuing_custody(db, user, document.body, Act.ISSUE)
    ids = (document.id, user.id)  # read before the commit: no transaction open after it
    db.commit()  # enqueue only after the commit
    task_id = tools.dispatcher.issue(*ids, recipients, custody.queue)
    return Queued(task_id, document)


def attach_file(db: Session, tools: Tools, actor: int, document_id: str, *, read: Upload,
                file_name: str = "") -> Queued:
    """Sign an attachment of the document in its own file with the organisation key; the
    file is checked now (broken, encrypted or active: refused), not in the worker."""
    user = actor_of(db, actor)
    document = visible_document(db, user, document_id)
    custody = issuing_custody(db, user, document.body, Act.ATTACHMENT)
    data = read()
    ids = (document.id, user.id)  # read before the commit: no transaction open after it
    db.commit()  # no transaction (no SQLite write lock) while the file is checked
    tools.check_draft(data, attachment=True)
    sha256 = tools.store.put(data)
    name = f"{sha256[:12]}-{file_name or 'phu-luc.pdf'}"
    task_id = tools.dispatcher.sign_attachment(*ids, sha256, name,
                                               custody.queue)
    return Queued(task_id, document, file_name=name)


def copy_document(db: Session, tools: Tools, actor: int, document_id: str,
                  kind: str = CopyKind.SAO_Y.name) -> Queued:
    """An electronic copy (SAO_Y, TRICH_SAO, SAO_LUC) numbered in the copies book."""
    user = actor_of(db, actor)
    document = visible_document(db, user, document_id)
    custody = issuing_custody(db, user, document.body, Act.COPY)
    enum_member(CopyKind, kind, "loại bản sao", "copy kind")  # else the worker fails
    key = uuid.uuid4().hex
    ids = (document.id, user.id)  # read before the commit: no transaction open after it
    db.commit()  # enqueue only after the commit
    task_id = tools.dispatcher.make_copy(*ids, kind, key, custody.queue)
    return Queued(task_id, document, request_key=key)
