"""What the command line (and later the HTTP API) does, wired from a data directory."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from certs import DemoPki, TrustStore, serving, validation_context
from common import write_new_with
from signer import (
    Appearance,
    Report,
    SigningOptions,
    remember_token_sizes,
    sign_pdf_into,
    token_sizes,
    verify_pdf,
)

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
    sizes = data.root / "cache" / "tsa-token-sizes.json"
    remember_token_sizes(_recent_json(sizes, TOKEN_SIZES_KEPT))
    with token.signer(pin) as signer:
        options = SigningOptions(
            appearance=appearance_for(signer.signing_cert, box, page, image),
            tsa_url=tsa_url,
            # the check's OCSP/CRL answers are reused by the next command (5 minutes)
            validation_context=validation_context(store, online=True,
                                                  shared=data.fetch_cache()),
        )
        sign_pdf_into(pdf, signer, options, output)
    _keep_json(sizes, token_sizes())


#: How long ``kyso sign`` trusts the size of a TSA's token measured by an earlier run
#: (a token that outgrows it makes the signature again, measured: signer.remember_token_sizes).
TOKEN_SIZES_KEPT = 24 * 3600


def _recent_json(path: Path, max_age: float) -> dict[str, int]:
    """The JSON object kept in ``path`` if it is younger than ``max_age`` seconds, else {}."""
    try:
        if time.time() - path.stat().st_mtime > max_age:
            return {}
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _keep_json(path: Path, value: dict[str, int]) -> None:
    """Keep ``value`` in ``path`` for the next command (a cache: a failure costs nothing)."""
    if not value or value == _recent_json(path, TOKEN_SIZES_KEPT):
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(json.dumps(value), encoding="utf-8")
        partial.replace(path)


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
