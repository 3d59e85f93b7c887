"""Appendix III as data, and the "Số:" and date lines as Decree 30 writes them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

import pytest

from documents import (
    DOC_TYPES,
    FieldTooLong,
    InvalidAbbreviation,
    UnknownDocumentType,
    compose_symbol,
    date_line,
    doc_type_spec,
    format_number,
    number_line,
    number_symbol,
)


@dataclass
class Named:
    abbreviation: str


UBND, VP, VX = Named("UBND"), Named("VP"), Named("VX")


def test_appendix_iii_is_complete_and_unique() -> None:
    assert len(DOC_TYPES) == 32
    assert len({t.code for t in DOC_TYPES}) == 32
    abbreviations = [t.abbreviation for t in DOC_TYPES if t.abbreviation]
    assert len(abbreviations) == len(set(abbreviations)) == 30
    assert [t.ordinal for t in DOC_TYPES] == list(range(1, 33))
    expected = {"Nghị quyết": "NQ", "Quyết định": "QĐ", "Quy định": "QyĐ", "Chương trình": "CTr",
                "Tờ trình": "TTr", "Công điện": "CĐ", "Giấy mời": "GM", "Phiếu báo": "PB",
                "Công văn": None, "Thư công": None}
    by_name = {t.name: t for t in DOC_TYPES}
    for name, abbreviation in expected.items():
        assert by_name[unicodedata.normalize("NFC", name)].abbreviation == abbreviation
    assert "CV" not in abbreviations
    copies = {t.abbreviation for t in DOC_TYPES if t.is_copy}
    assert copies == {"SY", "TrS", "SL"}
    for spec in DOC_TYPES:
        assert unicodedata.is_normalized("NFC", spec.name)


def test_symbols() -> None:
    assert compose_symbol("quyet-dinh", UBND) == "QĐ-UBND"
    assert compose_symbol("quyet-dinh", UBND, VP) == "QĐ-UBND"
    assert compose_symbol("quyet-dinh", UBND, VP, with_unit=True) == "QĐ-UBND-VP"
    assert compose_symbol(doc_type_spec("to-trinh"), UBND) == "TTr-UBND"
    # công văn and thư công: body + drafting unit, with or without the setting
    assert compose_symbol("cong-van", UBND, VX) == "UBND-VX"
    assert compose_symbol("cong-van", UBND, VX, with_unit=True) == "UBND-VX"
    assert compose_symbol("thu-cong", UBND, VP) == "UBND-VP"
    assert compose_symbol("cong-van", UBND) == "UBND"
    assert compose_symbol("ban-sao-y", UBND) == "SY-UBND"


def test_symbol_refusals() -> None:
    with pytest.raises(InvalidAbbreviation) as err:
        compose_symbol("quyet-dinh", Named("UB ND"))
    assert "khoảng trắng" in err.value.vi and "no spaces" in err.value.en
    with pytest.raises(FieldTooLong) as too_long:
        compose_symbol("quyet-dinh", Named("U" * 30))
    assert "30" in too_long.value.en
    with pytest.raises(UnknownDocumentType):
        compose_symbol("cong-van-moi", UBND)


@pytest.mark.parametrize(("n", "text"), [(1, "01"), (9, "09"), (10, "10"), (11, "11"),
                                         (100, "100"), (1234, "1234")])
def test_numbers(n: int, text: str) -> None:
    assert format_number(n) == text


def test_number_lines() -> None:
    assert number_symbol(5, "QĐ-UBND") == "05/QĐ-UBND"
    assert number_line(15, "QĐ-UBND") == "Số: 15/QĐ-UBND"
    assert number_line(12, "UBND-VX") == "Số: 12/UBND-VX"
    with pytest.raises(ValueError):
        format_number(0)


@pytest.mark.parametrize(("day", "text"), [
    (date(2025, 3, 5), "Tiên Lữ, ngày 05 tháng 3 năm 2025"),
    (date(2025, 1, 5), "Tiên Lữ, ngày 05 tháng 01 năm 2025"),
    (date(2025, 2, 28), "Tiên Lữ, ngày 28 tháng 02 năm 2025"),
    (date(2025, 10, 10), "Tiên Lữ, ngày 10 tháng 10 năm 2025"),
    (date(2025, 12, 31), "Tiên Lữ, ngày 31 tháng 12 năm 2025"),
    (date(2026, 7, 1), "Tiên Lữ, ngày 01 tháng 7 năm 2026"),
])
def test_date_line(day: date, text: str) -> None:
    assert date_line("Tiên Lữ", day) == unicodedata.normalize("NFC", text)


def test_date_line_month_rule_is_a_parameter() -> None:
    assert date_line("Tiên Lữ", date(2025, 3, 5), pad_months_through=12) == \
        "Tiên Lữ, ngày 05 tháng 03 năm 2025"
    assert date_line("Tiên Lữ", date(2025, 1, 5), pad_months_through=0) == \
        "Tiên Lữ, ngày 05 tháng 1 năm 2025"


def test_date_line_is_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Tiên Lữ")
    line = date_line(decomposed, date(2025, 3, 5))
    assert unicodedata.is_normalized("NFC", line)
    assert line.startswith("Tiên Lữ,")
