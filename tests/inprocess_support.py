"""The real app in-process over the demo commune seeded in a data directory of its own, and
the fixtures the signing-channel tests share (registered for every module in conftest.py):

- ``world``: the app through FastAPI's TestClient, the vice-chair logged in;
- ``served_world``: the same, also served by uvicorn on a loopback port in a thread of this
  process (:func:`served`), for a real browser;
- ``duc_key``: the vice-chair's own key on his SoftHSM token, driven by pyHanko alone (the
  signer's own tool, the VGCA Sign Service);
- ``phone_standin``: a VNPT SmartCA stand-in holding his certificate and signing on his
  token (tests/support/smartca_standin.py), served on loopback.

Each module gets its own instance of the service (``world``/``served_world`` are
module-scoped); the worker's tasks run in this process when a test says so
(:func:`run_tasks_here`)."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pyhanko.sign import signers
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.datadir import DataDir
from api.demo.demo import DEMO_PIN, DemoCommune
from api.settings import Settings
from documents import (
    DocumentVersion,
    FileStore,
    Organisation,
    Person,
    SigningAuthority,
    VersionKind,
    new_draft,
    prepare,
)
from documents.queue import route

from .support.smartca_standin import SmartCaStandIn, serving

#: a draft whose signature block names Lê Minh Đức
DRAFT = Path(__file__).parent / "data" / "drafts" / "t1_mau12_quyet_dinh.pdf"
SIGNER = "Lê Minh Đức"
ACCOUNT = "phochutichduc"
#: the vice-chair's token (and demo certificate) label
DUC_TOKEN = "pho-chu-tich-duc"
#: the phone-confirmed service's name in tokens.json (his authority: ``remote:vnpt``)
PHONE_SERVICE = "vnpt"


@dataclass
class World:
    client: Any
    sessions: sessionmaker[Session]
    store: FileStore
    data: DataDir
    headers: dict[str, str] = field(default_factory=dict)
    #: where a browser reaches the app (``served_world`` only)
    url: str = ""

    def login(self, username: str) -> dict[str, str]:
        answer = self.client.post("/api/v1/auth/login",
                                  json={"username": username, "password": f"{username}-demo"})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def routed_draft(self, signer: str = SIGNER, subject: str = "Về việc thử nghiệm") -> str:
        """A prepared draft routed to ``signer``, their step still to approve."""
        with self.sessions() as session, session.begin():
            body = session.scalars(select(Organisation)).first()
            assert body is not None
            document = new_draft(session, self.store, body, "quyet-dinh", subject,
                                 DRAFT.read_bytes())
            prepare(session, self.store, document)
            person = session.scalars(select(Person).where(Person.full_name == signer)).one()
            route(session, document, [person], actor="chuyenvien")
            return document.id

    def approved(self, document_id: str) -> bytes:
        """The stored version carrying the approval signature."""
        with self.sessions() as session:
            sha256 = session.scalars(select(DocumentVersion.sha256).where(
                DocumentVersion.document_id == document_id,
                DocumentVersion.kind == VersionKind.APPROVED)).one()
        return self.store.get(sha256)

    def assert_approvals_validate(self, document_ids: list[str], signer: str | None = None
                                  ) -> None:
        """Each document's approved version holds one signature, intact, valid and trusted
        (by ``signer`` when given)."""
        from api.cli.operations import verify_document

        for document_id in document_ids:
            report = verify_document(self.data, self.approved(document_id))
            (signature,) = report.signatures
            assert signature.intact and signature.valid and signature.trusted, report.reasons
            if signer is not None:
                assert signer in str(signature.signer)


@contextlib.contextmanager
def served(world: World) -> Iterator[str]:
    """The world's app (its lifespan already run by the TestClient) at a local address,
    served by uvicorn in a thread."""
    import uvicorn

    app: Any = world.client.app
    # the socket listens before uvicorn runs: the browser's first connection waits in its
    # backlog until the server takes it, so nothing has to wait for the start
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@contextlib.contextmanager
def in_process_service(commune: DemoCommune, root: Path) -> Iterator[World]:
    """The app on a data directory of its own in ``root``, the vice-chair logged in."""
    from fastapi.testclient import TestClient

    from api.database import open_database
    from api.demo.accounts import seed_demo_accounts
    from api.demo.commune import demo_people, seed
    from api.http.app import create_app

    service = DataDir(root / "service").create()
    # the instance trusts the demo CA that issued its signers' certificates, as the demo's own
    # data directory does (without it no approval passes the check before the PIN)
    shutil.copytree(commune.pki.directory, service.pki, dirs_exist_ok=True)
    sessions = open_database(service)
    with sessions() as session, session.begin():
        body = seed(session, commune.pki)
        seed_demo_accounts(session, body, demo_people(session, body))
    app = create_app(Settings(data_dir=service.root, database_url=service.database_url))
    try:
        with TestClient(app) as client:
            world = World(client, sessions, FileStore(service.files), service)
            world.headers = world.login(ACCOUNT)
            yield world
    finally:
        sessions.kw["bind"].dispose()


def until(condition: Callable[[], Any], seconds: float = 60) -> None:
    """Wait (polling) until ``condition()`` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def confirm_within(world: World, standin: SmartCaStandIn, seconds: float) -> None:
    """tokens.json names the SmartCA service, whose transactions last ``seconds``."""
    world.data.save_token_settings({PHONE_SERVICE: {
        "backend": "smartca", "url": standin.base_url, "sp_id": standin.sp_id,
        "sp_password": standin.sp_password, "user_id": standin.user_id,
        "credential_id": "cert-1", "confirm_seconds": seconds}})


