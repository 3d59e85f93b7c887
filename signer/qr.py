"""The verification QR code printed on a document's first page, before the first signature.

The QR code carries the document's short verification link; under it a caption in
small type repeats the link for people without a phone: "Kiểm tra văn bản: <link>".
Both sit in the bottom-left margin of page 1 (the symbol 20 mm square, 8 mm from the
left and 10 mm from the bottom edge: inside the 30–35 mm left margin and below the
20–25 mm bottom margin of Decree 30, Appendix I). They are drawn as page content — a
form XObject painted by a new content stream appended to the page (pikepdf's overlay),
vector squares for the modules and an embedded serif font for the caption — never as
an annotation, and only on an unsigned draft: after the first signature any change to
a page's content invalidates it.

The symbol is segno's (byte mode, error correction level M, no boosting, so its size
depends on the link only). :func:`qr_matrix` is the module matrix that is drawn, for
tests and for anyone checking a printout; :func:`qr_links` reads the caption back from
a PDF's first page.
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import TYPE_CHECKING

from .errors import QrOverlapsField, QrTooLong
from .fonts import reportlab_fonts

if TYPE_CHECKING:
    import pikepdf
    import segno

MM = 72 / 25.4
#: Side of the symbol (modules only, without the quiet zone).
QR_SIZE_PT = 20 * MM
#: Distance of the symbol from the page's left and bottom edges.
QR_LEFT_PT = 8 * MM
QR_BOTTOM_PT = 10 * MM
#: White border around the symbol, in modules (painted, so a scanner finds the symbol).
QUIET_MODULES = 2
#: The caption's size and its baseline's distance from the bottom edge.
CAPTION_PT = 6.0
CAPTION_BASELINE_PT = 5 * MM
CAPTION = "Kiểm tra văn bản:"
ERROR_LEVEL = "m"

Rect = tuple[float, float, float, float]

_CAPTION_RE = re.compile(re.escape(CAPTION) + r"\s*(\S+)")


def _symbol(text: str) -> segno.QRCode:
    import segno

    try:
        return segno.make_qr(text, error=ERROR_LEVEL, boost_error=False)
    except segno.DataOverflowError as exc:
        raise QrTooLong(len(text)) from exc


def qr_matrix(text: str) -> list[list[bool]]:
    """The modules drawn for ``text``, top row first (True = dark), without quiet zone."""
    return [[bool(cell) for cell in row] for row in _symbol(text).matrix]


def qr_rect(page_box: Rect) -> Rect:
    """Where the symbol goes on a page whose visible box is ``page_box`` (x1, y1, x2, y2)."""
    x0, y0 = page_box[0] + QR_LEFT_PT, page_box[1] + QR_BOTTOM_PT
    return x0, y0, x0 + QR_SIZE_PT, y0 + QR_SIZE_PT


def qr_area(page_box: Rect, text: str) -> Rect:
    """Everything :func:`add_qr` paints (symbol, quiet zone, caption) on that page."""
    x0, y0, x1, y1 = qr_rect(page_box)
    quiet = QR_SIZE_PT / len(qr_matrix(text)) * QUIET_MODULES
    caption_right = page_box[0] + QR_LEFT_PT + _caption_width(text)
    return (x0 - quiet, page_box[1] + CAPTION_BASELINE_PT - CAPTION_PT / 3,
            max(x1 + quiet, caption_right), y1 + quiet)


def _font() -> str:
    return reportlab_fonts().regular


def _caption(text: str) -> str:
    return f"{CAPTION} {text}"


def _caption_width(text: str) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(stringWidth(_caption(text), _font(), CAPTION_PT))


def _overlay(text: str, area: Rect, page_box: Rect) -> bytes:
    """A one-page PDF the size of ``area`` holding the symbol and the caption."""
    from reportlab.pdfgen.canvas import Canvas

    matrix = qr_matrix(text)
    module = QR_SIZE_PT / len(matrix)
    width, height = area[2] - area[0], area[3] - area[1]
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(width, height), invariant=True, pageCompression=1)
    sx, sy, _, top = qr_rect(page_box)
    sx, sy, top = sx - area[0], sy - area[1], top - area[1]
    quiet = module * QUIET_MODULES
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(sx - quiet, sy - quiet, QR_SIZE_PT + 2 * quiet, QR_SIZE_PT + 2 * quiet,
                stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        y = top - (r + 1) * module
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            path.rect(sx + start * module, y, (c - start) * module, module)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.setFont(_font(), CAPTION_PT)
    canvas.drawString(page_box[0] + QR_LEFT_PT - area[0],
                      page_box[1] + CAPTION_BASELINE_PT - area[1], _caption(text))
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def page_box(page: pikepdf.Page) -> Rect:
    """The visible box of a pikepdf page (CropBox, else MediaBox), lower-left first."""
    box = page.obj.get("/CropBox", page.obj.get("/MediaBox"))
    if box is None:  # the error iterating no box raised
        raise TypeError("the page has neither /CropBox nor /MediaBox")
    x1, y1, x2, y2 = (float(v) for v in box)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def add_qr(doc: pikepdf.Pdf, text: str, avoid: dict[str, Rect] | None = None) -> Rect:
    """Paint the QR code of ``text`` and its caption on page 1 of the open pikepdf ``doc``.

    ``avoid`` maps field names to rectangles on page 1 that must stay clear
    (:class:`QrOverlapsField` otherwise). Returns the painted area.
    """
    import pikepdf

    page = doc.pages[0]
    box = page_box(page)
    area = qr_area(box, text)
    for name, rect in (avoid or {}).items():
        if rect[0] < area[2] and area[0] < rect[2] and rect[1] < area[3] and area[1] < rect[3]:
            raise QrOverlapsField(name)
    with pikepdf.open(io.BytesIO(_overlay(text, area, box))) as overlay:
        page.add_overlay(overlay.pages[0], pikepdf.Rectangle(*area))
    return area


def qr_links(pdf: bytes) -> list[str]:
    """The links the caption "Kiểm tra văn bản: …" shows on ``pdf``'s first page."""
    from pdfminer.high_level import extract_text
    from pdfminer.psexceptions import PSException

    try:
        text = extract_text(io.BytesIO(pdf), page_numbers=[0], maxpages=1)
    except (PSException, ValueError, TypeError, KeyError, IndexError):
        # an unreadable file names no link; the verifier says why it is bad
        return []
    return _CAPTION_RE.findall(unicodedata.normalize("NFC", text))
