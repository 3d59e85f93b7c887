"""The pictures a signature shows: a body's seal and a person's handwritten signature.

Appendix I of Decree 30 asks for a RED seal at its real size and a BLUE handwritten
signature, both transparent PNGs. An administrator uploads them; :func:`check_seal` and
:func:`check_signature` decide whether a picture can be used and turn it into what the
appearance stamps:

- a PNG (nothing else is decoded), at most :data:`MAX_BYTES` and :data:`MAX_PIXELS`
  (read from the header before a pixel is decoded);
- with a transparent background: the corners and a good share of the picture are clear;
- inked in the right colour: of the coloured, opaque pixels most are red (seal) or blue
  (signature) by hue;
- sharp enough: at least :data:`MIN_DPI` at the size it is printed (the seal's diameter,
  36–40 mm; a signature about :data:`SIGNATURE_MM` wide);
- trimmed of its empty margins and stored compactly (a palette PNG with transparency),
  its dpi set so that it prints at its real size.

Each refusal says, in Vietnamese and English, what is wrong and what to do.
"""

from __future__ import annotations

import enum
import io
from dataclasses import dataclass

from PIL import Image

from .errors import ImageRefused

__all__ = ["CheckedImage", "ImageKind", "check_seal", "check_signature"]

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 25_000_000
#: Appendix I's "≥ 200 dpi" for scans, applied to the pictures a signature prints
MIN_DPI = 200
SEAL_MM = (30.0, 45.0)  # a round seal of a body is 35–40 mm; allow a margin each way
SIGNATURE_MM = 35.0
#: pictures are analysed at this size at most (enough to judge colour and clearness)
_ANALYSIS_SIDE = 400
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ImageKind(enum.Enum):
    SEAL = "seal"
    SIGNATURE = "signature"


@dataclass(frozen=True)
class CheckedImage:
    """A usable picture: trimmed, compact, and the size it prints at."""

    kind: ImageKind
    png: bytes
    width_px: int
    height_px: int
    width_mm: float

    @property
    def dpi(self) -> float:
        return self.width_px / (self.width_mm / 25.4)


def check_seal(data: bytes, diameter_mm: float = 36.0) -> CheckedImage:
    """A body's seal: red, round, transparent, printed ``diameter_mm`` across."""
    if not SEAL_MM[0] <= diameter_mm <= SEAL_MM[1]:
        raise ImageRefused(f"đường kính con dấu {diameter_mm:g} mm không hợp lý "
                           f"(từ {SEAL_MM[0]:g} đến {SEAL_MM[1]:g} mm)",
                           f"a seal diameter of {diameter_mm:g} mm is implausible "
                           f"({SEAL_MM[0]:g} to {SEAL_MM[1]:g} mm)")
    image = _trimmed(_open(data), "ảnh con dấu", "the seal image")
    ratio = image.width / image.height
    if not 0.85 <= ratio <= 1.18:
        raise ImageRefused(f"ảnh con dấu không tròn ({image.width}×{image.height} điểm ảnh sau "
                           "khi cắt lề): hãy quét riêng con dấu",
                           f"the seal image is not round ({image.width}×{image.height} pixels "
                           "after trimming): scan the seal alone")
    _check_ink(image, ImageKind.SEAL)
    _check_sharpness(image, diameter_mm, "con dấu", "seal")
    return _finish(image, ImageKind.SEAL, diameter_mm)


def check_signature(data: bytes) -> CheckedImage:
    """A person's handwritten signature: blue on a transparent background."""
    image = _trimmed(_open(data), "ảnh chữ ký", "the signature image")
    _check_ink(image, ImageKind.SIGNATURE)
    _check_sharpness(image, SIGNATURE_MM, "chữ ký", "signature")
    return _finish(image, ImageKind.SIGNATURE, SIGNATURE_MM)


def _open(data: bytes) -> Image.Image:
    if len(data) > MAX_BYTES:
        raise ImageRefused(f"ảnh quá lớn ({len(data) // 1024} KB, tối đa {MAX_BYTES // 2**20} MB)",
                           f"the image is too large ({len(data) // 1024} KB, at most "
                           f"{MAX_BYTES // 2**20} MB)")
    if not data.startswith(_PNG_MAGIC):
        raise ImageRefused("ảnh phải là tệp PNG có nền trong suốt",
                           "the image must be a PNG file with a transparent background")
    try:
        image = Image.open(io.BytesIO(data), formats=["PNG"])
        if image.width * image.height > MAX_PIXELS:
            raise ImageRefused(f"ảnh có quá nhiều điểm ảnh ({image.width}×{image.height})",
                               f"the image has too many pixels ({image.width}×{image.height})")
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        rgba = image.convert("RGBA")
    except ImageRefused:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageRefused("tệp PNG hỏng, không đọc được",
                           f"the PNG file is damaged and cannot be read ({exc})") from exc
    if not has_alpha:
        raise ImageRefused("ảnh không có nền trong suốt: hãy xuất PNG có kênh alpha "
                           "(nền trong suốt), không phải nền trắng",
                           "the image has no transparent background: export a PNG with an "
                           "alpha channel, not a white background")
    return rgba


