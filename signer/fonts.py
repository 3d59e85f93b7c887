"""Where the serif TrueType fonts with the whole Vietnamese repertoire are.

ReportLab's built-in fonts are Latin-1 only (Vietnamese letters come out as black
boxes), so printable reports embed Noto Serif (Debian fonts-noto-core) or, failing
that, Liberation Serif (fonts-liberation2). Used by the verification report PDF
(``signer.report_render``) and by the register export (``documents.export``).
"""

from __future__ import annotations

from pathlib import Path

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
