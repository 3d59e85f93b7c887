"""Find where a draft's number, date and signature go, by reading the draft's own text.

A commune clerk exports the unsigned draft from Word or LibreOffice (Decree 30/2020/NĐ-CP
layout). Before issuing it, Kyso must write the number into the blank of ``Số:      /QĐ-UBND``,
the day and month into ``Tiên Lữ, ngày      tháng      năm 2025`` and put the signature
image and field between the signer's title lines and name. This module finds those places
with pdfminer's glyph positions; it never guesses from a fixed template, because every
commune's template differs by a few points.

Why glyphs and not pdfminer's text lines: the blanks are typed as spaces, NBSP or a TAB
(which leaves no glyph at all); a layout-based extractor cuts those lines into pieces and
glues the signature title to the ``Nơi nhận:`` column. Here glyphs are grouped into visual
rows by baseline and rows are cut into segments only at wide blank stretches, then the few
shapes of Decree 30 are matched on whole segments (see ``_NUMBER`` and ``_DATE``).

Only the pages where those elements stand are read (:func:`layout_pages`: a draft of up
to 20 pages whole, a longer one its first and last five), so a 300-page draft costs what a
10-page one does; the glyphs come from :mod:`signer.textlayer`, whose one pass
preparation shares with the draft-mark reader and the fields' ink.

All coordinates are PDF user space points (origin bottom-left), pages are 0-based.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from .errors import DraftHasNoSignatureBlock, PdfUnreadable
from .pdfinput import MAX_PDF_BYTES
from .textlayer import DocumentText, Glyph, PageText, read_pages

__all__ = [
    "Box",
    "DateLine",
    "DraftLayout",
    "NumberLine",
    "SignatureBlock",
    "layout_of",
    "layout_pages",
    "locate",
    "read_layout_text",
    "require_signature_block",
]

# A line box spans the baseline -0.35 em .. +0.95 em: poppler's default font metrics, which
# it uses for LibreOffice exports (their subset fonts declare Ascent = Descent = 0). Boxes
# then agree with `pdftotext -bbox` and cover accents and descenders.
_ASCENT = 0.95
_DESCENT = 0.35
#: Glyphs whose baselines differ by at most this (pt) are on one visual row; footnote
#: superscripts (raised ≥ 3 pt) form rows of their own and so stay out of the text.
_ROW_TOLERANCE = 1.5
#: A blank stretch (no ink: a gap or spaces) wider than this cuts a row into segments: the
#: left and right header columns, `Nơi nhận:` and the signature column.
_SEGMENT_GAP = 45.0
#: A narrower stretch still cuts where the font or size changes (TAB-aligned columns).
_STYLE_GAP = 12.0
#: Segments of one row this close may be re-joined when a blank was typed very wide.
_JOIN_GAP = 160.0
#: A gap wider than this fraction of the font size reads as a word space.
_WORD_GAP = 0.15
#: Signature titles and name share a column: centres within this (pt).
_COLUMN_SLACK = 45.0
#: The room left for the handwritten signature (pt between last title and name).
_MIN_SIGNING_GAP = 20.0
_MAX_SIGNING_GAP = 220.0
#: Stacked title lines are at most this many font sizes apart (baseline to baseline).
_TITLE_PITCH = 1.8

_NUMBER = re.compile(r"^(?P<label>(?:Số|SỐ)\s*:)(?P<blank>[^/;:]*?)(?:/(?P<symbol>[^;:]*))?$")
_PLACEHOLDER = re.compile(r"^[\s.…_]*$")
_DATE = re.compile(
    r"^(?P<place>[^\s,:;()/\d\-–][^,:;()/\d]{0,39}?)\s*,\s*"
    r"(?P<ngay>[Nn]gày)(?P<day>[\s\d.…_]*?)(?P<thang>tháng)(?P<month>[\s\d.…_]*?)"
    r"(?P<nam>năm)(?P<year>[\s\d.…_]*?)\.?\s*$")
_DESIGNATION = re.compile(r"^(?P<prefix>KT|TM|TL|TUQ|Q)\.\s*")
#: The name placeholder of the unfilled official templates (Phụ lục III).
_NAME_PLACEHOLDER = "Họ và tên"
#: Bold headings that look like a name but are document structure.
_STRUCTURE_WORDS = frozenset({"Chương", "Mục", "Điều", "Phần", "Phụ", "Mẫu", "Tiểu", "Khoản"})


@dataclass(frozen=True)
class Box:
    """A rectangle on one page: PDF points, origin bottom-left, ``page`` 0-based."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)


