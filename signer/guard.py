"""Bounded inspection of an untrusted PDF: loops, nesting, object counts and decompression bombs.

Every PDF Kyso receives comes from outside (a drafter's upload, a file sent for
verification), so nothing in it may make a walk endless or a decoding unbounded. This
module looks at the whole object graph once, with pikepdf, before any other code does:

- **trees** (page tree, AcroForm fields, outlines, name and number trees, the structure
  tree): walked with a visited set; a node met twice (a loop, or a node shared by two
  parents) is refused, and so is a tree with more nodes than ``max_objects``;
- **/Parent chains**: followed with a visited set, at most ``max_depth`` steps;
- **nesting**: arrays and dictionaries nested deeper than ``max_depth``;
- **objects**: more than ``max_objects`` indirect objects;
- **streams**: every stream's filters decoded step by step with an output cap (Flate
  through ``zlib.decompressobj(max_length)``, chained filters fed chunk by chunk), at most
  ``max_stream_mb`` per stream and ``max_decoded_mb`` for the whole document (a stream
  whose only filter is Flate is counted by the most it can inflate to,
  :data:`FLATE_MAX_RATIO` × its raw bytes, and inflated only when that does not settle
  either bound); image codecs (DCT, JPX, JBIG2, CCITT) are not decoded, their declared
  size is checked (``max_image_pixels``); LZW and RunLength, whose expansion cannot be
  streamed here, are decoded only below ``max_raw_other`` raw bytes.

Refusals are :class:`PdfHostile` with a ``code`` (the reason class) and where it was
found. What this module cannot bound itself (qpdf's own parsing, pyHanko's validator) is
bounded by running it in a child process with memory and time limits
(:mod:`signer.isolate`).
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import io
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from .errors import NotAPdf, PdfEncrypted, PdfHostile, PdfUnreadable
from .pdfinput import UPLOADED, not_a_pdf, pdf_error_detail

if TYPE_CHECKING:
    import pikepdf

#: An indirect object's (number, generation); None for a direct one.
ObjKey = tuple[int, int] | None

MB = 1024 * 1024

#: Image codecs: their stream is never decoded here, only its declared size checked.
IMAGE_CODECS = {"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"}
_FLATE = {"/FlateDecode", "/Fl"}
_SMALL_ONLY = {"/LZWDecode", "/LZW", "/RunLengthDecode", "/RL"}
_HEX = {"/ASCIIHexDecode", "/AHx"}
_A85 = {"/ASCII85Decode", "/A85"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class PdfLimits:
    """How much of a PDF Kyso is willing to look at (each bound has a test in
    tests/test_hostile.py)."""

    max_bytes: int = 50 * MB
    max_pages: int = 300
    #: indirect objects in the file; also the most nodes one tree may have
    max_objects: int = 200_000
    #: arrays/dictionaries nested in one another; also the longest /Parent chain
    max_depth: int = 100
    #: decoded bytes of one stream
    max_stream_mb: int = 128
    #: decoded bytes of all streams together
    max_decoded_mb: int = 512
    #: width × height of one image
    max_image_pixels: int = 200_000_000
    #: raw bytes of a stream whose filter cannot be decoded in bounded steps (LZW, RunLength)
    max_raw_other: int = 256 * 1024
    #: whether page images are inflated to count their decoded bytes. Only what reads
    #: a file for rewriting needs it (a draft); verification never decodes an image
    #: (:mod:`signer.changes` compares encoded bytes), so its limits leave them encoded:
    #: an image is then bounded by its declared size (``max_image_pixels``) alone.
    inflate_images: bool = True


def _where(obj: pikepdf.Object) -> str:
    objgen = getattr(obj, "objgen", (0, 0))
    return f"đối tượng {objgen[0]} {objgen[1]}" if objgen != (0, 0) else "trong tệp"


def _where_en(obj: pikepdf.Object) -> str:
    objgen = getattr(obj, "objgen", (0, 0))
    return f"object {objgen[0]} {objgen[1]}" if objgen != (0, 0) else "in the file"


def refuse(code: str, vi: str, en: str, obj: pikepdf.Object | None = None) -> PdfHostile:
    """A :class:`PdfHostile` naming ``obj`` (its object number) when given."""
    if obj is not None:
        vi, en = f"{vi} ({_where(obj)})", f"{en} ({_where_en(obj)})"
    return PdfHostile(code, vi, en)


#: Below this size a PDF is handed to qpdf as a memory-mapped anonymous file (one copy)
#: rather than a Python stream: qpdf then reads its objects straight from memory, not
#: through a Python ``read`` call each (half the time to resolve every object of a
#: 300-page draft). Above it the copy costs more than the calls.
MAPPED_BELOW = 4 * MB


@contextlib.contextmanager
def _source(pdf: bytes) -> Iterator[tuple[BinaryIO, pikepdf.AccessMode]]:
    """What pikepdf opens ``pdf`` from, open while the document is."""
    import pikepdf

    if len(pdf) >= MAPPED_BELOW or not hasattr(os, "memfd_create"):
        yield io.BytesIO(pdf), pikepdf.AccessMode.default
        return
    fd = os.memfd_create("kyso-pdf", os.MFD_CLOEXEC)
    with os.fdopen(fd, "w+b") as mapped:
        mapped.write(pdf)
        mapped.seek(0)
        yield mapped, pikepdf.AccessMode.mmap


@contextlib.contextmanager
def open_pdf(pdf: bytes, limits: PdfLimits, *, inherit: bool = False,
             source: str = UPLOADED) -> Iterator[pikepdf.Pdf]:
    """A pikepdf document over ``pdf`` (closed when the block ends), refusing what is too
    large, not a PDF or encrypted.

    ``inherit``: push inherited page attributes down to every page as qpdf opens the file
    (what editing needs). Off for checking: qpdf would walk the whole page tree first
    (8 s for 100,000 pages) before the bounded walk could refuse it."""
    import pikepdf

    if len(pdf) > limits.max_bytes:
        raise refuse("size", f"tệp lớn hơn giới hạn {limits.max_bytes // MB} MB",
                     f"the file is larger than {limits.max_bytes // MB} MB")
    if not_a_pdf(pdf):
        raise NotAPdf()
    with _source(pdf) as (stream, mode):
        try:
            doc = pikepdf.open(stream, inherit_page_attributes=inherit, access_mode=mode)
        except pikepdf.PasswordError as exc:
            raise PdfEncrypted() from exc
        except (pikepdf.PdfError, RecursionError, ValueError) as exc:
            if "loop detected" in str(exc).lower():
                raise refuse("loop", "cây trang có vòng lặp",
                             "the page tree has a loop") from exc
            raise PdfUnreadable(*pdf_error_detail(exc, source)) from exc
        with doc:
            if doc.is_encrypted:
                raise PdfEncrypted()
            yield doc


def _qpdf_warnings(doc: pikepdf.Pdf) -> None:
    """Refuse what qpdf itself had to cut while parsing (it drops structures nested more
    than 500 deep, and loops it meets): the file says something else to other readers."""
    for warning in doc.get_warnings():
        text = str(warning).lower()
        if "deeply nested" in text:
            raise refuse("depth", "cấu trúc lồng nhau quá sâu (bộ đọc PDF đã phải cắt bỏ)",
                         "structures nested too deeply (the PDF reader had to drop them)")
        if "loop detected" in text:
            raise refuse("loop", "cấu trúc có vòng lặp (bộ đọc PDF đã phải cắt bỏ)",
                         "a structure loops (the PDF reader had to cut it)")


# ------------------------------------------------------------------------------ trees

def _get(obj: pikepdf.Object, key: str) -> pikepdf.Object | None:
    """``obj.get(key)``, quick when the key is missing (pikepdf's ``get`` then costs ten
    times as much: it raises and catches a KeyError in C++)."""
    return obj[key] if key in obj else None  # noqa: SIM401 (the point)


def _key(obj: pikepdf.Object) -> ObjKey:
    """Identity of an indirect node (its object number); None for a direct one, which
    cannot be part of a loop (direct objects form a tree)."""
    objgen = obj.objgen
    return objgen if objgen != (0, 0) else None


def _loop(name_vi: str, name_en: str, node: pikepdf.Object) -> PdfHostile:
    return refuse("loop", f"{name_vi} có vòng lặp hoặc nút dùng chung",
                  f"the {name_en} has a loop or a shared node", node)


def _too_big(name_vi: str, name_en: str, limit: int) -> PdfHostile:
    return refuse("objects", f"{name_vi} có hơn {limit} nút",
                  f"the {name_en} has more than {limit} nodes")


def _walk_kids(roots: list[pikepdf.Object | None], limits: PdfLimits, name_vi: str, name_en: str,
               key: str = "/Kids") -> Iterator[pikepdf.Object]:
    """Every node of a /Kids tree (page tree, fields, name and number trees), once."""
    import pikepdf

    seen: set[ObjKey] = set()
    count = 0
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        ident = _key(node)
        if ident is not None:
            if ident in seen:
                raise _loop(name_vi, name_en, node)
            seen.add(ident)
        count += 1
        if count > limits.max_objects:
            raise _too_big(name_vi, name_en, limits.max_objects)
        yield node
        kids = _get(node, key)
        if isinstance(kids, pikepdf.Array):
            stack.extend(reversed(list(kids)))
        elif isinstance(kids, pikepdf.Dictionary):
            stack.append(kids)


@functools.cache
def _name(text: str) -> pikepdf.Name:
    """The pikepdf Name ``text``, made once (a Name tests membership in a dictionary in
    half the time a str does)."""
    import pikepdf

    return pikepdf.Name(text)


def page_leaves(doc: pikepdf.Pdf, limits: PdfLimits) -> list[pikepdf.Object]:
    """The page leaves of the page tree, walked with a visited set (as :func:`_walk_kids`,
    in one loop: a file may have thousands of pages); refused above ``max_pages``.

    The visited set is pikepdf's ``ObjectSet`` (identity: every reference to an indirect
    object is that object; direct objects, which form a tree, are each their own)."""
    import pikepdf

    kids_key = _name("/Kids")
    leaves: list[pikepdf.Object] = []
    seen = pikepdf.ObjectSet()
    count = 0
    stack: list[pikepdf.Object | None] = [doc.Root.get("/Pages")]
    while stack:
        node = stack.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if not seen.add(node):
            raise _loop("cây trang", "page tree", node)
        count += 1
        if count > limits.max_objects:
            raise _too_big("cây trang", "page tree", limits.max_objects)
        if kids_key not in node:
            leaves.append(node)
            if len(leaves) > limits.max_pages:
                raise refuse("pages", f"tệp có hơn {limits.max_pages} trang, quá giới hạn",
                             f"the file has more than {limits.max_pages} pages, over the "
                             "limit")
            continue
        kids = node[kids_key]
        if isinstance(kids, pikepdf.Array):
            stack.extend(reversed(list(kids)))
        elif isinstance(kids, pikepdf.Dictionary):
            stack.append(kids)
    return leaves


def page_count(doc: pikepdf.Pdf, limits: PdfLimits) -> int:
    """The number of page leaves (:func:`page_leaves`)."""
    return len(page_leaves(doc, limits))


def fields(doc: pikepdf.Pdf, limits: PdfLimits) -> Iterator[pikepdf.Object]:
    """Every AcroForm field and widget, each once (a field listed as its own kid is refused)."""
    import pikepdf

    form = doc.Root.get("/AcroForm")
    if not isinstance(form, pikepdf.Dictionary):
        return
    top = form.get("/Fields")
    if not isinstance(top, pikepdf.Array):
        return
    yield from _walk_kids(list(top), limits, "cây trường biểu mẫu", "form field tree")


def _walk_outlines(doc: pikepdf.Pdf, limits: PdfLimits) -> None:
    import pikepdf

    outlines = doc.Root.get("/Outlines")
    if not isinstance(outlines, pikepdf.Dictionary):
        return
    seen: set[ObjKey] = {_key(outlines)}
    count = 0
    heads = [outlines.get("/First")]
    while heads:
        item = heads.pop()
        while isinstance(item, pikepdf.Dictionary):
            ident = _key(item)
            if ident is not None:
                if ident in seen:
                    raise _loop("mục lục (outline)", "outline", item)
                seen.add(ident)
            count += 1
            if count > limits.max_objects:
                raise _too_big("mục lục", "outline", limits.max_objects)
            heads.append(item.get("/First"))
            item = item.get("/Next")


def _walk_struct(doc: pikepdf.Pdf, limits: PdfLimits) -> None:
    """The structure tree (/StructTreeRoot /K …) and its /ParentTree number tree."""
    import pikepdf

    root = doc.Root.get("/StructTreeRoot")
    if not isinstance(root, pikepdf.Dictionary):
        return
    for _ in _walk_kids([root], limits, "cây cấu trúc", "structure tree", key="/K"):
        pass
    parent_tree = root.get("/ParentTree")
    if isinstance(parent_tree, pikepdf.Dictionary):
        for _ in _walk_kids([parent_tree], limits, "cây số (ParentTree)", "number tree"):
            pass


def _walk_name_trees(doc: pikepdf.Pdf, limits: PdfLimits) -> None:
    import pikepdf

    names = doc.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key in list(names.keys()):
            for _ in _walk_kids([names[key]], limits, f"cây tên {key}", f"name tree {key}"):
                pass
    labels = doc.Root.get("/PageLabels")
    if isinstance(labels, pikepdf.Dictionary):
        for _ in _walk_kids([labels], limits, "cây nhãn trang", "page label tree"):
            pass
    dests = doc.Root.get("/Dests")
    if isinstance(dests, pikepdf.Dictionary) and "/Kids" in dests:
        for _ in _walk_kids([dests], limits, "cây đích", "destination tree"):
            pass


def _parent_chain(node: pikepdf.Object, limits: PdfLimits, good: set[ObjKey]) -> None:
    """Follow /Parent upwards: at most ``max_depth`` steps, never the same node twice."""
    import pikepdf

    chain: list[ObjKey] = []
    seen: set[ObjKey] = set()
    current: pikepdf.Object | None = node
    steps = 0
    while isinstance(current, pikepdf.Dictionary):
        ident = _key(current)
        steps += 1
        if ident is not None and ident in good:
            break
        if ident is not None and ident in seen:
            raise refuse("loop", "chuỗi /Parent có vòng lặp",
                         "a /Parent chain loops", node)
        if ident is not None:
            seen.add(ident)
            chain.append(ident)
        if steps > limits.max_depth:
            raise refuse("depth", f"chuỗi /Parent dài hơn {limits.max_depth} bậc",
                         f"a /Parent chain is longer than {limits.max_depth}", node)
        current = current.get("/Parent")
    good.update(chain)


# ------------------------------------------------------------------------------ streams

#: Deflate's largest expansion: a match of 258 bytes written in two bits (a one-bit
#: length code and a one-bit distance code, the shortest codes there are), so at most
#: 1032 decoded bytes per encoded byte (zlib's own figure; 1030:1 is what zlib reaches
#: on a run of zeros). A stream with Flate as its only filter decodes to at most this
#: many times its raw length, whatever its bytes: zlib cannot be made to do more.
FLATE_MAX_RATIO = 1032


class _Budget:
    """The decoded bytes of the file's streams, against ``max_decoded_mb``.

    A stream is counted exactly (``add``) or, when Flate is its only filter, by the
    most it can decode to (``bound``: :data:`FLATE_MAX_RATIO` × its raw length, which
    is also under ``max_stream_mb`` or the stream is inflated at once). Bounds are only
    a shortcut: when the exact counts and the bounds together pass the limit,
    :meth:`settle` inflates the streams counted by a bound, the largest first (in
    bounded steps, as every stream), until the total fits or the file is refused. A file
    is refused exactly when its streams' decoded bytes do exceed the limit."""

    def __init__(self, limits: PdfLimits) -> None:
        self.limits = limits
        self.total = 0
        self.bounded = 0
        #: (bound, stream) of the streams counted by a bound
        self._pending: list[tuple[int, pikepdf.Object]] = []

    def add(self, count: int, stream: pikepdf.Object) -> None:
        self.total += count
        if self.total > self.limits.max_decoded_mb * MB:
            raise refuse("bomb", f"nội dung giải nén của tệp vượt quá "
                                 f"{self.limits.max_decoded_mb} MB (bom giải nén)",
                         f"the file's decompressed content exceeds "
                         f"{self.limits.max_decoded_mb} MB (decompression bomb)", stream)

    def bound(self, most: int, stream: pikepdf.Object) -> None:
        """Count ``stream`` by ``most``, the most it can decode to."""
        self._pending.append((most, stream))
        self.bounded += most

    def settle(self) -> None:
        """Inflate streams counted by a bound until the total provably fits."""
        limit = self.limits.max_decoded_mb * MB
        if self.total + self.bounded <= limit:
            return
        self._pending.sort(key=lambda pending: pending[0])  # the largest last
        while self.total + self.bounded > limit and self._pending:
            most, stream = self._pending.pop()
            self.bounded -= most
            _decoded_size(stream, self.limits, self)


