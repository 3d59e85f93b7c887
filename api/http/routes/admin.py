"""Administration inside a body: people, signing authorities, accounts, number books, and
the CA certificates a body trusts. Only a body's administrators — and, for the
province-wide trust anchors, a province administrator; every change is an audit event."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, UploadFile
from pydantic import BaseModel
from sqlalchemy import select

from certs import Origin, TrustStore, load_certificates
from common import KysoError
from documents import (
    PROVINCE,
    BookScope,
    Designation,
    DocumentType,
    NumberBook,
    Organisation,
    Person,
    ProvinceAdminOnly,
    Scope,
    SigningAuthority,
    TrustAnchor,
    UnknownDocumentType,
    add_anchor,
    anchors_visible_to,
    register_certificate,
    remove_anchor,
    scope_of,
)
from documents.accounts import (
    Forbidden,
    Membership,
    Role,
    User,
    bodies_of,
    create_user,
    grant,
    is_province_admin,
    require_role,
    revoke,
    revoke_tokens_of,
    roles_of,
    set_password,
    token_for,
)
from documents.audit import AuditAction, record
from documents.custody import (
    bind_seal,
    channel_of_token,
    check_person_binding,
    check_seal_binding,
    queue_for,
)
from documents.models import OrganisationKey
from tokens import Health, token_from_settings

from ...errors import NoBodyChosen
from ..deps import CurrentUser, ServicesDep, SessionDep, member_body, presented_secret
from ..errors import NotFound, enum_member

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])


def _administered(db: SessionDep, user: CurrentUser, body_id: int) -> Organisation:
    body = member_body(db, user, body_id)
    require_role(db, user, body, Role.ADMIN)
    return body


def _audit(db: SessionDep, user: CurrentUser, body: Organisation | None, what: str,
           object_id: str, details: dict[str, Any]) -> None:
    record(db, AuditAction.ADMIN_CHANGE, actor=user.username,
           body_id=body.id if body else None, object_type=what, object_id=object_id,
           details=details)


def _changed(db: SessionDep, user: CurrentUser, body: Organisation, row: Any, what: str,
             changes: dict[str, Any]) -> dict[str, Any]:
    """Apply ``changes`` (attribute → new value) to ``row``; audit old and new values."""
    before = {key: getattr(row, key) for key in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    db.flush()
    _audit(db, user, body, what, str(row.id), {
        "before": {k: _plain(v) for k, v in before.items()},
        "after": {k: _plain(v) for k, v in changes.items()}})
    db.commit()
    return {k: _plain(v) for k, v in changes.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "id"):
        return value.id
    return value


def _own(row: Any, body: Organisation, what: str, row_id: int) -> Any:
    if row is None or row.body_id != body.id:
        raise NotFound(f"{what} {row_id}")
    return row


def _doc_types(db: SessionDep, codes: list[str]) -> set[DocumentType]:
    """The document types of ``codes`` (an unknown code: 422, not a server error)."""
    found = set()
    for code in codes:
        doc_type = db.get(DocumentType, code)
        if doc_type is None:
            raise UnknownDocumentType(code)
        found.add(doc_type)
    return found


def _roles(names: list[str]) -> set[Role]:
    return {enum_member(Role, name, "vai trò", "role") for name in names}


def _unit(body: Organisation, abbreviation: str | None) -> Any:
    unit = next((u for u in body.units if u.abbreviation == abbreviation), None)
    if abbreviation and unit is None:
        raise NotFound(f"đơn vị {abbreviation} / unit {abbreviation}")
    return unit


def person_json(person: Person) -> dict[str, Any]:
    return {"id": person.id, "full_name": person.full_name, "position": person.position,
            "unit": person.unit.abbreviation if person.unit else None,
            "active": person.active}


@router.get("/bodies/{body_id}/people")
def list_people(body_id: int, user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    body = _administered(db, user, body_id)
    return [person_json(p) for p in db.scalars(
        select(Person).where(Person.body_id == body.id).order_by(Person.id))]


class PersonChange(BaseModel):
    full_name: str | None = None
    position: str | None = None
    unit: str | None = None
    active: bool | None = None


@router.patch("/bodies/{body_id}/people/{person_id}")
def change_person(body_id: int, person_id: int, form: PersonChange, user: CurrentUser,
                  db: SessionDep) -> dict[str, Any]:
    """Rename, move or (``active: false``) deactivate a person: an inactive person
    holds no signing authority and cannot be chosen as a signer."""
    body = _administered(db, user, body_id)
    person = _own(db.get(Person, person_id), body, "người / person", person_id)
    changes = form.model_dump(exclude_unset=True, exclude={"unit"})
    if "unit" in form.model_fields_set:
        changes["unit"] = _unit(body, form.unit)
    return _changed(db, user, body, person, "person", changes)


class NewPerson(BaseModel):
    full_name: str
    position: str
    unit: str | None = None


@router.post("/bodies/{body_id}/people", status_code=201)
def add_person(body_id: int, form: NewPerson, user: CurrentUser,
               db: SessionDep) -> dict[str, Any]:
    body = _administered(db, user, body_id)
    person = Person(body=body, unit=_unit(body, form.unit), full_name=form.full_name,
                    position=form.position)
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
        fingerprint = _fingerprint(form.certificate_pem)
    if not fingerprint:
        raise NotFound("chứng thư số / certificate")
    check_person_binding(db, person, fingerprint, form.token_name)
    authority = SigningAuthority(
        person=person, body=body,
        designation=enum_member(Designation, form.designation, "hình thức ký", "designation"),
        on_behalf_of=form.on_behalf_of, all_types=not form.doc_types,
        certificate_sha256=fingerprint, token_name=form.token_name)
    authority.doc_types = _doc_types(db, form.doc_types)
    db.add(authority)
    db.flush()
    if form.certificate_pem:  # kept, so documents can be prepared for a key held elsewhere
        (cert, *chain) = load_certificates(form.certificate_pem.encode(), "certificate_pem")
        register_certificate(db, person, cert, chain, actor=user.username)
    _audit(db, user, body, "signing_authority", str(authority.id),
           {**form.model_dump(exclude={"certificate_pem"}), "certificate_sha256": fingerprint})
    db.commit()
    return {"authority_id": authority.id, "certificate_sha256": fingerprint}


def authority_json(authority: SigningAuthority) -> dict[str, Any]:
    return {"id": authority.id, "person_id": authority.person_id,
            "person": authority.person.full_name, "designation": authority.designation.name,
            "designation_line": authority.designation_line,
            "doc_types": sorted(t.code for t in authority.doc_types),
            "all_types": authority.all_types, "token_name": authority.token_name,
            "certificate_sha256": authority.certificate_sha256,
            "valid_from": authority.valid_from.isoformat() if authority.valid_from else None,
            "valid_until": authority.valid_until.isoformat() if authority.valid_until else None}


@router.get("/bodies/{body_id}/authorities")
def list_authorities(body_id: int, user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    body = _administered(db, user, body_id)
    return [authority_json(a) for a in db.scalars(select(SigningAuthority).where(
        SigningAuthority.body_id == body.id).order_by(SigningAuthority.id))]


class AuthorityChange(BaseModel):
    token_name: str | None = None
    certificate_pem: str | None = None
    certificate_sha256: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


@router.patch("/bodies/{body_id}/authorities/{authority_id}")
def change_authority(body_id: int, authority_id: int, form: AuthorityChange,
                     user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    """Bind a renewed certificate, move the key to another token, or end the authority
    (``valid_until``: the last day it may be used)."""
    body = _administered(db, user, body_id)
    authority = _own(db.get(SigningAuthority, authority_id), body,
                     "thẩm quyền ký / signing authority", authority_id)
    changes = form.model_dump(exclude_unset=True, exclude={"certificate_pem"})
    if form.certificate_pem:
        changes["certificate_sha256"] = _fingerprint(form.certificate_pem)
    check_person_binding(db, authority.person,
                         changes.get("certificate_sha256") or authority.certificate_sha256,
                         changes.get("token_name") or authority.token_name, authority=authority)
    done = _changed(db, user, body, authority, "signing_authority", changes)
    if form.certificate_pem:
        (cert, *chain) = load_certificates(form.certificate_pem.encode(), "certificate_pem")
        register_certificate(db, authority.person, cert, chain, actor=user.username)
        db.commit()
    return done


class NewOrganisationKey(BaseModel):
    token_name: str
    certificate_pem: str | None = None
    certificate_sha256: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


def organisation_key_json(key: OrganisationKey) -> dict[str, Any]:
    return {"id": key.id, "body_id": key.body_id, "token_name": key.token_name,
            "certificate_sha256": key.certificate_sha256, "queue": queue_for(key.token_name),
            "channel": channel_of_token(key.token_name).value,
            "valid_from": key.valid_from.isoformat() if key.valid_from else None,
            "valid_until": key.valid_until.isoformat() if key.valid_until else None}


@router.get("/bodies/{body_id}/organisation-keys")
def list_organisation_keys(body_id: int, user: CurrentUser,
                           db: SessionDep) -> list[dict[str, Any]]:
    """The body's organisation certificates (its seal) and the server token of each."""
    body = _administered(db, user, body_id)
    return [organisation_key_json(k) for k in db.scalars(select(OrganisationKey).where(
        OrganisationKey.body_id == body.id).order_by(OrganisationKey.id))]


