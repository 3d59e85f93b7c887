"""The administrator's acts of going live: a body from nothing, its pictures, its staff and
its people's certificates, what holds which key.

Each act takes the session factory (it owns its one transaction), the acting account's id
and plain values; it checks that the account administers the body (the first run: that
the instance is empty) and records its audit event through the domain function it calls
(:func:`~documents.start_body`, :func:`~documents.add_picture`,
:func:`~documents.import_staff`, :func:`~documents.enrolment.enrol_certificate`). HTTP
routes, web pages and the command line call these and only translate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from asn1crypto import pem, x509
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from signer import check_seal, check_signature

from .accounts import Forbidden, Role, User, require_role
from .audit import AuditAction, record
from .block_preview import BlockText, render_block_preview
from .custody import approval_key, bind_seal
from .enrolment import CertificateFacts, check_before_pin, check_certificate, enrol_certificate
from .errors import InstanceNotEmpty, NoSigningAuthority
from .inventory import CertificateInUse, certificates_in_use
from .jobs import SignerCertificate
from .models import Document, Organisation, Person, SigningAuthority
from .onboarding import BodyPlan, FirstAdmin, ImportedStaff, import_staff, start_body
from .pictures import Picture, PictureKind, add_picture, pictures_of, signature_of
from .staff import read_staff_list

__all__ = [
    "PictureVersion", "administered", "approval_certificate", "certificate_inventory",
    "check_approval_certificate", "enrol_for_person", "enrol_own", "enrol_seal_certificate",
    "first_run",
    "InventorySheet", "import_staff_file", "instance_is_empty", "inventory_sheet",
    "people_pictures",
    "picture_versions",
    "preview_picture", "upload_seal", "upload_signature",
]

Sessions = sessionmaker[Session]


@dataclass(frozen=True)
class PictureVersion:
    """One stored version of a picture, as the admin pages list it."""

    id: int
    kind: str
    body_id: int | None
    person_id: int | None
    sha256: str
    width_px: int
    height_px: int
    width_mm: float
    uploaded_by: str
    uploaded_at: datetime
    current: bool

    @classmethod
    def of(cls, picture: Picture, *, current: bool) -> PictureVersion:
        return cls(picture.id, picture.kind.value, picture.body_id, picture.person_id,
                   picture.sha256, picture.width_px, picture.height_px, picture.width_mm,
                   picture.uploaded_by, picture.uploaded_at, current)


def administered(session: Session, actor_id: int, body_id: int) -> tuple[User, Organisation]:
    """The acting account and the body, when the account is an administrator of it
    (:class:`Forbidden` otherwise, also for a body that does not exist)."""
    user = session.get_one(User, actor_id)
    body = session.get(Organisation, body_id)
    if body is None:
        raise Forbidden(user.username, Role.ADMIN.value, Role.ADMIN.english,
                        f"cơ quan {body_id} / body {body_id}")
    require_role(session, user, body, Role.ADMIN)
    return user, body


def _person_of(session: Session, body: Organisation, person_id: int, user: User) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.body_id != body.id:
        raise Forbidden(user.username, Role.ADMIN.value, Role.ADMIN.english,
                        f"người {person_id} của {body.name} / person {person_id}")
    return person


# --- the first run ---------------------------------------------------------------------------

def instance_is_empty(sessions: Sessions) -> bool:
    """No body and no account yet: the first-run page is open."""
    with sessions() as session:
        return not session.scalar(select(exists().where(Organisation.id.is_not(None)))) \
            and not session.scalar(select(exists().where(User.id.is_not(None))))


def first_run(sessions: Sessions, plan: BodyPlan, admin: FirstAdmin) -> int:
    """The web's ``kyso init``: the first body and its administrator, on an empty instance
    only (:class:`InstanceNotEmpty` afterwards: bodies are added by an administrator)."""
    with sessions() as session, session.begin():
        if session.scalar(select(exists().where(Organisation.id.is_not(None)))) \
                or session.scalar(select(exists().where(User.id.is_not(None)))):
            raise InstanceNotEmpty()
        body = start_body(session, plan, admin, actor=admin.username)
        return body.id


def import_staff_file(sessions: Sessions, actor_id: int, body_id: int, content: bytes,
                      filename: str) -> ImportedStaff:
    """A staff list (XLSX or CSV) as people and accounts of the body, all or nothing."""
    staff = read_staff_list(content, filename)
    with sessions() as session, session.begin():
        user, body = administered(session, actor_id, body_id)
        imported = import_staff(session, body, staff, actor=user.username)
        for person in imported.people:
            session.expunge(person)
        return imported


# --- pictures --------------------------------------------------------------------------------

def upload_seal(sessions: Sessions, actor_id: int, body_id: int, png: bytes,
                diameter_mm: float = 36.0) -> PictureVersion:
    """A new version of the body's seal picture (checked, trimmed, audited)."""
    checked = check_seal(png, diameter_mm)
    with sessions() as session, session.begin():
        user, body = administered(session, actor_id, body_id)
        picture = add_picture(session, checked, actor=user.username, body=body)
        return PictureVersion.of(picture, current=True)


