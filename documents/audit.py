"""The audit trail: every action as an append-only, hash-chained event.

Each :class:`AuditEvent` says who (``actor``, NFC text as shown to people), in which
issuing body, did what (:class:`AuditAction`), to which object (``object_type`` +
``object_id``), when (``occurred_at``, UTC) and with which details (canonical JSON:
sorted keys, UTF-8, NFC). Its ``hash`` is the SHA-256 of a canonical serialisation
of all those fields plus ``prev_hash``, the hash of the event before it (the first
event follows :data:`GENESIS_HASH`)::

    seq 1 ─hash─▶ seq 2 (prev_hash = hash 1) ─hash─▶ seq 3 … ◀── audit_head (seq, hash)

Writing. :func:`record` appends in the caller's transaction and never commits: an
act that rolls back leaves no event, an act that commits leaves its events. The
next ``seq`` and ``prev_hash`` come from the one-row ``audit_head`` table, read under
a lock so concurrent writers never fork the chain: ``SELECT … FOR UPDATE`` on
PostgreSQL, the write lock SQLite takes at ``BEGIN IMMEDIATE`` (engines from
:func:`documents.db.create_engine_for`). The lock is held until the caller commits,
so call :func:`record` last in a transaction, after the slow work (signing).

The database keeps the trail append-only itself (migration ``0003_audit``; the
names, for administrators and tests):

* PostgreSQL: trigger ``audit_event_append_only`` (function
  ``kyso_audit_append_only``) refuses UPDATE and DELETE on ``audit_event``;
  ``audit_event_links_head`` refuses an event that does not continue the head;
  ``audit_head_forward_only`` lets the head only advance by one to an existing
  event, refuses deleting it, and creates it only for an empty trail.
* SQLite: ``audit_event_no_update``, ``audit_event_no_delete``,
  ``audit_event_links_head``, ``audit_head_forward_only``, ``audit_head_no_delete``,
  ``audit_head_starts_empty``.

TRUNCATE is not refused (the test fixtures empty every table with it); in
production, grant the service's database role INSERT and SELECT only on
``audit_event``. A later batch migration that recreates either table on SQLite
drops its triggers and must create them again.

Checking. :func:`verify_chain` re-reads the trail in ``seq`` order and reports the
first event that was edited (its hash no longer matches), deleted (a gap in ``seq``
or a ``prev_hash`` that does not match), reordered or inserted, and a tail cut off
(the head remembers the last ``seq`` and hash). The hash is not keyed: someone who
can drop the triggers AND recompute every later hash AND move the head could rewrite
history undetected — against that, write the head (``ChainReport.head_seq`` and
``head_hash``) somewhere else now and then and pass it back as ``anchor``.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .errors import AuditHeadMissing
from .models import Base, enum_type
from .numbering import insert_for
from .sqltypes import Nfc, UtcDateTime, nfc, utc_now

#: The actor of an act nobody in particular did (a task, a migration, a default).
SYSTEM_ACTOR = "hệ thống"
#: The ``prev_hash`` of the first event.
GENESIS_HASH = "0" * 64
#: Name of the serialisation the hashes are computed over (change it, change the name).
HASH_FORMAT = "kyso.audit/1"
HEAD_ID = 1
#: Key of the PostgreSQL advisory lock taken while the head row is (re)created.
_HEAD_LOCK_KEY = 0x6B79736F  # "kyso"


class AuditAction(enum.Enum):
    """What was done; stored by name, the value is the Vietnamese label."""

    LOGIN = "Đăng nhập"
    UPLOAD = "Tải lên dự thảo"
    PREPARE = "Chuẩn bị văn bản"
    ROUTE = "Trình ký"
    APPROVE = "Phê duyệt"
    RETURN = "Trả lại"
    SIGN = "Ký số phê duyệt"
    NUMBER = "Cấp số"
    SEAL = "Ký số cơ quan (đóng dấu)"
    ISSUE = "Ban hành"
    ATTACH = "Ký số phụ lục"
    COPY = "Sao văn bản điện tử"
    CANCEL_NUMBER = "Hủy số"
    DOWNLOAD = "Tải xuống"
    VERIFY = "Xác minh"
    EXPORT = "Xuất sổ"
    ADMIN_CHANGE = "Thay đổi quản trị"
    TOKEN_ERROR = "Lỗi thiết bị ký"


class AuditEvent(Base):
    """One action, chained to the one before it; never updated, never deleted."""

    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("length(hash) = 64 AND length(prev_hash) = 64", name="hash_length"),
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_actor", "actor"),
        Index("ix_audit_event_action", "action"),
    )

    #: 1, 2, 3 … without gaps: the position in the chain.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: Who, as people read it: a user name, "Nguyễn Văn An", "hệ thống".
    actor: Mapped[str] = mapped_column(Nfc(200))
    body_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction, "audit_action"))
    #: "document", "account", "number_book", "register" …
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(Nfc(100))
    #: Canonical JSON (see :func:`canonical_json`).
    details: Mapped[str] = mapped_column(Nfc(), default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def details_dict(self) -> dict[str, Any]:
        value = json.loads(self.details)
        return value if isinstance(value, dict) else {"value": value}

    def computed_hash(self) -> str:
        """The hash this event's fields give now (equal to ``hash`` unless edited)."""
        return chain_hash(seq=self.seq, occurred_at=self.occurred_at, actor=self.actor,
                          body_id=self.body_id, action=self.action.name,
                          object_type=self.object_type, object_id=self.object_id,
                          details=self.details, prev_hash=self.prev_hash)

    def __repr__(self) -> str:
        return (f"<AuditEvent {self.seq} {self.action.name} {self.object_type}:{self.object_id}"
                f" by {self.actor!r}>")


