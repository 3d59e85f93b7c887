"""Prepare a draft before its first signature: refuse what cannot be signed, add every field.

After the first signature only an incremental update that fills existing fields
(and adds signatures to existing signature fields) keeps earlier signatures valid,
so ALL fields the later steps fill — the number, the day, month and year of the
date line, the person's and the organisation's signature fields — are added here,
on the unsigned draft, with pikepdf.

The number and date fields are white-backed (/MK /BG), and what the draft printed
under them — the year it was written in, a template's dots — is taken out of the
page content (:mod:`signer.textlayer`), so the issued page and its text layer say
only the clerk's number and the date of issue. A year that cannot be covered
refuses the draft.

Locks: the person's signature is an approval signature without DocMDP and without a
field lock, because the organisation signature, attachments and electronic copies
add signatures later (a certification, or a lock on "every other field", would make
each of those a violation). The organisation's signature field carries a FieldMDP
lock on the number, day, month and year, so once issued they cannot be written again.
pyHanko's validator still flags any change beyond form filling and signatures.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from certs import Category

from .errors import (
    CannotErase,
    DraftMarked,
    MarkNotCovered,
    PdfEncrypted,
    PdfUnreadable,
    SignerError,
    YearNotCovered,
)
from .locate import Box, DraftLayout, require_signature_block
from .marks import DraftMark, find_draft_marks, remove_mark_annotations
from .qr import add_qr
from .sign import APPROVAL_FIELD, DA_FONT_KEYS
from .textlayer import Glyph, PageText, erase_glyphs, read_text

NUMBER_FIELD = "KySo_So"
DAY_FIELD = "KySo_Ngay"
MONTH_FIELD = "KySo_Thang"
YEAR_FIELD = "KySo_Nam"
PERSON_FIELD = APPROVAL_FIELD
ORGANISATION_FIELD = "KySo_CoQuan"
CLERK_FIELDS = (NUMBER_FIELD, DAY_FIELD, MONTH_FIELD, YEAR_FIELD)
#: What a clerk's field may cover and so take out of the page: digits (the year the
#: draft was written in) and a template's placeholder dots. Letters are never erased.
COVERABLE = frozenset("0123456789.…_-–·")

Rect = tuple[float, float, float, float]

#: A commune People's Committee seal is about 36 mm across; shown at its real size.
SEAL_PT = 36 / 25.4 * 72
#: Room under the seal image for the body's name and the signing time (two 6 pt lines).
SEAL_TEXT_PT = 16
#: Width / height of the handwritten-signature image (50 × 20 mm by default).
SIGNATURE_ASPECT = 2.5


class DraftRefused(SignerError):
    """A draft that must not be signed, with the reason."""

    category = Category.BAD_INPUT


@dataclass(frozen=True)
class Place:
    """Where a field goes: page index (0-based) and rectangle (x1, y1, x2, y2) in points.

    ``font`` and ``size`` say how a text field's content is to be written (they are
    kept in the field's default appearance, /DA, until the clerk fills it).
    """

    page: int
    rect: Rect
    font: str = "Times-Roman"
    size: float = 13

    @classmethod
    def of(cls, box: Box, font: str = "Times-Roman", size: float = 13) -> Place:
        return cls(box.page, (box.x0, box.y0, box.x1, box.y1), font, size)

    def int_rect(self) -> tuple[int, int, int, int]:
        x1, y1, x2, y2 = self.rect
        return round(x1), round(y1), round(x2), round(y2)


@dataclass(frozen=True)
class FieldPlan:
    """Every field of a prepared document. Number and date places are optional
    (a draft may print them differently); the two signature places are not."""

    person: Place
    organisation: Place
    number: Place | None = None
    day: Place | None = None
    month: Place | None = None
    year: Place | None = None

    def text_fields(self) -> list[tuple[str, Place]]:
        pairs = [(NUMBER_FIELD, self.number), (DAY_FIELD, self.day), (MONTH_FIELD, self.month),
                 (YEAR_FIELD, self.year)]
        return [(name, place) for name, place in pairs if place is not None]


@dataclass(frozen=True)
class DraftLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 300


_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/Rendition", "/SubmitForm"}


def _refuse(vi: str, en: str) -> DraftRefused:
    return DraftRefused(vi, en)


def _open(pdf: bytes, limits: DraftLimits) -> Any:
    import pikepdf

    if len(pdf) > limits.max_bytes:
        raise _refuse(f"tệp lớn hơn giới hạn {limits.max_bytes // (1024 * 1024)} MB",
                      f"the file is larger than {limits.max_bytes // (1024 * 1024)} MB")
    if not pdf.lstrip()[:5].startswith(b"%PDF-"):
        raise PdfUnreadable("không phải tệp PDF / not a PDF file")
    try:
        doc = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PasswordError as exc:
        raise PdfEncrypted() from exc
    except pikepdf.PdfError as exc:
        raise PdfUnreadable(str(exc).splitlines()[0][:120]) from exc
    if doc.is_encrypted:
        raise PdfEncrypted()
    return doc


def plan_fields(layout: DraftLayout, *, signature_aspect: float = SIGNATURE_ASPECT,
                seal_pt: float = SEAL_PT) -> FieldPlan:
    """Where every field goes, from a located draft (Appendix I).

    The handwritten-signature field is centred between the title and the name; the
    seal (at its real size, with its caption below) covers the left third of that
    image; number, day and month go into the blanks of the header, in the line's own
    size (the date line is italic).
    """
    block = require_signature_block(layout)
    title, name = block.title_boxes[-1], block.name_box
    # the whole room from the name up to the title: a template's "(Chữ ký, dấu)" note
    # stands there only to be signed over
    low, high = name.y1 + 2, title.y0 - 2
    centre_x = (title.center[0] + name.center[0]) / 2
    height = max(high - low, 20.0)
    width = height * signature_aspect
    centre_y = (low + high) / 2
    person = Place(name.page, (centre_x - width / 2, centre_y - height / 2,
                               centre_x + width / 2, centre_y + height / 2))
    seal_right = person.rect[0] + width / 3
    seal_bottom = centre_y - seal_pt / 2 - SEAL_TEXT_PT
    organisation = Place(name.page, (seal_right - seal_pt, seal_bottom, seal_right,
                                     seal_bottom + seal_pt + SEAL_TEXT_PT))
    number = day = month = year = None
    if layout.number is not None:
        number = Place.of(layout.number.blank, "Times-Roman", layout.number.font_size)
    if layout.date is not None:
        size = layout.date.font_size
        # a day or month typed in the draft is covered too: the page prints the date of
        # issue, whole
        day_box = layout.date.day_box or layout.date.day_blank
        month_box = layout.date.month_box or layout.date.month_blank
        if day_box is not None:
            day = Place.of(day_box, "Times-Italic", size)
        if month_box is not None:
            month = Place.of(month_box, "Times-Italic", size)
        if layout.date.year_box is not None:
            year = Place.of(layout.date.year_box, "Times-Italic", size)
    return FieldPlan(person=person, organisation=organisation, number=number, day=day,
                     month=month, year=year)


def check_date_covered(layout: DraftLayout, plan: FieldPlan) -> None:
    """Refuse a plan that would leave the draft's printed year under no field: the
    issued page must show the date of issue whole (day, month and year)."""
    date = layout.date
    if date is not None and date.year is not None and plan.year is None:
        raise YearNotCovered(date.text, date.line.page + 1)




def _active_content(doc: Any) -> str | None:
    """The first JavaScript, launch or similar action found anywhere in the file.

    Every indirect object is visited, and within it every direct dictionary or
    array (an /OpenAction or /AA is often written inline).
    """
    import pikepdf

    if "/Names" in doc.Root and "/JavaScript" in doc.Root.Names:
        return "/JavaScript"
    pending: list[Any] = [doc.Root, doc.trailer, *doc.objects]
    while pending:
        obj = pending.pop()
        if isinstance(obj, pikepdf.Dictionary):
            if "/JS" in obj:
                return "/JavaScript"
            action = obj.get("/S")
            if action is not None and str(action) in _ACTIVE_ACTIONS:
                return str(action)
            children = obj.values()
        elif isinstance(obj, pikepdf.Array):
            children = list(obj)
        else:
            continue
        pending.extend(c for c in children
                       if isinstance(c, pikepdf.Dictionary | pikepdf.Array) and not c.is_indirect)
    return None


def _signature_fields(doc: Any) -> list[tuple[str, bool]]:
    """(name, signed) for every signature field."""
    out: list[tuple[str, bool]] = []
    try:
        fields = doc.Root.AcroForm.Fields
    except AttributeError:
        return out
    stack = list(fields)
    while stack:
        field = stack.pop()
        stack.extend(field.get("/Kids", []))
        if field.get("/FT") == "/Sig":
            out.append((str(field.get("/T", "")), "/V" in field))
    return out


def check_draft(pdf: bytes, limits: DraftLimits = DraftLimits(),
                allow_signatures: bool = False) -> None:
    """Refuse a draft that cannot or must not be signed, saying why."""
    with _open(pdf, limits) as doc:
        _check_open(doc, limits, allow_signatures)


def _check_open(doc: Any, limits: DraftLimits, allow_signatures: bool) -> None:
    pages = len(doc.pages)
    if pages == 0:
        raise _refuse("tệp PDF không có trang nào", "the PDF has no page")
    if pages > limits.max_pages:
        raise _refuse(f"tệp có {pages} trang, quá giới hạn {limits.max_pages} trang",
                      f"the file has {pages} pages, more than the limit of {limits.max_pages}")
    active = _active_content(doc)
    if active is not None:
        raise _refuse(f"tệp chứa mã/lệnh tự chạy ({active}) — không được ký",
                      f"the file contains active content ({active}) — refused")
    if not allow_signatures and any(signed for _, signed in _signature_fields(doc)):
        raise _refuse("tệp đã có chữ ký số — dự thảo phải chưa được ký",
                      "the file is already signed — a draft must be unsigned")


def _lock(doc: Any, action: str, fields: Iterable[str]) -> Any:
    import pikepdf

    return pikepdf.Dictionary(Type=pikepdf.Name.SigFieldLock, Action=pikepdf.Name(action),
                              Fields=pikepdf.Array([pikepdf.String(f) for f in fields]))


def _index(place: Place, pages: int) -> int:
    """The place's page, 0-based (a negative page counts from the end)."""
    return place.page if place.page >= 0 else pages + place.page


