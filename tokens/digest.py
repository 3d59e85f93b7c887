"""Signing digests, not documents: the seam hash-only signing and the signer agent use.

A :class:`DigestSigner` is one logged-in session on a token (one PIN entry) that
signs as many digests as it is given, one at a time, and says which certificate
the signatures belong to. Only a digest ever reaches it, never the document.

Algorithms (the names pyHanko and asn1crypto use):

``rsassa_pkcs1v15``  RSA PKCS#1 v1.5 over DigestInfo(hash, digest)
``rsassa_pss``       RSA-PSS, MGF1 with the same hash, salt as long as the digest
                     (SHA-256: salt 32)
``ecdsa``            ECDSA over the digest; PKCS#11 tokens give raw r||s, software
                     keys DER — :class:`RawSignature` takes either
"""

from __future__ import annotations

import abc
import asyncio
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asn1crypto import algos, x509

from .errors import DigestRefused

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.padding import AsymmetricPadding
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

RSA_PKCS1V15 = "rsassa_pkcs1v15"
RSA_PSS = "rsassa_pss"
ECDSA = "ecdsa"
ALGORITHMS = (RSA_PKCS1V15, RSA_PSS, ECDSA)
#: Digest lengths of the hash algorithms a digest may come from.
DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}


@dataclass(frozen=True)
class RawSignature:
    """A signature value straight from a key, and the algorithm that made it."""

    value: bytes
    algorithm: str

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise DigestRefused(f"thuật toán '{self.algorithm}' / algorithm "
                                f"'{self.algorithm}' not one of {', '.join(ALGORITHMS)}")
        if not self.value:
            raise DigestRefused("chữ ký rỗng / empty signature value")


def key_algorithm(cert: x509.Certificate) -> str:
    """The default signature algorithm for the certificate's key."""
    algo = cert.public_key.algorithm
    if algo == "rsa":
        return RSA_PKCS1V15
    if algo == "ec":
        return ECDSA
    raise DigestRefused(f"khóa {algo} / {algo} keys are not supported")


def check_request(cert: x509.Certificate, digest: bytes, algorithm: str,
                  md_algorithm: str) -> None:
    """Refuse a digest of the wrong length or an algorithm the key cannot do."""
    size = DIGEST_SIZES.get(md_algorithm)
    if size is None:
        raise DigestRefused(f"hàm băm '{md_algorithm}' / hash '{md_algorithm}' unsupported")
    if len(digest) != size:
        raise DigestRefused(f"giá trị băm dài {len(digest)} byte, cần {size} / digest is "
                            f"{len(digest)} bytes, {md_algorithm} needs {size}")
    key = cert.public_key.algorithm
    if (key == "ec") != (algorithm == ECDSA) or algorithm not in ALGORITHMS:
        raise DigestRefused(f"khóa {key} không ký được {algorithm} / a {key} key cannot "
                            f"sign {algorithm}")


def digest_info(digest: bytes, md_algorithm: str) -> bytes:
    """DER DigestInfo, what RSA PKCS#1 v1.5 pads and signs (``CKM_RSA_PKCS`` input)."""
    return bytes(algos.DigestInfo({
        "digest_algorithm": {"algorithm": md_algorithm},  # parameters: NULL
        "digest": digest,
    }).dump())


def pss_params(md_algorithm: str) -> algos.RSASSAPSSParams:
    """The RSASSA-PSS parameters Kyso uses: MGF1 with the same hash, salt = digest size."""
    return algos.RSASSAPSSParams({
        "hash_algorithm": {"algorithm": md_algorithm},
        "mask_gen_algorithm": {"algorithm": "mgf1",
                               "parameters": {"algorithm": md_algorithm}},
        "salt_length": DIGEST_SIZES[md_algorithm],
    })


