"""A running `kyso serve` for end-to-end tests, and the steps every role repeats over HTTP."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.datadir import DataDir
from certs import free_port

from .helpers import KYSO


@dataclass
class Service:
    url: str
    data: DataDir
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    inbox: list[tuple[list[str], str]] = field(default_factory=list)

    def login(self, username: str) -> httpx.Client:
        return self.login_as(username, f"{username}-demo")

    def login_as(self, username: str, password: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=60)
        answer = client.post("/api/v1/auth/login",
                             json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        return client

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        # No worker of this service outlives it: one left in Celery's warm shutdown (seen
        # after a test dropped its database) would hold its queues on the shared test
        # broker. Its command line names this data directory's beat schedule.
        schedule = re.escape(f"-s {self.data.root / 'celery-beat-schedule'}")
        subprocess.run(["pkill", "-KILL", "-f", schedule], check=False)


def start_service(data: DataDir, port: int, env: dict[str, str], log_path: Path,
                  inbox: list[tuple[list[str], str]] | None = None,
                  args: tuple[str, ...] = ()) -> Service:
    """`kyso serve` on ``data`` at 127.0.0.1:``port``, once its health route answers.

    The port is given as ``KYSO_PORT``, as an operator's unit file would: `kyso serve`
    takes every setting from the settings object (``--port`` is tested elsewhere)."""
    log = log_path.open("wb")
    process = subprocess.Popen([KYSO, "serve", "--data-dir", str(data.root), *args],
                               env={**env, "KYSO_PORT": str(port)}, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return Service(url, data, process, env, inbox if inbox is not None else [])
        except httpx.HTTPError:
            pass
        assert process.poll() is None, log_path.read_text()
        time.sleep(0.5)
    process.terminate()
    pytest.fail("kyso serve did not come up: " + log_path.read_text())


#: Variables of the caller's environment that would point `kyso serve` elsewhere.
FOREIGN_ENV = ("SOFTHSM2_CONF", "KYSO_DATABASE_URL", "KYSO_BROKER_URL", "KYSO_RESULT_BACKEND")


def embedded_env(**settings: str) -> dict[str, str]:
    """This process's environment for an embedded-profile `kyso serve`, plus ``settings``."""
    return {**{k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}, **settings}


@contextlib.contextmanager
def embedded_service(root: Path, data: DataDir | None = None,
                     **settings: str) -> Iterator[Service]:
    """`kyso serve` on the embedded profile (``data``, else ``root/data``), stopped after."""
    running = start_service(data or DataDir(root / "data").create(), free_port(),
                            embedded_env(**settings), root / "serve.log")
    try:
        yield running
    finally:
        running.stop()


def wait_for(client: httpx.Client, document_id: str, status: str,
             seconds: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        document: dict[str, Any] = client.get(f"/api/v1/documents/{document_id}").json()
        if document["status"] == status:
            return document
        time.sleep(0.3)
    raise AssertionError(f"document stayed {document['status']}, expected {status}")


def upload(client: httpx.Client, body_id: int, draft: Path, doc_type: str = "quyet-dinh") -> Any:
    with draft.open("rb") as handle:
        return client.post("/api/v1/documents", data={
            "body_id": str(body_id), "doc_type": doc_type,
            "subject": "Về việc phê duyệt danh sách hộ gia đình được hỗ trợ"},
            files={"file": (draft.name, handle, "application/pdf")})


def routed_drafts(staff: httpx.Client, body_id: int, draft: Path, signer: str,
                  count: int = 1) -> list[str]:
    """``count`` uploads of ``draft``, each routed to ``signer`` (a full name) once prepared
    (on a loaded machine the upload answers before the worker has prepared it)."""
    signers = {s["full_name"]: s["person_id"]
               for s in staff.get(f"/api/v1/bodies/{body_id}/signers").json()}
    documents = []
    for _ in range(count):
        created = upload(staff, body_id, draft)
        assert created.status_code == 201, created.text
        document_id = created.json()["id"]
        if created.json()["status"] == "DRAFT":
            wait_for(staff, document_id, "PREPARED", 240)
        assert staff.post(f"/api/v1/documents/{document_id}/route", json={
            "signer_person_ids": [signers[signer]]}).status_code == 200
        documents.append(document_id)
    return documents


def move_token(source: Path, label: str, target: Path) -> None:
    """Move SoftHSM token ``label`` from the installation at ``source`` to ``target``."""
    (target / "tokens").mkdir(parents=True, exist_ok=True)
    (target / "softhsm2.conf").write_text(
        f"directories.tokendir = {target / 'tokens'}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n", encoding="utf-8")
    for folder in (source / "tokens").iterdir():
        if label.encode() in (folder / "token.object").read_bytes():
            shutil.move(str(folder), str(target / "tokens" / folder.name))
            return
    raise AssertionError(f"no SoftHSM token {label} under {source}")


@dataclass
class KeysElsewhere:
    """A running service whose officials' keys are not all on it: Lê Minh Đức's token is on
    his own PC (authority ``agent``), Nguyễn Văn Hùng signs through a CSC v2 remote-signing
    service (authority ``remote:csc-tinh``)."""

    service: Service
    body_id: int
    root: Path
    commune: Any  # api.demo.demo.DemoCommune
    csc: Any  # tests.csc_fixtures.CscService

    def pc(self, label: str) -> Path:
        """SOFTHSM2_CONF of the PC holding token ``label`` (moved off the service)."""
        return self.root / f"pc-{label}" / "softhsm2.conf"


@contextlib.contextmanager
def keys_elsewhere(root: Path, moved: tuple[str, ...] = ("pho-chu-tich-duc",)
                   ) -> Iterator[KeysElsewhere]:
    """Provision the demo commune in ``root``, move the ``moved`` tokens to PCs of their
    own, start the CSC test server and `kyso serve`, and switch the two authorities."""
    from api.demo.demo import provision, token_settings

    from .csc_fixtures import running_csc_server

    data = DataDir(root / "data").create()
    commune = provision(data.softhsm, data.pki)
    for label in moved:
        move_token(data.softhsm, label, root / f"pc-{label}")
    with running_csc_server(commune, root / "csc", only={"chu-tich"}) as csc:
        tokens = token_settings(commune)
        tokens["csc-tinh"] = {"backend": "csc", "url": csc.base_url, "credential_id": "chu-tich",
                              "access_token": csc.static_token}
        data.save_token_settings(tokens)
        with embedded_service(root, data) as service:
            admin = service.login("quantri")
            body_id = admin.get("/api/v1/bodies").json()[0]["id"]
            authorities = {a["person"]: a for a in
                           admin.get(f"/api/v1/admin/bodies/{body_id}/authorities").json()}
            for name, token in (("Lê Minh Đức", "agent"), ("Nguyễn Văn Hùng", "remote:csc-tinh")):
                changed = admin.patch(f"/api/v1/admin/bodies/{body_id}/authorities/"
                                      f"{authorities[name]['id']}", json={"token_name": token})
                assert changed.status_code == 200, changed.text
            yield KeysElsewhere(service, body_id, root, commune, csc)
