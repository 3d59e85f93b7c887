"""How a signature looks on the page: Vietnamese text in an embedded serif font.

pyHanko's default stamp font is Latin-only (Vietnamese renders blank), and fonts
with 2048 units/em (Liberation) render letters spread apart; Noto Serif (1000
units/em) is used, embedded as a subset. Loading and parsing the font is done
once per font file and size, not per signature.
"""

from __future__ import annotations

import functools
import io
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


@functools.lru_cache(maxsize=8)
def _font_factory(font_path: str, size: int) -> Any:
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory

    if not Path(font_path).is_file():
        raise SignerError(f"không tìm thấy phông chữ {font_path}", f"font {font_path} not found")
    return GlyphAccumulatorFactory(font_path, font_size=size)


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
