"""Administration inside a body over HTTP: people, signing authorities, the body's
organisation keys, accounts, number books, and the CA certificates a body trusts. Thin:
each route calls one act of ``documents/usecases/administration.py`` (which checks the
administrator, audits and commits) and translates; the token list reads tokens.json."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, UploadFile
from pydantic import BaseModel

from common import KysoError
from documents import (
    accounts_of,
    add_trust_anchors,
    authorities_of,
    books_of,
    organisation_keys_of,
    people_of,
    queue_for,
    require_some_admin,
)
from documents import add_authority as act_add_authority
from documents import add_book as act_add_book
from documents import add_organisation_key as act_add_organisation_key
from documents import add_person as act_add_person
from documents import add_user as act_add_user
from documents import change_authority as act_change_authority
from documents import change_book as act_change_book
from documents import change_organisation_key as act_change_organisation_key
from documents import change_person as act_change_person
from documents import change_user as act_change_user
from documents import list_trust_anchors as trust_anchors_of
from documents import remove_trust_anchor as act_remove_trust_anchor
from tokens import Health, token_from_settings

from ..deps import CurrentUser, ServicesDep, SessionDep, presented_secret
from ..views import (
    anchor_json,
    authority_json,
    book_json,
    organisation_key_json,
    person_json,
    trust_list_json,
    user_json,
)

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])


@router.get("/bodies/{body_id}/people")
def list_people(body_id: int, user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    return [person_json(p) for p in people_of(db, user.id, body_id)]


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
    return act_change_person(db, user.id, body_id, person_id,
                             form.model_dump(exclude_unset=True))


class NewPerson(BaseModel):
    full_name: str
    position: str
    unit: str | None = None


@router.post("/bodies/{body_id}/people", status_code=201)
def add_person(body_id: int, form: NewPerson, user: CurrentUser,
               db: SessionDep) -> dict[str, Any]:
    person = act_add_person(db, user.id, body_id, form.full_name, form.position, form.unit)
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
    authority = act_add_authority(
        db, user.id, body_id, form.person_id, form.token_name, designation=form.designation,
        doc_types=form.doc_types, on_behalf_of=form.on_behalf_of,
        certificate_pem=form.certificate_pem, certificate_sha256=form.certificate_sha256)
    fingerprint = authority.certificate_sha256
    return {"authority_id": authority.id, "certificate_sha256": fingerprint}


@router.get("/bodies/{body_id}/authorities")
def list_authorities(body_id: int, user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    return [authority_json(a) for a in authorities_of(db, user.id, body_id)]


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
    return act_change_authority(db, user.id, body_id, authority_id,
                                form.model_dump(exclude_unset=True))


class NewOrganisationKey(BaseModel):
    token_name: str
    certificate_pem: str | None = None
    certificate_sha256: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


@router.get("/bodies/{body_id}/organisation-keys")
def list_organisation_keys(body_id: int, user: CurrentUser,
                           db: SessionDep) -> list[dict[str, Any]]:
    """The body's organisation certificates (its seal) and the server token of each."""
    return [organisation_key_json(k) for k in organisation_keys_of(db, user.id, body_id)]


@router.post("/bodies/{body_id}/organisation-keys", status_code=201)
def add_organisation_key(body_id: int, form: NewOrganisationKey, user: CurrentUser,
                         db: SessionDep) -> dict[str, Any]:
    """Register the body's organisation certificate (PEM or SHA-256) and the server-side
    token holding its key; a replacement takes over from ``valid_from``. Refused when a
    person or another body holds that certificate or token."""
    key = act_add_organisation_key(
        db, user.id, body_id, form.token_name, certificate_pem=form.certificate_pem,
        certificate_sha256=form.certificate_sha256, valid_from=form.valid_from,
        valid_until=form.valid_until)
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
    return act_change_organisation_key(db, user.id, body_id, key_id,
                                       form.model_dump(exclude_unset=True))


@router.get("/bodies/{body_id}/users")
def list_users(body_id: int, user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    body, accounts = accounts_of(db, user.id, body_id)
    return [user_json(db, u, body) for u in accounts]


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
    return act_change_user(db, user.id, body_id, user_id, form.model_dump(exclude_unset=True),
                           presented_secret(request))


class NewUser(BaseModel):
    username: str
    password: str
    display_name: str
    roles: list[str]
    person_id: int | None = None
    email: str | None = None


@router.post("/bodies/{body_id}/users", status_code=201)
def add_user(body_id: int, form: NewUser, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    account = act_add_user(db, user.id, body_id, form.username, form.password,
                           form.display_name, form.roles, person_id=form.person_id,
                           email=form.email)
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
    book = act_add_book(db, user.id, body_id, form.code, form.name, scope=form.scope,
                        doc_types=form.doc_types, unit=form.unit,
                        symbol_with_unit=form.symbol_with_unit)
    return {"book_id": book.id}


@router.get("/bodies/{body_id}/number-books")
def list_books(body_id: int, user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    return [book_json(b) for b in books_of(db, user.id, body_id)]


class BookChange(BaseModel):
    name: str | None = None
    active: bool | None = None


@router.patch("/bodies/{body_id}/number-books/{book_id}")
def change_book(body_id: int, book_id: int, form: BookChange, user: CurrentUser,
                db: SessionDep) -> dict[str, Any]:
    """Rename a book or close it (``active: false``): its numbers stay in the register,
    no new number is taken from it."""
    return act_change_book(db, user.id, body_id, book_id, form.model_dump(exclude_unset=True))


@router.get("/trust-anchors")
def list_trust_anchors(user: CurrentUser, db: SessionDep,
                       svc: ServicesDep) -> list[dict[str, Any]]:
    """The CA certificates trusted, each with its scope: ``bundled`` and ``demo`` (every
    body), ``province`` (every body; added by a province administrator) and ``body``
    (only that body's verification). A body's administrator or auditor sees the bundled,
    demo and province-wide ones and those of their own bodies; a province administrator
    sees every body's."""
    return trust_list_json(trust_anchors_of(db, user.id, svc.trust))


@router.post("/trust-anchors", status_code=201)
def add_trust_anchor(file: UploadFile, user: CurrentUser, db: SessionDep, svc: ServicesDep,
                     scope: Annotated[Literal["body", "province"], Form()] = "body",
                     body_id: Annotated[int | None, Form()] = None) -> dict[str, Any]:
    """Trust another CA (PEM or DER, one or more certificates).

    ``scope=body`` (default): only for ``body_id`` — a body the caller administers; may be
    left out when they administer exactly one. ``scope=province``: for every body; only
    a province administrator (else 403). Certificates already bundled are not added
    again (``already``). Each addition is an audit event."""
    name = file.filename or "upload"
    made = add_trust_anchors(db, user.id, svc.trust, file.file.read(), name, scope, body_id)
    added = [anchor_json(a) for a in made.added]
    already = [{"subject": e.subject, "sha256": e.sha256, "scope": e.origin.value}
               for e in made.already]
    return {"added": added, "already": already}


@router.delete("/trust-anchors/{anchor_id}")
def remove_trust_anchor(anchor_id: int, user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    """Stop trusting an administrator-added CA (audited; the row is kept as history).
    A body's anchor: that body's administrator or a province administrator; a
    province-wide one: a province administrator only (403)."""
    anchor = act_remove_trust_anchor(db, user.id, anchor_id)
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
    require_some_admin(db, user.id)
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

