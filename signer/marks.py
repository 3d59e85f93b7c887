"""Find the marks that say a page is still a draft — "DỰ THẢO" — so none is ever issued.

A drafter's file often still carries the word its template or its reviewers put there: a
standalone ``DỰ THẢO`` line above the header (sometimes ``Dự thảo lần 2``, ``(DỰ THẢO)``,
spaced letters ``D Ự  T H Ả O``), a large, rotated or light watermark across the page, or
a "Draft" stamp annotation. Issued, such a page tells every recipient that the document
is not final. Preparation finds them and refuses the draft, saying which mark and where;
or, when the drafter asks for it on upload (``cover_draft_mark``), takes them out of the
page before the first signature (``signer.prepare.prepare_draft``).

What is *not* a mark: the words in a sentence. "Xét dự thảo Quy chế …", common in a
Quyết định, or "Dự thảo Kế hoạch đã được …" are body text: a line is a mark only when it
is the mark alone, in the top third of a page; text elsewhere only when it is a
watermark (rotated, at least :data:`LARGE` points, or light grey).

Detection reads the text layer (:mod:`signer.textlayer`): a mark drawn as an image or as
outlines is not seen.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import DraftMarked, MarkNotCovered
from .textlayer import Glyph, PageText, read_text

if TYPE_CHECKING:
    import pikepdf

__all__ = ["DraftMark", "DraftMarked", "MarkNotCovered", "find_draft_marks",
           "remove_mark_annotations"]

#: The mark alone (letters folded to ASCII capitals, everything but letters and digits
#: dropped): DỰ THẢO, BẢN DỰ THẢO, DỰ THẢO LẦN 2, Dự thảo 3, (DỰ THẢO), D Ự T H Ả O …
_MARK_LINE = re.compile(r"(?:BAN)?DUTHAO(?:LAN\d{1,2}|L\d{1,2}|V\d{1,2}|\d{1,2})?")
_MARK = "DUTHAO"
#: What may stand around the mark on its line besides letters, digits and spaces.
_LINE_PUNCTUATION = set("()[]-–—:.*\"'“”«»")
#: A mark line stands in this top fraction of the page (above the header, in it).
TOP_FRACTION = 0.3
#: Text this large (points) is a watermark wherever it is.
LARGE = 28.0
#: Non-stroking colour this light (gray level, or every RGB component) is a watermark's.
LIGHT = 0.6
_ROW_TOLERANCE = 1.5
_SEGMENT_GAP = 45.0


def _fold(text: str) -> str:
    """ASCII capitals: diacritics dropped, Đ/đ → D."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def _compact(text: str) -> str:
    return "".join(c for c in _fold(text) if c.isascii() and c.isalnum())


@dataclass(frozen=True)
class DraftMark:
    """One mark: ``kind`` is ``line`` (a standalone line near the top of a page),
    ``watermark`` (large, rotated or light text) or ``annotation`` (a "Draft" stamp or
    an annotation saying DỰ THẢO, ``annotation`` being its index in the page's /Annots).
    ``glyphs`` are what covering takes out of the page."""

    page: int
    kind: str
    text: str
    side_vi: str = ""
    side_en: str = ""
    glyphs: tuple[Glyph, ...] = ()
    annotation: int | None = None

    @property
    def where_vi(self) -> str:
        side = f" ({self.side_vi})" if self.side_vi else ""
        return {"line": f"dòng “{self.text}” ở đầu trang {self.page + 1}{side}",
                "watermark": f"hình mờ “{self.text}” trên trang {self.page + 1}{side}",
                }.get(self.kind, f"chú thích/con dấu “{self.text}” trên trang {self.page + 1}")

    @property
    def where_en(self) -> str:
        side = f" ({self.side_en})" if self.side_en else ""
        return {"line": f"the line “{self.text}” at the top of page {self.page + 1}{side}",
                "watermark": f"a “{self.text}” watermark on page {self.page + 1}{side}",
                }.get(self.kind, f"a “{self.text}” annotation/stamp on page {self.page + 1}")

    def describe(self) -> dict[str, int | str]:
        """For the audit trail."""
        return {"page": self.page + 1, "kind": self.kind, "text": self.text}


def _light(glyph: Glyph) -> bool:
    colour = glyph.color
    if len(colour) in (1, 3):
        return min(colour) >= LIGHT
    if len(colour) == 4:  # CMYK: little ink
        return max(colour) <= 1 - LIGHT
    return False


def _side(text: PageText, glyphs: Sequence[Glyph]) -> tuple[str, str]:
    centre = (min(g.x0 for g in glyphs) + max(g.x1 for g in glyphs)) / 2
    if centre < text.width / 3:
        return "bên trái", "left"
    if centre > text.width * 2 / 3:
        return "bên phải", "right"
    return "ở giữa", "centre"


