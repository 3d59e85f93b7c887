"""Validation with no network: only what the file carries and the trust anchors given.

Long after signing, the CA's OCSP responder and CRLs may be gone, and an auditor's
machine may have no network at all. This validates each signature the way
ETSI EN 319 102-1 validates PAdES B-LTA (pyHanko's AdES "LTA" validation): the
document timestamp chain is checked first and proves when the DSS content existed,
then the signature is validated at that past time with the DSS's certificates,
OCSP responses and CRLs. Nothing is fetched (``LOCAL_ONLY``; no fetcher backend):
a signature whose revocation info is not in the file is *not* valid here — a B-T
file is INDETERMINATE, B-LT is INDETERMINATE (no proof of existence of its
revocation info), B-LTA passes.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asn1crypto import x509

from .blocking import run_blocking
from .pdfinput import open_reader

if TYPE_CHECKING:
    from pyhanko.sign.validation.ades import AdESLTAValidationResult
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko.sign.validation.policy_decl import PdfSignatureValidationSpec
    from pyhanko_certvalidator import ValidationContext

#: digest algorithms refused even in certificate chains (as :mod:`certs.validation`)
_BROKEN_HASHES = frozenset({"md2", "md5"})


@dataclass(frozen=True)
class OfflineResult:
    """One signature's offline verdict.

    ``indication`` is the AdES main indication (``PASSED``, ``INDETERMINATE``,
    ``FAILED``), ``subindication`` its reason (e.g. ``NO_POE``,
    ``TRY_LATER``, ``REVOKED_NO_POE``), ``archive_time`` the oldest document
    timestamp after the signature that the chain proves (None without one).
    """

    field_name: str
    signer: str
    indication: str
    subindication: str | None
    intact: bool
    valid: bool
    trusted: bool
    timestamp_valid: bool | None
    signing_time: dt.datetime | None
    archive_time: dt.datetime | None
    failure: str | None

    @property
    def passed(self) -> bool:
        return self.indication == "PASSED"


def offline_spec(trust_roots: Iterable[x509.Certificate], *,
                 other_certs: Iterable[x509.Certificate] = ()) -> PdfSignatureValidationSpec:
    """A pyHanko ``PdfSignatureValidationSpec`` that never fetches anything.

    Revocation info is required (OCSP or CRL) for every certificate but the trust
    anchors; SHA-1 is accepted in certificate chains (the Government G1 hierarchy is
    SHA-1) but not in the signatures themselves.
    """
    from pyhanko.sign.validation.policy_decl import (
        CertificateFetchingRule,
        LocalKnowledge,
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import (
        REQUIRE_REVINFO,
        CertRevTrustPolicy,
        DisallowWeakAlgorithmsPolicy,
        FreshnessReqType,
    )
    from pyhanko_certvalidator.registry import SimpleTrustManager

    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=list(trust_roots)),
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO, freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION),
        algorithm_usage_policy=DisallowWeakAlgorithmsPolicy(  # type: ignore[no-untyped-call]
            weak_hash_algos=_BROKEN_HASHES),
    )
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=policy,
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
            certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH),
        local_knowledge=LocalKnowledge(known_certs=list(other_certs)),
    ))


def offline_context(trust_roots: Iterable[x509.Certificate], pdf: bytes | None = None, *,
                    other_certs: Iterable[x509.Certificate] = (),
                    moment: dt.datetime | None = None) -> ValidationContext:
    """A legacy pyHanko ``ValidationContext`` that cannot fetch, holding the
    certificates, OCSP responses and CRLs of ``pdf``'s DSS (when given)."""
    from pyhanko.sign.validation import DocumentSecurityStore
    from pyhanko.sign.validation.errors import ValidationInfoReadingError

    kwargs: dict[str, Any] = {
        "trust_roots": list(trust_roots), "other_certs": list(other_certs),
        "allow_fetching": False, "revocation_mode": "require", "moment": moment,
        "weak_hash_algos": set(_BROKEN_HASHES), "fetcher_backend": None,
        "ocsps": [], "crls": [],  # none at all is refused in "require" mode
    }
    if pdf is not None:
        try:
            return DocumentSecurityStore.read_dss(open_reader(pdf)).as_validation_context(kwargs)
        except ValidationInfoReadingError:
            pass
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(**kwargs)


def _result(sig: EmbeddedPdfSignature, outcome: AdESLTAValidationResult) -> OfflineResult:
    from pyhanko.sign.ades.report import AdESIndeterminate, AdESPassed

    status = outcome.api_status
    subindic = outcome.ades_subindic
    if isinstance(subindic, AdESPassed):
        indication, sub = "PASSED", None
    else:
        indication = "INDETERMINATE" if isinstance(subindic, AdESIndeterminate) else "FAILED"
        assert isinstance(subindic, enum.Enum)  # pyHanko's sub-indications are enums
        sub = subindic.name
    ts_valid = None
    if status is not None and status.timestamp_validity is not None:
        ts_valid = bool(status.timestamp_validity.valid and status.timestamp_validity.intact
                        and status.timestamp_validity.trusted)
    cert = sig.signer_cert
    return OfflineResult(
        field_name=str(sig.field_name),
        signer=str(cert.subject.native.get("common_name", cert.subject.human_friendly)),
        indication=indication,
        subindication=sub,
        intact=bool(status is not None and status.intact),
        valid=bool(status is not None and status.valid),
        trusted=bool(status is not None and status.trusted),
        timestamp_valid=ts_valid,
        signing_time=outcome.best_signature_time,
        archive_time=outcome.oldest_evidence_record_timestamp,
        failure=None if indication == "PASSED" else outcome.failure_msg,
    )


async def async_validate_offline(pdf: bytes, trust_roots: Iterable[x509.Certificate], *,
                                 other_certs: Iterable[x509.Certificate] = (),
                                 now: dt.datetime | None = None) -> list[OfflineResult]:
    """Validate every signature of ``pdf`` (document timestamps are the evidence, not
    results of their own) at ``now`` (default: the present), fetching nothing."""
    from pyhanko.sign.validation.ades import ades_lta_validation
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo

    spec = offline_spec(trust_roots, other_certs=other_certs)
    timing = ValidationTimingInfo.now() if now is None else ValidationTimingInfo(
        now, now, point_in_time_validation=False)
    reader = open_reader(pdf)
    results = []
    for sig in reader.embedded_regular_signatures:
        outcome = await ades_lta_validation(sig, spec, timing_info=timing)
        results.append(_result(sig, outcome))
    return results


def validate_offline(pdf: bytes, trust_roots: Iterable[x509.Certificate], *,
                     other_certs: Iterable[x509.Certificate] = (),
                     now: dt.datetime | None = None) -> list[OfflineResult]:
    """Blocking :func:`async_validate_offline`."""
    return run_blocking(async_validate_offline(pdf, trust_roots, other_certs=other_certs,
                                              now=now))
