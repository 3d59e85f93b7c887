"""Seal and signature pictures: what an administrator's upload must be to be stamped."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from api.demo.art import handwritten_signature, seal
from signer import ImageKind, ImageRefused, check_seal, check_signature

RED = (215, 25, 32, 255)
BLUE = (0, 51, 160, 255)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def ring(side: int, colour: tuple[int, int, int, int], margin: int = 0,
         mode: str = "RGBA", background: tuple[int, ...] = (0, 0, 0, 0)) -> bytes:
    image = Image.new(mode, (side + 2 * margin, side + 2 * margin), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((margin, margin, margin + side - 1, margin + side - 1), outline=colour,
                 width=max(4, side // 25))
    draw.ellipse((margin + side // 3, margin + side // 3, margin + 2 * side // 3,
                  margin + 2 * side // 3), fill=colour)
    return png(image)


def scribble(width: int, colour: tuple[int, int, int, int]) -> bytes:
    image = Image.new("RGBA", (width, width // 3), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(x, int(width / 6 + (width / 8) * ((x // 20) % 2 * 2 - 1))) for x in
              range(5, width - 5, 20)]
    draw.line(points, fill=colour, width=max(3, width // 120))
    return png(image)


def refusal(check: object, data: bytes) -> ImageRefused:
    with pytest.raises(ImageRefused) as caught:
        check(data)  # type: ignore[operator]
    return caught.value


def test_the_demo_seal_is_accepted_trimmed_compact_and_at_its_real_size() -> None:
    checked = check_seal(seal(), diameter_mm=36)
    assert checked.kind is ImageKind.SEAL
    assert checked.width_px >= 36 / 25.4 * 200
    reopened = Image.open(io.BytesIO(checked.png))
    assert reopened.mode == "P" and "transparency" in reopened.info
    assert reopened.info["dpi"][0] == pytest.approx(checked.dpi, rel=0.01)
    assert len(checked.png) < 40_000


def test_the_demo_signature_is_accepted() -> None:
    checked = check_signature(handwritten_signature())
    assert checked.kind is ImageKind.SIGNATURE and checked.width_px >= 276


def test_empty_margins_are_trimmed() -> None:
    checked = check_seal(ring(400, RED, margin=150))
    assert (checked.width_px, checked.height_px) == (400, 400)


def test_only_png_is_decoded() -> None:
    out = io.BytesIO()
    Image.new("RGB", (500, 500), (255, 0, 0)).save(out, format="JPEG")
    assert "PNG" in refusal(check_seal, out.getvalue()).vi


def test_a_white_background_is_refused() -> None:
    error = refusal(check_seal, ring(400, RED, mode="RGB", background=(255, 255, 255)))
    assert "trong suốt" in error.vi and "transparent" in error.en


def test_a_painted_background_with_an_alpha_channel_is_refused() -> None:
    error = refusal(check_seal, ring(400, RED, background=(255, 255, 255, 255)))
    assert "trong suốt" in error.vi


def test_a_blue_seal_and_a_red_signature_are_refused_by_hue() -> None:
    assert "màu đỏ" in refusal(check_seal, ring(400, BLUE)).vi
    assert "màu xanh lam" in refusal(check_signature, scribble(600, RED)).vi


def test_a_grey_scan_has_no_coloured_strokes() -> None:
    assert "không có nét" in refusal(check_signature, scribble(600, (60, 60, 60, 255))).vi


def test_a_small_seal_names_the_resolution_needed() -> None:
    error = refusal(check_seal, ring(150, RED))
    assert "150 điểm ảnh" in error.vi and "283" in error.vi and "200 dpi" in error.en


def test_a_seal_must_be_round() -> None:
    image = Image.new("RGBA", (1000, 500), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((50, 50, 949, 449), outline=RED, width=20)
    assert "không tròn" in refusal(check_seal, png(image)).vi


def test_an_implausible_diameter_is_refused() -> None:
    with pytest.raises(ImageRefused, match="mm"):
        check_seal(seal(), diameter_mm=90)


def test_a_picture_with_too_many_pixels_is_refused_before_decoding() -> None:
    bomb = png(Image.new("1", (6000, 6000)))  # 36 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    assert "quá nhiều điểm ảnh" in refusal(check_seal, bomb).vi


def test_a_damaged_png_is_refused_cleanly() -> None:
    data = ring(400, RED)
    assert "hỏng" in refusal(check_seal, data[: len(data) // 2]).vi


def test_a_fully_transparent_picture_is_empty() -> None:
    assert "trống" in refusal(check_signature, png(Image.new("RGBA", (600, 200)))).vi