@dataclass(frozen=True)
class NumberLine:
    """The header's ``Số: … /SYMBOL`` line.

    ``blank`` is where the clerk's number goes (between ``Số:`` and ``/``; any dots of a
    template placeholder are inside it). ``symbol`` is the text after the slash, None when
    there is none or it is only a placeholder. ``baseline`` and ``font_size`` let the
    number be written in the line's own size.
    """

    line: Box
    blank: Box
    symbol: str | None
    text: str
    baseline: float
    font_size: float


@dataclass(frozen=True)
class DateLine:
    """The header's ``<place>, ngày … tháng … năm …`` line.

    ``day_blank``/``month_blank`` are None when that part is already filled in with digits;
    ``day_box``/``month_box`` are that part's place either way (blank, or digits typed with
    room enough around them for two digits and word spaces — else None), so a day typed in
    the draft can be covered by the date of issue too. ``year`` is None when it is
    a blank or a placeholder. ``year_box`` is where the year is printed — its digits, else
    the blank or placeholder after ``năm`` — and so where the issue year goes: a draft
    written in one year is often issued in the next.
    """

    line: Box
    place: str
    day_blank: Box | None
    month_blank: Box | None
    year: str | None
    text: str
    baseline: float
    font_size: float
    year_box: Box | None = None
    day_box: Box | None = None
    month_box: Box | None = None


@dataclass(frozen=True)
class SignatureBlock:
    """Title lines (top to bottom), the signer's name, and the free room between them.

    ``designation`` is the innermost authority prefix (``KT.`` in ``TM. ỦY BAN NHÂN DÂN`` /
    ``KT. CHỦ TỊCH`` / ``PHÓ CHỦ TỊCH``): the one under which the signer signs.
    """

    titles: tuple[str, ...]
    title_boxes: tuple[Box, ...]
    designation: str | None
    name: str
    name_box: Box
    signing_area: Box


@dataclass(frozen=True)
class DraftLayout:
    """What `locate` found. ``signature`` is the draft's one signature block, None when
    there is none or several (all of them are in ``signatures``)."""

    pages: int
    page_sizes: tuple[tuple[float, float], ...]
    number: NumberLine | None
    date: DateLine | None
    signature: SignatureBlock | None
    signatures: tuple[SignatureBlock, ...] = ()
    #: The lines of the draft's own "Nơi nhận:" list, without their dashes (empty when the
    #: draft has none on the pages read).
    recipients: tuple[str, ...] = ()

    @property
    def recipients_text(self) -> str:
        """The list as the register's "Nơi nhận" column writes it: ``Như Điều 3; Lưu: VT.``"""
        lines = [line.rstrip(" ;,.") for line in self.recipients]
        return "; ".join(line for line in lines if line) + ("." if lines else "")


# --------------------------------------------------------------------------- extraction


class _Glyph(NamedTuple):
    """One glyph as the layout reads it (a tuple: tens of thousands are made per draft)."""

    text: str
    x0: float
    x1: float
    baseline: float
    size: float
    font: str
    #: a space or nothing (what separates words)
    blank: bool

    @classmethod
    def of(cls, text: str, x0: float, x1: float, baseline: float, size: float,
           font: str) -> _Glyph:
        return cls(text, x0, x1, baseline, size, font, text.isspace() or not text)

    @property
    def style(self) -> tuple[str, int]:
        return (self.font, round(self.size))


