"""What a document's heading says: its type, its "Số: 05/QĐ-UBND" line and its date line.

The Appendix III table is data (:data:`DOC_TYPES`); the first migration copies it
into the ``document_type`` table, and :func:`seed_document_types` does the same for
a database made without migrations. The formatting functions are pure so the
preparation step, the register and the UI all print numbers, symbols and dates
the one way Decree 30 (Appendix I, part I.II.3) writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import FieldTooLong, InvalidAbbreviation, UnknownDocumentType
from .models import DocumentType
from .sqltypes import nfc

#: Appendix VI: CodeNotation (the symbol) has at most 30 characters.
SYMBOL_MAX = 30
#: Appendix VI: CodeNumber (the number) has at most 11 characters.
NUMBER_MAX = 11


@dataclass(frozen=True)
class DocTypeSpec:
    """One row of Appendix III."""

    code: str
    name: str
    abbreviation: str | None
    ordinal: int
    is_copy: bool = False


def _spec(ordinal: int, code: str, name: str, abbreviation: str | None) -> DocTypeSpec:
    return DocTypeSpec(code, nfc(name), None if abbreviation is None else nfc(abbreviation),
                       ordinal)


#: Appendix III of Decree 30/2020: administrative document types and copies, in order.
#: Công văn and Thư công have no abbreviation (there is no "CV").
DOC_TYPES: tuple[DocTypeSpec, ...] = (
    _spec(1, "nghi-quyet", "Nghị quyết", "NQ"),
    _spec(2, "quyet-dinh", "Quyết định", "QĐ"),
    _spec(3, "chi-thi", "Chỉ thị", "CT"),
    _spec(4, "quy-che", "Quy chế", "QC"),
    _spec(5, "quy-dinh", "Quy định", "QyĐ"),
    _spec(6, "thong-cao", "Thông cáo", "TC"),
    _spec(7, "thong-bao", "Thông báo", "TB"),
    _spec(8, "huong-dan", "Hướng dẫn", "HD"),
    _spec(9, "chuong-trinh", "Chương trình", "CTr"),
    _spec(10, "ke-hoach", "Kế hoạch", "KH"),
    _spec(11, "phuong-an", "Phương án", "PA"),
    _spec(12, "de-an", "Đề án", "ĐA"),
    _spec(13, "du-an", "Dự án", "DA"),
    _spec(14, "bao-cao", "Báo cáo", "BC"),
    _spec(15, "bien-ban", "Biên bản", "BB"),
    _spec(16, "to-trinh", "Tờ trình", "TTr"),
    _spec(17, "hop-dong", "Hợp đồng", "HĐ"),
    _spec(18, "cong-van", "Công văn", None),
    _spec(19, "cong-dien", "Công điện", "CĐ"),
    _spec(20, "ban-ghi-nho", "Bản ghi nhớ", "BGN"),
    _spec(21, "ban-thoa-thuan", "Bản thỏa thuận", "BTT"),
    _spec(22, "giay-uy-quyen", "Giấy ủy quyền", "GUQ"),
    _spec(23, "giay-moi", "Giấy mời", "GM"),
    _spec(24, "giay-gioi-thieu", "Giấy giới thiệu", "GGT"),
    _spec(25, "giay-nghi-phep", "Giấy nghỉ phép", "GNP"),
    _spec(26, "phieu-gui", "Phiếu gửi", "PG"),
    _spec(27, "phieu-chuyen", "Phiếu chuyển", "PC"),
    _spec(28, "phieu-bao", "Phiếu báo", "PB"),
    _spec(29, "thu-cong", "Thư công", None),
    DocTypeSpec("ban-sao-y", nfc("Bản sao y"), "SY", 30, is_copy=True),
    DocTypeSpec("ban-trich-sao", nfc("Bản trích sao"), "TrS", 31, is_copy=True),
    DocTypeSpec("ban-sao-luc", nfc("Bản sao lục"), "SL", 32, is_copy=True),
)

_BY_CODE = {spec.code: spec for spec in DOC_TYPES}


def doc_type_spec(code: str) -> DocTypeSpec:
    """The Appendix III row for ``code`` (e.g. "quyet-dinh")."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise UnknownDocumentType(code) from None


