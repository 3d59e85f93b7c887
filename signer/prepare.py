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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import (
    CannotErase,
    DraftMarked,
    MarkNotCovered,
    PdfHostile,
    YearNotCovered,
)
from .errors import DraftRefused as DraftRefused  # re-exported: callers import it from here
from .guard import PdfLimits, check_structure, containers, fields, open_pdf
from .locate import Box, DraftLayout, layout_of, read_layout_text, require_signature_block
from .marks import (
    MARK_ANNOTATIONS,
    DraftMark,
    find_draft_marks,
    is_mark_annotation,
    remove_mark_annotations,
)
from .pdfinput import MAX_PDF_BYTES, UPLOADED
from .qr import add_qr
from .sign import APPROVAL_FIELD, DA_FONT_KEYS
from .textlayer import DocumentText, Glyph, PageText, erase_glyphs, read_text

if TYPE_CHECKING:
    import pikepdf

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


#: The limits of a draft (the same bounds as every PDF; drafts get ``max_pages``).
DraftLimits = PdfLimits
DRAFT_LIMITS = PdfLimits()
#: The limits of an attachment (an annex, often a scan), signed as it is: the 100 MB a PDF
#: may have and the pages verification accepts (``signer.VERIFY_LIMITS``), so that what is
#: signed can be verified. Its page images are not inflated: the file is extended with an
#: incremental update, never rewritten, and nothing decodes them (an image stays bounded
#: by its declared size), as for verification; active content is refused as in a draft.
ATTACHMENT_LIMITS = PdfLimits(max_bytes=MAX_PDF_BYTES, max_pages=5000, inflate_images=False)

#: Annotation subtypes an official document may carry (links, form fields and their pop-ups).
ANNOTATIONS = frozenset({"/Link", "/Widget", "/Popup"})
#: Names of /Names trees allowed in the catalog (named destinations, appearance streams).
ROOT_NAMES = frozenset({"/Dests", "/AP"})
#: Schemes a /URI action of a link may open.
URI_SCHEMES = ("http://", "https://", "mailto:")
#: Every action type of PDF 2.0 (a dictionary with /S among these is an action).
ACTION_TYPES = frozenset({
    "/GoTo", "/GoToR", "/GoToE", "/GoToDp", "/Launch", "/Thread", "/URI", "/Sound",
    "/Movie", "/Hide", "/Named", "/SubmitForm", "/ResetForm", "/ImportData", "/JavaScript",
    "/SetOCGState", "/Rendition", "/Trans", "/GoTo3DView", "/RichMediaExecute"})
#: Dictionary types and keys that carry files, scripts or media, refused wherever found.
_FORBIDDEN_TYPES = {"/EmbeddedFile": "tệp nhúng / embedded file",
                    "/RichMediaContent": "RichMedia", "/3DView": "3D", "/Rendition": "Rendition",
                    "/MediaClip": "media", "/Sound": "Sound", "/Movie": "Movie"}
_FORBIDDEN_KEYS = {"/JS": "JavaScript", "/AA": "hành động bổ sung / additional actions (/AA)",
                   "/EF": "tệp nhúng / embedded file (/EF)",
                   "/AF": "tệp đính kèm / associated files (/AF)",
                   "/EmbeddedFiles": "tệp nhúng / embedded files",
                   "/XFA": "biểu mẫu XFA / XFA form",
                   "/RichMediaContent": "RichMedia", "/3DD": "3D", "/Movie": "Movie",
                   "/Sound": "Sound"}


def _refuse(vi: str, en: str) -> DraftRefused:
    return DraftRefused(vi, en)


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




def _active(what: str | tuple[str, str], where_vi: str, where_en: str) -> PdfHostile:
    vi_what, _, en_what = what.partition(" / ") if isinstance(what, str) else (
        what[0], "", what[1])
    return PdfHostile("active",
                      f"tệp chứa nội dung tự chạy hoặc không được phép trong văn bản chính thức: "
                      f"{vi_what} ({where_vi}) — không được ký",
                      f"the file contains active content not allowed in an official "
                      f"document: {en_what or vi_what} ({where_en}) — refused")


def _place(holder: pikepdf.Object, annot_pages: dict[tuple[int, int], int]) -> tuple[str, str]:
    objgen = getattr(holder, "objgen", (0, 0))
    page = annot_pages.get(objgen)
    if page is not None:
        return f"trang {page + 1}, đối tượng {objgen[0]}", f"page {page + 1}, object {objgen[0]}"
    if objgen == (0, 0):
        return "danh mục tài liệu", "document catalog"
    return f"đối tượng {objgen[0]}", f"object {objgen[0]}"


