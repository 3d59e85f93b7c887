"""Signing and verifying PDFs: PAdES signatures with Vietnamese appearances, reports."""

from .appearance import (
    Appearance,
)
from .errors import (
    CannotErase,
    CertificateExpired,
    CertificateRevoked,
    CertificateUntrusted,
    DraftHasNoSignatureBlock,
    DraftMarked,
    ImageRefused,
    LevelNeedsTsa,
    MarkNotCovered,
    NotAPdf,
    PdfEncrypted,
    PdfHostile,
    PdfTooCostly,
    PdfUnreadable,
    PdfWorkBusy,
    PendingSignatureExpired,
    PendingSignatureUnreadable,
    ReturnedRefused,
    SignatureMismatch,
    SignerError,
    SigningFailed,
    TimestampUnavailable,
    YearNotCovered,
)
from .fonts import ReportLabFonts, body_font, reportlab_fonts, serif_fonts
from .guard import (
    inspect_pdf,
)
from .hashonly import (
    PendingSignature,
    RawSignature,
    async_finish,
    async_prepare_digest,
    fetch_timestamp,
    finish,
    prepare_digest,
)
from .images import CheckedImage, ImageKind, check_seal, check_signature
from .isolate import ChildLimits, run_isolated
from .levels import PadesLevel
from .locate import (
    Box,
    DateLine,
    DraftLayout,
    SignatureBlock,
    locate,
    require_signature_block,
)
from .ltv import (
    ARCHIVE_MARGIN,
    DueReason,
    add_archive_timestamp,
    archive_timestamp_due,
    ltv_contents,
)
from .marks import (
    find_draft_marks,
)
from .offline import (
    offline_context,
    validate_offline,
)
from .pdfinput import (
    UPLOADED,
    open_reader,
    open_writer,
)
from .prepare import (
    ATTACHMENT_LIMITS,
    DAY_FIELD,
    DRAFT_LIMITS,
    MONTH_FIELD,
    NUMBER_FIELD,
    ORGANISATION_FIELD,
    PERSON_FIELD,
    YEAR_FIELD,
    FieldPlan,
    Prepared,
    check_draft,
    clerk_fields,
    plan_fields,
    prepare_draft,
    prepare_pdf,
)
from .profiles import CopyKind
from .profiles import appendix as appendix_options
from .profiles import approval as approval_options
from .profiles import copy as copy_options
from .profiles import issuance as issuance_options
from .qr import qr_links
from .report import (
    Reason,
    Report,
    SignatureReport,
    Verdict,
)
from .report_render import (
    bilingual_rows,
    render_html,
    render_pdf,
    verdict_words,
)
from .returned import (
    check_returned,
)
from .sign import (
    APPROVAL_FIELD,
    DocumentInfo,
    FieldFill,
    SigningOptions,
    check_signer_certificate,
    remember_token_sizes,
    sign_pdf,
    sign_pdf_into,
    signer_certificate,
    token_sizes,
)
from .tsa import (
    probe as probe_tsa,
)
from .verify import (
    VERIFY_LIMITS,
    PdfTruncated,
    hostile_report,
    trust_entries,
    verify_file,
    verify_pdf,
)
from .wording import (
    dn_words,
)

__all__ = [
    "APPROVAL_FIELD",
    "ARCHIVE_MARGIN",
    "Appearance",
    "Box",
    "CannotErase",
    "CertificateExpired",
    "CertificateRevoked",
    "CertificateUntrusted",
    "CheckedImage",
    "ChildLimits",
    "CopyKind",
    "DAY_FIELD",
    "ATTACHMENT_LIMITS",
    "DRAFT_LIMITS",
    "DateLine",
    "DocumentInfo",
    "DraftHasNoSignatureBlock",
    "DraftLayout",
    "DraftMarked",
    "DueReason",
    "FieldFill",
    "FieldPlan",
    "ImageKind",
    "ImageRefused",
    "LevelNeedsTsa",
    "MONTH_FIELD",
    "MarkNotCovered",
    "NUMBER_FIELD",
    "ORGANISATION_FIELD",
    "PERSON_FIELD",
    "PadesLevel",
    "PdfEncrypted",
    "PdfHostile",
    "PdfTooCostly",
    "PdfWorkBusy",
    "PdfTruncated",
    "NotAPdf",
    "PdfUnreadable",
    "PendingSignature",
    "PendingSignatureExpired",
    "PendingSignatureUnreadable",
    "Prepared",
    "RawSignature",
    "Reason",
    "Report",
    "ReportLabFonts",
    "ReturnedRefused",
    "SignatureBlock",
    "SignatureMismatch",
    "SignatureReport",
    "SignerError",
    "SigningFailed",
    "SigningOptions",
    "TimestampUnavailable",
    "UPLOADED",
    "VERIFY_LIMITS",
    "Verdict",
    "YEAR_FIELD",
    "YearNotCovered",
    "add_archive_timestamp",
    "appendix_options",
    "approval_options",
    "archive_timestamp_due",
    "async_finish",
    "async_prepare_digest",
    "bilingual_rows",
    "body_font",
    "check_draft",
    "check_returned",
    "check_seal",
    "check_signature",
    "check_signer_certificate",
    "clerk_fields",
    "copy_options",
    "dn_words",
    "fetch_timestamp",
    "find_draft_marks",
    "finish",
    "hostile_report",
    "inspect_pdf",
    "issuance_options",
    "locate",
    "ltv_contents",
    "offline_context",
    "open_reader",
    "open_writer",
    "plan_fields",
    "prepare_digest",
    "probe_tsa",
    "prepare_draft",
    "prepare_pdf",
    "qr_links",
    "render_html",
    "render_pdf",
    "reportlab_fonts",
    "require_signature_block",
    "run_isolated",
    "serif_fonts",
    "remember_token_sizes",
    "sign_pdf",
    "sign_pdf_into",
    "signer_certificate",
    "token_sizes",
    "trust_entries",
    "validate_offline",
    "verdict_words",
    "verify_file",
    "verify_pdf",
]
