"""The CSC v2 test server (tests/support/csc_server.py) as a session fixture.

It runs as a separate process on 127.0.0.1, signing with the demo officials'
keys on the session's SoftHSM tokens. Test modules import the fixture under its
name::

    from .csc_fixtures import csc_service_fixture  # noqa: F401
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.datadir import DataDir
from api.demo.demo import DEMO_PIN, DemoCommune
from certs import free_port
from tokens import CscAuth, CscProvider

SERVER = Path(__file__).parent / "support" / "csc_server.py"


@dataclass(frozen=True)
class CscService:
    """A running CSC v2 test server and what a client needs to talk to it."""

    base_url: str
    client_id: str
    client_secret: str
    static_token: str
    redirect_uri: str
    user: tuple[str, str]
    outbox: Path
    log: Path

    def provider(self, auth: CscAuth | None = None,
                 session: httpx.Client | None = None) -> CscProvider:
        return CscProvider(self.base_url, auth or CscAuth.bearer(self.static_token), session,
                           timeout=20)

    def read_otp(self, credential_id: str) -> str:
        """The OTP the server 'sent by SMS' for ``credential_id``."""
        return (self.outbox / f"{credential_id}.otp").read_text().strip()


def _credentials(commune: DemoCommune) -> list[dict[str, Any]]:
    chain = [base64.b64encode(c.dump()).decode() for c in
             (commune.pki.cert("interm"), commune.pki.root)]

    def cred(cid: str, token: str, **kw: Any) -> dict[str, Any]:
        return {"id": cid, "token": token, "key_label": token, "chain": chain, **kw}

    return [
        cred("chu-tich", "chu-tich", scal=1, multisign=20,
             description="Nguyễn Văn Hùng — Chủ tịch"),
        cred("pho-chu-tich-ec", "pho-chu-tich", scal=2, multisign=10),
        cred("pho-chu-tich-duc", "pho-chu-tich-duc", scal=2, multisign=4),
        cred("truong-phong-otp", "truong-phong-vhxh", scal=2, multisign=5,
             auth=["PIN", "OTP"]),
        cred("ubnd-oauth2", "ubnd", scal=2, multisign=5, mode="oauth2code"),
        cred("chu-tich-short", "chu-tich", scal=1, multisign=5, sad_lifetime=1),
        cred("khoa", "chu-tich", enabled=False),
    ]


@pytest.fixture(scope="session", name="csc_service")
def csc_service_fixture(data: DataDir, commune: DemoCommune,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[CscService]:
    with running_csc_server(commune, tmp_path_factory.mktemp("csc")) as service:
        yield service


@contextlib.contextmanager
def running_csc_server(commune: DemoCommune, root: Path,
                       only: Collection[str] | None = None) -> Iterator[CscService]:
    """The CSC v2 test server over ``commune``'s SoftHSM tokens, for the block (with
    ``only`` the credentials of those ids)."""
    root.mkdir(parents=True, exist_ok=True)
    service = CscService(
        base_url=f"http://127.0.0.1:{free_port()}",
        client_id="kyso-test",
        client_secret=secrets.token_urlsafe(16),
        static_token=secrets.token_urlsafe(16),
        redirect_uri="http://127.0.0.1/kyso/csc-callback",
        user=("hung", secrets.token_urlsafe(8)),
        outbox=root / "outbox",
        log=root / "server.log",
    )
    config = root / "config.json"
    config.write_text(json.dumps({
        "base_url": service.base_url, "module": commune.hsm.module,
        "outbox": str(service.outbox), "clients": {service.client_id: service.client_secret},
        "static_tokens": [service.static_token], "redirect_uris": [service.redirect_uri],
        "users": {service.user[0]: service.user[1]},
        "credentials": [c for c in _credentials(commune) if only is None or c["id"] in only],
    }), encoding="utf-8")
    env = {**os.environ, "SOFTHSM2_CONF": str(commune.hsm.conf), "CSC_TOKEN_PIN": DEMO_PIN}
    with service.log.open("wb") as log:
        proc = subprocess.Popen([sys.executable, str(SERVER), str(config)], env=env,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_ready(service, proc)
        yield service
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_ready(service: CscService, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"CSC test server exited: {service.log.read_text()[-2000:]}")
        try:
            if httpx.post(f"{service.base_url}/csc/v2/info", json={},
                          timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"CSC test server did not start: {service.log.read_text()[-2000:]}")
