"""Open a PDF for signing or verification, refusing what cannot be used."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pikepdf
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader

from .errors import NotAPdf, PdfEncrypted, PdfUnreadable

#: The largest PDF accepted (bytes); the service may set a lower limit.
MAX_PDF_BYTES = 100 * 1024 * 1024
#: How an error names a PDF that came as bytes (no file name known).
UPLOADED = "tệp tải lên / uploaded file"
#: qpdf names an in-memory input by its Python repr: "stream <_io.BytesIO object at 0x…>",
#: or "stream <_io.BufferedRandom name=7>" for a memory-mapped one (signer.guard).
_STREAM_REPR = re.compile(
    r"(?:stream |file )?<[\w.]+ (?:object at 0x[0-9a-fA-F]+|name=\d+)>:?\s*")


def pdf_error_detail(exc: BaseException, source: str = UPLOADED) -> tuple[str, str]:
    """What a PDF library said of ``source``, for people, in Vietnamese and in English: the
    first line, with the name of the in-memory stream it read replaced by ``source`` (a file
    name, or "tệp tải lên" / "uploaded file")."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = _STREAM_REPR.sub("", text).strip() or type(exc).__name__
    vi_source, _, en_source = source.partition(" / ") if source == UPLOADED else \
        (source, "", source)
    return f"{vi_source}: {text}"[:200], f"{en_source}: {text}"[:200]


def not_a_pdf(data: bytes) -> bool:
    """Whether ``data`` is no PDF at all: it does not start with ``%PDF-``."""
    return not data.lstrip()[:5].startswith(b"%PDF-")


def open_pikepdf(data: bytes, source: str = UPLOADED) -> pikepdf.Pdf:
    """``pikepdf.open`` over ``data`` (the caller closes it), its errors as ours."""
    import pikepdf

    try:
        return pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise PdfEncrypted() from exc
    except pikepdf.PdfError as exc:
        raise PdfUnreadable(*pdf_error_detail(exc, source)) from exc


def open_reader(data: bytes, *, max_bytes: int = MAX_PDF_BYTES) -> PdfFileReader:
    """A pyHanko ``PdfFileReader`` over ``data``, or a clear error."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    if len(data) > max_bytes:
        raise PdfUnreadable(f"lớn hơn {max_bytes // (1024 * 1024)} MB",
                            f"larger than {max_bytes // (1024 * 1024)} MB")
    if not_a_pdf(data):
        raise NotAPdf()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            raise PdfEncrypted()
        _ = reader.root["/Pages"]
        return reader
    except PdfEncrypted:
        raise
    except (PdfError, ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        raise PdfUnreadable(type(exc).__name__) from exc


def open_writer(data: bytes) -> IncrementalPdfFileWriter:
    """An incremental writer over ``data`` (never a rewrite: earlier signatures stay valid)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    reader = open_reader(data)
    return IncrementalPdfFileWriter.from_reader(reader)
