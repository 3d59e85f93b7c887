"""Where the serif TrueType fonts with the whole Vietnamese repertoire are.

ReportLab's built-in fonts are Latin-1 only (Vietnamese letters come out as black
boxes), so printable reports embed Noto Serif (Debian fonts-noto-core) or, failing
that, Liberation Serif (fonts-liberation2). Used by the verification report PDF
(``signer.report_render``), the QR caption (``signer.qr``), the register export
(``api.exports``) and the demo's sample appendix (``api.demo.art``), each through
:func:`reportlab_fonts`, the one place that registers fonts with ReportLab.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import NamedTuple

from .errors import FontMissing

#: (regular, bold) pairs tried in order.
SERIF_PAIRS: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
     "/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf"),
    ("/usr/share/fonts/noto/NotoSerif-Regular.ttf",
     "/usr/share/fonts/noto/NotoSerif-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
     "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf"),
)


def serif_fonts() -> tuple[str, str]:
    """The first installed (regular, bold) serif pair with Vietnamese letters."""
    for regular, bold in SERIF_PAIRS:
        if Path(regular).is_file() and Path(bold).is_file():
            return regular, bold
    raise FontMissing()


#: Liberation Serif (metric-compatible with Times New Roman, the drafts' font) by the
#: standard Times name a text field's /DA gives, Noto Serif when it is missing.
BODY_FONTS: dict[str, tuple[str, ...]] = {
    style: tuple(f"{folder}/{family}-{suffix}.ttf" for folder, family in (
        ("/usr/share/fonts/truetype/liberation2", "LiberationSerif"),
        ("/usr/share/fonts/truetype/liberation", "LiberationSerif"),
        ("/usr/share/fonts/truetype/noto", "NotoSerif"),
        ("/usr/share/fonts/noto", "NotoSerif")))
    for style, suffix in (("Times-Roman", "Regular"), ("Times-Italic", "Italic"),
                          ("Times-Bold", "Bold"))
}


def body_font(style: str = "Times-Roman") -> str:
    """The installed TrueType font for the Times ``style`` (unknown styles: roman)."""
    for path in BODY_FONTS.get(style, BODY_FONTS["Times-Roman"]):
        if Path(path).is_file():
            return path
    raise FontMissing()


class ReportLabFonts(NamedTuple):
    """The ReportLab names of a registered (regular, bold) pair; ``regular`` is the family."""

    regular: str
    bold: str


_registered: dict[tuple[str, str], ReportLabFonts] = {}
_registry_lock = threading.Lock()


def reportlab_fonts(regular: str | None = None, bold: str | None = None) -> ReportLabFonts:
    """Register a (regular, bold) TrueType pair with ReportLab as one family; its names.

    Without arguments the pair is :func:`serif_fonts`'. Idempotent and thread-safe: each
    pair is registered once per process (ReportLab's font table is process-global), under
    names made from the files' stems, so ``<b>`` in a Paragraph picks the bold face.
    """
    if regular is None or bold is None:
        default_regular, default_bold = serif_fonts()
        regular, bold = regular or default_regular, bold or default_bold
    key = (regular, bold)
    with _registry_lock:
        names = _registered.get(key)
        if names is None:
            names = _register(regular, bold)
            _registered[key] = names
    return names


def _register(regular: str, bold: str) -> ReportLabFonts:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    names = ReportLabFonts(f"Kyso-{Path(regular).stem}", f"Kyso-{Path(bold).stem}")
    pdfmetrics.registerFont(TTFont(names.regular, regular))
    pdfmetrics.registerFont(TTFont(names.bold, bold))
    pdfmetrics.registerFontFamily(names.regular, normal=names.regular, bold=names.bold,
                                  italic=names.regular, boldItalic=names.bold)
    return names
