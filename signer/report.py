"""The verification report: stable fields, JSON-ready (``schema`` names the version)."""

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
    vi: str
    en: str


@dataclass
class SignatureReport:
    field: str
    signer: str
    signer_title: str
    signer_unit: str
    signer_organisation: str
    issuer: str
    serial: str
    cert_sha256: str
    cert_valid_from: str
    cert_valid_to: str
    signing_time: str | None
    timestamp: str | None
    timestamp_valid: bool
    intact: bool
    valid: bool
    trusted: bool
    trust_anchor: str
    #: where the anchor came from: "bundled" (real CA shipped with Kyso), "demo", "admin", ""
    trust_anchor_origin: str
    trust_problem: str | None
    revocation: str
    coverage: str
    modification_level: str
    digest_algorithm: str
    signature_algorithm: str
    pades_level: str
    verdict: Verdict = Verdict.INDETERMINATE
    reasons: list[Reason] = dc_field(default_factory=list)


@dataclass
class Report:
    file: str
    sha256: str
    verdict: Verdict
    signatures: list[SignatureReport]
    reasons: list[Reason]

    @classmethod
    def of(cls, name: str, sha256: str, signatures: list[SignatureReport]) -> Report:
        if not signatures:
            return cls(name, sha256, Verdict.INDETERMINATE, [],
                       [Reason("tệp không có chữ ký số nào", "the file has no signature")])
        verdicts = {s.verdict for s in signatures}
        if Verdict.INVALID in verdicts:
            verdict = Verdict.INVALID
        elif Verdict.INDETERMINATE in verdicts:
            verdict = Verdict.INDETERMINATE
        else:
            verdict = Verdict.VALID
        return cls(name, sha256, verdict, signatures, [])

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, **asdict(self)}
