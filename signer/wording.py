"""What a person reads in place of the codes a PDF and a certificate carry: the form fields
Kyso adds (``KySo_So`` is "ô số văn bản"), the kinds of change made after a signature
(``form_filling`` is "điền biểu mẫu") and the attribute names of a distinguished name
(``Common Name:`` is "Tên:"). The report keeps the codes (schema ``kyso.verify/1``); the
renderers say them in words."""

from __future__ import annotations

import re
from typing import Literal

from .report import Change

Lang = Literal["vi", "en"]

#: Kyso's own form fields (signer/prepare.py, sign.py, profiles.py, ltv.py), in words.
FIELD_WORDS: dict[str, tuple[str, str]] = {
    "KySo_So": ("ô số văn bản", "the document number box"),
    "KySo_Ngay": ("ô ngày ban hành", "the issue day box"),
    "KySo_Thang": ("ô tháng ban hành", "the issue month box"),
    "KySo_Nam": ("ô năm ban hành", "the issue year box"),
    "KySo_PheDuyet": ("ô chữ ký của người có thẩm quyền", "the approving signer's signature"),
    "KySo_CoQuan": ("ô chữ ký số của cơ quan (đóng dấu)", "the organisation's signature (seal)"),
    "KySo_PhuLuc": ("ô chữ ký số của phụ lục", "the attachment's signature"),
    "KySo_BanSao": ("ô chữ ký số của bản sao", "the copy's signature"),
    "KySo_LuuTru": ("dấu thời gian lưu trữ", "the archive timestamp"),
}

#: The kinds of :class:`Change` (signer/changes.py), in words.
CHANGE_KINDS: dict[str, tuple[str, str]] = {
    "signature": ("ký thêm", "signature"),
    "timestamp": ("dấu thời gian", "timestamp"),
    "dss": ("dữ liệu kiểm tra dài hạn", "validation data"),
    "form_filling": ("điền biểu mẫu", "form filling"),
    "form_value_changed": ("SỬA NỘI DUNG ĐÃ ĐIỀN", "FILLED VALUE CHANGED"),
    "field_added": ("THÊM Ô MỚI", "FIELD ADDED"),
    "field_removed": ("XÓA Ô", "FIELD REMOVED"),
    "annotation": ("CHÚ THÍCH", "ANNOTATION"),
    "page_content": ("NỘI DUNG TRANG BỊ THAY ĐỔI", "PAGE CONTENT CHANGED"),
    "page_resources": ("TÀI NGUYÊN TRANG BỊ THAY ĐỔI", "PAGE RESOURCES CHANGED"),
    "pages": ("SỐ TRANG THAY ĐỔI", "PAGE COUNT CHANGED"),
    "other": ("THAY ĐỔI KHÁC", "OTHER CHANGE"),
}

#: asn1crypto's ``human_friendly`` attribute names, in Vietnamese.
_DN_WORDS = {
    "Common Name": "Tên", "Organization": "Tổ chức", "Organizational Unit": "Đơn vị",
    "Country": "Quốc gia", "State/Province": "Tỉnh/thành phố", "Locality": "Địa phương",
    "Title": "Chức danh", "Email Address": "Thư điện tử", "Serial Number": "Số định danh",
    "Street Address": "Địa chỉ", "Given Name": "Tên riêng", "Surname": "Họ",
    "User ID": "Mã định danh",
}
_DN_LABEL = re.compile(r"(^|, )(" + "|".join(re.escape(k) for k in _DN_WORDS) + r"): ")
_NUMBERED = re.compile(r"^(KySo_\w+?)_(\d+)$")


def field_words(name: str, lang: Lang = "vi") -> str:
    """A form field by what it is for; a field Kyso did not add by its own name."""
    found = FIELD_WORDS.get(name)
    if found is not None:
        return found[0] if lang == "vi" else found[1]
    numbered = _NUMBERED.match(name)
    if numbered and numbered.group(1) in FIELD_WORDS:
        base = field_words(numbered.group(1), lang)
        return f"{base} thứ {numbered.group(2)}" if lang == "vi" else \
            f"{base} no. {numbered.group(2)}"
    return f"ô “{name}”" if lang == "vi" else f"field “{name}”"


def dn_words(text: str, lang: Lang = "vi") -> str:
    """``Common Name: X, Organization: Y`` as ``Tên: X, Tổ chức: Y`` (English unchanged)."""
    if lang != "vi":
        return text
    return _DN_LABEL.sub(lambda m: f"{m.group(1)}{_DN_WORDS[m.group(2)]}: ", text)


_FIELD = r"'(?P<name>[^']*)'"
#: The details :mod:`signer.changes` writes, in Vietnamese (``{f}`` the field in words).
_DETAILS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"^field {_FIELD} filled: '?(?P<value>.*?)'?$"), "{f} được điền “{value}”"),
    (re.compile(rf"^signature field {_FIELD} signed$"), "{f} được ký"),
    (re.compile(rf"^field {_FIELD} appearance redrawn$"), "{f}: hình hiển thị được vẽ lại"),
    (re.compile(rf"^field {_FIELD} \((?P<value>[^)]*)\) added$"), "thêm {f}"),
    (re.compile(rf"^field {_FIELD} changed: (?P<value>.*)$"), "{f} bị sửa: {value}"),
    (re.compile(rf"^field {_FIELD} removed$"), "{f} bị xóa"),
    (re.compile(r"^validation data \(DSS\) added$"), "thêm dữ liệu kiểm tra dài hạn (DSS)"),
    (re.compile(r"^validation data \(DSS\) updated$"), "cập nhật dữ liệu kiểm tra dài hạn (DSS)"),
    (re.compile(r"^validation data \(DSS\) removed$"), "xóa dữ liệu kiểm tra dài hạn (DSS)"),
    (re.compile(r"^page (?P<value>\d+): content stream changed$"),
     "trang {value}: nội dung hiển thị bị thay đổi"),
    (re.compile(r"^page (?P<value>\d+): resources \(images/forms/fonts\) changed$"),
     "trang {value}: hình ảnh, biểu mẫu hoặc phông chữ bị thay đổi"),
    (re.compile(r"^page (?P<value>\d+): (?P<name>\S+) annotation added at \[.*\]$"),
     "trang {value}: thêm chú thích ({name})"),
    (re.compile(r"^page (?P<value>\d+): (?P<name>\S+) annotation removed$"),
     "trang {value}: xóa chú thích ({name})"),
    (re.compile(r"^(?P<value>\d+ → \d+) pages$"), "số trang: {value}"),
)


def change_detail(change: Change, lang: Lang = "vi") -> str:
    """What a change did, in Vietnamese (the English detail as it is)."""
    if lang != "vi":
        return change.detail
    for pattern, words in _DETAILS:
        found = pattern.match(change.detail)
        if found is not None:
            parts = found.groupdict()
            name = parts.get("name") or ""
            return words.format(f=field_words(name) if "{f}" in words else "",
                                name=name, value=parts.get("value") or "")
    return change.detail


def change_words(change: Change, lang: Lang = "vi") -> str:
    """``phiên bản 3: điền biểu mẫu — ô số văn bản được điền “01”``."""
    kind = CHANGE_KINDS.get(change.kind)
    kind_text = (kind[0] if lang == "vi" else kind[1]) if kind else change.kind
    revision = "phiên bản" if lang == "vi" else "revision"
    return f"{revision} {change.revision}: {kind_text} — {change_detail(change, lang)}"