def _page_of(doc: Any, place: Place) -> Any:
    pages = doc.pages
    index = _index(place, len(pages))
    if not 0 <= index < len(pages):
        raise _refuse(f"trang {place.page + 1} không có trong tệp",
                      f"page {place.page + 1} is not in the file")
    return pages[index]


def _add_widget(doc: Any, place: Place, **entries: Any) -> None:
    import pikepdf

    page = _page_of(doc, place)
    widget = doc.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, F=4,
        Rect=pikepdf.Array(list(place.rect)), P=page.obj, **entries))
    if "/Annots" not in page.obj:
        page.obj.Annots = pikepdf.Array()
    page.obj.Annots.append(widget)
    doc.Root.AcroForm.Fields.append(widget)


def _on_first_page(plan: FieldPlan, pages: int) -> dict[str, Rect]:
    """The planned fields that sit on page 1 (where the QR code goes)."""
    places = [(PERSON_FIELD, plan.person), (ORGANISATION_FIELD, plan.organisation),
              *plan.text_fields()]
    return {name: place.rect for name, place in places
            if _index(place, pages) == 0}


def prepare_draft(pdf: bytes, plan: FieldPlan, limits: DraftLimits = DraftLimits(), *,
                  qr_text: str | None = None, cover_draft_mark: bool = False) -> bytes:
    """Check ``pdf`` and return it with every field of ``plan`` added (a rewrite: no
    signature exists yet).

    A draft still marked "DỰ THẢO" (:mod:`signer.marks`) is refused (`DraftMarked`,
    naming each mark and where it is) unless ``cover_draft_mark``: then the marks are
    taken out of the pages (their glyphs from the content, their annotations), and the
    result is read again to be sure none is left (`MarkNotCovered` otherwise).

    ``qr_text`` (the document's verification link): also paint its QR code and the
    caption "Kiểm tra văn bản: <link>" in page 1's bottom-left margin
    (:mod:`signer.qr`), as page content — it must be there before the first signature.
    """
    import pikepdf

    with _open(pdf, limits) as doc:
        _check_open(doc, limits, allow_signatures=False)
        existing = {name for name, _ in _signature_fields(doc)}
        if {PERSON_FIELD, ORGANISATION_FIELD} & existing:
            raise _refuse("dự thảo đã được chuẩn bị rồi", "the draft is already prepared")
        texts = read_text(pdf)  # every page, once: marks anywhere, ink under the fields
        marks = find_draft_marks(pdf, texts)
        if marks and not cover_draft_mark:
            raise DraftMarked.of(marks)
        remove_mark_annotations(doc, marks)
        if "/AcroForm" not in doc.Root:
            doc.Root.AcroForm = doc.make_indirect(pikepdf.Dictionary(Fields=pikepdf.Array()))
        form = doc.Root.AcroForm
        if "/Fields" not in form:
            form.Fields = pikepdf.Array()
        form.NeedAppearances = False
        form.DR = pikepdf.Dictionary(Font=pikepdf.Dictionary(**{
            key: doc.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                BaseFont=pikepdf.Name("/" + name), Encoding=pikepdf.Name.WinAnsiEncoding))
            for name, key in DA_FONT_KEYS.items()}))
        form.DA = pikepdf.String("/TiRo 13 Tf 0 g")

        _add_widget(doc, plan.person, FT=pikepdf.Name.Sig, T=pikepdf.String(PERSON_FIELD))
        _add_widget(doc, plan.organisation, FT=pikepdf.Name.Sig,
                    T=pikepdf.String(ORGANISATION_FIELD),
                    Lock=_lock(doc, "/Include", CLERK_FIELDS))
        for name, place in plan.text_fields():
            font = DA_FONT_KEYS.get(place.font, "TiRo")
            # white-backed: the filled value hides whatever still shows under it
            _add_widget(doc, place, FT=pikepdf.Name.Tx, T=pikepdf.String(name),
                        DA=pikepdf.String(f"/{font} {place.size:g} Tf 0 g"),
                        MK=pikepdf.Dictionary(BG=pikepdf.Array([1])))
        covered = _take_out(doc, texts, plan, marks)
        pages = len(doc.pages)
        if qr_text is not None:
            add_qr(doc, qr_text, avoid=_on_first_page(plan, len(doc.pages)))
        out = io.BytesIO()
        doc.save(out)
    prepared = out.getvalue()
    if covered or marks:
        _check_covered(prepared, plan, pages, marks)
    return prepared


