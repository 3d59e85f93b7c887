"""The audit trail: an unbroken hash chain under concurrent writers, append-only in the
database itself, and every kind of tampering found by `verify_chain` / `kyso audit verify`
— on SQLite and on PostgreSQL.

Tampering needs the guard triggers out of the way first; the tests drop them inside a
transaction they roll back afterwards (DDL is transactional on both databases), so the
shared PostgreSQL test database keeps its triggers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import pytest
import typer
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli.audit import audit_app
from api.database import open_database
from api.datadir import ENV_DATABASE_URL, DataDir
from api.demo.art import appendix_pdf, seal
from api.demo.demo import DEMO_PIN
from documents import (
    SYSTEM_ACTOR,
    AuditAction,
    AuditEvent,
    AuditHeadMissing,
    Document,
    FileStore,
    Signing,
    canonical_json,
    create_engine_for,
    issue,
    list_events,
    make_copy,
    record,
    sign_attachment,
    verify_chain,
)
from documents.audit import GENESIS_HASH, chain_hash
from signer import TimestampUnavailable
from signer.profiles import CopyKind

from .documents_fixtures import (  # noqa: F401
    DATA_TABLES,
    POOL_SIZE,
    Database,
    fresh_database,
    postgres_url_fixture,
    sqlite_template_fixture,
)
from .test_issuance import approved, db, details, issued, signing, store  # noqa: F401

THREADS = 16
PER_THREAD = 5

#: The guard triggers of migration 0003_audit, per database.
EVENT_GUARDS = {"sqlite": ["audit_event_no_update", "audit_event_no_delete"],
                "postgresql": ["audit_event_append_only ON audit_event"]}
HEAD_GUARDS = {"sqlite": ["audit_head_forward_only", "audit_head_no_delete",
                          "audit_head_starts_empty"],
               "postgresql": ["audit_head_forward_only ON audit_head"]}
LINK_GUARDS = {"sqlite": ["audit_event_links_head"],
               "postgresql": ["audit_event_links_head ON audit_event"]}


@pytest.fixture(params=["sqlite", "postgresql"], name="audit_db")
def audit_db_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Like ``documents_fixtures.db`` (whose name the issuance fixtures already use)."""
    yield from fresh_database(request, tmp_path)


def fill(sessions: sessionmaker[Session], count: int = 10) -> list[str]:
    """``count`` events, one transaction each; their hashes."""
    hashes = []
    for i in range(count):
        with sessions() as session, session.begin():
            event = record(session, AuditAction.LOGIN if i % 2 else AuditAction.DOWNLOAD,
                           actor=f"Người dùng {i % 3}", object_type="document",
                           object_id=f"doc-{i}", details={"lần": i, "ghi chú": "Tiên Lữ"})
            hashes.append(event.hash)
    return hashes


def drop(session: Session, kind: str, *guards: dict[str, list[str]]) -> None:
    for guard in guards:
        for name in guard[kind]:
            session.execute(text(f"DROP TRIGGER {name}"))


@pytest.fixture
def tampering(audit_db: Database) -> Iterator[Session]:
    """Ten events, then a session whose transaction drops the event guards; rolled back
    at the end (the guards come back)."""
    fill(audit_db.Session)
    with audit_db.Session() as session:
        session.begin()
        drop(session, audit_db.kind, EVENT_GUARDS)
        yield session
        session.rollback()


# --- the chain --------------------------------------------------------------------------------

def test_a_chain_of_events_verifies(audit_db: Database) -> None:
    hashes = fill(audit_db.Session)
    decomposed = unicodedata.normalize("NFD", "Bùi Thị Lan (văn thư)")
    with audit_db.Session() as session, session.begin():
        last = record(session, AuditAction.ISSUE, actor=decomposed, body_id=None,
                      object_type="document", object_id="doc-x",
                      details={"số": "01/QĐ-UBND", "ngày": date(2025, 11, 5),
                               "nơi nhận": unicodedata.normalize("NFD", "Như Điều 3")})
        last_hash = last.hash
    with audit_db.Session() as session:
        report = verify_chain(session)
        assert report.ok, report.line()
        assert (report.events, report.head_seq, report.head_hash) == (11, 11, last_hash)
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [e.seq for e in events] == list(range(1, 12))
        assert [e.prev_hash for e in events] == [GENESIS_HASH, *hashes]
        assert all(e.computed_hash() == e.hash for e in events)
        issued_event = events[-1]
        assert issued_event.actor == "Bùi Thị Lan (văn thư)"  # stored in NFC
        assert issued_event.details == (
            '{"ngày":"2025-11-05","nơi nhận":"Như Điều 3","số":"01/QĐ-UBND"}')
        assert issued_event.occurred_at.tzinfo is not None
        assert report.line().startswith("Nhật ký kiểm tra nguyên vẹn: 11 sự kiện")
        assert "audit trail intact: 11 events" in report.line()


