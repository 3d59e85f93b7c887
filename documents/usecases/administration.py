"""The administrator's acts inside a body: people, signing authorities, the body's
organisation keys, accounts, number books, and the CA certificates a body trusts. Only a
body's administrators — and, for the province-wide trust anchors, a province
administrator; every change is an audit event, committed by the act."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certs import Origin, TrustedCert, TrustStore, load_certificates
from common import KysoError

from ..accounts import (
    Membership,
    Role,
    User,
    bodies_of,
    create_user,
    grant,
    is_province_admin,
    normalise_username,
    require_role,
    revoke,
    revoke_tokens_of,
    roles_of,
    set_password,
    token_for,
)
from ..anchors import PROVINCE, Scope, TrustAnchor, add_anchor, anchors_visible_to, remove_anchor
from ..audit import AuditAction, record
from ..custody import bind_seal, check_person_binding, check_seal_binding
from ..errors import (
    Forbidden,
    NoBodyChosen,
    NotFound,
    ProvinceAdminOnly,
    UnknownDocumentType,
    enum_member,
)
from ..jobs import register_certificate
from ..models import (
    BookScope,
    Designation,
    DocumentType,
    NumberBook,
    Organisation,
    OrganisationKey,
    Person,
    SigningAuthority,
    Unit,
)
from .access import actor_of, member_body


def administered_body(db: Session, user: User, body_id: int) -> Organisation:
    """The body ``body_id`` if the caller administers it (a stranger: not found)."""
    body = member_body(db, user, body_id)
    require_role(db, user, body, Role.ADMIN)
    return body


def _audit(db: Session, user: User, body: Organisation | None, what: str, object_id: str,
           details: dict[str, Any]) -> None:
    record(db, AuditAction.ADMIN_CHANGE, actor=user.username,
           body_id=body.id if body else None, object_type=what, object_id=object_id,
           details=details)


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "id"):
        return value.id
    return value


def _changed(db: Session, user: User, body: Organisation, row: Any, what: str,
             changes: Mapping[str, Any]) -> dict[str, Any]:
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


def _own(row: Any, body: Organisation, what: str, row_id: int) -> Any:
    if row is None or row.body_id != body.id:
        raise NotFound(f"{what} {row_id}")
    return row


def _doc_types(db: Session, codes: Sequence[str]) -> set[DocumentType]:
    """The document types of ``codes`` (an unknown code: refused, not a server error)."""
    found = set()
    for code in codes:
        doc_type = db.get(DocumentType, code)
        if doc_type is None:
            raise UnknownDocumentType(code)
        found.add(doc_type)
    return found


def _roles(names: Sequence[str]) -> set[Role]:
    return {enum_member(Role, name, "vai trò", "role") for name in names}


def _unit(body: Organisation, abbreviation: str | None) -> Unit | None:
    unit = next((u for u in body.units if u.abbreviation == abbreviation), None)
    if abbreviation and unit is None:
        raise NotFound(f"đơn vị {abbreviation} / unit {abbreviation}")
    return unit


def _fingerprint(certificate_pem: str) -> str:
    (cert,) = load_certificates(certificate_pem.encode(), "certificate_pem")[:1]
    return hashlib.sha256(cert.dump()).hexdigest()


# --- people ----------------------------------------------------------------------------------

def people_of(db: Session, actor: int, body_id: int) -> list[Person]:
    body = administered_body(db, actor_of(db, actor), body_id)
    return list(db.scalars(select(Person).where(Person.body_id == body.id).order_by(Person.id)))


def add_person(db: Session, actor: int, body_id: int, full_name: str, position: str,
               unit: str | None = None) -> Person:
    user = actor_of(db, actor)
    body = administered_body(db, user, body_id)
    person = Person(body=body, unit=_unit(body, unit), full_name=full_name, position=position)
    db.add(person)
    db.flush()
    _audit(db, user, body, "person", str(person.id),
           {"full_name": full_name, "position": position, "unit": unit})
    db.commit()
    return person


def change_person(db: Session, actor: int, body_id: int, person_id: int,
                  changes: Mapping[str, Any]) -> dict[str, Any]:
    """Rename, move (``unit``: an abbreviation) or (``active: False``) deactivate a person:
    an inactive person holds no signing authority and cannot be chosen as a signer.
    ``changes`` holds only what changes (``full_name``, ``position``, ``unit``,
    ``active``)."""
    user = actor_of(db, actor)
    body = administered_body(db, user, body_id)
    person = _own(db.get(Person, person_id), body, "người / person", person_id)
    wanted = {k: v for k, v in changes.items() if k != "unit"}
    if "unit" in changes:
        wanted["unit"] = _unit(body, changes["unit"])
    return _changed(db, user, body, person, "person", wanted)


# --- signing authorities -----------------------------------------------------------------

def authorities_of(db: Session, actor: int, body_id: int) -> list[SigningAuthority]:
    body = administered_body(db, actor_of(db, actor), body_id)
    return list(db.scalars(select(SigningAuthority).where(
        SigningAuthority.body_id == body.id).order_by(SigningAuthority.id)))


def add_authority(db: Session, actor: int, body_id: int, person_id: int, token_name: str, *,
                  designation: str = "NONE", doc_types: Sequence[str] = (),
                  on_behalf_of: str | None = None, certificate_pem: str | None = None,
                  certificate_sha256: str | None = None) -> SigningAuthority:
    """Bind a person's signing authority to their certificate (PEM or SHA-256)."""
    user = actor_of(db, actor)
    body = administered_body(db, user, body_id)
    person = db.get(Person, person_id)
    if person is None or person.body_id != body.id:
        raise NotFound(f"người {person_id} / person {person_id}")
    fingerprint = certificate_sha256
    if certificate_pem:
        fingerprint = _fingerprint(certificate_pem)
    if not fingerprint:
        raise NotFound("chứng thư số / certificate")
    check_person_binding(db, person, fingerprint, token_name)
    authority = SigningAuthority(
        person=person, body=body,
        designation=enum_member(Designation, designation, "hình thức ký", "designation"),
        on_behalf_of=on_behalf_of, all_types=not doc_types,
        certificate_sha256=fingerprint, token_name=token_name)
    authority.doc_types = _doc_types(db, doc_types)
    db.add(authority)
    db.flush()
    if certificate_pem:  # kept, so documents can be prepared for a key held elsewhere
        (cert, *chain) = load_certificates(certificate_pem.encode(), "certificate_pem")
        register_certificate(db, person, cert, chain, actor=user.username)
    _audit(db, user, body, "signing_authority", str(authority.id), {
        "person_id": person_id, "token_name": token_name, "designation": designation,
        "doc_types": list(doc_types), "on_behalf_of": on_behalf_of,
        "certificate_sha256": fingerprint})
    db.commit()
    return authority


