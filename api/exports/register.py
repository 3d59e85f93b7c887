"""The register for printing and binding (PDF) and for the spreadsheet (XLSX).

The rows are the domain's (:func:`documents.register_entries`, :func:`documents.register_row`);
laying them out with ReportLab and openpyxl is done here, beside the wiring.

Decree 30 Art. 16 asks an electronically kept register to be printed and bound
once a year: the PDF is A4 landscape with the ten Appendix IV columns, the header
rows repeated on every page and the pages numbered. ReportLab's built-in fonts
are Latin-1 only (Vietnamese letters come out as black boxes), so a TrueType
font with the whole Vietnamese repertoire — Noto Serif, Debian's fonts-noto-core —
is registered and embedded.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from documents import (
    REGISTER_COLUMNS,
    REGISTER_TITLE,
    ExportFailed,
    NumberBook,
    Organisation,
    Runtime,
    Unit,
    display_date,
    register_entries,
    register_row,
    transaction,
)
from signer import reportlab_fonts, serif_fonts

#: Relative widths of the ten columns (the trích yếu gets the most room).
_WIDTHS = (9, 7, 21, 10, 12, 10, 5, 7, 8, 11)

def _register_fonts(regular: str, bold: str) -> tuple[str, str]:
    """The ReportLab names of the pair; a missing file is this export's error."""
    for path in (regular, bold):
        if not Path(path).is_file():
            raise ExportFailed(f"thiếu phông chữ {path} (gói fonts-noto-core)",
                               f"font {path} is missing (package fonts-noto-core)")
    return reportlab_fonts(regular, bold)


def _heading_lines(body: Organisation, year: int, unit: Unit | None,
                   date_from: date | None, date_to: date | None,
                   book: NumberBook | None) -> tuple[str, list[str]]:
    """The body line and the lines under the title saying what the export covers."""
    lines = [f"Năm {year}"]
    if book is not None:
        lines.append(f"Sổ: {book.name}")
    if unit is not None:
        lines.append(f"Đơn vị soạn thảo: {unit.name}")
    if date_from is not None or date_to is not None:
        span = []
        if date_from is not None:
            span.append(f"từ ngày {display_date(date_from)}")
        if date_to is not None:
            span.append(f"đến ngày {display_date(date_to)}")
        sentence = " ".join(span)
        lines.append(sentence[0].upper() + sentence[1:])
    return body.name.upper(), lines


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return display_date(value)
    return str(value)


def export_register_pdf(session: Session, body: Organisation, year: int,
                        unit: Unit | None = None, date_from: date | None = None,
                        date_to: date | None = None, *, book: NumberBook | None = None,
                        fonts: tuple[str, str] | None = None) -> bytes:
    """The register of ``body`` for ``year`` as a printable A4 landscape PDF.

    Filters as :func:`documents.register_entries`. ``fonts`` is (regular, bold)
    TrueType files with Vietnamese (default: :func:`signer.fonts.serif_fonts`).
    """
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _register_fonts(*(fonts or serif_fonts()))
    entries = register_entries(session, body, year, unit=unit, date_from=date_from,
                               date_to=date_to, book=book)
    body_line, lines = _heading_lines(body, year, unit, date_from, date_to, book)

    cell = ParagraphStyle("cell", fontName=regular, fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=cell, fontName=bold, alignment=TA_CENTER)
    centred = ParagraphStyle("centred", parent=cell, alignment=TA_CENTER)
    title = ParagraphStyle("title", fontName=bold, fontSize=14, leading=18, alignment=TA_CENTER)
    subtitle = ParagraphStyle("subtitle", fontName=regular, fontSize=10, leading=13,
                              alignment=TA_CENTER)

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    rows: list[list[Any]] = [
        [para(name, head) for name in REGISTER_COLUMNS],
        [para(f"({i})", head) for i in range(1, len(REGISTER_COLUMNS) + 1)],
    ]
    for entry in entries:
        values = register_row(entry)
        rows.append([para(_cell_text(v), centred if i in (1, 6, 7) else cell)
                     for i, v in enumerate(values)])

    pagesize = landscape(A4)
    margin = 12 * mm
    usable = pagesize[0] - 2 * margin
    widths = [usable * w / sum(_WIDTHS) for w in _WIDTHS]
    table = Table(rows, colWidths=widths, repeatRows=2)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 1), colors.Color(0.92, 0.92, 0.92)),
    ]))

    story: list[Any] = [para(body_line, subtitle), Spacer(1, 4 * mm),
                        para(REGISTER_TITLE, title)]
    story += [para(line, subtitle) for line in lines]
    story += [Spacer(1, 5 * mm), table]
    if not entries:
        story += [Spacer(1, 4 * mm), para("Không có văn bản nào.", subtitle)]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 8)
        canvas.drawRightString(pagesize[0] - margin, 7 * mm, f"Trang {doc.page}")
        canvas.drawString(margin, 7 * mm, f"{REGISTER_TITLE} — {body.name} — {year}")
        canvas.restoreState()

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=pagesize, leftMargin=margin, rightMargin=margin, topMargin=margin,
        bottomMargin=14 * mm, title=f"{REGISTER_TITLE} {year} — {body.name}",
        author=body.name, subject=REGISTER_TITLE, creator="Kyso",
        initialFontName=regular, initialFontSize=8)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _sheet_title(year: int) -> str:
    return f"Sổ văn bản đi {year}"  # ≤ 31 characters, none of []:*?/\


