"""`locate` finds the number blank, the date blanks and the signature block of a draft.

The ground truth is the corpus of 18 LibreOffice exports in ``tests/data/drafts`` with the
positions recorded for them in ``positions.json`` (boxes there: pdftotext/PyMuPDF
coordinates, origin top-left, pages 1-based). Every test over the corpus is parametrised by
file, so a failure names the draft. A few synthetic drafts (reportlab) cover traps that the
corpus has no instance of: an electronic-copy stamp above the header, a blank typed wider
than a column gap, no block, two blocks, decomposed Vietnamese.
"""

from __future__ import annotations

import dataclasses
import io
import json
import time
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from signer import (
    Box,
    DraftHasNoSignatureBlock,
    DraftLayout,
    PdfUnreadable,
    SignatureBlock,
    SignerError,
    locate,
    require_signature_block,
)

DRAFTS = Path(__file__).resolve().parent / "data" / "drafts"
POSITIONS: list[dict[str, Any]] = json.loads(
    (DRAFTS / "positions.json").read_text(encoding="utf-8"))
#: pt; the recorded boxes are rounded to 0.1 pt and measured by another tool.
TOLERANCE = 2.0
FONTS = Path("/usr/share/fonts/truetype/liberation2")

per_file = pytest.mark.parametrize("record", POSITIONS, ids=[r["file"] for r in POSITIONS])


@cache
def layout_of(name: str) -> DraftLayout:
    """Each draft is located once per test session."""
    return locate((DRAFTS / name).read_bytes())


def recorded_box(item: dict[str, Any], page_height: float) -> Box:
    """A positions.json box (top-left origin, 1-based page) in PDF user space."""
    x0, top, x1, bottom = item["bbox"]
    return Box(item["page"] - 1, x0, page_height - bottom, x1, page_height - top)


def height_of(record: dict[str, Any]) -> float:
    return float(record["page_size_pt"][1])


def assert_box(got: Box | None, expected: Box, what: str) -> None:
    assert got is not None, f"{what}: nothing found"
    assert got.page == expected.page, f"{what}: page {got.page} != {expected.page}"
    for side in ("x0", "y0", "x1", "y1"):
        assert abs(getattr(got, side) - getattr(expected, side)) <= TOLERANCE, (
            f"{what}: {side} {getattr(got, side):.1f} != {getattr(expected, side):.1f} "
            f"(got {got}, expected {expected})")


def piece_edge(pieces: list[list[Any]], word: str, side: str) -> float:
    """x of a word's edge among pdftotext's word boxes: its end (``x1``) for the word
    before a blank, its start (``x0``) for the word after one."""
    for text, x0, _top, x1, _bottom in pieces:
        if side == "x1" and text.endswith(word):
            return float(x1)
        if side == "x0" and text.startswith(word):
            return float(x0)
    raise AssertionError(f"no pdftotext piece {side} {word!r} in {pieces}")


def strings(value: object) -> Iterator[str]:
    """Every string inside a (nested) result."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from strings(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from strings(item)


def expected_symbol(text: str) -> str | None:
    """What follows the slash of a recorded ``Số:`` segment, None when no letter is in it."""
    if "/" not in text:
        return None
    symbol = " ".join(text.split("/", 1)[1].split())
    return symbol if any(c.isalpha() for c in symbol) else None


def expected_designation(titles: list[str]) -> str | None:
    """The innermost of the authority prefixes, as the signer signs under it."""
    found = None
    for title in titles:
        head = title.split(" ", 1)[0]
        if head in ("KT.", "TM.", "TL.", "TUQ.", "Q."):
            found = head
    return found


def assert_block(block: SignatureBlock, recorded: dict[str, Any], height: float) -> None:
    titles = [t["text"] for t in recorded["title_lines"]]
    assert list(block.titles) == titles
    assert len(block.title_boxes) == len(titles)
    for got, title in zip(block.title_boxes, recorded["title_lines"], strict=True):
        assert_box(got, recorded_box(title, height), f"title {title['text']!r}")
    assert block.name == recorded["name"]["text"]
    assert_box(block.name_box, recorded_box(recorded["name"], height), "name")
    assert block.designation == expected_designation(titles)


# ----------------------------------------------------------------------------- corpus


def test_the_corpus_is_complete() -> None:
    pdfs = sorted(p.name for p in DRAFTS.glob("*.pdf"))
    assert len(pdfs) == 18
    assert sorted(r["file"] for r in POSITIONS) == pdfs


@per_file
def test_pages_and_page_sizes(record: dict[str, Any]) -> None:
    layout = layout_of(record["file"])
    assert layout.pages == record["pages"] == len(layout.page_sizes)
    width, height = record["page_size_pt"]
    for size in layout.page_sizes:
        assert size == pytest.approx((width, height), abs=0.1)


@per_file
def test_number_line(record: dict[str, Any]) -> None:
    """The header's ``Số:`` line: the first recorded one (electronic-copy stamps, the
    attachment's ``(Kèm theo Quyết định số …`` and ``Số hộ nghèo`` are never chosen)."""
    expected = record["so"][0]
    number = layout_of(record["file"]).number
    assert number is not None
    assert_box(number.line, recorded_box(expected, height_of(record)), "Số line")
    assert number.text == expected["text"]
    assert number.symbol == expected_symbol(expected["text"])
    assert number.font_size == pytest.approx(expected["pdf_spans"][0]["size"], abs=0.1)


