"""Sign a PDF: PAdES, SHA-256, timestamped when a TSA is given, with a visible stamp.

A pure function of (PDF bytes, options, pyHanko signer) → signed PDF bytes. The
PDF is only ever extended with an incremental update, so earlier signatures stay
valid. Before signing, the signer's certificate is checked (validity period,
chain, revocation) as Circular 15/2025 Art. 5 asks; nothing is produced when a
check fails. The chain and revocation part of that check (OCSP/CRL requests) runs on
a thread of its own while the revision is prepared (fields, stamp, its font, the TSA's
token size), and the key signs nothing before it has passed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import io
import threading
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from common import KysoError, vietnam_time

from .appearance import Appearance, preload_font, stamp_style
from .blocking import run_blocking
from .errors import (
    CertificateExpired,
    CertificateRevoked,
    CertificateUntrusted,
    SigningFailed,
    TimestampUnavailable,
)
from .levels import PadesLevel
from .ltv import check_level, effective_level, embed_signatures_validation_info, signature_metadata
from .pdfinput import open_writer
from .tsa import TSA_TIMEOUT, timestamper

if TYPE_CHECKING:
    from asn1crypto import x509
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.writer import BasePdfFileWriter
    from pyhanko.sign.signers import PdfSigner, Signer
    from pyhanko.sign.signers.pdf_signer import PdfSigningSession
    from pyhanko.sign.timestamps import TimeStamper
    from pyhanko_certvalidator import ValidationContext

#: Room kept for the CMS blob when a caller fixes it, in hex digits (8 KiB of CMS).
#: By default the room is measured for each signature (:func:`contents_size`).
BYTES_RESERVED = 16384
#: Bytes of CMS reserved beyond what was measured: a TSA's tokens differ by a few
#: bytes from one request to the next (serial number, time), DER ECDSA values by one.
RESERVE_MARGIN = 512
#: The unsigned-attribute wrapping round a signature timestamp token, at most.
TIMESTAMP_ATTRIBUTE = 64
APPROVAL_FIELD = "KySo_PheDuyet"


@dataclass(frozen=True)
class FieldFill:
    """Text written into an existing, empty text field in the same revision as the
    signature (the clerk's number and date), in an embedded TrueType font metric-
    compatible with the draft's Times New Roman (:func:`signer.fonts.body_font`).
    Without ``font``/``size`` the field's own default appearance (/DA) says which style
    (``Times-Roman``, ``Times-Italic``, ``Times-Bold``) and size. ``align``: ``centre``,
    ``left`` or ``right`` (the number sits flush against the "/" of its symbol)."""

    field: str
    text: str
    font: str | None = None
    size: float | None = None
    align: str = "centre"


@dataclass(frozen=True)
class DocumentInfo:
    """The issued document's metadata (/Info and XMP): ``title`` its number and symbol,
    ``subject`` its summary (trích yếu), ``author`` the issuing body."""

    title: str
    subject: str = ""
    author: str = ""


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
    validation_context: ValidationContext | None = None
    reason: str | None = None
    location: str | None = None
    md_algorithm: str = "sha256"
    #: hex digits for /Contents; None: measured for this signer, chain and level
    bytes_reserved: int | None = None
    fills: tuple[FieldFill, ...] = ()
    level: PadesLevel = PadesLevel.B_T
    info: DocumentInfo | None = None


def _subject(cert: x509.Certificate) -> str:
    try:
        return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)
    except (AttributeError, ValueError):
        return "?"


async def check_signer_certificate(
        cert: x509.Certificate, context: ValidationContext | None, moment: dt.datetime, *,
        intermediates: Sequence[x509.Certificate] = ()) -> tuple[x509.Certificate, ...]:
    """Refuse an expired, not yet valid, revoked or untrusted signer certificate.

    ``intermediates`` (e.g. the chain its token or service handed over) only help build the
    path: trust still comes from the context's anchors.

    Returns the CA certificates of the path it validated (issuer first, root last; none
    without a validation context): every signature carries them, so that a recipient
    who trusts only the root can build the chain."""
    _check_validity(cert, moment)
    if context is None:
        return ()
    return await _validated_chain(cert, context, intermediates)


def _check_validity(cert: x509.Certificate, moment: dt.datetime) -> None:
    """Refuse ``cert`` outside its validity period at ``moment``."""
    validity = cert["tbs_certificate"]["validity"]
    not_before = validity["not_before"].native
    not_after = validity["not_after"].native
    if not (not_before <= moment <= not_after):
        raise CertificateExpired(_subject(cert), f"{not_before:%d/%m/%Y} – {not_after:%d/%m/%Y}")


async def _validated_chain(cert: x509.Certificate, context: ValidationContext,
                           intermediates: Sequence[x509.Certificate] = ()
                           ) -> tuple[x509.Certificate, ...]:
    """The chain and revocation part of :func:`check_signer_certificate`."""
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import (
        PathBuildingError,
        PathValidationError,
        RevokedError,
    )

    validator = CertificateValidator(cert, intermediate_certs=list(intermediates),
                                     validation_context=context)
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


def _checking(cert: x509.Certificate, context: ValidationContext | None,
              moment: dt.datetime) -> concurrent.futures.Future[tuple[x509.Certificate, ...]]:
    """:func:`check_signer_certificate` started: the validity period checked now, the
    chain and its revocation (network requests, each a wait) on a thread of its own with
    its own event loop, so that the caller's work goes on meanwhile. The future holds
    the chain, or the check's error."""
    _check_validity(cert, moment)
    future: concurrent.futures.Future[tuple[x509.Certificate, ...]] = \
        concurrent.futures.Future()
    if context is None:
        future.set_result(())
        return future

    def check() -> None:
        if not future.set_running_or_notify_cancel():
            return  # the signing ended before the thread started
        try:
            chain = asyncio.run(_validated_chain(cert, context))
        except Exception as exc:  # noqa: BLE001 - the thread's boundary: re-raised where awaited
            future.set_exception(exc)
        else:
            future.set_result(chain)
        finally:
            if not future.done():
                future.set_exception(SigningFailed(
                    "kiểm tra chứng thư bị ngắt / the certificate check was interrupted"))

    threading.Thread(target=check, name="kyso-certificate-check", daemon=True).start()
    return future


def signer_certificate(signer: Signer) -> x509.Certificate:
    """The certificate ``signer`` signs with (refused when it has none)."""
    if signer.signing_cert is None:
        raise SigningFailed("thiếu chứng thư của người ký / signer certificate missing")
    return signer.signing_cert


def carry_chain(signer: Signer, chain: tuple[x509.Certificate, ...]) -> None:
    """Put ``chain`` (the signer's CA certificates) into the CMS ``signer`` will make."""
    if chain:
        signer.cert_registry.register_multiple(chain)


#: Standard Times fonts and their resource names in a text field's /DA (set by
#: ``prepare``, read back here when the field is filled).
DA_FONT_KEYS = {"Times-Roman": "TiRo", "Times-Italic": "TiIt", "Times-Bold": "TiBo"}
_DA_FONTS = {f"/{key}": name for name, key in DA_FONT_KEYS.items()}


def _field_font(writer: IncrementalPdfFileWriter, fill: FieldFill) -> tuple[str, float]:
    """The font and size to write ``fill`` with: its own, else the field's /DA."""
    font, size = fill.font, fill.size
    if font is None or size is None:
        from pyhanko.pdf_utils.form_tools import find_existing_empty_field
        from pyhanko.pdf_utils.misc import FormFillingError

        try:
            field = _dictionary(find_existing_empty_field(writer, fill.field, "/Tx"))
            parts = str(field.get("/DA", "")).split()
            da_font, da_size = parts[parts.index("Tf") - 2], float(parts[parts.index("Tf") - 1])
        except (FormFillingError, ValueError, IndexError):
            da_font, da_size = "/TiRo", 13.0
        font = font or _DA_FONTS.get(da_font, "Times-Roman")
        size = size or da_size
    return font, size


def _dictionary(ref: generic.Reference | generic.IndirectObject) -> generic.DictionaryObject:
    """The dictionary ``ref`` points to (a form field, a widget)."""
    from pyhanko.pdf_utils import generic

    found = ref.get_object()
    if not isinstance(found, generic.DictionaryObject):
        raise SigningFailed(f"{ref} không phải từ điển / is not a dictionary")
    return found


def _background(annot: generic.DictionaryObject) -> tuple[float, ...]:
    """The widget's background colour (/MK /BG: gray, RGB or CMYK), () when none."""
    try:
        colour = annot["/MK"]["/BG"]
        return tuple(float(v) for v in colour)
    except (KeyError, TypeError, ValueError):
        return ()


_FILL_OPERATOR = {1: "g", 3: "rg", 4: "k"}
_ALIGN = {"left": "ALIGN_MIN", "centre": "ALIGN_MID", "right": "ALIGN_MAX"}


def _fill_fields(writer: IncrementalPdfFileWriter, fills: tuple[FieldFill, ...]) -> None:
    """Write each fill into its empty text field as static text (read-only), on the
    baseline of the printed line; a white-backed field (/MK /BG, set by ``prepare``)
    paints its background under the text, over what the draft printed there."""
    from pyhanko.pdf_utils import generic, layout
    from pyhanko.pdf_utils.form_tools import (
        TextFieldContent,
        annot_width_height,
        find_existing_empty_field,
        get_single_field_annot,
    )
    from pyhanko.pdf_utils.misc import FormFillingError
    from pyhanko.pdf_utils.text import TextBoxStyle

    from .appearance import font_factory
    from .fonts import body_font

    class Backed(TextFieldContent):
        """The text over a band of the widget's background colour."""

        band = b""

        def render(self) -> bytes:
            return self.band + bytes(super().render())

    for fill in fills:
        font, size = _field_font(writer, fill)
        if fill.align not in _ALIGN:
            raise SigningFailed(f"căn lề '{fill.align}' không có / no alignment '{fill.align}'")
        # the field spans the printed line from descender to ascender: lift the text
        # box so the digits stand on the same baseline as the words around them
        on_baseline = layout.SimpleBoxLayoutRule(
            x_align=getattr(layout.AxisAlignment, _ALIGN[fill.align]),
            y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins(bottom=round(size * 0.3)),
            inner_content_scaling=layout.InnerScaling.NO_SCALING)
        style = TextBoxStyle(font=font_factory(body_font(font), round(size)),
                             font_size=round(size), box_layout_rule=on_baseline)
        try:
            field_ref = find_existing_empty_field(writer, fill.field, "/Tx")
            field = _dictionary(field_ref)
            annot = get_single_field_annot(field)
            width, height = annot_width_height(annot)
            x1, _, x2, _ = (float(v) for v in annot["/Rect"])
            band_width = abs(x2 - x1)  # the real width: the box is unscaled below
            background = _background(annot)
            operator = _FILL_OPERATOR.get(len(background))
            # the band from below the baseline to above the digits, inside the field
            content = Backed(writer=writer, text_content=fill.text, text_style=style,
                             box=layout.BoxConstraints(width=width, height=height))
            if operator:
                content.band = (f"q {' '.join(f'{v:g}' for v in background)} {operator} "
                                f"0 {size * 0.1:.2f} {band_width:.2f} {size * 1.05:.2f} re f Q\n"
                                ).encode()
            content.apply_appearance(annot)
            writer.update_container(annot)
            field["/V"] = generic.TextStringObject(fill.text)
            field["/Ff"] = generic.NumberObject(  # type: ignore[no-untyped-call]
                int(field.get("/Ff", 0)) | 1)  # read-only
            field.pop("/DA", None)
            writer.mark_update(field_ref)
        except FormFillingError as exc:
            raise SigningFailed(f"không điền được trường '{fill.field}' / cannot fill field "
                                f"'{fill.field}' ({exc})") from exc
        _unscaled(writer, get_single_field_annot(field))


def _unscaled(writer: IncrementalPdfFileWriter, widget: generic.DictionaryObject) -> None:
    """pyHanko gives a filled field's appearance a box of whole points, which viewers
    stretch onto the field's real rectangle (13 pt digits came out 13.7 pt tall): give
    the box the rectangle's own size, so the text prints at its size."""
    from pyhanko.pdf_utils import generic

    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    appearance = widget["/AP"]["/N"].get_object()
    box = [0.0, 0.0, abs(x2 - x1), abs(y2 - y1)]
    appearance["/BBox"] = generic.ArrayObject(
        [generic.FloatObject(v) for v in box])  # type: ignore[no-untyped-call]
    writer.update_container(appearance)


def write_info(writer: IncrementalPdfFileWriter, info: DocumentInfo) -> None:
    """Set /Title, /Subject, /Author and the XMP metadata (dc:title, dc:description,
    dc:creator) in the revision ``writer`` is making: the signature about to be made
    covers them, and pyHanko's validator accepts the change for earlier signatures."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.metadata import xmp_xml

    values = {"/Title": info.title, "/Subject": info.subject, "/Author": info.author}
    meta = writer.document_meta
    meta.title, meta.subject, meta.author = info.title, info.subject or None, \
        info.author or None
    # pyHanko only rewrites the /Info entries that exist when it writes XMP: set them all
    ref = writer.trailer.raw_get("/Info") if "/Info" in writer.trailer else None
    if isinstance(ref, generic.IndirectObject):
        entries = _dictionary(ref)
    else:
        entries = generic.DictionaryObject()  # type: ignore[no-untyped-call]
        ref = writer.set_info(entries)
    for key, value in values.items():
        if value:
            entries[generic.pdf_name(key)] = generic.TextStringObject(
                unicodedata.normalize("NFC", value))
    writer.mark_update(ref)
    if "/Metadata" not in writer.root:  # pyHanko writes XMP only where some exists
        stream = xmp_xml.MetadataStream.from_xmp(xmp_xml.update_xmp_with_meta(meta))
        writer.root["/Metadata"] = writer.add_object(stream)
        writer.update_root()  # type: ignore[no-untyped-call]


def free_field_name(writer: IncrementalPdfFileWriter, wanted: str) -> str:
    """``wanted`` unless a signature already fills it; then ``wanted_2``, ``wanted_3`` …"""
    from pyhanko.sign.fields import enumerate_sig_fields

    filled = {name for name, value, _ in enumerate_sig_fields(writer) if value is not None}
    name, n = wanted, 1
    while name in filled:
        n += 1
        name = f"{wanted}_{n}"
    return name


def _has_field(writer: IncrementalPdfFileWriter, name: str) -> bool:
    from pyhanko.sign.fields import enumerate_sig_fields

    return any(found == name for found, _, _ in enumerate_sig_fields(writer))


def pdf_signer_for(options: SigningOptions, signer: Signer, signing_time: dt.datetime,
                   field_name: str, writer: IncrementalPdfFileWriter,
                   timestamper: TimeStamper | None = None) -> PdfSigner:
    """A pyHanko ``PdfSigner`` for ``options`` that signs at ``signing_time`` into the
    signature field ``field_name`` of ``writer``'s document.

    A field the document already has (a prepared draft's) is signed where its widget is:
    no new-field spec is given, because pyHanko would look its page up by walking the
    whole page tree (a cost that grew with the page count) only to ignore it.

    ``timestamper``: the TSA client to use (:func:`signer.tsa.timestamper`'s, whose TLS
    set-up is made once a process); by default one of pyHanko's for ``options.tsa_url``."""
    from pyhanko.sign import fields, signers
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.timestamps import HTTPTimeStamper

    class FixedTimePdfSigner(signers.PdfSigner):
        """Uses one signing time for the CMS attributes and the visible stamp."""

        def init_signing_session(self, pdf_out: BasePdfFileWriter,
                                 existing_fields_only: bool = False) -> PdfSigningSession:
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
    if options.appearance is not None and not _has_field(writer, field_name):
        field_spec = fields.SigFieldSpec(
            sig_field_name=field_name,
            on_page=options.appearance.page,
            box=options.appearance.box,
        )
    if timestamper is None and options.tsa_url:
        timestamper = HTTPTimeStamper(options.tsa_url, timeout=TSA_TIMEOUT)
    return FixedTimePdfSigner(meta, signer=signer, timestamper=timestamper,
                              stamp_style=stamp, new_field_spec=field_spec)


#: Size of a TSA's timestamp token per (URL, digest), measured once per process.
_TOKEN_SIZES: dict[tuple[str, str], int] = {}
#: Those of :data:`_TOKEN_SIZES` a caller handed over from an earlier process.
_REMEMBERED: set[tuple[str, str]] = set()


def token_sizes() -> dict[str, int]:
    """The TSA token sizes this process knows, ``"URL DIGEST"`` → bytes: what a command
    keeps for its next run (:func:`remember_token_sizes`)."""
    return {f"{url} {md}": size for (url, md), size in _TOKEN_SIZES.items()}


def remember_token_sizes(sizes: Mapping[str, int]) -> None:
    """Take the token sizes an earlier process measured (:func:`token_sizes`) instead of
    asking each TSA for a token first. Should a TSA's tokens have grown meanwhile beyond
    the margin, the signature that did not fit is made again once, its size measured."""
    for name, size in sizes.items():
        url, _, md = name.rpartition(" ")
        if url and md and (url, md) not in _TOKEN_SIZES and isinstance(size, int) and size > 0:
            _TOKEN_SIZES[url, md] = size
            _REMEMBERED.add((url, md))


def _token_key(pdf_signer: PdfSigner) -> tuple[str, str] | None:
    timestamper = pdf_signer.default_timestamper
    if timestamper is None:
        return None
    md = pdf_signer.signature_meta.md_algorithm or "sha256"
    return str(getattr(timestamper, "url", id(timestamper))), md


def _signature_size(cert: x509.Certificate) -> int:
    """The most bytes a signature value of ``cert``'s key takes (DER for ECDSA)."""
    key = cert.public_key
    bits = int(key.bit_size)
    if key.algorithm == "ec":
        return 2 * ((bits + 7) // 8) + 9
    return (bits + 7) // 8


#: Hex digits measured by :func:`contents_size` per signer and CMS shape, once a process.
_CONTENTS_SIZES: dict[tuple[object, ...], int] = {}


def _cms_shape(signer: Signer, pdf_signer: PdfSigner) -> tuple[object, ...]:
    """What the size of the CMS depends on: the signer's certificate and those it
    carries, the digest, the signed-attribute spec and the TSA."""
    registry = getattr(signer, "cert_registry", None) or ()
    timestamper = pdf_signer.default_timestamper
    meta = pdf_signer.signature_meta
    return (signer.signing_cert.sha256 if signer.signing_cert is not None else None,
            tuple(sorted(c.sha256 for c in registry)), meta.md_algorithm,
            repr(meta.cades_signed_attr_spec), type(signer).__name__,
            str(getattr(timestamper, "url", id(timestamper))) if timestamper else None)


async def contents_size(signer: Signer, pdf_signer: PdfSigner, signing_time: dt.datetime) -> int:
    """The hex digits to reserve for the CMS ``signer`` will make through ``pdf_signer``.

    A dry run builds the CMS as it will be (signed attributes, the signer's
    certificate and the CA chain it carries) without using the key (a PKCS#11 token
    is not touched); the signature value is counted at its largest for the key; the
    TSA's token (B-T and up: B-LT/B-LTA keep their validation data in the DSS, not the
    CMS) is measured once per TSA and process. Plus :data:`RESERVE_MARGIN`. pyHanko
    refuses a CMS larger than its room (nothing is written), never truncates it.
    Measured once per process for each signer and CMS shape (:func:`_cms_shape`): the
    dry run cost as much as the CMS itself, on every signature."""
    shape = _cms_shape(signer, pdf_signer)
    if shape not in _CONTENTS_SIZES:
        _CONTENTS_SIZES[shape] = await _measure_contents(signer, pdf_signer, signing_time)
    return _CONTENTS_SIZES[shape]


async def _measure_contents(signer: Signer, pdf_signer: PdfSigner,
                            signing_time: dt.datetime) -> int:
    import hashlib

    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    md = pdf_signer.signature_meta.md_algorithm or "sha256"
    attrs = PdfCMSSignedAttributes(
        signing_time=signing_time,
        cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec)
    dry = await signer.async_sign(hashlib.new(md).digest(), md, use_pades=True, dry_run=True,
                                  signed_attr_settings=attrs)
    value = len(dry["content"]["signer_infos"][0]["signature"].native)
    # a dry run's value is a placeholder (512 bytes for any RSA key on PKCS#11)
    size = len(dry.dump()) - value + _signature_size(signer.signing_cert)
    token = await token_size(pdf_signer)
    if token:
        size += token + TIMESTAMP_ATTRIBUTE
    return 2 * (size + RESERVE_MARGIN)


async def token_size(pdf_signer: PdfSigner) -> int:
    """The size of a timestamp token from ``pdf_signer``'s TSA (0 without one), asked of
    the TSA once per TSA, digest and process."""
    key = _token_key(pdf_signer)
    if key is None or pdf_signer.default_timestamper is None:
        return 0
    if key not in _TOKEN_SIZES:
        dummy = await pdf_signer.default_timestamper.async_dummy_response(key[1])
        _TOKEN_SIZES[key] = len(dummy.dump())
    return _TOKEN_SIZES[key]


def _forget_remembered(pdf_signer: PdfSigner, exc: Exception) -> bool:
    """After ``exc``: whether the CMS outgrew a room sized with a remembered token size
    (:func:`remember_token_sizes`); that size is then dropped, to be measured again."""
    key = _token_key(pdf_signer)
    if key not in _REMEMBERED or "larger than expected" not in str(exc):
        return False
    _REMEMBERED.discard(key)
    _TOKEN_SIZES.pop(key, None)
    _CONTENTS_SIZES.clear()
    return True


async def open_for_signing(
        pdf: bytes, cert: x509.Certificate | None, options: SigningOptions, moment: dt.datetime,
        meanwhile: Callable[[IncrementalPdfFileWriter, str], Awaitable[object]] | None = None,
) -> tuple[IncrementalPdfFileWriter, str, tuple[x509.Certificate, ...]]:
    """Everything before the signature itself, shared by :func:`async_sign_pdf` and
    hash-only signing: open ``pdf`` for an incremental update, check the signer's
    certificate, write the field fills, and pick the signature field's name; then
    ``meanwhile(writer, field_name)``, while the certificate check may still be on its way
    (:func:`_checking`). Returns once the check has passed: the writer, the field name
    and the certificate's CA chain."""
    writer = open_writer(pdf)
    if cert is None:
        raise SigningFailed("thiếu chứng thư của người ký / signer certificate missing")
    checking = _checking(cert, options.validation_context, moment)
    try:
        _fill_fields(writer, options.fills)
        if options.info is not None:
            write_info(writer, options.info)
        field_name = free_field_name(writer, options.field_name)
        if meanwhile is not None:
            await meanwhile(writer, field_name)
    except BaseException:
        checking.cancel()  # its thread ends by itself; its answer is not needed
        raise
    chain = await asyncio.wrap_future(checking)
    return writer, field_name, chain


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
    pdf: bytes, signer: Signer, options: SigningOptions, *, signing_time: dt.datetime | None = None
) -> bytes:
    """Sign ``pdf`` with the pyHanko ``signer``; return the signed PDF.

    At B-LT/B-LTA the earlier signatures' validation data is embedded first (pyHanko
    embeds only the new signature's), so the whole file validates offline."""
    out = io.BytesIO()
    await async_sign_pdf_into(pdf, signer, options, out, signing_time=signing_time)
    return out.getvalue()


async def async_sign_pdf_into(
    pdf: bytes, signer: Signer, options: SigningOptions, output: BinaryIO, *,
    signing_time: dt.datetime | None = None,
) -> None:
    """:func:`async_sign_pdf`, writing the signed PDF into ``output`` (readable,
    writable, seekable: pyHanko reads the byte ranges back to digest them), e.g. the
    file it is to end in: a 100 MB scan is then not held in memory a second time."""
    from pyhanko.sign.general import SigningError

    given = pdf
    moment = vietnam_time(signing_time)
    level = effective_level(options.level, options.tsa_url)
    if level in (PadesLevel.B_LT, PadesLevel.B_LTA) and options.validation_context is not None:
        with signing_errors(options.tsa_url):
            pdf = await embed_signatures_validation_info(pdf, options.validation_context)
    made: list[PdfSigner] = []
    tsa = timestamper(options.tsa_url) if options.tsa_url else contextlib.nullcontext()
    async with tsa as stamper:  # one HTTP session for the TSA's two requests

        async def meanwhile(writer: IncrementalPdfFileWriter, field_name: str) -> None:
            made.append(pdf_signer_for(options, signer, moment, field_name, writer, stamper))
            if options.appearance is not None and options.appearance.lines:
                preload_font(options.appearance)
            if not options.bytes_reserved:
                with signing_errors(options.tsa_url):
                    await token_size(made[0])

        writer, _, chain = await open_for_signing(pdf, signer.signing_cert, options, moment,
                                                  meanwhile)
        carry_chain(signer, chain)
        pdf_signer = made[0]
        start = output.tell()
        with signing_errors(options.tsa_url):
            reserved = options.bytes_reserved or await contents_size(signer, pdf_signer,
                                                                     moment)
            try:
                await _sign_into(pdf_signer, writer, output, reserved)
            except SigningError as exc:
                if options.bytes_reserved or not _forget_remembered(pdf_signer, exc):
                    raise
                output.seek(start)
                output.truncate()
                await async_sign_pdf_into(given, signer, options, output,
                                          signing_time=moment)
    if level.embeds_validation_info:  # what check_level reads; B-B/B-T need nothing
        output.seek(start)
        check_level(output.read(), level)
        output.seek(0, io.SEEK_END)


async def _sign_into(pdf_signer: PdfSigner, writer: IncrementalPdfFileWriter, output: BinaryIO,
                     reserved: int) -> None:
    """pyHanko's ``PdfSigner.async_sign_pdf`` (0.38) step by step, so that a file being
    written is handed to the disk (:func:`_start_writeback`) as soon as the document is
    written and digested: while the key signs and the TSA answers, the kernel writes it
    out, and the ``fsync`` that follows waits for little more than the signature.

    The document is copied into ``output`` and read back for its digest in chunks of
    :data:`IO_CHUNK` (pyHanko's 4 KiB meant 25,000 reads and writes of a 100 MB file)."""
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    writer.IO_CHUNK_SIZE = IO_CHUNK
    session = pdf_signer.init_signing_session(writer)
    validation_info = await session.perform_presign_validation(writer)
    tbs = session.prepare_tbs_document(validation_info=validation_info,
                                       bytes_reserved=reserved)
    prepared, written = tbs.digest_tbs_document(output=output, chunk_size=IO_CHUNK)
    _start_writeback(written)
    signed = await tbs.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(
            signing_time=session.system_time,
            adobe_revinfo_attr=(None if validation_info is None
                                else validation_info.adobe_revinfo_attr),
            cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec))
    await signed.post_signature_processing(written, chunk_size=IO_CHUNK)


#: Bytes copied or digested at a time when the signed file is written (not held in memory).
IO_CHUNK = 1 << 20


def _start_writeback(output: object) -> None:
    """Ask the kernel to start writing ``output``'s dirty pages now, without waiting
    (Linux: ``posix_fadvise`` DONTNEED starts the writeback; the pages being written stay
    cached). Nothing for an output that is not a file, or where the call is missing."""
    import os

    try:
        output.flush()  # type: ignore[attr-defined]
        fd = output.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        with contextlib.suppress(OSError):
            advise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def sign_pdf(
    pdf: bytes, signer: Signer, options: SigningOptions, *, signing_time: dt.datetime | None = None
) -> bytes:
    """Blocking :func:`async_sign_pdf`, for the command line and worker processes."""
    return run_blocking(async_sign_pdf(pdf, signer, options, signing_time=signing_time))


def sign_pdf_into(
    pdf: bytes, signer: Signer, options: SigningOptions, output: BinaryIO, *,
    signing_time: dt.datetime | None = None,
) -> None:
    """Blocking :func:`async_sign_pdf_into` (the command line writes into its output)."""
    run_blocking(async_sign_pdf_into(pdf, signer, options, output, signing_time=signing_time))
