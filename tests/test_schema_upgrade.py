"""The schema under upgrade (issue 17, point 6): a database of the previous release's schema
(revision 0013, tests/data/upgrade/, made by its build_fixture.py) with documents in every
state — draft, prepared, awaiting signature, returned, recalled, signed, issued with an
attachment, an electronic copy — upgrades to head on SQLite and on PostgreSQL, loses
nothing, and the old documents go on through their life: the signed one is issued (the
next number of the book, no gap), the issued one verifies, the register lists both, the
audit trail is still one intact chain, and the service logs the clerk in and lists them.

The rows are loaded into the 0013 schema through its own reflected tables (never the head
models), the audit events one by one past the database's own append-only triggers."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem, x509
from sqlalchemy import MetaData, func, select, text

from api.datadir import DataDir
from api.demo.art import seal
from api.demo.demo import DEMO_PIN
from certs import Origin, bundled_store, validation_context
from documents import (
    Document,
    DocumentStatus,
    DocumentVersion,
    FileStore,
    IssueDetails,
    Organisation,
    VersionKind,
    create_engine_for,
    issue,
    register_entries,
    schema_state,
    upgrade_database,
    verify_chain,
)
from documents.issuance import Signing
from signer import PadesLevel, verify_pdf

from .conftest import TESTS_DATA
from .support.databases import throwaway_postgres

FIXTURE = TESTS_DATA / "upgrade"
ROWS = json.loads((FIXTURE / "rows-0013.json").read_text(encoding="utf-8"))
#: Filled by the migrations themselves (revision 0001 seeds Appendix III, 0003 the genesis
#: head of the audit chain): compared, not loaded.
SEEDED = {"document_type", "audit_head"}


def decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (kind, raw), = value.items()
        if kind == "$b64":
            return base64.b64decode(raw)
        if kind == "$dt":
            return dt.datetime.fromisoformat(raw)
        if kind == "$d":
            return dt.date.fromisoformat(raw)
    return value


def load_previous_release(url: str) -> None:
    """The fixture's rows in a database migrated to the fixture's revision only."""
    upgrade_database(url, ROWS["revision"])
    engine = create_engine_for(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))
            for table in metadata.sorted_tables:
                rows = [{k: decode(v) for k, v in row.items()}
                        for row in ROWS["tables"].get(table.name, [])]
                if table.name in SEEDED or not rows:
                    continue
                if table.name == "audit_event":
                    for row in rows:  # each event continues the head, as the trigger demands
                        conn.execute(table.insert(), row)
                        conn.execute(text("UPDATE audit_head SET seq = :seq, hash = :hash "
                                          "WHERE id = 1"), {"seq": row["seq"],
                                                            "hash": row["hash"]})
                    continue
                conn.execute(table.insert(), rows)
            if conn.dialect.name == "postgresql":
                _advance_sequences(conn, metadata)
    finally:
        engine.dispose()


def _advance_sequences(conn: Any, metadata: MetaData) -> None:
    """What a dump restores too: each serial id's sequence past the ids loaded."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
            if sequence:
                conn.execute(text(f'SELECT setval(:s, (SELECT COALESCE(MAX("{column.name}"), '
                                  f'0) + 1 FROM "{table.name}"), false)'), {"s": sequence})


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind (PostgreSQL: one of this test's own, dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with throwaway_postgres("kyso_test_upgrade") as url:
        yield url


def _trust() -> Any:
    store = bundled_store()
    _, _, der = pem.unarmor((FIXTURE / "demo-root.pem").read_bytes())
    store.add(x509.Certificate.load(der), Origin.DEMO, str(FIXTURE))
    return store


def _assert_verifies(pdf: bytes, signatures: int) -> None:
    trust = _trust()
    report = verify_pdf(pdf, lambda: validation_context(trust, online=False), "cu.pdf", trust)
    assert len(report.signatures) == signatures
    for signature in report.signatures:
        assert signature.intact and signature.valid, [r.en for r in signature.reasons]


def test_the_fixture_holds_every_state() -> None:
    statuses = {name: doc["status"] for name, doc in ROWS["documents"].items()}
    assert set(statuses) >= {"draft", "prepared", "awaiting", "returned", "recalled", "signed",
                             "issued", "copy"}
    kinds = {row["kind"] for row in ROWS["tables"]["document_version"]}
    assert kinds >= {"DRAFT", "PREPARED", "APPROVED", "ISSUED", "ATTACHMENT", "COPY"}
    for row in ROWS["tables"]["document_version"]:
        assert (FIXTURE / "files" / f"{row['sha256']}.pdf").is_file()


@pytest.mark.slow
def test_a_previous_release_database_upgrades_and_keeps_working(
        old_database: str, tmp_path: Path, data: DataDir) -> None:
    url = old_database
    load_previous_release(url)
    assert schema_state(url).current == ROWS["revision"]
    upgrade_database(url)
    state = schema_state(url)
    assert state.up_to_date and state.current != ROWS["revision"]

    engine = create_engine_for(url)
    service = DataDir(tmp_path / "service").create()
    store = FileStore(service.files)
    for path in sorted((FIXTURE / "files").glob("*.pdf")):
        assert store.put(path.read_bytes()) == path.stem
    documents = {name: doc["id"] for name, doc in ROWS["documents"].items()}
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:  # nothing lost: every row of every table is there
            for name, rows in ROWS["tables"].items():
                count = conn.execute(select(func.count()).select_from(
                    metadata.tables[name])).scalar_one()
                assert count == len(rows), name
            assert conn.execute(text("SELECT count(*) FROM background_task")).scalar_one() == 0

        from sqlalchemy.orm import Session

        with Session(engine) as session:
            for name, doc in ROWS["documents"].items():
                assert session.get_one(Document, doc["id"]).status.value == doc["status"], name
            assert verify_chain(session).ok
            issued = session.scalars(select(DocumentVersion.sha256).where(
                DocumentVersion.document_id == documents["issued"],
                DocumentVersion.kind == VersionKind.ISSUED)).one()
        _assert_verifies(store.get(issued), 2)  # the person's and the organisation's

        # the signed document is issued now, by today's code, with the next number
        with data.token("ubnd").signer(DEMO_PIN) as body_signer, Session(engine) as session, \
                session.begin():
            entry, pdf = issue(
                session, store, session.get_one(Document, documents["signed"]), body_signer,
                seal(), IssueDetails(issued_date=dt.date(2026, 11, 20),
                                     signer_full_name="Lê Minh Đức",
                                     signer_position="Phó Chủ tịch",
                                     recipients="Như Điều 3; Lưu: VT.",
                                     archive_holder="Văn thư UBND xã", registered_by="vanthu"),
                Signing(level=PadesLevel.B_B), actor="vanthu")
            assert entry.number == 2 and entry.number_symbol.startswith("02/")
        with Session(engine) as session:
            assert session.get_one(Document, documents["signed"]).status is \
                DocumentStatus.ISSUED
            body = session.scalars(select(Organisation)).one()
            register = register_entries(session, body, 2026)
            assert sorted((e.number, e.document_id) for e in register
                          if e.book.code == "chung") == [
                (1, documents["issued"]), (2, documents["signed"])]
            assert any(e.document_id == documents["copy"] for e in register)
            chain = verify_chain(session)
            assert chain.ok and chain.events > len(ROWS["tables"]["audit_event"])
        # the old approval signature and today's organisation signature, both intact
        _assert_verifies(pdf, 2)
        body_id = body.id
    finally:
        engine.dispose()
    _the_service_works_on_it(service, url, body_id, documents, store.get(issued))


def _the_service_works_on_it(service: DataDir, url: str, body_id: int,
                             documents: dict[str, str], issued: bytes) -> None:
    """The app over the upgraded database: the old clerk account logs in, lists the
    documents and the register, verifies the old issued file."""
    from fastapi.testclient import TestClient

    from api.http.app import create_app
    from api.settings import Settings

    app = create_app(Settings(data_dir=service.root, database_url=url))
    with TestClient(app) as client:
        login = client.post("/api/v1/auth/login",
                            json={"username": "vanthu", "password": "vanthu-demo"})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        listed = client.get("/api/v1/documents", headers=headers)
        assert listed.status_code == 200, listed.text
        assert {d["id"] for d in listed.json()} >= {
            documents[n] for n in ("awaiting", "returned", "signed", "issued", "copy")}
        register = client.get(f"/api/v1/register/{body_id}/2026", headers=headers)
        assert register.status_code == 200, register.text
        assert len(register.json()) == 3  # 01 and 02 of the general book, the copy's
        verified = client.post("/api/v1/verify", headers=headers,
                               files=[("files", ("cu.pdf", issued, "application/pdf"))])
        assert verified.status_code == 200, verified.text
        (report,) = verified.json()
        assert len(report["signatures"]) == 2
