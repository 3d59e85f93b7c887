"""The register prints (PDF, A4 landscape, Vietnamese) and exports (XLSX) with its ten
columns, the filters and the cancelled numbers."""

from __future__ import annotations

import io
import subprocess
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy.orm import Session

from api.exports import export_register_pdf, export_register_xlsx
from documents import (
    REGISTER_COLUMNS,
    ExportFailed,
    Organisation,
    Unit,
    cancel_number,
    register_issue,
)

from .documents_fixtures import (  # noqa: F401
    Commune,
    Database,
    body,
    book,
    commune_fixture,
    db_fixture,
    details,
    new_document,
    postgres_url_fixture,
    sqlite_template_fixture,
)


def fill_register(session: Session, commune: Commune) -> None:
    """01 QĐ of VP (5 March), 02 công văn of VX (20 March, cancelled), 03 QĐ of VP (2 April),
    and one 2024 line that no 2025 export may show."""
    register_issue(session, new_document(session, commune, subject="về việc thành lập Tổ "
                                         "công tác chuyển đổi số"),
                   book(session, commune), details(date(2025, 3, 5)))
    cong_van = register_issue(session, new_document(session, commune, "cong-van", unit="VX",
                                                    subject="V/v tổ chức Lễ hội làng"),
                              book(session, commune),
                              details(date(2025, 3, 20), signer_full_name="Lê Văn Cường"))
    register_issue(session, new_document(session, commune, subject="về việc khen thưởng"),
                   book(session, commune), details(date(2025, 4, 2), note="Bản điện tử"))
    register_issue(session, new_document(session, commune, subject="năm trước"),
                   book(session, commune), details(date(2024, 12, 30)))
    cancel_number(session, cong_van, "Sai thể thức", "Phạm Thị Hoa")
    session.commit()


def pdf_text(pdf: bytes, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, "-", "-"], input=pdf, capture_output=True,
                          check=True, timeout=60).stdout.decode("utf-8")


def test_pdf_register(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        fill_register(session, commune)
        pdf = export_register_pdf(session, body(session, commune), 2025)
    assert pdf.startswith(b"%PDF")
    layout = pdf_text(pdf, "-layout")
    for heading in ("ỦY BAN NHÂN DÂN XÃ TIÊN LỮ", "SỔ ĐĂNG KÝ VĂN BẢN ĐI", "Năm 2025",
                    "Số, ký hiệu", "Người ký", "Nơi nhận văn bản", "Ký nhận", "Ghi chú",
                    "(10)"):
        assert heading in layout, heading
    row = next(line for line in layout.splitlines() if "01/QĐ-UBND" in line)
    assert "05/03/2025" in row and "Quyết định về việc thành lập Tổ" in row
    assert "Trần Thị Bình" in row
    assert "02/UBND-VX" in layout and "ĐÃ HỦY SỐ" in layout and "Sai thể thức" in layout
    assert "03/QĐ-UBND" in layout and "năm trước" not in layout
    # the whole headings, read in reading order
    flowing = " ".join(pdf_text(pdf).split())
    for heading in REGISTER_COLUMNS:
        assert heading in flowing, heading

    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True,
                          timeout=60).stdout.decode()
    assert "841.89 x 595.276 pts (A4)" in info  # landscape
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True,
                           timeout=60).stdout.decode()
    embedded = [line.split()[0] for line in fonts.splitlines()[2:]
                if line.split()[-5:-3] == ["yes", "yes"]]  # emb, sub
    assert {name.split("+")[-1] for name in embedded} == {"NotoSerif-Regular", "NotoSerif-Bold"}


def test_pdf_filters(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        fill_register(session, commune)
        vx = session.get_one(Unit, commune.units["VX"])
        by_unit = pdf_text(export_register_pdf(session, body(session, commune), 2025, unit=vx),
                           "-layout")
        march = pdf_text(export_register_pdf(session, body(session, commune), 2025,
                                             date_from=date(2025, 3, 1),
                                             date_to=date(2025, 3, 31)), "-layout")
    assert "02/UBND-VX" in by_unit and "01/QĐ-UBND" not in by_unit
    assert "Đơn vị soạn thảo: Phòng Văn hóa - Xã hội" in by_unit
    assert "01/QĐ-UBND" in march and "02/UBND-VX" in march and "03/QĐ-UBND" not in march
    assert "Từ ngày 01/03/2025 đến ngày 31/03/2025" in march


def test_xlsx_register(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        fill_register(session, commune)
        data = export_register_xlsx(session, body(session, commune), 2025)
        april = export_register_xlsx(session, body(session, commune), 2025,
                                     date_from=date(2025, 4, 1))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "ỦY BAN NHÂN DÂN XÃ TIÊN LỮ"
    assert rows[1][0] == "SỔ ĐĂNG KÝ VĂN BẢN ĐI"
    header = rows.index(REGISTER_COLUMNS)
    assert rows[header + 1] == tuple(f"({i})" for i in range(1, 11))
    lines = rows[header + 2:]
    assert [line[0] for line in lines] == ["01/QĐ-UBND", "02/UBND-VX", "03/QĐ-UBND"]
    first = lines[0]
    assert first[1] == datetime(2025, 3, 5)
    assert first[2] == "Quyết định về việc thành lập Tổ công tác chuyển đổi số"
    assert first[3:7] == ("Trần Thị Bình", "Như Điều 3; Lưu: VT, VP.", "VP (Phạm Thị Hoa)", 2)
    assert lines[1][3] == "Lê Văn Cường"
    assert str(lines[1][9]).startswith("ĐÃ HỦY SỐ — lý do: Sai thể thức; người hủy: Phạm Thị Hoa")
    assert lines[2][9] == "Bản điện tử"
    assert sheet.page_setup.orientation == "landscape"

    april_rows = list(openpyxl.load_workbook(io.BytesIO(april)).active.iter_rows(
        values_only=True))
    assert "Từ ngày 01/04/2025" in [r[0] for r in april_rows]
    assert [r[0] for r in april_rows[april_rows.index(REGISTER_COLUMNS) + 2:]] == ["03/QĐ-UBND"]


def test_an_empty_register_still_prints(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        text = pdf_text(export_register_pdf(session, body(session, commune), 2030), "-layout")
    assert "Năm 2030" in text and "Không có văn bản nào." in text


def test_a_missing_font_is_reported(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        ubnd = session.get_one(Organisation, commune.body_id)
        with pytest.raises(ExportFailed) as err:
            export_register_pdf(session, ubnd, 2025, fonts=("/khong/co.ttf", "/khong/co.ttf"))
    assert "fonts-noto-core" in err.value.en and "thiếu phông chữ" in err.value.vi
