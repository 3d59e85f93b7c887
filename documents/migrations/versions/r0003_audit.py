"""The audit trail: append-only, hash-chained events and the head of the chain.

Written by hand after ``alembic revision --autogenerate`` (tables as documents/audit.py
describes them), plus the triggers that keep the trail append-only in the database
itself — PostgreSQL and SQLite get their own dialect's triggers, with the same rules:

* ``audit_event``: no UPDATE, no DELETE; an INSERT must continue the head
  (seq = head.seq + 1, prev_hash = head.hash).
* ``audit_head``: created only for an empty trail (seq 0, the genesis hash); an
  UPDATE only advances it by one, to an event that exists with that hash; no DELETE.

Revision ID: 0003_audit
Revises: 0002
Create Date: 2026-11-26
"""
# Generated column lists stay one per line, unwrapped:
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_audit"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
APPEND_ONLY = ("nhật ký kiểm tra chỉ được ghi thêm, không được sửa hoặc xóa sự kiện / "
               "the audit trail is append-only: events cannot be updated or deleted")
NOT_LINKED = ("sự kiện mới phải nối tiếp đầu chuỗi nhật ký / "
              "a new audit event must continue the head of the chain")
HEAD_GUARD = ("đầu chuỗi nhật ký chỉ tiến lên từng sự kiện, không được xóa hay đặt lại / "
              "the audit head only moves forward one event at a time; it cannot be deleted or reset")

POSTGRESQL_UP = [
    f"""
    CREATE FUNCTION kyso_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = '{APPEND_ONLY}';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION kyso_audit_append_only()
    """,
    f"""
    CREATE FUNCTION kyso_audit_links_head() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM audit_head h WHERE h.id = 1 AND h.seq + 1 = NEW.seq
                       AND h.hash = NEW.prev_hash) THEN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
                MESSAGE = '{NOT_LINKED}';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_event_links_head BEFORE INSERT ON audit_event
    FOR EACH ROW EXECUTE FUNCTION kyso_audit_links_head()
    """,
    f"""
    CREATE FUNCTION kyso_audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            IF NEW.seq = 0 AND NEW.hash = '{GENESIS}'
                    AND NOT EXISTS (SELECT 1 FROM audit_event) THEN
                RETURN NEW;
            END IF;
        ELSIF TG_OP = 'UPDATE' THEN
            IF NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 AND EXISTS (
                    SELECT 1 FROM audit_event e WHERE e.seq = NEW.seq AND e.hash = NEW.hash) THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = '{HEAD_GUARD}';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_head_forward_only BEFORE INSERT OR UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION kyso_audit_head_forward_only()
    """,
]

SQLITE_UP = [
    f"""
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END
    """,
    f"""
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END
    """,
    f"""
    CREATE TRIGGER audit_event_links_head BEFORE INSERT ON audit_event
    WHEN NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1 AND seq + 1 = NEW.seq
                     AND hash = NEW.prev_hash)
    BEGIN SELECT RAISE(ABORT, '{NOT_LINKED}'); END
    """,
    f"""
    CREATE TRIGGER audit_head_starts_empty BEFORE INSERT ON audit_head
    WHEN NEW.seq <> 0 OR NEW.hash <> '{GENESIS}' OR EXISTS (SELECT 1 FROM audit_event)
    BEGIN SELECT RAISE(ABORT, '{HEAD_GUARD}'); END
    """,
    f"""
    CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
    WHEN NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
        SELECT 1 FROM audit_event WHERE seq = NEW.seq AND hash = NEW.hash)
    BEGIN SELECT RAISE(ABORT, '{HEAD_GUARD}'); END
    """,
    f"""
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    BEGIN SELECT RAISE(ABORT, '{HEAD_GUARD}'); END
    """,
]

POSTGRESQL_DOWN = [
    "DROP FUNCTION IF EXISTS kyso_audit_append_only() CASCADE",
    "DROP FUNCTION IF EXISTS kyso_audit_links_head() CASCADE",
    "DROP FUNCTION IF EXISTS kyso_audit_head_forward_only() CASCADE",
]


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.Enum('LOGIN', 'UPLOAD', 'PREPARE', 'ROUTE', 'APPROVE', 'RETURN', 'SIGN', 'NUMBER', 'SEAL', 'ISSUE', 'ATTACH', 'COPY', 'CANCEL_NUMBER', 'DOWNLOAD', 'VERIFY', 'EXPORT', 'ADMIN_CHANGE', 'TOKEN_ERROR', name='audit_action', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=100), nullable=False),
    sa.Column('details', sa.String(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('length(hash) = 64 AND length(prev_hash) = 64', name=op.f('ck_audit_event_hash_length')),
    sa.CheckConstraint('seq >= 1', name=op.f('ck_audit_event_seq_positive')),
    sa.ForeignKeyConstraint(['body_id'], ['organisation.id'], name=op.f('fk_audit_event_body_id_organisation')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_action', ['action'], unique=False)
        batch_op.create_index('ix_audit_event_actor', ['actor'], unique=False)
        batch_op.create_index('ix_audit_event_object', ['object_type', 'object_id'], unique=False)

    audit_head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_head_single_row')),
    sa.CheckConstraint('seq >= 0', name=op.f('ck_audit_head_seq_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": GENESIS}])

    dialect = op.get_context().dialect.name
    for statement in {"postgresql": POSTGRESQL_UP, "sqlite": SQLITE_UP}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    op.drop_table('audit_head')  # SQLite drops a table's triggers with it
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_object')
        batch_op.drop_index('ix_audit_event_actor')
        batch_op.drop_index('ix_audit_event_action')
    op.drop_table('audit_event')
    if dialect == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