@dataclass(frozen=True)
class _Segment:
    """Glyphs of one visual row with no wide blank stretch inside, left to right (what
    is derived from them is computed once: a segment never changes)."""

    page: int
    glyphs: tuple[_Glyph, ...]

    @cached_property
    def ink(self) -> tuple[_Glyph, ...]:
        return tuple(g for g in self.glyphs if not g.blank)

    @cached_property
    def size(self) -> float:
        return max(g.size for g in self.ink)

    @cached_property
    def baseline(self) -> float:
        return statistics.median(g.baseline for g in self.ink)

    @property
    def bold(self) -> bool:
        return all(_is_bold(g.font) for g in self.ink)

    @cached_property
    def text(self) -> str:
        return " ".join(_spell(self.glyphs)[0].split())

    @property
    def box(self) -> Box:
        return _box(self.page, self.ink, self.baseline, self.size)


def _is_bold(font: str) -> bool:
    """Bold faces by name (``LiberationSerif-Bold``, ``TimesNewRomanPS-BoldMT``, ``Arial,Bold``)."""
    name = font.split("+", 1)[-1].lower()
    return any(word in name for word in ("bold", "black", "heavy", "semibold", "demi"))


def _box(page: int, glyphs: Sequence[_Glyph], baseline: float, size: float) -> Box:
    return Box(page, min(g.x0 for g in glyphs), baseline - _DESCENT * size,
               max(g.x1 for g in glyphs), baseline + _ASCENT * size)


def _spell(glyphs: Sequence[_Glyph]) -> tuple[str, list[int]]:
    """The glyphs' text, with a space where a gap without a space glyph separates words,
    and for each character the index of its glyph (-1 for such an inserted space), so a
    regex match can be turned back into positions."""
    chars: list[str] = []
    owners: list[int] = []
    for index, glyph in enumerate(glyphs):
        if index and not glyph.blank and not glyphs[index - 1].blank:
            before = glyphs[index - 1]
            if glyph.x0 - before.x1 > _WORD_GAP * max(glyph.size, before.size):
                chars.append(" ")
                owners.append(-1)
        for char in glyph.text:
            chars.append(char)
            owners.append(index)
    return "".join(chars), owners


def _glyphs(glyphs: Iterable[Glyph]) -> list[_Glyph]:
    """Upright glyphs (NFC, user space, from :mod:`signer.textlayer`), combining marks
    folded into their base letter (some exporters emit a Vietnamese tone mark as a
    glyph of its own)."""
    found: list[_Glyph] = []
    for glyph in glyphs:
        if not glyph.upright:
            continue
        text = glyph.text
        if (found and text and unicodedata.combining(text[0])
                and all(unicodedata.combining(c) for c in text)):
            base = found[-1]
            found[-1] = _Glyph.of(unicodedata.normalize("NFC", base.text + text), base.x0,
                                  max(base.x1, glyph.x1), base.baseline, base.size, base.font)
            continue
        found.append(_Glyph.of(text, glyph.x0, glyph.x1, glyph.baseline, glyph.size,
                               glyph.font))
    return found


def _rows(glyphs: list[_Glyph]) -> list[list[_Glyph]]:
    """Visual rows, top to bottom, each left to right, overprinted duplicates dropped."""
    rows: list[list[_Glyph]] = []
    for glyph in sorted(glyphs, key=lambda g: (-g.baseline, g.x0)):
        if rows and rows[-1][0].baseline - glyph.baseline <= _ROW_TOLERANCE:
            rows[-1].append(glyph)
        else:
            rows.append([glyph])
    result = []
    for row in rows:
        row.sort(key=lambda g: g.x0)
        kept = [g for i, g in enumerate(row)
                if not (i and g.text == row[i - 1].text and abs(g.x0 - row[i - 1].x0) < 0.3)]
        result.append(kept)
    return result