def upload_signature(sessions: Sessions, actor_id: int, body_id: int, person_id: int,
                     png: bytes) -> PictureVersion:
    """A new version of ``person_id``'s handwritten-signature picture."""
    checked = check_signature(png)
    with sessions() as session, session.begin():
        user, body = administered(session, actor_id, body_id)
        person = _person_of(session, body, person_id, user)
        picture = add_picture(session, checked, actor=user.username, person=person)
        return PictureVersion.of(picture, current=True)


def picture_versions(sessions: Sessions, actor_id: int, body_id: int, *,
                     person_id: int | None = None) -> list[PictureVersion]:
    """Every version of the body's seal (or of ``person_id``'s signature), newest first;
    the first is the one stamped."""
    with sessions() as session:
        user, body = administered(session, actor_id, body_id)
        if person_id is None:
            found = pictures_of(session, body=body)
        else:
            found = pictures_of(session, person=_person_of(session, body, person_id, user))
        return [PictureVersion.of(p, current=i == 0) for i, p in enumerate(found)]


def people_pictures(sessions: Sessions, actor_id: int,
                    body_id: int) -> list[tuple[int, str, str, list[PictureVersion]]]:
    """(id, name, position, signature versions) of each active person of the body."""
    with sessions() as session:
        user, body = administered(session, actor_id, body_id)
        people = session.scalars(select(Person).where(
            Person.body_id == body.id, Person.active.is_(True)).order_by(Person.full_name))
        return [(p.id, p.full_name, p.position,
                 [PictureVersion.of(v, current=i == 0)
                  for i, v in enumerate(pictures_of(session, person=p))]) for p in people]


def _block_text(session: Session, body: Organisation, person: Person | None) -> BlockText:
    if person is None:
        return BlockText(f"TM. {body.name.split(' xã ')[0].upper()}", "CHỦ TỊCH",
                         "Họ và tên người ký")
    authority = session.scalar(select(SigningAuthority).where(
        SigningAuthority.person_id == person.id).order_by(SigningAuthority.id))
    line = authority.designation_line if authority is not None else None
    return BlockText((line or "").upper(), person.position.upper(), person.full_name)


def preview_picture(sessions: Sessions, actor_id: int, body_id: int, *, kind: PictureKind,
                    png: bytes | None = None, person_id: int | None = None,
                    diameter_mm: float = 36.0) -> bytes:
    """The signature block as it will be stamped (a PNG), with ``png`` — checked as an
    upload would be, not kept — or the current picture in its place, and the body's
    current other picture beside it. Nothing is written."""
    checked = None
    if png is not None:
        checked = check_seal(png, diameter_mm) if kind is PictureKind.SEAL \
            else check_signature(png)
    with sessions() as session:
        user, body = administered(session, actor_id, body_id)
        person = _person_of(session, body, person_id, user) if person_id is not None else None
        seals = pictures_of(session, body=body)
        seal_png = seals[0].png if seals else None
        seal_mm = seals[0].width_mm if seals else diameter_mm
        current_signature = signature_of(session, person) if person is not None else None
        signature_png = current_signature.png if current_signature is not None else None
        if checked is not None and kind is PictureKind.SEAL:
            seal_png, seal_mm = checked.png, checked.width_mm
        elif checked is not None:
            signature_png = checked.png
        return render_block_preview(_block_text(session, body, person), seal=seal_png,
                                    seal_mm=seal_mm, signature=signature_png)


# --- certificates ----------------------------------------------------------------------------

def enrol_for_person(sessions: Sessions, actor_id: int, body_id: int, person_id: int,
                     certificate: x509.Certificate, context: ValidationContext, *,
                     chain: Sequence[x509.Certificate] = (),
                     source: str) -> CertificateFacts:
    """Register ``person_id``'s certificate after the trust check (an uploaded PEM, or the
    certificate a remote-signing credential lists: ``source`` says which, for the trail)."""
    with sessions() as session, session.begin():
        user, body = administered(session, actor_id, body_id)
        person = _person_of(session, body, person_id, user)
        return enrol_certificate(session, person, certificate, context, chain=chain,
                                 actor=f"{user.username} ({source})")


