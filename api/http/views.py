"""The JSON shapes of the domain's rows, shared by the routes and the web pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from certs import Origin, TrustedCert
from documents import (
    PROVINCE,
    NumberBook,
    Organisation,
    OrganisationKey,
    Person,
    RegisterEntry,
    RegisterRow,
    SigningAuthority,
    SigningRequest,
    Started,
    TrustAnchor,
    TrustList,
    User,
    channel_of_token,
    queue_for,
    roles_of,
    scope_of,
)


def request_json(request: SigningRequest) -> dict[str, Any]:
    document = request.document
    return {
        "id": request.id, "document_id": document.id, "subject": document.subject,
        "type_name": document.doc_type.name, "status": request.status.name,
        "step": request.step, "priority": int(request.priority),
        "due_at": request.due_at.isoformat() if request.due_at else None,
        "preview": f"/api/v1/documents/{document.id}/versions/prepared",
    }


def started_json(started: Started | None) -> dict[str, Any]:
    """What an approval started, as the approval routes have always answered it."""
    if started is None:
        return {}
    if started.task_id is not None:
        return {"task_id": started.task_id}
    assert started.job_id is not None and started.batch is not None
    return {"job_id": started.job_id, "batch": started.batch, "channel": started.channel}


def register_json(entry: RegisterEntry, cells: RegisterRow) -> dict[str, Any]:
    """One line of the outgoing register."""
    return {"number": cells[0], "date": cells[1].isoformat(), "subject": cells[2],
            "signer": cells[3], "recipients": cells[4], "archive": cells[5],
            "copies": cells[6], "note": cells[9], "document_id": entry.document_id}


SCOPE_NAMES = {"bundled": "sẵn có trong Kyso (mọi cơ quan)", "demo": "demo (mọi cơ quan)",
               PROVINCE: "toàn tỉnh (mọi cơ quan)"}


def person_json(person: Person) -> dict[str, Any]:
    return {"id": person.id, "full_name": person.full_name, "position": person.position,
            "unit": person.unit.abbreviation if person.unit else None,
            "active": person.active}


def authority_json(authority: SigningAuthority) -> dict[str, Any]:
    return {"id": authority.id, "person_id": authority.person_id,
            "person": authority.person.full_name, "designation": authority.designation.name,
            "designation_line": authority.designation_line,
            "doc_types": sorted(t.code for t in authority.doc_types),
            "all_types": authority.all_types, "token_name": authority.token_name,
            "certificate_sha256": authority.certificate_sha256,
            "valid_from": authority.valid_from.isoformat() if authority.valid_from else None,
            "valid_until": authority.valid_until.isoformat() if authority.valid_until else None}


def organisation_key_json(key: OrganisationKey) -> dict[str, Any]:
    return {"id": key.id, "body_id": key.body_id, "token_name": key.token_name,
            "certificate_sha256": key.certificate_sha256, "queue": queue_for(key.token_name),
            "channel": channel_of_token(key.token_name).value,
            "valid_from": key.valid_from.isoformat() if key.valid_from else None,
            "valid_until": key.valid_until.isoformat() if key.valid_until else None}


def user_json(db: Session, account: User, body: Organisation) -> dict[str, Any]:
    return {"id": account.id, "username": account.username,
            "display_name": account.display_name, "email": account.email,
            "person_id": account.person_id, "active": account.active,
            "roles": sorted(r.name for r in roles_of(db, account, body)),
            "last_login_at": account.last_login_at.isoformat() if account.last_login_at
            else None}


def anchor_json(anchor: TrustAnchor) -> dict[str, Any]:
    scope = scope_of(anchor)
    return {"id": anchor.id, "subject": anchor.subject, "sha256": anchor.sha256,
            "origin": Origin.ADMIN.value, "root": anchor.root, "scope": scope,
            "body_id": anchor.body_id, "body": anchor.body.name if anchor.body else None,
            "scope_vi": SCOPE_NAMES[PROVINCE] if anchor.body is None
            else f"chỉ {anchor.body.name}",
            "source": PROVINCE if anchor.body_id is None else f"body:{anchor.body_id}",
            "added_by": anchor.added_by, "added_at": anchor.added_at.isoformat()}


def book_json(book: NumberBook) -> dict[str, Any]:
    return {"id": book.id, "code": book.code, "name": book.name, "scope": book.scope.name,
            "unit": book.unit.abbreviation if book.unit else None,
            "doc_types": sorted(t.code for t in book.doc_types), "active": book.active}


def shared_anchor_json(entry: TrustedCert) -> dict[str, Any]:
    """A CA of the shared store (bundled, demo) as the trust list shows it."""
    return {"id": None, "subject": entry.subject, "sha256": entry.sha256,
            "origin": entry.origin.value, "root": entry.is_anchor, "scope": entry.origin.value,
            "body_id": None, "body": None,
            "scope_vi": SCOPE_NAMES.get(entry.origin.value, entry.origin.value),
            "source": entry.source}


def trust_list_json(found: TrustList) -> list[dict[str, Any]]:
    return [shared_anchor_json(e) for e in found.shared] + \
        [anchor_json(a) for a in found.anchors]