def _segments(page: int, row: list[_Glyph]) -> list[_Segment]:
    """Cut a row at wide blank stretches (gaps or space glyphs: both are no ink)."""
    pieces: list[list[_Glyph]] = []
    current: list[_Glyph] = []
    last_ink: _Glyph | None = None
    for glyph in row:
        if not glyph.blank and last_ink is not None:
            gap = glyph.x0 - last_ink.x1
            if gap > _SEGMENT_GAP or (gap > _STYLE_GAP and glyph.style != last_ink.style):
                pieces.append(current)
                current = []
        current.append(glyph)
        if not glyph.blank:
            last_ink = glyph
    pieces.append(current)
    return [_Segment(page, tuple(p)) for p in pieces if any(not g.blank for g in p)]


@dataclass(frozen=True)
class _Page:
    index: int
    width: float
    height: float
    rows: tuple[tuple[_Segment, ...], ...]

    @property
    def segments(self) -> Iterator[_Segment]:
        for row in self.rows:
            yield from row


#: Drafts up to this many pages are read whole; longer ones only their first and last
#: :data:`END_PAGES` pages, where the header (number and date lines) and the signature
#: block stand: finding the layout then costs the same whatever the page count.
WHOLE_PAGES = 20
END_PAGES = 5


def layout_pages(count: int) -> Collection[int]:
    """The pages (0-based) of a ``count``-page draft the layout is looked for on."""
    if count <= WHOLE_PAGES:
        return range(count)
    return set(range(END_PAGES)) | set(range(count - END_PAGES, count))


def read_layout_text(pdf: bytes, max_pages: int = 1000) -> DocumentText:
    """The text of the pages :func:`layout_pages` names (one pdfminer pass; the same
    text serves the draft-mark reader and the fields' ink), every page's size, and
    `PdfUnreadable` past ``max_pages`` pages."""
    if len(pdf) > MAX_PDF_BYTES:
        raise PdfUnreadable(f"lớn hơn {MAX_PDF_BYTES // 2**20} MB",
                            f"larger than {MAX_PDF_BYTES // 2**20} MB")
    return read_pages(pdf, layout_pages, max_pages)


def _page(text: PageText) -> _Page:
    rows = tuple(tuple(_segments(text.index, row)) for row in _rows(_glyphs(text.glyphs)))
    return _Page(text.index, text.width, text.height, tuple(r for r in rows if r))


def _joined(row: Sequence[_Segment], start: int, count: int) -> _Segment | None:
    """Segments start..start+count-1 of a row as one, if they are close enough to be one
    line whose blank was typed very wide."""
    parts = row[start:start + count]
    if len(parts) < count:
        return None
    for left, right in zip(parts, parts[1:], strict=False):
        if right.ink[0].x0 - left.ink[-1].x1 > _JOIN_GAP:
            return None
    return _Segment(parts[0].page, tuple(g for part in parts for g in part.glyphs))


def _blank_box(segment: _Segment, left: float, right: float) -> Box:
    """The box from ``left`` to ``right`` (x) at the segment's line height: a blank has no
    ink of its own to measure."""
    line = segment.box
    return Box(line.page, left, line.y0, max(right, left), line.y1)


def _char_x0(segment: _Segment, owners: list[int], index: int) -> float:
    return segment.glyphs[owners[index]].x0


def _char_x1(segment: _Segment, owners: list[int], index: int) -> float:
    return segment.glyphs[owners[index]].x1


# --------------------------------------------------------------------------- number line


