"""Every glyph of a draft's pages, traced back to the operator that shows it, and the means
to take glyphs out of the page content before the first signature.

`locate` reads the draft's text to find where fields go; this module answers the two
questions that come after: *which* glyphs sit under a field (the year ``2025`` a draft
was written with, the dots of a template's blank) or form a "DỰ THẢO" mark, and how to
remove exactly those from the page's content stream, so that neither the printed page
nor its text layer (copy and paste, ``pdftotext``, screen readers) keeps them.

Reading runs pdfminer's interpreter with two small hooks: the interpreter numbers every
text-showing operator (``Tj``, ``TJ``, ``'``, ``"``) of the page's own content, in stream
order, and the device tags each glyph it receives with that number and the glyph's index
within the operator. Glyphs drawn inside form XObjects get no number (``op is None``):
they are reported, but cannot be erased here.

Erasing re-parses the page content with pikepdf (same stream order, same operators) and
rewrites each affected operator as a ``TJ`` array in which the erased glyphs are replaced
by the equivalent displacement (``-1000 × (w0 + (Tc + Tw) / Tfs)``), so every glyph left
stays exactly where it was. Only single-byte fonts and two-byte Identity CMaps are split;
anything else is refused (`CannotErase`) rather than guessed.

All coordinates are PDF user space points (origin bottom-left), pages 0-based.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    import pikepdf
    from pdfminer.layout import LTChar
    from pdfminer.pdfcolor import PDFColorSpace
    from pdfminer.pdfdevice import PDFTextSeq
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdffont import PDFFont
    from pdfminer.pdfinterp import PDFGraphicState, PDFResourceManager, PDFStackT
    from pdfminer.pdfpage import PDFPage
    from pdfminer.utils import Matrix

from .errors import CannotErase, NotAPdf, PdfEncrypted, PdfUnreadable
from .pdfinput import MAX_PDF_BYTES, not_a_pdf

__all__ = ["CannotErase", "DocumentText", "Glyph", "PageText", "erase_glyphs", "read_pages",
           "read_text"]

#: Text-showing operators, in pikepdf's spelling.
SHOW_OPERATORS = frozenset({"Tj", "TJ", "'", '"'})


@dataclass(frozen=True)
class Glyph:
    """One glyph as printed. ``op`` numbers the text-showing operator of the page's
    content that drew it (None inside a form XObject), ``index`` is its place within
    that operator. ``color`` is the non-stroking colour's components (gray, RGB or
    CMYK), ``upright`` is False for rotated (by any angle) or mirrored text."""

    page: int
    op: int | None
    index: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    upright: bool
    font: str
    color: tuple[float, ...]
    baseline: float = 0.0

    @property
    def blank(self) -> bool:
        return not self.text or self.text.isspace()

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    @property
    def ref(self) -> tuple[int, int] | None:
        return (self.op, self.index) if self.op is not None else None


@dataclass(frozen=True)
class _Show:
    """What is needed to rewrite one text-showing operator: the text state and, per
    glyph, the code's byte length and its width (glyph space / 1000)."""

    font_size: float
    char_space: float
    word_space: float
    code_length: int | None  # 1, 2, or None (a CMap we do not split)
    widths: tuple[float, ...]


@dataclass(frozen=True)
class PageText:
    index: int
    width: float
    height: float
    glyphs: tuple[Glyph, ...]
    shows: tuple[_Show, ...] = field(repr=False, default=())


def _color(graphicstate: PDFGraphicState) -> tuple[float, ...]:
    value = getattr(graphicstate, "ncolor", None)
    if isinstance(value, int | float):
        return (float(value),)
    if isinstance(value, list | tuple) and all(isinstance(v, int | float) for v in value):
        return tuple(float(v) for v in value)
    return ()


def _upright(matrix: Sequence[float]) -> bool:
    """Text neither rotated (by any angle, pdfminer's own ``upright`` lets 45° pass) nor
    mirrored."""
    a, b, c, d = matrix[:4]
    tilt = 0.02 * max(abs(a), abs(d), 1e-9)
    return a > 0 and d > 0 and abs(b) <= tilt and abs(c) <= tilt


def _code_length(font: PDFFont) -> int | None:
    """Bytes per character code: 1 for simple fonts, 2 for Identity CMaps; None for what
    is not split here (other CMaps, vertical writing)."""
    if font.is_vertical():
        return None
    if not font.is_multibyte():
        return 1
    cmap = getattr(font, "cmap", None)
    from pdfminer.cmapdb import IdentityCMap

    return 2 if isinstance(cmap, IdentityCMap) else None


def read_text(pdf: bytes, pages: Collection[int] | None = None) -> list[PageText]:
    """Every glyph of ``pages`` (all by default), in stream order, with its operator."""
    return list(read_pages(pdf, lambda count: pages).texts)