def test_an_empty_trail_verifies(audit_db: Database) -> None:
    with audit_db.Session() as session:
        report = verify_chain(session)
    assert (report.ok, report.events, report.head_seq, report.head_hash) == (
        True, 0, 0, GENESIS_HASH)


def test_canonical_details() -> None:
    nfd = unicodedata.normalize("NFD", "Trần Thị Bình")
    assert canonical_json({"b": [1, 2.5, None, True], "a": nfd, nfd: AuditAction.SEAL}) == \
        '{"Trần Thị Bình":"SEAL","a":"Trần Thị Bình","b":[1,2.5,null,true]}'
    when = datetime(2025, 11, 5, 8, 30, tzinfo=UTC)
    assert canonical_json({"t": when}) == '{"t":"2025-11-05T08:30:00.000000Z"}'
    with pytest.raises(ValueError):
        canonical_json({"t": datetime(2025, 11, 5, 8, 30)})  # naive: which time zone?
    with pytest.raises(ValueError):  # two keys, one text
        canonical_json({nfd: 1, unicodedata.normalize("NFC", nfd): 2})
    with pytest.raises(TypeError):
        canonical_json({"s": {1, 2}})
    assert json.loads(canonical_json({"x": float("1e3")})) == {"x": 1000.0}


def test_every_field_is_in_the_hash() -> None:
    fields = {"seq": 3, "occurred_at": datetime(2025, 1, 1, tzinfo=UTC), "actor": "An",
              "body_id": 1, "action": "SIGN", "object_type": "document", "object_id": "d",
              "details": "{}", "prev_hash": GENESIS_HASH}
    base = chain_hash(**fields)  # type: ignore[arg-type]
    changed = {"seq": 4, "occurred_at": datetime(2025, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
               "actor": "Án", "body_id": None, "action": "SEAL", "object_type": "account",
               "object_id": "e", "details": '{"a":1}', "prev_hash": "1" * 64}
    for key, value in changed.items():
        assert chain_hash(**{**fields, key: value}) != base, key  # type: ignore[arg-type]


# --- append-only in the database ---------------------------------------------------------------

def test_the_database_refuses_update_and_delete(audit_db: Database) -> None:
    fill(audit_db.Session, 3)
    refused = [
        "UPDATE audit_event SET details = '{}' WHERE seq = 2",
        "UPDATE audit_event SET actor = 'kẻ gian'",
        "DELETE FROM audit_event WHERE seq = 3",
        "DELETE FROM audit_event",
        # the head moves forward only, one existing event at a time
        f"UPDATE audit_head SET seq = 0, hash = '{GENESIS_HASH}'",
        "UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_event WHERE seq = 2)",
        "DELETE FROM audit_head",
        # an event that does not continue the head
        "INSERT INTO audit_event (seq, occurred_at, actor, action, object_type, object_id, "
        f"details, prev_hash, hash) VALUES (5, CURRENT_TIMESTAMP, 'x', 'LOGIN', 'a', 'b', '{{}}', "
        f"'{GENESIS_HASH}', '{GENESIS_HASH}')",
    ]
    for statement in refused:
        with audit_db.Session() as session, pytest.raises(DBAPIError) as err, session.begin():
            session.execute(text(statement))
        assert "audit" in str(err.value), statement
    with audit_db.Session() as session:
        assert verify_chain(session).ok
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 3


def test_a_rolled_back_act_leaves_no_event(audit_db: Database) -> None:
    fill(audit_db.Session, 2)
    with audit_db.Session() as session, pytest.raises(RuntimeError), session.begin():
        record(session, AuditAction.NUMBER, actor="Văn thư", object_type="document",
               object_id="d")
        raise RuntimeError("the organisation signature failed")
    fill(audit_db.Session, 1)
    with audit_db.Session() as session:
        report = verify_chain(session)
        assert (report.ok, report.events) == (True, 3)
        assert list_events(session, action=AuditAction.NUMBER) == []


# --- tampering is found --------------------------------------------------------------------------

def test_an_edited_event_is_found_by_its_seq(audit_db: Database, tampering: Session) -> None:
    tampering.execute(text("UPDATE audit_event SET details = :d WHERE seq = 4"),
                      {"d": '{"lần":99}'})
    report = verify_chain(tampering)
    assert (report.ok, report.first_broken_seq, report.events) == (False, 4, 10)
    assert "edited" in report.reason_en and "bị sửa" in report.reason_vi
    assert "#4" in report.line()


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(
        audit_db: Database, tampering: Session) -> None:
    event = tampering.get_one(AuditEvent, 4)
    forged = chain_hash(seq=4, occurred_at=event.occurred_at, actor="kẻ gian",
                        body_id=event.body_id, action=event.action.name,
                        object_type=event.object_type, object_id=event.object_id,
                        details=event.details, prev_hash=event.prev_hash)
    tampering.execute(text("UPDATE audit_event SET actor = 'kẻ gian', hash = :h WHERE seq = 4"),
                      {"h": forged})
    tampering.expire_all()
    report = verify_chain(tampering)
    assert (report.ok, report.first_broken_seq) == (False, 5)
    assert "prev_hash" in report.reason_en


def test_a_deleted_event_is_found(audit_db: Database, tampering: Session) -> None:
    tampering.execute(text("DELETE FROM audit_event WHERE seq = 6"))
    report = verify_chain(tampering)
    assert (report.ok, report.first_broken_seq, report.events) == (False, 6, 9)
    assert "missing" in report.reason_en and "bị xóa" in report.reason_vi


def test_reordered_events_are_found(audit_db: Database, tampering: Session) -> None:
    for statement in ("UPDATE audit_event SET seq = 1000 WHERE seq = 3",
                      "UPDATE audit_event SET seq = 3 WHERE seq = 7",
                      "UPDATE audit_event SET seq = 7 WHERE seq = 1000"):
        tampering.execute(text(statement))
    report = verify_chain(tampering)
    assert (report.ok, report.first_broken_seq) == (False, 3)


def test_a_cut_off_tail_is_found(audit_db: Database, tampering: Session) -> None:
    tampering.execute(text("DELETE FROM audit_event WHERE seq >= 9"))
    report = verify_chain(tampering)
    assert (report.ok, report.first_broken_seq, report.events) == (False, 9, 8)
    assert "#9–#10" in report.reason_en


def test_a_lost_head_is_found_and_stops_recording(audit_db: Database,
                                                  tampering: Session) -> None:
    drop(tampering, audit_db.kind, HEAD_GUARDS)
    tampering.execute(text("DELETE FROM audit_head"))
    report = verify_chain(tampering)
    assert (report.ok, report.first_broken_seq) == (False, None)
    assert "audit_head" in report.reason_en
    with pytest.raises(AuditHeadMissing):
        record(tampering, AuditAction.LOGIN, actor=None, object_type="account", object_id=1)


def test_a_rewritten_trail_is_found_only_against_an_anchor(audit_db: Database,
                                                           tampering: Session) -> None:
    anchor = (3, tampering.get_one(AuditEvent, 3).hash)
    drop(tampering, audit_db.kind, HEAD_GUARDS, LINK_GUARDS)
    tampering.execute(text("DELETE FROM audit_event"))
    tampering.execute(text(f"UPDATE audit_head SET seq = 0, hash = '{GENESIS_HASH}'"))
    for i in range(5):
        record(tampering, AuditAction.LOGIN, actor="kẻ gian", object_type="account",
               object_id=i)
    assert verify_chain(tampering).ok  # a consistent forgery: the chain alone cannot tell
    report = verify_chain(tampering, anchor=anchor)
    assert (report.ok, report.first_broken_seq) == (False, 3)
    assert "rewritten" in report.reason_en


# --- concurrent writers --------------------------------------------------------------------------

def test_concurrent_recorders_keep_one_chain(audit_db: Database) -> None:
    """16 threads, each with its own sessions, start together — from a trail whose head row
    is missing (emptied tables), so they also race to create it."""
    with audit_db.engine.begin() as conn:
        if audit_db.kind == "postgresql":
            conn.execute(text("TRUNCATE audit_event, audit_head"))
        else:
            conn.execute(text("DROP TRIGGER audit_head_no_delete"))
            conn.execute(text("DELETE FROM audit_head"))
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                with audit_db.Session() as session, session.begin():
                    record(session, AuditAction.SIGN, actor=f"Người ký {n}",
                           object_type="document", object_id=f"{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - the thread's boundary: reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with audit_db.Session() as session:
        report = verify_chain(session)
        assert report.ok, report.line()
        assert report.events == report.head_seq == THREADS * PER_THREAD
        ids = session.scalars(select(AuditEvent.object_id)).all()
        assert sorted(ids) == sorted(f"{n}-{i}" for n in range(THREADS)
                                     for i in range(PER_THREAD))


# --- the issuance acts record their events -------------------------------------------------------

def test_the_issuance_acts_record_who_did_what(
        db: sessionmaker[Session], store: FileStore, data: DataDir,  # noqa: F811
        signing: Signing) -> None:  # noqa: F811
    with db() as session:  # the commune's seeding (its pictures) is audited before
        seeded = session.scalar(select(func.max(AuditEvent.seq))) or 0
    doc_id = approved(db, store, data, signing)
    with db() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    with data.token("ubnd").signer(DEMO_PIN) as body, db() as session, \
            pytest.raises(TimestampUnavailable), session.begin():
        issue(session, store, session.get_one(Document, doc_id), body, seal(), details(),
              Signing(tsa_url="http://127.0.0.1:9/tsa"))
    with db() as session:  # the failed issue recorded nothing
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    number, _ = issued(db, store, data, signing, doc_id)
    with data.token("ubnd").signer(DEMO_PIN) as body:
        with db() as session, session.begin():
            sign_attachment(session, store, session.get_one(Document, doc_id), body,
                            appendix_pdf(f"Quyết định số {number}"), signing,
                            actor="Bùi Thị Lan (văn thư)")
        with db() as session, session.begin():
            copy_doc, copy_entry, _ = make_copy(
                session, store, session.get_one(Document, doc_id), body, CopyKind.SAO_Y,
                details("UBND xã Tiên Lữ"), signing, actor="Bùi Thị Lan (văn thư)")
            copy_id, copy_number = copy_doc.id, copy_entry.number_symbol

    with db() as session:
        report = verify_chain(session)
        assert report.ok, report.line()
        events = session.scalars(select(AuditEvent).where(AuditEvent.seq > seeded)
                                 .order_by(AuditEvent.seq)).all()
        trail = [(e.action, e.actor, e.object_id) for e in events]
        assert trail == [
            (AuditAction.UPLOAD, SYSTEM_ACTOR, doc_id),
            (AuditAction.PREPARE, SYSTEM_ACTOR, doc_id),
            (AuditAction.APPROVE, "Lê Minh Đức", doc_id),
            (AuditAction.SIGN, "Lê Minh Đức", doc_id),
            (AuditAction.NUMBER, "Văn thư", doc_id),
            (AuditAction.SEAL, "Văn thư", doc_id),
            (AuditAction.ISSUE, "Văn thư", doc_id),
            (AuditAction.ATTACH, "Bùi Thị Lan (văn thư)", doc_id),
            (AuditAction.COPY, "Bùi Thị Lan (văn thư)", copy_id),
        ]
        document = session.get_one(Document, doc_id)
        assert {e.body_id for e in events} == {document.body_id}
        assert {e.object_type for e in events} == {"document"}
        by_action = {e.action: e.details_dict for e in events}
        assert by_action[AuditAction.UPLOAD]["doc_type"] == "quyet-dinh"
        assert by_action[AuditAction.NUMBER]["number_symbol"] == number == "01/QĐ-UBND"
        assert by_action[AuditAction.ISSUE]["issued_date"] == "2025-11-05"
        assert by_action[AuditAction.COPY]["number_symbol"] == copy_number == "01/SY-UBND"
        assert by_action[AuditAction.COPY]["source_document_id"] == doc_id
        assert by_action[AuditAction.COPY]["kind"] == "SAO_Y"
        signed = by_action[AuditAction.SIGN]
        assert len(signed["certificate_sha256"]) == 64 and len(signed["sha256"]) == 64
        assert by_action[AuditAction.SEAL]["certificate_sha256"] != \
            signed["certificate_sha256"]
        assert [e.seq - seeded for e in list_events(session, object_id=doc_id, limit=3)] == \
            [8, 7, 6]


# --- `kyso audit` ------------------------------------------------------------------------------

@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory whose database holds three events."""
    monkeypatch.delenv(ENV_DATABASE_URL, raising=False)
    monkeypatch.delenv("KYSO_DATA_DIR", raising=False)
    root = tmp_path / "data"
    sessions = open_database(DataDir(root).create())
    with sessions() as session, session.begin():
        record(session, AuditAction.LOGIN, actor="Nguyễn Văn An", object_type="account",
               object_id="an")
        record(session, AuditAction.UPLOAD, actor="Nguyễn Văn An", object_type="document",
               object_id="d-1", details={"subject": "Về việc thử nghiệm"})
        record(session, AuditAction.EXPORT, actor="Bùi Thị Lan", object_type="register",
               object_id="2025")
    sessions.kw["bind"].dispose()
    return root


def edit_second_event(root: Path) -> None:
    engine = create_engine_for(DataDir(root).database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_event_no_update"))
        conn.execute(text("UPDATE audit_event SET actor = 'kẻ gian' WHERE seq = 2"))
    engine.dispose()


def test_cli_verify_exit_codes(data_dir: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(audit_app, ["verify", "--data-dir", str(data_dir)])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output and "3 sự kiện" in ok.output and "3 events" in ok.output
    head = ok.output.split("head #3 ")[1].split()[0]
    anchored = runner.invoke(audit_app, ["verify", "--data-dir", str(data_dir),
                                         "--anchor", f"3:{head}"])
    assert anchored.exit_code == 0, anchored.output

    edit_second_event(data_dir)
    broken = runner.invoke(audit_app, ["verify", "--data-dir", str(data_dir)])
    assert broken.exit_code == 1, broken.output
    assert "#2" in broken.output and "bị sửa" in broken.output and "edited" in broken.output
    assert len(broken.output.strip().splitlines()) == 1
    # and as a process of its own
    process = subprocess.run(
        [sys.executable, "-c", "from api.cli.audit import audit_app; audit_app()",
         "verify", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if k != ENV_DATABASE_URL})
    assert process.returncode == 1, process.stdout + process.stderr
    assert "#2" in process.stdout


def test_cli_list_filters(data_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(audit_app, ["list", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["#3", "#2", "#1"]
    assert "Về việc thử nghiệm" in lines[1]
    for args, seqs in ((["--actor", "Nguyễn Văn An"], ["#2", "#1"]),
                       (["--action", "upload"], ["#2"]),
                       (["--object", "document:d-1"], ["#2"]),
                       (["--object", "account:"], ["#1"]),
                       (["--object", "2025"], ["#3"]),
                       (["-n", "1"], ["#3"])):
        result = runner.invoke(audit_app, ["list", "--data-dir", str(data_dir), *args])
        assert result.exit_code == 0, result.output
        assert [line.split()[0] for line in result.output.strip().splitlines()] == seqs, args
    unknown = runner.invoke(audit_app, ["list", "--data-dir", str(data_dir), "--action", "x"])
    assert unknown.exit_code != 0 and "unknown action" in str(unknown.exception)


def test_cli_takes_the_data_dir_of_the_main_command(data_dir: Path) -> None:
    """Wired as `kyso audit`, the main command's --data-dir is the one used."""
    main = typer.Typer()

    @main.callback()
    def options(data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None) -> None:
        pass

    main.add_typer(audit_app, name="audit")
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "3 events" in result.output
