"""Backup while the service runs, and a restore that proves what it restored: the rows,
every stored version by its SHA-256, and the audit chain, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.database import open_database
from api.datadir import DataDir
from api.demo.art import seal
from documents import (
    AuditAction,
    AuditEvent,
    BackupRefused,
    Document,
    DocumentVersion,
    FileStore,
    Organisation,
    Picture,
    VersionKind,
    add_picture,
    backup,
    create_engine_for,
    record,
    restore,
    schema_state,
    upgrade_database,
    verify_chain,
)
from signer import check_seal

from .documents_fixtures import (  # noqa: F401
    Commune,
    Database,
    commune_fixture,
    db_fixture,
    make_commune,
    new_document,
    postgres_url_fixture,
    sqlite_template_fixture,
)
from .support.databases import throwaway_postgres

KYSO = str(Path(sys.executable).with_name("kyso"))


@pytest.fixture
def target_url(db: Database, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as ``db``, never migrated."""
    if db.kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    with throwaway_postgres("kyso_restore") as url:
        yield url


def populate(db: Database, commune: Commune, store: FileStore, documents: int = 3) -> list[str]:
    """Documents with stored versions, a seal picture and audit events."""
    shas = []
    with db.Session() as session:
        body = session.get_one(Organisation, commune.body_id)
        add_picture(session, check_seal(seal()), actor="quantri", body=body)
        for n in range(documents):
            document = new_document(session, commune, subject=f"về việc thử số {n}")
            sha = store.put(f"%PDF-1.7 bản {n}".encode())
            session.add(DocumentVersion(document_id=document.id, kind=VersionKind.DRAFT,
                                        sha256=sha, size=10, file_name=f"du-thao-{n}.pdf"))
            record(session, AuditAction.UPLOAD, actor="chuyenvien", body_id=body.id,
                   object_type="document", object_id=document.id, details={"n": n})
            shas.append(sha)
        session.commit()
    return shas


def rewritten(source: Path, target: Path, member: str, old: bytes, new: bytes) -> Path:
    """A copy of the backup ``source`` with ``old`` replaced by ``new`` in one member."""
    with tarfile.open(source) as original, tarfile.open(target, "w") as out:
        for info in original.getmembers():
            data = original.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == member:
                data = data.replace(old, new)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return target


def counts(engine_url: str) -> dict[str, int]:
    engine = create_engine_for(engine_url)
    try:
        with engine.connect() as conn:
            return {t.__tablename__: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in (Document, DocumentVersion, AuditEvent, Picture, Organisation)}
    finally:
        engine.dispose()


def test_a_restore_brings_back_every_row_file_and_event(
        db: Database, commune: Commune, tmp_path: Path, target_url: str) -> None:
    store = FileStore(tmp_path / "files")
    shas = populate(db, commune, store)
    summary = backup(db.engine, store, tmp_path / "kyso.tar")
    assert summary.files == 3 and summary.rows["document"] == 3

    restored_store = FileStore(tmp_path / "restored-files")
    engine = create_engine_for(target_url)
    try:
        report = restore(summary.path, target_url, engine, restored_store)
        assert report.ok, report.problems
        assert report.audit_events == summary.rows["audit_event"] >= 4
        assert counts(target_url) == counts(db.url)
        assert all(restored_store.get(sha) == store.get(sha) for sha in shas)
        with engine.connect() as conn:
            pictures = conn.execute(select(Picture.png, Picture.kind)).all()
        with db.engine.connect() as conn:
            assert pictures == conn.execute(select(Picture.png, Picture.kind)).all()
        # the restored instance goes on: new rows get new ids, the chain extends
        with Session(engine) as session:
            document = new_document(session, commune, subject="sau khi khôi phục")
            record(session, AuditAction.UPLOAD, actor="chuyenvien", body_id=commune.body_id,
                   object_type="document", object_id=document.id)
            session.commit()
            assert verify_chain(session).ok
    finally:
        engine.dispose()


def test_a_backup_taken_while_events_are_written_is_consistent(
        db: Database, commune: Commune, tmp_path: Path, target_url: str) -> None:
    store = FileStore(tmp_path / "files")
    populate(db, commune, store, documents=1)
    stop = threading.Event()
    written = threading.Condition()
    count = [0]

    def writer() -> None:
        while not stop.is_set():
            with db.Session() as session:
                record(session, AuditAction.LOGIN, actor="vanthu", object_type="user",
                       object_id="vanthu")
                session.commit()
            with written:
                count[0] += 1
                written.notify_all()

    def wait_for(n: int) -> None:
        with written:
            assert written.wait_for(lambda: count[0] >= n, timeout=60)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for(5)  # the writer is running
        summary = backup(db.engine, store, tmp_path / "live.tar")
        wait_for(count[0] + 5)  # and goes on afterwards
    finally:
        stop.set()
        thread.join()
    engine = create_engine_for(target_url)
    try:
        report = restore(summary.path, target_url, engine, FileStore(tmp_path / "r"))
        assert report.ok, report.problems
        assert report.audit_events == summary.rows["audit_event"]
    finally:
        engine.dispose()


