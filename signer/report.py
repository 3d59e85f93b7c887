"""The verification report: stable fields, JSON-ready (``schema`` names the version).

Schema ``kyso.verify/1`` (documented field by field in docs/verification.md). Fields
are only ever added to version 1; a change to an existing field's meaning bumps it.
Circular 15/2025 Art. 6 asks a verifier to show at least: the issuing CA (``issuer``,
``issuer_dn``), the signer (``signer``, ``signer_dn``), the managing unit
(``signer_organisation``, ``signer_unit``), the signing time or timestamp
(``signing_time``, ``timestamp``), integrity (``intact``), validity at signing
(``valid_at_signing``, ``validation_time``) and the certificate's validity period
(``cert_valid_from``, ``cert_valid_to``).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from typing import Any

SCHEMA = "kyso.verify/1"


class Verdict(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class Reason:
    """Why a verdict is what it is (or a note), in Vietnamese and English.

    ``code`` is a stable machine name (e.g. ``digest_mismatch``, ``weak_algorithm``);
    the list is in docs/verification.md.
    """

    vi: str
    en: str
    code: str = ""


@dataclass(frozen=True)
class Change:
    """One thing that changed in a revision added after a signature."""

    #: 1-based revision of the file that made the change
    revision: int
    #: signature, timestamp, dss, form_filling, form_value_changed, field_added,
    #: field_removed, annotation, page_content, page_resources, pages, other
    kind: str
    detail: str


@dataclass
class SignatureReport:
    field: str
    signer: str = ""
    signer_title: str = ""
    signer_unit: str = ""
    signer_organisation: str = ""
    issuer: str = ""
    serial: str = ""
    cert_sha256: str = ""
    cert_valid_from: str = ""
    cert_valid_to: str = ""
    signing_time: str | None = None
    timestamp: str | None = None
    timestamp_valid: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    trust_anchor: str = ""
    #: where the anchor came from: "bundled" (real CA shipped with Kyso), "demo", "admin", ""
    trust_anchor_origin: str = ""
    trust_problem: str | None = None
    #: ocsp, crl, revoked or unchecked (a WARNING: never a silent pass)
    revocation: str = "unchecked"
    #: entire_file, entire_revision, contiguous_block_from_start, unclear, unknown
    coverage: str = "unknown"
    #: pyHanko's difference analysis: none, lta_updates, form_filling, annotations, other
    modification_level: str = "unknown"
    digest_algorithm: str = ""
    signature_algorithm: str = ""
    #: B-B, B-T, B-LT, B-LTA, or none (not a PAdES signature)
    pades_level: str = "none"
    verdict: Verdict = Verdict.INDETERMINATE
    reasons: list[Reason] = dc_field(default_factory=list)
    # -- added in kyso.verify/1 for auditors (Circular 15 Art. 6) ------------------
    signer_dn: str = ""
    issuer_dn: str = ""
    issuer_organisation: str = ""
    #: subfilter of the signature dictionary, e.g. ETSI.CAdES.detached
    subfilter: str = ""
    #: revision (1-based) the signature signs, of ``Report.revisions``
    revision: int = 0
    #: revisions added after this signature, and how many bytes follow its signed range
    revisions_after: int = 0
    bytes_after: int = 0
    changes: list[Change] = dc_field(default_factory=list)
    #: the TSA that issued the signature timestamp (its certificate's subject)
    timestamp_authority: str = ""
    #: when the chain was validated, and why that moment: current, timestamp
    #: (the certificate has expired or been revoked since; the timestamp proves the
    #: signature existed earlier) or claimed_signing_time (no proof: never ``valid``)
    validation_time: str | None = None
    validation_time_source: str = "current"
    #: certificate valid (trusted, in its validity period, not revoked) at signing time;
    #: None when it cannot be established
    valid_at_signing: bool | None = None
    #: the certificate has expired at verification time
    cert_expired: bool = False
    key_algorithm: str = ""
    key_size: int = 0
    #: algorithms below Circular 15/2025 Appendix I (SHA-1, RSA < 2048, EC < 256)
    weak_algorithms: list[str] = dc_field(default_factory=list)
    #: remarks that do not change the verdict (e.g. clock skew, fields filled after)
    notes: list[Reason] = dc_field(default_factory=list)


@dataclass
class Report:
    file: str
    sha256: str
    verdict: Verdict
    signatures: list[SignatureReport]
    reasons: list[Reason]
    #: revisions (incremental updates + 1) in the file
    revisions: int = 0
    #: bytes after the last %%EOF that belong to no revision (whitespace included)
    trailing_bytes: int = 0
    notes: list[Reason] = dc_field(default_factory=list)

    @classmethod
    def of(cls, name: str, sha256: str, signatures: list[SignatureReport], *,
           problems: list[Reason] | None = None, notes: list[Reason] | None = None,
           revisions: int = 0, trailing_bytes: int = 0) -> Report:
        """The file's verdict: the worst of its signatures' and of ``problems`` (invalid)."""
        problems = list(problems or [])
        notes = list(notes or [])
        if not signatures:
            reasons = problems or [Reason("tệp không có chữ ký số nào",
                                          "the file has no signature", "no_signature")]
            verdict = Verdict.INVALID if problems else Verdict.INDETERMINATE
            return cls(name, sha256, verdict, [], reasons, revisions, trailing_bytes, notes)
        verdicts = {s.verdict for s in signatures}
        if problems or Verdict.INVALID in verdicts:
            verdict = Verdict.INVALID
        elif Verdict.INDETERMINATE in verdicts:
            verdict = Verdict.INDETERMINATE
        else:
            verdict = Verdict.VALID
        return cls(name, sha256, verdict, signatures, problems, revisions, trailing_bytes, notes)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, **asdict(self)}
