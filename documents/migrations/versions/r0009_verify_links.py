"""Short verification links (one code per document) and versions found by hash.

``verify_link`` holds each document's public verification code (documents/links.py);
``ix_document_version_sha256`` lets register matching find a file by its SHA-256
alone (documents/matching.py). New objects only: nothing is recreated, so the audit
triggers and the CHECK constraints of other tables are untouched.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "verify_link",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"],
                                name=op.f("fk_verify_link_document_id_document")),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_verify_link")),
        sa.UniqueConstraint("code", name=op.f("uq_verify_link_code")),
    )
    with op.batch_alter_table("document_version") as batch:
        batch.create_index("ix_document_version_sha256", ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_version") as batch:
        batch.drop_index("ix_document_version_sha256")
    op.drop_table("verify_link")