def enrol_seal_certificate(sessions: Sessions, actor_id: int, body_id: int,
                           certificate: x509.Certificate, token_name: str,
                           context: ValidationContext, *,
                           chain: Sequence[x509.Certificate] = (),
                           valid_from: date | None = None) -> CertificateFacts:
    """The body's organisation certificate, checked like a person's (valid, trusted chain,
    non-repudiation, not revoked), kept, and bound to the server token holding its key
    (a replacement takes over from ``valid_from``)."""
    facts = check_certificate(certificate, context)
    with sessions() as session, session.begin():
        user, body = administered(session, actor_id, body_id)
        bind_seal(session, body, facts.sha256, token_name, valid_from=valid_from,
                  actor=user.username)
        if session.get(SignerCertificate, facts.sha256) is None:
            kept = list(chain) or list(facts.chain)
            session.add(SignerCertificate(
                sha256=facts.sha256, der=certificate.dump(),
                chain_pem="".join(pem.armor("CERTIFICATE", c.dump()).decode() for c in kept),
                subject=facts.subject, not_after=facts.not_after, added_by=user.username))
            record(session, AuditAction.ADMIN_CHANGE, actor=user.username, body_id=body.id,
                   object_type="signer_certificate", object_id=facts.sha256,
                   details={"organisation": body.name, "subject": facts.subject})
        return facts


def enrol_own(sessions: Sessions, actor_id: int, certificate: x509.Certificate,
              context: ValidationContext, *,
              chain: Sequence[x509.Certificate] = ()) -> CertificateFacts:
    """The certificate ``kyso agent`` read on the caller's own token, registered for the
    official the account belongs to after the trust check."""
    with sessions() as session, session.begin():
        user = session.get_one(User, actor_id)
        if user.person is None:
            raise Forbidden(user.username, Role.SIGNER.value, Role.SIGNER.english,
                            "(tài khoản chưa gắn với người ký / account not linked to a "
                            "signer)")
        return enrol_certificate(session, user.person, certificate, context, chain=chain,
                                 actor=f"{user.username} (kyso agent)")


def approval_certificate(session: Session, user: User, document: Document,
                         context: ValidationContext) -> CertificateFacts | None:
    """Refuse the certificate of ``user``'s authority for approving ``document`` when it
    may not sign now (expired, revoked, untrusted): called before the approval is taken
    and the signer asked for a PIN. None when Kyso has not seen that certificate yet or
    the account holds no authority for it (the approval's own checks say so)."""
    if user.person is None:
        return None
    try:
        authority = approval_key(session, document, user.person)
    except NoSigningAuthority:
        return None
    return check_before_pin(session, authority, context)


def check_approval_certificate(sessions: Sessions, actor_id: int, document_id: str,
                               context: ValidationContext) -> CertificateFacts | None:
    """:func:`approval_certificate` in a transaction of its own."""
    with sessions() as session:
        return approval_certificate(session, session.get_one(User, actor_id),
                                    session.get_one(Document, document_id), context)


# --- who holds which key ---------------------------------------------------------------------

def certificate_inventory(sessions: Sessions, actor_id: int, body_id: int, *,
                          now: datetime | None = None) -> list[CertificateInUse]:
    """Every certificate bound in the body, soonest expiry first."""
    with sessions() as session:
        administered(session, actor_id, body_id)
        return certificates_in_use(session, [body_id], now=now)


@dataclass(frozen=True)
class InventorySheet:
    """The body's "who holds which key" list as it is exported: file name, title, rows."""

    file_name: str
    title: str
    rows: list[CertificateInUse]


def inventory_sheet(sessions: Sessions, actor_id: int, body_id: int, *,
                    now: datetime | None = None) -> InventorySheet:
    """The body's "who holds which key" list, titled and named for its export."""
    moment = now or datetime.now(UTC)
    with sessions() as session:
        _, body = administered(session, actor_id, body_id)
        name = body.name
    rows = certificate_inventory(sessions, actor_id, body_id, now=moment)
    return InventorySheet(f"chung-thu-so-{moment:%Y-%m-%d}.xlsx",
                          f"Chứng thư số đang dùng — {name} — {moment:%d/%m/%Y}", list(rows))
