"""Backup and restore of one instance: the database, every stored version, the audit trail.

A backup is one tar file, written while the service runs (also before an upgrade: it
holds the tables and columns of the schema the database is at)::

    manifest.json             format, schema revision, time, rows per table, SHA-256 of
                              every member
    tables/<table>.jsonl      one JSON object per row, in primary-key order (bytes, dates,
                              times and enums tagged: {"$b": base64}, {"$dt": iso}, …)
    files/<aa>/<sha256>.pdf   every stored version the database refers to

It is consistent: the rows come from one snapshot (PostgreSQL: a read-only REPEATABLE
READ transaction; SQLite: the online backup API into a private copy), and stored files
are immutable and written before the row that names them commits, so every file the
snapshot names exists. A backup never overwrites a file.

:func:`restore` loads a backup into an empty database (migrated to the backup's schema
revision first, then upgraded to this release's head) and an empty file store. The audit
trail is replayed event by event through the database's own append-only triggers (so a
broken chain cannot be restored silently), each file's SHA-256 is checked as it is
written, and at the end the whole chain is verified and every version's file re-read.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy import Enum as SqlEnum

from .audit import AuditEvent, AuditHead, verify_chain
from .db import session_factory, upgrade_database
from .errors import BackupRefused, StoredFileCorrupted, StoredFileMissing
from .models import Base, DocumentVersion
from .storage import FileStore

__all__ = ["BACKUP_FORMAT", "BackupSummary", "RestoreReport", "backup", "restore"]

BACKUP_FORMAT = 1
_MANIFEST = "manifest.json"
#: restored by replaying the chain, not by copying rows
_REPLAYED = {AuditEvent.__tablename__, AuditHead.__tablename__}
_MAX_MEMBER = 512 * 1024 * 1024


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str
    created_at: datetime
    rows: Mapping[str, int]
    files: int


@dataclass(frozen=True)
class RestoreReport:
    revision: str
    rows: Mapping[str, int]
    files: int
    audit_events: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, enum.Enum):
        return {"$e": value.name}
    return value


def _decode(value: Any, column_type: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "$b" in value:
        return base64.b64decode(value["$b"])
    if "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if "$d" in value:
        return date.fromisoformat(value["$d"])
    if "$e" in value:
        enum_class = column_type.enum_class if isinstance(column_type, SqlEnum) else None
        return enum_class[value["$e"]] if enum_class else value["$e"]
    raise BackupRefused(f"giá trị không hiểu được trong bản sao lưu: {sorted(value)}",
                        f"an unknown value in the backup: {sorted(value)}")


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _revision(conn: Connection) -> str:
    return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection that sees one consistent state of the database."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="REPEATABLE READ",
                                                postgresql_readonly=True) as conn, conn.begin():
            yield conn
        return
    with tempfile.TemporaryDirectory(prefix="kyso-backup-") as folder:
        copy_path = Path(folder) / "snapshot.sqlite"
        raw = engine.raw_connection()
        try:
            target = sqlite3.connect(copy_path)
            try:
                raw.driver_connection.backup(target)  # type: ignore[union-attr]
            finally:
                target.close()
        finally:
            raw.close()
        copy = create_engine(f"sqlite:///{copy_path}")
        try:
            with copy.connect() as conn:
                yield conn
        finally:
            copy.dispose()


def _member(tar: tarfile.TarFile, name: str, data: bytes, digests: dict[str, str]) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))
    digests[name] = hashlib.sha256(data).hexdigest()


def backup(engine: Engine, store: FileStore, target: Path) -> BackupSummary:
    """Write a backup of the database at ``engine`` and of ``store`` to ``target`` (a new
    file: an existing one is never overwritten)."""
    if target.exists():
        raise BackupRefused(f"tệp {target} đã tồn tại — Kyso không ghi đè, hãy chọn tên khác",
                            f"{target} already exists — Kyso never overwrites, choose another")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    created = datetime.now(UTC)
    rows: dict[str, int] = {}
    digests: dict[str, str] = {}
    try:
        with _snapshot(engine) as conn, tarfile.open(partial, "w") as tar:
            revision = _revision(conn)
            schema = inspect(conn)
            present = set(schema.get_table_names())
            for table in _tables():
                if table.name not in present:  # an older schema than this release's
                    continue
                names = {c["name"] for c in schema.get_columns(table.name)}
                columns = [c for c in table.columns if c.name in names]
                lines = [json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False)
                         for row in conn.execute(select(*columns).order_by(
                             *table.primary_key.columns)).mappings()]
                rows[table.name] = len(lines)
                _member(tar, f"tables/{table.name}.jsonl",
                        "".join(f"{line}\n" for line in lines).encode("utf-8"), digests)
            hashes = sorted(set(conn.execute(select(DocumentVersion.sha256)).scalars()))
            for sha256 in hashes:
                _member(tar, f"files/{sha256[:2]}/{sha256}.pdf", store.get(sha256), digests)
            manifest = {"format": BACKUP_FORMAT, "revision": revision,
                        "created_at": created.isoformat(), "rows": rows, "files": len(hashes),
                        "members": digests}
            _member(tar, _MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"), {})
        os.link(partial, target)  # fails, rather than overwrites, if it appeared meanwhile
    finally:
        partial.unlink(missing_ok=True)
    return BackupSummary(path=target, revision=revision, created_at=created, rows=rows,
                         files=len(hashes))


def _read(tar: tarfile.TarFile, name: str, digests: Mapping[str, str] | None) -> bytes:
    name = str(PurePosixPath(name))
    if name.startswith(("/", "..")) or "/../" in f"/{name}/":
        raise BackupRefused(f"tên tệp không hợp lệ trong bản sao lưu: {name}",
                            f"an invalid member name in the backup: {name}")
    try:
        info = tar.getmember(name)
    except KeyError as exc:
        raise BackupRefused(f"bản sao lưu thiếu {name}", f"the backup lacks {name}") from exc
    if not info.isfile() or info.size > _MAX_MEMBER:
        raise BackupRefused(f"{name} trong bản sao lưu không dùng được",
                            f"{name} in the backup is unusable")
    handle = tar.extractfile(info)
    data = handle.read() if handle else b""
    if digests is not None and hashlib.sha256(data).hexdigest() != digests.get(name):
        raise BackupRefused(f"{name} trong bản sao lưu đã bị thay đổi hoặc hỏng",
                            f"{name} in the backup was changed or is damaged")
    return data


def _replay_audit(conn: Connection, lines: list[dict[str, Any]]) -> None:
    """Append the events one by one, moving the head each time, as they were written."""
    head = Base.metadata.tables[AuditHead.__tablename__]
    if conn.execute(select(func.count()).select_from(head)).scalar_one() == 0:
        conn.execute(head.insert().values(id=1, seq=0, hash="0" * 64))
    events = Base.metadata.tables[AuditEvent.__tablename__]
    columns = {c.name: c.type for c in events.columns}
    for line in sorted(lines, key=lambda r: int(r["seq"])):
        row = {k: _decode(v, columns[k]) for k, v in line.items()}
        conn.execute(events.insert().values(**row))
        conn.execute(update(head).where(head.c.id == 1).values(seq=row["seq"], hash=row["hash"]))


def _reset_sequences(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (column.autoincrement == "auto"
                                                and column.type.python_type is int
                                                and len(table.primary_key.columns) == 1):
                sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                        {"t": table.name, "c": column.name}).scalar()
                if sequence:
                    highest = f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1"
                    conn.execute(text(f"SELECT setval('{sequence}', {highest}, false)"))


def _migrate_to(url: str, revision: str) -> None:
    from alembic.util import CommandError

    try:
        upgrade_database(url, revision)
    except CommandError as exc:
        raise BackupRefused(f"bản sao lưu có lược đồ {revision} mà phiên bản Kyso này không biết "
                            "(bản sao lưu từ phiên bản mới hơn?)",
                            f"the backup's schema {revision} is unknown to this Kyso release "
                            "(made by a newer one?)") from exc


def restore(source: Path, url: str, engine: Engine, store: FileStore) -> RestoreReport:
    """Load the backup at ``source`` into the empty database at ``url`` (``engine`` on it)
    and the empty ``store``; then check everything that was restored."""
    with tarfile.open(source, "r") as tar:
        manifest = json.loads(_read(tar, _MANIFEST, None))
        if manifest.get("format") != BACKUP_FORMAT:
            raise BackupRefused(f"định dạng bản sao lưu {manifest.get('format')} không hỗ trợ",
                                f"backup format {manifest.get('format')} is not supported")
        digests: dict[str, str] = manifest["members"]
        revision = str(manifest["revision"])
        _migrate_to(url, revision)
        with engine.begin() as conn:
            events = Base.metadata.tables[AuditEvent.__tablename__]
            if conn.execute(select(func.count()).select_from(events)).scalar_one():
                raise BackupRefused("cơ sở dữ liệu đích đã có dữ liệu: chỉ khôi phục vào cơ sở "
                                    "dữ liệu trống", "the target database holds data: restore "
                                    "only into an empty one")
            for table in reversed(_tables()):
                if table.name not in _REPLAYED and table.name in manifest["rows"]:
                    conn.execute(table.delete())  # rows the migrations seeded
            restored: dict[str, int] = {}
            for table in _tables():
                if table.name not in manifest["rows"]:  # not in the backup's schema
                    continue
                raw = _read(tar, f"tables/{table.name}.jsonl", digests).decode("utf-8")
                lines = [json.loads(line) for line in raw.splitlines() if line]
                restored[table.name] = len(lines)
                if table.name == AuditEvent.__tablename__:
                    _replay_audit(conn, lines)
                elif table.name not in _REPLAYED and lines:
                    types = {c.name: c.type for c in table.columns}
                    conn.execute(table.insert(), [{k: _decode(v, types[k]) for k, v in line.items()}
                                                  for line in lines])
            _reset_sequences(conn)
            files = 0
            for name in sorted(n for n in digests if n.startswith("files/")):
                data = _read(tar, name, digests)
                if store.put(data) != PurePosixPath(name).stem:
                    raise BackupRefused(f"{name}: nội dung không khớp tên",
                                        f"{name}: the content does not match its name")
                files += 1
    upgrade_database(url)
    problems = [f"{t}: {restored.get(t)} / {n}" for t, n in manifest["rows"].items()
                if restored.get(t) != n]
    with session_factory(engine)() as session:
        chain = verify_chain(session)
        if not chain.ok:
            problems.append(chain.reason_en)
        for sha256 in set(session.scalars(select(DocumentVersion.sha256))):
            try:
                store.get(sha256)
            except (StoredFileMissing, StoredFileCorrupted) as exc:
                problems.append(f"{sha256}: {exc.en}")
    return RestoreReport(revision=revision, rows=restored, files=files,
                         audit_events=chain.events, problems=problems)