@per_file
def test_number_blank(record: dict[str, Any]) -> None:
    """The blank runs from the colon of ``Số:`` to the slash, whatever fills it (spaces,
    NBSP, a TAB that left no glyph, template dots)."""
    expected = record["so"][0]
    number = layout_of(record["file"]).number
    assert number is not None
    pieces = expected["pdftotext_bbox_pieces"]
    assert number.blank.x0 == pytest.approx(piece_edge(pieces, "Số:", "x1"), abs=TOLERANCE)
    slashed = next(p for p in pieces if "/" in p[0])
    if slashed[0].startswith("/"):
        assert number.blank.x1 == pytest.approx(slashed[1], abs=TOLERANCE)
    else:  # dots glued to the slash: `…../CĐ-…`
        assert slashed[1] < number.blank.x1 < slashed[3]
    assert number.blank.width > 10
    assert (number.blank.y0, number.blank.y1) == (number.line.y0, number.line.y1)
    assert number.line.x0 < number.blank.x0 < number.blank.x1 < number.line.x1


@per_file
def test_date_line(record: dict[str, Any]) -> None:
    expected = record["date"][0]
    date = layout_of(record["file"]).date
    assert date is not None
    assert_box(date.line, recorded_box(expected, height_of(record)), "date line")
    assert date.text == expected["text"]
    assert date.place == expected["place"]
    year = expected["text"].rsplit("năm", 1)[1].strip()
    assert date.year == (year if year.isdigit() else None)


@per_file
def test_day_and_month_blanks(record: dict[str, Any]) -> None:
    expected = record["date"][0]
    date = layout_of(record["file"]).date
    assert date is not None and date.day_blank is not None and date.month_blank is not None
    pieces = expected["pdftotext_bbox_pieces"]
    for blank, before, after in ((date.day_blank, "ngày", "tháng"),
                                 (date.month_blank, "tháng", "năm")):
        assert blank.x0 == pytest.approx(piece_edge(pieces, before, "x1"), abs=TOLERANCE)
        assert blank.x1 == pytest.approx(piece_edge(pieces, after, "x0"), abs=TOLERANCE)
        assert (blank.y0, blank.y1) == (date.line.y0, date.line.y1)
        assert blank.width > 10
    assert date.day_blank.x1 <= date.month_blank.x0


@per_file
def test_body_dates_are_decoys(record: dict[str, Any]) -> None:
    date = layout_of(record["file"]).date
    assert date is not None
    for decoy in record["date_like_decoys"]:
        other = recorded_box(decoy, height_of(record))
        assert (date.line.page, round(date.line.y0)) != (other.page, round(other.y0)), decoy


@per_file
def test_signature_block(record: dict[str, Any]) -> None:
    """One recorded block: it is the draft's signature. Several (the whole Phụ lục III):
    all are found, none is chosen, and asking for one is refused in both languages."""
    layout = layout_of(record["file"])
    recorded = record["signature"]
    height = height_of(record)
    assert len(layout.signatures) == len(recorded)
    for block, expected in zip(layout.signatures, recorded, strict=True):
        assert_block(block, expected, height)
    if len(recorded) == 1:
        assert layout.signature == layout.signatures[0]
        assert require_signature_block(layout) is layout.signature
    else:
        assert layout.signature is None
        with pytest.raises(DraftHasNoSignatureBlock) as refused:
            require_signature_block(layout)
        assert refused.value.found == len(recorded)
        assert f"có {len(recorded)} khối chữ ký" in refused.value.vi
        assert f"{len(recorded)} signature blocks" in refused.value.en


