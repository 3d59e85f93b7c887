"""Certificate expiry warnings: a notification kind CERT_EXPIRING, and the record of which
warning step (60, 30, 7 days, expired) each person was told of for each certificate, so
a periodic task tells everyone once per step (documents/expiry.py).

The kind is a VARCHAR with a CHECK constraint, replaced as revision 0007 does (batch mode
on SQLite: ``notification`` has no triggers to restore).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_notification_notification_kind"
KINDS = ("WAITING", "RETURNED", "APPROVED", "ISSUED", "OVERDUE", "WITHDRAWN")


def _replace_check(kinds: Sequence[str]) -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch.create_check_constraint(
            op.f(CONSTRAINT), "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")")


def upgrade() -> None:
    _replace_check((*KINDS, "CERT_EXPIRING"))
    op.create_table(
        "certificate_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_certificate_notice_person_id_person")),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"],
                                name=op.f("fk_certificate_notice_notification_id_notification")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_notice")),
        sa.UniqueConstraint("certificate_sha256", "step", "person_id",
                            name=op.f("uq_certificate_notice_certificate_sha256_step_person_id")),
    )


def downgrade() -> None:
    op.drop_table("certificate_notice")
    _replace_check(KINDS)
