"""Verify every signature in a PDF into a structured report, for auditors.

Per signature: the byte range's shape (signature wrapping, truncation), integrity,
coverage and what changed in the revisions after it, the certificate chain to a
trust anchor, revocation (OCSP, else CRL, else a warning — never a silent pass),
the signature timestamp, the PAdES level and the strength of the algorithms.
Verdicts: ``valid`` / ``invalid`` / ``indeterminate``, each with its reasons in
Vietnamese and English (see docs/verification.md for the rules).

Nothing a PDF can contain makes this module raise, except a file that is not a
readable PDF at all (``PdfUnreadable``) or is encrypted (``PdfEncrypted``): a
broken signature becomes a signature report with verdict and reason.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from certs.trust import TrustStore
from certs.validation import Revocation, context_at, revocation_evidence

from .errors import PdfUnreadable, SignerError
from .pdfinput import open_reader
from .report import Change, Reason, Report, SignatureReport, Verdict

#: Makes a fresh pyHanko ValidationContext for each signature.
ContextFactory = Callable[[], Any]

#: Circular 15/2025 Appendix I: SHA-2/SHA-3 digests, RSA >= 2048, ECDSA >= 256
WEAK_DIGESTS = frozenset({"md2", "md5", "sha1"})
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
#: a signer's clock may run ahead of the TSA's by this much without a note
CLOCK_SKEW = dt.timedelta(seconds=5)
#: pyHanko modification levels that leave an earlier signature valid
ALLOWED_LEVELS = ("none", "lta_updates", "form_filling")
#: Kyso's own change kinds that leave an earlier signature valid
ALLOWED_CHANGES = ("signature", "timestamp", "dss", "form_filling")
_PDF_WHITESPACE = b"\x00\t\n\x0c\r "
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
_EXPIRY_PROBLEMS = ("expired", "out_of_bounds_no_poe", "not_yet_valid",
                    "certificate_chain_general_failure")


class PdfTruncated(PdfUnreadable):
    """An unreadable PDF that does not end with %%EOF: most likely cut short."""

    def __init__(self) -> None:
        SignerError.__init__(self, "tệp PDF không đọc được và không kết thúc bằng %%EOF: tệp đã "
                                   "bị cắt cụt", "the PDF is unreadable and does not end with "
                                                 "%%EOF: the file was truncated")


def _r(code: str, vi: str, en: str) -> Reason:
    return Reason(vi, en, code)


# ---------------------------------------------------------------- small readers


def _name_part(name: Any, key: str) -> str:
    try:
        value = name.native.get(key, "")
    except Exception:  # noqa: BLE001 - a malformed name is shown as empty
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value)


def _human(name: Any) -> str:
    try:
        return str(name.human_friendly)
    except Exception:  # noqa: BLE001
        return ""


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _attr(attrs: Any, name: str) -> Any:
    """The first value of the CMS attribute ``name``, tolerating malformed neighbours."""
    try:
        if attrs is None or attrs.native is None:
            return None
    except Exception:  # noqa: BLE001 - e.g. 01's non-standard unsigned attribute
        pass
    try:
        for attr in attrs:
            try:
                if attr["type"].native == name:
                    return attr["values"][0]
            except Exception:  # noqa: BLE001 - skip an attribute we cannot read
                continue
    except Exception:  # noqa: BLE001
        return None
    return None


def _has_signed_attrs(signer_info: Any) -> bool:
    try:
        return len(signer_info["signed_attrs"]) > 0
    except Exception:  # noqa: BLE001
        return False


# ---------------------------------------------------------------- file structure


@dataclass
class _FileFacts:
    revisions: int
    trailing: bytes
    problems: list[Reason] = field(default_factory=list)
    notes: list[Reason] = field(default_factory=list)


def _trailing(data: bytes) -> bytes:
    """The bytes after the last ``%%EOF`` marker and its end-of-line."""
    end = data.rfind(b"%%EOF")
    if end < 0:
        return b""
    rest = data[end + 5:]
    for eol in (b"\r\n", b"\n", b"\r"):
        if rest.startswith(eol):
            return rest[len(eol):]
    return rest


def _file_facts(data: bytes, reader: Any) -> _FileFacts:
    try:
        revisions = int(reader.xrefs.total_revisions)
    except Exception:  # noqa: BLE001
        revisions = 0
    facts = _FileFacts(revisions, _trailing(data))
    if facts.trailing:
        size = len(facts.trailing)
        if facts.trailing.strip(_PDF_WHITESPACE):
            facts.problems.append(_r(
                "appended_data",
                f"có {size} byte dữ liệu lạ được nối vào sau dấu kết thúc %%EOF của tệp đã ký "
                "(không thuộc phiên bản nào của tài liệu, không chữ ký nào bảo vệ)",
                f"{size} bytes of foreign data were appended after the signed file's final "
                "%%EOF (they belong to no revision and no signature covers them)"))
        else:
            facts.notes.append(_r(
                "trailing_whitespace",
                f"có {size} byte khoảng trắng sau dấu %%EOF cuối cùng (không ảnh hưởng nội dung)",
                f"{size} bytes of whitespace follow the final %%EOF (content unaffected)"))
    return facts


def _gap_problem(data: bytes, b: int, c: int) -> Reason | None:
    """Whether bytes ``b``..``c`` are exactly one hex string (the signature's /Contents)."""
    gap = data[b:c]
    hex_digits = gap[1:-1].strip(_PDF_WHITESPACE)
    if (gap[:1] == b"<" and gap[-1:] == b">"
            and re.fullmatch(rb"[0-9A-Fa-f]*", hex_digits)):
        return None
    return _r("signature_wrapping",
              "khoảng trống giữa hai vùng ký không đúng là giá trị /Contents của chữ ký "
              "(có nội dung bị chèn hoặc dời chỗ)",
              "signature wrapping: the gap between the two signed ranges is not exactly the "
              "signature's /Contents (content was inserted or moved)")


def _byte_range_problem(data: bytes, sig_object: Any) -> Reason | None:
    """Whether /ByteRange is the one shape a sound signature has.

    Two ranges: from the file's start to the ``<`` of /Contents, and from its ``>``
    to the end of a revision; the gap holds exactly the /Contents hex string.
    """
    try:
        values = [int(v) for v in sig_object.raw_get("/ByteRange")]
    except Exception:  # noqa: BLE001
        values = []
    if len(values) != 4 or any(v < 0 for v in values):
        return _r("signature_wrapping", "vùng ký /ByteRange sai dạng (phải có 4 số không âm)",
                  "signature wrapping: /ByteRange is malformed (needs 4 non-negative numbers)")
    a, b, c, d = values
    if c + d > len(data):
        return _r("truncated",
                  f"tệp bị cắt cụt: chữ ký bao trùm {c + d} byte nhưng tệp chỉ còn "
                  f"{len(data)} byte",
                  f"the file is truncated: the signature covers {c + d} bytes but the file "
                  f"has only {len(data)}")
    if a != 0 or b <= 0 or c <= b:
        return _r("signature_wrapping",
                  f"vùng ký /ByteRange [{a} {b} {c} {d}] không bắt đầu từ đầu tệp hoặc chồng lấn",
                  f"signature wrapping: /ByteRange [{a} {b} {c} {d}] does not start at the "
                  "beginning of the file or overlaps itself")
    gap_problem = _gap_problem(data, b, c)
    if gap_problem is not None:
        return gap_problem
    if not re.search(rb"%%EOF[\r\n]*$", data[max(c + d - 40, 0):c + d]):
        return _r("signature_wrapping",
                  "vùng ký kết thúc giữa chừng một phiên bản (không tại dấu %%EOF): chữ ký không "
                  "bao trùm trọn phiên bản nó ký",
                  "signature wrapping: the signed range stops inside a revision (not at a "
                  "%%EOF), so the signature does not cover the revision it signs")
    hex_digits = data[b + 1:c - 1].strip(_PDF_WHITESPACE)
    try:
        contents = bytes(sig_object["/Contents"])
        in_gap = binascii.unhexlify(hex_digits + (b"0" if len(hex_digits) % 2 else b""))
    except Exception:  # noqa: BLE001
        return None
    if contents.rstrip(b"\0") != in_gap.rstrip(b"\0"):
        return _r("signature_wrapping",
                  "giá trị /Contents của chữ ký không phải là dữ liệu nằm trong khoảng trống của "
                  "vùng ký (chữ ký bị bọc/dời chỗ)",
                  "signature wrapping: the signature's /Contents is not the data in the byte "
                  "range's gap")
    return None


# ---------------------------------------------------------------- what changed after


def _pages(root: Any, limit: int = 5000) -> list[Any]:
    out: list[Any] = []

    def walk(node: Any, depth: int) -> None:
        if depth > 64 or len(out) >= limit:
            return
        node = node.get_object()
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            for kid in node.get("/Kids", []):
                walk(kid, depth + 1)
        else:
            out.append(node)

    walk(root["/Pages"], 0)
    return out


def _stream_digest(obj: Any) -> str:
    h = hashlib.sha256()
    obj = obj.get_object() if obj is not None else None
    items = obj if isinstance(obj, list) else [obj]
    for item in items:
        if item is None:
            continue
        item = item.get_object()
        try:
            h.update(item.data)
        except Exception:  # noqa: BLE001 - not a stream: use its text
            h.update(repr(item).encode())
    return h.hexdigest()


def _resources_digest(page: Any) -> str:
    h = hashlib.sha256()
    try:
        xobjects = page["/Resources"].get("/XObject", {})
        for name in sorted(xobjects):
            h.update(name.encode() + _stream_digest(xobjects.raw_get(name)).encode())
        h.update(repr(sorted(page["/Resources"].keys())).encode())
    except Exception:  # noqa: BLE001
        pass
    return h.hexdigest()


def _annot_key(ref: Any) -> str:
    return f"{ref.idnum}/{ref.generation}" if hasattr(ref, "idnum") else repr(ref)[:60]


def _fields(root: Any) -> dict[str, tuple[str, str, str]]:
    """Fully qualified name → (type, value, annotation key) of every form field."""
    out: dict[str, tuple[str, str, str]] = {}

    def walk(ref: Any, prefix: str, depth: int) -> None:
        if depth > 32 or len(out) > 5000:
            return
        node = ref.get_object()
        name = str(node.get("/T", ""))
        full = f"{prefix}.{name}" if prefix and name else (name or prefix)
        kids = node.get("/Kids", [])
        if kids and any("/T" in k.get_object() for k in kids):
            for kid in kids:
                walk(kid, full, depth + 1)
            return
        ftype = str(node.get("/FT", ""))
        value = node.get("/V")
        value_text = "" if value is None else str(value.get_object() if ftype != "/Sig"
                                                 else "signed")
        out[full] = (ftype, value_text, _annot_key(ref))

    try:
        for ref in root["/AcroForm"]["/Fields"]:
            walk(ref, "", 0)
    except Exception:  # noqa: BLE001 - no form
        pass
    return out


@dataclass
class _Snapshot:
    content: list[str]
    resources: list[str]
    annots: list[dict[str, str]]  # per page: annotation key → subtype
    fields: dict[str, tuple[str, str, str]]
    dss: bool


def _snapshot(reader: Any, revision: int) -> _Snapshot:
    root = reader.get_historical_root(revision)
    pages = _pages(root)
    annots: list[dict[str, str]] = []
    for page in pages:
        found: dict[str, str] = {}
        for ref in page.get("/Annots", []) or []:
            try:
                found[_annot_key(ref)] = str(ref.get_object().get("/Subtype", "?"))
            except Exception:  # noqa: BLE001
                found[_annot_key(ref)] = "?"
        annots.append(found)
    return _Snapshot(
        content=[_stream_digest(p.raw_get("/Contents")) if "/Contents" in p else ""
                 for p in pages],
        resources=[_resources_digest(p) for p in pages],
        annots=annots,
        fields=_fields(root),
        dss="/DSS" in root,
    )


def _rect(reader: Any, revision: int, key: str) -> str:
    try:
        idnum, gen = (int(v) for v in key.split("/"))
        from pyhanko.pdf_utils.generic import Reference

        obj = reader.get_historical_resolver(revision)(Reference(idnum, gen, reader))
        return " ".join(f"{float(v):.0f}" for v in obj["/Rect"])
    except Exception:  # noqa: BLE001
        return "?"


def _diff(reader: Any, before: _Snapshot, after: _Snapshot, revision: int) -> list[Change]:
    """What ``revision`` (0-based) changed compared with the one before it."""
    changes: list[Change] = []
    n = revision + 1
    if len(before.content) != len(after.content):
        changes.append(Change(n, "pages", f"{len(before.content)} → {len(after.content)} pages"))
    widget_keys = {v[2] for v in after.fields.values()} | {v[2] for v in before.fields.values()}
    for i in range(min(len(before.content), len(after.content))):
        if before.content[i] != after.content[i]:
            changes.append(Change(n, "page_content", f"page {i + 1}: content stream changed"))
        if before.resources[i] != after.resources[i]:
            changes.append(Change(n, "page_resources",
                                  f"page {i + 1}: resources (images/forms/fonts) changed"))
        for key, subtype in after.annots[i].items():
            if key not in before.annots[i] and key not in widget_keys:
                changes.append(Change(n, "annotation",
                                      f"page {i + 1}: {subtype} annotation added at "
                                      f"[{_rect(reader, revision, key)}]"))
        for key, subtype in before.annots[i].items():
            if key not in after.annots[i] and key not in widget_keys:
                changes.append(Change(n, "annotation", f"page {i + 1}: {subtype} annotation "
                                                       "removed"))
    refs = _explicit_refs(reader, revision)
    for name, (ftype, value, key) in after.fields.items():
        old = before.fields.get(name)
        if old is None:
            kind = "signature" if ftype == "/Sig" else "field_added"
            changes.append(Change(n, kind, f"field '{name}' ({ftype or '?'}) added"))
        elif old[1] != value:
            if ftype == "/Sig":
                changes.append(Change(n, "signature", f"signature field '{name}' signed"))
            elif old[1] in ("", "None"):
                changes.append(Change(n, "form_filling", f"field '{name}' filled: {value!r}"))
            else:
                changes.append(Change(n, "form_value_changed",
                                      f"field '{name}' changed: {old[1]!r} → {value!r}"))
        elif key in refs and ftype != "/Sig" and old == (ftype, value, key):
            changes.append(Change(n, "form_filling", f"field '{name}' appearance redrawn"))
    for name in before.fields.keys() - after.fields.keys():
        changes.append(Change(n, "field_removed", f"field '{name}' removed"))
    if after.dss and not before.dss:
        changes.append(Change(n, "dss", "validation data (DSS) added"))
    return changes


def _explicit_refs(reader: Any, revision: int) -> set[str]:
    try:
        return {f"{r.idnum}/{r.generation}"
                for r in reader.xrefs.explicit_refs_in_revision(revision)}
    except Exception:  # noqa: BLE001
        return set()


def _changes_after(reader: Any, signed_revision: int) -> list[Change]:
    changes: list[Change] = []
    total = reader.xrefs.total_revisions
    try:
        before = _snapshot(reader, signed_revision)
        for rev in range(signed_revision + 1, total):
            after = _snapshot(reader, rev)
            found = _diff(reader, before, after, rev)
            changes.extend(found or [Change(rev + 1, "other",
                                            "objects changed outside pages and fields")])
            before = after
    except Exception as exc:  # noqa: BLE001 - a revision we cannot read is itself a finding
        changes.append(Change(signed_revision + 2, "other",
                              f"later revision cannot be analysed ({type(exc).__name__})"))
    return changes


# ---------------------------------------------------------------- timestamps, algorithms


def _timestamp_token(signer_info: Any) -> Any:
    token = _attr(signer_info["unsigned_attrs"], "signature_time_stamp_token")
    return token["content"] if token is not None else None


def _weak_algorithms(embedded: Any, cert: Any) -> list[str]:
    weak: list[str] = []
    digest = str(embedded.md_algorithm).lower()
    if digest in WEAK_DIGESTS:
        weak.append(f"signature digest {digest}")
    try:
        mech = str(embedded.signer_info["signature_algorithm"]["algorithm"].native)
        if any(mech.startswith(h + "_") for h in WEAK_DIGESTS):
            weak.append(f"signature algorithm {mech}")
    except Exception:  # noqa: BLE001
        pass
    if cert is not None:
        algo, bits = cert.public_key.algorithm, cert.public_key.bit_size
        if algo == "rsa" and bits < MIN_RSA_BITS:
            weak.append(f"RSA key {bits} bits")
        elif algo == "ec" and bits < MIN_EC_BITS:
            weak.append(f"EC key {bits} bits")
        elif algo not in ("rsa", "ec", "rsassa_pss"):
            weak.append(f"{algo} key (not allowed)")
    try:
        token = _timestamp_token(embedded.signer_info)
        if token is not None:
            tst = token["encap_content_info"]["content"].parsed
            imprint = str(tst["message_imprint"]["hash_algorithm"]["algorithm"].native)
            if imprint in WEAK_DIGESTS:
                weak.append(f"timestamp imprint {imprint}")
    except Exception:  # noqa: BLE001
        pass
    return weak


# ---------------------------------------------------------------- evidence in the file


def _embedded_revinfo(reader: Any, embedded: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """OCSP responses, CRLs and certificates stored in the file (DSS, Adobe attribute)."""
    ocsps: list[Any] = []
    crls: list[Any] = []
    certs: list[Any] = []
    try:
        from pyhanko.sign.validation.dss import DocumentSecurityStore

        dss = DocumentSecurityStore.read_dss(reader)
        context = dss.as_validation_context({"allow_fetching": False, "trust_roots": []})
        ocsps.extend(context.ocsps)
        crls.extend(context.crls)
        certs.extend(dss.load_certs())
    except Exception:  # noqa: BLE001 - no DSS (or an unreadable one)
        pass
    try:
        archival = _attr(embedded.signer_info["signed_attrs"], "adobe_revocation_info_archival")
        if archival is not None:
            ocsps.extend(v for v in (archival["ocsp"] or []))
            crls.extend(v for v in (archival["crl"] or []))
    except Exception:  # noqa: BLE001
        pass
    return ocsps, crls, certs


def _pades_level(embedded: Any, has_timestamp: bool, reader: Any) -> str:
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


# ---------------------------------------------------------------- validation


def _lenient_policy() -> Any:
    """Lets pyHanko check SHA-1 signatures so integrity can be told; Kyso judges strength."""
    from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
    from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy

    return CMSAlgorithmUsagePolicy.lift_policy(DisallowWeakAlgorithmsPolicy(  # type: ignore[no-untyped-call]
        weak_hash_algos=frozenset({"md2", "md5"}), rsa_key_size_threshold=1024))


def _validate(embedded: Any, context: Any) -> Any:
    from pyhanko.sign.validation import async_validate_pdf_signature

    return asyncio.run(async_validate_pdf_signature(
        embedded, signer_validation_context=context, ts_validation_context=context,
        algorithm_policy=_lenient_policy()))


def _expired_at(cert: Any, moment: dt.datetime) -> bool:
    validity = cert["tbs_certificate"]["validity"]
    return bool(validity["not_after"].native < moment or validity["not_before"].native > moment)


def _problem(status: Any) -> str | None:
    indic = status.trust_problem_indic
    return str(getattr(indic, "name", indic)).lower() if indic else None


@dataclass
class _Outcome:
    status: Any
    context: Any
    source: str


def _validate_in_time(embedded: Any, reader: Any, context: Any) -> _Outcome:
    """Validate now; if the certificate has expired or been revoked since, or revocation
    evidence is only in the file, validate again at the time the timestamp proves
    (else at the claimed signing time, which the verdict never accepts as proof)."""
    status = _validate(embedded, context)
    outcome = _Outcome(status, context, "current")
    cert = status.signing_cert
    now = context.moment
    ocsps, crls, certs = _embedded_revinfo(reader, embedded)
    unchecked = revocation_evidence(context, cert) is Revocation.UNCHECKED
    expired = _expired_at(cert, now) or (not status.trusted and _problem(status)
                                         in _EXPIRY_PROBLEMS)
    if not (expired or status.revoked or (unchecked and (ocsps or crls))):
        return outcome
    ts = status.timestamp_validity
    if ts is not None and ts.intact and ts.valid:
        moment, source = ts.timestamp, "timestamp"
    elif status.signer_reported_dt is not None:
        moment, source = status.signer_reported_dt, "claimed_signing_time"
    else:
        return outcome
    past = context_at(context, moment, ocsps=ocsps, crls=crls, other_certs=certs)
    past_status = _validate(embedded, past)
    if source == "timestamp":
        pts = past_status.timestamp_validity
        if pts is None or not (pts.intact and pts.valid and pts.trusted):
            # the timestamp itself is not trusted even at its own time: no proof
            source = "claimed_signing_time" if status.signer_reported_dt else source
    return _Outcome(past_status, past, source)


def _judge(sig: SignatureReport, structural: list[Reason],
           change_reasons: list[Reason]) -> tuple[Verdict, list[Reason]]:
    invalid: list[Reason] = list(structural)
    unsure: list[Reason] = []
    if not sig.intact:
        invalid.append(_r("digest_mismatch",
                          "tài liệu đã bị sửa sau khi ký, hoặc chữ ký thuộc tài liệu khác "
                          "(giá trị băm không khớp)",
                          "the document was altered after signing, or the signature belongs to "
                          "another document (digest mismatch)"))
    elif not sig.valid:
        invalid.append(_r("signature_mismatch",
                          "chữ ký số không đúng với khóa công khai của chứng thư",
                          "the signature does not verify with the certificate's key"))
    if sig.revocation == Revocation.REVOKED.value:
        invalid.append(_r("revoked",
                          "chứng thư số đã bị thu hồi trước thời điểm ký được chứng minh",
                          "the certificate was revoked before any proven signing time"))
    if sig.coverage in ("entire_file", "entire_revision"):
        invalid.extend(change_reasons)
    elif not structural:
        invalid.append(_r("coverage", "chữ ký không bao trùm trọn một phiên bản của tài liệu",
                          "the signature does not cover a whole revision of the document"))
    if (not sig.trusted and sig.intact and sig.valid
            and sig.revocation != Revocation.REVOKED.value):
        problem = sig.trust_problem or "unknown"
        unsure.append(_r("untrusted",
                         f"không xác minh được chứng thư tới CA tin cậy ({problem})",
                         f"the certificate does not validate to a trusted CA ({problem})"))
    if sig.trusted and sig.validation_time_source == "claimed_signing_time":
        unsure.append(_r("expired_no_poe",
                         f"chứng thư số đã hết hạn ({sig.cert_valid_to}) và không có dấu thời gian "
                         "chứng minh chữ ký được tạo trước đó (thời điểm ký tự khai không phải "
                         "bằng chứng)",
                         f"the certificate expired ({sig.cert_valid_to}) and no timestamp proves "
                         "the signature was made before that (a claimed signing time is no proof)"))
    if sig.revocation == Revocation.UNCHECKED.value:
        unsure.append(_r("revocation_unchecked",
                         "CẢNH BÁO: không kiểm tra được tình trạng thu hồi (không có OCSP và CRL)",
                         "WARNING: revocation status could not be checked (neither OCSP nor CRL)"))
    if sig.timestamp is not None and not sig.timestamp_valid:
        unsure.append(_r("timestamp_untrusted", "dấu thời gian không hợp lệ hoặc không tin cậy",
                         "the timestamp is not valid or not trusted"))
    if sig.weak_algorithms:
        listed = ", ".join(sig.weak_algorithms)
        unsure.append(_r("weak_algorithm",
                         f"thuật toán yếu, không đạt Phụ lục I Thông tư 15/2025/TT-BKHCN: {listed}",
                         f"weak algorithm below Circular 15/2025 Appendix I: {listed}"))
    if invalid:
        return Verdict.INVALID, invalid + unsure
    if unsure:
        return Verdict.INDETERMINATE, unsure
    return Verdict.VALID, []


_CHANGE_TEXT = {
    "page_content": ("nội dung trang bị sửa sau khi ký", "page content changed after signing"),
    "page_resources": ("tài nguyên trang (hình, khối nội dung) bị thay sau khi ký",
                       "page resources (images, forms) replaced after signing"),
    "pages": ("số trang thay đổi sau khi ký", "pages added or removed after signing"),
    "annotation": ("chú thích được thêm/xóa sau khi ký (có thể che hoặc phủ nội dung)",
                   "annotation added or removed after signing (may hide or overlay content)"),
    "field_added": ("trường biểu mẫu mới được thêm sau khi ký (có thể phủ lên nội dung)",
                    "form field added after signing (may overlay content)"),
    "field_removed": ("trường biểu mẫu bị xóa sau khi ký", "form field removed after signing"),
    "form_value_changed": ("giá trị trường biểu mẫu đã ký bị sửa",
                           "a form field value present at signing was changed"),
    "other": ("có thay đổi không được phép sau khi ký", "disallowed changes after signing"),
}


def _change_reasons(changes: list[Change], level: str, allowed_by_docmdp: bool,
                    diff_message: str) -> list[Reason]:
    reasons: list[Reason] = []
    for kind, (vi, en) in _CHANGE_TEXT.items():
        found = [c for c in changes if c.kind == kind]
        if not found or (kind == "annotation" and allowed_by_docmdp):
            continue
        detail = "; ".join(c.detail for c in found[:5])
        reasons.append(_r(kind, f"{vi}: {detail}", f"{en}: {detail}"))
    if level not in ALLOWED_LEVELS and not reasons and not (
            level == "annotations" and allowed_by_docmdp):
        extra = f" — {diff_message}" if diff_message else ""
        reasons.append(_r("other", f"có thay đổi không được phép sau khi ký ({level}){extra}",
                          f"disallowed changes after signing ({level}){extra}"))
    return reasons


def _cert_fields(report: SignatureReport, cert: Any, now: dt.datetime) -> None:
    validity = cert["tbs_certificate"]["validity"]
    report.signer = _name_part(cert.subject, "common_name")
    report.signer_title = _name_part(cert.subject, "title")
    report.signer_unit = _name_part(cert.subject, "organizational_unit_name")
    report.signer_organisation = _name_part(cert.subject, "organization_name")
    report.signer_dn = _human(cert.subject)
    report.issuer = _name_part(cert.issuer, "common_name") or _human(cert.issuer)
    report.issuer_dn = _human(cert.issuer)
    report.issuer_organisation = _name_part(cert.issuer, "organization_name")
    report.serial = format(cert.serial_number, "x")
    report.cert_sha256 = hashlib.sha256(cert.dump()).hexdigest()
    report.cert_valid_from = validity["not_before"].native.isoformat()
    report.cert_valid_to = validity["not_after"].native.isoformat()
    report.cert_expired = _expired_at(cert, now)
    report.key_algorithm = str(cert.public_key.algorithm)
    report.key_size = int(cert.public_key.bit_size)


def _signature_report(embedded: Any, reader: Any, data: bytes, context: Any,
                      store: TrustStore | None) -> SignatureReport:
    sig_object = embedded.sig_object
    report = SignatureReport(field=embedded.field_name,
                             subfilter=str(sig_object.get("/SubFilter", "")).lstrip("/"))
    structural = [p for p in [_byte_range_problem(data, sig_object)] if p is not None]
    report.revision = embedded.signed_revision + 1
    report.revisions_after = max(reader.xrefs.total_revisions - report.revision, 0)
    with contextlib.suppress(Exception):
        byte_range = [int(v) for v in sig_object.raw_get("/ByteRange")]
        report.bytes_after = max(len(data) - byte_range[2] - byte_range[3], 0)
    report.digest_algorithm = str(embedded.md_algorithm)
    now = context.moment
    try:
        outcome = _validate_in_time(embedded, reader, context)
    except Exception as exc:  # noqa: BLE001 - e.g. no signer certificate in the CMS
        return _unvalidated(report, embedded, structural, exc)
    status, used = outcome.status, outcome.context
    cert = status.signing_cert
    _cert_fields(report, cert, now)
    ts = status.timestamp_validity
    revocation = revocation_evidence(used, cert)
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
        report.timestamp_authority = _name_part(ts.signing_cert.subject, "common_name")
    report.intact = bool(status.intact)
    report.valid = bool(status.valid)
    report.trusted = bool(status.trusted)
    report.trust_problem = _problem(status) if status.trust_problem_indic else None
    report.revocation = revocation.value
    report.coverage = coverage.name.lower() if coverage is not None else "unknown"
    report.modification_level = level.name.lower() if level is not None else "unknown"
    report.signature_algorithm = str(status.pkcs7_signature_mechanism)
    report.pades_level = _pades_level(embedded, ts is not None, reader)
    report.validation_time = _iso(used.moment)
    report.validation_time_source = outcome.source
    report.weak_algorithms = _weak_algorithms(embedded, cert)
    signed_at = ts.timestamp if report.timestamp_valid and ts is not None else \
        status.signer_reported_dt
    if signed_at is not None and report.intact and report.valid:
        report.valid_at_signing = (report.trusted and revocation is not Revocation.REVOKED
                                   and not _expired_at(cert, signed_at))
    report.changes = _changes_after(reader, embedded.signed_revision) \
        if report.revisions_after else []
    _notes(report, embedded, status)
    allowed = _docmdp_allows_annotations(status)
    diff = status.diff_result
    message = str(diff) if diff is not None and level is not None \
        and report.modification_level not in ALLOWED_LEVELS else ""
    report.verdict, report.reasons = _judge(
        report, structural, _change_reasons(report.changes, report.modification_level,
                                            allowed, message[:200]))
    return report


def _docmdp_allows_annotations(status: Any) -> bool:
    perm = getattr(status, "docmdp_level", None)
    return bool(perm is not None and getattr(perm, "value", 0) >= 3)


def _notes(report: SignatureReport, embedded: Any, status: Any) -> None:
    if not _has_signed_attrs(embedded.signer_info):
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
                                   f"trường biểu mẫu được điền sau khi ký: {change.detail}",
                                   f"form field filled after signing: {change.detail}"))