def change_authority(db: Session, actor: int, body_id: int, authority_id: int,
                     changes: Mapping[str, Any]) -> dict[str, Any]:
    """Bind a renewed certificate (``certificate_pem`` or ``certificate_sha256``), move the
    key to another token (``token_name``), or end the authority (``valid_until``: the last
    day it may be used). ``changes`` holds only what changes."""
    user = actor_of(db, actor)
    body = administered_body(db, user, body_id)
    authority = _own(db.get(SigningAuthority, authority_id), body,
                     "thẩm quyền ký / signing authority", authority_id)
    certificate_pem = changes.get("certificate_pem")
    wanted = {k: v for k, v in changes.items() if k != "certificate_pem"}
    if certificate_pem:
        wanted["certificate_sha256"] = _fingerprint(certificate_pem)
    check_person_binding(db, authority.person,
                         wanted.get("certificate_sha256") or authority.certificate_sha256,
                         wanted.get("token_name") or authority.token_name, authority=authority)
    done = _changed(db, user, body, authority, "signing_authority", wanted)
    if certificate_pem:
        (cert, *chain) = load_certificates(certificate_pem.encode(), "certificate_pem")
        register_certificate(db, authority.person, cert, chain, actor=user.username)
        db.commit()
    return done


# --- the body's organisation keys --------------------------------------------------------

