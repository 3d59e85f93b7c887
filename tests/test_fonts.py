"""The one ReportLab font registration (``signer.reportlab_fonts``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from signer import ReportLabFonts, body_font, reportlab_fonts, serif_fonts


def test_the_default_pair_is_the_serif_pair_registered_as_one_family() -> None:
    from reportlab.lib.fonts import tt2ps
    from reportlab.pdfbase import pdfmetrics

    names = reportlab_fonts()
    assert isinstance(names, ReportLabFonts)
    assert names == reportlab_fonts(*serif_fonts())
    assert pdfmetrics.getFont(names.regular).fontName == names.regular
    assert tt2ps(names.regular, 1, 0) == names.bold
    assert tt2ps(names.regular, 0, 0) == names.regular


def test_concurrent_callers_register_once_and_get_the_same_names() -> None:
    from reportlab.pdfbase import pdfmetrics

    pair = (body_font("Times-Roman"), body_font("Times-Bold"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = set(pool.map(lambda _: reportlab_fonts(*pair), range(32)))
    assert len(results) == 1
    (names,) = results
    font = pdfmetrics.getFont(names.regular)
    assert reportlab_fonts(*pair) == names
    assert pdfmetrics.getFont(names.regular) is font
