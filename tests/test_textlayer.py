"""Glyphs taken out of a page's content leave every other glyph exactly where it was, and
what cannot be taken out is refused rather than guessed."""

from __future__ import annotations

import io
from collections.abc import Iterable

import pikepdf
import pytest

from signer import CannotErase
from signer.textlayer import Glyph, erase_glyphs, read_text

from .conftest import TESTS_DATA

DRAFTS = TESTS_DATA / "drafts"


def _placed(glyphs: Iterable[Glyph]) -> list[tuple[str, float, float]]:
    return [(g.text, round(g.x0, 2), round(g.baseline, 2)) for g in glyphs if not g.blank]


@pytest.mark.parametrize("name", ["a_quyet_dinh_1trang.pdf", "e_bao_cao_bang.pdf",
                                  "t3_mau17_giay_moi.pdf",
                                  "official_mau1_2_quyet_dinh_truc_tiep.pdf"])
def test_erasing_in_the_middle_of_a_line_moves_nothing_else(name: str) -> None:
    pdf = (DRAFTS / name).read_bytes()
    (page,) = read_text(pdf, {0})
    ink = [g for g in page.glyphs if not g.blank and g.op is not None]
    # every third glyph of the page: starts, middles and ends of text operators
    gone = set(ink[::3])
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert erase_glyphs(doc, page, gone) == len(gone)
        out = io.BytesIO()
        doc.save(out)
    (after,) = read_text(out.getvalue(), {0})
    assert _placed(after.glyphs) == _placed(g for g in page.glyphs if g not in gone)


def test_glyphs_in_a_form_xobject_are_refused() -> None:
    pdf = (DRAFTS / "a_quyet_dinh_1trang.pdf").read_bytes()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        blank = doc.add_blank_page(page_size=(595.3, 841.9))
        blank.add_overlay(doc.pages[0], pikepdf.Rectangle(0, 0, 595.3, 841.9))
        del doc.pages[0]
        out = io.BytesIO()
        doc.save(out)
    (text,) = read_text(out.getvalue(), {0})
    inside = [g for g in text.glyphs if not g.blank]
    assert inside and all(g.op is None for g in inside)
    with pikepdf.open(io.BytesIO(out.getvalue())) as doc, pytest.raises(CannotErase) as err:
        erase_glyphs(doc, text, inside[:4], ("thử", "test"))
    assert "XObject" in err.value.en and "thử" in err.value.vi