def _put(sheet: Any, row: int, column: int, value: object) -> Any:
    """Write one cell; text is always text (a recipient "=HYPERLINK(…)" stays those
    characters, never a formula) and characters XML cannot hold become "?"."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("?", value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def export_register_xlsx(session: Session, body: Organisation, year: int,
                         unit: Unit | None = None, date_from: date | None = None,
                         date_to: date | None = None, *,
                         book: NumberBook | None = None) -> bytes:
    """The register of ``body`` for ``year`` as an Excel workbook (same filters and columns).

    Dates are real date cells (dd/mm/yyyy) and the count a number, so the sheet can
    be sorted and summed; it prints A4 landscape, one page wide, headings repeated.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    entries = register_entries(session, body, year, unit=unit, date_from=date_from,
                               date_to=date_to, book=book)
    body_line, lines = _heading_lines(body, year, unit, date_from, date_to, book)
    ncols = len(REGISTER_COLUMNS)
    last = get_column_letter(ncols)

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(year)
    workbook.properties.title = f"{REGISTER_TITLE} {year} — {body.name}"
    workbook.properties.creator = "Kyso"

    font = "Times New Roman"
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    wrap = Alignment(vertical="top", wrap_text=True)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    top = [(body_line, Font(name=font, size=11)),
           (REGISTER_TITLE, Font(name=font, size=14, bold=True))]
    top += [(line, Font(name=font, size=11, italic=True)) for line in lines]
    for row, (text, style) in enumerate(top, start=1):
        _put(sheet, row, 1, text).font = style
        sheet.cell(row=row, column=1).alignment = centre
        sheet.merge_cells(f"A{row}:{last}{row}")

    header = len(top) + 2
    fill = PatternFill("solid", fgColor="EBEBEB")
    for col, name in enumerate(REGISTER_COLUMNS, start=1):
        for row, text in ((header, name), (header + 1, f"({col})")):
            c = _put(sheet, row, col, text)
            c.font, c.alignment, c.border, c.fill = Font(name=font, bold=True), centre, border, fill

    for row, entry in enumerate(entries, start=header + 2):
        for col, value in enumerate(register_row(entry), start=1):
            c = _put(sheet, row, col, value)
            c.font, c.border = Font(name=font), border
            c.alignment = centre if col in (2, 7, 8) else wrap
            if isinstance(value, date):
                c.number_format = "DD/MM/YYYY"

    for col, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width * 2.2
    sheet.freeze_panes = f"A{header + 2}"
    sheet.print_title_rows = f"{header}:{header + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def export_register(runtime: Runtime, body_id: int, year: int, fmt: str,
                    unit: str | None = None, date_from: str | None = None,
                    date_to: str | None = None, book: str | None = None) -> dict[str, Any]:
    """The register as PDF or XLSX, kept in the file store; the result names the file
    (the worker's ``kyso.export_register``).

    ``unit`` is a unit's abbreviation, ``book`` a number book's code, dates ISO.
    """
    with transaction(runtime) as session:
        body = session.get_one(Organisation, body_id)
        chosen_unit = next((u for u in body.units if u.abbreviation == unit), None)
        chosen_book = session.scalar(select(NumberBook).where(
            NumberBook.body_id == body.id, NumberBook.code == book)) if book else None
        export = export_register_pdf if fmt == "pdf" else export_register_xlsx
        data = export(session, body, year, chosen_unit,
                      date.fromisoformat(date_from) if date_from else None,
                      date.fromisoformat(date_to) if date_to else None, book=chosen_book)
        suffix = f"-{book}" if book else ""
        return {"sha256": runtime.store.put(data), "body_id": body.id, "format": fmt,
                "file_name": f"so-van-ban-di-{year}{suffix}.{fmt}", "size": len(data)}


__all__ = ["export_register", "export_register_pdf", "export_register_xlsx"]
