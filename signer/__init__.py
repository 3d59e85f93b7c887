"""Signing and verifying PDFs: PAdES signatures with Vietnamese appearances, reports."""

from .appearance import Appearance, default_font
from .errors import (
    CertificateExpired,
    CertificateRevoked,
    CertificateUntrusted,
    DraftHasNoSignatureBlock,
    PdfEncrypted,
    PdfUnreadable,
    SignerError,
    SigningFailed,
    TimestampUnavailable,
)
from .locate import (
    Box,
    DateLine,
    DraftLayout,
    NumberLine,
    SignatureBlock,
    locate,
    require_signature_block,
)
from .pdfinput import open_reader
from .report import SCHEMA, Reason, Report, SignatureReport, Verdict
from .sign import APPROVAL_FIELD, SigningOptions, async_sign_pdf, sign_pdf, vietnam_time
from .verify import async_verify_pdf, verify_pdf

__all__ = [
    "APPROVAL_FIELD",
    "SCHEMA",
    "Appearance",
    "Box",
    "CertificateExpired",
    "CertificateRevoked",
    "CertificateUntrusted",
    "DateLine",
    "DraftHasNoSignatureBlock",
    "DraftLayout",
    "NumberLine",
    "PdfEncrypted",
    "PdfUnreadable",
    "Reason",
    "Report",
    "SignatureBlock",
    "SignatureReport",
    "SignerError",
    "SigningFailed",
    "SigningOptions",
    "TimestampUnavailable",
    "Verdict",
    "async_sign_pdf",
    "async_verify_pdf",
    "default_font",
    "locate",
    "open_reader",
    "require_signature_block",
    "sign_pdf",
    "verify_pdf",
    "vietnam_time",
]
