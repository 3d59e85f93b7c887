"""What a signature's CMS and its PDF say, read tolerantly: names, attributes, the
timestamp token, algorithm strength, revocation evidence stored in the file, the
PAdES level.

Nothing here validates anything. The readers of names and attributes return an empty
value on a malformed structure (real files carry non-standard attributes); the
algorithm check fails closed: an algorithm it cannot read or does not know is a finding.
Only what a malformed structure raises is caught (:mod:`signer.malformed`).
Algorithm strength follows Circular 15/2025 Appendix I: SHA-2/SHA-3 digests,
RSA ≥ 2048, ECDSA ≥ 256.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from asn1crypto import algos, cms, core, crl, ocsp, x509

from .malformed import ASN1_ERRORS, PDF_ERRORS

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

__all__ = [
    "ALLOWED_DIGESTS",
    "ALLOWED_MECHANISMS",
    "MIN_EC_BITS",
    "MIN_RSA_BITS",
    "WEAK_DIGESTS",
    "attr",
    "digest_computable",
    "embedded_revinfo",
    "has_signed_attrs",
    "human",
    "name_part",
    "pades_level",
    "timestamp_time",
    "timestamp_token",
    "weak_algorithms",
]

#: Circular 15/2025 Appendix I: SHA-2/SHA-3 digests, RSA >= 2048, ECDSA >= 256
WEAK_DIGESTS = frozenset({"md2", "md5", "sha1"})
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
#: the digests Appendix I allows (SHA-2, SHA-3); any other is a finding, never a pass
ALLOWED_DIGESTS = frozenset({"sha224", "sha256", "sha384", "sha512", "sha512_224",
                             "sha512_256", "sha3_224", "sha3_256", "sha3_384", "sha3_512"})
#: the signature algorithms (asn1crypto's names) whose digest and key are checked here
ALLOWED_MECHANISMS = frozenset({"rsassa_pkcs1v15", "rsassa_pss", "ecdsa",
                                *(f"{d}_{k}" for d in ALLOWED_DIGESTS for k in ("rsa", "ecdsa"))})


def name_part(name: x509.Name, key: str) -> str:
    """One attribute of an X.501 name (``common_name``, ``organization_name`` …), or ""."""
    try:
        value = name.native.get(key, "")
    except ASN1_ERRORS:  # a malformed name is shown as empty
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value)


def human(name: x509.Name) -> str:
    """The whole name, human-readable, or ""."""
    try:
        return str(name.human_friendly)
    except ASN1_ERRORS:
        return ""


def attr(attrs: cms.CMSAttributes | None, name: str) -> core.Asn1Value | None:
    """The first value of the CMS attribute ``name``, tolerating malformed neighbours.

    Never asks for the whole set's ``.native``: on a large timestamp token (its
    certificates, its own attributes) asn1crypto takes hundreds of milliseconds for it.
    """
    if attrs is None:
        return None
    try:
        if len(attrs) == 0:  # absent (Void) or empty
            return None
    except ASN1_ERRORS:  # e.g. 01's non-standard unsigned attribute
        pass
    try:
        for item in attrs:
            try:
                if item["type"].native == name:
                    return item["values"][0]
            except ASN1_ERRORS:  # skip an attribute we cannot read
                continue
    except ASN1_ERRORS:
        return None
    return None


def has_signed_attrs(signer_info: cms.SignerInfo) -> bool:
    """Whether the signature has signed attributes at all (PAdES needs them)."""
    try:
        return len(signer_info["signed_attrs"]) > 0
    except ASN1_ERRORS:
        return False


def timestamp_token(signer_info: cms.SignerInfo) -> cms.SignedData | None:
    """The SignedData of the signature timestamp token, or None."""
    token = attr(signer_info["unsigned_attrs"], "signature_time_stamp_token")
    return token["content"] if token is not None else None


def timestamp_time(signer_info: cms.SignerInfo) -> dt.datetime | None:
    """The time the signature timestamp token states (not yet validated), or None."""
    try:
        token = timestamp_token(signer_info)
        if token is None:
            return None
        moment = token["encap_content_info"]["content"].parsed["gen_time"].native
        return moment if isinstance(moment, dt.datetime) else None
    except ASN1_ERRORS:  # an unreadable token is no time
        return None


def digest_computable(signer_info: cms.SignerInfo) -> bool:
    """Whether the signature's digest algorithm is one the validator can compute at all
    (pyHanko fails on any other with an ``AttributeError`` of its own)."""
    try:
        digest = str(signer_info["digest_algorithm"]["algorithm"].native).lower()
    except ASN1_ERRORS:
        return False
    return digest in ALLOWED_DIGESTS or digest in {"md5", "sha1"}


def _digest_finding(what: str, name: str) -> str | None:
    """Why the digest ``name`` of ``what`` is not allowed, or None when it is."""
    if name in WEAK_DIGESTS:
        return f"{what} {name}"
    if name not in ALLOWED_DIGESTS:
        return f"unknown {what} {name}"
    return None


def _mechanism_findings(algorithm: algos.SignedDigestAlgorithm) -> list[str]:
    """Why the signature algorithm is not allowed (weak, unknown, unreadable), or []."""
    try:
        mech = str(algorithm["algorithm"].native)
    except ASN1_ERRORS:
        return ["unreadable signature algorithm"]
    if any(mech.startswith(h + "_") for h in WEAK_DIGESTS):
        return [f"signature algorithm {mech}"]
    if mech not in ALLOWED_MECHANISMS:
        return [f"unknown signature algorithm {mech}"]
    if mech != "rsassa_pss":
        return []
    try:
        pss_hash = str(algorithm["parameters"]["hash_algorithm"]["algorithm"].native)
    except ASN1_ERRORS:
        return ["unreadable RSASSA-PSS parameters"]
    finding = _digest_finding("RSASSA-PSS digest", pss_hash)
    return [finding] if finding else []


def weak_algorithms(embedded: EmbeddedPdfSignature,
                    cert: x509.Certificate | None) -> list[str]:
    """The signature's algorithms below Appendix I: digest, key, timestamp imprint.

    Fails closed: an algorithm Kyso does not know, or cannot read, is listed too
    (``unknown …``, ``unreadable …``), never skipped."""
    weak: list[str] = []
    signer_info = embedded.signer_info
    try:
        digest = str(signer_info["digest_algorithm"]["algorithm"].native).lower()
    except ASN1_ERRORS:
        weak.append("unreadable signature digest")
    else:
        found = _digest_finding("signature digest", digest)
        if found:
            weak.append(found)
    try:
        signature_algorithm = signer_info["signature_algorithm"]
    except ASN1_ERRORS:
        weak.append("unreadable signature algorithm")
    else:
        weak.extend(_mechanism_findings(signature_algorithm))
    if cert is not None:
        algo, bits = cert.public_key.algorithm, cert.public_key.bit_size
        if algo == "rsa" and bits < MIN_RSA_BITS:
            weak.append(f"RSA key {bits} bits")
        elif algo == "ec" and bits < MIN_EC_BITS:
            weak.append(f"EC key {bits} bits")
        elif algo not in ("rsa", "ec", "rsassa_pss"):
            weak.append(f"{algo} key (not allowed)")
    try:
        token = timestamp_token(signer_info)
        imprint = None if token is None else str(
            token["encap_content_info"]["content"].parsed["message_imprint"]["hash_algorithm"]
            ["algorithm"].native)
    except ASN1_ERRORS:
        weak.append("unreadable timestamp imprint")
    else:
        found = _digest_finding("timestamp imprint", imprint) if imprint is not None else None
        if found:
            weak.append(found)
    return weak


def embedded_revinfo(
        reader: PdfFileReader, embedded: EmbeddedPdfSignature
) -> tuple[list[ocsp.OCSPResponse], list[crl.CertificateList], list[x509.Certificate]]:
    """OCSP responses, CRLs and certificates stored in the file (DSS, Adobe attribute).

    An unreadable DSS or attribute adds nothing: revocation then stays unproven (the
    verdict says so), it is never taken as checked."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    ocsps: list[ocsp.OCSPResponse] = []
    crls: list[crl.CertificateList] = []
    certs: list[x509.Certificate] = []
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        context = dss.as_validation_context({"allow_fetching": False, "trust_roots": []})
        ocsps.extend(context.ocsps)
        crls.extend(context.crls)
        certs.extend(dss.load_certs())
    except PDF_ERRORS:  # no DSS (NoDSSFoundError is a ValueError), or an unreadable one
        pass
    try:
        archival = attr(embedded.signer_info["signed_attrs"], "adobe_revocation_info_archival")
        if archival is not None:
            ocsps.extend(v for v in (archival["ocsp"] or []))
            crls.extend(v for v in (archival["crl"] or []))
    except ASN1_ERRORS:
        pass
    return ocsps, crls, certs


def pades_level(embedded: EmbeddedPdfSignature, has_timestamp: bool,
                reader: PdfFileReader) -> str:
    """``none`` (not CAdES), ``B-B``, ``B-T``, ``B-LT`` (DSS with OCSP/CRL), ``B-LTA``."""
    if embedded.sig_object.get("/SubFilter") != "/ETSI.CAdES.detached":
        return "none"
    if not has_timestamp:
        return "B-B"
    level = "B-T"
    try:
        dss = reader.root["/DSS"]
        if "/OCSPs" in dss or "/CRLs" in dss:
            level = "B-LT"
    except KeyError:
        pass
    if level == "B-LT" and any(s.sig_object.get("/Type") == "/DocTimeStamp"
                               for s in reader.embedded_signatures):
        level = "B-LTA"
    return level