def test_a_backup_never_overwrites_a_file(db: Database, commune: Commune, tmp_path: Path) -> None:
    existing = tmp_path / "kyso.tar"
    existing.write_bytes(b"an earlier backup")
    with pytest.raises(BackupRefused, match="ghi đè"):
        backup(db.engine, FileStore(tmp_path / "files"), existing)
    assert existing.read_bytes() == b"an earlier backup"


def test_a_changed_backup_is_refused_and_nothing_is_restored(
        db: Database, commune: Commune, tmp_path: Path, target_url: str) -> None:
    store = FileStore(tmp_path / "files")
    populate(db, commune, store)
    summary = backup(db.engine, store, tmp_path / "kyso.tar")
    tampered = rewritten(summary.path, tmp_path / "tampered.tar", "tables/document.jsonl",
                         "thử số 1".encode(), "thử số 9".encode())
    engine = create_engine_for(target_url)
    try:
        with pytest.raises(BackupRefused, match="đã bị thay đổi"):
            restore(tampered, target_url, engine, FileStore(tmp_path / "r"))
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Document)).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_restore_into_a_database_in_use_is_refused(
        db: Database, commune: Commune, tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    populate(db, commune, store)
    summary = backup(db.engine, store, tmp_path / "kyso.tar")
    before = counts(db.url)
    with pytest.raises(BackupRefused, match="trống"):
        restore(summary.path, db.url, db.engine, store)
    assert counts(db.url) == before


def test_a_backup_from_an_unknown_schema_is_refused(
        db: Database, commune: Commune, tmp_path: Path, target_url: str) -> None:
    store = FileStore(tmp_path / "files")
    summary = backup(db.engine, store, tmp_path / "kyso.tar")
    newer = rewritten(summary.path, tmp_path / "newer.tar", "manifest.json",
                      f'"{summary.revision}"'.encode(), b'"9999"')
    engine = create_engine_for(target_url)
    try:
        with pytest.raises(BackupRefused, match="9999"):
            restore(newer, target_url, engine, FileStore(tmp_path / "r"))
    finally:
        engine.dispose()


def test_a_backup_before_an_upgrade_restores_and_upgrades(tmp_path: Path) -> None:
    """The operator's order: back up the old release's database, upgrade, and if need be
    restore the backup under the new release (it migrates it on to the head)."""
    old_url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_database(old_url, "0011")
    engine = create_engine_for(old_url)
    store = FileStore(tmp_path / "files")
    with Session(engine) as session:
        commune = make_commune(session)
        new_document(session, commune)
        record(session, AuditAction.UPLOAD, actor="chuyenvien", object_type="document",
               object_id="x")
        session.commit()
    summary = backup(engine, store, tmp_path / "old.tar")
    engine.dispose()
    assert summary.revision == "0011" and "picture" not in summary.rows

    url = f"sqlite:///{tmp_path / 'new.db'}"
    target = create_engine_for(url)
    try:
        report = restore(summary.path, url, target, FileStore(tmp_path / "r"))
        assert report.ok, report.problems
        assert schema_state(url).up_to_date
        assert counts(url)["document"] == 1 and counts(url)["picture"] == 0
    finally:
        target.dispose()


def test_the_operator_commands(tmp_path: Path) -> None:
    """As the operator runs them: the real ``kyso`` program, its messages and exit codes."""
    def kyso(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KYSO_")}
        return subprocess.run([KYSO, *args], capture_output=True, text=True, env=env,
                              timeout=120)

    fresh = str(tmp_path / "fresh")
    status = kyso("--data-dir", fresh, "db", "status")
    assert status.returncode == 1 and "kyso db upgrade" in status.stdout
    assert kyso("--data-dir", fresh, "db", "upgrade").returncode == 0
    assert kyso("--data-dir", fresh, "db", "status").returncode == 0
    made = kyso("--data-dir", fresh, "backup", str(tmp_path / "b.tar"))
    assert made.returncode == 0, made.stdout + made.stderr
    again = kyso("--data-dir", fresh, "backup", str(tmp_path / "b.tar"))
    assert again.returncode == 2 and "ghi đè" in again.stdout + again.stderr
    back = kyso("--data-dir", str(tmp_path / "other"), "restore", str(tmp_path / "b.tar"))
    assert back.returncode == 0 and "nguyên vẹn" in back.stdout, back.stdout + back.stderr


def test_a_program_refuses_an_older_schema_until_it_is_upgraded(tmp_path: Path) -> None:
    """No process migrates on its own: a command on an older database stops, says to run
    ``kyso db upgrade``, and works once it has run; an empty database is simply created."""
    def kyso(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KYSO_")}
        return subprocess.run([KYSO, "--data-dir", str(tmp_path / "data"), *args],
                              capture_output=True, text=True, env=env, timeout=120)

    data = DataDir(tmp_path / "data").create()
    upgrade_database(data.database_url, "0011")
    refused = kyso("audit", "verify")
    assert refused.returncode != 0
    assert "kyso db upgrade" in refused.stdout + refused.stderr
    assert schema_state(data.database_url).current == "0011"  # left as it was
    assert kyso("db", "upgrade").returncode == 0
    assert kyso("audit", "verify").returncode == 0
    fresh = DataDir(tmp_path / "fresh").create()
    assert open_database(fresh) is not None and schema_state(fresh.database_url).up_to_date