def _unvalidated(report: SignatureReport, embedded: Any, structural: list[Reason],
                 exc: Exception) -> SignatureReport:
    """A signature pyHanko could not validate: say what can still be said."""
    from pyhanko.sign.validation.errors import SignatureValidationError

    digest_checked = False
    try:
        embedded.compute_integrity_info(skip_diff=True)
        info = embedded.summarise_integrity_info()
        coverage = info.get("coverage")
        report.coverage = coverage.name.lower() if coverage is not None else "unknown"
        attrs = embedded.signer_info["signed_attrs"]
        md = _attr(attrs, "message_digest")
        digest_checked = md is not None
        report.intact = digest_checked and md.native == embedded.compute_digest()
        when = _attr(attrs, "signing_time")
        report.signing_time = _iso(when.native) if when is not None else _iso(
            embedded.self_reported_timestamp)
        report.weak_algorithms = _weak_algorithms(embedded, None)
    except Exception:  # noqa: BLE001
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
    with contextlib.suppress(Exception):
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


def _signatures(reader: Any) -> Iterator[tuple[str, Any, Any]]:
    """(field name, embedded signature or None, error) for every filled signature field."""
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:  # noqa: BLE001 - a form too broken to walk
        raise PdfUnreadable(f"biểu mẫu hỏng / broken form ({type(exc).__name__})") from exc
    for name, sig_obj, sig_field in fields:
        try:
            obj = sig_obj.get_object()
            if obj.get("/Type") == "/DocTimeStamp":
                continue
            yield name, EmbeddedPdfSignature(reader, sig_field, name), None
        except Exception as exc:  # noqa: BLE001
            yield name, sig_obj, exc


