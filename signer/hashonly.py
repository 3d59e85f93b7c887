"""Hash-only (interrupted) signing: prepare here, sign a digest elsewhere, finish anywhere.

The key of a signer is often not where the service runs: a USB token on their own
PC (the ``kyso agent``), or a remote-signing service (CSC ``signHash``). Only a
digest travels::

    prepare_digest(pdf, cert, options) ──▶ PendingSignature ──.digest──▶ token / CSC
                                                │ to_bytes()/from_bytes()   │ raw signature
                                                ▼                           ▼
                                   finish(pending, RawSignature | CMS) ──▶ signed PDF

Preparing does everything :func:`~signer.sign.async_sign_pdf` does before the key is
needed (certificate check, field fills, free field name, visible stamp, one fixed
signing time) and keeps the prepared output with its placeholder and the signed
attributes. Finishing verifies the signature against the certificate BEFORE it is
embedded (a wrong key or a signature over another digest produces nothing), adds
the signature timestamp when a TSA was asked for (PAdES B-T), and fills the
placeholder. Given the same pending state, signature and timestamp token, every
process produces the same bytes. PAdES B-B and B-T only: no DSS/LTA post-signing
steps are kept in the state.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

from asn1crypto import algos, cms, x509
from pyhanko.sign.signers import Signer

from common import vietnam_time
from tokens import ALGORITHMS, DIGEST_SIZES, ECDSA, RSA_PSS, RawSignature, key_algorithm, pss_params

from .blocking import run_blocking
from .errors import (
    PendingSignatureExpired,
    PendingSignatureUnreadable,
    SignatureMismatch,
    SigningFailed,
)
from .malformed import VALIDATION_ERRORS
from .sign import (
    SigningOptions,
    contents_size,
    open_for_signing,
    pdf_signer_for,
    signing_errors,
)
from .tsa import timestamper

__all__ = ["FORMAT", "PendingSignature", "RawSignature", "async_fetch_timestamp",
           "async_finish", "async_prepare_digest", "fetch_timestamp", "finish",
           "prepare_digest"]

#: Version tag of :meth:`PendingSignature.to_bytes`; a change of layout gets a new one.
FORMAT = "kyso.pending-signature/1"
DEFAULT_LIFETIME = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class PendingSignature:
    """A PDF prepared for one signer, waiting for the signature over :attr:`digest`.

    Holds no secret: the prepared PDF (with its empty ``/Contents`` placeholder at
    ``reserved_region_start:reserved_region_end``), the byte-range digest, the
    DER-encoded signed attributes, the signer's certificate and chain (DER), the
    hash and signature algorithms, the TSA to ask at the end, the signing time,
    and when the state was made and stops being usable.
    """

    prepared_pdf: bytes
    document_digest: bytes
    reserved_region_start: int
    reserved_region_end: int
    signed_attrs: bytes
    certificate: bytes
    chain: tuple[bytes, ...]
    md_algorithm: str
    algorithm: str
    tsa_url: str | None
    field_name: str
    signing_time: dt.datetime
    created_at: dt.datetime
    expires_at: dt.datetime

    @property
    def digest(self) -> bytes:
        """What the key signs: the hash of the signed attributes (a CSC ``signHash`` input)."""
        return hashlib.new(self.md_algorithm, self.signed_attrs).digest()

    @property
    def signing_cert(self) -> x509.Certificate:
        return x509.Certificate.load(self.certificate)

    def expired(self, now: dt.datetime | None = None) -> bool:
        return (now or dt.datetime.now(dt.UTC)) >= self.expires_at

    def to_bytes(self) -> bytes:
        """A stable, versioned serialisation (JSON, binary fields in base64)."""
        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode("ascii")

        doc = {
            "format": FORMAT,
            "prepared_pdf": b64(self.prepared_pdf),
            "document_digest": self.document_digest.hex(),
            "reserved_region": [self.reserved_region_start, self.reserved_region_end],
            "signed_attrs": b64(self.signed_attrs),
            "certificate": b64(self.certificate),
            "chain": [b64(c) for c in self.chain],
            "md_algorithm": self.md_algorithm,
            "algorithm": self.algorithm,
            "tsa_url": self.tsa_url,
            "field_name": self.field_name,
            "signing_time": self.signing_time.isoformat(),
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes) -> PendingSignature:
        """Read what :meth:`to_bytes` wrote; anything else is refused."""
        try:
            doc = json.loads(data)
            if not isinstance(doc, dict) or doc.get("format") != FORMAT:
                found = doc.get("format") if isinstance(doc, dict) else None
                raise PendingSignatureUnreadable(f"định dạng / format {found!r} ≠ {FORMAT}")
            start, end = (int(n) for n in doc["reserved_region"])
            pending = cls(
                prepared_pdf=base64.b64decode(doc["prepared_pdf"], validate=True),
                document_digest=bytes.fromhex(doc["document_digest"]),
                reserved_region_start=start,
                reserved_region_end=end,
                signed_attrs=base64.b64decode(doc["signed_attrs"], validate=True),
                certificate=base64.b64decode(doc["certificate"], validate=True),
                chain=tuple(base64.b64decode(c, validate=True) for c in doc["chain"]),
                md_algorithm=str(doc["md_algorithm"]),
                algorithm=str(doc["algorithm"]),
                tsa_url=None if doc["tsa_url"] is None else str(doc["tsa_url"]),
                field_name=str(doc["field_name"]),
                signing_time=_aware(doc["signing_time"]),
                created_at=_aware(doc["created_at"]),
                expires_at=_aware(doc["expires_at"]),
            )
        except PendingSignatureUnreadable:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise PendingSignatureUnreadable(type(exc).__name__) from exc
        if pending.md_algorithm not in DIGEST_SIZES or pending.algorithm not in ALGORITHMS:
            raise PendingSignatureUnreadable(
                f"thuật toán / algorithm {pending.md_algorithm}/{pending.algorithm}")
        return pending


def _aware(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment


def _mechanism(algorithm: str, md_algorithm: str) -> algos.SignedDigestAlgorithm | None:
    """The CMS signature algorithm; ``None`` lets pyHanko pick the key's default
    (as :func:`~signer.sign.sign_pdf` does), explicit parameters for RSA-PSS."""
    if algorithm == RSA_PSS:
        return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss",
                                            "parameters": pss_params(md_algorithm)})
    return None


def _external_signer(cert: x509.Certificate, chain: Iterable[x509.Certificate],
                     algorithm: str, md_algorithm: str, value: bytes | None = None) -> Signer:
    from pyhanko.sign.signers.pdf_cms import ExternalSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    registry.register_multiple(list(chain))
    return ExternalSigner(signing_cert=cert, cert_registry=registry, signature_value=value,
                          signature_mechanism=_mechanism(algorithm, md_algorithm))


async def async_prepare_digest(
    pdf: bytes, signing_cert: x509.Certificate, options: SigningOptions, *,
    chain: Iterable[x509.Certificate] = (), signing_time: dt.datetime | None = None,
    lifetime: dt.timedelta = DEFAULT_LIFETIME, algorithm: str | None = None,
) -> PendingSignature:
    """Prepare ``pdf`` for ``signing_cert`` and return the state to finish it from.

    ``algorithm`` is the signature algorithm the key will use (default: PKCS#1 v1.5
    for RSA, ECDSA for EC; ``"rsassa_pss"`` on request). The certificate check, the
    field fills, the field name and the stamp are those of :func:`async_sign_pdf`.
    """
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    chain = tuple(chain)
    algorithm = algorithm or key_algorithm(signing_cert)
    if options.md_algorithm not in DIGEST_SIZES or algorithm not in ALGORITHMS:
        raise SigningFailed(f"thuật toán {options.md_algorithm}/{algorithm} không hỗ trợ / "
                            f"algorithm {options.md_algorithm}/{algorithm} unsupported")
    if (signing_cert.public_key.algorithm == "ec") != (algorithm == ECDSA):
        raise SigningFailed(f"khóa {signing_cert.public_key.algorithm} không ký được "
                            f"{algorithm} / a {signing_cert.public_key.algorithm} key cannot "
                            f"sign {algorithm}")
    moment = vietnam_time(signing_time)
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    writer, field_name, path = await open_for_signing(pdf, signing_cert, options, moment)
    # the chain given (a token's, a remote credential's) and the one validated
    chain = tuple({bytes(c.dump()): c for c in (*chain, *path)}.values())
    external = _external_signer(signing_cert, chain, algorithm, options.md_algorithm)
    pdf_signer = pdf_signer_for(options, external, moment, field_name, writer)
    out = io.BytesIO()
    with signing_errors(options.tsa_url):
        reserved = options.bytes_reserved or await contents_size(external, pdf_signer, moment)
        prepared, tbs, _ = await pdf_signer.async_digest_doc_for_signing(
            writer, bytes_reserved=reserved, output=out)
        if tbs.post_sign_instructions is not None:  # only with DSS/LTA, never set here
            raise SigningFailed("cần bước sau khi ký (DSS/LTA) / post-signing steps "
                                "(DSS/LTA) are not supported in hash-only signing")
        signed_attrs = await external.signed_attrs(
            prepared.document_digest, options.md_algorithm,
            attr_settings=PdfCMSSignedAttributes(
                signing_time=moment,
                cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec),
            use_pades=tbs.use_pades, timestamper=tbs.timestamper)
    return PendingSignature(
        prepared_pdf=out.getvalue(),
        document_digest=bytes(prepared.document_digest),
        reserved_region_start=prepared.reserved_region_start,
        reserved_region_end=prepared.reserved_region_end,
        signed_attrs=bytes(signed_attrs.dump()),
        certificate=bytes(signing_cert.dump()),
        chain=tuple(bytes(c.dump()) for c in chain),
        md_algorithm=options.md_algorithm,
        algorithm=algorithm,
        tsa_url=options.tsa_url,
        field_name=field_name,
        signing_time=moment,
        created_at=created,
        expires_at=created + lifetime,
    )


def prepare_digest(
    pdf: bytes, signing_cert: x509.Certificate, options: SigningOptions, *,
    chain: Iterable[x509.Certificate] = (), signing_time: dt.datetime | None = None,
    lifetime: dt.timedelta = DEFAULT_LIFETIME, algorithm: str | None = None,
) -> PendingSignature:
    """Blocking :func:`async_prepare_digest`."""
    return run_blocking(async_prepare_digest(
        pdf, signing_cert, options, chain=chain, signing_time=signing_time,
        lifetime=lifetime, algorithm=algorithm))


def _check_state(pending: PendingSignature) -> None:
    """Refuse a state whose parts do not belong together (damaged or edited in storage)."""
    pdf, start, end = pending.prepared_pdf, pending.reserved_region_start, \
        pending.reserved_region_end
    if not (0 < start < end <= len(pdf)) or pdf[start:start + 1] != b"<" \
            or pdf[end - 1:end] != b">":
        raise PendingSignatureUnreadable("vùng chữ ký / signature placeholder")
    covered = hashlib.new(pending.md_algorithm, pdf[:start])
    covered.update(pdf[end:])
    attrs = cms.CMSAttributes.load(pending.signed_attrs)
    claimed = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
    if covered.digest() != pending.document_digest or claimed != [pending.document_digest]:
        raise PendingSignatureUnreadable("giá trị băm của văn bản / document digest")


def _ecdsa_der(value: bytes, cert: x509.Certificate) -> bytes:
    """DER ECDSA-Sig-Value from raw r||s (as PKCS#11 gives it) or from DER."""
    size = (cert.public_key.bit_size + 7) // 8
    if len(value) == 2 * size:
        return bytes(algos.DSASignature.from_p1363(value).dump())
    try:
        parsed = algos.DSASignature.load(value, strict=True)
        _ = parsed.native
    except ValueError as exc:
        raise SignatureMismatch("chữ ký ECDSA không đúng dạng / malformed ECDSA value") \
            from exc
    return value


def _verify(pending: PendingSignature, signed: cms.ContentInfo) -> None:
    from pyhanko.sign.validation.generic_cms import validate_sig_integrity

    (info,) = signed["content"]["signer_infos"]
    try:
        intact, valid = validate_sig_integrity(info, pending.signing_cert, "data",
                                               pending.document_digest)
    except VALIDATION_ERRORS as exc:  # a value that does not verify is a mismatch
        raise SignatureMismatch(type(exc).__name__) from exc
    if not intact:
        raise SignatureMismatch("ký một văn bản khác / signs another document")
    if not valid:
        raise SignatureMismatch("sai khóa hoặc sai giá trị băm / wrong key or wrong digest")


async def _cms_from_raw(pending: PendingSignature, signature: RawSignature) -> cms.ContentInfo:
    if signature.algorithm != pending.algorithm:
        raise SignatureMismatch(f"thuật toán {signature.algorithm} ≠ {pending.algorithm} / "
                                f"algorithm {signature.algorithm} ≠ {pending.algorithm}")
    cert = pending.signing_cert
    value = signature.value
    if pending.algorithm == ECDSA:
        value = _ecdsa_der(value, cert)
    chain = [x509.Certificate.load(c) for c in pending.chain]
    external = _external_signer(cert, chain, pending.algorithm, pending.md_algorithm, value)
    with signing_errors(None):
        signed: cms.ContentInfo = await external.async_sign_prescribed_attributes(
            pending.md_algorithm, cms.CMSAttributes.load(pending.signed_attrs))
    return signed


def _cms_from_bytes(pending: PendingSignature, data: bytes) -> cms.ContentInfo:
    try:
        signed = cms.ContentInfo.load(data)
        if signed["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        if len(signed["content"]["signer_infos"]) != 1:
            raise ValueError("not exactly one SignerInfo")
        # asn1crypto parses lazily: damage deep inside (a certificate's name, an
        # attribute's string) would otherwise surface later, in the middle of finishing,
        # as some other exception (found by tests/test_fuzz.py)
        _ = signed.native
    except (ValueError, TypeError, KeyError, IndexError, OverflowError,
            UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise SignatureMismatch(f"CMS không đọc được / unreadable CMS ({reason})") from exc
    return signed


async def _verified_cms(pending: PendingSignature,
                        signature: RawSignature | bytes) -> cms.ContentInfo:
    if isinstance(signature, RawSignature):
        signed = await _cms_from_raw(pending, signature)
    else:
        signed = _cms_from_bytes(pending, signature)
    _verify(pending, signed)
    return signed


def _signature_value(signed: cms.ContentInfo) -> bytes:
    return bytes(signed["content"]["signer_infos"][0]["signature"].native)


def _unsigned(signed: cms.ContentInfo) -> list[cms.CMSAttribute]:
    attrs = signed["content"]["signer_infos"][0]["unsigned_attrs"]
    return [] if attrs.native is None else list(attrs)


def _has_timestamp(signed: cms.ContentInfo) -> bool:
    return any(a["type"].native == "signature_time_stamp_token" for a in _unsigned(signed))


def _checked_token(token: bytes | cms.ContentInfo, signed: cms.ContentInfo) -> cms.ContentInfo:
    """The timestamp token, refused unless it timestamps this very signature value."""
    try:
        parsed = cms.ContentInfo.load(token) if isinstance(token, bytes) else token
        tst = parsed["content"]["encap_content_info"]["content"].parsed
        imprint = tst["message_imprint"]
        algo = imprint["hash_algorithm"]["algorithm"].native
        expected = hashlib.new(algo, _signature_value(signed)).digest()
        matches = imprint["hashed_message"].native == expected
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SigningFailed("dấu thời gian không đọc được / unreadable timestamp token") \
            from exc
    if not matches:
        raise SigningFailed("dấu thời gian dành cho chữ ký khác / the timestamp token is "
                            "for another signature")
    return parsed


async def _request_timestamp(url: str, signed: cms.ContentInfo,
                             md_algorithm: str) -> cms.ContentInfo:
    digest = hashlib.new(md_algorithm, _signature_value(signed)).digest()
    with signing_errors(url):
        async with timestamper(url) as stamper:
            token: cms.ContentInfo = await stamper.async_timestamp(digest, md_algorithm)
    return token


def _repack(pending: PendingSignature, signed: cms.ContentInfo,
            token: cms.ContentInfo | None) -> cms.ContentInfo:
    """The same SignedData with the signer's certificate and chain present and, if
    given, the signature timestamp as an unsigned attribute; fresh objects only, so
    nothing is re-encoded from a stale cache."""
    data = signed["content"]
    info = data["signer_infos"][0]
    unsigned = _unsigned(signed)
    if token is not None:
        unsigned.append(cms.CMSAttribute({"type": "signature_time_stamp_token",
                                          "values": [token]}))
    new_info = cms.SignerInfo({
        name: info[name] for name in ("version", "sid", "digest_algorithm", "signed_attrs",
                                      "signature_algorithm", "signature")})
    if unsigned:
        new_info["unsigned_attrs"] = cms.CMSAttributes(unsigned)
    certs = {c.dump(): c for c in data["certificates"]} if data["certificates"].native \
        else {}
    for der in (pending.certificate, *pending.chain):
        certs.setdefault(der, cms.CertificateChoices(name="certificate",
                                                     value=x509.Certificate.load(der)))
    fields = {name: data[name] for name in ("version", "digest_algorithms",
                                            "encap_content_info")}
    return cms.ContentInfo({
        "content_type": "signed_data",
        "content": cms.SignedData({**fields, "certificates": list(certs.values()),
                                   "signer_infos": [new_info]}),
    })


async def async_fetch_timestamp(pending: PendingSignature,
                                signature: RawSignature | bytes) -> bytes:
    """Verify ``signature`` and get the TSA's token for it (DER), to pass to
    :func:`async_finish` — one TSA call, then any process finishes identically."""
    if pending.tsa_url is None:
        raise SigningFailed("không có máy chủ TSA / no TSA was configured for this signature")
    signed = await _verified_cms(pending, signature)
    token = await _request_timestamp(pending.tsa_url, signed, pending.md_algorithm)
    return bytes(token.dump())


async def async_finish(pending: PendingSignature, signature: RawSignature | bytes, *,
                       now: dt.datetime | None = None,
                       timestamp: bytes | None = None) -> bytes:
    """Embed ``signature`` (a raw value from the key, or a whole CMS SignedData in DER)
    into the prepared PDF and return the signed PDF.

    Refuses an expired state and a signature that does not verify against the
    certificate and the prepared digest, producing nothing. With a TSA in the state
    the signature is timestamped (B-T): ``timestamp`` (a token from
    :func:`async_fetch_timestamp`) is used if given, else the TSA is asked now; a
    CMS that already carries a signature timestamp keeps it.
    """
    if pending.expired(now):
        raise PendingSignatureExpired(f"{vietnam_time(pending.expires_at):%H:%M:%S %d/%m/%Y}")
    _check_state(pending)
    signed = await _verified_cms(pending, signature)
    token: cms.ContentInfo | None = None
    if timestamp is not None:
        token = _checked_token(timestamp, signed)
    elif pending.tsa_url is not None and not _has_timestamp(signed):
        token = await _request_timestamp(pending.tsa_url, signed, pending.md_algorithm)
    signed = _repack(pending, signed, token)
    return _embed(pending, signed)


def _embed(pending: PendingSignature, signed: cms.ContentInfo) -> bytes:
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest

    prepared = PreparedByteRangeDigest(
        document_digest=pending.document_digest,
        reserved_region_start=pending.reserved_region_start,
        reserved_region_end=pending.reserved_region_end)
    out = io.BytesIO(pending.prepared_pdf)
    with signing_errors(pending.tsa_url):
        prepared.fill_with_cms(out, signed)
    return out.getvalue()


def finish(pending: PendingSignature, signature: RawSignature | bytes, *,
           now: dt.datetime | None = None, timestamp: bytes | None = None) -> bytes:
    """Blocking :func:`async_finish`."""
    return run_blocking(async_finish(pending, signature, now=now, timestamp=timestamp))


def fetch_timestamp(pending: PendingSignature, signature: RawSignature | bytes) -> bytes:
    """Blocking :func:`async_fetch_timestamp`."""
    return run_blocking(async_fetch_timestamp(pending, signature))