class AuditHead(Base):
    """The one row saying where the chain ends: its last ``seq`` and ``hash``."""

    __tablename__ = "audit_head"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("seq >= 0", name="seq_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


# --- canonical forms ------------------------------------------------------------------------

def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime in the audit trail: pass an aware time")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data with every string in NFC."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return value
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, datetime):
        return _utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"audit details keys are strings, not {type(key).__name__}")
            if nfc(key) in plain:
                raise ValueError(f"two details keys are the same text in NFC: {key!r}")
            plain[nfc(key)] = _plain(item)
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    raise TypeError(f"cannot put a {type(value).__name__} in the audit trail")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def canonical_json(value: Any) -> str:
    """One text for one value: sorted keys, no spaces, UTF-8 (not ``\\u`` escapes), NFC;
    enums by name, dates ISO 8601, times in UTC."""
    return _dumps(_plain(value))


def chain_hash(*, seq: int, occurred_at: datetime, actor: str, body_id: int | None,
               action: str, object_type: str, object_id: str, details: str,
               prev_hash: str) -> str:
    """SHA-256 (hex) of the canonical serialisation of an event's fields and ``prev_hash``."""
    payload = {
        "format": HASH_FORMAT, "seq": seq, "occurred_at": _utc_text(occurred_at),
        "actor": nfc(actor), "body_id": body_id, "action": action,
        "object_type": object_type, "object_id": nfc(object_id), "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(_dumps(payload).encode("utf-8")).hexdigest()


# --- writing --------------------------------------------------------------------------------

def _locked_head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the chain's end, locked until the caller's transaction ends."""
    insert = insert_for(session)  # refuses other databases and unserialised SQLite
    locked = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID) \
        .with_for_update()
    row = session.execute(locked).one_or_none()
    if row is None:
        # No head (emptied tables): create it once. On PostgreSQL, writers that all
        # found it missing queue here and then see the head the first one made.
        if session.connection().dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(_HEAD_LOCK_KEY)))
            row = session.execute(locked).one_or_none()
        if row is None:
            if session.scalar(select(AuditEvent.seq).limit(1)) is not None:
                raise AuditHeadMissing()
            session.execute(insert(AuditHead).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
                            .on_conflict_do_nothing(index_elements=["id"]))
            row = session.execute(locked).one()
    return int(row.seq), str(row.hash)


def record(session: Session, action: AuditAction, *, actor: str | None,
           body_id: int | None = None, object_type: str, object_id: str | int,
           details: Mapping[str, Any] | None = None) -> AuditEvent:
    """Append one event to the trail in the caller's transaction (never commits).

    ``actor`` None is :data:`SYSTEM_ACTOR`. ``details`` must be JSON-like (str, int,
    float, bool, None, lists, string-keyed mappings; enums, dates and aware times are
    converted). Holds the head lock until the caller's transaction ends.
    """
    text = canonical_json(dict(details or {}))
    who = nfc(actor or SYSTEM_ACTOR)
    what = nfc(str(object_id))
    head_seq, head_hash = _locked_head(session)
    event = AuditEvent(seq=head_seq + 1, occurred_at=utc_now(), actor=who, body_id=body_id,
                       action=action, object_type=object_type, object_id=what, details=text,
                       prev_hash=head_hash)
    event.hash = event.computed_hash()
    session.add(event)
    session.flush()
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID)
                    .values(seq=event.seq, hash=event.hash)
                    .execution_options(synchronize_session=False))
    return event


# --- reading and checking -------------------------------------------------------------------

@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found: intact, or the first broken event and why."""

    ok: bool
    #: Events read.
    events: int
    #: The first event where the chain breaks (None when intact, or when only the
    #: head is missing).
    first_broken_seq: int | None = None
    reason_vi: str = ""
    reason_en: str = ""
    #: The head as recorded (to be written down elsewhere and given back as ``anchor``).
    head_seq: int = 0
    head_hash: str = GENESIS_HASH

    def line(self) -> str:
        """One line in Vietnamese and English."""
        if self.ok:
            return (f"Nhật ký kiểm tra nguyên vẹn: {self.events} sự kiện — audit trail intact: "
                    f"{self.events} events; đầu chuỗi / head #{self.head_seq} {self.head_hash}")
        at_vi = f" tại sự kiện #{self.first_broken_seq}" if self.first_broken_seq else ""
        at_en = f" at event #{self.first_broken_seq}" if self.first_broken_seq else ""
        return (f"Nhật ký kiểm tra bị phá vỡ{at_vi}: {self.reason_vi} — "
                f"audit trail broken{at_en}: {self.reason_en}")


@dataclass(frozen=True)
class _Break:
    seq: int | None
    vi: str
    en: str


def verify_chain(session: Session, *, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Re-read the whole trail and report the first edited, deleted, reordered or
    inserted event, or a cut-off tail. ``anchor`` (seq, hash) is a head written down
    earlier: the event with that seq must still have that hash."""
    # The head first: events a concurrent writer commits after this read extend the
    # chain past the head and are checked like any other.
    head = session.execute(select(AuditHead.seq, AuditHead.hash)
                           .where(AuditHead.id == HEAD_ID)).one_or_none()
    columns = (AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.body_id,
               type_coerce(AuditEvent.action, String).label("action"), AuditEvent.object_type,
               AuditEvent.object_id, AuditEvent.details, AuditEvent.prev_hash, AuditEvent.hash)
    rows = session.execute(select(*columns).order_by(AuditEvent.seq)
                           .execution_options(yield_per=1000))
    count, expected, prev = 0, 1, GENESIS_HASH
    found: _Break | None = None
    anchored: str | None = None
    for row in rows:
        count += 1
        if found is not None:
            continue
        if row.seq != expected:
            missing = (f"#{expected}" if row.seq == expected + 1
                       else f"#{expected}–#{row.seq - 1}")
            found = _Break(expected, f"thiếu sự kiện {missing} (đã bị xóa)",
                           f"event {missing} is missing (deleted)")
            continue
        try:
            digest = chain_hash(seq=row.seq, occurred_at=row.occurred_at, actor=row.actor,
                                body_id=row.body_id, action=row.action,
                                object_type=row.object_type, object_id=row.object_id,
                                details=row.details, prev_hash=row.prev_hash)
        except (TypeError, ValueError):
            digest = ""
        if digest != row.hash:
            found = _Break(row.seq, "nội dung sự kiện đã bị sửa (không khớp mã băm)",
                           "the event was edited (its content no longer matches its hash)")
        elif row.prev_hash != prev:
            found = _Break(row.seq,
                           f"sự kiện không nối tiếp sự kiện #{row.seq - 1} (mã băm trước không "
                           "khớp): có sự kiện bị xóa, chèn, đổi chỗ hoặc sửa rồi tính lại mã băm",
                           f"the event does not follow event #{row.seq - 1} (prev_hash "
                           "differs): an event was deleted, inserted, reordered or edited "
                           "with its hash recomputed")
        if anchor is not None and row.seq == anchor[0]:
            anchored = row.hash
        prev, expected = row.hash, expected + 1
    last = expected - 1
    head_seq, head_hash = (int(head.seq), str(head.hash)) if head is not None else (0, "")
    if found is None:
        if head is None and count:
            found = _Break(None, "mất bản ghi đầu chuỗi (audit_head)",
                           "the chain head (audit_head) is missing")
        elif head is not None and head_seq > last:
            cut = f"#{last + 1}" if head_seq == last + 1 else f"#{last + 1}–#{head_seq}"
            found = _Break(last + 1, f"mất các sự kiện cuối {cut} (đầu chuỗi ghi #{head_seq})",
                           f"the last events {cut} are gone (the head says #{head_seq})")
        elif head is not None and head_seq >= 1 and _hash_at(session, head_seq) != head_hash:
            found = _Break(head_seq, "sự kiện không phải sự kiện đầu chuỗi đã ghi",
                           "the event is not the one the chain head recorded")
    if found is None and anchor is not None and anchored != anchor[1]:
        found = _Break(anchor[0], "khác với mã băm đã lưu giữ bên ngoài (nhật ký bị viết lại)",
                       "differs from the hash kept outside (the trail was rewritten)")
    if found is None:
        return ChainReport(True, count, head_seq=head_seq or 0,
                           head_hash=head_hash or GENESIS_HASH)
    return ChainReport(False, count, found.seq, found.vi, found.en, head_seq,
                       head_hash or GENESIS_HASH)


def _hash_at(session: Session, seq: int) -> str | None:
    return session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))


def list_events(session: Session, *, limit: int = 20, action: AuditAction | None = None,
                actor: str | None = None, object_type: str | None = None,
                object_id: str | None = None, body_id: int | None = None) -> list[AuditEvent]:
    """The latest ``limit`` events matching every filter given, newest first."""
    query = select(AuditEvent)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if actor is not None:
        query = query.where(AuditEvent.actor == nfc(actor))
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == nfc(object_id))
    if body_id is not None:
        query = query.where(AuditEvent.body_id == body_id)
    return list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit)))
