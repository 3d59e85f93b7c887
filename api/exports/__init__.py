"""The files people print, bind or send: the register (PDF, XLSX) and who holds which key
(XLSX). ``documents`` gives the rows; ReportLab and openpyxl lay them out here."""

from .keys import KEY_COLUMNS, certificates_xlsx, inventory_workbook, warning_text
from .register import export_register, export_register_pdf, export_register_xlsx

__all__ = [
    "KEY_COLUMNS",
    "certificates_xlsx",
    "export_register",
    "export_register_pdf",
    "export_register_xlsx",
    "inventory_workbook",
    "warning_text",
]