def _under(place: Place, glyphs: Iterable[Glyph]) -> list[Glyph]:
    """The coverable ink (digits, placeholder dots) whose centre the field covers
    (``glyphs`` are of the field's page)."""
    x1, y1, x2, y2 = place.rect
    return [g for g in glyphs if not g.blank
            and all(c in COVERABLE for c in g.text)
            and x1 - 0.5 <= g.center[0] <= x2 + 0.5 and y1 - 0.5 <= g.center[1] <= y2 + 0.5]


def _take_out(doc: Any, texts: Sequence[PageText], plan: FieldPlan,
              marks: Sequence[DraftMark]) -> bool:
    """Take out of the page content what the number and date fields cover — so neither
    the page nor its text layer keeps the draft's year or a template's dots — and the
    glyphs of the draft marks being covered; each page's content is rewritten once. A
    year or a mark that cannot be taken out refuses the draft; dots that cannot stay
    under the fields' white background. Returns whether anything was erased."""
    fields = plan.text_fields()
    count = len(doc.pages)
    erased = False
    for text in texts:
        under = {name: _under(place, text.glyphs) for name, place in fields
                 if _index(place, count) == text.index}
        marked = [m for m in marks if m.page == text.index and m.glyphs]
        glyphs = {g for found in under.values() for g in found}
        glyphs.update(g for m in marked for g in m.glyphs)
        if not glyphs:
            continue
        try:
            erased |= erase_glyphs(doc, text, glyphs) > 0
        except CannotErase as exc:
            if marked:
                raise MarkNotCovered(marked[0].where_vi, marked[0].where_en, exc.vi,
                                     exc.en) from exc
            digits = [g for g in under.get(YEAR_FIELD, []) if g.text.isdigit()]
            if digits:
                year = "".join(g.text for g in digits)
                raise YearNotCovered(f"… năm {year}", text.index + 1, exc.vi,
                                     exc.en) from exc
    return erased