def _number_line(segment: _Segment, page: _Page) -> NumberLine | None:
    """Read a ``Số: … /SYMBOL`` segment; None if the segment has another shape (the
    electronic-copy stamp ``Số: …; ngày/tháng/năm; giờ…``, ``Số hộ nghèo``, body text)."""
    text, owners = _spell(segment.glyphs)
    match = _NUMBER.match(text.strip())
    if match is None:
        return None
    offset = len(text) - len(text.lstrip())
    blank = match.group("blank")
    symbol = match.group("symbol")
    if any(c.isalpha() for c in blank) or (symbol is None and not _PLACEHOLDER.match(blank)):
        return None
    if segment.box.center[0] > page.width * 0.6:  # the number is in the left header column
        return None
    label_end = offset + match.end("label") - 1
    left = _char_x1(segment, owners, label_end)
    if symbol is not None:
        right = _char_x0(segment, owners, offset + match.start("symbol") - 1)
    else:  # `Số:` and nothing to measure: leave room for a number of a few digits
        right = max(segment.glyphs[-1].x1, left + 5 * segment.size)
    clean = " ".join(symbol.split()) if symbol is not None else ""
    return NumberLine(
        line=segment.box,
        blank=_blank_box(segment, left, right),
        symbol=clean if any(c.isalpha() for c in clean) else None,
        text=segment.text,
        baseline=segment.baseline,
        font_size=segment.size,
    )


def _number_candidates(page: _Page) -> Iterator[NumberLine]:
    """Number lines of a page, top to bottom; a ``Số:`` whose ``/SYMBOL`` was pushed
    beyond a wide blank is joined with it."""
    for row in page.rows:
        for start in range(len(row)):
            found = _number_line(row[start], page)
            if found is not None and found.symbol is None and "/" not in found.text:
                wider = _joined(row, start, 2)
                longer = _number_line(wider, page) if wider is not None else None
                if longer is not None and "/" in longer.text:
                    found = longer
            if found is not None:
                yield found


# --------------------------------------------------------------------------- date line


def _date_line(segment: _Segment) -> DateLine | None:
    """Read a ``<place>, ngày … tháng … năm …`` segment. Body dates (``Căn cứ … ngày 16
    tháng 6 năm 2025;``, ``Thời gian: …, ngày``, ``(Kèm theo … ngày …``) do not fit: the
    place is short, has no digit, colon or bracket, and nothing follows the year."""
    text, owners = _spell(segment.glyphs)
    stripped = text.strip()
    offset = len(text) - len(text.lstrip())
    match = _DATE.match(stripped)
    if match is None:
        return None

    def slot(after: str, before: str) -> Box:
        left = _char_x1(segment, owners, offset + match.end(after) - 1)
        right = _char_x0(segment, owners, offset + match.start(before))
        return _blank_box(segment, left, right)

    def blank(after: str, before: str, content: str) -> Box | None:
        if any(c.isdigit() for c in match.group(content)):
            return None  # already filled in
        return slot(after, before)

    year = match.group("year").strip()
    return DateLine(
        line=segment.box,
        place=" ".join(match.group("place").split()),
        day_blank=blank("ngay", "thang", "day"),
        month_blank=blank("thang", "nam", "month"),
        year=year if any(c.isdigit() for c in year) else None,
        text=segment.text,
        baseline=segment.baseline,
        font_size=segment.size,
        year_box=_year_box(segment, owners, offset, match),
        day_box=_roomy(slot("ngay", "thang"), segment.size),
        month_box=_roomy(slot("thang", "nam"), segment.size),
    )


#: A day or month slot must be this wide (font sizes) to take two digits between spaces.
_DAY_ROOM = 1.5


def _roomy(box: Box, size: float) -> Box | None:
    return box if box.width >= _DAY_ROOM * size else None


#: Room for a four-digit year (font sizes), and the word space kept after ``năm``.
_YEAR_ROOM = 2.2
_YEAR_SPACE = 0.25


def _year_box(segment: _Segment, owners: list[int], offset: int,
              match: re.Match[str]) -> Box:
    """Where the year is printed: its ink (digits, or a placeholder's dots) after ``năm``,
    at least as wide as four digits and a word space away from ``năm`` (a template may
    glue its dots to the word)."""
    size = segment.size
    left = _char_x1(segment, owners, offset + match.end("nam") - 1) + _YEAR_SPACE * size
    start, end = offset + match.start("year"), offset + match.end("year")
    ink = [segment.glyphs[owners[i]] for i in range(start, end)
           if owners[i] >= 0 and not segment.glyphs[owners[i]].blank]
    x0 = max(min(g.x0 for g in ink), left) if ink else left
    x1 = max(max(g.x1 for g in ink) if ink else x0, x0 + _YEAR_ROOM * size)
    return _blank_box(segment, x0, x1)