def _filters(stream: pikepdf.Object) -> list[str]:
    import pikepdf

    value = _get(stream, "/Filter")
    if value is None:
        return []
    if isinstance(value, pikepdf.Name):
        return [str(value)]
    if isinstance(value, pikepdf.Array):
        return [str(v) for v in value]
    raise refuse("filter", "bộ lọc luồng không hợp lệ", "an invalid stream filter", stream)


def _flate(chunks: Iterator[bytes], cap: int, stream: pikepdf.Object) -> Iterator[bytes]:
    """Inflate ``chunks`` lazily, never producing more than ``cap`` + one chunk."""
    inflater = zlib.decompressobj()
    produced = 0
    try:
        for chunk in chunks:
            data = chunk
            while data:
                out = inflater.decompress(data, _CHUNK)
                data = inflater.unconsumed_tail
                produced += len(out)
                if produced > cap:
                    raise _bomb(cap, stream)
                if out:
                    yield out
                if inflater.eof:
                    return
        tail = inflater.flush(_CHUNK)
        produced += len(tail)
        if produced > cap:
            raise _bomb(cap, stream)
        if tail:
            yield tail
    except zlib.error:
        return  # damaged data: readers stop there too; nothing more is produced


def _inflated_size(raw: bytes, cap: int, stream: pikepdf.Object) -> int:
    """How many bytes the Flate data ``raw`` inflates to: what :func:`_flate` counts, in
    steps of at most one chunk, without its generator (most streams take one step)."""
    inflater = zlib.decompressobj()
    produced = 0
    data = raw
    try:
        while data:
            produced += len(inflater.decompress(data, _CHUNK))
            if produced > cap:
                raise _bomb(cap, stream)
            if inflater.eof:
                return produced
            data = inflater.unconsumed_tail
        produced += len(inflater.flush(_CHUNK))
    except zlib.error:
        pass  # damaged data: readers stop there too; nothing more is produced
    if produced > cap:
        raise _bomb(cap, stream)
    return produced


