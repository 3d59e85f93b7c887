"""Sign a PDF: PAdES, SHA-256, timestamped when a TSA is given, with a visible stamp.

A pure function of (PDF bytes, options, pyHanko signer) → signed PDF bytes. The
PDF is only ever extended with an incremental update, so earlier signatures stay
valid. Before signing, the signer's certificate is checked (validity period,
chain, revocation) as Circular 15/2025 Art. 5 asks; nothing is produced when a
check fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from certs.errors import KysoError

from .appearance import Appearance, stamp_style
from .errors import (
    CertificateExpired,
    CertificateRevoked,
    CertificateUntrusted,
    SigningFailed,
    TimestampUnavailable,
)
from .ltv import (
    PadesLevel,
    check_level,
    effective_level,
    embed_signatures_validation_info,
    signature_metadata,
)
from .pdfinput import open_writer

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
#: Room kept for the CMS blob, in hex digits (8 KiB of CMS): with it pyHanko needs
#: no trial signature to size the space.
BYTES_RESERVED = 16384
APPROVAL_FIELD = "KySo_PheDuyet"


def vietnam_time(moment: dt.datetime | None = None) -> dt.datetime:
    """``moment`` (default: now) in Vietnam time, to the second."""
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.astimezone(VIETNAM).replace(microsecond=0)


@dataclass(frozen=True)
class FieldFill:
    """Text written into an existing, empty text field in the same revision as the
    signature (the clerk's number and date). Digits and ASCII: a standard Times font.
    Without ``font``/``size`` the field's own default appearance (/DA) says which."""

    field: str
    text: str
    font: str | None = None
    size: float | None = None


@dataclass(frozen=True)
class SigningOptions:
    """What kind of signature to make.

    ``validation_context`` (a pyHanko ValidationContext) enables the pre-signing
    check of the signer's certificate; ``tsa_url`` makes the signature PAdES
    B-T (B-B without it). ``level`` B-LT also embeds the revocation info the
    context gathers (it must be able to fetch), B-LTA adds a document timestamp
    after it; both need a TSA and a context (see :mod:`signer.ltv`).
    """

    field_name: str = APPROVAL_FIELD
    appearance: Appearance | None = None
    tsa_url: str | None = None
    validation_context: Any = None
    reason: str | None = None
    location: str | None = None
    md_algorithm: str = "sha256"
    bytes_reserved: int = BYTES_RESERVED
    fills: tuple[FieldFill, ...] = ()
    level: PadesLevel = PadesLevel.B_T


def _subject(cert: Any) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except (AttributeError, ValueError):
        return "?"


async def check_signer_certificate(cert: Any, context: Any,
                                   moment: dt.datetime) -> tuple[Any, ...]:
    """Refuse an expired, not yet valid, revoked or untrusted signer certificate.

    Returns the CA certificates of the path it validated (issuer first, root last; none
    without a validation context): every signature carries them, so that a recipient
    who trusts only the root can build the chain."""
    validity = cert["tbs_certificate"]["validity"]
    not_before = validity["not_before"].native
    not_after = validity["not_after"].native
    if not (not_before <= moment <= not_after):
        raise CertificateExpired(_subject(cert), f"{not_before:%d/%m/%Y} – {not_after:%d/%m/%Y}")
    if context is None:
        return ()
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import (
        PathBuildingError,
        PathValidationError,
        RevokedError,
    )

    validator = CertificateValidator(cert, validation_context=context)
    try:
        path = await validator.async_validate_usage(  # type: ignore[no-untyped-call]
            {"non_repudiation"})
    except RevokedError as exc:
        raise CertificateRevoked(_subject(cert)) from exc
    except (PathBuildingError, PathValidationError) as exc:
        raise CertificateUntrusted(_subject(cert), type(exc).__name__) from exc
    except ValueError as exc:  # key usage not allowed
        raise CertificateUntrusted(_subject(cert), str(exc)) from exc
    return tuple(reversed([c for c in path.iter_certs(include_root=True) if c != cert]))


def carry_chain(signer: Any, chain: tuple[Any, ...]) -> None:
    """Put ``chain`` (the signer's CA certificates) into the CMS ``signer`` will make."""
    if chain:
        signer.cert_registry.register_multiple(chain)


#: Standard Times fonts and their resource names in a text field's /DA (set by
#: ``prepare``, read back here when the field is filled).
DA_FONT_KEYS = {"Times-Roman": "TiRo", "Times-Italic": "TiIt", "Times-Bold": "TiBo"}
_DA_FONTS = {f"/{key}": name for name, key in DA_FONT_KEYS.items()}


def _field_font(writer: Any, fill: FieldFill) -> tuple[str, float]:
    """The font and size to write ``fill`` with: its own, else the field's /DA."""
    font, size = fill.font, fill.size
    if font is None or size is None:
        from pyhanko.pdf_utils.form_tools import find_existing_empty_field
        from pyhanko.pdf_utils.misc import FormFillingError

        try:
            field: Any = find_existing_empty_field(writer, fill.field, "/Tx").get_object()
            parts = str(field.get("/DA", "")).split()
            da_font, da_size = parts[parts.index("Tf") - 2], float(parts[parts.index("Tf") - 1])
        except (FormFillingError, ValueError, IndexError):
            da_font, da_size = "/TiRo", 13.0
        font = font or _DA_FONTS.get(da_font, "Times-Roman")
        size = size or da_size
    return font, size


def _fill_fields(writer: Any, fills: tuple[FieldFill, ...]) -> None:
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.font.basic import SimpleFontEngineFactory
    from pyhanko.pdf_utils.form_tools import populate_static_text_field
    from pyhanko.pdf_utils.misc import FormFillingError
    from pyhanko.pdf_utils.text import TextBoxStyle

    for fill in fills:
        font, size = _field_font(writer, fill)
        # the field spans the printed line from descender to ascender: lift the text
        # box so the digits stand on the same baseline as the words around them
        on_baseline = layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins(bottom=round(size * 0.3)),
            inner_content_scaling=layout.InnerScaling.NO_SCALING)
        style = TextBoxStyle(font=SimpleFontEngineFactory(font, 0.5),
                             font_size=round(size), box_layout_rule=on_baseline)
        try:
            populate_static_text_field(writer, fill.field, style, fill.text)
        except FormFillingError as exc:
            raise SigningFailed(f"không điền được trường '{fill.field}' / cannot fill field "
                                f"'{fill.field}' ({exc})") from exc


