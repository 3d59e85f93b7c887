"""The stamp font is parsed once per process and each embedded subset made once per set of
glyphs (``signer.fontcache``): what is written must be what pyHanko's own engine writes —
a font program with the glyphs used and a ToUnicode map that gives the text back."""

from __future__ import annotations

import io

import pikepdf
from fontTools.ttLib import TTFont
from pdfminer.high_level import extract_text
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import TextStamp, TextStampStyle

from signer.appearance import default_font, font_factory, stamp_font
from signer.fontcache import subset_cache_size

from .conftest import TESTS_DATA

PAGE = TESTS_DATA / "drafts" / "a_quyet_dinh_1trang.pdf"
with pikepdf.open(PAGE) as _draft:
    ORIGINAL_OBJECTS = len(_draft.objects)


def stamped(text: str, size: int = 13) -> bytes:
    """The one-page draft with ``text`` stamped in the stamp font (an incremental update)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(PAGE.read_bytes()))
    style = TextStampStyle(stamp_text="%(t)s", border_width=0,
                           text_box_style=TextBoxStyle(font=font_factory(default_font(), size)))
    TextStamp(writer, style, text_params={"t": text}).apply(0, 50, 50)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def embedded_fonts(pdf: bytes) -> list[TTFont]:
    """The font programs the stamp added (the draft's own fonts left out)."""
    fonts = []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for obj in document.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor" \
                    and "/FontFile2" in obj and obj.objgen[0] > ORIGINAL_OBJECTS:
                fonts.append(TTFont(io.BytesIO(obj.FontFile2.read_bytes())))
    return fonts


def test_the_stamped_text_reads_back_from_the_embedded_subset() -> None:
    text = "Số: 05/QĐ-UBND, ngày 03 tháng 12 năm 2026"
    pdf = stamped(text)
    assert text in " ".join(extract_text(io.BytesIO(pdf)).split())
    (font,) = embedded_fonts(pdf)
    original = TTFont(stamp_font(default_font()))  # the cut font the engines read
    cmap = original.getBestCmap()

    def outline(char: str) -> int:
        """The contours of ``char``'s glyph in the subset (glyph ids are kept)."""
        glyph_id = original.getGlyphID(cmap[ord(char)])
        return int(font["glyf"][font.getGlyphName(glyph_id)].numberOfContours)

    for char in "SốĐ0526":
        assert outline(char) != 0, f"{char} has no outline in the subset"
    assert outline("X") == 0  # not used: not embedded


def test_the_same_glyphs_reuse_one_subset_and_new_glyphs_make_another() -> None:
    first = stamped("Tiên Lữ 0312")
    made = subset_cache_size()
    again = stamped("Tiên Lữ 0312")
    assert subset_cache_size() == made
    assert embedded_fonts(first)[0]["glyf"].keys() == embedded_fonts(again)[0]["glyf"].keys()
    other = stamped("Kiến Xương 7")
    assert subset_cache_size() == made + 1
    assert "Kiến Xương 7" in extract_text(io.BytesIO(other))


def test_the_cut_font_is_made_once_and_reused_by_later_processes() -> None:
    """`kyso sign` is one process per document: it must not cut the font again each time."""
    import subprocess
    import sys
    from pathlib import Path

    script = ("from signer.appearance import default_font, stamp_font; "
              "print(stamp_font(default_font()))")

    def cut_in_a_new_process() -> Path:
        out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                             text=True).stdout
        return Path(out.strip())

    first = cut_in_a_new_process()
    made = first.stat()
    second = cut_in_a_new_process()
    assert second == first and second.stat().st_ino == made.st_ino
    assert second.stat().st_mtime_ns == made.st_mtime_ns  # not written again
    assert TTFont(second)["head"].unitsPerEm == 1000