def _verify_reader(data: bytes, reader: Any, context_factory: ContextFactory, name: str,
                   store: TrustStore | None, extra: list[Reason]) -> Report:
    facts = _file_facts(data, reader)
    reports: list[SignatureReport] = []
    embedded_list = []
    for field_name, embedded, error in _signatures(reader):
        if error is not None:
            reports.append(_broken(field_name, embedded, error))
        else:
            embedded_list.append(embedded)
    for embedded in sorted(embedded_list, key=lambda e: e.signed_revision):
        try:
            reports.append(_signature_report(embedded, reader, data, context_factory(), store))
        except Exception as exc:  # noqa: BLE001 - never let one signature sink the report
            reports.append(_broken(embedded.field_name, embedded.sig_object, exc))
    return Report.of(name, hashlib.sha256(data).hexdigest(), reports,
                     problems=[*extra, *facts.problems], notes=facts.notes,
                     revisions=facts.revisions, trailing_bytes=len(facts.trailing))


def _salvage(data: bytes, error: PdfUnreadable) -> tuple[bytes, list[Reason]]:
    """For a file the reader refuses: the signed prefix to verify, and what is wrong.

    A signed file cut short, with its byte ranges wrapped, or followed by bytes
    that are no PDF update is named as such; anything else stays ``PdfUnreadable``.
    """
    problems: list[Reason] = []
    ends: list[int] = []
    for match in _BYTE_RANGE.finditer(data):
        a, b, c, d = (int(v) for v in match.groups())
        ends.append(c + d)
        if c + d > len(data):
            problems.append(_r(
                "truncated",
                f"tệp bị cắt cụt: chữ ký bao trùm {c + d} byte nhưng tệp chỉ có {len(data)} byte",
                f"the file is truncated: a signature covers {c + d} bytes but the file has "
                f"only {len(data)}"))
        elif b < c and (problem := _gap_problem(data, b, c)) is not None:
            problems.append(problem)
    if problems:
        return b"", problems[:1]
    if not ends:
        if data.rstrip(_PDF_WHITESPACE)[-5:] != b"%%EOF":
            raise PdfTruncated() from error
        raise error
    end = max(ends)
    if end >= len(data):
        raise error
    size = len(data) - end
    return data[:end], [_r(
        "appended_data",
        f"có {size} byte dữ liệu không phải PDF được nối vào sau phần đã ký",
        f"{size} bytes that are not a valid PDF update were appended after the signed part")]


def verify_pdf(data: bytes, context_factory: ContextFactory, name: str = "",
               store: TrustStore | None = None) -> Report:
    """Check every signature of ``data``; ``context_factory`` gives the trust to use.

    ``store``, when given, tells where each trust anchor came from (demo or real).
    Raises only ``PdfUnreadable`` / ``PdfEncrypted`` for a file that is no usable PDF.
    """
    try:
        reader = open_reader(data)
    except PdfUnreadable as error:
        prefix, problems = _salvage(data, error)
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


async def async_verify_pdf(data: bytes, context_factory: ContextFactory, name: str = "",
                           store: TrustStore | None = None) -> Report:
    """:func:`verify_pdf` from inside an event loop (the validator blocks it otherwise)."""
    return await asyncio.to_thread(verify_pdf, data, context_factory, name, store)