def free_field_name(writer: Any, wanted: str) -> str:
    """``wanted`` unless a signature already fills it; then ``wanted_2``, ``wanted_3`` …"""
    from pyhanko.sign.fields import enumerate_sig_fields

    filled = {name for name, value, _ in enumerate_sig_fields(writer) if value is not None}
    name, n = wanted, 1
    while name in filled:
        n += 1
        name = f"{wanted}_{n}"
    return name


def pdf_signer_for(options: SigningOptions, signer: Any, signing_time: dt.datetime,
                field_name: str) -> Any:
    """A pyHanko ``PdfSigner`` for ``options`` that signs at ``signing_time``."""
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.timestamps import HTTPTimeStamper

    class FixedTimePdfSigner(signers.PdfSigner):
        """Uses one signing time for the CMS attributes and the visible stamp."""

        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = signing_time
            return session

    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=options.md_algorithm,
        subfilter=SigSeedSubFilter.PADES,
        reason=options.reason,
        location=options.location,
        **signature_metadata(options.level, options.tsa_url, options.validation_context),
    )
    stamp = None
    field_spec = None
    if options.appearance is not None:
        stamp = stamp_style(options.appearance, signing_time.isoformat())
        field_spec = fields.SigFieldSpec(
            sig_field_name=field_name,
            on_page=options.appearance.page,
            box=options.appearance.box,
        )
    timestamper = HTTPTimeStamper(options.tsa_url, timeout=10) if options.tsa_url else None
    return FixedTimePdfSigner(meta, signer=signer, timestamper=timestamper,
                              stamp_style=stamp, new_field_spec=field_spec)


async def open_for_signing(pdf: bytes, cert: Any, options: SigningOptions,
                           moment: dt.datetime) -> tuple[Any, str, tuple[Any, ...]]:
    """Everything before the signature itself, shared by :func:`async_sign_pdf` and
    hash-only signing: open ``pdf`` for an incremental update, check the signer's
    certificate, write the field fills, and pick the signature field's name.
    Returns the writer, the field name and the certificate's CA chain."""
    writer = open_writer(pdf)
    if cert is None:
        raise SigningFailed("thiếu chứng thư của người ký / signer certificate missing")
    chain = await check_signer_certificate(cert, options.validation_context, moment)
    _fill_fields(writer, options.fills)
    return writer, free_field_name(writer, options.field_name), chain


@contextlib.contextmanager
def signing_errors(tsa_url: str | None) -> Iterator[None]:
    """Turn pyHanko's signing and TSA errors raised in the block into Kyso errors."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    try:
        yield
    except TimestampRequestError as exc:
        raise TimestampUnavailable(tsa_url or "") from exc
    except KysoError:
        raise
    except (SigningError, PdfError, ValueError) as exc:
        cause = exc.__cause__ or exc
        if isinstance(cause, KysoError):
            raise cause from exc
        raise SigningFailed(str(exc) or type(exc).__name__) from exc


async def async_sign_pdf(
    pdf: bytes, signer: Any, options: SigningOptions, *, signing_time: dt.datetime | None = None
) -> bytes:
    """Sign ``pdf`` with the pyHanko ``signer``; return the signed PDF.

    At B-LT/B-LTA the earlier signatures' validation data is embedded first (pyHanko
    embeds only the new signature's), so the whole file validates offline."""
    moment = vietnam_time(signing_time)
    level = effective_level(options.level, options.tsa_url)
    if level in (PadesLevel.B_LT, PadesLevel.B_LTA) and options.validation_context is not None:
        with signing_errors(options.tsa_url):
            pdf = await embed_signatures_validation_info(pdf, options.validation_context)
    writer, field_name, chain = await open_for_signing(pdf, signer.signing_cert, options,
                                                       moment)
    carry_chain(signer, chain)
    pdf_signer = pdf_signer_for(options, signer, moment, field_name)
    out = io.BytesIO()
    with signing_errors(options.tsa_url):
        await pdf_signer.async_sign_pdf(writer, output=out,
                                        bytes_reserved=options.bytes_reserved)
    check_level(out.getvalue(), effective_level(options.level, options.tsa_url))
    return out.getvalue()


def sign_pdf(
    pdf: bytes, signer: Any, options: SigningOptions, *, signing_time: dt.datetime | None = None
) -> bytes:
    """Blocking :func:`async_sign_pdf`, for the command line and worker processes."""
    return asyncio.run(async_sign_pdf(pdf, signer, options, signing_time=signing_time))
