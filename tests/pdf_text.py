"""What text a PDF page really shows, read from its content streams and its widgets'
appearance streams: each run's font (base name, whether its program is embedded) and
its size as printed (Tf size scaled by the text and graphics matrices and by the
form/appearance transforms), without trusting any renderer's guess."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import pikepdf

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1, 0, 0, 1, 0, 0)


@dataclass(frozen=True)
class TextRun:
    font: str       # base font name, subset tag included ("ABCDEF+LiberationSerif")
    embedded: bool  # the font program is in the file (FontFile, FontFile2, FontFile3)
    size: float     # printed size in points
    where: str      # "page" or the widget's field name


def _mul(a: Matrix, b: Matrix) -> Matrix:
    """a × b: apply a, then b."""
    return (a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5])


def _matrix(values: Any) -> Matrix:
    m = [float(v) for v in values]
    return (m[0], m[1], m[2], m[3], m[4], m[5])


def _scale(m: Matrix) -> float:
    """The vertical scale of ``m`` (text height grows by this)."""
    return math.hypot(m[2], m[3])


def _embedded(font: Any) -> bool:
    descriptors = [font.get("/FontDescriptor")]
    for descendant in font.get("/DescendantFonts", []):
        descriptors.append(descendant.get("/FontDescriptor"))
    return any(d is not None and any(k in d for k in ("/FontFile", "/FontFile2", "/FontFile3"))
               for d in descriptors)


def _runs(stream: Any, resources: Any, ctm: Matrix, where: str, out: list[TextRun]) -> None:
    stack: list[Matrix] = []
    font: Any = None
    size = 0.0
    tm: Matrix = IDENTITY
    for instruction in pikepdf.parse_content_stream(stream):
        operands, operator = instruction.operands, instruction.operator
        op = str(operator)
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop() if stack else ctm
        elif op == "cm":
            ctm = _mul(_matrix(operands), ctm)
        elif op == "BT":
            tm = IDENTITY
        elif op == "Tf":
            font = resources.Font[operands[0]] if resources is not None else None
            size = float(operands[1])
        elif op == "Tm":
            tm = _matrix(operands)
        elif op in ("Tj", "TJ", "'", '"') and font is not None:
            name = str(font.get("/BaseFont", "?")).lstrip("/")
            out.append(TextRun(name, _embedded(font), round(size * _scale(_mul(tm, ctm)), 2),
                               where))
        elif op == "Do" and resources is not None and "/XObject" in resources:
            xobject = resources.XObject[operands[0]]
            if xobject.get("/Subtype") == "/Form":
                inner = _matrix(xobject.get("/Matrix", IDENTITY))
                _runs(xobject, xobject.get("/Resources", resources), _mul(inner, ctm), where,
                      out)


def _appearance_matrix(form: Any, rect: list[float]) -> Matrix:
    """PDF 32000-1 §12.5.5: the form's /Matrix, then the map of its box onto /Rect."""
    matrix = _matrix(form.get("/Matrix", IDENTITY))
    x1, y1, x2, y2 = (float(v) for v in form.BBox)
    corners = [(x * matrix[0] + y * matrix[2] + matrix[4], x * matrix[1] + y * matrix[3]
                + matrix[5]) for x, y in ((x1, y1), (x2, y1), (x1, y2), (x2, y2))]
    bx1, bx2 = min(c[0] for c in corners), max(c[0] for c in corners)
    by1, by2 = min(c[1] for c in corners), max(c[1] for c in corners)
    rx1, ry1, rx2, ry2 = rect
    sx = (rx2 - rx1) / (bx2 - bx1) if bx2 > bx1 else 1.0
    sy = (ry2 - ry1) / (by2 - by1) if by2 > by1 else 1.0
    return _mul(matrix, (sx, 0, 0, sy, rx1 - bx1 * sx, ry1 - by1 * sy))


def text_runs(pdf: bytes, page: int = 0) -> list[TextRun]:
    """Every text-showing operation of page ``page``: its content, then each widget."""
    out: list[TextRun] = []
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        p = doc.pages[page]
        _runs(p.obj, p.obj.get("/Resources"), IDENTITY, "page", out)
        for annot in p.obj.get("/Annots", []):
            appearances: Any = annot.get("/AP")
            form = appearances.get("/N") if appearances is not None else None
            if not isinstance(form, pikepdf.Stream):
                continue
            rect = sorted(float(v) for v in annot.Rect[0::2]) + sorted(
                float(v) for v in annot.Rect[1::2])
            rect = [rect[0], rect[2], rect[1], rect[3]]
            _runs(form, form.get("/Resources"), _appearance_matrix(form, rect),
                  str(annot.get("/T", "")), out)
    return out
