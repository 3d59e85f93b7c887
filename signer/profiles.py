"""The four signing acts of Decree 30/2020 Appendix I, as signing options.

Named after the acts users know from the Government Cipher Committee's software:
SignApproved (the person's approval), SignIssued (the clerk's number, date and
organisation signature), SignAppendix (an attachment in its own file) and SignCopy
(an electronic copy: SAO Y, TRÍCH SAO, SAO LỤC).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from .appearance import TIME, Appearance, text_width
from .levels import PadesLevel
from .pdfinput import open_pikepdf, open_reader
from .prepare import (
    DAY_FIELD,
    MONTH_FIELD,
    NUMBER_FIELD,
    ORGANISATION_FIELD,
    PERSON_FIELD,
    YEAR_FIELD,
)
from .sign import DocumentInfo, FieldFill, SigningOptions

if TYPE_CHECKING:
    from pyhanko_certvalidator import ValidationContext

APPENDIX_FIELD = "KySo_PhuLuc"
COPY_FIELD = "KySo_BanSao"
#: Where the corner text sits on page 1: in the top margin (drafts keep 20 mm free
#: above the header), this far from the top and right edges, in points.
CORNER_TOP = 3
CORNER_RIGHT = 28
CORNER_WIDTH = 190  # at least; wider when a line needs it
CORNER_SIZE = 10  # Appendix I: Times New Roman (its metric twin, embedded), 10 pt
CORNER_LINE = 12  # a 10 pt line with its leading
#: What the signing time looks like once written (for the corner's width).
TIME_SAMPLE = "2025-12-31T23:59:59+07:00"


class CopyKind(enum.Enum):
    """Kinds of copy (Art. 25) and the label printed on them."""

    SAO_Y = "SAO Y"
    TRICH_SAO = "TRÍCH SAO"
    SAO_LUC = "SAO LỤC"

    @property
    def abbreviation(self) -> str:
        return {"SAO Y": "SY", "TRÍCH SAO": "TrS", "SAO LỤC": "SL"}[self.value]


def approval(image: bytes, *, tsa_url: str | None = None,
             validation_context: ValidationContext | None = None) -> SigningOptions:
    """SignApproved: the competent person's signature, the blue handwritten image alone."""
    return SigningOptions(field_name=PERSON_FIELD, appearance=Appearance.handwritten(image),
                          tsa_url=tsa_url, validation_context=validation_context)


def issuance(seal: bytes, body: str, number: str | None, day: str | None, month: str | None,
             year: str | None = None, *, tsa_url: str | None = None,
             validation_context: ValidationContext | None = None,
             level: PadesLevel = PadesLevel.B_T, seal_caption: bool = False,
             info: DocumentInfo | None = None) -> SigningOptions:
    """SignIssued: number and date (day, month, year) written, then the organisation
    signature with its seal. ``level`` B-LT/B-LTA makes the issued file carry its own
    long-term validation data.

    The number is set flush right in its blank, against the "/" of the symbol
    ("Số: 01/QĐ-UBND"); day, month and year centred in theirs. ``seal_caption`` prints
    the body's name and the signing time under the seal (off: Appendix I shows the seal
    alone). ``info`` (number and symbol, subject, body) becomes the file's /Info and XMP
    metadata, written in the same revision as the signature."""
    fills = tuple(FieldFill(name, text, align=align) for name, text, align in
                  ((NUMBER_FIELD, number, "right"), (DAY_FIELD, day, "centre"),
                   (MONTH_FIELD, month, "centre"), (YEAR_FIELD, year, "centre")) if text)
    return SigningOptions(field_name=ORGANISATION_FIELD,
                          appearance=Appearance.seal(seal, body, caption=seal_caption),
                          fills=fills, tsa_url=tsa_url, validation_context=validation_context,
                          level=level, info=info)


def _top_right(pdf: bytes, lines: tuple[str, ...]) -> tuple[int, int, int, int]:
    """The corner box: wide enough for the longest line at 10 pt (never shrunk)."""
    import math

    open_reader(pdf)  # refuses unreadable and encrypted files with the usual errors
    with open_pikepdf(pdf) as doc:
        x1, y1 = float(doc.pages[0].mediabox[2]), float(doc.pages[0].mediabox[3])
    top = round(y1 - CORNER_TOP)
    right = round(x1 - CORNER_RIGHT)
    width = max(CORNER_WIDTH, *(math.ceil(text_width(line.replace(TIME, TIME_SAMPLE),
                                                     CORNER_SIZE)) + 2 for line in lines))
    return right - width, top - len(lines) * CORNER_LINE - 4, right, top


def appendix(pdf: bytes, main_number: str, *, tsa_url: str | None = None,
             validation_context: ValidationContext | None = None,
             level: PadesLevel = PadesLevel.B_T) -> SigningOptions:
    """SignAppendix: organisation signature at the top right of page 1, no seal image;
    the main document's number and symbol, and the signing time; 10 pt black."""
    lines = (main_number, TIME)
    return SigningOptions(
        field_name=APPENDIX_FIELD, tsa_url=tsa_url, validation_context=validation_context,
        level=level, appearance=Appearance.corner(lines, box=_top_right(pdf, lines), page=0))


def copy(pdf: bytes, kind: CopyKind, body: str, copy_number: str, *,
         tsa_url: str | None = None, validation_context: ValidationContext | None = None,
         level: PadesLevel = PadesLevel.B_T) -> SigningOptions:
    """SignCopy: organisation signature at the top right of page 1, no seal image; the
    kind of copy, the copying body, the copy's number and the signing time."""
    lines = (kind.value, body, f"Số: {copy_number}", TIME)
    return SigningOptions(
        field_name=COPY_FIELD, tsa_url=tsa_url, validation_context=validation_context,
        level=level, appearance=Appearance.corner(lines, box=_top_right(pdf, lines), page=0))