@per_file
def test_signing_area_is_the_free_room(record: dict[str, Any]) -> None:
    """Between the last title (or the template's ``(Chữ ký …)`` note) and the name, over
    the block's width, overlapping no text of the block."""
    for block in layout_of(record["file"]).signatures:
        area = block.signing_area
        assert area.page == block.name_box.page
        assert area.y0 == pytest.approx(block.name_box.y1)
        assert area.y1 <= block.title_boxes[-1].y0 + 0.01
        assert area.height > 3
        assert area.x0 <= block.name_box.x0 and area.x1 >= block.name_box.x1
        for title in block.title_boxes:
            assert area.x0 <= title.x0 and area.x1 >= title.x1
        if not record["file"].startswith("official"):
            assert area.y1 == pytest.approx(block.title_boxes[-1].y0)
            assert area.height > 40  # 3-6 empty lines were left for the signature


@per_file
def test_all_text_is_nfc(record: dict[str, Any]) -> None:
    for text in strings(layout_of(record["file"])):
        assert unicodedata.is_normalized("NFC", text), text


def test_two_pages_locate_well_under_a_second() -> None:
    pdf = (DRAFTS / "c_thong_bao_2trang.pdf").read_bytes()
    started = time.perf_counter()
    layout = locate(pdf)
    assert time.perf_counter() - started < 0.8
    assert layout.signature is not None and layout.signature.name_box.page == 1


# ----------------------------------------------------------------------------- errors


def test_the_refusal_is_bilingual() -> None:
    none = DraftHasNoSignatureBlock()
    assert isinstance(none, SignerError)
    line = none.one_line()
    assert line.startswith("Lỗi: ") and " — Error: " in line and "\n" not in line
    assert "không tìm thấy khối chữ ký" in none.vi and "no signature block" in none.en
    several = DraftHasNoSignatureBlock(2)
    assert "2 khối chữ ký" in several.vi and "2 signature blocks" in several.en


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.6\n%broken"],
                         ids=["empty", "not-a-pdf", "truncated"])
def test_unreadable_input_is_refused(data: bytes) -> None:
    with pytest.raises(PdfUnreadable):
        locate(data)


def test_box_helpers() -> None:
    box = Box(0, 10.0, 20.0, 40.0, 60.0)
    assert (box.width, box.height, box.center) == (30.0, 40.0, (25.0, 40.0))


# ----------------------------------------------------------------------------- synthetic


def synthetic_draft(lines: list[tuple[float, float, str, str, float]]) -> bytes:
    """A one-page A4 PDF with ``(x, top, text, face, size)`` lines in Liberation Serif."""
    pdfmetrics = pytest.importorskip("reportlab.pdfbase.pdfmetrics")
    ttfonts = pytest.importorskip("reportlab.pdfbase.ttfonts")
    canvas = pytest.importorskip("reportlab.pdfgen.canvas")
    faces = {"r": "Regular", "b": "Bold", "i": "Italic", "bi": "BoldItalic"}
    for style in faces.values():
        path = FONTS / f"LiberationSerif-{style}.ttf"
        if not path.is_file():
            pytest.skip(f"{path} is not installed")
        pdfmetrics.registerFont(ttfonts.TTFont(f"LiberationSerif-{style}", str(path)))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(595.3, 841.9))
    for x, top, text, face, size in lines:
        page.setFont(f"LiberationSerif-{faces[face]}", size)
        page.drawString(x, 841.9 - top, text)
    page.showPage()
    page.save()
    return out.getvalue()


HEADER = [
    (100.0, 70.0, "ỦY BAN NHÂN DÂN", "b", 13.0),
    (115.0, 85.0, "XÃ TIÊN LỮ", "b", 13.0),
    (300.0, 70.0, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "b", 13.0),
]