def _bomb(cap: int, stream: pikepdf.Object) -> PdfHostile:
    return refuse("bomb", f"một luồng giải nén ra hơn {cap // MB} MB (bom giải nén)",
                  f"a stream decompresses to more than {cap // MB} MB (decompression bomb)",
                  stream)


def _whole(chunks: Iterator[bytes], cap: int, stream: pikepdf.Object) -> bytes:
    out = bytearray()
    for chunk in chunks:
        out += chunk
        if len(out) > cap:
            raise _bomb(cap, stream)
    return bytes(out)


def _decoded_size(stream: pikepdf.Object, limits: PdfLimits, budget: _Budget) -> None:
    """Decode ``stream``'s filters in bounded steps, counting what comes out."""
    import pikepdf

    filters = _filters(stream)
    cap = limits.max_stream_mb * MB
    raw = stream.read_raw_bytes()
    if not filters:
        budget.add(len(raw), stream)
        return
    if len(filters) == 1 and filters[0] in _FLATE:
        budget.add(_inflated_size(raw, cap, stream), stream)
        return
    chunks: Iterator[bytes] = iter([raw[i:i + _CHUNK] for i in range(0, len(raw), _CHUNK)])
    for position, name in enumerate(filters):
        if name in IMAGE_CODECS:
            if position != len(filters) - 1:
                raise refuse("filter", f"bộ lọc ảnh {name} không đứng cuối chuỗi",
                             f"the image filter {name} is not the last one", stream)
            _whole(chunks, cap, stream)  # what the codec reads, bounded
            return
        if name in _FLATE:
            chunks = _flate(chunks, cap, stream)
        elif name in _HEX:
            data = _whole(chunks, cap, stream)
            text = bytes(c for c in data.split(b">")[0] if chr(c) in "0123456789abcdefABCDEF")
            chunks = iter([binascii.unhexlify(text + b"0" * (len(text) % 2))])
        elif name in _A85:
            import base64

            data = _whole(chunks, cap, stream).strip()
            try:
                body = data[2:] if data.startswith(b"<~") else data
                chunks = iter([base64.a85decode(body.split(b"~>")[0], adobe=False,
                                                ignorechars=b" \t\n\r\x0b\x0c")])
            except ValueError:
                chunks = iter([])
        elif name in _SMALL_ONLY:
            data = _whole(chunks, cap, stream)
            if len(data) > limits.max_raw_other:
                raise refuse("filter", f"luồng {name} lớn hơn {limits.max_raw_other // 1024} KB",
                             f"a {name} stream is larger than {limits.max_raw_other // 1024} KB",
                             stream)
            if position != len(filters) - 1 or position != 0:
                raise refuse("filter", f"bộ lọc {name} trong một chuỗi bộ lọc",
                             f"the filter {name} inside a chain of filters", stream)
            try:
                chunks = iter([stream.read_bytes(pikepdf.StreamDecodeLevel.specialized)])
            except pikepdf.PdfError:
                chunks = iter([])
        else:
            raise refuse("filter", f"bộ lọc luồng không được hỗ trợ ({name})",
                         f"an unsupported stream filter ({name})", stream)
    for chunk in chunks:
        budget.add(len(chunk), stream)


