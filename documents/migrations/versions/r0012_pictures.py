"""Seal and signature pictures, every uploaded version kept (documents/pictures.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "picture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("SEAL", "SIGNATURE", name="picturekind", native_enum=False,
                                  length=16), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("width_mm", sa.Float(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(kind = 'SEAL' AND body_id IS NOT NULL AND person_id IS NULL) OR "
                           "(kind = 'SIGNATURE' AND person_id IS NOT NULL AND body_id IS NULL)",
                           name=op.f("ck_picture_owner_matches_kind")),
        sa.ForeignKeyConstraint(["body_id"], ["organisation.id"],
                                name=op.f("fk_picture_body_id_organisation")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_picture_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_picture")),
    )
    op.create_index("ix_picture_owner", "picture", ["kind", "body_id", "person_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_picture_owner", table_name="picture")
    op.drop_table("picture")
