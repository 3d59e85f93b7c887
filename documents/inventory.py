"""Who holds which key: every certificate a body signs with, and when each runs out.

One row per binding of a certificate — a person's signing authority, a body's organisation
key — with its holder, role, issuer, serial, validity, where the key is (a server token
or HSM, the signer's own PC through ``kyso agent``, a remote-signing account) and when it
last signed (the latest signature audit event naming its SHA-256). A certificate's
details come from what was registered (:class:`~documents.jobs.SignerCertificate`);
one never registered shows its SHA-256 and says so.

:func:`expiry_warning` gives the step of the 60/30/7-day warnings a certificate is in;
:func:`certificates_in_use` is what the administrator's page and export list. Nothing
here commits.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .audit import AuditAction, AuditEvent
from .custody import Channel, channel_of_token
from .jobs import SignerCertificate
from .models import REMOTE_PREFIX, Organisation, OrganisationKey, Person, SigningAuthority

__all__ = ["CertificateInUse", "ExpiryWarning", "KeyRole", "certificates_in_use",
           "expiry_warning", "WARNING_DAYS"]

#: The days before expiry at which the holder and the administrators are warned.
WARNING_DAYS = (60, 30, 7)
_SIGNING_ACTIONS = (AuditAction.SIGN, AuditAction.SEAL, AuditAction.ATTACH, AuditAction.COPY)


class KeyRole(enum.Enum):
    PERSON = "Chữ ký số cá nhân"
    BODY = "Chữ ký số cơ quan (con dấu)"


class ExpiryWarning(enum.IntEnum):
    """How close a certificate is to its end; the value is the days of the step."""

    EXPIRED = 0
    DAYS_7 = 7
    DAYS_30 = 30
    DAYS_60 = 60


@dataclass(frozen=True)
class CertificateInUse:
    sha256: str
    role: KeyRole
    holder: str
    body: str
    body_id: int
    #: what the holder signs as ("Phó Chủ tịch", "KT. CHỦ TỊCH"), or the body's name
    capacity: str
    channel: Channel
    #: the token's name, "kyso agent", or the remote-signing account
    key_location: str
    subject: str | None
    issuer: str | None
    serial: str | None
    not_before: datetime | None
    not_after: datetime | None
    last_used: datetime | None
    warning: ExpiryWarning | None

    @property
    def registered(self) -> bool:
        return self.not_after is not None


def expiry_warning(not_after: datetime | None, now: datetime) -> ExpiryWarning | None:
    """The warning step ``not_after`` is in at ``now`` (None: more than 60 days left)."""
    if not_after is None:
        return None
    days = (not_after - now).total_seconds() / 86400
    if days <= 0:
        return ExpiryWarning.EXPIRED
    for step in sorted(WARNING_DAYS):
        if days <= step:
            return ExpiryWarning(step)
    return None


def _location(token_name: str) -> str:
    channel = channel_of_token(token_name)
    if channel is Channel.AGENT:
        return "USB token trên máy người ký (kyso agent)"
    if channel is Channel.REMOTE:
        return f"ký số từ xa: {token_name.removeprefix(REMOTE_PREFIX)}"
    return f"thiết bị ký trên máy chủ: {token_name}"


def _last_used(session: Session, sha256: str) -> datetime | None:
    return session.scalar(select(func.max(AuditEvent.occurred_at)).where(
        AuditEvent.action.in_(_SIGNING_ACTIONS), AuditEvent.details.contains(sha256)))


def certificates_in_use(session: Session, body_ids: Iterable[int], *,
                        now: datetime | None = None) -> list[CertificateInUse]:
    """Every certificate bound in the given bodies, soonest expiry first."""
    now = now or datetime.now(UTC)
    bodies = list(body_ids)
    rows: list[tuple[str, KeyRole, str, Organisation, str, str]] = []
    for authority, person in session.execute(
            select(SigningAuthority, Person).join(Person, SigningAuthority.person_id == Person.id)
            .where(SigningAuthority.body_id.in_(bodies))):
        capacity = authority.designation_line or person.position
        rows.append((authority.certificate_sha256, KeyRole.PERSON, person.full_name,
                     authority.body, capacity, authority.token_name))
    for key in session.scalars(select(OrganisationKey).where(OrganisationKey.body_id.in_(bodies))):
        rows.append((key.certificate_sha256, KeyRole.BODY, key.body.name, key.body,
                     key.body.name, key.token_name))
    known = {c.sha256: c for c in session.scalars(select(SignerCertificate).where(
        SignerCertificate.sha256.in_({r[0] for r in rows})))}
    found: list[CertificateInUse] = []
    for sha256, role, holder, body, capacity, token in rows:
        registered = known.get(sha256)
        cert = registered.certificate if registered else None
        validity = cert["tbs_certificate"]["validity"] if cert else None
        not_after = validity["not_after"].native if validity else None
        found.append(CertificateInUse(
            sha256=sha256, role=role, holder=holder, body=body.name, body_id=body.id,
            capacity=capacity, channel=channel_of_token(token), key_location=_location(token),
            subject=cert.subject.human_friendly if cert else None,
            issuer=cert.issuer.human_friendly if cert else None,
            serial=format(cert.serial_number, "X") if cert else None,
            not_before=validity["not_before"].native if validity else None,
            not_after=not_after, last_used=_last_used(session, sha256),
            warning=expiry_warning(not_after, now)))
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda c: (c.not_after or far, c.body, c.holder))