def _check_image(stream: pikepdf.Object, limits: PdfLimits) -> None:
    try:
        width, height = int(stream.get("/Width", 0)), int(stream.get("/Height", 0))
    except (TypeError, ValueError) as exc:
        raise refuse("image", "kích thước ảnh không hợp lệ", "an invalid image size",
                     stream) from exc
    if width < 0 or height < 0 or width * height > limits.max_image_pixels:
        raise refuse("image", f"ảnh {width}×{height} điểm ảnh, quá giới hạn "
                              f"{limits.max_image_pixels // 1_000_000} triệu điểm",
                     f"an image of {width}×{height} pixels, over the limit of "
                     f"{limits.max_image_pixels // 1_000_000} million", stream)


#: How qpdf's JSON of a stream dictionary names Flate as its filter.
_FLATE_TEXT = (b'"/Filter": "/FlateDecode"', b'"/Filter": "/Fl"')


def _check_stream(stream: pikepdf.Object, text: bytes, limits: PdfLimits,
                  budget: _Budget) -> None:
    """Check one stream: an image's size, every other stream's decoded bytes (in bounded
    steps, or bounded by :data:`FLATE_MAX_RATIO` without inflating it).

    ``text`` is qpdf's JSON of the stream's dictionary (names as strings in their plain
    form, each key followed by ``": "`` and its value): without ``/Filter`` or
    ``/Image`` in it, the dictionary has no such key or value. With ``/Filter`` once,
    followed by the name of Flate, either the filter is Flate alone or (the words being in a string
    or a nested dictionary) there is none, and the stream's raw bytes are all it decodes
    to: :data:`FLATE_MAX_RATIO` × raw bounds both."""
    # (bytes.find, not ``in``: three times quicker on these short texts, once a stream)
    if text.find(b"/Image") >= 0 and _get(stream, "/Subtype") == "/Image":
        _check_image(stream, limits)
        if not limits.inflate_images:
            _filters(stream)  # still a valid filter name or array
            return
    filters = text.count(b"/Filter")
    if not filters:
        budget.add(len(stream.read_raw_bytes()), stream)
        return
    if filters == 1 and (text.find(_FLATE_TEXT[0]) >= 0 or text.find(_FLATE_TEXT[1]) >= 0):
        most = FLATE_MAX_RATIO * len(stream.read_raw_bytes())
        if most <= limits.max_stream_mb * MB:
            budget.bound(most, stream)
            return
    _decoded_size(stream, limits, budget)


