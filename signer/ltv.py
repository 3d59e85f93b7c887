"""Long-term validity: PAdES B-LT and B-LTA signing, and archive timestamp renewal.

Levels (ETSI EN 319 142-1)::

    B-B    the CMS signature alone
    B-T    + a signature timestamp from the TSA                (default when a TSA is given)
    B-LT   + the DSS: certificates, OCSP responses and CRLs for the signer and the TSA,
             so the file can be validated once the CA's services are gone
    B-LTA  + a document timestamp over all of it (the first archive timestamp)

An archive timestamp proves that the file, its DSS included, existed at its time. It
is only as strong as its TSA certificate and its digest: before that certificate
expires (or SHA-1-like weakness makes the digest worthless) the chain must be renewed
with :func:`add_archive_timestamp` — revocation info for the last timestamp's TSA goes
into the DSS and a new document timestamp covers everything, as an incremental
update. :func:`archive_timestamp_due` says when.

A pyHanko ValidationContext keeps every OCSP response and CRL it fetched and pyHanko
embeds all of them in the DSS: give each document a fresh context.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from .blocking import run_blocking
from .errors import (
    LevelNeedsTsa,
    LevelNeedsValidationContext,
    NotSigned,
    RevocationInfoMissing,
    SigningFailed,
    TimestampUnavailable,
)
from .levels import PadesLevel
from .pdfinput import open_reader
from .tsa import timestamper

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko_certvalidator import ValidationContext

#: Name (and prefix, ``_2``, ``_3`` …) of the document timestamp fields Kyso adds.
ARCHIVE_FIELD = "KySo_LuuTru"
#: Renew an archive timestamp this long before its TSA certificate expires.
ARCHIVE_MARGIN = dt.timedelta(days=180)
#: Digest algorithms that no longer protect an archive timestamp.
WEAK_DIGESTS = frozenset({"md2", "md5", "sha1"})


def effective_level(level: PadesLevel, tsa_url: str | None) -> PadesLevel:
    """The level a signature will really have: B-T without a TSA is B-B (as always);
    B-LT and B-LTA without one are refused rather than silently lowered."""
    if tsa_url:
        return level
    if level.embeds_validation_info:
        raise LevelNeedsTsa(level)
    return PadesLevel.B_B


class LtvMetadata(TypedDict, total=False):
    """The long-term validation arguments of pyHanko's ``PdfSignatureMetadata``."""

    embed_validation_info: bool
    validation_context: ValidationContext
    use_pades_lta: bool


def signature_metadata(level: PadesLevel, tsa_url: str | None,
                       validation_context: ValidationContext | None) -> LtvMetadata:
    """Keyword arguments for pyHanko's ``PdfSignatureMetadata`` at ``level``."""
    level = effective_level(level, tsa_url)
    if not level.embeds_validation_info:
        return {}
    if validation_context is None:
        raise LevelNeedsValidationContext(level)
    settings: LtvMetadata = {"embed_validation_info": True,
                             "validation_context": validation_context}
    if level is PadesLevel.B_LTA:
        settings["use_pades_lta"] = True
    return settings


def archive_field_name(reader: PdfFileReader) -> str:
    """``KySo_LuuTru`` unless taken; then ``KySo_LuuTru_2``, ``_3`` …"""
    from pyhanko.sign.fields import enumerate_sig_fields

    taken = {name for name, _, _ in enumerate_sig_fields(reader)}
    name, n = ARCHIVE_FIELD, 1
    while name in taken:
        n += 1
        name = f"{ARCHIVE_FIELD}_{n}"
    return name


@dataclass(frozen=True)
class DocumentTimestamp:
    """One document (archive) timestamp found in a file."""

    field_name: str
    time: dt.datetime
    tsa: str
    tsa_not_after: dt.datetime
    #: the message imprint's digest and the token's own signing digest
    digest_algorithms: tuple[str, ...]


@dataclass(frozen=True)
class LtvContents:
    """What a file carries for long-term validation."""

    signatures: int
    dss_certs: int
    dss_ocsps: int
    dss_crls: int
    document_timestamps: tuple[DocumentTimestamp, ...]

    @property
    def has_revocation_info(self) -> bool:
        return self.dss_ocsps + self.dss_crls > 0


def _timestamp_info(sig: EmbeddedPdfSignature) -> DocumentTimestamp:
    tst_info = sig.signed_data["encap_content_info"]["content"].parsed
    cert = sig.signer_cert
    return DocumentTimestamp(
        field_name=str(sig.field_name),
        time=tst_info["gen_time"].native,
        tsa=str(cert.subject.human_friendly),
        tsa_not_after=cert["tbs_certificate"]["validity"]["not_after"].native,
        digest_algorithms=(str(sig.external_md_algorithm).lower(), str(sig.md_algorithm)))


def ltv_contents(pdf: bytes) -> LtvContents:
    """Count the DSS entries and list the document timestamps of ``pdf``."""
    from pyhanko.sign.validation import DocumentSecurityStore
    from pyhanko.sign.validation.errors import ValidationInfoReadingError

    reader = open_reader(pdf)
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        counts = (len(dss.certs), len(dss.ocsps), len(dss.crls))
    except ValidationInfoReadingError:
        counts = (0, 0, 0)
    return LtvContents(
        signatures=len(reader.embedded_regular_signatures),
        dss_certs=counts[0], dss_ocsps=counts[1], dss_crls=counts[2],
        document_timestamps=tuple(_timestamp_info(sig)
                                  for sig in reader.embedded_timestamp_signatures))