class DigestSigner(abc.ABC):
    """One logged-in session on one key, signing digests one at a time.

    ``algorithm`` is what :meth:`sign_digest` uses when not told otherwise (the key's
    default: PKCS#1 v1.5 for RSA, ECDSA for EC). Use it only inside the
    ``Token.digest_signer(pin)`` block that made it.
    """

    def __init__(self, certificate: x509.Certificate,
                 chain: tuple[x509.Certificate, ...] = (), algorithm: str | None = None) -> None:
        self.certificate = certificate
        self.chain = tuple(chain)
        self.algorithm = algorithm or key_algorithm(certificate)
        check_request(certificate, bytes(32), self.algorithm, "sha256")
        self._lock = threading.Lock()

    def sign_digest(self, digest: bytes, *, algorithm: str | None = None,
                    md_algorithm: str = "sha256") -> RawSignature:
        """Sign ``digest`` (an ``md_algorithm`` hash) on the key; blocking."""
        algorithm = algorithm or self.algorithm
        check_request(self.certificate, digest, algorithm, md_algorithm)
        with self._lock:  # a token does one operation at a time
            value = self._sign(digest, algorithm, md_algorithm)
        return RawSignature(value, algorithm)

    async def async_sign_digest(self, digest: bytes, *, algorithm: str | None = None,
                                md_algorithm: str = "sha256") -> RawSignature:
        """:meth:`sign_digest` in a worker thread, so an event loop keeps running."""
        return await asyncio.to_thread(self.sign_digest, digest, algorithm=algorithm,
                                       md_algorithm=md_algorithm)

    @abc.abstractmethod
    def _sign(self, digest: bytes, algorithm: str, md_algorithm: str) -> bytes:
        """The key operation itself, on checked arguments."""


class SoftwareDigestSigner(DigestSigner):
    """A software key (PKCS#12) held by pyca/cryptography; ECDSA values come out DER."""

    def __init__(self, private_key: PrivateKeyTypes, certificate: x509.Certificate,
                 chain: tuple[x509.Certificate, ...] = (), algorithm: str | None = None) -> None:
        super().__init__(certificate, chain, algorithm)
        self._key = private_key

    def _sign(self, digest: bytes, algorithm: str, md_algorithm: str) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

        hashers: dict[str, type[hashes.HashAlgorithm]] = {
            "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
        hash_algo = hashers[md_algorithm]()
        prehashed = utils.Prehashed(hash_algo)
        key = self._key
        # a key of another kind: the TypeError its own sign() would have raised
        if algorithm == ECDSA:
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise TypeError(f"a {type(key).__name__} does not sign {algorithm}")
            return bytes(key.sign(digest, ec.ECDSA(prehashed)))
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError(f"a {type(key).__name__} does not sign {algorithm}")
        if algorithm == RSA_PSS:
            pad: AsymmetricPadding = padding.PSS(mgf=padding.MGF1(hash_algo),
                                                 salt_length=DIGEST_SIZES[md_algorithm])
        else:
            pad = padding.PKCS1v15()
        return bytes(key.sign(digest, pad, prehashed))


def verify_raw(cert: x509.Certificate, digest: bytes, signature: RawSignature,
               md_algorithm: str = "sha256") -> bool:
    """Whether ``signature`` is ``cert``'s key over ``digest`` (a quick check made before
    a signature is accepted from outside: an agent or a remote-signing service)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

    key = serialization.load_der_public_key(cert.public_key.dump())
    hash_algorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
                      "sha512": hashes.SHA512()}[md_algorithm]
    prehashed = utils.Prehashed(hash_algorithm)
    value = signature.value
    try:
        if isinstance(key, ec.EllipticCurvePublicKey) and signature.algorithm == ECDSA:
            size = (key.curve.key_size + 7) // 8
            if len(value) == 2 * size:  # raw r||s as PKCS#11 gives it
                value = utils.encode_dss_signature(int.from_bytes(value[:size], "big"),
                                                   int.from_bytes(value[size:], "big"))
            key.verify(value, digest, ec.ECDSA(prehashed))
        elif isinstance(key, rsa.RSAPublicKey) and signature.algorithm == RSA_PKCS1V15:
            key.verify(value, digest, padding.PKCS1v15(), prehashed)
        elif isinstance(key, rsa.RSAPublicKey) and signature.algorithm == RSA_PSS:
            pss = padding.PSS(padding.MGF1(hash_algorithm), DIGEST_SIZES[md_algorithm])
            key.verify(value, digest, pss, prehashed)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True
