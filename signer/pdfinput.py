"""Open a PDF for signing or verification, refusing what cannot be used."""

from __future__ import annotations

import io
import re
from typing import Any

from .errors import PdfEncrypted, PdfUnreadable

#: The largest PDF accepted (bytes); the service may set a lower limit.
MAX_PDF_BYTES = 100 * 1024 * 1024
#: How an error names a PDF that came as bytes (no file name known).
UPLOADED = "tệp tải lên / uploaded file"
#: qpdf names an in-memory input by its Python repr: "stream <_io.BytesIO object at 0x…>".
_STREAM_REPR = re.compile(r"(?:stream |file )?<[\w.]+ object at 0x[0-9a-fA-F]+>:?\s*")


def pdf_error_detail(exc: BaseException, source: str = UPLOADED) -> str:
    """What a PDF library said of ``source``, for people: the first line, with the name of
    the in-memory stream it read replaced by ``source`` (a file name, or "uploaded file")."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = _STREAM_REPR.sub("", text).strip() or type(exc).__name__
    return f"{source}: {text}"[:200]


def open_pikepdf(data: bytes, source: str = UPLOADED) -> Any:
    """``pikepdf.open`` over ``data`` (the caller closes it), its errors as ours."""
    import pikepdf

    try:
        return pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise PdfEncrypted() from exc
    except pikepdf.PdfError as exc:
        raise PdfUnreadable(pdf_error_detail(exc, source)) from exc


def open_reader(data: bytes, *, max_bytes: int = MAX_PDF_BYTES) -> Any:
    """A pyHanko ``PdfFileReader`` over ``data``, or a clear error."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    if len(data) > max_bytes:
        raise PdfUnreadable(f"lớn hơn {max_bytes // (1024 * 1024)} MB / larger than "
                            f"{max_bytes // (1024 * 1024)} MB")
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise PdfUnreadable("không phải tệp PDF / not a PDF file")
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


def open_writer(data: bytes) -> Any:
    """An incremental writer over ``data`` (never a rewrite: earlier signatures stay valid)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    reader = open_reader(data)
    return IncrementalPdfFileWriter.from_reader(reader)