def _trimmed(image: Image.Image, vi: str, en: str) -> Image.Image:
    box = image.getchannel("A").point(lambda a: 255 if a > 16 else 0).getbbox()
    if box is None:
        raise ImageRefused(f"{vi} trống (hoàn toàn trong suốt)",
                           f"{en} is empty (fully transparent)")
    corners = [image.getpixel((x, y)) for x in (0, image.width - 1)
               for y in (0, image.height - 1)]
    if any(_alpha(c) > 16 for c in corners) and box == (0, 0, image.width, image.height):
        raise ImageRefused(f"{vi} không có nền trong suốt (các góc ảnh bị tô màu)",
                           f"{en} has no transparent background (its corners are painted)")
    return image.crop(box)


def _alpha(pixel: float | tuple[int, ...] | None) -> int:
    return pixel[3] if isinstance(pixel, tuple) else 255


def _check_ink(image: Image.Image, kind: ImageKind) -> None:
    sample = image.copy()
    sample.thumbnail((_ANALYSIS_SIDE, _ANALYSIS_SIDE))
    alpha = sample.getchannel("A").tobytes()
    hsv = sample.convert("RGB").convert("HSV").tobytes()
    clear = sum(1 for a in alpha if a < 16)
    inked = [hsv[3 * i] for i, a in enumerate(alpha)
             if a >= 128 and hsv[3 * i + 1] >= 64 and hsv[3 * i + 2] >= 38]
    if kind is ImageKind.SEAL:
        name_vi, name_en, colour_vi, colour_en = "con dấu", "seal", "màu đỏ", "red"
        share_clear = 0.12  # a round seal leaves its bounding square's corners clear

        def matches(h: int) -> bool:  # Pillow's hue is 0–255: red is ±25° around 0°
            return h <= 18 or h >= 237
    else:
        name_vi, name_en, colour_vi, colour_en = "chữ ký", "signature", "màu xanh lam", "blue"
        share_clear = 0.30

        def matches(h: int) -> bool:  # 190°–260°
            return 134 <= h <= 185
    if clear < share_clear * len(alpha):
        raise ImageRefused(f"ảnh {name_vi} gần như không có phần trong suốt: hãy xóa nền",
                           f"the {name_en} image is hardly transparent: remove its background")
    if len(inked) < 0.005 * len(alpha):
        raise ImageRefused(f"ảnh {name_vi} không có nét {colour_vi} (ảnh đen trắng hoặc quá nhạt)",
                           f"the {name_en} image has no {colour_en} strokes (grey or too faint)")
    share = sum(1 for h in inked if matches(h)) / len(inked)
    if share < 0.85:
        raise ImageRefused(f"ảnh {name_vi} phải {colour_vi} theo Phụ lục I Nghị định 30/2020 "
                           f"(chỉ {share:.0%} nét đúng màu)",
                           f"the {name_en} image must be {colour_en} per Appendix I of Decree "
                           f"30/2020 (only {share:.0%} of its strokes are)")


def _check_sharpness(image: Image.Image, width_mm: float, name_vi: str, name_en: str) -> None:
    needed = round(width_mm / 25.4 * MIN_DPI)
    if image.width < needed:
        raise ImageRefused(f"ảnh {name_vi} quá nhỏ: {image.width} điểm ảnh cho {width_mm:g} mm, "
                           f"cần ít nhất {needed} ({MIN_DPI} dpi) — hãy quét lại rõ hơn",
                           f"the {name_en} image is too small: {image.width} pixels for "
                           f"{width_mm:g} mm, at least {needed} needed ({MIN_DPI} dpi) — "
                           "scan it again at a higher resolution")


def _finish(image: Image.Image, kind: ImageKind, width_mm: float) -> CheckedImage:
    dpi = image.width / (width_mm / 25.4)
    palette = image.quantize(colors=32, method=Image.Quantize.FASTOCTREE,
                             dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True, dpi=(dpi, dpi))
    return CheckedImage(kind=kind, png=out.getvalue(), width_px=image.width,
                        height_px=image.height, width_mm=width_mm)
