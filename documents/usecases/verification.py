"""Verifying signed files as a member of a body: against what that body trusts, each file
an audit event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from certs import TrustStore
from common import KysoError
from signer import Report, qr_links

from ..accounts import bodies_of
from ..audit import AuditAction, record
from ..errors import NotFound
from ..matching import Comparison, check_against, match_claimed, match_file, public_relation
from ..models import Document
from .access import actor_of
from .ports import Tools, Upload


def trust_of(db: Session, tools: Tools, actor: int, body_id: int | None = None) -> TrustStore:
    """What a member's verification trusts: the bundled and demo roots, the province-wide
    anchors and the anchors of ``body_id`` — or, without one, of every body the caller
    is a member of. Another body's anchors never count (a body the caller is not a
    member of is not found, as everywhere)."""
    member = [b.id for b in bodies_of(db, actor_of(db, actor))]
    if body_id is not None and body_id not in member:
        raise NotFound(f"cơ quan {body_id} / body {body_id}")
    return tools.trust_for(db, [body_id] if body_id is not None else member)


def verify_file(db: Session, tools: Tools, actor: int, read: Upload, name: str,
                trust: TrustStore | None = None) -> Report:
    """Verify one file and record its VERIFY audit event (not committed: see
    :func:`verify_files`). ``trust`` (default :func:`trust_of` the caller's bodies) is what
    it is checked against. What the session did so far is committed first: no
    transaction (on SQLite, no write lock) is open while the file is verified in its
    child process."""
    user = actor_of(db, actor)
    data = read()
    store = trust if trust is not None else trust_of(db, tools, actor)
    db.commit()
    report = tools.verify_report(data, name, store)
    record(db, AuditAction.VERIFY, actor=user.username, object_type="file",
           object_id=report.sha256, details={"verdict": str(report.verdict), "file": name})
    return report


def verify_files(db: Session, tools: Tools, actor: int, files: Sequence[tuple[str, Upload]],
                 body_id: int | None = None) -> list[Report]:
    """Verify ``(name, read)`` files for ``body_id`` (else for every body of the caller),
    one audit event each, committed together."""
    store = trust_of(db, tools, actor, body_id)
    reports = [verify_file(db, tools, actor, read, name, store) for name, read in files]
    db.commit()
    return reports


def refused(report: Report) -> bool:
    """Whether the file was refused before verification (hostile structure, limits)."""
    return any(r.code.startswith("refused_") for r in report.reasons)


def register_match(db: Session, actor: int, read: Upload, report: Report,
                   body_id: int | None = None) -> dict[str, Any] | None:
    """What the register knows of a verified file: by SHA-256, else by the link printed on
    it. Drafts and approvals only of the caller's bodies (of ``body_id`` alone, when the
    verification is for one body)."""
    found = match_file(db, report.sha256)
    if found is None and not refused(report):
        db.commit()  # no transaction open while pdfminer reads the file
        found = match_claimed(db, qr_links(read()))
    own = {b.id for b in bodies_of(db, actor_of(db, actor))} if body_id is None else {body_id}
    if found is None or not (public_relation(found) or found.body_id in own):
        return None
    return found.to_dict()


@dataclass(frozen=True)
class Checked:
    """One file of a batch: its report and what the register says of it, or why it could
    not be verified."""

    name: str
    report: Report | None
    problem: KysoError | None = None
    register: dict[str, Any] | None = None


def verify_each(db: Session, tools: Tools, actor: int, files: Sequence[tuple[str, Upload]],
                body_id: int) -> list[Checked]:
    """Verify every readable file of a batch for ``body_id`` (one audit event each): a file
    that cannot be verified is named with its reason, the others are still verified."""
    store = trust_of(db, tools, actor, body_id)
    done = []
    for name, read in files:
        try:
            report = verify_file(db, tools, actor, read, name, store)
        except KysoError as exc:  # this file only: the others are still verified
            db.rollback()
            done.append(Checked(name, None, exc))
            continue
        done.append(Checked(name, report, register=register_match(db, actor, read, report,
                                                                  body_id)))
    db.commit()
    return done


#: Who the audit trail says verified a file on the public page.
PUBLIC_ACTOR = "công khai"


def public_check(db: Session, document_id: str, report: Report, name: str) -> Comparison:
    """Anyone holding the document's link verified a file (``report``): is it exactly the
    issued version? Audited as a VERIFY by :data:`PUBLIC_ACTOR` on the document (the file
    is not stored), committed."""
    document = db.get_one(Document, document_id)
    answer = check_against(db, document, report.sha256)
    found = answer.match
    record(db, AuditAction.VERIFY, actor=PUBLIC_ACTOR, body_id=document.body_id,
           object_type="document", object_id=document.id,
           details={"public": True, "file": name, "sha256": report.sha256,
                    "verdict": str(report.verdict), "genuine": answer.genuine,
                    "relation": found.relation.name if found else None})
    db.commit()
    return answer
