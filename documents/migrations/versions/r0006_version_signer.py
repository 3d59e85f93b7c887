"""A signed version records the official whose signature it adds; a document keeps
why its last background step failed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("document", sa.Column("problem", sa.String(length=1000), nullable=True))
    with op.batch_alter_table("document_version") as batch:
        batch.add_column(sa.Column("signer_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_document_version_signer_id_person", "person",
                                 ["signer_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("document_version") as batch:
        batch.drop_constraint("fk_document_version_signer_id_person", type_="foreignkey")
        batch.drop_column("signer_id")
    with op.batch_alter_table("document") as batch:
        batch.drop_column("problem")
