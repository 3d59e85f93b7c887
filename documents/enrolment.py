"""A person's certificate, checked before Kyso binds it or asks for the PIN that uses it.

Wherever a certificate comes from — read by ``kyso agent`` from the official's token,
listed by a remote-signing (CSC) credential, or uploaded as PEM by the administrator —
it is checked the same way before it is registered: it must be valid now, chain to a
CA of the trust store, allow non-repudiation, and (online) not be revoked.
:func:`check_before_pin` repeats the check on the registered certificate when an
approval starts, so an official whose certificate expired or was revoked is told so
before being asked for a PIN, not after the signature fails.

The refusals are the signer's (:class:`~signer.CertificateExpired`,
:class:`~signer.CertificateRevoked`, :class:`~signer.CertificateUntrusted`), so a
refusal reads the same at registration, before the PIN and when signing.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import x509
from pyhanko_certvalidator import ValidationContext
from sqlalchemy.orm import Session

from signer import check_signer_certificate

from .jobs import SignerCertificate, register_certificate
from .models import Person, SigningAuthority

__all__ = ["CertificateFacts", "check_before_pin", "check_certificate", "enrol_certificate"]


@dataclass(frozen=True)
class CertificateFacts:
    """What the administrator sees of a certificate that passed the check."""

    sha256: str
    subject: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    #: the CA certificates of the validated path, issuer first, root last
    chain: tuple[x509.Certificate, ...]


def check_certificate(certificate: x509.Certificate, context: ValidationContext, *,
                      at: datetime | None = None,
                      intermediates: Sequence[x509.Certificate] = ()) -> CertificateFacts:
    """``certificate``'s facts when it may sign at ``at`` (now by default) under
    ``context`` (trust store, fetching allowed or not), ``intermediates`` helping build
    its path; else the signer's refusal."""
    moment = at or datetime.now(UTC)
    chain = asyncio.run(check_signer_certificate(certificate, context, moment,
                                                 intermediates=intermediates))
    validity = certificate["tbs_certificate"]["validity"]
    return CertificateFacts(
        sha256=hashlib.sha256(certificate.dump()).hexdigest(),
        subject=certificate.subject.human_friendly,
        issuer=certificate.issuer.human_friendly,
        serial=format(certificate.serial_number, "X"),
        not_before=validity["not_before"].native,
        not_after=validity["not_after"].native,
        chain=tuple(chain),
    )


def enrol_certificate(session: Session, person: Person, certificate: x509.Certificate,
                      context: ValidationContext, *, chain: Sequence[x509.Certificate] = (),
                      at: datetime | None = None, actor: str | None = None) -> CertificateFacts:
    """Check ``certificate`` and keep it for preparing ``person``'s documents; it must be
    the one registered for one of their signing authorities (by SHA-256). Nothing is kept
    when the check refuses it. Does not commit."""
    facts = check_certificate(certificate, context, at=at)
    register_certificate(session, person, certificate, list(chain) or list(facts.chain),
                         actor=actor)
    return facts


def check_before_pin(session: Session, authority: SigningAuthority,
                     context: ValidationContext, *,
                     at: datetime | None = None) -> CertificateFacts | None:
    """Refuse ``authority``'s certificate if it may not sign now (expired, not yet valid,
    revoked, untrusted), before its holder is asked for a PIN. ``None`` when Kyso has not
    seen the certificate yet (the agent or the remote service checks it when it does)."""
    known = session.get(SignerCertificate, authority.certificate_sha256)
    if known is None:
        return None
    # the chain it was registered with: the store need not hold the signer's intermediate
    return check_certificate(known.certificate, context, at=at, intermediates=known.chain)
