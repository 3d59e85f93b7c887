"""Finding the layout reads the pages the elements are on, whatever the page count."""

from __future__ import annotations

import time

from bench.pdfs import long_draft
from signer.locate import END_PAGES, WHOLE_PAGES, layout_pages, locate, read_layout_text
from signer.prepare import prepare_pdf
from signer.textlayer import read_text


def test_short_drafts_are_read_whole_long_ones_at_both_ends() -> None:
    assert list(layout_pages(WHOLE_PAGES)) == list(range(WHOLE_PAGES))
    assert sorted(layout_pages(300)) == [*range(END_PAGES), *range(300 - END_PAGES, 300)]


def test_a_long_draft_is_located_from_its_first_and_last_pages() -> None:
    draft = long_draft(60)
    document = read_layout_text(draft)
    assert [t.index for t in document.texts] == sorted(layout_pages(60))
    assert len(document.sizes) == 60
    layout = locate(draft)
    assert layout.pages == 60 and len(layout.page_sizes) == 60
    assert layout.number is not None and layout.number.line.page == 0
    assert layout.signature is not None and layout.signature.name_box.page == 59


def test_preparing_a_300_page_draft_costs_what_a_short_one_does() -> None:
    """Time grows with the pages read, not the pages there are: 300 pages prepare in
    less than three times a 10-page draft's time (both read 10 pages of text)."""
    short, long = long_draft(10), long_draft(300)
    prepare_pdf(short)  # fonts, imports

    def seconds(pdf: bytes) -> float:
        started = time.perf_counter()
        prepared = prepare_pdf(pdf)
        elapsed = time.perf_counter() - started
        # the fields went where the layout said: the signature on the last page
        assert prepared.plan.person.page in (prepared.layout.pages - 1, -1)
        return elapsed

    assert seconds(long) < 3 * seconds(short) + 1.0
    # every page is still there, with its text
    assert len(read_text(prepare_pdf(long).pdf, {150})[0].glyphs) > 100
