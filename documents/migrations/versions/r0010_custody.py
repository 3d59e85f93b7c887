"""Key custody: each body's organisation keys, and one holder per certificate and token.

``organisation_key`` holds an issuing body's own certificate (its seal) and the server
token holding its key, with the dates a replacement takes over (documents/custody.py).
A certificate is one body's seal only (unique); an organisation key is never on the
agent or a remote channel (CHECK).

Triggers refuse, in the database itself, what documents.custody refuses in the code:
a certificate or a server token name bound to two people (signing_authority rows of
different persons), to a person and a body's seal, or (token names) to two bodies'
seals. ``agent`` is a channel every agent-signing person shares, not a key. The
triggers are new objects: nothing is recreated. A later SQLite batch migration of
``signing_authority`` or ``organisation_key`` recreates the table and must create these
triggers again.

Existing rows are not checked (a database where the attack already happened keeps its
rows; the administrator ends the wrong authority); bodies get their organisation key
from the administrator (``POST /api/v1/admin/bodies/{id}/organisation-keys``), the demo
commune from its seeding (api/demo/commune.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD = ("chứng thư số hoặc thiết bị ký đã được gắn cho một người hoặc cơ quan khác / "
        "the certificate or token is already bound to another person or body")

#: another person's authority, or any seal, with NEW's certificate or server token
AUTHORITY_CLASH = """
    EXISTS (SELECT 1 FROM signing_authority a
            WHERE a.id <> NEW.id AND a.person_id <> NEW.person_id
              AND (a.certificate_sha256 = NEW.certificate_sha256
                   OR (NEW.token_name <> 'agent' AND a.token_name = NEW.token_name)))
    OR EXISTS (SELECT 1 FROM organisation_key k
               WHERE k.certificate_sha256 = NEW.certificate_sha256
                  OR k.token_name = NEW.token_name)
"""
#: any authority with NEW's certificate or token, or another body's seal on NEW's token
SEAL_CLASH = """
    EXISTS (SELECT 1 FROM signing_authority a
            WHERE a.certificate_sha256 = NEW.certificate_sha256
               OR a.token_name = NEW.token_name)
    OR EXISTS (SELECT 1 FROM organisation_key k
               WHERE k.id <> NEW.id AND k.body_id <> NEW.body_id
                 AND k.token_name = NEW.token_name)
"""

POSTGRESQL_UP = [
    f"""
    CREATE FUNCTION kyso_authority_custody() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {AUTHORITY_CLASH} THEN
            RAISE EXCEPTION '{HELD}' USING ERRCODE = 'unique_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER signing_authority_custody BEFORE INSERT OR UPDATE ON signing_authority
    FOR EACH ROW EXECUTE FUNCTION kyso_authority_custody()
    """,
    f"""
    CREATE FUNCTION kyso_seal_custody() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {SEAL_CLASH} THEN
            RAISE EXCEPTION '{HELD}' USING ERRCODE = 'unique_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER organisation_key_custody BEFORE INSERT OR UPDATE ON organisation_key
    FOR EACH ROW EXECUTE FUNCTION kyso_seal_custody()
    """,
]



# SQLite: NEW.id of an INSERT may still be NULL (rowid given later): "IS NOT" is false
# only for the row itself.
def _sqlite(table: str, event: str, clash: str) -> str:
    clash = clash.replace("a.id <> NEW.id", "a.id IS NOT NEW.id").replace(
        "k.id <> NEW.id", "k.id IS NOT NEW.id")
    return (f"CREATE TRIGGER {table}_custody_{event} BEFORE {event.upper()} ON {table} "
            f"WHEN {clash} BEGIN SELECT RAISE(ABORT, '{HELD}'); END")


SQLITE_UP = [_sqlite(table, event, clash)
             for table, clash in (("signing_authority", AUTHORITY_CLASH),
                                  ("organisation_key", SEAL_CLASH))
             for event in ("insert", "update")]

POSTGRESQL_DOWN = [
    "DROP FUNCTION IF EXISTS kyso_authority_custody() CASCADE",
    "DROP FUNCTION IF EXISTS kyso_seal_custody() CASCADE",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS signing_authority_custody_insert",
    "DROP TRIGGER IF EXISTS signing_authority_custody_update",
]


def upgrade() -> None:
    op.create_table(
        "organisation_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("token_name", sa.String(length=100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("length(certificate_sha256) = 64",
                           name=op.f("ck_organisation_key_fingerprint_length")),
        sa.CheckConstraint("valid_until IS NULL OR valid_from IS NULL OR "
                           "valid_from <= valid_until",
                           name=op.f("ck_organisation_key_validity_order")),
        sa.CheckConstraint("token_name <> 'agent' AND token_name NOT LIKE 'remote:%'",
                           name=op.f("ck_organisation_key_server_token")),
        sa.ForeignKeyConstraint(["body_id"], ["organisation.id"],
                                name=op.f("fk_organisation_key_body_id_organisation")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_key")),
        sa.UniqueConstraint("certificate_sha256",
                            name=op.f("uq_organisation_key_certificate_sha256")),
    )
    with op.batch_alter_table("organisation_key") as batch:
        batch.create_index("ix_organisation_key_body", ["body_id"], unique=False)
    dialect = op.get_context().dialect.name
    for statement in {"postgresql": POSTGRESQL_UP, "sqlite": SQLITE_UP}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    for statement in {"postgresql": POSTGRESQL_DOWN, "sqlite": SQLITE_DOWN}.get(dialect, []):
        op.execute(statement)
    op.drop_table("organisation_key")  # SQLite drops the table's own triggers with it
