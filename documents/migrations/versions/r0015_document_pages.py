"""The indexes the pages of a body's documents seek on (documents/paging.py): by body and
creation time, and by body, status and creation time (then id, the order's tie-break).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_document_body_created", "document", ["body_id", "created_at", "id"])
    op.create_index("ix_document_body_status_created", "document",
                    ["body_id", "status", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_document_body_status_created", table_name="document")
    op.drop_index("ix_document_body_created", table_name="document")
