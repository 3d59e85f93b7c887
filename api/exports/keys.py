"""Who holds which key, as a workbook the administrator prints or sends to the province.

One row per certificate in use (:func:`documents.certificates_in_use`, the domain's
rows): holder, body, role, capacity, issuer, serial, validity, where the key is, last
used, and the expiry warning in words. Dates are date cells (dd/mm/yyyy, Vietnam
time), so the sheet sorts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from common import vietnam_time
from documents import CertificateInUse, ExpiryWarning, inventory_sheet

__all__ = ["KEY_COLUMNS", "certificates_xlsx", "warning_text"]

KEY_COLUMNS = ("Người/cơ quan giữ", "Cơ quan", "Loại", "Ký với tư cách", "Nơi giữ khóa",
               "CA cấp", "Số hiệu (serial)", "Hiệu lực từ", "Hiệu lực đến", "Dùng lần cuối",
               "Cảnh báo", "SHA-256")
_WARNINGS = {
    ExpiryWarning.EXPIRED: "ĐÃ HẾT HẠN — không ký được",
    ExpiryWarning.DAYS_7: "hết hạn trong 7 ngày",
    ExpiryWarning.DAYS_30: "hết hạn trong 30 ngày",
    ExpiryWarning.DAYS_60: "hết hạn trong 60 ngày",
}


def warning_text(row: CertificateInUse) -> str:
    """The warning column in words (empty when the certificate has more than 60 days)."""
    if not row.registered:
        return "chưa đăng ký chứng thư (chỉ có SHA-256)"
    return _WARNINGS.get(row.warning, "") if row.warning is not None else ""


def _day(moment: datetime | None) -> object:
    return vietnam_time(moment).date() if moment else ""


def certificates_xlsx(rows: Sequence[CertificateInUse], *, title: str) -> bytes:
    """The rows as an Excel workbook titled ``title`` (e.g. the body's name and the day)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Chứng thư số"
    workbook.properties.title = title
    workbook.properties.creator = "Kyso"
    sheet.append([title])
    sheet["A1"].font = Font(name="Times New Roman", size=13, bold=True)
    sheet.append(list(KEY_COLUMNS))
    for cell in sheet[2]:
        cell.font = Font(name="Times New Roman", bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    alarm = PatternFill("solid", fgColor="F8D7DA")
    for row in rows:
        sheet.append([row.holder, row.body, row.role.value, row.capacity, row.key_location,
                      row.issuer or "", row.serial or "", _day(row.not_before),
                      _day(row.not_after), _day(row.last_used), warning_text(row), row.sha256])
        if row.warning in (ExpiryWarning.EXPIRED, ExpiryWarning.DAYS_7):
            for cell in sheet[sheet.max_row]:
                cell.fill = alarm
    for column in ("H", "I", "J"):
        for cell in sheet[column][2:]:
            cell.number_format = "DD/MM/YYYY"
    for column, width in zip("ABCDEFGHIJKL", (28, 28, 24, 22, 34, 36, 22, 12, 12, 12, 24, 66),
                             strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    sheet.auto_filter.ref = f"A2:L{sheet.max_row}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def inventory_workbook(sessions: sessionmaker[Session], actor_id: int,
                       body_id: int) -> tuple[str, bytes]:
    """(file name, workbook) of the body's "who holds which key" list, for the administrator
    ``actor_id`` (refused otherwise, by ``documents.golive``)."""
    sheet = inventory_sheet(sessions, actor_id, body_id)
    return sheet.file_name, certificates_xlsx(sheet.rows, title=sheet.title)