@router.post("/bodies/{body_id}/organisation-keys", status_code=201)
def add_organisation_key(body_id: int, form: NewOrganisationKey, user: CurrentUser,
                         db: SessionDep) -> dict[str, Any]:
    """Register the body's organisation certificate (PEM or SHA-256) and the server-side
    token holding its key; a replacement takes over from ``valid_from``. Refused when a
    person or another body holds that certificate or token."""
    body = _administered(db, user, body_id)
    fingerprint = _fingerprint(form.certificate_pem) if form.certificate_pem \
        else form.certificate_sha256
    if not fingerprint:
        raise NotFound("chứng thư số / certificate")
    key = bind_seal(db, body, fingerprint, form.token_name, valid_from=form.valid_from,
                    valid_until=form.valid_until, actor=user.username)
    db.commit()
    return organisation_key_json(key)


class OrganisationKeyChange(BaseModel):
    token_name: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


@router.patch("/bodies/{body_id}/organisation-keys/{key_id}")
def change_organisation_key(body_id: int, key_id: int, form: OrganisationKeyChange,
                            user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    """Move the key to another server token, or end it (``valid_until``). A new
    certificate is a new key (POST), so documents sealed with the old one stay explained."""
    body = _administered(db, user, body_id)
    key = _own(db.get(OrganisationKey, key_id), body, "khóa của cơ quan / organisation key",
               key_id)
    changes = form.model_dump(exclude_unset=True)
    check_seal_binding(db, body, key.certificate_sha256,
                       changes.get("token_name") or key.token_name, key=key)
    return _changed(db, user, body, key, "organisation_key", changes)


def _fingerprint(certificate_pem: str) -> str:
    (cert,) = load_certificates(certificate_pem.encode(), "certificate_pem")[:1]
    return hashlib.sha256(cert.dump()).hexdigest()


def user_json(db: SessionDep, account: User, body: Organisation) -> dict[str, Any]:
    return {"id": account.id, "username": account.username,
            "display_name": account.display_name, "email": account.email,
            "person_id": account.person_id, "active": account.active,
            "roles": sorted(r.name for r in roles_of(db, account, body)),
            "last_login_at": account.last_login_at.isoformat() if account.last_login_at
            else None}


@router.get("/bodies/{body_id}/users")
def list_users(body_id: int, user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    body = _administered(db, user, body_id)
    members = select(Membership.user_id).where(Membership.body_id == body.id)
    return [user_json(db, u, body) for u in db.scalars(
        select(User).where(User.id.in_(members)).order_by(User.id))]


class UserChange(BaseModel):
    display_name: str | None = None
    email: str | None = None
    person_id: int | None = None
    roles: list[str] | None = None
    password: str | None = None
    active: bool | None = None


@router.patch("/bodies/{body_id}/users/{user_id}")
def change_user(body_id: int, user_id: int, form: UserChange, user: CurrentUser,
                db: SessionDep, request: Request) -> dict[str, Any]:
    """Edit an account of this body: its roles here, its person, a new password, or
    ``active: false``. A new password or ``active: false`` revokes every API token and
    session the account holds (a new password keeps only the administrator's own
    session, when they reset their own account)."""
    body = _administered(db, user, body_id)
    account = db.get(User, user_id)
    if account is None or not db.scalar(select(Membership.id).where(
            Membership.user_id == user_id, Membership.body_id == body.id).limit(1)):
        raise NotFound(f"tài khoản {user_id} / account {user_id}")
    changes = form.model_dump(exclude_unset=True, exclude={"roles", "password", "person_id"})
    if "person_id" in form.model_fields_set:
        person = db.get(Person, form.person_id) if form.person_id else None
        if form.person_id:
            _own(person, body, "người / person", form.person_id)
        changes["person"] = person
    if form.roles is not None:
        wanted = _roles(form.roles)
        for role in roles_of(db, account, body) - wanted:
            revoke(db, account, body, role)
        for role in wanted:
            grant(db, account, body, role)
    if form.password:
        secret = presented_secret(request) if account.id == user.id else None
        set_password(db, account, form.password,
                     keep=token_for(db, secret) if secret else None)
    if form.active is False:
        revoke_tokens_of(db, account)
    done = _changed(db, user, body, account, "user", changes)
    if form.roles is not None:
        done["roles"] = sorted(form.roles)
    if form.password:
        done["password"] = "changed"
    return done


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
    roles = _roles(form.roles)
    account = create_user(db, form.username, form.password, form.display_name, person=person,
                          email=form.email)
    for role in sorted(roles, key=lambda r: r.name):
        grant(db, account, body, role)
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
    book = NumberBook(body=body, code=form.code, name=form.name,
                      scope=enum_member(BookScope, form.scope, "phạm vi sổ", "book scope"),
                      unit=_unit(body, form.unit), symbol_with_unit=form.symbol_with_unit)
    book.doc_types = _doc_types(db, form.doc_types)
    db.add(book)
    db.flush()
    _audit(db, user, body, "number_book", str(book.id), form.model_dump())
    db.commit()
    return {"book_id": book.id}


def book_json(book: NumberBook) -> dict[str, Any]:
    return {"id": book.id, "code": book.code, "name": book.name, "scope": book.scope.name,
            "unit": book.unit.abbreviation if book.unit else None,
            "doc_types": sorted(t.code for t in book.doc_types), "active": book.active}


@router.get("/bodies/{body_id}/number-books")
def list_books(body_id: int, user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    body = _administered(db, user, body_id)
    return [book_json(b) for b in db.scalars(
        select(NumberBook).where(NumberBook.body_id == body.id).order_by(NumberBook.id))]


class BookChange(BaseModel):
    name: str | None = None
    active: bool | None = None


@router.patch("/bodies/{body_id}/number-books/{book_id}")
def change_book(body_id: int, book_id: int, form: BookChange, user: CurrentUser,
                db: SessionDep) -> dict[str, Any]:
    """Rename a book or close it (``active: false``): its numbers stay in the register,
    no new number is taken from it."""
    body = _administered(db, user, body_id)
    book = _own(db.get(NumberBook, book_id), body, "sổ / book", book_id)
    return _changed(db, user, body, book, "number_book", form.model_dump(exclude_unset=True))


SCOPE_NAMES = {"bundled": "sẵn có trong Kyso (mọi cơ quan)", "demo": "demo (mọi cơ quan)",
               PROVINCE: "toàn tỉnh (mọi cơ quan)"}


def _viewer_bodies(db: SessionDep, user: CurrentUser) -> list[int] | None:
    """Bodies whose own anchors the caller sees (None: all, a province administrator);
    only an administrator or auditor of some body, or a province administrator."""
    if is_province_admin(user):
        return None
    seen = sorted({b.id for b in bodies_of(db, user, Role.ADMIN)}
                  | {b.id for b in bodies_of(db, user, Role.AUDITOR)})
    if not seen:
        raise Forbidden(user.username, Role.ADMIN.value, Role.ADMIN.english,
                        "bất kỳ cơ quan nào / any body")
    return seen


def anchor_json(anchor: TrustAnchor) -> dict[str, Any]:
    scope = scope_of(anchor)
    return {"id": anchor.id, "subject": anchor.subject, "sha256": anchor.sha256,
            "origin": Origin.ADMIN.value, "root": anchor.root, "scope": scope,
            "body_id": anchor.body_id, "body": anchor.body.name if anchor.body else None,
            "scope_vi": SCOPE_NAMES[PROVINCE] if anchor.body is None
            else f"chỉ {anchor.body.name}",
            "source": PROVINCE if anchor.body_id is None else f"body:{anchor.body_id}",
            "added_by": anchor.added_by, "added_at": anchor.added_at.isoformat()}


@router.get("/trust-anchors")
def list_trust_anchors(user: CurrentUser, db: SessionDep,
                       svc: ServicesDep) -> list[dict[str, Any]]:
    """The CA certificates trusted, each with its scope: ``bundled`` and ``demo`` (every
    body), ``province`` (every body; added by a province administrator) and ``body``
    (only that body's verification). A body's administrator or auditor sees the bundled,
    demo and province-wide ones and those of their own bodies; a province administrator
    sees every body's."""
    seen = _viewer_bodies(db, user)
    shared = [{"id": None, "subject": e.subject, "sha256": e.sha256, "origin": e.origin.value,
               "root": e.is_anchor, "scope": e.origin.value, "body_id": None, "body": None,
               "scope_vi": SCOPE_NAMES.get(e.origin.value, e.origin.value),
               "source": e.source} for e in svc.trust]
    return shared + [anchor_json(a) for a in anchors_visible_to(db, seen)]


def _anchor_scope(db: SessionDep, user: CurrentUser, scope: str,
                  body_id: int | None) -> Scope:
    if scope == PROVINCE:
        if not is_province_admin(user):
            raise ProvinceAdminOnly(user.username)
        return Scope(None)
    if body_id is None:
        administered = bodies_of(db, user, Role.ADMIN)
        if len(administered) != 1:
            if not administered and not is_province_admin(user):
                raise Forbidden(user.username, Role.ADMIN.value, Role.ADMIN.english,
                                "bất kỳ cơ quan nào / any body")
            raise NoBodyChosen()
        return Scope(administered[0])
    if is_province_admin(user):
        body = db.get(Organisation, body_id)
        if body is None:
            raise NotFound(f"cơ quan {body_id} / body {body_id}")
        return Scope(body)
    return Scope(_administered(db, user, body_id))


@router.post("/trust-anchors", status_code=201)
def add_trust_anchor(file: UploadFile, user: CurrentUser, db: SessionDep, svc: ServicesDep,
                     scope: Annotated[Literal["body", "province"], Form()] = "body",
                     body_id: Annotated[int | None, Form()] = None) -> dict[str, Any]:
    """Trust another CA (PEM or DER, one or more certificates).

    ``scope=body`` (default): only for ``body_id`` — a body the caller administers; may be
    left out when they administer exactly one. ``scope=province``: for every body; only
    a province administrator (else 403). Certificates already bundled are not added
    again (``already``). Each addition is an audit event."""
    chosen = _anchor_scope(db, user, scope, body_id)
    added, already = [], []
    for cert in load_certificates(file.file.read(), file.filename or "upload"):
        TrustStore().add(cert, Origin.ADMIN, file.filename or "upload")  # a demo CA: refused
        if (entry := svc.trust.find(cert)) is not None:
            already.append({"subject": entry.subject, "sha256": entry.sha256,
                            "scope": entry.origin.value})
            continue
        anchor, _ = add_anchor(db, cert, chosen, actor=user.username,
                               province_admin=is_province_admin(user),
                               source=file.filename or "upload")
        added.append(anchor_json(anchor))
    db.commit()
    return {"added": added, "already": already}


@router.delete("/trust-anchors/{anchor_id}")
def remove_trust_anchor(anchor_id: int, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    """Stop trusting an administrator-added CA (audited; the row is kept as history).
    A body's anchor: that body's administrator or a province administrator; a
    province-wide one: a province administrator only (403)."""
    anchor = remove_anchor(db, anchor_id, actor=user.username,
                           administered=[b.id for b in bodies_of(db, user, Role.ADMIN)],
                           province_admin=is_province_admin(user))
    db.commit()
    return {"removed": anchor_json(anchor)["sha256"], "id": anchor.id,
            "removed_at": anchor.removed_at.isoformat() if anchor.removed_at else None}


#: What the token list shows of a tokens.json entry: never a secret (client secret, token).
TOKEN_LOCATION_KEYS = ("module", "token_label", "token_serial", "key_label", "path", "url",
                       "credential_id")


def token_health(name: str, entry: dict[str, Any]) -> Health:
    """Whether the configured token ``name`` is there, seen from this process, without
    logging in: a PKCS#11 token in its module's slots, a PKCS#12 file on disk, a CSC
    credential at its remote-signing service (``info`` and ``credentials/info``)."""
    try:
        return token_from_settings(name, entry).health()
    except KysoError as exc:
        return Health(False, exc.one_line())


@router.get("/tokens")
def list_tokens(user: CurrentUser, db: SessionDep, svc: ServicesDep) -> list[dict[str, Any]]:
    """Every server-side token of tokens.json with its health (``ok``, ``detail``), the
    queue its signing tasks go to and whether this host holds it (``KYSO_SERVER_TOKENS``).
    Only administrators; nothing logs in, no PIN is used."""
    if not bodies_of(db, user, Role.ADMIN):
        raise Forbidden(user.username, Role.ADMIN.value, Role.ADMIN.english,
                        "bất kỳ cơ quan nào / any body")
    db.close()  # the checks may wait on a module or a remote service: hold no database
    held = set(svc.settings.server_tokens)
    out = []
    for name, entry in sorted(svc.settings.data.token_settings().items()):
        health = token_health(name, entry)
        out.append({"name": name, "backend": entry.get("backend"),
                    **{k: entry[k] for k in TOKEN_LOCATION_KEYS if k in entry},
                    "ok": health.ok, "detail": health.detail,
                    "queue": queue_for(name), "held_here": name in held})
    return out

