"""Uploads made usable: word processor drafts (.docx, .odt, .doc) made into PDF by
LibreOffice when installed, and uploaded certificates (PEM or DER) as PEM text.

The conversion runs ``libreoffice --headless --convert-to pdf`` in a private temporary
directory with its own LibreOffice profile (two conversions at once do not share one),
with a time limit. Without LibreOffice the drafter is told, in Vietnamese, to save the
draft as PDF themselves.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from asn1crypto import pem

from ..errors import CertificateUnreadable, ConversionFailed, ConverterMissing

OFFICE_SUFFIXES = (".docx", ".odt", ".doc", ".rtf")
TIMEOUT_SECONDS = 120


def is_office_file(name: str) -> bool:
    return name.lower().endswith(OFFICE_SUFFIXES)


def find_libreoffice() -> str | None:
    return shutil.which("libreoffice") or shutil.which("soffice")


def office_to_pdf(data: bytes, name: str, program: str | None = None) -> bytes:
    """The PDF LibreOffice makes of ``data`` (a file called ``name``); blocking."""
    program = program or find_libreoffice()
    if program is None:
        raise ConverterMissing(name)
    suffix = Path(name).suffix.lower() or ".docx"
    with tempfile.TemporaryDirectory(prefix="kyso-convert-") as work:
        folder = Path(work)
        source = folder / f"du-thao{suffix}"
        source.write_bytes(data)
        try:
            done = subprocess.run(
                [program, f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                 "--headless", "--norestore", "--convert-to", "pdf", "--outdir",
                 str(folder), str(source)],
                capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ConversionFailed(name, f"quá {TIMEOUT_SECONDS} giây") from exc
        result = folder / "du-thao.pdf"
        if done.returncode != 0 or not result.exists():
            raise ConversionFailed(name, f"mã lỗi {done.returncode}")
        return result.read_bytes()


def certificate_pem(data: bytes, name: str) -> str:
    """PEM text of an uploaded certificate (PEM or DER)."""
    if pem.detect(data):
        return data.decode("ascii", "replace")
    if not data:
        raise CertificateUnreadable(name)
    armored: bytes = pem.armor("CERTIFICATE", data)
    return armored.decode("ascii")
