"""A preview of the signature block as it will be stamped, before a picture is used.

The administrator sees, at print scale (150 dpi), the block of Decree 30 Appendix I: the
capacity line and title, the handwritten signature at its printed width, the seal
covering about a third of the signature on its left, and the signer's name — with the
picture just uploaded in its place and the body's current other picture (when there is
one) beside it. A PNG, drawn with Pillow in the serif font the signatures use.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from signer import serif_fonts

__all__ = ["BlockText", "render_block_preview"]

DPI = 150
#: The block's width and height on paper (the right half of an A4 text area).
BLOCK_MM = (85.0, 62.0)
SIGNATURE_MM = 35.0


@dataclass(frozen=True)
class BlockText:
    capacity: str  # "TM. ỦY BAN NHÂN DÂN"
    title: str  # "CHỦ TỊCH"
    name: str  # "Nguyễn Văn A"


def _px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


def _scaled(png: bytes, width_mm: float) -> Image.Image:
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    width = _px(width_mm)
    return image.resize((width, max(1, round(image.height * width / image.width))),
                        Image.Resampling.LANCZOS)


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str,
             font: ImageFont.FreeTypeFont, width: int) -> None:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    draw.text(((width - (right - left)) // 2, y), text, font=font, fill=(0, 0, 0, 255))


def render_block_preview(text: BlockText, *, seal: bytes | None, seal_mm: float,
                         signature: bytes | None) -> bytes:
    """The block with ``signature`` (a checked PNG, or None: none yet) and ``seal`` over
    it at ``seal_mm`` across, as a PNG at 150 dpi."""
    width, height = _px(BLOCK_MM[0]), _px(BLOCK_MM[1])
    canvas = Image.new("RGBA", (width, height), (255, 255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    _, bold_path = serif_fonts()
    bold = ImageFont.truetype(bold_path, round(13 * DPI / 72))
    _centred(draw, _px(2), text.capacity, bold, width)
    _centred(draw, _px(8), text.title, bold, width)
    top = _px(15)
    signature_left = (width - _px(SIGNATURE_MM)) // 2
    if signature is not None:
        scribble = _scaled(signature, SIGNATURE_MM)
        box = _px(30)
        canvas.alpha_composite(scribble, (signature_left,
                                          top + max(0, (box - scribble.height) // 2)))
    if seal is not None:
        stamp = _scaled(seal, seal_mm)
        # the seal covers about a third of the signature, on its left (Appendix I)
        x = max(0, signature_left - stamp.width + _px(SIGNATURE_MM) // 3)
        canvas.alpha_composite(stamp, (x, top + (_px(30) - stamp.height) // 2))
    _centred(draw, height - _px(9), text.name, bold, width)
    out = io.BytesIO()
    canvas.convert("RGB").save(out, format="PNG", dpi=(DPI, DPI))
    return out.getvalue()
