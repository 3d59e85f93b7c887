"""Background work kept in the database (documents/background.py): the ledger of tasks
sent to the broker (``background_task``), the workers' heartbeats (``worker_heartbeat``),
and two notification kinds, WORK_DELAYED and WORK_FAILED (the kind's CHECK constraint is
replaced as revision 0013 does).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_notification_notification_kind"
KINDS = ("WAITING", "RETURNED", "APPROVED", "ISSUED", "OVERDUE", "WITHDRAWN", "CERT_EXPIRING")
STATES = ("QUEUED", "RUNNING", "WAITING_SERVICE", "DONE", "FAILED")


def _replace_check(kinds: Sequence[str]) -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch.create_check_constraint(
            op.f(CONSTRAINT), "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")")


def upgrade() -> None:
    _replace_check((*KINDS, "WORK_DELAYED", "WORK_FAILED"))
    op.create_table(
        "background_task",
        sa.Column("id", sa.String(length=155), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=True),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("act", sa.String(length=32), nullable=True),
        sa.Column("state", sa.Enum(*STATES, name="task_state", native_enum=False,
                                   create_constraint=True, length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("resent", sa.Integer(), nullable=False),
        sa.Column("problem", sa.String(length=1000), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_task")),
    )
    op.create_index("ix_background_task_state", "background_task", ["state"])
    op.create_index("ix_background_task_document", "background_task", ["document_id"])
    op.create_table(
        "worker_heartbeat",
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queues", sa.String(length=1000), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hostname", name=op.f("pk_worker_heartbeat")),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeat")
    op.drop_index("ix_background_task_document", table_name="background_task")
    op.drop_index("ix_background_task_state", table_name="background_task")
    op.drop_table("background_task")
    _replace_check(KINDS)