class _Char:
    """What :class:`signer.textlayer` reads of pdfminer's ``LTChar`` (the same values,
    computed the same way), for a horizontal glyph: building the ``LTChar`` itself was a
    fifth of reading a page."""

    __slots__ = ("fontname", "graphicstate", "matrix", "size", "text", "x0", "x1", "y0",
                 "y1")

    def __init__(self, text: str, x0: float, y0: float, x1: float, y1: float, size: float,
                 matrix: Matrix, fontname: str, graphicstate: PDFGraphicState) -> None:
        self.text, self.x0, self.y0, self.x1, self.y1 = text, x0, y0, x1, y1
        self.size, self.matrix, self.fontname = size, matrix, fontname
        self.graphicstate = graphicstate

    def get_text(self) -> str:
        return self.text


@dataclass(frozen=True)
class DocumentText:
    """The pages read (:class:`PageText`, in page order) and every page's size (width,
    height in points), read or not."""

    texts: tuple[PageText, ...]
    sizes: tuple[tuple[float, float], ...]


def read_pages(pdf: bytes, choose: Callable[[int], Collection[int] | None],
               max_pages: int | None = None) -> DocumentText:
    """Read the pages ``choose(page count)`` names (None: all) and only those: a page
    not chosen costs its dictionary, never its content. More than ``max_pages`` pages
    is refused (`PdfUnreadable`), and so is a file with none."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LTChar
    from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
    from pdfminer.pdffont import PDFUnicodeNotDefined
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfparser import PDFParser
    from pdfminer.psexceptions import PSException
    from pdfminer.utils import apply_matrix_rect

    if len(pdf) > MAX_PDF_BYTES:
        raise PdfUnreadable(f"lớn hơn {MAX_PDF_BYTES // 2**20} MB",
                            f"larger than {MAX_PDF_BYTES // 2**20} MB")

    class Device(PDFPageAggregator):
        def __init__(self, resources: PDFResourceManager) -> None:
            super().__init__(resources, laparams=None)
            self.glyphs: list[tuple[int | None, int, LTChar | _Char]] = []
            self.op: int | None = None
            self.index = 0
            self.depth = 0

        def render_char(self, matrix: Matrix, font: PDFFont, fontsize: float,
                        scaling: float, rise: float, cid: int, ncs: PDFColorSpace,
                        graphicstate: PDFGraphicState) -> float:
            op = self.op if self.depth == 0 else None
            if font.is_vertical():  # rare: pdfminer's own LTChar
                adv = super().render_char(matrix, font, fontsize, scaling, rise, cid, ncs,
                                          graphicstate)
                item = self.cur_item._objs[-1]  # the LTChar pdfminer has just added
                if isinstance(item, LTChar):
                    self.glyphs.append((op, self.index, item))
            else:  # what LTChar computes of a horizontal glyph, without building one
                try:
                    text = font.to_unichr(cid)
                except PDFUnicodeNotDefined:
                    text = self.handle_undefined_char(font, cid)
                adv = font.char_width(cid) * fontsize * scaling
                bottom = font.get_descent() * fontsize + rise
                top = bottom + fontsize
                a, b, c, d, e, f = matrix
                if b == 0 and c == 0:  # apply_matrix_rect's corners, two of them distinct
                    left, right = a * 0 + c * bottom + e, a * adv + c * bottom + e
                    low, high = b * 0 + d * bottom + f, b * 0 + d * top + f
                    x0, x1 = min(left, right), max(left, right)
                    y0, y1 = min(low, high), max(low, high)
                else:
                    x0, y0, x1, y1 = apply_matrix_rect(matrix, (0, bottom, adv, top))
                    if x1 < x0:
                        x0, x1 = x1, x0
                    if y1 < y0:
                        y0, y1 = y1, y0
                self.glyphs.append((op, self.index, _Char(
                    text, x0, y0, x1, y1, y1 - y0, matrix, font.fontname, graphicstate)))
            self.index += 1
            return adv

    class Interpreter(PDFPageInterpreter):
        device: Device

        def __init__(self, resources: PDFResourceManager, device: Device) -> None:
            super().__init__(resources, device)
            self.shows: list[_Show] = []

        def do_TJ(self, seq: PDFStackT) -> None:
            device = self.device
            top = device.depth == 0
            if top:
                state, font = self.textstate, self.textstate.font
                widths: list[float] = []
                length = _code_length(font) if font is not None else 1
                if font is not None and length is not None:
                    for item in cast("PDFTextSeq", seq):  # as pdfminer's own do_TJ reads it
                        if isinstance(item, bytes):
                            widths.extend(font.char_width(cid) for cid in font.decode(item))
                self.shows.append(_Show(float(state.fontsize or 0), float(state.charspace),
                                        float(state.wordspace), length, tuple(widths)))
                device.op = len(self.shows) - 1
            device.index = 0
            super().do_TJ(seq)

        def do_Do(self, xobjid: PDFStackT) -> None:
            self.device.depth += 1
            try:
                super().do_Do(xobjid)
            finally:
                self.device.depth -= 1

    if not_a_pdf(pdf):
        raise NotAPdf()
    result: list[PageText] = []
    sizes: list[tuple[float, float]] = []
    try:
        document = PDFDocument(PDFParser(io.BytesIO(pdf)))
        resources = PDFResourceManager()
        found = _page_index(pdf, document, choose, max_pages)
        if found is None:  # qpdf could not list the pages: pdfminer walks the tree
            found = _walked_pages(document, choose, max_pages)
        chosen, all_sizes = found
        sizes.extend(all_sizes)
        for index, page in chosen:
            x0, y0, x1, y1 = page.mediabox
            page.rotate = 0  # user space, as `locate` reads it
            device = Device(resources)
            interpreter = Interpreter(resources, device)
            interpreter.process_page(page)
            glyphs = []
            # a string's glyphs share one graphic state
            state: PDFGraphicState | None = None
            color: tuple[float, ...] = ()
            upright: dict[tuple[float, ...], bool] = {}
            for op, at, char in device.glyphs:
                text = unicodedata.normalize("NFC", char.get_text())
                if char.graphicstate is not state:
                    state, color = char.graphicstate, _color(char.graphicstate)
                turn = tuple(char.matrix[:4])
                straight = upright.get(turn)
                if straight is None:
                    straight = upright[turn] = _upright(turn)
                glyphs.append(Glyph(index, op, at, text, char.x0 + x0, char.y0 + y0,
                                    char.x1 + x0, char.y1 + y0, float(char.size),
                                    straight, str(char.fontname), color,
                                    char.matrix[5] + y0))
            result.append(PageText(index, x1 - x0, y1 - y0, tuple(glyphs),
                                   tuple(interpreter.shows)))
    except PDFPasswordIncorrect as exc:
        raise PdfEncrypted() from exc
    except (PSException, ValueError, KeyError, TypeError, IndexError, AssertionError,
            RecursionError, ZeroDivisionError) as exc:
        raise PdfUnreadable(type(exc).__name__) from exc
    return DocumentText(tuple(result), tuple(sizes))


_Found = tuple[list[tuple[int, "PDFPage"]], list[tuple[float, float]]]


def _check_count(count: int, max_pages: int | None) -> None:
    if max_pages is not None and count > max_pages:
        raise PdfUnreadable(f"hơn {max_pages} trang", f"more than {max_pages} pages")
    if max_pages is not None and not count:
        raise PdfUnreadable("không có trang nào", "no pages")


def _walked_pages(document: PDFDocument, choose: Callable[[int], Collection[int] | None],
                  max_pages: int | None) -> _Found:
    """Every page through pdfminer's own walk of the page tree (each page parsed)."""
    from pdfminer.pdfpage import PDFPage

    every: list[PDFPage] = []
    for page in PDFPage.create_pages(document):
        _check_count(len(every) + 1, max_pages)
        every.append(page)
    _check_count(len(every), max_pages)
    wanted = choose(len(every))
    sizes = [(page.mediabox[2] - page.mediabox[0], page.mediabox[3] - page.mediabox[1])
             for page in every]
    return [(i, p) for i, p in enumerate(every) if wanted is None or i in wanted], sizes


