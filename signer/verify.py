"""Verify every signature in a PDF into a structured report.

Per signature: integrity, certificate chain to a trust anchor, revocation
(OCSP, else CRL, else a warning — never a silent pass), timestamp, coverage
and what changed after signing. Verdicts: ``valid`` / ``invalid`` /
``indeterminate``, each with its reasons in Vietnamese and English.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

from certs.trust import TrustStore
from certs.validation import Revocation, revocation_evidence

from .pdfinput import open_reader
from .report import Reason, Report, SignatureReport, Verdict

#: Makes a fresh pyHanko ValidationContext for each signature.
ContextFactory = Callable[[], Any]


def _name_part(name: Any, key: str) -> str:
    value = name.native.get(key, "")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value)


def _pades_level(embedded: Any, status: Any, reader: Any) -> str:
    if embedded.sig_object.get("/SubFilter") != "/ETSI.CAdES.detached":
        return "none"
    level = "B-B"
    if status.timestamp_validity is not None:
        level = "B-T"
        try:
            dss = reader.root["/DSS"]
            if "/OCSPs" in dss or "/CRLs" in dss:
                level = "B-LT"
        except KeyError:
            pass
        if level == "B-LT" and any(
            s.sig_object.get("/Type") == "/DocTimeStamp" for s in reader.embedded_signatures
        ):
            level = "B-LTA"
    return level


def _judge(sig: SignatureReport) -> tuple[Verdict, list[Reason]]:
    invalid: list[Reason] = []
    unsure: list[Reason] = []
    if not sig.intact:
        invalid.append(Reason("tài liệu đã bị sửa sau khi ký (sai giá trị băm)",
                              "the document was altered after signing (digest mismatch)"))
    elif not sig.valid:
        invalid.append(Reason("chữ ký số không đúng với khóa công khai của chứng thư",
                              "the signature does not verify with the certificate's key"))
    if sig.revocation == Revocation.REVOKED.value:
        invalid.append(Reason("chứng thư số đã bị thu hồi", "the certificate has been revoked"))
    if sig.modification_level not in ("none", "lta_updates", "form_filling"):
        invalid.append(Reason(
            f"có thay đổi không được phép sau khi ký ({sig.modification_level})",
            f"disallowed changes after signing ({sig.modification_level})"))
    if sig.coverage not in ("entire_file", "entire_revision"):
        invalid.append(Reason("chữ ký không bao trùm toàn bộ tài liệu",
                              "the signature does not cover the whole document"))
    if not sig.trusted and sig.revocation != Revocation.REVOKED.value:
        unsure.append(Reason(
            f"không xác minh được chứng thư tới CA tin cậy ({sig.trust_problem or 'không rõ'})",
            f"the certificate does not validate to a trusted CA "
            f"({sig.trust_problem or 'unknown'})"))
    if sig.revocation == Revocation.UNCHECKED.value:
        unsure.append(Reason(
            "CẢNH BÁO: không kiểm tra được tình trạng thu hồi (không có OCSP và CRL)",
            "WARNING: revocation status could not be checked (neither OCSP nor CRL)"))
    if sig.timestamp is not None and not sig.timestamp_valid:
        unsure.append(Reason("dấu thời gian không hợp lệ hoặc không tin cậy",
                             "the timestamp is not valid or not trusted"))
    if invalid:
        return Verdict.INVALID, invalid + unsure
    if unsure:
        return Verdict.INDETERMINATE, unsure
    return Verdict.VALID, []


def _signature_report(embedded: Any, reader: Any, context: Any,
                      store: TrustStore | None) -> SignatureReport:
    from pyhanko.sign.validation import validate_pdf_signature

    status = validate_pdf_signature(embedded, signer_validation_context=context)
    cert = status.signing_cert
    validity = cert["tbs_certificate"]["validity"]
    ts = status.timestamp_validity
    revocation = revocation_evidence(context, cert)
    if status.revoked:
        revocation = Revocation.REVOKED
    anchor, origin = "", ""
    if status.validation_path is not None:
        trust_anchor = status.validation_path.trust_anchor
        anchor = trust_anchor.authority.name.human_friendly
        anchor_cert = getattr(trust_anchor, "certificate", None)  # CertTrustAnchor only
        entry = store.find(anchor_cert) if store is not None and anchor_cert else None
        origin = entry.origin.value if entry is not None else ""
    level = status.modification_level
    coverage = status.coverage
    report = SignatureReport(
        field=embedded.field_name,
        signer=_name_part(cert.subject, "common_name"),
        signer_title=_name_part(cert.subject, "title"),
        signer_unit=_name_part(cert.subject, "organizational_unit_name"),
        signer_organisation=_name_part(cert.subject, "organization_name"),
        issuer=_name_part(cert.issuer, "common_name") or cert.issuer.human_friendly,
        serial=format(cert.serial_number, "x"),
        cert_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        cert_valid_from=validity["not_before"].native.isoformat(),
        cert_valid_to=validity["not_after"].native.isoformat(),
        signing_time=(status.signer_reported_dt.isoformat()
                      if status.signer_reported_dt else None),
        timestamp=ts.timestamp.isoformat() if ts is not None else None,
        timestamp_valid=bool(ts is not None and ts.intact and ts.valid and ts.trusted),
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        trust_anchor=anchor,
        trust_anchor_origin=origin,
        trust_problem=(str(getattr(status.trust_problem_indic, "name", "")).lower() or None
                       if status.trust_problem_indic else None),
        revocation=revocation.value,
        coverage=coverage.name.lower() if coverage is not None else "unknown",
        modification_level=level.name.lower() if level is not None else "unknown",
        digest_algorithm=status.md_algorithm,
        signature_algorithm=status.pkcs7_signature_mechanism,
        pades_level=_pades_level(embedded, status, reader),
    )
    report.verdict, report.reasons = _judge(report)
    return report


def verify_pdf(data: bytes, context_factory: ContextFactory, name: str = "",
               store: TrustStore | None = None) -> Report:
    """Check every signature of ``data``; ``context_factory`` gives the trust to use.

    ``store``, when given, tells where each trust anchor came from (demo or real).
    """
    reader = open_reader(data)
    signatures = [
        _signature_report(embedded, reader, context_factory(), store)
        for embedded in reader.embedded_regular_signatures
    ]
    return Report.of(name, hashlib.sha256(data).hexdigest(), signatures)


async def async_verify_pdf(data: bytes, context_factory: ContextFactory, name: str = "",
                           store: TrustStore | None = None) -> Report:
    """:func:`verify_pdf` from inside an event loop (the validator blocks it otherwise)."""
    return await asyncio.to_thread(verify_pdf, data, context_factory, name, store)
