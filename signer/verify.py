"""Verify every signature in a PDF into a structured report, for auditors.

Per signature: the byte range's shape (signature wrapping, truncation —
:mod:`signer.byterange`), integrity, coverage and what changed in the revisions after
it (:mod:`signer.changes`), the certificate chain to a trust anchor at the moment that
can be proven (:mod:`signer.timed_validation`), revocation (OCSP, else CRL, else a
warning — never a silent pass), the signature timestamp, the PAdES level and the
strength of the algorithms (:mod:`signer.cms_facts`). Verdicts: ``valid`` /
``invalid`` / ``indeterminate``, each with its reasons in Vietnamese and English
(:mod:`signer.verdict`; the rules are in docs/verification.md). This module puts the
parts together into a :class:`~signer.report.Report`.

Nothing a PDF can contain makes this module raise, except a file that is not a
readable PDF at all (``PdfUnreadable``) or is encrypted (``PdfEncrypted``): a
broken signature becomes a signature report with verdict and reason. Only what a broken
structure raises is caught (:mod:`signer.malformed`): a fault of Kyso's own in a check
is raised, never reported as a malformed signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from certs import Revocation, TrustStore, revocation_evidence, validation_context

from .byterange import byte_range_problem, file_facts, salvage
from .changes import changes_after
from .cms_facts import (
    attr,
    digest_computable,
    has_signed_attrs,
    human,
    name_part,
    pades_level,
    weak_algorithms,
)
from .errors import PdfHostile, PdfTruncated, PdfUnreadable, SignerError
from .guard import PdfLimits, inspect_pdf
from .malformed import PDF_ERRORS, VALIDATION_ERRORS
from .pdfinput import open_reader
from .report import Reason, Report, SignatureReport, Verdict
from .timed_validation import expired_at, issuer_key, trust_problem, validate_in_time
from .verdict import ALLOWED_LEVELS, change_reasons, judge
from .verdict import reason as _r
from .wording import change_detail

if TYPE_CHECKING:
    from asn1crypto import x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko.sign.validation.status import PdfSignatureStatus
    from pyhanko_certvalidator import ValidationContext

__all__ = ["VERIFY_LIMITS", "ContextFactory", "PdfTruncated", "async_verify_pdf",
           "TrustEntries", "hostile_report", "trust_entries", "verify_file", "verify_pdf"]

#: The bounds of a file sent for verification (signed documents may be long).
VERIFY_LIMITS = PdfLimits(max_bytes=100 * 1024 * 1024, max_pages=5000, inflate_images=False)

#: Makes a fresh pyHanko ValidationContext for each signature.
ContextFactory = Callable[[], Any]

#: a signer's clock may run ahead of the TSA's by this much without a note
CLOCK_SKEW = dt.timedelta(seconds=5)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _cert_fields(report: SignatureReport, cert: x509.Certificate, now: dt.datetime) -> None:
    validity = cert["tbs_certificate"]["validity"]
    report.signer = name_part(cert.subject, "common_name")
    report.signer_title = name_part(cert.subject, "title")
    report.signer_unit = name_part(cert.subject, "organizational_unit_name")
    report.signer_organisation = name_part(cert.subject, "organization_name")
    report.signer_dn = human(cert.subject)
    report.issuer = name_part(cert.issuer, "common_name") or human(cert.issuer)
    report.issuer_dn = human(cert.issuer)
    report.issuer_organisation = name_part(cert.issuer, "organization_name")
    report.serial = format(cert.serial_number, "x")
    report.cert_sha256 = hashlib.sha256(cert.dump()).hexdigest()
    report.cert_valid_from = validity["not_before"].native.isoformat()
    report.cert_valid_to = validity["not_after"].native.isoformat()
    report.cert_expired = expired_at(cert, now)
    report.key_algorithm = str(cert.public_key.algorithm)
    report.key_size = int(cert.public_key.bit_size)


def _signature_report(embedded: EmbeddedPdfSignature, reader: PdfFileReader, data: bytes,
                      context: ValidationContext, store: TrustStore | None) -> SignatureReport:
    sig_object = embedded.sig_object
    report = SignatureReport(field=embedded.field_name,
                             subfilter=str(sig_object.get("/SubFilter", "")).lstrip("/"))
    structural = [p for p in [byte_range_problem(data, sig_object)] if p is not None]
    report.revision = embedded.signed_revision + 1
    report.revisions_after = max(reader.xrefs.total_revisions - report.revision, 0)
    with contextlib.suppress(*PDF_ERRORS):  # byte_range_problem says what is wrong with it
        byte_range = [int(v) for v in sig_object.raw_get("/ByteRange")]
        report.bytes_after = max(len(data) - byte_range[2] - byte_range[3], 0)
    report.digest_algorithm = str(embedded.md_algorithm)
    now = context.moment
    if not digest_computable(embedded.signer_info):
        return _unvalidated(report, embedded, structural, NotImplementedError(
            f"digest algorithm {report.digest_algorithm} is not supported"))
    try:
        outcome = validate_in_time(embedded, reader, context)
    except VALIDATION_ERRORS as exc:  # e.g. no signer certificate, an unknown algorithm
        return _unvalidated(report, embedded, structural, exc)
    status, used = outcome.status, outcome.context
    cert = status.signing_cert
    _cert_fields(report, cert, now)
    ts = status.timestamp_validity
    revocation = revocation_evidence(used, cert, issuer_key(status))
    if status.revoked:
        revocation = Revocation.REVOKED
    if status.validation_path is not None:
        trust_anchor = status.validation_path.trust_anchor
        report.trust_anchor = trust_anchor.authority.name.human_friendly
        anchor_cert = getattr(trust_anchor, "certificate", None)  # CertTrustAnchor only
        entry = store.find(anchor_cert) if store is not None and anchor_cert else None
        report.trust_anchor_origin = entry.origin.value if entry is not None else ""
    level = status.modification_level
    coverage = status.coverage
    report.signing_time = _iso(status.signer_reported_dt)
    report.timestamp = _iso(ts.timestamp) if ts is not None else None
    report.timestamp_valid = bool(ts is not None and ts.intact and ts.valid and ts.trusted)
    if ts is not None and ts.signing_cert is not None:
        report.timestamp_authority = name_part(ts.signing_cert.subject, "common_name")
    report.intact = bool(status.intact)
    report.valid = bool(status.valid)
    report.trusted = bool(status.trusted)
    report.trust_problem = trust_problem(status) if status.trust_problem_indic else None
    report.revocation = revocation.value
    report.coverage = coverage.name.lower() if coverage is not None else "unknown"
    report.modification_level = level.name.lower() if level is not None else "unknown"
    report.signature_algorithm = str(status.pkcs7_signature_mechanism)
    report.pades_level = pades_level(embedded, ts is not None, reader)
    report.validation_time = _iso(used.moment)
    report.validation_time_source = outcome.source
    report.weak_algorithms = weak_algorithms(embedded, cert)
    signed_at = ts.timestamp if report.timestamp_valid and ts is not None else \
        status.signer_reported_dt
    if signed_at is not None and report.intact and report.valid:
        report.valid_at_signing = (report.trusted and revocation is not Revocation.REVOKED
                                   and not expired_at(cert, signed_at))
    report.changes = changes_after(reader, embedded.signed_revision) \
        if report.revisions_after else []
    _notes(report, embedded, status)
    allowed = _docmdp_allows_annotations(status)
    diff = status.diff_result
    message = str(diff) if diff is not None and level is not None \
        and report.modification_level not in ALLOWED_LEVELS else ""
    report.verdict, report.reasons = judge(
        report, structural, change_reasons(report.changes, report.modification_level,
                                           allowed, message[:200]))
    return report


def _docmdp_allows_annotations(status: PdfSignatureStatus) -> bool:
    perm = getattr(status, "docmdp_level", None)
    return bool(perm is not None and getattr(perm, "value", 0) >= 3)


def _notes(report: SignatureReport, embedded: EmbeddedPdfSignature,
           status: PdfSignatureStatus) -> None:
    if not has_signed_attrs(embedded.signer_info):
        report.notes.append(_r(
            "no_signed_attributes",
            "chữ ký không có thuộc tính được ký (thời điểm ký, chứng thư người ký không được "
            "gắn vào chữ ký; không phải PAdES)",
            "the signature has no signed attributes (signing time and signer certificate are "
            "not bound to it; not PAdES)"))
    ts = status.timestamp_validity
    claimed = status.signer_reported_dt
    if ts is not None and claimed is not None and claimed - ts.timestamp > CLOCK_SKEW:
        skew = int((claimed - ts.timestamp).total_seconds())
        report.notes.append(_r(
            "clock_skew",
            f"thời điểm ký tự khai muộn hơn dấu thời gian {skew} giây (đồng hồ máy người ký "
            "chạy nhanh); dùng thời điểm của dấu thời gian",
            f"the claimed signing time is {skew} s after the timestamp (the signer's clock ran "
            "ahead); the timestamp's time is used"))
    if report.validation_time_source == "timestamp":
        report.notes.append(_r(
            "validated_at_timestamp",
            f"chứng thư được kiểm tra tại thời điểm của dấu thời gian ({report.timestamp}) vì "
            "nay đã hết hạn hoặc bị thu hồi",
            f"the certificate was validated at the timestamp's time ({report.timestamp}) since "
            "it has expired or been revoked since"))
    for change in report.changes:
        if change.kind == "form_filling":
            report.notes.append(_r("form_filled_after",
                                   "trường biểu mẫu được điền sau khi ký: "
                                   f"{change_detail(change)}",
                                   f"form field filled after signing: {change.detail}"))


def _unvalidated(report: SignatureReport, embedded: EmbeddedPdfSignature, structural: list[Reason],
                 exc: Exception) -> SignatureReport:
    """A signature pyHanko could not validate: say what can still be said."""
    from pyhanko.sign.validation.errors import SignatureValidationError

    digest_checked = False
    report.weak_algorithms = weak_algorithms(embedded, None)
    try:
        if not digest_computable(embedded.signer_info):
            raise NotImplementedError(report.digest_algorithm)  # nothing more can be said
        embedded.compute_integrity_info(skip_diff=True)  # type: ignore[no-untyped-call]
        info = embedded.summarise_integrity_info()
        coverage = info.get("coverage")
        report.coverage = coverage.name.lower() if coverage is not None else "unknown"
        attrs = embedded.signer_info["signed_attrs"]
        md = attr(attrs, "message_digest")
        digest_checked = md is not None
        report.intact = md is not None and md.native == embedded.compute_digest()
        when = attr(attrs, "signing_time")
        report.signing_time = _iso(when.native) if when is not None else _iso(
            embedded.self_reported_timestamp)
    except VALIDATION_ERRORS:  # not even the digest can be computed: unverifiable below
        pass
    text = str(getattr(exc, "failure_message", "") or exc)[:200]
    if isinstance(exc, SignatureValidationError) and "certificate" in text:
        reason = _r("no_signing_certificate",
                    "chữ ký không kèm chứng thư số của người ký: không xác định được người ký",
                    "the signature carries no signer certificate: the signer cannot be "
                    "identified")
    else:
        reason = _r("unverifiable", f"không kiểm tra được chữ ký ({type(exc).__name__}: {text})",
                    f"the signature cannot be checked ({type(exc).__name__}: {text})")
    invalid = list(structural)
    if digest_checked and not report.intact:
        invalid.append(_r("digest_mismatch", "giá trị băm không khớp với tài liệu",
                          "digest mismatch with the document"))
    report.reasons = [*invalid, reason]
    if report.weak_algorithms:
        listed = ", ".join(report.weak_algorithms)
        report.reasons.append(_r("weak_algorithm", f"thuật toán yếu: {listed}",
                                 f"weak algorithm: {listed}"))
    report.verdict = Verdict.INVALID if invalid else Verdict.INDETERMINATE
    return report


def _broken(name: str, sig_object: Any, exc: Exception) -> SignatureReport:
    """A signature field whose signature cannot even be parsed."""
    contents = b""
    with contextlib.suppress(*PDF_ERRORS):
        contents = bytes(sig_object.get_object()["/Contents"])
    report = SignatureReport(field=name)
    if not contents.strip(b"\0"):
        reason = _r("contents_empty",
                    "giá trị chữ ký (/Contents) trống: chữ ký đã bị xóa",
                    "the signature value (/Contents) is empty: the signature was removed")
    else:
        reason = _r("malformed_signature",
                    f"chữ ký hỏng, không đọc được ({type(exc).__name__})",
                    f"the signature is malformed and cannot be read ({type(exc).__name__})")
    report.verdict, report.reasons = Verdict.INVALID, [reason]
    return report


def _signatures(reader: PdfFileReader) -> Iterator[tuple[str, Any, Any]]:
    """(field name, embedded signature or None, error) for every filled signature field."""
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except PDF_ERRORS as exc:  # a form too broken to walk
        raise PdfUnreadable(f"biểu mẫu hỏng ({type(exc).__name__})",
                            f"broken form ({type(exc).__name__})") from exc
    for name, sig_obj, sig_field in fields:
        try:
            obj = sig_obj.get_object()
            if obj.get("/Type") == "/DocTimeStamp":
                continue
            yield name, EmbeddedPdfSignature(reader, sig_field, name), None
        except VALIDATION_ERRORS as exc:  # a CMS that cannot be parsed
            yield name, sig_obj, exc


def _file_digest(data: bytes, signatures: list[EmbeddedPdfSignature]) -> str:
    """The SHA-256 of ``data``, and the byte-range digest of each SHA-256 signature from
    the same pass over the file (put in pyHanko's ``external_digests`` cache, which
    ``compute_digest`` reads first).

    A signature's range ``[0, b) + [c, c + d)`` shares its first part with the file's
    hash: the hash state is copied at ``b`` and the short rest of the revision added to
    the copy. A file is then read once instead of once per signature and once more for
    the report (a 60 MB scan with two signatures: 60 MB hashed, not 180 MB). A range of
    any other shape is left to pyHanko, which reads it as it is."""
    view = memoryview(data)
    forks: list[tuple[int, int, int, EmbeddedPdfSignature]] = []
    for embedded in signatures:
        with contextlib.suppress(*VALIDATION_ERRORS):  # a broken range: pyHanko says so
            if embedded.external_md_algorithm != "sha256":
                continue
            values = [int(v) for v in embedded.byte_range]
            if len(values) != 4:
                continue
            start, gap, rest, length = values
            if start == 0 and 0 < gap <= rest and length >= 0 and rest + length <= len(data):
                forks.append((gap, rest, rest + length, embedded))
    whole = hashlib.sha256()
    done = 0
    for gap, rest, end, embedded in sorted(forks, key=lambda fork: fork[0]):
        whole.update(view[done:gap])
        done = gap
        part = whole.copy()
        part.update(view[rest:end])
        embedded.external_digests["sha256"] = part.digest()
    whole.update(view[done:])
    return whole.hexdigest()


def _verify_reader(data: bytes, reader: PdfFileReader, context_factory: ContextFactory, name: str,
                   store: TrustStore | None, extra: list[Reason]) -> Report:
    facts = file_facts(data, reader)
    reports: list[SignatureReport] = []
    embedded_list = []
    for field_name, embedded, error in _signatures(reader):
        if error is not None:
            reports.append(_broken(field_name, embedded, error))
        else:
            embedded_list.append(embedded)
    sha256 = _file_digest(data, embedded_list)
    for embedded in sorted(embedded_list, key=lambda e: e.signed_revision):
        try:
            reports.append(_signature_report(embedded, reader, data, context_factory(), store))
        except VALIDATION_ERRORS as exc:  # one broken signature never sinks the report
            reports.append(_broken(embedded.field_name, embedded.sig_object, exc))
    return Report.of(name, sha256, reports,
                     problems=[*extra, *facts.problems], notes=facts.notes,
                     revisions=facts.revisions, trailing_bytes=len(facts.trailing))


def hostile_report(data: bytes, name: str, error: PdfHostile) -> Report:
    """The report of a file refused before verification (its structure is hostile, or its
    check went over the time or memory allowed): invalid, with reason ``refused_<code>``."""
    return Report.of(name, hashlib.sha256(data).hexdigest(), [], problems=[_r(
        f"refused_{error.code}", f"tệp bị từ chối, không kiểm tra chữ ký: {error.vi}",
        f"the file is refused, its signatures are not checked: {error.en}")])


def verify_pdf(data: bytes, context_factory: ContextFactory, name: str = "",
               store: TrustStore | None = None, *, limits: PdfLimits = VERIFY_LIMITS,
               checked: bool = False) -> Report:
    """Check every signature of ``data``; ``context_factory`` gives the trust to use.

    ``store``, when given, tells where each trust anchor came from (demo or real).
    The file's structure is first checked within ``limits`` (:mod:`signer.guard`: loops,
    nesting, decompression bombs); a hostile file gets :func:`hostile_report` without
    being read further. ``checked``: the caller has already done that check (in a child
    process with memory and time limits, :mod:`signer.isolate`).
    Raises only ``PdfUnreadable`` / ``PdfEncrypted`` for a file that is no usable PDF.
    """
    if not checked:
        try:
            inspect_pdf(data, limits)
        except PdfHostile as error:
            return hostile_report(data, name, error)
        except SignerError:
            pass  # not readable by pikepdf: the reader below says what it can
    try:
        reader = open_reader(data)
    except PdfUnreadable as error:
        prefix, problems = salvage(data, error)
        sha = hashlib.sha256(data).hexdigest()
        if not prefix:
            return Report.of(name, sha, [], problems=problems)
        try:
            reader = open_reader(prefix)
        except PdfUnreadable:
            return Report.of(name, sha, [], problems=problems)
        report = _verify_reader(prefix, reader, context_factory, name, store, problems)
        report.sha256 = sha
        return report
    return _verify_reader(data, reader, context_factory, name, store, [])


#: A trust store as plain values, (DER, origin, source) per certificate: what crosses a
#: process boundary (unpickled asn1crypto objects lack their class set-up in a fresh
#: process).
TrustEntries = list[tuple[bytes, str, str]]


def trust_entries(store: TrustStore) -> TrustEntries:
    return [(e.cert.dump(), e.origin.value, e.source) for e in store]


def verify_file(data: bytes, trusted: TrustEntries, name: str = "",
                limits: PdfLimits = VERIFY_LIMITS) -> Report:
    """:func:`verify_pdf` against the trust store ``trusted`` (fetching OCSP/CRL online),
    as one function of plain arguments: what the isolation child runs for an uploaded
    file (:mod:`signer.isolate`, task ``verify``). The report holds plain Python values
    only (pyHanko's string subclasses become ``str``), so it crosses back."""
    from asn1crypto import x509

    from certs import Origin

    store = TrustStore()
    for der, origin, source in trusted:
        store.add(x509.Certificate.load(der), Origin(origin), source)
    report = verify_pdf(data, lambda: validation_context(store), name, store, limits=limits)
    _plain(report)
    return report


def _plain(value: object) -> object:
    """``value`` with every ``str`` subclass replaced by ``str`` (dataclasses in place)."""
    import dataclasses
    import enum

    if isinstance(value, enum.Enum):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            object.__setattr__(value, item.name, _plain(getattr(value, item.name)))
    return value


async def async_verify_pdf(data: bytes, context_factory: ContextFactory, name: str = "",
                           store: TrustStore | None = None, *, checked: bool = False) -> Report:
    """:func:`verify_pdf` from inside an event loop (the validator blocks it otherwise)."""
    return await asyncio.to_thread(lambda: verify_pdf(data, context_factory, name, store,
                                                      checked=checked))