def check_level(pdf: bytes, level: PadesLevel) -> None:
    """Refuse a freshly signed ``pdf`` that does not carry what ``level`` promises."""
    if not level.embeds_validation_info:
        return
    contents = ltv_contents(pdf)
    if not contents.has_revocation_info:
        raise RevocationInfoMissing(level)
    if level is PadesLevel.B_LTA and not contents.document_timestamps:
        raise SigningFailed("thiếu dấu thời gian tài liệu (B-LTA) / document timestamp "
                            "missing (B-LTA)")


class DueReason(enum.Enum):
    """Why a file needs a (new) archive timestamp now; the value is for people."""

    NO_VALIDATION_INFO = ("chưa có thông tin kiểm tra dài hạn (B-T) / no long-term "
                          "validation info yet (B-T)")
    NO_ARCHIVE_TIMESTAMP = "chưa có dấu thời gian lưu trữ / no archive timestamp yet"
    TSA_CERT_EXPIRING = ("chứng thư TSA của dấu thời gian lưu trữ sắp hết hạn / the archive "
                         "timestamp's TSA certificate expires soon")
    WEAK_DIGEST = ("dấu thời gian lưu trữ dùng thuật toán băm yếu / the archive timestamp "
                   "uses a weak digest")


def archive_timestamp_due(pdf: bytes, now: dt.datetime,
                          margin: dt.timedelta = ARCHIVE_MARGIN, *,
                          include_b_t: bool = False) -> DueReason | None:
    """Whether ``pdf`` needs an archive timestamp now, and why.

    Due when the last document timestamp's TSA certificate expires within ``margin``
    of ``now``, when its digest is weak (SHA-1 and older), or when a B-LT file (its
    revocation info in the DSS) has no document timestamp yet. A signed file with
    neither DSS nor document timestamp (B-B/B-T) is due only with ``include_b_t``
    (:func:`add_archive_timestamp` then embeds its validation info first). A file
    with no signature never is.
    """
    contents = ltv_contents(pdf)
    if contents.signatures == 0:
        return None
    if not contents.document_timestamps:
        if contents.has_revocation_info:
            return DueReason.NO_ARCHIVE_TIMESTAMP
        return DueReason.NO_VALIDATION_INFO if include_b_t else None
    last = contents.document_timestamps[-1]
    if WEAK_DIGESTS.intersection(last.digest_algorithms):
        return DueReason.WEAK_DIGEST
    if last.tsa_not_after - margin <= now:
        return DueReason.TSA_CERT_EXPIRING
    return None


async def embed_signatures_validation_info(pdf: bytes,
                                          validation_context: ValidationContext) -> bytes:
    """The validation data (chain, OCSP/CRL) of every signature of ``pdf`` added to its DSS,
    one incremental update per signature (B-T → B-LT); ``pdf`` itself when unsigned.

    A signature whose data the DSS already holds (its VRI entry is there: the file was
    issued at B-LT, and now gets a copy's or a renewal's signature) is left alone:
    rewriting its VRI entry is a change the validators refuse."""
    from pyhanko.sign.validation.dss import async_add_validation_info

    count = len(open_reader(pdf).embedded_regular_signatures)
    for index in range(count):
        reader = open_reader(pdf)
        sig = reader.embedded_regular_signatures[index]
        if _vri_key(sig) in _vri_keys(reader):
            continue
        out = await async_add_validation_info(sig, validation_context, output=io.BytesIO())
        pdf = out.getvalue()
    return pdf


def _vri_key(sig: EmbeddedPdfSignature) -> str:
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    # the same identifier pyHanko writes: SHA-1 of the hex of the signature contents
    return str(DocumentSecurityStore.sig_content_identifier(
        sig.pkcs7_content.hex().encode("ascii")))


def _vri_keys(reader: PdfFileReader) -> set[str]:
    dss = reader.root.get("/DSS")
    vri = dss.get_object().get("/VRI") if dss is not None else None
    return {str(k) for k in vri.get_object()} if vri is not None else set()


async def async_add_archive_timestamp(pdf: bytes, tsa_url: str,
                                      validation_context: ValidationContext) -> bytes:
    """Renew the archive timestamp chain of ``pdf``: one incremental update.

    The last document timestamp is validated with ``validation_context`` (online:
    it fetches the TSA certificate's revocation info), its chain and revocation
    info go into the DSS, and a new document timestamp from ``tsa_url`` covers the
    whole file. A file without any DSS (B-T) first gets its signatures' validation
    info, so the result is B-LTA either way.
    """
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    contents = ltv_contents(pdf)
    if contents.signatures == 0:
        raise NotSigned()
    try:
        if not contents.document_timestamps and not contents.has_revocation_info:
            pdf = await embed_signatures_validation_info(pdf, validation_context)
        reader = open_reader(pdf)
        async with timestamper(tsa_url) as client:
            stamper = PdfTimeStamper(client, field_name=archive_field_name(reader))
            out = await stamper.async_update_archival_timestamp_chain(
                reader, validation_context, in_place=False, output=io.BytesIO())
    except TimestampRequestError as exc:
        raise TimestampUnavailable(tsa_url) from exc
    except (SigningError, PdfError, PathBuildingError, PathValidationError,
            ValueError) as exc:
        raise SigningFailed(f"không gia hạn được dấu thời gian lưu trữ / archive timestamp "
                            f"renewal failed ({str(exc) or type(exc).__name__})") from exc
    result: bytes = out.getvalue()
    return result


def add_archive_timestamp(pdf: bytes, tsa_url: str,
                          validation_context: ValidationContext) -> bytes:
    """Blocking :func:`async_add_archive_timestamp`."""
    return run_blocking(async_add_archive_timestamp(pdf, tsa_url, validation_context))