def organisation_keys_of(db: Session, actor: int, body_id: int) -> list[OrganisationKey]:
    body = administered_body(db, actor_of(db, actor), body_id)
    return list(db.scalars(select(OrganisationKey).where(
        OrganisationKey.body_id == body.id).order_by(OrganisationKey.id)))


def add_organisation_key(db: Session, actor: int, body_id: int, token_name: str, *,
                         certificate_pem: str | None = None,
                         certificate_sha256: str | None = None,
                         valid_from: date | None = None,
                         valid_until: date | None = None) -> OrganisationKey:
    """Register the body's organisation certificate (PEM or SHA-256) and the server-side
    token holding its key; a replacement takes over from ``valid_from``. Refused when a
    person or another body holds that certificate or token."""
    user = actor_of(db, actor)
    body = administered_body(db, user, body_id)
    fingerprint = _fingerprint(certificate_pem) if certificate_pem else certificate_sha256
    if not fingerprint:
        raise NotFound("chứng thư số / certificate")
    key = bind_seal(db, body, fingerprint, token_name, valid_from=valid_from,
                    valid_until=valid_until, actor=user.username)
    db.commit()
    return key


def change_organisation_key(db: Session, actor: int, body_id: int, key_id: int,
                            changes: Mapping[str, Any]) -> dict[str, Any]:
    """Move the key to another server token (``token_name``), or end it
    (``valid_until``). A new certificate is a new key, so documents sealed with the old
    one stay explained."""
    user = actor_of(db, actor)
    body = administered_body(db, user, body_id)
    key = _own(db.get(OrganisationKey, key_id), body, "khóa của cơ quan / organisation key",
               key_id)
    check_seal_binding(db, body, key.certificate_sha256,
                       changes.get("token_name") or key.token_name, key=key)
    return _changed(db, user, body, key, "organisation_key", changes)


# --- accounts ----------------------------------------------------------------------------

def accounts_of(db: Session, actor: int, body_id: int) -> tuple[Organisation, list[User]]:
    """The body and its accounts."""
    body = administered_body(db, actor_of(db, actor), body_id)
    members = select(Membership.user_id).where(Membership.body_id == body.id)
    return body, list(db.scalars(select(User).where(User.id.in_(members)).order_by(User.id)))


def add_user(db: Session, actor: int, body_id: int, username: str, password: str,
             display_name: str, roles: Sequence[str], *, person_id: int | None = None,
             email: str | None = None) -> User:
    user = actor_of(db, actor)
    body = administered_body(db, user, body_id)
    person = db.get(Person, person_id) if person_id else None
    if person_id and (person is None or person.body_id != body.id):
        raise NotFound(f"người {person_id} / person {person_id}")
    chosen = _roles(roles)
    account = create_user(db, username, password, display_name, person=person, email=email)
    for role in sorted(chosen, key=lambda r: r.name):
        grant(db, account, body, role)
    _audit(db, user, body, "user", str(account.id),
           {"username": account.username, "roles": list(roles), "person_id": person_id})
    db.commit()
    return account