def _is_destination(value: pikepdf.Object | None) -> bool:
    import pikepdf

    return isinstance(value, pikepdf.Array | pikepdf.Name | pikepdf.String)


def _check_action(action: pikepdf.Object, *, in_link: bool) -> tuple[str, str] | None:
    """What is wrong with an action (None: allowed). Allowed: GoTo to a destination in
    this file; URI with http/https/mailto, only as a link's action; no chained /Next."""
    import pikepdf

    if _is_destination(action):
        return None
    if not isinstance(action, pikepdf.Dictionary):
        return "hành động không hợp lệ", "an invalid action"
    kind = str(action.get("/S", ""))
    if "/Next" in action:
        return f"chuỗi hành động ({kind} /Next)", f"chained actions ({kind} /Next)"
    if kind == "/GoTo" and _is_destination(action.get("/D")):
        return None
    if kind == "/URI" and in_link:
        uri = action.get("/URI")
        target = bytes(uri).decode("latin-1").strip().lower() if isinstance(
            uri, pikepdf.String) else ""
        if target.startswith(URI_SCHEMES):
            return None
        return f"liên kết tới {target[:60]!r}", f"a link to {target[:60]!r}"
    return f"hành động {kind or '?'}", f"the action {kind or '?'}"


def _mark(annot: pikepdf.Object) -> bool:
    """A "DỰ THẢO" stamp or note (:func:`signer.marks.is_mark_annotation`): not active
    content but a draft mark, which preparing refuses by name or takes off the page
    (``cover_draft_mark``) — it never reaches a signature. Its actions are still checked."""
    return str(annot.get("/Subtype", "")) in MARK_ANNOTATIONS and is_mark_annotation(annot)


def _active_content(doc: pikepdf.Pdf, limits: PdfLimits, draft_marks: bool = False) -> None:
    """Refuse anything outside the allow-list of an official document (see the module
    constants): the first offence, with what it is and where (page, object). With
    ``draft_marks``, "DỰ THẢO" stamps and notes (:func:`_mark`) are allowed."""
    import pikepdf

    def allowed(annot: pikepdf.Object) -> bool:
        return annot.get("/Subtype") in ANNOTATIONS or (draft_marks and _mark(annot))

    root = doc.Root
    annot_pages: dict[tuple[int, int], int] = {}
    for index, page in enumerate(doc.pages):
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            for annot in annots:
                if isinstance(annot, pikepdf.Dictionary):
                    annot_pages.setdefault(annot.objgen, index)
                    if not allowed(annot):
                        raise _active(f"chú thích / annotation {annot.get('/Subtype')}",
                                      *_place(annot, annot_pages))
    if "/OpenAction" in root:
        problem = _check_action(root.OpenAction, in_link=False)
        if problem is not None:
            raise _active((f"{problem[0]} khi mở tệp", f"{problem[1]} when the file opens"),
                          "/OpenAction", "/OpenAction")
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key in list(names.keys()):
            if key not in ROOT_NAMES:
                raise _active(f"cây tên / name tree {key}", "/Names", "/Names")
    for key in ("/Collection", "/Threads"):
        if key in root:
            raise _active(f"danh mục / catalog {key}", key, key)
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary) and "/XFA" in form:
        raise _active("biểu mẫu XFA / XFA form", "/AcroForm", "/AcroForm")
    for holder, item in containers(doc, limits):
        if not isinstance(item, pikepdf.Dictionary):
            continue
        for key, what in _FORBIDDEN_KEYS.items():
            if key in item:
                raise _active(what, *_place(holder, annot_pages))
        kind = str(item.get("/Type", ""))
        if kind in _FORBIDDEN_TYPES:
            raise _active(_FORBIDDEN_TYPES[kind], *_place(holder, annot_pages))
        subtype = str(item.get("/Subtype", ""))
        if kind == "/Annot" and not allowed(item):
            raise _active(f"chú thích / annotation {subtype}", *_place(holder, annot_pages))
        if subtype == "/PS" or kind == "/Filespec" and "/EF" in item:
            raise _active(f"nội dung / content {subtype or kind}", *_place(holder, annot_pages))
        if "/A" in item:
            problem = _check_action(item.A, in_link=subtype == "/Link")
            if problem is not None:
                raise _active(problem, *_place(holder, annot_pages))
        action = str(item.get("/S", ""))
        if action in ACTION_TYPES or kind == "/Action":
            problem = _check_action(item, in_link=True)
            if problem is not None:
                raise _active(problem, *_place(holder, annot_pages))