def _check_covered(prepared: bytes, plan: FieldPlan, pages: int,
                   marks: Sequence[DraftMark]) -> None:
    """The prepared file shows no digit of the draft's own under the year field, and no
    draft mark when marks were covered."""
    wanted = None if marks else {_index(plan.year, pages)} if plan.year else set()
    texts = read_text(prepared, wanted)
    if plan.year is not None:
        (text,) = [t for t in texts if t.index == _index(plan.year, pages)]
        left = [g for g in _under(plan.year, text.glyphs) if g.text.isdigit()]
        if left:
            raise YearNotCovered(f"… năm {''.join(g.text for g in left)}", text.index + 1,
                                 "năm cũ vẫn còn trong nội dung trang",
                                 "the old year is still in the page content")
    if marks:
        still = find_draft_marks(prepared, texts)
        if still:
            raise MarkNotCovered(still[0].where_vi, still[0].where_en,
                                 "dấu vẫn còn sau khi che", "the mark is still there")


def clerk_fields(pdf: bytes) -> dict[str, str | None]:
    """The clerk's text fields a prepared (or signed, or issued) file has, with their
    values (None while empty). Read only: safe on signed files."""
    from .pdfinput import open_reader

    reader = open_reader(pdf)
    found: dict[str, str | None] = {}
    try:
        stack = list(reader.root["/AcroForm"]["/Fields"])
    except KeyError:
        return found
    while stack:
        field = stack.pop().get_object()
        stack.extend(field.get("/Kids", []))
        name = str(field.get("/T", ""))
        if name in CLERK_FIELDS and field.get("/FT") == "/Tx":
            value = field.get("/V")
            found[name] = str(value) if value is not None else None
    return found
