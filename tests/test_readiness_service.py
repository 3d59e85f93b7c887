""""Ready to issue?" on a running server: the body's token, its certificate's trust and
revocation service, the TSA and the mail server — each against the real thing."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.datadir import DataDir
from api.demo.commune import SEAL, seed
from api.demo.demo import DemoCommune
from api.readiness import service_checks
from api.settings import Settings
from certs import Origin, TrustStore, free_port
from common import vietnam_time
from documents import (
    BodyPlan,
    Check,
    FirstAdmin,
    SignerCertificate,
    create_engine_for,
    session_factory,
    start_body,
    upgrade_database,
)

from .helpers import KYSO
from .support.mail import mail_port_fixture  # noqa: F401

TOKEN = ("Thiết bị giữ khóa của cơ quan", "Token holding the organisation key")
TRUSTED = "Chứng thư số của cơ quan được tin cậy"
REVOCATION = "Tra cứu thu hồi (OCSP/CRL)"
TSA = "Máy chủ dấu thời gian (TSA)"
MAIL = "Gửi thư điện tử (SMTP)"


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'kyso.db'}"
    upgrade_database(url)
    engine = create_engine_for(url)
    yield session_factory(engine)
    engine.dispose()


def trusting(commune: DemoCommune) -> TrustStore:
    store = TrustStore()
    store.add(commune.pki.root, Origin.DEMO, "test")
    store.extend(commune.pki.chain, Origin.DEMO, "test")
    return store


def checks_of(settings: Settings, sessions: sessionmaker[Session], commune: DemoCommune,
              *, with_certificate: bool) -> dict[str, Check]:
    with sessions() as session:
        body = seed(session, commune.pki)
        if with_certificate:
            cert = commune.pki.cert(SEAL)
            session.add(SignerCertificate(sha256=hashlib.sha256(cert.dump()).hexdigest(),
                                          der=cert.dump(), subject=cert.subject.human_friendly,
                                          not_after=cert.not_valid_after))
            session.flush()
        return {c.name_vi: c for c in service_checks(settings, session, body,
                                                     trusting(commune))}


def test_a_ready_server_passes_every_check(data: DataDir, commune: DemoCommune,
                                           sessions: sessionmaker[Session],
                                           mail_port: int) -> None:
    settings = Settings(data_dir=data.root, smtp_host="127.0.0.1", smtp_port=mail_port)
    checks = checks_of(settings, sessions, commune, with_certificate=True)
    assert [name for name, c in checks.items() if not c.ok] == []
    assert checks[TOKEN[0]].detail_vi.startswith(SEAL)
    assert commune.pki.tsa_url in checks[TSA].detail_vi


def test_each_missing_service_is_named_with_what_to_do(data: DataDir, commune: DemoCommune,
                                                       sessions: sessionmaker[Session]) -> None:
    dead = f"http://127.0.0.1:{free_port()}/tsa"
    settings = Settings(data_dir=data.root, tsa_url=dead, smtp_host="127.0.0.1",
                        smtp_port=free_port())
    checks = checks_of(settings, sessions, commune, with_certificate=False)
    assert checks[TOKEN[0]].ok
    for name in (TRUSTED, REVOCATION, TSA, MAIL):
        assert not checks[name].ok, name
        assert checks[name].todo_vi, name
    assert "PEM" in checks[TRUSTED].todo_vi
    assert "KYSO_TSA_URL" in checks[TSA].todo_vi and dead in checks[TSA].detail_vi
    assert "KYSO_SMTP_HOST" in checks[MAIL].todo_vi


def test_no_mail_server_means_in_app_notices_only(data: DataDir, commune: DemoCommune,
                                                  sessions: sessionmaker[Session]) -> None:
    checks = checks_of(Settings(data_dir=data.root), sessions, commune, with_certificate=True)
    assert not checks[MAIL].ok and "chỉ có thông báo trong Kyso" in checks[MAIL].detail_vi
    assert checks[TRUSTED].ok and checks[REVOCATION].ok


def test_kyso_doctor_body_prints_the_checklist_and_exits_2_when_not_ready(
        tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data").create()
    upgrade_database(data.database_url)
    engine = create_engine_for(data.database_url)
    with Session(engine) as session:
        start_body(session, BodyPlan("Ủy ban nhân dân xã Mới", "UBND", "Mới", "000.01.02.H41"),
                   FirstAdmin("quantri.moi", "mat-khau-rat-dai-2026", "Quản trị"), actor=None)
        session.commit()
    engine.dispose()
    done = subprocess.run([KYSO, "--data-dir", str(data.root), "doctor", "--body",
                           "Ủy ban nhân dân xã Mới", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    checks = {c["name_vi"]: c for c in json.loads(done.stdout)}
    assert not checks["Ảnh con dấu"]["ok"] and checks["Ảnh con dấu"]["todo_vi"]
    assert not checks["Chứng thư số của cơ quan"]["ok"]
    assert checks[f"Sổ đăng ký văn bản đi năm {vietnam_time(datetime.now(UTC)).year}"]["ok"]

