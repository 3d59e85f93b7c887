"""What the command line (and later the HTTP API) does, wired from a data directory."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from certs import DemoPki, TrustStore, serving, validation_context
from common import write_new_with
from signer import Appearance, Report, SigningOptions, sign_pdf_into, verify_pdf

from ..datadir import DataDir
from ..environment import ENVIRONMENT
from ..errors import DiskFull, OutputExists

#: Where the demo's approval signature sits on the sample Quyết định: between
#: "CHỦ TỊCH" and the name (found by hand here; detection comes with issuance).
DEMO_BOX = (325, 163, 525, 225)


@contextlib.contextmanager
def pki_services(data: DataDir) -> Iterator[DemoPki | None]:
    """Serve the demo PKI's TSA/OCSP/CRL for the block, when this data dir has one."""
    pki = data.demo_pki()
    if pki is None:
        yield None
        return
    with serving(pki):
        yield pki


def _name_field(cert: Any, key: str) -> str:
    value = cert.subject.native.get(key, "")
    return str(value[0] if isinstance(value, list) else value)


def appearance_for(cert: Any, box: tuple[int, int, int, int] | None = None,
                   page: int = -1, image: bytes | None = None) -> Appearance:
    """The visible stamp for a signer certificate: name, title and body from its subject."""
    return Appearance.stamp(
        _name_field(cert, "common_name"),
        _name_field(cert, "title"),
        _name_field(cert, "organization_name"),
        box=box or Appearance.box,
        page=page,
        image=image,
    )


def sign_document(
    data: DataDir, pdf: bytes, token_name: str, pin: str | None, *,
    pki: DemoPki | None, box: tuple[int, int, int, int] | None = None, page: int = -1,
    image: bytes | None = None,
) -> bytes:
    """Sign ``pdf`` with a configured token; ``pki`` services must be running if given."""
    out = io.BytesIO()
    sign_document_into(data, pdf, token_name, pin, out, pki=pki, box=box, page=page,
                       image=image)
    return out.getvalue()


def sign_document_into(
    data: DataDir, pdf: bytes, token_name: str, pin: str | None, output: BinaryIO, *,
    pki: DemoPki | None, box: tuple[int, int, int, int] | None = None, page: int = -1,
    image: bytes | None = None,
) -> None:
    """:func:`sign_document`, writing the signed PDF into ``output`` (see
    :func:`signer.sign_pdf_into`)."""
    data.activate_softhsm()
    token = data.token(token_name)
    tsa_url = ENVIRONMENT.tsa_url or (pki.tsa_url if pki else None)
    store = data.trust_store()
    with token.signer(pin) as signer:
        options = SigningOptions(
            appearance=appearance_for(signer.signing_cert, box, page, image),
            tsa_url=tsa_url,
            validation_context=validation_context(store, online=True),
        )
        sign_pdf_into(pdf, signer, options, output)


def verify_document(data: DataDir, pdf: bytes, name: str = "",
                    store: TrustStore | None = None) -> Report:
    """Verify ``pdf`` against ``store`` (default: the data directory's bundled + demo)."""
    store = store if store is not None else data.trust_store()
    return verify_pdf(pdf, lambda: validation_context(store, online=True), name, store)


def write_new_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` whole or not at all, never replacing an existing file."""
    write_new_file_with(path, lambda out: out.write(content), len(content))


def write_new_file_with(path: Path, fill: Callable[[BinaryIO], object], size: int = 0) -> None:
    """:func:`write_new_file` of what ``fill`` writes (straight into the file)."""
    if path.exists() or not write_new_with(path, fill, size,
                                           full=lambda written: DiskFull(path, written)):
        raise OutputExists(path)