def test_stamp_wide_blank_decomposed_text_and_a_q_designation() -> None:
    """An electronic-copy stamp above the header is no number line; a ``/TTr-UBND`` pushed
    80 pt away by a TAB still belongs to ``Số:``; a place typed in decomposed Unicode comes
    back NFC; ``Q. CHỦ TỊCH`` shares its row with a long ``Nơi nhận`` item (the gap is
    narrow, the font changes) and only the right part is the title."""
    pdf = synthetic_draft([
        (380.0, 40.0, "Số: 12/QĐ-UBND; ngày/tháng/năm; giờ: phút: giây", "r", 9.0),
        *HEADER,
        (100.0, 115.0, "Số:", "r", 13.0),
        (200.0, 115.0, "/TTr-UBND", "r", 13.0),
        (300.0, 116.0, unicodedata.normalize("NFD", "Phú Thọ, ngày      tháng 3 năm 2026"),
         "i", 14.0),
        (100.0, 200.0, "Số hộ nghèo: 12", "r", 14.0),
        (120.0, 220.0, "Căn cứ Luật Tổ chức chính quyền địa phương ngày 16 tháng 6 năm 2025;",
         "i", 14.0),
        (120.0, 240.0, "Thời gian: 08 giờ 00 phút, ngày 05 tháng 12 năm 2025.", "r", 14.0),
        (85.0, 400.0, "Nơi nhận:", "bi", 12.0),
        (85.0, 415.0, "- Các phòng, ban, đơn vị thuộc Ủy ban nhân dân xã;", "r", 11.0),
        (370.0, 415.0, "Q. CHỦ TỊCH", "b", 14.0),
        (360.0, 495.0, "Phạm Quốc Khánh", "b", 14.0),
    ])
    layout = locate(pdf)
    assert layout.number is not None
    assert layout.number.symbol == "TTr-UBND"
    assert layout.number.line.x0 == pytest.approx(100.0)
    assert layout.number.blank.x1 == pytest.approx(200.0)
    assert layout.date is not None
    assert layout.date.place == "Phú Thọ" == unicodedata.normalize("NFC", "Phú Thọ")
    assert layout.date.day_blank is not None and layout.date.month_blank is None  # "3" is in
    assert layout.date.year == "2026"
    block = require_signature_block(layout)
    assert block.titles == ("Q. CHỦ TỊCH",) and block.designation == "Q."
    assert block.title_boxes[0].x0 == pytest.approx(370.0)
    assert block.name == "Phạm Quốc Khánh"


def test_a_draft_without_a_signature_block_is_refused() -> None:
    """A bold ``Chương I`` is no signer's name, whatever capitals stand above it."""
    layout = locate(synthetic_draft([
        *HEADER,
        (100.0, 115.0, "Số:        /2025/QĐ-UBND", "r", 13.0),
        (300.0, 115.0, "Tiên Lữ, ngày      tháng      năm 2025", "i", 14.0),
        (270.0, 160.0, "BÁO CÁO", "b", 14.0),
        (120.0, 250.0, "Chương I", "b", 14.0),
    ]))
    assert layout.number is not None and layout.date is not None
    assert layout.number.symbol == "2025/QĐ-UBND"  # a legal normative document's number
    assert layout.signature is None and layout.signatures == ()
    with pytest.raises(DraftHasNoSignatureBlock) as refused:
        require_signature_block(layout)
    assert refused.value.found == 0
    assert "không tìm thấy khối chữ ký" in refused.value.vi


def test_two_blocks_side_by_side_are_ambiguous() -> None:
    layout = locate(synthetic_draft([
        *HEADER,
        (130.0, 400.0, "THƯ KÝ", "b", 14.0),
        (110.0, 470.0, "Trần Văn Bình", "b", 14.0),
        (390.0, 400.0, "CHỦ TỌA", "b", 14.0),
        (380.0, 470.0, "Lê Thị Mai", "b", 14.0),
    ]))
    assert layout.signature is None
    assert [b.name for b in layout.signatures] == ["Trần Văn Bình", "Lê Thị Mai"]
    with pytest.raises(DraftHasNoSignatureBlock) as refused:
        require_signature_block(layout)
    assert refused.value.found == 2


def test_rotated_and_shifted_pages_keep_user_space() -> None:
    """Boxes are for the PDF's own coordinates (where a signature field is placed), not
    for the page as displayed: /Rotate and a MediaBox origin change nothing."""
    pikepdf = pytest.importorskip("pikepdf")
    original = (DRAFTS / "a_quyet_dinh_1trang.pdf").read_bytes()
    with pikepdf.open(io.BytesIO(original)) as pdf:
        pdf.pages[0].Rotate = 90
        rotated = io.BytesIO()
        pdf.save(rotated)
    assert locate(rotated.getvalue()) == locate(original)
