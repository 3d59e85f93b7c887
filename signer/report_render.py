"""Verification reports an auditor can read, print and file: one HTML page, one A4 PDF.

Both are rendered from a :class:`signer.report.Report` (schema ``kyso.verify/1``).
Circular 15/2025/TT-BKHCN Art. 6 says what a verifier must show at least;
:data:`ARTICLE_6_FIELDS` names, for each of its items, the report attributes that
answer it, and both renderers show those first, in that order. Every other attribute
of a signature report is listed after them under "technical details", so a field
added to the schema appears without touching this module (give it a label in
:data:`LABELS` to make it read well).

Everything taken from the file (its name, certificate names, reasons quoting the
validator) is escaped: a file name or a certificate subject is attacker-controlled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Literal

from common import VN_TZ, render_template

from .fonts import reportlab_fonts
from .report import SCHEMA, Change, Reason, Report, SignatureReport, Verdict
from .wording import change_words, dn_words, field_words

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Flowable, SimpleDocTemplate

Lang = Literal["vi", "en"]

@dataclass(frozen=True)
class Article6Item:
    """One item Circular 15/2025 Art. 6 requires, and the attributes that show it."""

    key: str
    vi: str
    en: str
    #: attributes of :class:`SignatureReport`, the main one first
    attributes: tuple[str, ...]


#: Circular 15/2025/TT-BKHCN Art. 6: what a verification report shows at least.
ARTICLE_6_FIELDS: tuple[Article6Item, ...] = (
    Article6Item("issuing_ca", "Tổ chức cấp chứng thư số (CA)", "Issuing CA",
                 ("issuer", "issuer_organisation", "issuer_dn")),
    Article6Item("signer", "Người ký", "Signer", ("signer", "signer_title", "signer_dn")),
    Article6Item("managing_unit", "Cơ quan, đơn vị quản lý người ký", "Managing unit",
                 ("signer_organisation", "signer_unit")),
    Article6Item("signing_time", "Thời điểm ký, dấu thời gian", "Signing time or timestamp",
                 ("signing_time", "timestamp", "timestamp_authority")),
    Article6Item("integrity", "Tính toàn vẹn của văn bản", "Integrity of the document",
                 ("intact", "coverage", "modification_level")),
    Article6Item("validity_at_signing", "Hiệu lực của chứng thư tại thời điểm ký",
                 "Validity at signing time",
                 ("valid_at_signing", "validation_time", "trusted", "revocation")),
    Article6Item("certificate_validity", "Thời hạn hiệu lực của chứng thư số",
                 "Certificate validity period", ("cert_valid_from", "cert_valid_to")),
)

#: Attribute labels (Vietnamese, English); an attribute without one shows its name.
LABELS: dict[str, tuple[str, str]] = {
    "field": ("Trường chữ ký", "Signature field"),
    "signer": ("Họ và tên", "Name"),
    "signer_title": ("Chức vụ", "Title"),
    "signer_unit": ("Đơn vị", "Unit"),
    "signer_organisation": ("Cơ quan, tổ chức", "Organisation"),
    "signer_dn": ("Chủ thể chứng thư", "Certificate subject"),
    "issuer": ("Tên CA", "CA name"),
    "issuer_organisation": ("Tổ chức của CA", "CA organisation"),
    "issuer_dn": ("Tên đầy đủ của CA", "CA distinguished name"),
    "serial": ("Số hiệu chứng thư", "Certificate serial"),
    "cert_sha256": ("SHA-256 của chứng thư", "Certificate SHA-256"),
    "cert_valid_from": ("Có hiệu lực từ", "Valid from"),
    "cert_valid_to": ("Có hiệu lực đến", "Valid until"),
    "cert_expired": ("Chứng thư đã hết hạn (nay)", "Certificate expired (now)"),
    "signing_time": ("Thời điểm ký (người ký khai)", "Signing time (claimed)"),
    "timestamp": ("Dấu thời gian", "Timestamp"),
    "timestamp_valid": ("Dấu thời gian hợp lệ", "Timestamp valid"),
    "timestamp_authority": ("Đơn vị cấp dấu thời gian", "Timestamp authority"),
    "intact": ("Toàn vẹn", "Intact"),
    "valid": ("Chữ ký đúng với khóa công khai", "Signature matches the public key"),
    "trusted": ("Chứng thư tin cậy", "Certificate trusted"),
    "trust_anchor": ("CA gốc tin cậy", "Trust anchor"),
    "trust_anchor_origin": ("Nguồn CA gốc", "Trust anchor origin"),
    "trust_problem": ("Vấn đề về tin cậy", "Trust problem"),
    "revocation": ("Tình trạng thu hồi", "Revocation status"),
    "coverage": ("Phạm vi chữ ký", "Coverage"),
    "modification_level": ("Thay đổi sau khi ký", "Changes after signing"),
    "digest_algorithm": ("Thuật toán băm", "Digest algorithm"),
    "signature_algorithm": ("Thuật toán ký", "Signature algorithm"),
    "pades_level": ("Mức PAdES", "PAdES level"),
    "subfilter": ("Định dạng chữ ký", "Signature format (SubFilter)"),
    "revision": ("Phiên bản tệp được ký", "Revision signed"),
    "revisions_after": ("Số phiên bản thêm sau", "Revisions added after"),
    "bytes_after": ("Số byte sau vùng ký", "Bytes after the signed range"),
    "changes": ("Các thay đổi sau khi ký", "Changes after signing"),
    "validation_time": ("Thời điểm kiểm tra hiệu lực", "Validated at"),
    "validation_time_source": ("Căn cứ thời điểm kiểm tra", "Why that moment"),
    "valid_at_signing": ("Có hiệu lực khi ký", "Valid at signing"),
    "key_algorithm": ("Loại khóa", "Key algorithm"),
    "key_size": ("Độ dài khóa (bit)", "Key size (bits)"),
    "weak_algorithms": ("Thuật toán yếu", "Weak algorithms"),
}

#: Report attributes with a place of their own (any other one is listed with the file).
_REPORT_SHOWN = frozenset({"file", "sha256", "verdict", "signatures", "reasons", "revisions",
                           "trailing_bytes", "notes", "verified_at"})
#: Attributes shown elsewhere than in the per-signature tables.
_NOT_IN_TABLES = frozenset({"verdict", "reasons", "notes"})

_VERDICT_WORDS: dict[Verdict, tuple[str, str]] = {
    Verdict.VALID: ("HỢP LỆ", "VALID"),
    Verdict.INVALID: ("KHÔNG HỢP LỆ", "NOT VALID"),
    Verdict.INDETERMINATE: ("KHÔNG XÁC ĐỊNH", "INDETERMINATE"),
}
_VERDICT_MEANING: dict[Verdict, tuple[str, str]] = {
    Verdict.VALID: ("Mọi chữ ký đúng, chứng thư tin cậy và có hiệu lực khi ký, văn bản không "
                    "bị sửa đổi sau khi ký.",
                    "Every signature is correct, its certificate trusted and valid at signing, "
                    "and the document was not altered after signing."),
    Verdict.INVALID: ("Văn bản đã bị sửa đổi, chữ ký sai, hoặc chứng thư bị thu hồi / không có "
                      "hiệu lực: không được coi là văn bản đã ký hợp lệ.",
                      "The document was altered, a signature is wrong, or a certificate was "
                      "revoked or not valid: do not treat it as validly signed."),
    Verdict.INDETERMINATE: ("Chưa đủ căn cứ để kết luận (CA không tin cậy, không kiểm tra được "
                            "tình trạng thu hồi, hoặc tệp không có chữ ký số).",
                            "Not enough evidence to decide (untrusted CA, revocation could not "
                            "be checked, or the file has no signature)."),
}
VERDICT_COLOURS: dict[Verdict, str] = {
    Verdict.VALID: "#1a7f37",
    Verdict.INVALID: "#b42318",
    Verdict.INDETERMINATE: "#9a5b00",
}
_VERDICT_MARK = {Verdict.VALID: "✔", Verdict.INVALID: "✘", Verdict.INDETERMINATE: "?"}

_ENUMS: dict[str, dict[str, tuple[str, str]]] = {
    "revocation": {
        "ocsp": ("đã kiểm tra qua OCSP: chưa bị thu hồi", "checked by OCSP: not revoked"),
        "crl": ("đã kiểm tra qua CRL: chưa bị thu hồi", "checked by CRL: not revoked"),
        "revoked": ("CHỨNG THƯ ĐÃ BỊ THU HỒI", "THE CERTIFICATE IS REVOKED"),
        "unchecked": ("CẢNH BÁO: không kiểm tra được tình trạng thu hồi (không có OCSP/CRL)",
                      "WARNING: revocation could not be checked (no OCSP/CRL)"),
    },
    "coverage": {
        "entire_file": ("toàn bộ tệp", "the entire file"),
        "entire_revision": ("trọn phiên bản được ký (tệp có phần thêm sau)",
                            "the entire signed revision (the file has later additions)"),
        "contiguous_block_from_start": ("một phần liền từ đầu tệp",
                                        "a contiguous block from the start"),
        "unclear": ("không rõ", "unclear"),
        "unknown": ("không xác định", "unknown"),
    },
    "modification_level": {
        "none": ("không có thay đổi", "no changes"),
        "lta_updates": ("chỉ thêm dữ liệu kiểm tra dài hạn", "long-term validation data only"),
        "form_filling": ("chỉ điền biểu mẫu, ký thêm", "form filling and signatures only"),
        "annotations": ("có thêm chú thích (annotation)", "annotations added"),
        "other": ("CÓ THAY ĐỔI KHÁC", "OTHER CHANGES"),
        "unknown": ("không xác định", "unknown"),
    },
    "validation_time_source": {
        "current": ("thời điểm kiểm tra", "the time of verification"),
        "timestamp": ("thời điểm của dấu thời gian (chứng thư nay đã hết hạn hoặc bị thu hồi)",
                      "the timestamp's time (the certificate has expired or been revoked "
                      "since)"),
        "claimed_signing_time": ("thời điểm ký người ký tự khai (không có bằng chứng)",
                                 "the signer's claimed signing time (no proof)"),
    },
    "trust_anchor_origin": {
        "bundled": ("CA thật, kèm theo Kyso", "real CA shipped with Kyso"),
        "demo": ("CA DEMO — KHÔNG PHẢI CA THẬT", "DEMO CA — NOT A REAL CA"),
        "admin": ("CA do quản trị viên thêm", "CA added by an administrator"),
        "": ("—", "—"),
    },
    "pades_level": {"none": ("không phải PAdES", "not PAdES")},
}
_BOOLS: dict[str, dict[bool | None, tuple[str, str]]] = {
    "intact": {True: ("Còn nguyên vẹn: nội dung không bị thay đổi từ khi ký",
                      "Intact: the content has not changed since signing"),
               False: ("KHÔNG nguyên vẹn: nội dung đã bị thay đổi sau khi ký",
                       "NOT intact: the content was changed after signing")},
    "valid_at_signing": {True: ("Có hiệu lực tại thời điểm ký", "Valid at signing time"),
                         False: ("KHÔNG có hiệu lực tại thời điểm ký",
                                 "NOT valid at signing time"),
                         None: ("Không xác định được", "Cannot be established")},
    "trusted": {True: ("tin cậy (đến CA gốc được công nhận)",
                       "trusted (chains to an accepted root)"),
                False: ("KHÔNG tin cậy", "NOT trusted")},
}
_TIMES = frozenset({"signing_time", "timestamp", "validation_time", "cert_valid_from",
                    "cert_valid_to"})
_EMPTY = ("(không có)", "(none)")

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("BÁO CÁO KIỂM TRA CHỮ KÝ SỐ", "DIGITAL SIGNATURE VERIFICATION REPORT"),
    "basis": ("Theo Điều 6 Thông tư 15/2025/TT-BKHCN", "Per Art. 6 of Circular 15/2025/TT-BKHCN"),
    "file": ("Tệp", "File"),
    "sha256": ("Mã băm SHA-256 của tệp", "File SHA-256"),
    "verified_at": ("Thời điểm kiểm tra", "Verified at"),
    "software": ("Phần mềm kiểm tra", "Verification software"),
    "schema": ("Lược đồ báo cáo", "Report schema"),
    "revisions": ("Số phiên bản của tệp", "Revisions in the file"),
    "trailing": ("Số byte sau dấu kết thúc", "Bytes after the final %%EOF"),
    "verdict": ("KẾT LUẬN", "VERDICT"),
    "reasons": ("Lý do", "Reasons"),
    "notes": ("Ghi chú", "Notes"),
    "signatures": ("Chữ ký", "Signature"),
    "no_signatures": ("Tệp không có chữ ký số nào được kiểm tra.",
                      "No signature in the file was checked."),
    "article6": ("Thông tin theo Điều 6", "Article 6 information"),
    "details": ("Chi tiết kỹ thuật", "Technical details"),
    "revision": ("phiên bản", "revision"),
    "page": ("Trang", "Page"),
    "yes": ("có", "yes"),
    "no": ("không", "no"),
    "vn_time": ("giờ Việt Nam", "Vietnam time"),
}


def _t(key: str, lang: Lang) -> str:
    vi, en = _TEXT[key]
    return vi if lang == "vi" else en


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "vi" else pair[1]


def verdict_words(verdict: Verdict, lang: Lang = "vi") -> str:
    """The verdict in plain words: HỢP LỆ, KHÔNG HỢP LỆ, KHÔNG XÁC ĐỊNH (or English)."""
    return _pick(_VERDICT_WORDS[Verdict(verdict)], lang)


def label(attribute: str, lang: Lang = "vi") -> str:
    return _pick(LABELS[attribute], lang) if attribute in LABELS else attribute


def software_version() -> str:
    """``Kyso <version> (pyHanko <version>)`` as installed."""
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"
    return f"Kyso {version('kyso')} (pyHanko {version('pyHanko')})"


def display_time(value: str | dt.datetime | None, lang: Lang = "vi") -> str:
    """An ISO 8601 moment as ``dd/mm/yyyy HH:MM:SS`` in Vietnam time (UTC+07:00)."""
    if value is None or value == "":
        return _pick(_EMPTY, lang)
    try:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(VN_TZ)
    return f"{local:%d/%m/%Y %H:%M:%S} ({_t('vn_time', lang)}, UTC+07:00)"


def _reason_text(reason: Reason, lang: Lang) -> str:
    return reason.vi if lang == "vi" else reason.en


def _change_text(change: Change, lang: Lang) -> str:
    return change_words(change, lang)


#: Attributes holding a distinguished name (``Common Name: …``), said with Vietnamese labels.
_DN_ATTRIBUTES = frozenset({"issuer_dn", "signer_dn", "trust_anchor"})


def format_value(sig: SignatureReport, attribute: str, lang: Lang = "vi") -> str:
    """One attribute of a signature report as text a person reads (not escaped)."""
    value = getattr(sig, attribute, None)
    if attribute in _BOOLS and (value is None or isinstance(value, bool)):
        texts = _BOOLS[attribute]
        if value in texts:
            return _pick(texts[value], lang)
    if attribute in _TIMES:
        return display_time(value, lang)
    if attribute in _ENUMS and isinstance(value, str) and value in _ENUMS[attribute]:
        text = _pick(_ENUMS[attribute][value], lang)
        return text if attribute != "revocation" or value in ("revoked", "unchecked") \
            else f"{text} ({value.upper()})"
    if attribute in _DN_ATTRIBUTES and isinstance(value, str) and value:
        return dn_words(value, lang)
    if attribute == "field" and isinstance(value, str) and lang == "vi":
        return field_words(value)
    return _generic(value, lang)


def _generic(value: object, lang: Lang) -> str:
    if value is None or value == "" or value == []:
        return _pick(_EMPTY, lang)
    if isinstance(value, bool):
        return _t("yes" if value else "no", lang)
    if isinstance(value, Reason):
        return _reason_text(value, lang)
    if isinstance(value, Change):
        return _change_text(value, lang)
    if isinstance(value, (list, tuple)):
        return "; ".join(_generic(v, lang) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_generic(v, lang)}" for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "; ".join(f"{f.name}: {_generic(getattr(value, f.name), lang)}"
                         for f in dataclasses.fields(value))
    return str(value)


def bilingual_rows(sig: SignatureReport, attributes: Iterable[str]) -> list[tuple[str, str]]:
    """(``nhãn / label``, ``giá trị / value``) of ``attributes`` for a bilingual console:
    a value the same in both languages (a name, a level) is said once."""
    rows = []
    for attribute in attributes:
        vi, en = format_value(sig, attribute, "vi"), format_value(sig, attribute, "en")
        rows.append((f"{label(attribute, 'vi')} / {label(attribute, 'en')}",
                     vi if vi == en else f"{vi} / {en}"))
    return rows


def article_6_rows(sig: SignatureReport, lang: Lang = "vi"
                   ) -> list[tuple[str, list[tuple[str, str]]]]:
    """(item label, [(attribute label, value)]) for each Article 6 item, in order."""
    return [(_pick((item.vi, item.en), lang),
             [(label(a, lang), format_value(sig, a, lang)) for a in item.attributes])
            for item in ARTICLE_6_FIELDS]


def detail_rows(sig: SignatureReport, lang: Lang = "vi") -> list[tuple[str, str]]:
    """Every other attribute of ``sig`` (new schema fields included), as (label, value)."""
    shown = {a for item in ARTICLE_6_FIELDS for a in item.attributes} | _NOT_IN_TABLES
    return [(label(f.name, lang), format_value(sig, f.name, lang))
            for f in dataclasses.fields(sig) if f.name not in shown]


def _verified_at(report: Report, verified_at: dt.datetime | None) -> dt.datetime:
    if verified_at is not None:
        return verified_at
    recorded = getattr(report, "verified_at", None)  # should the schema gain one
    if isinstance(recorded, dt.datetime):
        return recorded
    if isinstance(recorded, str) and recorded:
        try:
            return dt.datetime.fromisoformat(recorded)
        except ValueError:
            pass
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _meta_rows(report: Report, lang: Lang, verified_at: dt.datetime) -> list[tuple[str, str]]:
    return [
        (_t("file", lang), report.file or _pick(_EMPTY, lang)),
        (_t("sha256", lang), report.sha256),
        (_t("verified_at", lang), display_time(verified_at, lang)),
        (_t("software", lang), software_version()),
        (_t("schema", lang), SCHEMA),
        (_t("revisions", lang), str(report.revisions)),
        (_t("trailing", lang), str(report.trailing_bytes)),
        *((label(f.name, lang), _generic(getattr(report, f.name), lang))
          for f in dataclasses.fields(report) if f.name not in _REPORT_SHOWN),
    ]


def _sig_heading(index: int, total: int, sig: SignatureReport, lang: Lang) -> str:
    who = f" — {sig.signer}" if sig.signer else ""
    field = field_words(sig.field) if lang == "vi" else sig.field
    return f"{_t('signatures', lang)} {index}/{total}: {field}{who}"


def _check_lang(lang: str) -> Lang:
    if lang not in ("vi", "en"):
        raise ValueError(f"lang must be 'vi' or 'en', not {lang!r}")
    return "vi" if lang == "vi" else "en"


# ---------------------------------------------------------------- HTML

def _reason_texts(reasons: Iterable[Reason], lang: Lang) -> list[str]:
    return [_reason_text(r, lang) for r in reasons]


def _html_sig(index: int, total: int, sig: SignatureReport, lang: Lang) -> dict[str, object]:
    verdict = Verdict(sig.verdict)
    return {"heading": _sig_heading(index, total, sig, lang), "verdict": verdict.value,
            "mark": _VERDICT_MARK[verdict], "words": verdict_words(verdict, lang),
            "reasons": _reason_texts(sig.reasons, lang), "article6": article_6_rows(sig, lang),
            "notes": _reason_texts(sig.notes, lang), "details": detail_rows(sig, lang)}


def render_html(report: Report, lang: str = "vi", *,
                verified_at: dt.datetime | None = None, lead: str = "") -> str:
    """The report as one self-contained, printable HTML page (no external assets).

    ``lead`` goes first in the page's body: markup from :func:`common.render_template`
    as it is, any other text escaped (the public verification page puts its answer there).
    """
    language = _check_lang(lang)
    verdict = Verdict(report.verdict)
    moment = _verified_at(report, verified_at)
    text = {key: _t(key, language) for key in ("title", "basis", "verdict", "reasons", "notes",
                                               "article6", "details", "no_signatures")}
    total = len(report.signatures)
    return str(render_template(
        "signer", "report.html", lang=language, lead=lead, text=text,
        title=f"{text['title']} — {report.file}", meta=_meta_rows(report, language, moment),
        verdict={"name": verdict.value, "mark": _VERDICT_MARK[verdict],
                 "words": verdict_words(verdict, language),
                 "meaning": _pick(_VERDICT_MEANING[verdict], language)},
        reasons=_reason_texts(report.reasons, language),
        notes=_reason_texts(report.notes, language),
        signatures=[_html_sig(i, total, sig, language)
                    for i, sig in enumerate(report.signatures, 1)],
        software=software_version(), schema=SCHEMA, sha256=report.sha256,
        verified_at=display_time(moment, language)))


# ---------------------------------------------------------------- PDF

def _p(text: str) -> str:
    """Text for a ReportLab Paragraph (which reads a markup language): escaped."""
    return html.escape(text, quote=False)


def render_pdf(report: Report, lang: str = "vi", *,
               verified_at: dt.datetime | None = None) -> bytes:
    """The report as a printable A4 portrait PDF, Vietnamese letters in an embedded font."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    language = _check_lang(lang)
    regular, bold = reportlab_fonts()
    verdict = Verdict(report.verdict)
    moment = _verified_at(report, verified_at)
    colour = colors.HexColor(VERDICT_COLOURS[verdict])

    body = ParagraphStyle("body", fontName=regular, fontSize=9.5, leading=12.5)
    key = ParagraphStyle("key", parent=body, fontName=bold)
    title = ParagraphStyle("title", fontName=bold, fontSize=15, leading=19, alignment=TA_CENTER)
    basis = ParagraphStyle("basis", parent=body, alignment=TA_CENTER)
    heading = ParagraphStyle("heading", fontName=bold, fontSize=12, leading=15,
                             spaceBefore=10, spaceAfter=4)
    sub = ParagraphStyle("sub", parent=heading, fontSize=10.5, leading=13, spaceBefore=6)
    big = ParagraphStyle("verdict", fontName=bold, fontSize=14, leading=18, textColor=colour)
    badge = ParagraphStyle("badge", parent=key, textColor=colour)
    width = A4[0] - 36 * mm

    def table(rows: Sequence[tuple[str | Flowable, str | Flowable]]) -> Table:
        cells = [[k if not isinstance(k, str) else Paragraph(_p(k), key),
                  v if not isinstance(v, str) else Paragraph(_p(v), body)] for k, v in rows]
        grid = Table(cells, colWidths=[width * 0.32, width * 0.68], repeatRows=0)
        grid.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        return grid

    def reasons(heading_key: str, items: list[Reason]) -> list[Flowable]:
        if not items:
            return []
        return [Paragraph(_p(_t(heading_key, language)), sub),
                *(Paragraph("• " + _p(_reason_text(r, language)), body) for r in items)]

    story: list[Flowable] = [Paragraph(_p(_t("title", language)), title),
                        Paragraph(_p(_t("basis", language)), basis), Spacer(1, 6),
                        table(_meta_rows(report, language, moment)), Spacer(1, 8)]
    box = Table([[Paragraph(_p(f"{_t('verdict', language)}: "
                                f"{verdict_words(verdict, language)}"), big)],
                 [Paragraph(_p(_pick(_VERDICT_MEANING[verdict], language)), body)]],
                colWidths=[width])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 2, colour),
                             ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fafafa"))]))
    story += [box, *reasons("reasons", report.reasons), *reasons("notes", report.notes)]
    total = len(report.signatures)
    if not total:
        story.append(Paragraph(_p(_t("no_signatures", language)), body))
    for index, sig in enumerate(report.signatures, 1):
        sig_verdict = Verdict(sig.verdict)
        badge_style = ParagraphStyle(f"badge{index}", parent=badge,
                                     textColor=colors.HexColor(VERDICT_COLOURS[sig_verdict]))
        article = [(item_label, Paragraph("<br/>".join(
            f"<b>{_p(k)}:</b> {_p(v)}" for k, v in values), body))
                   for item_label, values in article_6_rows(sig, language)]
        story += [Paragraph(_p(_sig_heading(index, total, sig, language)), heading),
                  Paragraph(_p(verdict_words(sig_verdict, language)), badge_style),
                  *reasons("reasons", sig.reasons),
                  KeepTogether([Paragraph(_p(_t("article6", language)), sub), table(article)]),
                  *reasons("notes", sig.notes),
                  Paragraph(_p(_t("details", language)), sub), table(detail_rows(sig, language))]

    footer_text = f"{software_version()} · SHA-256 {report.sha256[:16]}…"
    page_word = _t("page", language)

    def on_page(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.drawString(18 * mm, 10 * mm, footer_text)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"{page_word} {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=18 * mm,
                            title=f"{_t('title', language)} — {report.file}",
                            author="Kyso", subject=SCHEMA, creator=software_version())
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()