# ------------------------------------------------------------------------------ forms

#: Form XObjects drawn inside one another: at most this deep.
MAX_FORM_NESTING = 32
#: Form XObjects a page may draw, counted through every nesting (one form used by
#: two forms counts twice): a "billion laughs" of forms is refused.
MAX_FORM_USES = 20_000


def _walk_forms(pages: list[pikepdf.Object]) -> None:
    """Refuse form XObjects that draw themselves (a cycle), nest deeper than
    :data:`MAX_FORM_NESTING` or would be drawn more than :data:`MAX_FORM_USES` times on a
    page. Works on /Resources, an upper bound of what the content streams can draw."""
    import pikepdf

    uses: dict[ObjKey, int] = {}
    #: the forms of each indirect /Resources dictionary (pages often share one)
    shared: dict[ObjKey, list[pikepdf.Object]] = {}

    def children(holder: pikepdf.Object) -> list[pikepdf.Object]:
        resources = holder.get("/Resources")
        if not isinstance(resources, pikepdf.Dictionary):
            return []
        key = _key(resources)
        if key is not None and key in shared:
            return shared[key]
        xobjects = resources.get("/XObject")
        found: list[pikepdf.Object] = [] if not isinstance(xobjects, pikepdf.Dictionary) else [
            x for x in xobjects.values()
            if isinstance(x, pikepdf.Stream) and x.stream_dict.get("/Subtype") == "/Form"]
        if key is not None:
            shared[key] = found
        return found

    def count(form: pikepdf.Object) -> int:
        # iterative depth-first post-order: (form, depth, children pending?)
        stack: list[tuple[pikepdf.Object, int, bool]] = [(form, 1, False)]
        on_path: set[ObjKey] = set()
        while stack:
            node, depth, expanded = stack.pop()
            key = node.objgen
            if expanded:
                on_path.discard(key)
                total = 1 + sum(uses[c.objgen] for c in children(node))
                uses[key] = min(total, MAX_FORM_USES + 1)
                continue
            if key in uses:
                continue
            if key in on_path:
                raise refuse("loop", "một hình mẫu (form XObject) tự vẽ lại chính nó",
                             "a form XObject draws itself", node)
            if depth > MAX_FORM_NESTING:
                raise refuse("depth", f"hình mẫu lồng nhau sâu hơn {MAX_FORM_NESTING} bậc",
                             f"form XObjects nested deeper than {MAX_FORM_NESTING}", node)
            on_path.add(key)
            stack.append((node, depth, True))
            stack.extend((c, depth + 1, False) for c in children(node) if c.objgen not in uses)
        return uses[form.objgen]

    for page in pages:  # the leaves of the page tree, already walked
        total = sum(count(form) for form in children(page))
        if total > MAX_FORM_USES:
            raise refuse("objects", f"một trang vẽ hơn {MAX_FORM_USES} hình mẫu lồng nhau",
                         f"a page draws more than {MAX_FORM_USES} nested form XObjects", page)