def _segments(glyphs: Iterable[Glyph]) -> list[list[Glyph]]:
    """Upright ink glyphs in visual rows, cut at wide gaps (the header's columns)."""
    rows: list[list[Glyph]] = []
    for glyph in sorted(glyphs, key=lambda g: (-g.baseline, g.x0)):
        if rows and rows[-1][0].baseline - glyph.baseline <= _ROW_TOLERANCE:
            rows[-1].append(glyph)
        else:
            rows.append([glyph])
    pieces: list[list[Glyph]] = []
    for row in rows:
        row.sort(key=lambda g: g.x0)
        current = [row[0]]
        for glyph in row[1:]:
            if glyph.x0 - current[-1].x1 > max(_SEGMENT_GAP, 2 * glyph.size):
                pieces.append(current)
                current = []
            current.append(glyph)
        pieces.append(current)
    return pieces


def _spelled(glyphs: Sequence[Glyph]) -> str:
    """The glyphs' text with a space where a gap separates them."""
    out = ""
    for i, glyph in enumerate(glyphs):
        if i and glyph.x0 - glyphs[i - 1].x1 > 0.15 * glyph.size:
            out += " "
        out += glyph.text
    return unicodedata.normalize("NFC", " ".join(out.split()))


def _is_mark_line(glyphs: Sequence[Glyph]) -> bool:
    text = "".join(g.text for g in glyphs)
    if any(not (c.isalnum() or c.isspace() or c in _LINE_PUNCTUATION) for c in text):
        return False
    return _MARK_LINE.fullmatch(_compact(text)) is not None


def _text_marks(text: PageText) -> list[DraftMark]:
    found: list[DraftMark] = []
    ink = [g for g in text.glyphs if not g.blank]
    # rotated text: a watermark; read in the order it was drawn, run by run of
    # consecutive text operators
    runs: list[list[Glyph]] = []
    for glyph in (g for g in ink if not g.upright):
        last = runs[-1][-1] if runs else None
        if last is not None and (glyph.op == last.op or (
                glyph.op is not None and last.op is not None and glyph.op == last.op + 1)):
            runs[-1].append(glyph)
        else:
            runs.append([glyph])
    for run in runs:
        if _MARK in _compact("".join(g.text for g in run)):
            found.append(DraftMark(text.index, "watermark", "".join(g.text for g in run)
                                   .strip()[:60], "chữ xoay", "rotated text", tuple(run)))
    top = text.height * (1 - TOP_FRACTION)
    for segment in _segments(g for g in ink if g.upright):
        compact = _compact("".join(g.text for g in segment))
        if _MARK not in compact:
            continue
        spelled = _spelled(segment)[:60]
        large = max(g.size for g in segment) >= LARGE
        light = all(_light(g) for g in segment)
        if large or light:
            vi, en = ("chữ cỡ lớn", "large text") if large else ("chữ màu nhạt", "light text")
            found.append(DraftMark(text.index, "watermark", spelled, vi, en, tuple(segment)))
        elif _is_mark_line(segment) and min(g.y0 for g in segment) >= top:
            vi, en = _side(text, segment)
            found.append(DraftMark(text.index, "line", spelled, vi, en, tuple(segment)))
    return found


#: Markup annotations a draft mark may be drawn as (a stamp named Draft, a watermark, a
#: note saying "DỰ THẢO"): inert, refused or taken off the page by ``prepare``.
MARK_ANNOTATIONS = frozenset({"/Stamp", "/Watermark", "/FreeText", "/Text"})


def is_mark_annotation(annot: pikepdf.Object) -> bool:
    """Whether the annotation dictionary ``annot`` says the document is a draft (a
    ``/Draft`` stamp, or "DỰ THẢO" in its text)."""
    if str(annot.get("/Subtype", "")) in ("/Widget", "/Link"):
        return False
    return str(annot.get("/Name", "")) == "/Draft" \
        or _MARK in _compact(str(annot.get("/Contents", "")))


def _annotation_marks(pdf: bytes) -> list[DraftMark]:
    import pikepdf

    found: list[DraftMark] = []
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for index, page in enumerate(doc.pages):
            for at, annot in enumerate(page.obj.get("/Annots", [])):
                name = str(annot.get("/Name", ""))
                contents = str(annot.get("/Contents", ""))
                if is_mark_annotation(annot):
                    label = contents.strip()[:60] or name.lstrip("/")
                    found.append(DraftMark(index, "annotation", label, annotation=at))
    return found


def find_draft_marks(pdf: bytes, texts: Sequence[PageText] | None = None) -> list[DraftMark]:
    """Every "DỰ THẢO" mark of the draft, page by page. ``texts``: the pages already read
    with :func:`signer.textlayer.read_text` (all of them), to read the file only once."""
    if texts is None:
        texts = read_text(pdf)
    found = [mark for text in texts for mark in _text_marks(text)]
    found += _annotation_marks(pdf)
    return sorted(found, key=lambda m: (m.page, m.kind))


def remove_mark_annotations(doc: pikepdf.Pdf, marks: Sequence[DraftMark]) -> None:
    """Delete the annotation marks from the pikepdf document ``doc`` (before any other
    annotation is added: the marks hold their pages' /Annots indexes)."""
    for page, index in sorted(((m.page, m.annotation) for m in marks
                               if m.annotation is not None), key=lambda at: -at[1]):
        del doc.pages[page].obj.Annots[index]