def change_user(db: Session, actor: int, body_id: int, user_id: int,
                changes: Mapping[str, Any], secret: str | None = None) -> dict[str, Any]:
    """Edit an account of this body: its roles here (``roles``), its person
    (``person_id``), a new ``password``, ``display_name``, ``email`` or ``active: False``.
    A new password or ``active: False`` revokes every API token and session the account
    holds (a new password keeps only the administrator's own session ``secret``, when
    they reset their own account). ``changes`` holds only what changes."""
    user = actor_of(db, actor)
    body = administered_body(db, user, body_id)
    account = db.get(User, user_id)
    if account is None or not db.scalar(select(Membership.id).where(
            Membership.user_id == user_id, Membership.body_id == body.id).limit(1)):
        raise NotFound(f"tài khoản {user_id} / account {user_id}")
    wanted = {k: v for k, v in changes.items() if k not in ("roles", "password", "person_id")}
    roles: list[str] | None = changes.get("roles")
    password: str | None = changes.get("password")
    if "person_id" in changes:
        person_id = changes["person_id"]
        person = db.get(Person, person_id) if person_id else None
        if person_id:
            _own(person, body, "người / person", person_id)
        wanted["person"] = person
    if roles is not None:
        chosen = _roles(roles)
        for role in roles_of(db, account, body) - chosen:
            revoke(db, account, body, role)
        for role in chosen:
            grant(db, account, body, role)
    if password:
        keep = secret if account.id == user.id else None
        set_password(db, account, password, keep=token_for(db, keep) if keep else None)
    if changes.get("active") is False:
        revoke_tokens_of(db, account)
    done = _changed(db, user, body, account, "user", wanted)
    if roles is not None:
        done["roles"] = sorted(roles)
    if password:
        done["password"] = "changed"
    return done


# --- number books ------------------------------------------------------------------------

def books_of(db: Session, actor: int, body_id: int) -> list[NumberBook]:
    body = administered_body(db, actor_of(db, actor), body_id)
    return list(db.scalars(
        select(NumberBook).where(NumberBook.body_id == body.id).order_by(NumberBook.id)))


def add_book(db: Session, actor: int, body_id: int, code: str, name: str, *,
             scope: str = "BODY", doc_types: Sequence[str] = (), unit: str | None = None,
             symbol_with_unit: bool = False) -> NumberBook:
    user = actor_of(db, actor)
    body = administered_body(db, user, body_id)
    book = NumberBook(body=body, code=code, name=name,
                      scope=enum_member(BookScope, scope, "phạm vi sổ", "book scope"),
                      unit=_unit(body, unit), symbol_with_unit=symbol_with_unit)
    book.doc_types = _doc_types(db, doc_types)
    db.add(book)
    db.flush()
    _audit(db, user, body, "number_book", str(book.id), {
        "code": code, "name": name, "scope": scope, "doc_types": list(doc_types),
        "unit": unit, "symbol_with_unit": symbol_with_unit})
    db.commit()
    return book


def change_book(db: Session, actor: int, body_id: int, book_id: int,
                changes: Mapping[str, Any]) -> dict[str, Any]:
    """Rename a book (``name``) or close it (``active: False``): its numbers stay in the
    register, no new number is taken from it."""
    user = actor_of(db, actor)
    body = administered_body(db, user, body_id)
    book = _own(db.get(NumberBook, book_id), body, "sổ / book", book_id)
    return _changed(db, user, body, book, "number_book", changes)


# --- trust anchors -----------------------------------------------------------------------

def _any_admin(user: User) -> Forbidden:
    return Forbidden(user.username, Role.ADMIN.value, Role.ADMIN.english,
                     "bất kỳ cơ quan nào / any body")


def require_some_admin(db: Session, actor: int) -> None:
    """Refuse an account that administers no body."""
    user = actor_of(db, actor)
    if not bodies_of(db, user, Role.ADMIN):
        raise _any_admin(user)


@dataclass(frozen=True)
class TrustList:
    """The CAs a caller sees: the shared store's (bundled and demo: every body) and the
    administrator-added anchors of the bodies they may see."""

    shared: list[TrustedCert]
    anchors: list[TrustAnchor]


