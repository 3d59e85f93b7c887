"""How a signature looks on the page: Vietnamese text in an embedded serif font.

pyHanko's default stamp font is Latin-only (Vietnamese renders blank), and fonts
with 2048 units/em (Liberation) render letters spread apart; Noto Serif (1000
units/em) is used, embedded as a subset. The font is cut down to what a stamp
needs once per font and machine (see :func:`stamp_font`), not per signature.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import tempfile
import unicodedata
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

if TYPE_CHECKING:
    from PIL.Image import Image
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.writer import BasePdfFileWriter
    from pyhanko.pdf_utils.xref import ObjectStream
    from pyhanko.stamp import StaticStampStyle, TextStampStyle

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


class Placement(TypedDict, total=False):
    """The :class:`Appearance` fields the named constructors leave to their caller."""

    box: Rect
    page: int
    font_path: str | None


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
    def stamp(cls, signer_name: str, title: str = "", organisation: str = "", *,
              image: bytes | None = None, **kwargs: Unpack[Placement]) -> Appearance:
        """A bordered text stamp: who signed, their title and body, and when."""
        lines = [f"Ký bởi: {signer_name}"]
        if title:
            lines.append(f"Chức vụ: {title}")
        if organisation:
            lines.append(f"Cơ quan: {organisation}")
        lines.append(f"Thời gian ký: {TIME}")
        return cls(lines=tuple(lines), image=image, **kwargs)

    @classmethod
    def handwritten(cls, image: bytes, **kwargs: Unpack[Placement]) -> Appearance:
        """The person's handwritten-signature image alone (Appendix I: blue, transparent)."""
        return cls(image=image, border=False, **kwargs)

    @classmethod
    def seal(cls, image: bytes, body: str, *, caption: bool = False,
             **kwargs: Unpack[Placement]) -> Appearance:
        """The body's red seal at the top of its field. Appendix I prints nothing else on
        the main document (the body's name and the signing time are in the signature
        itself); ``caption`` adds them below the seal in 6 pt type, for a body that asks."""
        lines = (body, TIME) if caption else ()
        return cls(lines=lines, image=image, image_on_top=True, border=False,
                   font_size=6, **kwargs)

    @classmethod
    def corner(cls, lines: tuple[str, ...], **kwargs: Unpack[Placement]) -> Appearance:
        """Plain black text, 10 pt, no image, no border: attachments and copies."""
        return cls(lines=lines, border=False, font_size=10, **kwargs)

    def text(self, signing_time_iso: str) -> list[str]:
        return [unicodedata.normalize("NFC", line.replace(TIME, signing_time_iso))
                for line in self.lines]


#: Characters a stamp may need: Latin with every Vietnamese letter (precomposed, as
#: NFC text has them), combining marks, general punctuation and arrows.
STAMP_REPERTOIRE = [*range(0x20, 0x250), *range(0x300, 0x370), *range(0x1E00, 0x1F00),
                    *range(0x2000, 0x2070), *range(0x2190, 0x21A0)]


#: Bump when :func:`_cut_font` changes what it makes (the cached cuts are then remade).
CUT_VERSION = 1


@functools.lru_cache(maxsize=4)
def stamp_font(font_path: str) -> str:
    """A copy of ``font_path`` cut down to :data:`STAMP_REPERTOIRE`, without layout tables.

    pyHanko subsets the font again for every signature, and fontTools re-reads the
    whole GPOS/GSUB of a full font each time (≈200 ms for Noto Serif). Vietnamese
    NFC text needs no shaping: every letter has its own precomposed glyph. Cut once
    per font and kept in the user's cache folder (≈2 s of fontTools work that every
    `kyso sign` paid at start), named by the font's SHA-256, the cut's version and
    fontTools' version; in a private temporary folder when that folder cannot be written.
    """
    import hashlib

    import fontTools
    from platformdirs import user_cache_dir

    if not Path(font_path).is_file():
        raise SignerError(f"không tìm thấy phông chữ {font_path}", f"font {font_path} not found")
    source = Path(font_path).read_bytes()
    tag = hashlib.sha256(b"%d|%s|" % (CUT_VERSION, fontTools.version.encode())
                         + source).hexdigest()[:16]
    name = f"stamp-{tag}-{Path(font_path).name}"
    try:
        folder = Path(user_cache_dir("kyso")) / "fonts"
        target = folder / name
        if target.is_file():
            return str(target)
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="kyso-font-"))
        target = folder / name
    # written beside, then renamed: a process reading it never sees half a font
    handle, name_written = tempfile.mkstemp(dir=folder, prefix=".cut-", suffix=".ttf")
    os.close(handle)
    partial = Path(name_written)
    try:
        _cut_font(font_path, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return str(target)


def _cut_font(font_path: str, target: Path) -> None:
    from fontTools import subset

    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GPOS", "GSUB", "GDEF", "kern", "DSIG"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False  # screen hinting is useless in a stamp and slow to subset
    font = subset.load_font(font_path, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=STAMP_REPERTOIRE)
    subsetter.subset(font)
    if font["head"].unitsPerEm != 1000:
        # pyHanko lays out glyphs as if units/em were 1000: rescale fonts made with
        # 2048 (Liberation) or the letters stand twice as far apart as they should.
        # After the cut: scaling the whole font (its GPOS above all) took seconds
        from fontTools.ttLib.scaleUpem import scale_upem

        scale_upem(font, 1000)
    subset.save_font(font, str(target), options)


#: writer → (font file, size) → the font engine every text of that writer shares
_ENGINES: weakref.WeakKeyDictionary[BasePdfFileWriter, dict[tuple[str, int], GlyphAccumulator]] \
    = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=8)
