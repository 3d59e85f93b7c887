"""The shortcuts of signer.guard's walk refuse what the exact walk refuses.

The walk of a file sent for verification counts a stream whose only filter is Flate by
the most it can inflate to (:data:`signer.guard.FLATE_MAX_RATIO` × its raw bytes)
instead of inflating it, clears a /Parent that points to a node already checked from
the object's JSON, and skips the form XObject walk when no page can draw one. Each test
builds a file on the edge of a bound, byte by byte (tests/support/hostile.py), and
checks the refusal or the pass the exact walk gives.
"""

from __future__ import annotations

import zlib

import pytest

from signer import PdfHostile, inspect_pdf
from signer.guard import FLATE_MAX_RATIO, MB, PdfLimits

from .support.hostile import _page_objects, raw_pdf

#: Limits of a verification (images are never inflated) with small decoding bounds.
SMALL = PdfLimits(max_pages=5000, inflate_images=False, max_stream_mb=1, max_decoded_mb=2)


def _zeros(size: int) -> bytes:
    return zlib.compress(bytes(size), 9)


def _with_streams(streams: list[tuple[bytes, bytes]]) -> bytes:
    """A one-page file whose page draws each of ``streams`` ((dictionary entries, data))
    as a content stream."""
    first = 4
    refs = b" ".join(b"%d 0 R" % (first + i) for i in range(len(streams)))
    objects = _page_objects(extra_page=b"/Contents [" + refs + b"] ")
    data = {}
    for i, (entries, body) in enumerate(streams):
        objects[first + i] = b"<< /Length %d %s >>" % (len(body), entries)
        data[first + i] = body
    return raw_pdf(objects, streams=data)


def test_the_flate_ratio_bounds_what_zlib_can_inflate() -> None:
    """zlib's best case (a run of zeros at level 9) stays under the bound, and close to
    it: the bound is what lets a stream go uninflated, so it must be a true maximum."""
    for size in (MB, 16 * MB, 64 * MB):
        ratio = size / len(_zeros(size))
        assert 1000 < ratio <= FLATE_MAX_RATIO, ratio


def test_a_single_flate_stream_over_the_stream_cap_is_still_refused() -> None:
    """Raw bytes × the ratio above the cap: inflated, in bounded steps, and refused."""
    bomb = _with_streams([(b"/Filter /FlateDecode", _zeros(MB + 1))])
    with pytest.raises(PdfHostile) as refused:
        inspect_pdf(bomb, SMALL)
    assert refused.value.code == "bomb" and "1 MB" in refused.value.en
    assert inspect_pdf(_with_streams([(b"/Filter /FlateDecode", _zeros(MB))]), SMALL) == 1


def test_flate_streams_counted_by_their_bound_are_inflated_when_the_file_total_needs_it(
) -> None:
    """Three streams each under the stream cap (so first counted by their bound), 2.7 MB
    decoded together: over the file's 2 MB, refused. Three of 680 KB (2,040 KB): their
    bounds pass the limit, their decoded bytes do not, the file passes."""
    stream = (b"/Filter /FlateDecode", _zeros(900 * 1024))
    assert FLATE_MAX_RATIO * len(stream[1]) <= MB  # each is counted by its bound first
    with pytest.raises(PdfHostile) as refused:
        inspect_pdf(_with_streams([stream] * 3), SMALL)
    assert refused.value.code == "bomb" and "2 MB" in refused.value.en
    near = (b"/Filter /FlateDecode", _zeros(680 * 1024))
    assert 3 * FLATE_MAX_RATIO * len(near[1]) > 2 * MB  # the bounds alone would refuse
    assert inspect_pdf(_with_streams([near] * 3), SMALL) == 1


def test_a_stream_whose_json_only_seems_flate_is_counted_by_its_raw_bytes() -> None:
    """No /Filter of its own, Flate named in a nested dictionary: the walk first takes it
    for a Flate stream (its bound covers its raw bytes too), and when the total must be
    settled counts its raw bytes, never a failed inflation's zero."""
    body = bytes(range(256)) * 400  # 100 KB that do not inflate
    plain = (b"/DecodeParms << /Filter /FlateDecode >>", body)
    limits = PdfLimits(max_pages=5000, inflate_images=False, max_decoded_mb=1)
    assert FLATE_MAX_RATIO * len(body) <= limits.max_stream_mb * MB  # bounded, at first
    with pytest.raises(PdfHostile) as refused:
        inspect_pdf(_with_streams([plain] * 11), limits)  # 1,100 KB of raw bytes
    assert refused.value.code == "bomb"
    assert inspect_pdf(_with_streams([plain] * 10), limits) == 1  # 1,000 KB


def _pages_and_chain(pages: int, chain: int) -> bytes:
    """``pages`` pages, each /Parent the page tree node, and form fields in one /Parent
    chain ``chain`` long (the first field, met first, at its bottom)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [1000 0 R] >> >>",
               2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)}
    for i in range(pages):
        objects[3 + i] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
    for number in range(1000, 1000 + chain):
        parent = b"/Parent %d 0 R " % (number + 1) if number < 1000 + chain - 1 else b""
        objects[number] = b"<< /T (f%d) %s>>" % (number, parent)
    return raw_pdf(objects)


def test_pages_pointing_to_a_checked_node_pass_and_long_chains_are_still_refused() -> None:
    """Every page but the first is cleared from its JSON (its /Parent is the page tree
    node, checked with the first page); a /Parent chain longer than max_depth among
    them is still walked and refused, and one within it passes."""
    limits = PdfLimits(max_depth=20)
    assert inspect_pdf(_pages_and_chain(50, 20), limits) == 50
    with pytest.raises(PdfHostile) as refused:
        inspect_pdf(_pages_and_chain(50, 22), limits)
    assert refused.value.code == "depth" and "/Parent" in refused.value.en


def test_a_page_drawing_a_form_is_walked_and_one_without_forms_skips_the_walk() -> None:
    """A form XObject that draws itself is refused (the walk runs when a stream says
    /Form and a page's resources say /XObject); an image XObject alone needs no walk."""
    loop = _page_objects(extra_page=b"/Contents 4 0 R /Resources << /XObject << /F 5 0 R >> >> ")
    loop[4] = b"<< /Length 8 >>"
    loop[5] = (b"<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] /Length 8 "
               b"/Resources << /XObject << /F 5 0 R >> >> >>")
    with pytest.raises(PdfHostile) as refused:
        inspect_pdf(raw_pdf(loop, streams={4: b"/F Do   ", 5: b"/F Do   "}))
    assert refused.value.code == "loop" and "form XObject" in refused.value.en
    image = dict(loop)
    image[5] = (b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace "
                b"/DeviceGray /BitsPerComponent 8 /Length 1 >>")
    assert inspect_pdf(raw_pdf(image, streams={4: b"/F Do   ", 5: b"\x00"})) == 1
