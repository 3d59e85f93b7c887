"""PKCS#12 files: a software key, for tests, development and servers without an HSM."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .base import Health, Token
from .digest import DigestSigner, SoftwareDigestSigner
from .errors import KeyFileError

if TYPE_CHECKING:
    from asn1crypto import keys, x509
    from cryptography import x509 as pyca_x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from pyhanko.sign.signers import Signer, SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore


def _cached_key_signer(pyca_key: PrivateKeyTypes, *, signing_key: keys.PrivateKeyInfo,
                       signing_cert: x509.Certificate,
                       cert_registry: SimpleCertificateStore) -> SimpleSigner:
    """A pyHanko SimpleSigner that parses its private key once, not per signature."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    class CachedKeySigner(SimpleSigner):
        async def async_sign_raw(
            self, data: bytes, digest_algorithm: str, dry_run: bool = False
        ) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            hash_algo = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15" and isinstance(pyca_key, rsa.RSAPrivateKey):
                return bytes(pyca_key.sign(data, padding.PKCS1v15(), hash_algo))
            if mechanism == "ecdsa" and isinstance(pyca_key, ec.EllipticCurvePrivateKey):
                return bytes(pyca_key.sign(data, ec.ECDSA(hash_algo)))
            return bytes(await super().async_sign_raw(data, digest_algorithm, dry_run))

    return CachedKeySigner(signing_key=signing_key, signing_cert=signing_cert,
                           cert_registry=cert_registry)


@dataclass(frozen=True)
class Pkcs12Config:
    name: str
    path: str


class Pkcs12Token(Token):
    def __init__(self, config: Pkcs12Config) -> None:
        self.config = config
        self.name = config.name

    @property
    def needs_pin(self) -> bool:
        return True

    def health(self) -> Health:
        path = Path(self.config.path)
        if path.is_file():
            return Health(True, f"PKCS#12 {path}")
        return Health(False, KeyFileError(str(path)).one_line())

    def _load(self, pin: str | None) -> tuple[PrivateKeyTypes, pyca_x509.Certificate,
                                              list[pyca_x509.Certificate]]:
        """The pyca key, certificate and extra certificates of the file."""
        from cryptography.hazmat.primitives.serialization import pkcs12

        try:
            data = Path(self.config.path).read_bytes()
            key, cert, extra = pkcs12.load_key_and_certificates(
                data, pin.encode("utf-8") if pin else None)
        except (OSError, ValueError, TypeError) as exc:
            raise KeyFileError(self.config.path) from exc
        if key is None or cert is None:
            raise KeyFileError(self.config.path)
        return key, cert, list(extra)

    @contextlib.contextmanager
    def signer(self, pin: str | None) -> Iterator[Signer]:
        from pyhanko.keys.internal import (
            translate_pyca_cryptography_cert_to_asn1,
            translate_pyca_cryptography_key_to_asn1,
        )
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        key, cert, extra = self._load(pin)
        registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
        registry.register_multiple([translate_pyca_cryptography_cert_to_asn1(c) for c in extra])
        yield _cached_key_signer(
            key,
            signing_key=translate_pyca_cryptography_key_to_asn1(key),
            signing_cert=translate_pyca_cryptography_cert_to_asn1(cert),
            cert_registry=registry,
        )

    @contextlib.contextmanager
    def digest_signer(self, pin: str | None) -> Iterator[DigestSigner]:
        """The file's key, opened once with ``pin``, signing many digests."""
        from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1

        key, cert, extra = self._load(pin)
        yield SoftwareDigestSigner(
            key, translate_pyca_cryptography_cert_to_asn1(cert),
            tuple(translate_pyca_cryptography_cert_to_asn1(c) for c in extra))