def _signature_fields(doc: pikepdf.Pdf, limits: PdfLimits = DRAFT_LIMITS) -> list[tuple[str, bool]]:
    """(name, signed) for every signature field (the field tree walked once, bounded)."""
    return [(str(field.get("/T", "")), "/V" in field) for field in fields(doc, limits)
            if field.get("/FT") == "/Sig"]


def check_draft(pdf: bytes, limits: PdfLimits = DRAFT_LIMITS,
                allow_signatures: bool = False, draft_marks: bool = False,
                source: str = UPLOADED) -> None:
    """Refuse a draft that cannot or must not be signed, saying why: unreadable,
    encrypted, hostile structure (:mod:`signer.guard`), active content outside the
    allow-list, already signed (``source``: how the errors name the file).

    ``draft_marks``: the file is a draft that will be prepared, so a "DỰ THẢO" stamp or
    note annotation is left to preparation (refused by name, or taken off the page on
    request); elsewhere (an attachment) it is refused as any other annotation."""
    with open_pdf(pdf, limits, source=source) as doc:
        _check_open(doc, limits, allow_signatures, draft_marks)


def _check_open(doc: pikepdf.Pdf, limits: DraftLimits, allow_signatures: bool,
                draft_marks: bool = False) -> None:
    pages = check_structure(doc, limits)
    if pages == 0:
        raise _refuse("tệp PDF không có trang nào", "the PDF has no page")
    _active_content(doc, limits, draft_marks)
    if not allow_signatures and any(signed for _, signed in _signature_fields(doc, limits)):
        raise _refuse("tệp đã có chữ ký số — dự thảo phải chưa được ký",
                      "the file is already signed — a draft must be unsigned")


def _lock(doc: pikepdf.Pdf, action: str, fields: Iterable[str]) -> pikepdf.Dictionary:
    import pikepdf

    return pikepdf.Dictionary(Type=pikepdf.Name.SigFieldLock, Action=pikepdf.Name(action),
                              Fields=pikepdf.Array([pikepdf.String(f) for f in fields]))


def _index(place: Place, pages: int) -> int:
    """The place's page, 0-based (a negative page counts from the end)."""
    return place.page if place.page >= 0 else pages + place.page


def _page_of(doc: pikepdf.Pdf, place: Place) -> pikepdf.Page:
    pages = doc.pages
    index = _index(place, len(pages))
    if not 0 <= index < len(pages):
        raise _refuse(f"trang {place.page + 1} không có trong tệp",
                      f"page {place.page + 1} is not in the file")
    return pages[index]


def _add_widget(doc: pikepdf.Pdf, place: Place, **entries: pikepdf.Object) -> None:
    import pikepdf

    page = _page_of(doc, place)
    widget = doc.make_indirect(pikepdf.Dictionary({
        "/Type": pikepdf.Name.Annot, "/Subtype": pikepdf.Name.Widget, "/F": 4,
        "/Rect": pikepdf.Array(list(place.rect)), "/P": page.obj,
        **{f"/{key}": value for key, value in entries.items()}}))
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


