"""Pictures a real commune's administrator would upload, drawn here (not the demo's art): a
red round seal and a blue handwritten signature, transparent PNGs at 300 dpi."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def red_seal(side: int = 460) -> bytes:
    """Two red rings and a star, on a transparent square."""
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    red = (200, 16, 24, 255)
    draw.ellipse((4, 4, side - 5, side - 5), outline=red, width=14)
    draw.ellipse((70, 70, side - 71, side - 71), outline=red, width=6)
    c = side // 2
    draw.polygon([(c, c - 60), (c + 18, c - 18), (c + 60, c - 18), (c + 26, c + 8),
                  (c + 38, c + 52), (c, c + 26), (c - 38, c + 52), (c - 26, c + 8),
                  (c - 60, c - 18), (c - 18, c - 18)], fill=red)
    return _png(image)


def blue_signature(width: int = 520, height: int = 200) -> bytes:
    """A few blue strokes, on a transparent background."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    blue = (20, 40, 200, 255)
    points = [(10, 150), (80, 40), (120, 160), (190, 50), (240, 150), (320, 30),
              (380, 140), (450, 60), (510, 120)]
    draw.line(points, fill=blue, width=9, joint="curve")
    draw.line([(60, 175), (470, 165)], fill=blue, width=6)
    return _png(image)


def grey_signature() -> bytes:
    """What a careless scan gives: black strokes (refused: a signature is blue)."""
    image = Image.open(io.BytesIO(blue_signature())).convert("LA").convert("RGBA")
    return _png(image)