def list_trust_anchors(db: Session, actor: int, shared: TrustStore) -> TrustList:
    """A body's administrator or auditor sees the bundled, demo and province-wide CAs and
    those of their own bodies; a province administrator sees every body's."""
    user = actor_of(db, actor)
    seen: list[int] | None = None
    if not is_province_admin(user):
        seen = sorted({b.id for b in bodies_of(db, user, Role.ADMIN)}
                      | {b.id for b in bodies_of(db, user, Role.AUDITOR)})
        if not seen:
            raise _any_admin(user)
    return TrustList(list(shared), anchors_visible_to(db, seen))


def _anchor_scope(db: Session, user: User, scope: str, body_id: int | None) -> Scope:
    if scope == PROVINCE:
        if not is_province_admin(user):
            raise ProvinceAdminOnly(user.username)
        return Scope(None)
    if body_id is None:
        administered = bodies_of(db, user, Role.ADMIN)
        if len(administered) != 1:
            if not administered and not is_province_admin(user):
                raise _any_admin(user)
            raise NoBodyChosen()
        return Scope(administered[0])
    if is_province_admin(user):
        body = db.get(Organisation, body_id)
        if body is None:
            raise NotFound(f"cơ quan {body_id} / body {body_id}")
        return Scope(body)
    return Scope(administered_body(db, user, body_id))


@dataclass(frozen=True)
class AnchorsAdded:
    added: list[TrustAnchor]
    #: certificates the shared store already trusts (bundled or demo)
    already: list[TrustedCert]


def add_trust_anchors(db: Session, actor: int, shared: TrustStore, data: bytes,
                      file_name: str, scope: str = "body",
                      body_id: int | None = None) -> AnchorsAdded:
    """Trust another CA (PEM or DER, one or more certificates). ``scope="body"``: only for
    ``body_id`` — a body the caller administers; may be left out when they administer
    exactly one. ``scope="province"``: for every body; only a province administrator.
    Certificates already in the shared store are not added again."""
    user = actor_of(db, actor)
    chosen = _anchor_scope(db, user, scope, body_id)
    added, already = [], []
    for cert in load_certificates(data, file_name):
        TrustStore().add(cert, Origin.ADMIN, file_name)  # a demo CA: refused
        if (entry := shared.find(cert)) is not None:
            already.append(entry)
            continue
        anchor, _ = add_anchor(db, cert, chosen, actor=user.username,
                               province_admin=is_province_admin(user), source=file_name)
        added.append(anchor)
    db.commit()
    return AnchorsAdded(added, already)


def remove_trust_anchor(db: Session, actor: int, anchor_id: int) -> TrustAnchor:
    """Stop trusting an administrator-added CA (audited; the row is kept as history).
    A body's anchor: that body's administrator or a province administrator; a
    province-wide one: a province administrator only."""
    user = actor_of(db, actor)
    anchor = remove_anchor(db, anchor_id, actor=user.username,
                           administered=[b.id for b in bodies_of(db, user, Role.ADMIN)],
                           province_admin=is_province_admin(user))
    db.commit()
    return anchor


#: Who the audit trail says made an operator's change at the command line.
OPERATOR = "người vận hành (dòng lệnh)"


def set_province_admin(db: Session, username: str, on: bool = True) -> bool:
    """The operator (``kyso accounts province-admin``: no account, they hold the data
    directory) makes an account a province administrator, or (``on=False``) takes it
    away; audited when it changes. Whether it changed."""
    name = normalise_username(username)
    user = db.scalar(select(User).where(User.username == name))
    if user is None:
        raise KysoError(f"không có tài khoản {name}", f"no account {name}")
    before = user.province_admin
    user.province_admin = on
    db.flush()
    if before != user.province_admin:
        record(db, AuditAction.ADMIN_CHANGE, actor=OPERATOR, object_type="user",
               object_id=str(user.id), details={"username": user.username,
                                               "before": {"province_admin": before},
                                               "after": {"province_admin": on}})
    db.commit()
    return before != on