def _date_candidates(page: _Page) -> Iterator[DateLine]:
    """Date lines of a page, top to bottom; a date cut by a very wide blank is rejoined."""
    for row in page.rows:
        for start in range(len(row)):
            for count in (1, 2, 3):
                joined = _joined(row, start, count)
                found = _date_line(joined) if joined is not None else None
                if found is not None:
                    yield found
                    break


def _header_date(candidates: list[DateLine], number: NumberLine | None) -> DateLine | None:
    """The header's date: the one beside the number line (same page, right of it, a few
    points up or down), else the first in reading order."""
    if number is not None:
        beside = [d for d in candidates
                  if d.line.page == number.line.page and d.line.x0 >= number.line.x1 - 1
                  and abs(d.baseline - number.baseline) <= 3 * number.font_size]
        if beside:
            return min(beside, key=lambda d: abs(d.baseline - number.baseline))
    return candidates[0] if candidates else None


# --------------------------------------------------------------------------- signature


def _is_title(segment: _Segment) -> bool:
    """Capitals only (``KT. CHỦ TỊCH``, ``QUYỀN HẠN, CHỨC VỤ CỦA NGƯỜI KÝ``), bold."""
    text = segment.text
    letters = [c for c in text if c.isalpha()]
    return (len(letters) >= 2 and len(text) <= 60 and all(c.isupper() for c in letters)
            and all(c.isalpha() or c in " .,-" for c in text) and segment.bold)


def _is_name(segment: _Segment) -> bool:
    """A Vietnamese full name in bold title case (``Nguyễn Văn Hùng``), or the templates'
    placeholder ``Họ và tên``."""
    text = segment.text
    if not segment.bold:
        return False
    if text == _NAME_PLACEHOLDER:
        return True
    words = text.split()
    return (2 <= len(words) <= 6 and words[0] not in _STRUCTURE_WORDS
            and all(w.isalpha() and w[0].isupper() and (len(w) == 1 or w[1:].islower())
                    for w in words))


def _same_column(a: _Segment, b: _Segment) -> bool:
    return abs(a.box.center[0] - b.box.center[0]) <= _COLUMN_SLACK


def _above_in_column(page: _Page, below: _Segment) -> list[_Segment]:
    """Segments of the page above ``below`` and in its column, nearest first."""
    over = [s for s in page.segments if s.baseline > below.baseline + _ROW_TOLERANCE
            and _same_column(s, below)]
    return sorted(over, key=lambda s: s.baseline)


def _is_aside(segments: Sequence[_Segment], name: _Segment) -> bool:
    """What may stand between titles and name: a parenthesised instruction such as
    ``(Chữ ký của người có thẩm quyền, / dấu/chữ ký số của cơ quan, tổ chức)``, or
    superscript footnote marks."""
    words = [s for s in segments if s.size >= 0.75 * name.size]
    if not words:
        return True
    text = " ".join(s.text for s in reversed(words))  # top to bottom
    return text.startswith("(") and text.endswith(")")


def _signature_at(page: _Page, name: _Segment) -> SignatureBlock | None:
    """The block whose name is ``name``: capitals lines stacked above it with room for the
    signature in between."""
    above = _above_in_column(page, name)
    last = next((i for i, s in enumerate(above) if _is_title(s)), None)
    if last is None or not _is_aside(above[:last], name):
        return None
    gap = above[last].box.y0 - name.box.y1
    if not _MIN_SIGNING_GAP <= gap <= _MAX_SIGNING_GAP:
        return None
    titles = [above[last]]
    for segment in above[last + 1:]:
        lower = titles[-1]
        if segment.baseline - lower.baseline > _TITLE_PITCH * lower.size:
            break
        if not (_is_title(segment) and _same_column(segment, lower)):
            break
        titles.append(segment)
    titles.reverse()
    return _block(titles, name, aside=above[:last])


