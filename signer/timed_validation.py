"""Run pyHanko's validator on one signature, at the moment that can be proven.

A signature is validated *now*. If its certificate has since expired or been revoked,
or revocation evidence exists only in the file, it is validated again at the time its
timestamp proves (the timestamp itself validated at its own time), else at the claimed
signing time — which the verdict never accepts as proof (see :mod:`signer.verdict`).

Offline, a certificate that has already expired cannot validate now, and validating
now would gather no evidence either (nothing is fetched): the validation at the past
moment is then the only one run. Online, "now" is kept, since the revocation
information it fetches for the chain is evidence for the past moment too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asn1crypto import crl, keys, ocsp, x509

from certs import Revocation, context_at, revocation_evidence

from .blocking import run_blocking
from .cms_facts import embedded_revinfo, timestamp_time
from .malformed import VALIDATION_ERRORS

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko.sign.validation.status import PdfSignatureStatus
    from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
    from pyhanko_certvalidator import ValidationContext

__all__ = ["Outcome", "expired_at", "issuer_key", "trust_problem", "validate",
           "validate_in_time"]

#: pyHanko trust problems that say "not at this time" rather than "not at all"
_EXPIRY_PROBLEMS = ("expired", "out_of_bounds_no_poe", "not_yet_valid",
                    "certificate_chain_general_failure")

Revinfo = tuple[list[ocsp.OCSPResponse], list[crl.CertificateList], list[x509.Certificate]]


def lenient_policy() -> CMSAlgorithmUsagePolicy:
    """Lets pyHanko check SHA-1 signatures so integrity can be told; Kyso judges strength."""
    from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
    from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy

    return CMSAlgorithmUsagePolicy.lift_policy(DisallowWeakAlgorithmsPolicy(  # type: ignore[no-untyped-call]
        weak_hash_algos=frozenset({"md2", "md5"}), rsa_key_size_threshold=1024))


def validate(embedded: EmbeddedPdfSignature, context: ValidationContext) -> PdfSignatureStatus:
    """pyHanko's full validation of one signature (and its timestamp) with ``context``."""
    from pyhanko.sign.validation import async_validate_pdf_signature

    return run_blocking(async_validate_pdf_signature(
        embedded, signer_validation_context=context, ts_validation_context=context,
        algorithm_policy=lenient_policy()))


def expired_at(cert: x509.Certificate, moment: dt.datetime) -> bool:
    """Whether ``cert`` is outside its validity period at ``moment``."""
    validity = cert["tbs_certificate"]["validity"]
    return bool(validity["not_after"].native < moment or validity["not_before"].native > moment)


def issuer_key(status: PdfSignatureStatus) -> keys.PublicKeyInfo | None:
    """The public key of the signer certificate's issuer on the validation path, or None."""
    try:
        path = status.validation_path
        return None if path is None else path.find_issuing_authority(status.signing_cert).public_key
    except LookupError:  # the leaf is the root, or its issuer is not on the path
        return None


def trust_problem(status: PdfSignatureStatus) -> str | None:
    """pyHanko's trust problem indication, lower-case (``expired``, …), or None."""
    indic = status.trust_problem_indic
    return str(getattr(indic, "name", indic)).lower() if indic else None


@dataclass
class Outcome:
    """The status to report, the context that produced it and what its moment rests on:
    ``current``, ``timestamp`` or ``claimed_signing_time``."""

    status: PdfSignatureStatus
    context: ValidationContext
    source: str


def _at(embedded: EmbeddedPdfSignature, context: ValidationContext, moment: dt.datetime,
        source: str, claimed: dt.datetime | None, revinfo: Revinfo) -> Outcome:
    ocsps, crls, certs = revinfo
    past = context_at(context, moment, ocsps=ocsps, crls=crls, other_certs=certs)
    status = validate(embedded, past)
    if source == "timestamp":
        pts = status.timestamp_validity
        if pts is None or not (pts.intact and pts.valid and pts.trusted):
            # the timestamp itself is not trusted even at its own time: no proof
            source = "claimed_signing_time" if claimed is not None else source
    return Outcome(status, past, source)


def _expired_offline(embedded: EmbeddedPdfSignature, reader: PdfFileReader,
                     context: ValidationContext) -> Outcome | None:
    """Offline with an expired certificate: straight to the past moment (one validation)."""
    if context.revinfo_manager.fetching_allowed:
        return None
    try:
        cert = embedded.signer_cert
        expired = cert is not None and expired_at(cert, context.moment)
        claimed = embedded.self_reported_timestamp
    except VALIDATION_ERRORS:  # e.g. no signer certificate: the usual path says so
        return None
    if not expired:
        return None
    revinfo = embedded_revinfo(reader, embedded)
    stamped = timestamp_time(embedded.signer_info)
    if stamped is not None:
        outcome = _at(embedded, context, stamped, "timestamp", claimed, revinfo)
        ts = outcome.status.timestamp_validity
        if ts is not None and ts.intact and ts.valid:
            return outcome
    if claimed is not None:
        return _at(embedded, context, claimed, "claimed_signing_time", claimed, revinfo)
    return None


def validate_in_time(embedded: EmbeddedPdfSignature, reader: PdfFileReader,
                     context: ValidationContext) -> Outcome:
    """Validate now; if the certificate has expired or been revoked since, or revocation
    evidence is only in the file, validate again at the time the timestamp proves
    (else at the claimed signing time, which the verdict never accepts as proof)."""
    shortcut = _expired_offline(embedded, reader, context)
    if shortcut is not None:
        return shortcut
    status = validate(embedded, context)
    outcome = Outcome(status, context, "current")
    cert = status.signing_cert
    unchecked = revocation_evidence(context, cert, issuer_key(status)) is Revocation.UNCHECKED
    expired = expired_at(cert, context.moment) or (
        not status.trusted and trust_problem(status) in _EXPIRY_PROBLEMS)
    if not (expired or status.revoked or unchecked):
        return outcome
    revinfo = embedded_revinfo(reader, embedded)
    if not (expired or status.revoked or revinfo[0] or revinfo[1]):
        return outcome
    ts = status.timestamp_validity
    claimed = status.signer_reported_dt
    if ts is not None and ts.intact and ts.valid:
        return _at(embedded, context, ts.timestamp, "timestamp", claimed, revinfo)
    if claimed is not None:
        return _at(embedded, context, claimed, "claimed_signing_time", claimed, revinfo)
    return outcome
