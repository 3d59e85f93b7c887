"""Document versions of a new kind, ARCHIVED: an issued PDF with a renewed archive
timestamp (PAdES B-LTA), stored as a version of its own next to the issued one.

The kind is a VARCHAR with a CHECK constraint (``ck_document_version_version_kind``),
so the constraint is replaced: in place on PostgreSQL, by recreating the table in
batch mode on SQLite (``document_version`` has no triggers to restore). Downgrading
fails while ARCHIVED versions exist, rather than deleting them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_document_version_version_kind"
KINDS = ("DRAFT", "PREPARED", "APPROVED", "ISSUED", "ATTACHMENT", "COPY")


def _kind_in(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _replace_check(kinds: Sequence[str]) -> None:
    with op.batch_alter_table("document_version") as batch:
        batch.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch.create_check_constraint(op.f(CONSTRAINT), _kind_in(kinds))


def upgrade() -> None:
    _replace_check((*KINDS, "ARCHIVED"))


def downgrade() -> None:
    _replace_check(KINDS)
