"""How a signature looks on the page: Vietnamese text in an embedded serif font.

pyHanko's default stamp font is Latin-only (Vietnamese renders blank), and fonts
with 2048 units/em (Liberation) render letters spread apart; Noto Serif (1000
units/em) is used, embedded as a subset. The font is cut down to what a stamp
needs once per process (see :func:`stamp_font`), not per signature.
"""

from __future__ import annotations

import functools
import io
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SignerError

#: Fonts tried, in order, when none is given (Debian fonts-noto-core).
DEFAULT_FONTS = (
    "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
    "/usr/share/fonts/noto/NotoSerif-Regular.ttf",
)

FONT_SIZE = 9


def default_font() -> str:
    for path in DEFAULT_FONTS:
        if Path(path).is_file():
            return path
    raise SignerError("không tìm thấy phông chữ Noto Serif (gói fonts-noto-core)",
                      "Noto Serif font not found (package fonts-noto-core)")


@dataclass(frozen=True)
class Appearance:
    """The visible part of a signature.

    ``box`` is (x1, y1, x2, y2) in PDF points on ``page`` (0-based; -1 = last page).
    ``image`` is an optional PNG (e.g. the blue handwritten signature) drawn
    behind the text.
    """

    signer_name: str
    title: str = ""
    organisation: str = ""
    box: tuple[int, int, int, int] = (330, 60, 560, 140)
    page: int = -1
    image: bytes | None = None
    font_path: str | None = None

    def lines(self, signing_time_iso: str) -> list[str]:
        out = [f"Ký bởi: {self.signer_name}"]
        if self.title:
            out.append(f"Chức vụ: {self.title}")
        if self.organisation:
            out.append(f"Cơ quan: {self.organisation}")
        out.append(f"Thời gian ký: {signing_time_iso}")
        return [unicodedata.normalize("NFC", line) for line in out]


#: Characters a stamp may need: Latin with every Vietnamese letter (precomposed, as
#: NFC text has them), combining marks, general punctuation and arrows.
STAMP_REPERTOIRE = [*range(0x20, 0x250), *range(0x300, 0x370), *range(0x1E00, 0x1F00),
                    *range(0x2000, 0x2070), *range(0x2190, 0x21A0)]


@functools.lru_cache(maxsize=4)
def stamp_font(font_path: str) -> str:
    """A copy of ``font_path`` cut down to :data:`STAMP_REPERTOIRE`, without layout tables.

    pyHanko subsets the font again for every signature, and fontTools re-reads the
    whole GPOS/GSUB of a full font each time (≈200 ms for Noto Serif). Vietnamese
    NFC text needs no shaping: every letter has its own precomposed glyph. Made
    once per process, in a private temporary folder.
    """
    from fontTools import subset

    if not Path(font_path).is_file():
        raise SignerError(f"không tìm thấy phông chữ {font_path}", f"font {font_path} not found")
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GPOS", "GSUB", "GDEF", "kern", "DSIG"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(font_path, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=STAMP_REPERTOIRE)
    subsetter.subset(font)
    target = Path(tempfile.mkdtemp(prefix="kyso-font-")) / f"stamp-{Path(font_path).name}"
    subset.save_font(font, str(target), options)
    return str(target)


@functools.lru_cache(maxsize=8)
def _font_factory(font_path: str, size: int) -> Any:
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory

    return GlyphAccumulatorFactory(stamp_font(font_path), font_size=size)


def stamp_style(appearance: Appearance, signing_time_iso: str) -> Any:
    """A pyHanko stamp style showing ``appearance`` signed at ``signing_time_iso``."""
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    font = _font_factory(appearance.font_path or default_font(), FONT_SIZE)
    text = "\n".join(appearance.lines(signing_time_iso)).replace("%", "%%")
    background = None
    if appearance.image:
        from PIL import Image

        background = PdfImage(Image.open(io.BytesIO(appearance.image)))
    return TextStampStyle(
        stamp_text=text,
        text_box_style=TextBoxStyle(font=font, font_size=FONT_SIZE, leading=FONT_SIZE + 3),
        border_width=1,
        background=background,
        background_opacity=1.0,
    )
