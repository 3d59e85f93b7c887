"""Small helpers shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from api.cli.operations import DEMO_BOX, sign_document, verify_document
from api.datadir import DataDir
from api.demo.demo import DEMO_PIN
from certs import DemoPki
from signer import Report

KYSO = str(Path(sys.executable).with_name("kyso"))


def sign_as(data: DataDir, pki: DemoPki | None, token: str, pdf: bytes,
            pin: str = DEMO_PIN, **kwargs: object) -> bytes:
    kwargs.setdefault("box", DEMO_BOX)
    kwargs.setdefault("page", 0)
    return sign_document(data, pdf, token, pin, pki=pki, **kwargs)  # type: ignore[arg-type]


def verify(data: DataDir, pdf: bytes) -> Report:
    return verify_document(data, pdf, "test.pdf")


def run_kyso(data: DataDir, *args: str, pin: str | None = None,
             extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(extra_env or {})}
    if pin is not None:
        env["KYSO_PIN"] = pin
    return subprocess.run([KYSO, "--data-dir", str(data.root), *args], env=env,
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