# ------------------------------------------------------------------------------ the walk

def _nesting(obj: pikepdf.Object, limits: PdfLimits) -> Iterator[pikepdf.Object]:
    """Every direct dictionary/array inside the indirect object ``obj`` (and ``obj``),
    refusing nesting deeper than ``max_depth``."""
    import pikepdf

    stack: list[tuple[pikepdf.Object, int]] = [(obj, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limits.max_depth:
            raise refuse("depth", f"cấu trúc lồng nhau sâu hơn {limits.max_depth} bậc",
                         f"structures nested deeper than {limits.max_depth} levels", obj)
        yield item
        children = item.values() if isinstance(item, pikepdf.Dictionary) else item
        for child in children:
            if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect:
                stack.append((child, depth + 1))


def containers(doc: pikepdf.Pdf,
               limits: PdfLimits) -> Iterator[tuple[pikepdf.Object, pikepdf.Object]]:
    """(indirect object, dictionary or array in it) for everything in the file, each
    indirect object once, nesting bounded. The trailer comes first."""
    import pikepdf

    for item in _nesting(doc.trailer, limits):
        yield doc.trailer, item
    for obj in doc.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream):
            top = obj.stream_dict if isinstance(obj, pikepdf.Stream) else obj
            for item in _nesting(top, limits):
                yield obj, item


#: A /Parent entry whose value is a reference, in qpdf's JSON of an object.
_PARENT_REF = re.compile(rb'"/Parent": "(\d+) (\d+) R"')


def _objects_checked(doc: pikepdf.Pdf, objects: Iterable[pikepdf.Object],
                     limits: PdfLimits) -> bool:
    """What :func:`containers` with :func:`_parent_chain` on every dictionary holding a
    /Parent would refuse, for every object of the file, and every stream's image size
    and decoded bytes (:func:`_check_stream`), in one pass; whether the file may have
    pages drawing form XObjects (a stream whose dictionary says ``/Form`` and a
    dictionary or array that says ``/XObject``: :func:`_walk_forms` has nothing to find
    otherwise).

    Most objects are decided from their text as qpdf writes it in JSON (one C++ call,
    instead of one Python step per nested array or dictionary; a stream: its
    dictionary): names as UTF-8 strings in their plain form, strings prefixed ``u:`` or
    ``b:``, references as ``"n g R"``. An object whose text has at most ``max_depth``
    openers (``[``, ``{``) cannot nest deeper than that, and one without ``/Parent`` in
    its text has no dictionary with a /Parent key. One ``/Parent`` followed by a
    reference to a node whose chain is already checked ends there, whichever dictionary
    of the object holds it (a page and its page tree node; the object itself is not
    marked checked, so a chain through it takes one step more). Strings may add to
    these counts, never take from them: an object the text does not clear is walked
    exactly, as before."""
    import pikepdf

    good: set[ObjKey] = set()
    for item in _nesting(doc.trailer, limits):
        if isinstance(item, pikepdf.Dictionary) and "/Parent" in item:
            _parent_chain(item, limits, good)
    budget = _Budget(limits)
    forms = holders = False
    quick_parent = limits.max_depth >= 1  # a node and a checked parent: two steps
    for obj in objects:
        stream = isinstance(obj, pikepdf.Stream)
        if not stream and not isinstance(obj, (pikepdf.Dictionary, pikepdf.Array)):
            continue
        text = obj.to_json(dereference=True)
        if stream:
            _check_stream(obj, text, limits, budget)
            if not forms and text.find(b"/Form") >= 0:
                forms = True
        elif not holders and text.find(b"/XObject") >= 0:
            holders = True
        parents = text.count(b"/Parent")
        # (a text no longer than max_depth cannot hold more openers than that)
        if len(text) <= limits.max_depth or \
                text.count(b"[") + text.count(b"{") <= limits.max_depth:
            if not parents:
                continue
            if parents == 1:
                found = _PARENT_REF.search(text) if quick_parent else None
                if found is not None and (int(found[1]), int(found[2])) in good:
                    continue
                top = obj.stream_dict if stream else obj
                if isinstance(top, pikepdf.Dictionary) and "/Parent" in top:
                    _parent_chain(top, limits, good)  # only the object itself has one
                    continue
        for item in _nesting(obj.stream_dict if stream else obj, limits):
            if isinstance(item, pikepdf.Dictionary) and "/Parent" in item:
                _parent_chain(item, limits, good)
    budget.settle()
    return forms and holders


def check_structure(doc: pikepdf.Pdf, limits: PdfLimits) -> int:
    """Refuse a PDF whose structure is hostile (see the module doc); the page count."""
    import pikepdf

    try:
        return _check_structure(doc, limits)
    except pikepdf.PdfError as exc:  # qpdf could not read an object on the way
        raise PdfUnreadable(*pdf_error_detail(exc)) from exc
    except UnicodeDecodeError as exc:  # a name (a /Filter, a key) that is not UTF-8
        raise refuse("name", "tệp có tên đối tượng không hợp lệ (không phải UTF-8)",
                     "the file has an object name that is not valid UTF-8") from exc


def _check_structure(doc: pikepdf.Pdf, limits: PdfLimits) -> int:
    import pikepdf

    _qpdf_warnings(doc)
    if not isinstance(doc.Root.get("/Pages"), pikepdf.Dictionary):
        raise PdfUnreadable("không có cây trang", "no page tree")
    leaves = page_leaves(doc, limits)
    _qpdf_warnings(doc)
    objects = doc.objects
    if len(objects) > limits.max_objects:
        raise refuse("objects", f"tệp có hơn {limits.max_objects} đối tượng",
                     f"the file has more than {limits.max_objects} objects")
    for _ in fields(doc, limits):
        pass
    _walk_outlines(doc, limits)
    _walk_struct(doc, limits)
    _walk_name_trees(doc, limits)
    if _objects_checked(doc, objects, limits):
        _walk_forms(leaves)
    _qpdf_warnings(doc)  # objects are parsed lazily: what qpdf cut on the way
    return len(leaves)


def inspect_pdf(pdf: bytes, limits: PdfLimits = PdfLimits()) -> int:
    """Open ``pdf`` and refuse it if its structure is hostile; the page count.

    Refusals: :class:`PdfHostile` (with ``code``), ``PdfUnreadable``, ``PdfEncrypted``.
    """
    with open_pdf(pdf, limits) as doc:
        return check_structure(doc, limits)
