"""What reading a broken or hostile PDF, CMS or certificate raises, and nothing more.

Verification catches these and only these: each becomes a finding that keeps the
signature from being valid (fail closed). Anything else — ``AttributeError``,
``RuntimeError``, ``NameError`` … — is a fault of Kyso's own and is raised, never
reported as a malformed document.
"""

from __future__ import annotations

from pyhanko.pdf_utils.misc import PdfError

__all__ = ["ASN1_ERRORS", "PDF_ERRORS", "VALIDATION_ERRORS"]

#: asn1crypto on malformed DER (``ValueError``), a value of the wrong type for its field
#: (``TypeError``), a field or item that is not there (``KeyError``, ``IndexError``).
ASN1_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, KeyError, IndexError)

#: pyHanko's PDF reader (``PdfReadError``, ``PdfStrictReadError`` …) over a broken object
#: graph, plus what asn1crypto raises on the DER inside it.
PDF_ERRORS: tuple[type[Exception], ...] = (PdfError, *ASN1_ERRORS)

#: pyHanko's validation of one signature: its own errors (``SignatureValidationError``,
#: ``CMSExtractionError`` and ``CMSStructuralError`` are ``ValueError`` subclasses), an
#: algorithm it does not implement (``NotImplementedError``), a network error while it
#: fetches revocation data (``OSError``), and the above.
VALIDATION_ERRORS: tuple[type[Exception], ...] = (NotImplementedError, OSError, *PDF_ERRORS)
