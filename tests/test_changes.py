"""signer.changes compares page images by where they stand, else by their encoded bytes."""

from __future__ import annotations

import io

from pyhanko.pdf_utils.generic import StreamObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from bench.pdfs import scan
from signer.changes import changes_after
from signer.pdfinput import open_reader


def _update(pdf: bytes, data: bytes | None) -> bytes:
    """A revision that writes page 1's image again: the same bytes (``data`` None) or
    ``data``."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    ref = page["/Resources"]["/XObject"].raw_get("/Im0").reference
    image = ref.get_object()
    if data is not None:
        image._encoded_data, image._data = data, None
    writer.mark_update(ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_images_compared_by_place_then_bytes_never_decoded() -> None:
    base = scan(2, "flate", width=64, height=64)
    same = _update(base, None)
    changed = _update(same, b"x\x9c" + bytes(10))
    reader = open_reader(changed)
    found = changes_after(reader, 0)
    # revision 2 wrote the image again, byte for byte: no page finding
    assert [(c.revision, c.kind) for c in found if c.revision == 2] == [(2, "other")]
    # revision 3 replaced it: page 1's resources changed
    assert (3, "page_resources") in [(c.revision, c.kind) for c in found]
    assert "page 1:" in next(c.detail for c in found if c.kind == "page_resources")
    # no page image was inflated: only their encoded bytes were read
    images = [page.get_object()["/Resources"]["/XObject"].raw_get("/Im0").reference
              for page in reader.root["/Pages"]["/Kids"]]
    streams = {(ref.idnum, ref.generation): ref.get_object() for ref in images}
    assert all(isinstance(s, StreamObject) and s._data is None for s in streams.values())


def test_nothing_after_the_signed_revision_reads_nothing() -> None:
    assert changes_after(open_reader(scan(1, "flate", width=32, height=32)), 0) == []
