"""The one seam in front of every place a private key lives.

A :class:`Token` opens a session (logging in with the PIN it is given, which it
never keeps) and yields a pyHanko ``Signer`` for as long as the block runs, or,
for hash-only signing, a :class:`~tokens.digest.DigestSigner` over bare digests.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asn1crypto import x509

from .digest import DigestSigner
from .errors import DigestSigningUnsupported

if TYPE_CHECKING:
    from pyhanko.sign.signers import Signer


@dataclass(frozen=True)
class CertInfo:
    """What a person needs to recognise a certificate."""

    subject: str
    issuer: str
    name: str  # the subject's common name
    issuer_name: str  # the issuer's common name
    not_before: str
    not_after: str
    sha256: str
    label: str = ""

    @classmethod
    def of(cls, cert: x509.Certificate, label: str = "") -> CertInfo:
        validity = cert["tbs_certificate"]["validity"]
        return cls(
            subject=cert.subject.human_friendly,
            issuer=cert.issuer.human_friendly,
            name=str(cert.subject.native.get("common_name", "")),
            issuer_name=str(cert.issuer.native.get("common_name", "")),
            not_before=validity["not_before"].native.isoformat(),
            not_after=validity["not_after"].native.isoformat(),
            sha256=hashlib.sha256(cert.dump()).hexdigest(),
            label=label,
        )


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str


class Token(abc.ABC):
    """A place where one signing key lives."""

    name: str

    @abc.abstractmethod
    def signer(self, pin: str | None) -> contextlib.AbstractContextManager[Signer]:
        """Log in with ``pin`` and yield a pyHanko ``Signer`` for the block."""

    def digest_signer(self, pin: str | None) -> contextlib.AbstractContextManager[DigestSigner]:
        """Log in with ``pin`` once and yield a :class:`~tokens.digest.DigestSigner` that
        signs many digests (hash-only signing). Backends that can, override this."""
        raise DigestSigningUnsupported(self.name)

    @abc.abstractmethod
    def health(self) -> Health:
        """Whether the token is there and usable, without logging in."""

    @property
    @abc.abstractmethod
    def needs_pin(self) -> bool:
        """Whether :meth:`signer` needs a PIN or password."""
