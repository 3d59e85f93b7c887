"""The big PDFs the benchmarks need, made at run time (never committed).

- :func:`long_draft`: a real draft's first and last pages with ``pages - 2`` pages of
  body text (Vietnamese, Liberation Serif, about 40 lines each) between them, so the
  number line is on page 1 and the signature block on the last page.
- :func:`scan`: ``pages`` A4 pages, each one greyscale page image, JPEG (DCT) or Flate
  compressed, sized so a 200-page Flate scan weighs about 80 MB (noise does not
  compress: the size is what a real scan at 150 dpi would take).
"""

from __future__ import annotations

import io
import random
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "tests" / "data" / "drafts" / "c_thong_bao_2trang.pdf"
ONE_PAGE = ROOT / "tests" / "data" / "drafts" / "t1_mau12_quyet_dinh.pdf"
A4 = (595.3, 841.9)
_LINE = ("Điều {n}. Ủy ban nhân dân xã giao các phòng, ban chuyên môn phối hợp thực hiện "
         "việc rà soát, tổng hợp và báo cáo kết quả trước ngày {n} hằng tháng.")


def _text_pages(count: int) -> bytes:
    """``count`` pages of body text (no "Số:" line, no signature block)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from signer import body_font

    pdfmetrics.registerFont(TTFont("BenchSerif", body_font("Times-Roman")))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    for number in range(count):
        page.setFont("BenchSerif", 11)
        for line in range(40):
            text = _LINE.format(n=number * 40 + line + 1)
            page.drawString(60, A4[1] - 70 - line * 18, text[:95])
        page.showPage()
    page.save()
    return out.getvalue()


def long_draft(pages: int) -> bytes:
    """A draft of ``pages`` pages (1: the one-page Mẫu 1.2; else the two-page Thông báo's
    first page, body pages, its last page)."""
    import pikepdf

    if pages == 1:
        return ONE_PAGE.read_bytes()
    with pikepdf.open(DRAFT) as draft, pikepdf.open(io.BytesIO(_text_pages(pages - 2))) as body:
        last = draft.pages[-1]
        del draft.pages[-1]
        draft.pages.extend(body.pages)
        draft.pages.append(last)
        out = io.BytesIO()
        draft.save(out)
        return out.getvalue()


def _image(width: int, height: int, kind: str, seed: int) -> tuple[bytes, str]:
    """A greyscale page image: a white page with noisy grey text-like bands."""
    rng = random.Random(seed)
    grey = bytes(0x80 | (b & 0x78) for b in range(256))  # 16 grey levels
    rows = []
    for y in range(height):
        if (y // 12) % 4 == 1 and 40 < y < height - 40:
            rows.append(rng.randbytes(width).translate(grey))
        else:
            rows.append(b"\xff" * width)
    raw = b"".join(rows)
    if kind == "flate":
        return zlib.compress(raw, 1), "/FlateDecode"
    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("L", (width, height), raw).save(out, "JPEG", quality=80)
    return out.getvalue(), "/DCTDecode"


def scan(pages: int, kind: str = "flate", width: int = 1240, height: int = 1754) -> bytes:
    """A scanned document of ``pages`` pages, each a ``width`` × ``height`` grey image
    (``kind``: ``flate`` or ``jpeg``); a few page images are made and reused by content
    (each page still has its own image object, as a scanner writes them)."""
    import pikepdf

    images = [_image(width, height, kind, seed) for seed in range(4)]
    pdf = pikepdf.new()
    for number in range(pages):
        data, codec = images[number % len(images)]
        image = pikepdf.Stream(pdf, data)
        image.stream_dict = pikepdf.Dictionary(
            Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=width, Height=height,
            ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8, Filter=pikepdf.Name(codec))
        content = pikepdf.Stream(pdf, f"q {A4[0]} 0 0 {A4[1]} 0 0 cm /Im0 Do Q".encode())
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=pikepdf.Array([0, 0, A4[0], A4[1]]),
            Contents=pdf.make_indirect(content),
            Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(
                Im0=pdf.make_indirect(image))))
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()