#: Page attributes a page takes from its ancestors in the page tree when it has none.
_INHERITED = ("Resources", "MediaBox", "CropBox", "Rotate")


def _page_index(pdf: bytes, document: PDFDocument, choose: Callable[[int], Collection[int] | None],
                max_pages: int | None) -> _Found | None:
    """The chosen pages, found by object number from qpdf's page list (C++, a page not
    chosen is never parsed by pdfminer), and every page's size; None when qpdf cannot
    list the pages or a listed page is not one for pdfminer."""
    import pikepdf
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdftypes import dict_value, resolve1
    from pdfminer.psparser import LIT

    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            listed = [(page.obj.objgen[0], page.mediabox) for page in doc.pages]
            sizes = [(float(box[2]) - float(box[0]), float(box[3]) - float(box[1]))
                     for _, box in listed]
    except (pikepdf.PdfError, ValueError, TypeError, IndexError):
        return None
    _check_count(len(listed), max_pages)
    wanted = choose(len(listed))
    chosen: list[tuple[int, PDFPage]] = []
    for index, (objid, _) in enumerate(listed):
        if wanted is not None and index not in wanted:
            continue
        attrs = dict_value(document.getobj(objid)).copy()
        if attrs.get("Type") is not LIT("Page") or not objid:
            return None
        node, seen = attrs, {objid}
        while "Parent" in node and len(seen) < 64:
            parent = node["Parent"]
            parent_id: int = getattr(parent, "objid", 0)
            if parent_id in seen:
                break
            seen.add(parent_id)
            node = dict_value(resolve1(parent))
            for key in _INHERITED:
                if key not in attrs and key in node:
                    attrs[key] = node[key]
        chosen.append((index, PDFPage(document, objid, attrs, None)))
    return chosen, sizes