def font_factory(font_path: str, size: int) -> GlyphAccumulatorFactory:
    """The pyHanko font factory of ``font_path`` (cut by :func:`stamp_font`) at ``size``.

    Its engines are shared per writer: the issuing act writes the number, day, month and
    year and the stamp in one revision, and an engine of its own for each text parsed
    the font again and embedded (and subset) it once more — a third of the act's time.
    The engines read the font parsed once per process and embed subsets made once per
    glyph set (:mod:`signer.fontcache`)."""
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory

    from .fontcache import shared_font_engine

    class Shared(GlyphAccumulatorFactory):
        def create_font_engine(self, writer: BasePdfFileWriter,
                               obj_stream: ObjectStream | None = None) -> GlyphAccumulator:
            engines = _ENGINES.setdefault(writer, {})
            key = (self.font_file, int(self.font_size))
            if key not in engines:
                engines[key] = (shared_font_engine(writer, self.font_file, self.font_size,
                                                   obj_stream)
                                or super().create_font_engine(writer, obj_stream))
            return engines[key]

    return Shared(stamp_font(font_path), font_size=size)


def preload_font(appearance: Appearance) -> None:
    """Parse ``appearance``'s font now (once per process, :mod:`signer.fontcache`), e.g.
    while a certificate check waits on the network, instead of when the stamp is written."""
    from .fontcache import shared_font_engine_font

    shared_font_engine_font(stamp_font(appearance.font_path or default_font()))


#: Longest side an image is embedded at (a 36 mm seal at 300 dpi is 425 px).
IMAGE_MAX_PX = 1000
#: Most colours kept from an image: its visible pixels are quantised to as few of
#: these as keep every channel within ``IMAGE_COLOUR_ERROR`` on average.
IMAGE_COLOURS = (1, 2, 4, 16)
IMAGE_COLOUR_ERROR = 8.0


def _colour_error(rgb: Image, palette_image: Image, visible: Image) -> float:
    from PIL import ImageChops, ImageStat

    diff = ImageChops.difference(rgb, palette_image.convert("RGB"))
    stat = ImageStat.Stat(diff, mask=visible)
    return max(stat.mean) if stat.count[0] else 0.0


@functools.lru_cache(maxsize=32)
def compact_image(png: bytes) -> tuple[Image, Image]:
    """``png`` as (palette image of at most 16 colours, 16-level alpha), both PIL 'P'
    images whose indices fit in 4 bits. Made once per image and process (a signer's
    signature and a body's seal are the same bytes every time; the images are only
    read afterwards): quantizing took a quarter of an approval signature's time.

    Seal and signature images are a colour or two with anti-aliased edges; embedded
    as 8-bit RGB plus an 8-bit soft mask (pyHanko's way) the demo seal took 40 KB.
    Pixels nobody sees take the main colour, so the index plane is mostly one value."""
    from PIL import Image

    try:
        opened = Image.open(io.BytesIO(png))
        opened.load()
    except (OSError, ValueError) as exc:
        raise SignerError("ảnh chữ ký/con dấu không đọc được (cần tệp PNG)",
                          "the signature/seal image cannot be read (a PNG is needed)") from exc
    image = opened.convert("RGBA")
    if max(image.size) > IMAGE_MAX_PX:
        image.thumbnail((IMAGE_MAX_PX, IMAGE_MAX_PX), Image.Resampling.LANCZOS)
    alpha = image.getchannel("A")
    visible = alpha.point(lambda v: 255 if v > 0 else 0)
    rgb = image.convert("RGB")
    counts = [(n, tuple(c)[:3]) for n, c in image.getcolors(1 << 24) or []
              if isinstance(c, tuple) and c[3] > 0]
    main = max(counts)[1] if counts else (0, 0, 0)
    flat = Image.new("RGB", image.size, main)
    flat.paste(rgb, mask=visible)
    palette = flat
    for count in IMAGE_COLOURS:
        palette = flat.quantize(colors=count, method=Image.Quantize.MEDIANCUT,
                                dither=Image.Dither.NONE)
        if _colour_error(flat, palette, visible) <= IMAGE_COLOUR_ERROR:
            break
    levels = Image.frombytes("P", alpha.size, alpha.point(lambda v: round(v / 17)).tobytes())
    return palette, levels


