"""Signing and verifying PDFs: PAdES signatures with Vietnamese appearances, reports."""

from .appearance import Appearance, default_font
from .errors import (
    CertificateExpired,
    CertificateRevoked,
    CertificateUntrusted,
    PdfEncrypted,
    PdfUnreadable,
    SignerError,
    SigningFailed,
    TimestampUnavailable,
)
from .pdfinput import open_reader
from .report import SCHEMA, Reason, Report, SignatureReport, Verdict
from .sign import APPROVAL_FIELD, SigningOptions, async_sign_pdf, sign_pdf, vietnam_time
from .verify import async_verify_pdf, verify_pdf

__all__ = [
    "APPROVAL_FIELD",
    "SCHEMA",
    "Appearance",
    "CertificateExpired",
    "CertificateRevoked",
    "CertificateUntrusted",
    "PdfEncrypted",
    "PdfUnreadable",
    "Reason",
    "Report",
    "SignatureReport",
    "SignerError",
    "SigningFailed",
    "SigningOptions",
    "TimestampUnavailable",
    "Verdict",
    "async_sign_pdf",
    "async_verify_pdf",
    "default_font",
    "open_reader",
    "sign_pdf",
    "verify_pdf",
    "vietnam_time",
]