class _Operands(Protocol):
    """The operands of a parsed content-stream instruction (pikepdf's object list)."""

    def __getitem__(self, index: int, /) -> pikepdf.Object: ...


#: One instruction written back: its operands and its operator.
_Op = tuple[list["pikepdf.Object"], "pikepdf.Operator"]


def _split(data: bytes, length: int) -> list[bytes]:
    return [data[i:i + length] for i in range(0, len(data), length)]


def _rewrite(operands: _Operands, operator: str, show: _Show, erase: set[int],
             where: tuple[str, str]) -> list[_Op]:
    """The operator (and its operands) with the glyphs ``erase`` taken out, as ops."""
    import pikepdf

    items = list(operands[0]) if operator == "TJ" else [operands[-1]]
    if show.code_length is None:
        raise CannotErase(*where, "phông chữ dùng bảng mã nhiều byte",
                          "the font uses a multi-byte CMap")
    out: list[pikepdf.Object | float] = []
    glyph = 0
    pending = 0.0
    size = show.font_size or 1.0

    def flush() -> None:
        nonlocal pending
        if pending:
            out.append(round(pending, 3))
            pending = 0.0

    for item in items:
        if not isinstance(item, pikepdf.String):
            flush()
            out.append(item)
            continue
        kept = b""
        for code in _split(bytes(item), show.code_length):
            if glyph in erase:
                if kept:
                    flush()
                    out.append(pikepdf.String(kept))
                    kept = b""
                if glyph >= len(show.widths):
                    raise CannotErase(*where, "không đọc được độ rộng chữ",
                                      "glyph widths could not be read")
                space = show.word_space if show.code_length == 1 and code == b" " else 0.0
                pending -= 1000 * (show.widths[glyph] + (show.char_space + space) / size)
            else:
                if pending:
                    flush()
                kept += code
            glyph += 1
        if kept:
            out.append(pikepdf.String(kept))
    flush()
    if glyph != len(show.widths):
        raise CannotErase(*where, "nội dung trang đọc không khớp",
                          "the page content reads differently")
    ops: list[_Op] = []
    if operator == "'":
        ops.append(([], pikepdf.Operator("T*")))
    elif operator == '"':
        ops += [([operands[0]], pikepdf.Operator("Tw")), ([operands[1]], pikepdf.Operator("Tc")),
                ([], pikepdf.Operator("T*"))]
    ops.append(([pikepdf.Array(out)], pikepdf.Operator("TJ")))
    return ops


def erase_glyphs(doc: pikepdf.Pdf, text: PageText, glyphs: Iterable[Glyph],
                 where: tuple[str, str] = ("", "")) -> int:
    """Take ``glyphs`` (read from this page by :func:`read_text`) out of the page's
    content in the pikepdf document ``doc``; the other glyphs keep their places.
    Returns how many glyphs were removed. ``where`` names them in errors (vi, en)."""
    import pikepdf

    wanted: dict[int, set[int]] = {}
    for glyph in glyphs:
        if glyph.page != text.index:
            raise ValueError("glyph of another page")
        if glyph.op is None:
            raise CannotErase(*where, "chữ nằm trong một đối tượng XObject",
                              "the text is drawn inside a form XObject")
        wanted.setdefault(glyph.op, set()).add(glyph.index)
    if not wanted:
        return 0
    page = doc.pages[text.index]
    try:
        ops = pikepdf.parse_content_stream(page)
    except (pikepdf.PdfError, TypeError) as exc:  # TypeError: an object no content may hold
        raise CannotErase(*where, "không đọc được nội dung trang",
                          "the page content cannot be parsed") from exc
    shown = -1
    rewritten: list[_Op | pikepdf.ContentStreamInstruction
                    | pikepdf.ContentStreamInlineImage] = []
    for instruction in ops:
        operands, operator = instruction.operands, instruction.operator
        if str(operator) in SHOW_OPERATORS:
            shown += 1
            if shown in wanted:
                if shown >= len(text.shows):
                    break
                rewritten.extend(_rewrite(operands, str(operator), text.shows[shown],
                                          wanted[shown], where))
                continue
        rewritten.append(instruction)
    if shown + 1 != len(text.shows):
        raise CannotErase(*where, "nội dung trang đọc không khớp",
                          "the page content reads differently")
    page.obj.Contents = doc.make_stream(pikepdf.unparse_content_stream(rewritten))
    return sum(len(v) for v in wanted.values())
