"""Administration inside a body: people, signing authorities, accounts, number books, and
the CA certificates the instance trusts. Only a body's administrators; every change is
an audit event."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, UploadFile
from pydantic import BaseModel

from certs import Origin, TrustStore, load_certificates
from documents import (
    BookScope,
    Designation,
    DocumentType,
    NumberBook,
    Organisation,
    Person,
    SigningAuthority,
)
from documents.accounts import Forbidden, Role, bodies_of, create_user, grant, require_role
from documents.audit import AuditAction, record

from ..deps import CurrentUser, ServicesDep, SessionDep
from ..errors import NotFound

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])


def _administered(db: SessionDep, user: CurrentUser, body_id: int) -> Organisation:
    body = db.get(Organisation, body_id)
    if body is None or body.id not in {b.id for b in bodies_of(db, user)}:
        raise NotFound(f"cơ quan {body_id} / body {body_id}")
    require_role(db, user, body, Role.ADMIN)
    return body


def _audit(db: SessionDep, user: CurrentUser, body: Organisation | None, what: str,
           object_id: str, details: dict[str, Any]) -> None:
    record(db, AuditAction.ADMIN_CHANGE, actor=user.username,
           body_id=body.id if body else None, object_type=what, object_id=object_id,
           details=details)


class NewPerson(BaseModel):
    full_name: str
    position: str
    unit: str | None = None


@router.post("/bodies/{body_id}/people", status_code=201)
def add_person(body_id: int, form: NewPerson, user: CurrentUser,
               db: SessionDep) -> dict[str, Any]:
    body = _administered(db, user, body_id)
    unit = next((u for u in body.units if u.abbreviation == form.unit), None)
    if form.unit and unit is None:
        raise NotFound(f"đơn vị {form.unit} / unit {form.unit}")
    person = Person(body=body, unit=unit, full_name=form.full_name, position=form.position)
    db.add(person)
    db.flush()
    _audit(db, user, body, "person", str(person.id), form.model_dump())
    db.commit()
    return {"person_id": person.id, "full_name": person.full_name}


class NewAuthority(BaseModel):
    person_id: int
    token_name: str
    designation: str = "NONE"
    doc_types: list[str] = []
    on_behalf_of: str | None = None
    certificate_pem: str | None = None
    certificate_sha256: str | None = None


@router.post("/bodies/{body_id}/authorities", status_code=201)
def add_authority(body_id: int, form: NewAuthority, user: CurrentUser,
                  db: SessionDep) -> dict[str, Any]:
    """Bind a person's signing authority to their certificate (PEM or SHA-256)."""
    body = _administered(db, user, body_id)
    person = db.get(Person, form.person_id)
    if person is None or person.body_id != body.id:
        raise NotFound(f"người {form.person_id} / person {form.person_id}")
    fingerprint = form.certificate_sha256
    if form.certificate_pem:
        (cert,) = load_certificates(form.certificate_pem.encode(), "certificate_pem")[:1]
        fingerprint = hashlib.sha256(cert.dump()).hexdigest()
    if not fingerprint:
        raise NotFound("chứng thư số / certificate")
    authority = SigningAuthority(
        person=person, body=body, designation=Designation[form.designation],
        on_behalf_of=form.on_behalf_of, all_types=not form.doc_types,
        certificate_sha256=fingerprint, token_name=form.token_name)
    authority.doc_types = {db.get_one(DocumentType, code) for code in form.doc_types}
    db.add(authority)
    db.flush()
    _audit(db, user, body, "signing_authority", str(authority.id),
           {**form.model_dump(exclude={"certificate_pem"}), "certificate_sha256": fingerprint})
    db.commit()
    return {"authority_id": authority.id, "certificate_sha256": fingerprint}


class NewUser(BaseModel):
    username: str
    password: str
    display_name: str
    roles: list[str]
    person_id: int | None = None
    email: str | None = None


@router.post("/bodies/{body_id}/users", status_code=201)
def add_user(body_id: int, form: NewUser, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    body = _administered(db, user, body_id)
    person = db.get(Person, form.person_id) if form.person_id else None
    if form.person_id and (person is None or person.body_id != body.id):
        raise NotFound(f"người {form.person_id} / person {form.person_id}")
    account = create_user(db, form.username, form.password, form.display_name, person=person,
                          email=form.email)
    for role in form.roles:
        grant(db, account, body, Role[role])
    _audit(db, user, body, "user", str(account.id),
           {"username": account.username, "roles": form.roles, "person_id": form.person_id})
    db.commit()
    return {"user_id": account.id, "username": account.username}


class NewBook(BaseModel):
    code: str
    name: str
    scope: str = "BODY"
    doc_types: list[str] = []
    unit: str | None = None
    symbol_with_unit: bool = False


@router.post("/bodies/{body_id}/number-books", status_code=201)
def add_book(body_id: int, form: NewBook, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    body = _administered(db, user, body_id)
    unit = next((u for u in body.units if u.abbreviation == form.unit), None)
    book = NumberBook(body=body, code=form.code, name=form.name, scope=BookScope[form.scope],
                      unit=unit, symbol_with_unit=form.symbol_with_unit)
    book.doc_types = {db.get_one(DocumentType, code) for code in form.doc_types}
    db.add(book)
    db.flush()
    _audit(db, user, body, "number_book", str(book.id), form.model_dump())
    db.commit()
    return {"book_id": book.id}


@router.post("/trust-anchors", status_code=201)
async def add_trust_anchor(file: UploadFile, user: CurrentUser, db: SessionDep,
                           svc: ServicesDep) -> dict[str, Any]:
    """Trust another CA (PEM or DER). An administrator of any body may add one."""
    if not bodies_of(db, user, Role.ADMIN):
        raise Forbidden(user.username, Role.ADMIN.value, Role.ADMIN.english,
                        "bất kỳ cơ quan nào / any body")
    data = await file.read()
    added = []
    for cert in load_certificates(data, file.filename or "upload"):
        entry = TrustStore().add(cert, Origin.ADMIN, file.filename or "upload")
        target = svc.settings.data.trust / f"{entry.sha256}.pem"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            from asn1crypto import pem

            target.write_bytes(pem.armor("CERTIFICATE", cert.dump()))
        svc.trust.add(cert, Origin.ADMIN, str(target))
        added.append({"subject": entry.subject, "sha256": entry.sha256})
        _audit(db, user, None, "trust_anchor", entry.sha256, {"subject": entry.subject})
    db.commit()
    return {"added": added}