def sign_on_the_phone(world: World, standin: SmartCaStandIn, seconds: float,
                      tsa_url: str) -> None:
    """The vice-chair's authority becomes ``remote:vnpt``, the SmartCA stand-in, whose
    transactions last ``seconds``; the worker's tasks run in this process."""
    confirm_within(world, standin, seconds)
    with world.sessions() as session, session.begin():
        session.execute(update(SigningAuthority).where(
            SigningAuthority.certificate_sha256 == hashlib.sha256(
                standin.certificate.dump()).hexdigest()).values(
                    token_name=f"remote:{PHONE_SERVICE}"))
    run_tasks_here(world, tsa_url)


def run_tasks_here(world: World, tsa_url: str) -> None:
    """The worker's tasks, called by a test in this process, act on ``world``'s service (no
    server token signs there: the keys are elsewhere)."""
    from api.demo.art import handwritten_signature, seal
    from api.worker import tasks
    from documents import Runtime, Signing

    tasks.configure(Runtime(
        sessions=world.sessions, store=world.store,
        signer_for=lambda name: pytest.fail(f"no server token signs here ({name})"),
        signing=Signing(tsa_url=tsa_url), seal_for=lambda d: seal(),
        signature_image_for=lambda p: handwritten_signature()))


# --- the fixtures (registered in conftest.py) ----------------------------------------------


@pytest.fixture(scope="module")
def world(commune: DemoCommune, tmp_path_factory: pytest.TempPathFactory,
          request: pytest.FixtureRequest) -> Iterator[World]:
    """The app through a TestClient, one per test module."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    with in_process_service(commune, tmp_path_factory.mktemp(name)) as world:
        yield world


@pytest.fixture(scope="module")
def served_world(commune: DemoCommune, tmp_path_factory: pytest.TempPathFactory,
                 request: pytest.FixtureRequest) -> Iterator[World]:
    """The app on a real HTTP server (uvicorn in a thread), one per test module."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    with in_process_service(commune, tmp_path_factory.mktemp(name)) as world, \
            served(world) as url:
        world.url = url
        yield world


@pytest.fixture
def duc_key(data: DataDir) -> Iterator[signers.Signer]:
    """The vice-chair's own key, on his token, driven by pyHanko alone. One test's long: a
    second login to his token while one is open fails (``UserAlreadyLoggedIn``), and
    :func:`phone_standin` holds one for its module."""
    with data.token(DUC_TOKEN).signer(DEMO_PIN) as key:
        yield key


@pytest.fixture(scope="module")
def phone_standin(data: DataDir, commune: DemoCommune) -> Iterator[SmartCaStandIn]:
    """VNPT SmartCA's stand-in with the vice-chair's account, signing on his token."""
    from tokens import Pkcs11Token

    token = data.token(DUC_TOKEN)
    assert isinstance(token, Pkcs11Token)
    with token.digest_signer(DEMO_PIN) as key, serving(SmartCaStandIn(
            sp_id="kyso", sp_password="mat-khau-sp", user_id="034080001234", key=None,
            certificate=commune.pki.cert(DUC_TOKEN),
            chain=[*commune.pki.chain, commune.pki.root],
            sign=lambda digest: key.sign_digest(digest).value)) as service:
        yield service
