"""Byte-level checks of a signed file, before any cryptography.

A sound signature's ``/ByteRange`` has one shape: two ranges, from the file's start to
the ``<`` of ``/Contents`` and from its ``>`` to the ``%%EOF`` of a revision, the gap
holding exactly the ``/Contents`` hex string (otherwise: signature wrapping, or a file
truncated below what was signed). Bytes after the final ``%%EOF`` belong to no revision:
whitespace is a note, anything else makes the file invalid. A file the PDF reader
refuses is salvaged when possible: the signed prefix is verified and the tail named.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import NotAPdf, PdfTruncated, PdfUnreadable
from .malformed import PDF_ERRORS
from .report import Reason
from .verdict import reason as _r

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader

__all__ = ["FileFacts", "byte_range_problem", "file_facts", "salvage"]

_PDF_WHITESPACE = b"\x00\t\n\x0c\r "
_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


@dataclass
class FileFacts:
    """What the file as a whole shows: revisions, bytes after the last %%EOF, findings."""

    revisions: int
    trailing: bytes
    problems: list[Reason] = field(default_factory=list)
    notes: list[Reason] = field(default_factory=list)


def _trailing(data: bytes) -> bytes:
    """The bytes after the last ``%%EOF`` marker and its end-of-line."""
    end = data.rfind(b"%%EOF")
    if end < 0:
        return b""
    rest = data[end + 5:]
    for eol in (b"\r\n", b"\n", b"\r"):
        if rest.startswith(eol):
            return rest[len(eol):]
    return rest


def file_facts(data: bytes, reader: PdfFileReader) -> FileFacts:
    """Revisions and trailing bytes: foreign bytes are a problem, whitespace a note."""
    try:
        revisions = int(reader.xrefs.total_revisions)
    except PDF_ERRORS:
        revisions = 0
    facts = FileFacts(revisions, _trailing(data))
    if facts.trailing:
        size = len(facts.trailing)
        if facts.trailing.strip(_PDF_WHITESPACE):
            facts.problems.append(_r(
                "appended_data",
                f"có {size} byte dữ liệu lạ được nối vào sau dấu kết thúc %%EOF của tệp đã ký "
                "(không thuộc phiên bản nào của tài liệu, không chữ ký nào bảo vệ)",
                f"{size} bytes of foreign data were appended after the signed file's final "
                "%%EOF (they belong to no revision and no signature covers them)"))
        else:
            facts.notes.append(_r(
                "trailing_whitespace",
                f"có {size} byte khoảng trắng sau dấu %%EOF cuối cùng (không ảnh hưởng nội dung)",
                f"{size} bytes of whitespace follow the final %%EOF (content unaffected)"))
    return facts


def _gap_problem(data: bytes, b: int, c: int) -> Reason | None:
    """Whether bytes ``b``..``c`` are exactly one hex string (the signature's /Contents)."""
    gap = data[b:c]
    hex_digits = gap[1:-1].strip(_PDF_WHITESPACE)
    if (gap[:1] == b"<" and gap[-1:] == b">"
            and re.fullmatch(rb"[0-9A-Fa-f]*", hex_digits)):
        return None
    return _r("signature_wrapping",
              "khoảng trống giữa hai vùng ký không đúng là giá trị /Contents của chữ ký "
              "(có nội dung bị chèn hoặc dời chỗ)",
              "signature wrapping: the gap between the two signed ranges is not exactly the "
              "signature's /Contents (content was inserted or moved)")


def byte_range_problem(data: bytes, sig_object: Any) -> Reason | None:
    """Whether /ByteRange is the one shape a sound signature has.

    Two ranges: from the file's start to the ``<`` of /Contents, and from its ``>``
    to the end of a revision; the gap holds exactly the /Contents hex string.
    """
    try:
        values = [int(v) for v in sig_object.raw_get("/ByteRange")]
    except PDF_ERRORS:  # missing or unreadable: the shape check below refuses it
        values = []
    if len(values) != 4 or any(v < 0 for v in values):
        return _r("signature_wrapping", "vùng ký /ByteRange sai dạng (phải có 4 số không âm)",
                  "signature wrapping: /ByteRange is malformed (needs 4 non-negative numbers)")
    a, b, c, d = values
    if c + d > len(data):
        return _r("truncated",
                  f"tệp bị cắt cụt: chữ ký bao trùm {c + d} byte nhưng tệp chỉ còn "
                  f"{len(data)} byte",
                  f"the file is truncated: the signature covers {c + d} bytes but the file "
                  f"has only {len(data)}")
    if a != 0 or b <= 0 or c <= b:
        return _r("signature_wrapping",
                  f"vùng ký /ByteRange [{a} {b} {c} {d}] không bắt đầu từ đầu tệp hoặc chồng lấn",
                  f"signature wrapping: /ByteRange [{a} {b} {c} {d}] does not start at the "
                  "beginning of the file or overlaps itself")
    gap_problem = _gap_problem(data, b, c)
    if gap_problem is not None:
        return gap_problem
    if not re.search(rb"%%EOF[\r\n]*$", data[max(c + d - 40, 0):c + d]):
        return _r("signature_wrapping",
                  "vùng ký kết thúc giữa chừng một phiên bản (không tại dấu %%EOF): chữ ký không "
                  "bao trùm trọn phiên bản nó ký",
                  "signature wrapping: the signed range stops inside a revision (not at a "
                  "%%EOF), so the signature does not cover the revision it signs")
    hex_digits = data[b + 1:c - 1].strip(_PDF_WHITESPACE)
    try:
        contents = bytes(sig_object["/Contents"])
        in_gap = binascii.unhexlify(hex_digits + (b"0" if len(hex_digits) % 2 else b""))
    except PDF_ERRORS:  # binascii.Error is a ValueError: the gap holds no hex string
        return _r("signature_wrapping",
                  "không đọc được giá trị chữ ký (/Contents) trong khoảng trống của vùng ký",
                  "signature wrapping: the signature value (/Contents) in the signed range's "
                  "gap cannot be read")
    if contents.rstrip(b"\0") != in_gap.rstrip(b"\0"):
        return _r("signature_wrapping",
                  "giá trị /Contents của chữ ký không phải là dữ liệu nằm trong khoảng trống của "
                  "vùng ký (chữ ký bị bọc/dời chỗ)",
                  "signature wrapping: the signature's /Contents is not the data in the byte "
                  "range's gap")
    return None


def salvage(data: bytes, error: PdfUnreadable) -> tuple[bytes, list[Reason]]:
    """For a file the reader refuses: the signed prefix to verify, and what is wrong.

    A signed file cut short, with its byte ranges wrapped, or followed by bytes
    that are no PDF update is named as such; anything else stays ``PdfUnreadable``.
    """
    problems: list[Reason] = []
    ends: list[int] = []
    for match in _BYTE_RANGE.finditer(data):
        a, b, c, d = (int(v) for v in match.groups())
        ends.append(c + d)
        if c + d > len(data):
            problems.append(_r(
                "truncated",
                f"tệp bị cắt cụt: chữ ký bao trùm {c + d} byte nhưng tệp chỉ có {len(data)} byte",
                f"the file is truncated: a signature covers {c + d} bytes but the file has "
                f"only {len(data)}"))
        elif b < c and (problem := _gap_problem(data, b, c)) is not None:
            problems.append(problem)
    if problems:
        return b"", problems[:1]
    if not ends:
        if isinstance(error, NotAPdf):
            raise error  # no PDF at all: not a PDF "cut short"
        if data.rstrip(_PDF_WHITESPACE)[-5:] != b"%%EOF":
            raise PdfTruncated() from error
        raise error
    end = max(ends)
    if end >= len(data):
        raise error
    size = len(data) - end
    return data[:end], [_r(
        "appended_data",
        f"có {size} byte dữ liệu không phải PDF được nối vào sau phần đã ký",
        f"{size} bytes that are not a valid PDF update were appended after the signed part")]
