"""The trust store: which CA certificates Kyso accepts, and where each came from.

Anchors are self-signed roots; intermediates only help to build paths. Each
certificate carries its origin, so a demo anchor is never mistaken for a real
one: the real Vietnamese roots ship with the package (``certs/data/trust``),
the demo PKI's root is added per data directory, administrators add others.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import importlib.resources
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import pem, x509

from .errors import CertificateRefused, CertsError

#: Text every demo CA certificate carries in its subject; see ``demo_pki``.
DEMO_MARKER = "DEMO — NOT A REAL CA"


class Origin(enum.Enum):
    """Where a trusted certificate came from."""

    BUNDLED = "bundled"  # real public Vietnamese CA, shipped with Kyso
    DEMO = "demo"  # generated demo PKI of a data directory
    ADMIN = "admin"  # added by an administrator


@dataclass(frozen=True)
class TrustedCert:
    cert: x509.Certificate
    origin: Origin
    source: str

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.cert.dump()).hexdigest()

    @property
    def subject(self) -> str:
        return str(self.cert.subject.human_friendly)

    @property
    def is_anchor(self) -> bool:
        return bool(self.cert.self_signed != "no")

    @property
    def is_demo(self) -> bool:
        return self.origin is Origin.DEMO


def load_certificates(data: bytes, source: str) -> list[x509.Certificate]:
    """Read one or more certificates from PEM or DER bytes."""
    try:
        if pem.detect(data):
            return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        return [x509.Certificate.load(data)]
    except (ValueError, TypeError) as exc:
        raise CertificateRefused(
            f"không đọc được chứng thư số trong {source}",
            f"cannot read a certificate from {source}",
        ) from exc


@dataclass
class TrustStore:
    """A set of trusted CA certificates, each with its origin."""

    entries: list[TrustedCert] = field(default_factory=list)
    #: SHA-256 of every entry (entries are only added through :meth:`add`)
    _digests: set[str] = field(default_factory=set, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._digests = {e.sha256 for e in self.entries}

    def add(self, cert: x509.Certificate, origin: Origin, source: str) -> TrustedCert:
        if origin is not Origin.DEMO and DEMO_MARKER in cert.subject.human_friendly:
            raise CertificateRefused(
                f"chứng thư demo không được thêm như CA thật: {source}",
                f"a demo certificate cannot be added as a real CA: {source}",
            )
        entry = TrustedCert(cert, origin, source)
        if entry.sha256 not in self._digests:
            self.entries.append(entry)
            self._digests.add(entry.sha256)
        return entry

    def add_file(self, path: Path, origin: Origin) -> list[TrustedCert]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CertsError(
                f"không mở được tệp chứng thư {path}", f"cannot open certificate file {path}"
            ) from exc
        return [self.add(c, origin, str(path)) for c in load_certificates(data, str(path))]

    def __iter__(self) -> Iterator[TrustedCert]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def anchors(self) -> list[x509.Certificate]:
        return [e.cert for e in self.entries if e.is_anchor]

    @property
    def intermediates(self) -> list[x509.Certificate]:
        return [e.cert for e in self.entries if not e.is_anchor]

    def find(self, cert: x509.Certificate) -> TrustedCert | None:
        """The entry for ``cert`` (same DER), if it is in the store."""
        digest = hashlib.sha256(cert.dump()).hexdigest()
        if digest not in self._digests:
            return None
        return next((e for e in self.entries if e.sha256 == digest), None)

    def extend(self, certs: Iterable[x509.Certificate], origin: Origin, source: str) -> None:
        for cert in certs:
            self.add(cert, origin, source)


def bundled_store() -> TrustStore:
    """A store holding the real Vietnamese roots and intermediates shipped with Kyso."""
    store = TrustStore()
    folder = importlib.resources.files("certs.data") / "trust"
    for name in ("bundle-roots.pem", "bundle-intermediates.pem"):
        data = (folder / name).read_bytes()
        store.extend(load_certificates(data, name), Origin.BUNDLED, f"kyso:{name}")
    return store
