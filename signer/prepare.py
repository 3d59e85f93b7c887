"""Prepare a draft before its first signature: refuse what cannot be signed, add every field.

After the first signature only an incremental update that fills existing fields
(and adds signatures to existing signature fields) keeps earlier signatures valid,
so ALL fields the later steps fill — the number, the day and month of the date
line, the person's and the organisation's signature fields — are added here, on
the unsigned draft, with pikepdf.

Locks: the person's signature is an approval signature without DocMDP and without a
field lock, because the organisation signature, attachments and electronic copies
add signatures later (a certification, or a lock on "every other field", would make
each of those a violation). The organisation's signature field carries a FieldMDP
lock on the number, day and month, so once issued they cannot be written again.
pyHanko's validator still flags any change beyond form filling and signatures.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from certs import Category

from .errors import PdfEncrypted, PdfUnreadable, SignerError
from .locate import Box, DraftLayout, require_signature_block
from .pdfinput import UPLOADED, open_pikepdf
from .qr import add_qr
from .sign import APPROVAL_FIELD, DA_FONT_KEYS

NUMBER_FIELD = "KySo_So"
DAY_FIELD = "KySo_Ngay"
MONTH_FIELD = "KySo_Thang"
PERSON_FIELD = APPROVAL_FIELD
ORGANISATION_FIELD = "KySo_CoQuan"
CLERK_FIELDS = (NUMBER_FIELD, DAY_FIELD, MONTH_FIELD)

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

    def text_fields(self) -> list[tuple[str, Place]]:
        pairs = [(NUMBER_FIELD, self.number), (DAY_FIELD, self.day), (MONTH_FIELD, self.month)]
        return [(name, place) for name, place in pairs if place is not None]


@dataclass(frozen=True)
class DraftLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_pages: int = 300


_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/Rendition", "/SubmitForm"}


def _refuse(vi: str, en: str) -> DraftRefused:
    return DraftRefused(vi, en)


def _open(pdf: bytes, limits: DraftLimits, source: str = UPLOADED) -> Any:
    if len(pdf) > limits.max_bytes:
        raise _refuse(f"tệp lớn hơn giới hạn {limits.max_bytes // (1024 * 1024)} MB",
                      f"the file is larger than {limits.max_bytes // (1024 * 1024)} MB")
    if not pdf.lstrip()[:5].startswith(b"%PDF-"):
        raise PdfUnreadable("không phải tệp PDF / not a PDF file")
    doc = open_pikepdf(pdf, source)
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
    number = day = month = None
    if layout.number is not None:
        number = Place.of(layout.number.blank, "Times-Roman", layout.number.font_size)
    if layout.date is not None:
        size = layout.date.font_size
        if layout.date.day_blank is not None:
            day = Place.of(layout.date.day_blank, "Times-Italic", size)
        if layout.date.month_blank is not None:
            month = Place.of(layout.date.month_blank, "Times-Italic", size)
    return FieldPlan(person=person, organisation=organisation, number=number, day=day,
                     month=month)




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
                allow_signatures: bool = False, *, source: str = UPLOADED) -> None:
    """Refuse a draft that cannot or must not be signed, saying why (``source``: how the
    errors name the file, e.g. its name)."""
    with _open(pdf, limits, source) as doc:
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


def _page_of(doc: Any, place: Place) -> Any:
    pages = doc.pages
    index = place.page if place.page >= 0 else len(pages) + place.page
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
            if (place.page if place.page >= 0 else pages + place.page) == 0}


def prepare_draft(pdf: bytes, plan: FieldPlan, limits: DraftLimits = DraftLimits(), *,
                  qr_text: str | None = None) -> bytes:
    """Check ``pdf`` and return it with every field of ``plan`` added (a rewrite: no
    signature exists yet).

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
            _add_widget(doc, place, FT=pikepdf.Name.Tx, T=pikepdf.String(name),
                        DA=pikepdf.String(f"/{font} {place.size:g} Tf 0 g"))
        if qr_text is not None:
            add_qr(doc, qr_text, avoid=_on_first_page(plan, len(doc.pages)))
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()
