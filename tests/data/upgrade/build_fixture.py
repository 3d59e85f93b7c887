"""Builds tests/data/upgrade/: a database of the previous release's schema (revision 0013,
before 0014 added ``background_task`` and ``worker_heartbeat``) with documents in every
state, for tests/test_schema_upgrade.py.

    .venv/bin/python tests/data/upgrade/build_fixture.py

A throwaway demo commune (SoftHSM tokens and the demo PKI with its TSA on loopback, as
``kyso demo`` makes them) and a SQLite file migrated to 0013 only; the product's own
functions (documents.new_draft, prepare, route, return_request, recall, approve, issue,
sign_attachment, make_copy) make the documents — 0014 changed no table they write, so
what they write is what 0013's code wrote. Then every row of every table is written to
``rows-0013.json`` (bytes base64, times ISO 8601, in the order foreign keys need), the
stored PDF versions to ``files/`` (named by SHA-256, as documents.FileStore keeps them),
and the demo root that issued every certificate to ``demo-root.pem``. Run again only to
remake the fixture for a new "previous release" (its revision is in the JSON).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
sys.path.insert(0, str(ROOT))
REVISION = "0013"
DRAFT = ROOT / "tests" / "data" / "drafts" / "t1_mau12_quyet_dinh.pdf"
SIGNER = "Lê Minh Đức"
SIGNER_TOKEN = "pho-chu-tich-duc"
SEAL_TOKEN = "ubnd"
CLERK = "vanthu"


def encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    return value


def build(out: Path) -> dict[str, str]:
    from sqlalchemy import MetaData, select
    from sqlalchemy.orm import Session

    from api.datadir import DataDir
    from api.demo.accounts import seed_demo_accounts
    from api.demo.art import appendix_pdf, handwritten_signature, seal
    from api.demo.commune import demo_people, seed
    from api.demo.demo import DEMO_PIN, provision, token_settings
    from certs import serving
    from documents import (
        Document,
        FileStore,
        IssueDetails,
        Organisation,
        Person,
        approve,
        create_engine_for,
        issue,
        make_copy,
        new_draft,
        prepare,
        session_factory,
        sign_attachment,
        upgrade_database,
    )
    from documents.issuance import Signing
    from documents.queue import recall, requests_of, return_request, route
    from signer import CopyKind, PadesLevel

    work = Path(tempfile.mkdtemp(prefix="kyso-upgrade-fixture-"))
    os.environ["SOFTHSM2_CONF"] = str(work / "softhsm" / "softhsm2.conf")
    data = DataDir(work).create()
    commune = provision(data.softhsm, data.pki)
    data.save_token_settings(token_settings(commune))
    url = f"sqlite:///{work / 'old.db'}"
    upgrade_database(url, REVISION)
    engine = create_engine_for(url)
    sessions = session_factory(engine)
    store = FileStore(data.files)
    states: dict[str, str] = {}

    with sessions() as session, session.begin():
        body = seed(session, commune.pki)
        seed_demo_accounts(session, body, demo_people(session, body))
        body_id = body.id

    def drafted(subject: str, *, prepared: bool = True) -> str:
        with sessions() as session, session.begin():
            body = session.get_one(Organisation, body_id)
            document = new_draft(session, store, body, "quyet-dinh", subject, DRAFT.read_bytes(),
                                 actor="chuyenvien", file_name="du-thao.pdf")
            if prepared:
                prepare(session, store, document, actor="chuyenvien")
            return document.id

    def signer(session: Session) -> Person:
        return session.scalars(select(Person).where(Person.full_name == SIGNER)).one()

    def routed(subject: str) -> str:
        doc_id = drafted(subject)
        with sessions() as session, session.begin():
            route(session, session.get_one(Document, doc_id), [signer(session)],
                  actor="chuyenvien")
        return doc_id

    signing = Signing(tsa_url=commune.pki.tsa_url, level=PadesLevel.B_T)

    def approved(subject: str) -> str:
        doc_id = routed(subject)
        with data.token(SIGNER_TOKEN).signer(DEMO_PIN) as hand, sessions() as session, \
                session.begin():
            approve(session, store, session.get_one(Document, doc_id), signer(session), hand,
                    handwritten_signature(), signing, actor="phochutichduc")
        return doc_id

    def details(**kwargs: Any) -> IssueDetails:
        fields: dict[str, Any] = {
            "issued_date": dt.date(2026, 11, 20), "signer_full_name": SIGNER,
            "signer_position": "Phó Chủ tịch", "recipients": "Như Điều 3; Lưu: VT.",
            "archive_holder": "Văn thư UBND xã", "issued_amount": 1,
            "registered_by": CLERK, **kwargs}
        return IssueDetails(**fields)

    with serving(commune.pki):
        states["draft"] = drafted("Về việc bản nháp chưa chuẩn bị", prepared=False)
        states["prepared"] = drafted("Về việc bản nháp đã chuẩn bị")
        states["awaiting"] = routed("Về việc văn bản đang chờ ký")
        states["returned"] = routed("Về việc văn bản bị trả lại")
        with sessions() as session, session.begin():
            document = session.get_one(Document, states["returned"])
            (request,) = requests_of(session, document)
            return_request(session, request, "Sửa lại trích yếu cho đúng thể thức",
                           actor="phochutichduc")
        states["recalled"] = routed("Về việc văn bản được rút lại")
        with sessions() as session, session.begin():
            recall(session, session.get_one(Document, states["recalled"]), actor="chuyenvien")
        states["signed"] = approved("Về việc văn bản đã ký, chờ phát hành")
        states["issued"] = approved("Về việc văn bản đã phát hành")
        with data.token(SEAL_TOKEN).signer(DEMO_PIN) as body_signer:
            with sessions() as session, session.begin():
                entry, _ = issue(session, store, session.get_one(Document, states["issued"]),
                                 body_signer, seal(), details(), signing, actor=CLERK)
                number = entry.number_symbol
            with sessions() as session, session.begin():
                sign_attachment(session, store, session.get_one(Document, states["issued"]),
                                body_signer, appendix_pdf(f"Quyết định số {number}"), signing,
                                file_name="phu-luc.pdf", actor=CLERK)
            with sessions() as session, session.begin():
                copy, _, _ = make_copy(session, store,
                                       session.get_one(Document, states["issued"]), body_signer,
                                       CopyKind.SAO_Y, details(signer_full_name="Văn thư",
                                                               signer_position="Văn thư"),
                                       signing, actor=CLERK, file_name="sao-y.pdf")
                states["copy"] = copy.id

    with sessions() as session:
        statuses = {name: session.get_one(Document, doc_id).status.value
                    for name, doc_id in states.items()}
    metadata = MetaData()
    metadata.reflect(engine)
    tables: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
        assert revision == REVISION, revision
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(select(table).order_by(*order)).mappings()
            tables[table.name] = [{k: encode(v) for k, v in row.items()} for row in rows]
    engine.dispose()

    shutil.rmtree(out / "files", ignore_errors=True)
    (out / "files").mkdir(parents=True)
    kept = {row["sha256"] for row in tables["document_version"]}
    for sha256 in sorted(kept):
        (out / "files" / f"{sha256}.pdf").write_bytes(store.get(sha256))
    (out / "demo-root.pem").write_bytes(_pem(commune.pki.root))
    (out / f"rows-{REVISION}.json").write_text(json.dumps({
        "revision": REVISION, "made": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "documents": {name: {"id": doc_id, "status": statuses[name]}
                      for name, doc_id in states.items()},
        "tables": tables}, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return statuses


def _pem(certificate: Any) -> bytes:
    from asn1crypto import pem

    return bytes(pem.armor("CERTIFICATE", certificate.dump()))


if __name__ == "__main__":
    print(build(HERE))
