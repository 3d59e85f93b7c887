"""Merge the three 0003 branches: accounts, audit trail, signing queue.

Revision ID: 0004
Revises: 0003_accounts, 0003_audit, 0003_queue
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | Sequence[str] | None = ("0003_accounts", "0003_audit", "0003_queue")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
