"""Builders of tampered PDFs: each takes a signed demo document and attacks it one way.

Built at test time from documents the demo tokens sign (no binary blobs). The classes
follow the published attacks on PDF signatures (incremental saving, shadow
"hide"/"overlay", signature wrapping) plus plain damage (emptied, swapped or cut
signatures, bytes appended after %%EOF).
"""

from __future__ import annotations

import io
import re
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]\s*")


def _name(text: str) -> generic.NameObject:
    return generic.pdf_name(text)


def _numbers(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject([generic.FloatObject(v) for v in values])


def _written(writer: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _first_page(writer: IncrementalPdfFileWriter) -> Any:
    return writer.root["/Pages"]["/Kids"][0].get_object()


def _form_xobject(writer: IncrementalPdfFileWriter, box: tuple[float, float, float, float],
                  ops: bytes) -> generic.IndirectObject:
    x1, y1, x2, y2 = box
    stream = generic.StreamObject({
        _name("/Type"): _name("/XObject"),
        _name("/Subtype"): _name("/Form"),
        _name("/BBox"): _numbers(0, 0, x2 - x1, y2 - y1),
        _name("/Resources"): generic.DictionaryObject({
            _name("/Font"): generic.DictionaryObject({
                _name("/Helv"): generic.DictionaryObject({
                    _name("/Type"): _name("/Font"),
                    _name("/Subtype"): _name("/Type1"),
                    _name("/BaseFont"): _name("/Helvetica"),
                })})}),
    }, stream_data=ops)
    return writer.add_object(stream)


# ------------------------------------------------------------------ incremental updates


def change_page_content(signed: bytes, text: str = "So: 99/QD-UBND") -> bytes:
    """Incremental update appending a content stream to page 1: paints over and rewrites."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = _first_page(writer)
    font = generic.DictionaryObject({
        _name("/Type"): _name("/Font"), _name("/Subtype"): _name("/Type1"),
        _name("/BaseFont"): _name("/Helvetica")})
    ops = (b"q 1 1 1 rg 60 700 250 40 re f Q "
           b"BT /KysoTamper 14 Tf 70 715 Td (" + text.encode("latin-1") + b") Tj ET")
    extra = writer.add_object(generic.StreamObject(stream_data=ops))
    contents = page.raw_get("/Contents")
    parts = list(contents.get_object()) if isinstance(contents.get_object(), list) else [contents]
    page["/Contents"] = generic.ArrayObject([*parts, extra])
    resources = generic.DictionaryObject(dict(page["/Resources"].items()))
    fonts = resources["/Font"] if "/Font" in resources else generic.DictionaryObject()
    fonts = generic.DictionaryObject(dict(fonts.items()))
    fonts[_name("/KysoTamper")] = font
    resources[_name("/Font")] = fonts
    page[_name("/Resources")] = resources
    writer.update_container(page)
    return _written(writer)


def overlay_annotation(signed: bytes, box: tuple[float, float, float, float] = (60, 690, 320, 750),
                       ) -> bytes:
    """Shadow attack, "hide": an opaque white Square annotation over signed text, with
    a new text drawn on top of it (the annotation's own appearance)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = _first_page(writer)
    x1, y1, x2, y2 = box
    appearance = _form_xobject(writer, box, b"1 1 1 rg 0 0 %.1f %.1f re f "
                               b"0 0 0 rg BT /Helv 14 Tf 8 20 Td (So: 99/QD-UBND) Tj ET"
                               % (x2 - x1, y2 - y1))
    annot = writer.add_object(generic.DictionaryObject({
        _name("/Type"): _name("/Annot"),
        _name("/Subtype"): _name("/Square"),
        _name("/Rect"): _numbers(*box),
        _name("/F"): generic.NumberObject(4),
        _name("/IC"): _numbers(1, 1, 1),
        _name("/C"): _numbers(1, 1, 1),
        _name("/AP"): generic.DictionaryObject({_name("/N"): appearance}),
    }))
    if "/Annots" in page:
        annots = page["/Annots"]
        annots.append(annot)
        if isinstance(page.raw_get("/Annots"), generic.IndirectObject):
            writer.update_container(annots)
        else:
            writer.update_container(page)
    else:
        page[_name("/Annots")] = generic.ArrayObject([annot])
        writer.update_container(page)
    return _written(writer)


def change_field_value(signed: bytes, field: str, value: str) -> bytes:
    """Incremental update rewriting a text field's value (and its appearance)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    for ref in writer.root["/AcroForm"]["/Fields"]:
        node = ref.get_object()
        if str(node.get("/T", "")) == field:
            node[_name("/V")] = generic.TextStringObject(value)
            rect = [float(v) for v in node["/Rect"]]
            ap = _form_xobject(writer, (rect[0], rect[1], rect[2], rect[3]),
                               b"BT /Helv 12 Tf 2 4 Td (" + value.encode("latin-1") + b") Tj ET")
            node[_name("/AP")] = generic.DictionaryObject({_name("/N"): ap})
            writer.update_container(node)
            return _written(writer)
    raise KeyError(field)


def overlay_new_field(signed: bytes, box: tuple[float, float, float, float] = (60, 690, 320, 750),
                      value: str = "So: 99/QD-UBND") -> bytes:
    """Shadow attack, "overlay": a new text field with an opaque appearance over content."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = _first_page(writer)
    x1, y1, x2, y2 = box
    ap = _form_xobject(writer, box, b"1 1 1 rg 0 0 %.1f %.1f re f 0 0 0 rg "
                       b"BT /Helv 14 Tf 8 20 Td (%s) Tj ET"
                       % (x2 - x1, y2 - y1, value.encode("latin-1")))
    widget = writer.add_object(generic.DictionaryObject({
        _name("/Type"): _name("/Annot"),
        _name("/Subtype"): _name("/Widget"),
        _name("/FT"): _name("/Tx"),
        _name("/T"): generic.TextStringObject("Overlay"),
        _name("/V"): generic.TextStringObject(value),
        _name("/Rect"): _numbers(*box),
        _name("/F"): generic.NumberObject(4),
        _name("/AP"): generic.DictionaryObject({_name("/N"): ap}),
    }))
    acroform = writer.root.get("/AcroForm")
    if acroform is None:
        writer.root[_name("/AcroForm")] = generic.DictionaryObject(
            {_name("/Fields"): generic.ArrayObject([widget])})
        writer.update_root()
    else:
        acroform = acroform.get_object()
        acroform["/Fields"].append(widget)
        writer.update_container(acroform["/Fields"])
        writer.update_container(acroform)
    if "/Annots" in page:
        page["/Annots"].append(widget)
        writer.update_container(page["/Annots"])
    else:
        page[_name("/Annots")] = generic.ArrayObject([widget])
    writer.update_container(page)
    return _written(writer)


# ------------------------------------------------------------------ byte-level attacks


def _last_byte_range(data: bytes) -> re.Match[bytes]:
    matches = list(_BYTE_RANGE.finditer(data))
    if not matches:
        raise ValueError("no /ByteRange")
    return matches[-1]


def _rewrite_byte_range(data: bytes, match: re.Match[bytes], values: tuple[int, ...]) -> bytes:
    """Put ``values`` in the /ByteRange, keeping the file's length (the entry is padded)."""
    text = b"/ByteRange [%d %d %d %d]" % values
    width = match.end() - match.start()
    if len(text) > width:
        raise ValueError("no room for the new /ByteRange")
    return data[:match.start()] + text.ljust(width) + data[match.end():]


def wrap_short_byte_range(signed: bytes, cut: int = 200) -> bytes:
    """Signature wrapping: a /ByteRange that stops ``cut`` bytes before the end of the file."""
    match = _last_byte_range(signed)
    a, b, c, d = (int(v) for v in match.groups())
    return _rewrite_byte_range(signed, match, (a, b, c, d - cut))


def wrap_moved_content(signed: bytes, payload: bytes = b"\n9999 0 obj\n(injected) \nendobj\n",
                       ) -> bytes:
    """Signature wrapping: the second signed part moved further into the file, with
    new bytes inserted in the gap after /Contents and /ByteRange pointing past them."""
    match = _last_byte_range(signed)
    a, b, c, d = (int(v) for v in match.groups())
    moved = signed[:c] + payload + signed[c:]
    return _rewrite_byte_range(moved, _last_byte_range(moved), (a, b, c + len(payload), d))


def _contents_gap(data: bytes) -> tuple[int, int]:
    match = _last_byte_range(data)
    _, b, c, _ = (int(v) for v in match.groups())
    return b + 1, c - 1  # the hex digits between < and >


def empty_contents(signed: bytes) -> bytes:
    """The signature value zeroed: /Contents <000…0>."""
    start, end = _contents_gap(signed)
    return signed[:start] + b"0" * (end - start) + signed[end:]


def swap_contents(signed: bytes, other_signed: bytes) -> bytes:
    """/Contents replaced by the signature of another document (same reserved size)."""
    start, end = _contents_gap(signed)
    o_start, o_end = _contents_gap(other_signed)
    theirs = other_signed[o_start:o_end]
    if len(theirs) != end - start:
        raise ValueError("the two signatures reserve different sizes")
    return signed[:start] + theirs + signed[end:]


def truncate(signed: bytes, keep: float | int) -> bytes:
    """The file cut short: ``keep`` bytes (int) or a fraction of them (float)."""
    size = int(len(signed) * keep) if isinstance(keep, float) else keep
    return signed[:size]


def append_garbage(signed: bytes, garbage: bytes = b"<html><script>alert('x')</script></html>"
                   ) -> bytes:
    """Bytes that are no PDF update appended after the final %%EOF (a polyglot file)."""
    return signed + garbage
