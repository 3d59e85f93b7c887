"""The staff list an administrator imports: XLSX or CSV, every bad row named by its line."""

from __future__ import annotations

import io
import unicodedata

import pytest
from openpyxl import Workbook

from documents import Role, StaffListUnreadable, read_staff_list

HEADER = ["Họ và tên", "Chức vụ", "Đơn vị", "Tên đăng nhập", "Vai trò", "Email"]
ROWS = [
    ["Trần Thị Thu Hà", "Chủ tịch", "", "chutich", "Lãnh đạo", "ha@tienlu.gov.vn"],
    ["Bùi Thị Lan", "Chuyên viên", "VP", "lan.bt", "Chuyên viên, Văn thư", ""],
]


def xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_list_is_read_in_nfc_with_its_roles() -> None:
    # decomposed (NFD), as some tools save it
    decomposed = [[unicodedata.normalize("NFD", c) for c in row] for row in ROWS]
    staff = read_staff_list(xlsx([HEADER, *decomposed]), "nhan-su.xlsx")
    assert staff.ok and [r.full_name for r in staff.rows] == ["Trần Thị Thu Hà", "Bùi Thị Lan"]
    assert staff.rows[1].roles == (Role.DRAFTER, Role.CLERK) and staff.rows[1].unit == "VP"
    assert staff.rows[0].email == "ha@tienlu.gov.vn" and staff.rows[0].unit is None


def test_a_csv_with_semicolons_a_bom_and_headers_without_diacritics() -> None:
    text = "\ufeffho va ten;chuc vu;ten dang nhap;vai tro\nLê Minh Đức;Phó Chủ tịch;duc;lãnh đạo\n"
    staff = read_staff_list(text.encode("utf-8"), "ds.csv")
    assert staff.ok and staff.rows[0].roles == (Role.SIGNER,) and staff.rows[0].line == 2


def test_every_bad_row_is_named_by_its_line_and_the_good_ones_kept() -> None:
    rows = [HEADER, ROWS[0], ["", "Chuyên viên", "", "x1", "Chuyên viên", ""],
            ["Ngô Văn Bình", "Văn thư", "", "chutich", "Văn thư", ""],
            ["Đỗ An", "Kế toán", "", "doan", "Thủ quỹ", ""],
            ["Phạm Hùng", "Chuyên viên", "", "có dấu cách", "Chuyên viên", ""],
            ["Lý Na", "Chuyên viên", "", "lyna", "Chuyên viên", "lyna"]]
    staff = read_staff_list(xlsx(rows), "nhan-su.xlsx")
    assert [r.username for r in staff.rows] == ["chutich"]
    lines = {line: vi for line, vi, _ in staff.problems}
    assert set(lines) == {3, 4, 5, 6, 7}
    assert "thiếu họ và tên" in lines[3] and "trùng với dòng 2" in lines[4]
    assert "Thủ quỹ" in lines[5] and "email" in lines[7]


@pytest.mark.parametrize(("data", "name", "says"), [
    (b"\x00\x01garbage", "ds.xlsx", "hỏng"),
    ("Họ và tên,Email\nA,a@b.vn\n".encode(), "ds.csv", "Chức vụ"),
    ("Họ và tên;Chức vụ".encode("utf-16"), "ds.csv", "UTF-8"),
    (b"", "ds.csv", "trống"),
    (b"{}", "ds.json", ".xlsx"),
])
def test_an_unusable_file_is_refused_as_a_whole(data: bytes, name: str, says: str) -> None:
    with pytest.raises(StaffListUnreadable) as refused:
        read_staff_list(data, name)
    assert says in refused.value.vi


def test_a_list_longer_than_the_limit_is_refused() -> None:
    rows = [HEADER, *([f"Người {i}", "Chuyên viên", "", f"u{i:05d}", "Chuyên viên", ""]
                      for i in range(2001))]
    with pytest.raises(StaffListUnreadable, match="2000"):
        read_staff_list(xlsx(rows), "dai.xlsx")
