"""How a signature looks on the page: Vietnamese text in an embedded serif font.

pyHanko's default stamp font is Latin-only (Vietnamese renders blank), and fonts
with 2048 units/em (Liberation) render letters spread apart; Noto Serif (1000
units/em) is used, embedded as a subset. The font is cut down to what a stamp
needs once per process (see :func:`stamp_font`), not per signature.
"""

from __future__ import annotations

import functools
import io
import logging
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SignerError

#: Fonts tried, in order, when none is given: Liberation Serif is metric-compatible
#: with Times New Roman, which the documents use (Debian fonts-liberation2); Noto
#: Serif (fonts-noto-core) otherwise.
DEFAULT_FONTS = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf",
    "/usr/share/fonts/noto/NotoSerif-Regular.ttf",
)

TIME = "{time}"  # replaced in a line by the ISO 8601 signing time (Vietnam time)


def default_font() -> str:
    for path in DEFAULT_FONTS:
        if Path(path).is_file():
            return path
    raise SignerError("không tìm thấy phông chữ Liberation Serif hoặc Noto Serif "
                      "(gói fonts-liberation2 / fonts-noto-core)",
                      "neither Liberation Serif nor Noto Serif is installed "
                      "(packages fonts-liberation2 / fonts-noto-core)")


Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class Appearance:
    """The visible part of a signature.

    ``lines`` are the text lines ("{time}" in a line becomes the signing time);
    ``image`` is a PNG drawn behind the text, or alone when there is no text;
    with ``image_on_top`` the image sits at the top of the box and the text below
    it (the seal). ``box`` (x1, y1, x2, y2, PDF points) and ``page`` (0-based,
    -1 = last) only matter when the signature field does not exist yet.
    """

    lines: tuple[str, ...] = ()
    image: bytes | None = None
    image_on_top: bool = False
    font_size: int = 9
    border: bool = True
    box: Rect = (330, 60, 560, 140)
    page: int = -1
    font_path: str | None = None

    @classmethod
    def stamp(cls, signer_name: str, title: str = "", organisation: str = "",
              **kwargs: Any) -> Appearance:
        """A bordered text stamp: who signed, their title and body, and when."""
        lines = [f"Ký bởi: {signer_name}"]
        if title:
            lines.append(f"Chức vụ: {title}")
        if organisation:
            lines.append(f"Cơ quan: {organisation}")
        lines.append(f"Thời gian ký: {TIME}")
        return cls(lines=tuple(lines), **kwargs)

    @classmethod
    def handwritten(cls, image: bytes, **kwargs: Any) -> Appearance:
        """The person's handwritten-signature image alone (Appendix I: blue, transparent)."""
        return cls(image=image, border=False, **kwargs)

    @classmethod
    def seal(cls, image: bytes, body: str, **kwargs: Any) -> Appearance:
        """The body's red seal, with its name and the signing time in small type below."""
        return cls(lines=(body, TIME), image=image, image_on_top=True, border=False,
                   font_size=6, **kwargs)

    @classmethod
    def corner(cls, lines: tuple[str, ...], **kwargs: Any) -> Appearance:
        """Plain black text, 10 pt, no image, no border: attachments and copies."""
        return cls(lines=lines, border=False, font_size=10, **kwargs)

    def text(self, signing_time_iso: str) -> list[str]:
        return [unicodedata.normalize("NFC", line.replace(TIME, signing_time_iso))
                for line in self.lines]


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

    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    if not Path(font_path).is_file():
        raise SignerError(f"không tìm thấy phông chữ {font_path}", f"font {font_path} not found")
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GPOS", "GSUB", "GDEF", "kern", "DSIG"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False  # screen hinting is useless in a stamp and slow to subset
    font = subset.load_font(font_path, options)
    if font["head"].unitsPerEm != 1000:
        # pyHanko lays out glyphs as if units/em were 1000: rescale fonts made with
        # 2048 (Liberation) or the letters stand twice as far apart as they should
        from fontTools.ttLib.scaleUpem import scale_upem

        scale_upem(font, 1000)
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
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import StaticStampStyle, TextStampStyle

    background = None
    if appearance.image:
        from PIL import Image

        background = PdfImage(Image.open(io.BytesIO(appearance.image)))
    image_layout = layout.SimpleBoxLayoutRule(
        x_align=layout.AxisAlignment.ALIGN_MID,
        y_align=(layout.AxisAlignment.ALIGN_MAX if appearance.image_on_top
                 else layout.AxisAlignment.ALIGN_MID),
        margins=layout.Margins(0, 0, 0, 0),
        inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
    )
    border = 1 if appearance.border else 0
    if not appearance.lines:
        return StaticStampStyle(background=background, background_layout=image_layout,
                                background_opacity=1.0, border_width=border)
    size = appearance.font_size
    font = _font_factory(appearance.font_path or default_font(), size)
    text = "\n".join(appearance.text(signing_time_iso)).replace("%", "%%")
    text_layout = None
    if appearance.image is None and not appearance.border:  # corner text: flush top left
        text_layout = layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins(0, 0, 0, 0))
    elif appearance.image_on_top:
        text_layout = layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins(0, 0, 0, 0))
    return TextStampStyle(
        stamp_text=text,
        text_box_style=TextBoxStyle(font=font, font_size=size, leading=size + 1),
        border_width=border,
        background=background,
        background_layout=image_layout,
        background_opacity=1.0,
        inner_content_layout=text_layout,
    )
