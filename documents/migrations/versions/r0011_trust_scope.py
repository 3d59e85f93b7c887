"""Trust anchors in the database, each province-wide or for one body; province admins.

``trust_anchor`` holds the CA certificates administrators add (documents/anchors.py):
``body_id`` NULL is province-wide, else the body it is trusted for; removed rows stay
(``removed_at``), so two partial unique indexes allow one *active* row per certificate
and scope. ``user_account.province_admin`` marks the accounts that may manage the
province-wide ones. The old global trust folder's files are imported at start by the
service (``api``), not here: a migration sees only the database, not the data
directory that holds them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BODY_ACTIVE = "removed_at IS NULL AND body_id IS NOT NULL"
PROVINCE_ACTIVE = "removed_at IS NULL AND body_id IS NULL"


def upgrade() -> None:
    op.create_table(
        "trust_anchor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=1000), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=True),
        sa.Column("root", sa.Boolean(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.String(length=64), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["body_id"], ["organisation.id"],
                                name=op.f("fk_trust_anchor_body_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_anchor")),
    )
    op.create_index(op.f("ix_trust_anchor_sha256"), "trust_anchor", ["sha256"])
    op.create_index(op.f("ix_trust_anchor_body_id"), "trust_anchor", ["body_id"])
    op.create_index("ix_trust_anchor_body_active", "trust_anchor", ["sha256", "body_id"],
                    unique=True, sqlite_where=sa.text(BODY_ACTIVE),
                    postgresql_where=sa.text(BODY_ACTIVE))
    op.create_index("ix_trust_anchor_province_active", "trust_anchor", ["sha256"],
                    unique=True, sqlite_where=sa.text(PROVINCE_ACTIVE),
                    postgresql_where=sa.text(PROVINCE_ACTIVE))
    op.add_column("user_account", sa.Column("province_admin", sa.Boolean(), nullable=False,
                                            server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("province_admin")
    op.drop_index("ix_trust_anchor_province_active", table_name="trust_anchor")
    op.drop_index("ix_trust_anchor_body_active", table_name="trust_anchor")
    op.drop_index(op.f("ix_trust_anchor_body_id"), table_name="trust_anchor")
    op.drop_index(op.f("ix_trust_anchor_sha256"), table_name="trust_anchor")
    op.drop_table("trust_anchor")