def _block(titles: list[_Segment], name: _Segment, aside: list[_Segment]) -> SignatureBlock:
    texts = tuple(t.text for t in titles)
    designation = None
    for text in texts:
        match = _DESIGNATION.match(text)
        if match:
            designation = match.group("prefix") + "."
    boxes = tuple(t.box for t in titles)
    name_box = name.box
    top = min([boxes[-1].y0] + [s.box.y0 for s in aside])
    area = Box(name_box.page, min([b.x0 for b in boxes] + [name_box.x0]), name_box.y1,
               max([b.x1 for b in boxes] + [name_box.x1]), top)
    return SignatureBlock(titles=texts, title_boxes=boxes, designation=designation,
                          name=name.text, name_box=name_box, signing_area=area)


_RECIPIENTS_HEAD = re.compile(r"^nơi nhận\s*:?$", re.IGNORECASE)
_BULLETS = ("-", "–", "—", "+", "•")


def _recipients(pages: Sequence[_Page]) -> tuple[str, ...]:
    """The "Nơi nhận:" list (Decree 30 Appendix I: bottom left of the last page, one
    recipient a line after a dash, beside the signature block). A line that wraps is
    joined to its recipient; the list ends at the first left-hand line that is neither."""
    for page in reversed(pages):
        for at, row in enumerate(page.rows):
            head = row[0]
            if not _RECIPIENTS_HEAD.match(unicodedata.normalize("NFC", head.text).strip()):
                continue
            middle = page.width / 2
            lines: list[str] = []
            for following in page.rows[at + 1:]:
                left = following[0]
                if left.box.x0 >= middle:
                    continue  # the signature block's column alone on this row
                text = left.text.strip()
                if text.startswith(_BULLETS):
                    lines.append(text.lstrip("".join(_BULLETS) + " ").strip())
                elif lines and left.box.x0 > head.box.x0 + 2:
                    lines[-1] = f"{lines[-1]} {text}"
                else:
                    break
            return tuple(line for line in lines if line)
    return ()


def _signatures(pages: Sequence[_Page]) -> list[SignatureBlock]:
    """Every signature block of the document, in reading order."""
    found = []
    for page in pages:
        for segment in page.segments:
            if _is_name(segment):
                block = _signature_at(page, segment)
                if block is not None:
                    found.append(block)
    return found


# --------------------------------------------------------------------------- public


def locate(pdf: bytes, *, max_pages: int = 1000) -> DraftLayout:
    """Find the header's number line and date line and the signature block of a draft.

    The number line is the first ``Số:`` line in reading order (the main header comes
    before any attachment's); the date is the ``<place>, ngày …`` line beside it. The
    signature is reported only when the draft has exactly one block on the pages read
    (:func:`layout_pages`). Raises `PdfUnreadable` / `PdfEncrypted` for PDFs that cannot
    be read.
    """
    return layout_of(read_layout_text(pdf, max_pages))


def layout_of(document: DocumentText) -> DraftLayout:
    """:func:`locate` on text already read with :func:`read_layout_text`."""
    pages = [_page(text) for text in document.texts]
    number = next((n for page in pages for n in _number_candidates(page)), None)
    dates = [d for page in pages for d in _date_candidates(page)]
    blocks = _signatures(pages)
    return DraftLayout(
        pages=len(document.sizes),
        page_sizes=document.sizes,
        number=number,
        date=_header_date(dates, number),
        signature=blocks[0] if len(blocks) == 1 else None,
        signatures=tuple(blocks),
        recipients=_recipients(pages),
    )


def require_signature_block(layout: DraftLayout) -> SignatureBlock:
    """The draft's signature block, or `DraftHasNoSignatureBlock` (none, or several)."""
    if layout.signature is None:
        raise DraftHasNoSignatureBlock(len(layout.signatures))
    return layout.signature
