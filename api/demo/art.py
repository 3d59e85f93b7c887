"""Pictures for the demo commune: a blue handwritten signature and a red round seal.

Drawn with Pillow at run time (nothing is downloaded, nothing real is imitated):
transparent PNGs at 300 dpi, as Appendix I asks of signature and seal images, saved as
16-colour palette PNGs with per-entry transparency (the seal: 12 KB instead of 43 KB).
"""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw, ImageFont

from signer import body_font, reportlab_fonts

DPI = 300
SEAL_MM = 36  # a commune People's Committee seal is about 35–36 mm across
BLUE = (0, 51, 160, 255)
RED = (215, 25, 32, 235)
BOLD_FONTS = ("/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf",
              "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    palette = image.quantize(colors=16, method=Image.Quantize.FASTOCTREE,
                             dither=Image.Dither.NONE)
    palette.save(out, format="PNG", optimize=True, dpi=(DPI, DPI))
    return out.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in BOLD_FONTS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default()


def handwritten_signature(seed: int = 7) -> bytes:
    """A blue scribble on a transparent background, 50 × 20 mm."""
    width, height = int(50 / 25.4 * DPI), int(20 / 25.4 * DPI)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = []
    for i in range(200):
        t = i / 199
        x = 0.06 * width + 0.88 * width * t
        y = height * (0.55 + 0.28 * math.sin(2 * math.pi * (2.2 * t + seed / 10))
                      * math.cos(math.pi * 3 * t))
        points.append((x, y))
    draw.line(points, fill=BLUE, width=9, joint="curve")
    draw.line([(0.15 * width, 0.8 * height), (0.85 * width, 0.7 * height)], fill=BLUE, width=6)
    return _png(image)


def seal(body: str = "ỦY BAN NHÂN DÂN", place: str = "XÃ TIÊN LỮ",
         province: str = "TỈNH PHÚ THỌ") -> bytes:
    """A red round seal, ``SEAL_MM`` across: body name round the rim, a star in the middle."""
    size = int(SEAL_MM / 25.4 * DPI)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    c = size / 2
    draw.ellipse([6, 6, size - 6, size - 6], outline=RED, width=14)
    draw.ellipse([44, 44, size - 44, size - 44], outline=RED, width=5)
    rim_text = f"{body} {place} • {province} • "
    font = _font(34)
    radius = c - 72
    for i, char in enumerate(rim_text):
        angle = -math.pi / 2 + 2 * math.pi * i / len(rim_text)
        glyph = Image.new("RGBA", (60, 60), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((30, 30), char, font=font, fill=RED, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x, y = c + radius * math.cos(angle), c + radius * math.sin(angle)
        image.alpha_composite(glyph, (int(x - 30), int(y - 30)))
    star = [(c + r * math.cos(-math.pi / 2 + k * math.pi / 5),
             c + r * math.sin(-math.pi / 2 + k * math.pi / 5))
            for k, r in zip(range(10), [70, 28] * 5, strict=True)]
    draw.polygon(star, fill=RED)
    return _png(image)


HOUSEHOLDS = (
    ("Nguyễn Văn Bình", "Thôn Đông", "Xây mới"), ("Trần Thị Cúc", "Thôn Đông", "Sửa chữa"),
    ("Lê Văn Dũng", "Thôn Tây", "Xây mới"), ("Phạm Thị Hoa", "Thôn Tây", "Xây mới"),
    ("Hoàng Văn Khánh", "Thôn Nam", "Sửa chữa"), ("Vũ Thị Lan", "Thôn Nam", "Xây mới"),
    ("Đặng Văn Minh", "Thôn Bắc", "Sửa chữa"), ("Bùi Thị Nga", "Thôn Bắc", "Xây mới"),
    ("Đỗ Văn Phúc", "Khu phố 1", "Xây mới"), ("Ngô Thị Quỳnh", "Khu phố 1", "Sửa chữa"),
    ("Dương Văn Sơn", "Khu phố 2", "Xây mới"), ("Lý Thị Tâm", "Khu phố 2", "Sửa chữa"),
)


def appendix_pdf(main_number_line: str,
                 title: str = "DANH SÁCH HỘ GIA ĐÌNH ĐƯỢC HỖ TRỢ XÓA NHÀ TẠM, NHÀ DỘT NÁT",
                 rows: tuple[tuple[str, str, str], ...] = HOUSEHOLDS) -> bytes:
    """A one-page Phụ lục in its own file (names invented), as attached to a Quyết định."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    # Liberation Serif, the drafts' Times New Roman twin.
    regular, bold = reportlab_fonts(body_font("Times-Roman"), body_font("Times-Bold"))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    width, height = A4
    page.setFont(bold, 13)
    page.drawCentredString(width / 2, height - 110, "PHỤ LỤC")
    page.drawCentredString(width / 2, height - 130, title)
    page.setFont(regular, 12)
    page.drawCentredString(width / 2, height - 150, f"(Kèm theo {main_number_line})")
    columns = (70, 100, 300, 430)
    y = height - 190
    page.setFont(bold, 12)
    for x, text in zip(columns, ("TT", "Chủ hộ", "Thôn, khu phố", "Hình thức hỗ trợ"),
                       strict=True):
        page.drawString(x, y, text)
    page.setFont(regular, 12)
    for index, row in enumerate(rows, start=1):
        y -= 20
        for x, text in zip(columns, (str(index), *row), strict=True):
            page.drawString(x, y, text)
    page.showPage()
    page.save()
    return out.getvalue()