def seed_document_types(session: Session) -> int:
    """Add the Appendix III rows missing from ``session``'s database; returns how many.

    Idempotent; does not commit (the caller owns the transaction).
    """
    present = set(session.scalars(select(DocumentType.code)))
    missing = [spec for spec in DOC_TYPES if spec.code not in present]
    session.add_all(DocumentType(code=s.code, name=s.name, abbreviation=s.abbreviation,
                                 ordinal=s.ordinal, is_copy=s.is_copy) for s in missing)
    session.flush()
    return len(missing)


class TypeLike(Protocol):
    @property
    def abbreviation(self) -> str | None: ...


class Abbreviated(Protocol):
    @property
    def abbreviation(self) -> str: ...


def _group(value: str) -> str:
    value = nfc(value.strip())
    if not value or any(ch.isspace() for ch in value):
        raise InvalidAbbreviation(value)
    return value


def compose_symbol(doc_type: TypeLike | str, body: Abbreviated,
                   unit: Abbreviated | None = None, with_unit: bool = False) -> str:
    """The symbol (ký hiệu) after the number: "QĐ-UBND", "QĐ-UBND-VP", "UBND-VX".

    Type abbreviation + issuing body abbreviation, + the drafting unit when
    ``with_unit`` (the body's choice, see ``NumberBook.symbol_with_unit``). A type
    without abbreviation (Công văn, Thư công) always takes the unit when one is
    given, since its symbol is "body + drafting unit" (rules-vn.md §2).
    ``doc_type`` is a :class:`DocumentType`, a :class:`DocTypeSpec` or a type code.
    Groups are joined by "-" without spaces; the result is at most 30 characters
    (Appendix VI CodeNotation).
    """
    spec = doc_type_spec(doc_type) if isinstance(doc_type, str) else doc_type
    groups: list[str] = []
    if spec.abbreviation:
        groups.append(_group(spec.abbreviation))
    groups.append(_group(body.abbreviation))
    if unit is not None and (with_unit or not spec.abbreviation):
        groups.append(_group(unit.abbreviation))
    symbol = "-".join(groups)
    if len(symbol) > SYMBOL_MAX:
        raise FieldTooLong("Ký hiệu (CodeNotation)", SYMBOL_MAX, symbol)
    return symbol


def format_number(n: int) -> str:
    """The number as written: "01" … "09", then "10", "11" … (Arabic digits)."""
    if n < 1:
        raise ValueError(f"document numbers start at 1, got {n}")
    text = f"{n:02d}"
    if len(text) > NUMBER_MAX:
        raise FieldTooLong("Số (CodeNumber)", NUMBER_MAX, text)
    return text


def number_symbol(n: int, symbol: str) -> str:
    """ "05/QĐ-UBND" — the number and the symbol as the register and the "Số:" line show them."""
    return f"{format_number(n)}/{symbol}"


def number_line(n: int, symbol: str) -> str:
    """The heading line "Số: 05/QĐ-UBND"."""
    return f"Số: {number_symbol(n, symbol)}"


def date_line(place: str, day: date, *, pad_months_through: int = 2) -> str:
    """ "Tiên Lữ, ngày 05 tháng 3 năm 2025".

    Days below 10 take a leading zero; months up to ``pad_months_through`` do too
    (default 2: "tháng 01", "tháng 02", then "tháng 3" …). The month rule is
    UNCONFIRMED in rules-vn.md §2, hence a parameter: 12 pads every month, 0 none.
    """
    month = f"{day.month:02d}" if day.month <= pad_months_through else str(day.month)
    return nfc(f"{place.strip()}, ngày {day.day:02d} tháng {month} năm {day.year}")