def _compact_xobject(writer: BasePdfFileWriter, palette: Image,
                     levels: Image) -> generic.IndirectObject:
    """Write the image XObject: /Indexed colours (4 bits a pixel) with a 4-bit /SMask."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    def number(value: int) -> generic.NumberObject:
        return generic.NumberObject(value)  # type: ignore[no-untyped-call]  # pyHanko's

    def stream(entries: dict[str, generic.PdfObject], image: Image) -> generic.IndirectObject:
        data = {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Image"),
                pdf_name("/Width"): number(image.width),
                pdf_name("/Height"): number(image.height),
                pdf_name("/BitsPerComponent"): number(4),
                **{pdf_name(k): v for k, v in entries.items()}}
        obj = generic.StreamObject(data, stream_data=image.tobytes("raw", "P;4"))
        obj.compress()  # type: ignore[no-untyped-call]
        return writer.add_object(obj)

    mask = stream({"/ColorSpace": pdf_name("/DeviceGray")}, levels)
    # a 'P' image counts palette indices
    used = max(index for _, index in palette.getcolors(16) or [(0, 0)]
               if isinstance(index, int)) + 1
    colours = bytes((palette.getpalette() or [0, 0, 0])[:3 * used]).ljust(3 * used, b"\0")
    space = generic.ArrayObject([pdf_name("/Indexed"), pdf_name("/DeviceRGB"),
                                 number(len(colours) // 3 - 1),
                                 generic.ByteStringObject(colours)])
    return stream({"/ColorSpace": space, "/SMask": mask}, palette)


def _pdf_image(png: bytes) -> PdfImage:
    """A pyHanko image content that embeds ``png`` compactly (:func:`compact_image`)."""
    from pyhanko.pdf_utils.images import PdfImage

    palette, levels = compact_image(png)

    class CompactImage(PdfImage):
        @property
        def image_ref(self) -> generic.IndirectObject:
            assert self.writer is not None  # as pyHanko's own image_ref
            ref = self._image_ref
            if ref is None \
                    or ref.get_pdf_handler() is not self.writer:  # type: ignore[no-untyped-call]
                self._image_ref = ref = _compact_xobject(self.writer, palette, levels)
            return ref

    return CompactImage(palette)


def text_width(text: str, size: float, font_path: str | None = None) -> float:
    """How wide ``text`` is set in the stamp font at ``size`` points."""
    cmap, advances = _metrics(stamp_font(font_path or default_font()))
    return sum(advances.get(cmap.get(ord(c), ""), 500) for c in text) * size / 1000


@functools.lru_cache(maxsize=4)
def _metrics(path: str) -> tuple[dict[int, str], dict[str, int]]:
    from fontTools.ttLib import TTFont

    font = TTFont(path)
    return dict(font.getBestCmap()), {name: adv for name, (adv, _) in font["hmtx"].metrics.items()}


def stamp_style(appearance: Appearance,
                signing_time_iso: str) -> TextStampStyle | StaticStampStyle:
    """A pyHanko stamp style showing ``appearance`` signed at ``signing_time_iso``.

    Text is set at its size (never shrunk to fit the box: a box too small clips, so the
    profiles size their boxes with :func:`text_width`); images are embedded compactly."""
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import StaticStampStyle, TextStampStyle

    background = _pdf_image(appearance.image) if appearance.image else None
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
    font = font_factory(appearance.font_path or default_font(), size)
    text = "\n".join(appearance.text(signing_time_iso)).replace("%", "%%")
    text_layout = None
    box_rule = None
    if appearance.image is None and not appearance.border:  # corner text: flush top left
        text_layout = layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins(0, 0, 0, 0),
            inner_content_scaling=layout.InnerScaling.NO_SCALING)
        # no padding round the text either: Appendix I's 10 pt is the printed size
        box_rule = layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins(0, 0, 0, 0),
            inner_content_scaling=layout.InnerScaling.NO_SCALING)
    elif appearance.image_on_top:
        text_layout = layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins(0, 0, 0, 0))
    return TextStampStyle(
        stamp_text=text,
        text_box_style=TextBoxStyle(font=font, font_size=size, leading=size + 1,
                                    box_layout_rule=box_rule),
        border_width=border,
        background=background,
        background_layout=image_layout,
        background_opacity=1.0,
        inner_content_layout=text_layout,
    )