def prepare_draft(pdf: bytes, plan: FieldPlan, limits: PdfLimits = DRAFT_LIMITS, *,
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
    with open_pdf(pdf, limits, inherit=True) as doc:
        _check_open(doc, limits, allow_signatures=False, draft_marks=True)
        return _add_fields(doc, pdf, plan, limits, qr_text, cover_draft_mark)[0]


def _texts(pdf: bytes, plan: FieldPlan, document: DocumentText, cover: bool,
           ) -> tuple[list[PageText], list[DraftMark]]:
    """The pages' text the fields and the marks need, and the draft marks on them.

    ``document`` holds the pages the layout was read on (the first and last of a long
    draft); a page a field was placed on by hand is read as well. Marks are looked for
    on those pages (and in every page's annotations); when they are to be covered, every
    page is read, so that none is left on a page in between."""
    count = len(document.sizes)
    texts = list(document.texts)
    wanted = {_index(place, count) for place in (plan.person, plan.organisation)} | {
        _index(place, count) for _, place in plan.text_fields()}
    missing = {i for i in wanted if 0 <= i < count} - {t.index for t in texts}
    if missing:
        texts = sorted(texts + read_text(pdf, missing), key=lambda t: t.index)
    marks = find_draft_marks(pdf, texts)
    if marks and cover and len(texts) < count:
        texts = read_text(pdf)
        marks = find_draft_marks(pdf, texts)
    return texts, marks


def _add_fields(doc: pikepdf.Pdf, pdf: bytes, plan: FieldPlan, limits: PdfLimits,
                qr_text: str | None, cover_draft_mark: bool = False,
                document: DocumentText | None = None) -> tuple[bytes, list[DraftMark]]:
    """Add the fields to the open ``doc`` (read from ``pdf``; ``document``: its text as
    :func:`signer.locate.read_layout_text` read it, read here if not given); the
    prepared file and the draft marks it covered (refused unless ``cover_draft_mark``)."""
    import pikepdf

    existing = {name for name, _ in _signature_fields(doc, limits)}
    if {PERSON_FIELD, ORGANISATION_FIELD} & existing:
        raise _refuse("dự thảo đã được chuẩn bị rồi", "the draft is already prepared")
    if document is None:
        document = read_layout_text(pdf, limits.max_pages)
    texts, marks = _texts(pdf, plan, document, cover_draft_mark)
    if marks and not cover_draft_mark:
        raise DraftMarked.of(marks)
    remove_mark_annotations(doc, marks)
    if "/AcroForm" not in doc.Root:
        doc.Root.AcroForm = doc.make_indirect(pikepdf.Dictionary(Fields=pikepdf.Array()))
    form = doc.Root.AcroForm
    if "/Fields" not in form:
        form.Fields = pikepdf.Array()
    form.NeedAppearances = False
    form.DR = pikepdf.Dictionary(Font=pikepdf.Dictionary({
        f"/{key}": doc.make_indirect(pikepdf.Dictionary(
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
        add_qr(doc, qr_text, avoid=_on_first_page(plan, pages))
    out = io.BytesIO()
    doc.save(out)
    prepared = out.getvalue()
    if covered or marks:
        _check_covered(prepared, plan, pages, marks)
    return prepared, marks


def _under(place: Place, glyphs: Iterable[Glyph]) -> list[Glyph]:
    """The coverable ink (digits, placeholder dots) whose centre the field covers
    (``glyphs`` are of the field's page)."""
    x1, y1, x2, y2 = place.rect
    return [g for g in glyphs if not g.blank
            and all(c in COVERABLE for c in g.text)
            and x1 - 0.5 <= g.center[0] <= x2 + 0.5 and y1 - 0.5 <= g.center[1] <= y2 + 0.5]


def _take_out(doc: pikepdf.Pdf, texts: Sequence[PageText], plan: FieldPlan,
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


@dataclass(frozen=True)
class Prepared:
    """What preparing a draft found and made: its layout, the field plan, the new PDF,
    and the draft marks taken off its pages (:meth:`signer.marks.DraftMark.describe`,
    for the audit trail; empty unless ``cover_draft_mark``)."""

    layout: DraftLayout
    plan: FieldPlan
    pdf: bytes
    covered: tuple[dict[str, int | str], ...] = ()


def prepare_pdf(pdf: bytes, qr_text: str | None = None,
                overrides: Mapping[str, Any] | None = None,
                cover_draft_mark: bool = False,
                limits: PdfLimits = DRAFT_LIMITS) -> Prepared:
    """The whole preparation of a draft as one pure function (what a child process runs,
    :mod:`signer.isolate`): check, locate, plan (``overrides`` replaces planned places by
    hand, keys of :class:`FieldPlan`), refuse a printed year no field covers
    (:func:`check_date_covered`), add the fields and the QR code. A draft still marked
    "DỰ THẢO" is refused unless ``cover_draft_mark`` (see :func:`prepare_draft`)."""
    from dataclasses import replace

    with open_pdf(pdf, limits, inherit=True) as doc:
        _check_open(doc, limits, allow_signatures=False, draft_marks=True)
        document = read_layout_text(pdf, limits.max_pages)  # one pass for all below
        layout = layout_of(document)
        plan = plan_fields(layout)
        if overrides:
            plan = replace(plan, **overrides)
        check_date_covered(layout, plan)
        prepared, marks = _add_fields(doc, pdf, plan, limits, qr_text, cover_draft_mark,
                                      document)
        return Prepared(layout, plan, prepared, tuple(m.describe() for m in marks))
