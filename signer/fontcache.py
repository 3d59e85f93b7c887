"""The stamp font parsed once per process, and each embedded subset made once.

pyHanko's ``GlyphAccumulator`` parses its font file again for every engine (the whole
``glyf`` table, only to read glyph widths) and, when the PDF is written, subsets that copy
of the font and serialises it again: on the issuing act, which writes the number, the
date and the stamp, that was a third of the signature's time. Here the parsed font
(read-only: widths, names, metrics, the HarfBuzz face) is kept per font file and process,
and the serialised subset per set of glyphs: the subsetter runs, on a fresh copy of the
font, only for a glyph set not seen before (the digits of numbers and dates repeat).

Written against pyHanko 0.38's ``GlyphAccumulator`` (pyproject pins the minor series);
TrueType outlines only: a CFF font gets pyHanko's own engine.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uharfbuzz as hb
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.ttGlyphSet import _TTGlyphSet
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
    from pyhanko.pdf_utils.writer import BasePdfFileWriter
    from pyhanko.pdf_utils.xref import ObjectStream

__all__ = ["shared_font_engine", "shared_font_engine_font", "subset_cache_size"]

#: Serialised subsets kept per process (a few kB each).
SUBSETS_KEPT = 128


@dataclass(frozen=True)
class _Parsed:
    """One font file, parsed; never subset (a fresh copy is, per new glyph set)."""

    data: bytes
    tt: TTFont
    glyph_set: _TTGlyphSet
    hb_font: hb.Font
    ps_name: str
    reverse_cmap: dict[str, set[int]]
    cff: bool
    #: fontTools expands glyphs lazily on first access: one thread at a time
    lock: threading.Lock


_LOCK = threading.Lock()
_PARSED: dict[str, _Parsed] = {}
_SUBSETS: OrderedDict[tuple[str, frozenset[int]], bytes] = OrderedDict()


def _parsed(font_file: str) -> _Parsed:
    with _LOCK:
        found = _PARSED.get(font_file)
        if found is not None:
            return found
        import uharfbuzz as hb
        from fontTools.ttLib import TTFont
        from pyhanko.pdf_utils.font.opentype import _read_ps_name

        with open(font_file, "rb") as handle:
            data = handle.read()
        tt = TTFont(io.BytesIO(data))
        tt.ensureDecompiled()  # every table (and glyph) now: engines on other threads only read
        glyph_set = tt.getGlyphSet(preferCFF=True)
        tt.getGlyphOrder()
        parsed = _Parsed(data=data, tt=tt, glyph_set=glyph_set,
                         hb_font=hb.Font(hb.Face(data)), ps_name=_read_ps_name(tt),
                         reverse_cmap=tt["cmap"].buildReversed(), cff="CFF " in tt,
                         lock=threading.Lock())
        _PARSED[font_file] = parsed
        return parsed


def shared_font_engine_font(font_file: str) -> None:
    """Parse ``font_file`` for the shared engines now, unless this process already has."""
    _parsed(font_file)


def _subset(font_file: str, parsed: _Parsed, glyph_ids: frozenset[int]) -> bytes:
    """The font program embedded for ``glyph_ids``: pyHanko's own subsetting options
    (glyph ids kept, layout tables dropped), made once per glyph set."""
    key = (font_file, glyph_ids)
    with _LOCK:
        found = _SUBSETS.get(key)
        if found is not None:
            _SUBSETS.move_to_end(key)
            return found
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options(layout_closure=False)
    options.drop_tables += ["GPOS", "GDEF", "GSUB"]
    options.retain_gids = True
    font = TTFont(io.BytesIO(parsed.data))
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(gids=sorted(glyph_ids))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    made = out.getvalue()
    with _LOCK:
        _SUBSETS[key] = made
        while len(_SUBSETS) > SUBSETS_KEPT:
            _SUBSETS.popitem(last=False)
    return made


def subset_cache_size() -> int:
    """How many serialised subsets this process keeps (for tests and benchmarks)."""
    with _LOCK:
        return len(_SUBSETS)


#: How a shared engine is made: (writer, font file, parsed font, size, object stream).
_EngineClass = Callable[["BasePdfFileWriter", str, _Parsed, int, "ObjectStream | None"],
                        "GlyphAccumulator"]


def _engine_class() -> _EngineClass:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.font.api import FontEngine
    from pyhanko.pdf_utils.font.opentype import CIDFontType2, GlyphAccumulator

    class CachedType2(CIDFontType2):
        """Embeds the subset bytes it is given instead of saving its font again."""

        program: bytes = b""

        def set_font_file(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
            stream = generic.StreamObject(stream_data=self.program)
            stream.compress()  # type: ignore[no-untyped-call]
            ref = writer.add_object(stream)
            self._font_descriptor[generic.pdf_name("/FontFile2")] = ref
            return ref

    class SharedAccumulator(GlyphAccumulator):
        """pyHanko's engine over the process's parsed font (see the module)."""

        def __init__(self, writer: BasePdfFileWriter, font_file: str, parsed: _Parsed,
                     font_size: int, obj_stream: ObjectStream | None = None) -> None:
            # GlyphAccumulator.__init__ without its parse (pyHanko 0.38)
            self.hb_font = parsed.hb_font
            self.tt = parsed.tt
            FontEngine.__init__(self, writer, parsed.ps_name, embedded_subset=True,
                                obj_stream=obj_stream, font_size=font_size)
            self._font_ref = writer.allocate_placeholder()
            self.cff_charset = None
            self.use_raw_gids = True
            self._program = CachedType2(parsed.tt, parsed.ps_name, self.subset_prefix)
            self.cidfont_obj = self._program
            self.features = None
            self.units_per_em = parsed.tt["head"].unitsPerEm
            self._glyphs: dict[int, tuple[int, int]] = {}
            self._glyph_set = parsed.glyph_set
            self._cid_to_unicode: dict[int, str] = {}
            self._GlyphAccumulator__reverse_cmap = parsed.reverse_cmap
            self.ot_language_tag = self.ot_script_tag = None
            self.writing_direction = self.bcp47_lang_code = None
            self._subset_created = self._write_prepared = False
            self._font_file = font_file
            self._parsed = parsed

        def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
            with self._parsed.lock:
                result: tuple[int, int] = super()._get_cid_and_width(glyph_id)
                return result

        def _extract_subset(self, options: object = None) -> None:
            self._program.program = _subset(self._font_file, self._parsed,
                                               frozenset(self._glyphs))

    return SharedAccumulator


_ENGINE: _EngineClass | None = None


def shared_font_engine(writer: BasePdfFileWriter, font_file: str, font_size: int,
                       obj_stream: ObjectStream | None = None) -> GlyphAccumulator | None:
    """A pyHanko font engine for ``font_file`` in ``writer`` over the process's parsed
    font; None for a CFF font (the caller uses pyHanko's own engine)."""
    global _ENGINE
    parsed = _parsed(font_file)
    if parsed.cff:
        return None
    if _ENGINE is None:
        _ENGINE = _engine_class()
    if obj_stream is None and writer.stream_xrefs:
        obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
    return _ENGINE(writer, font_file, parsed, font_size, obj_stream)
