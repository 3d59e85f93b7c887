"""Open a PDF for signing or verification, refusing what cannot be used."""

from __future__ import annotations

import io
from typing import Any

from .errors import PdfEncrypted, PdfUnreadable

#: The largest PDF accepted (bytes); the service may set a lower limit.
MAX_PDF_BYTES = 100 * 1024 * 1024


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
