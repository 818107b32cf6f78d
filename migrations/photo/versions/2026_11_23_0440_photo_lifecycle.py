"""photo life-cycle: review SLA, proofreading, capture sessions, code lock-outs, bulk imports

Revision ID: phot_lc01
Revises: phot_qc01
Create Date: 2026-11-23 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "phot_lc01"
down_revision: str | None = "phot_qc01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def _alter_schema() -> str | None:
    # SQLite maps the schema to the main database when it compiles tables, but Alembic writes
    # ALTER TABLE's table name itself: address it unqualified there.
    return None if op.get_bind().dialect.name == "sqlite" else "photo"


def upgrade() -> None:
    schema = _alter_schema()
    for column in (
        sa.Column("review_due_at", _WHEN, nullable=True),
        sa.Column("resubmit_by", _WHEN, nullable=True),
        sa.Column("reviewer", sa.String(length=100), nullable=True),
        sa.Column("review_reasons", sa.JSON(), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("proofread_state", sa.String(length=20), nullable=True),
        sa.Column("proofread_detail", sa.Text(), nullable=True),
        sa.Column("proofread_at", _WHEN, nullable=True),
    ):
        op.add_column("submissions", column, schema=schema)
    op.create_index(
        op.f("ix_submissions_review_due_at"), "submissions", ["review_due_at"], unique=False, schema=schema
    )
    op.create_table(
        "capture_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("student_no", sa.String(length=32), nullable=False),
        sa.Column("learning_centre", sa.String(length=32), nullable=True),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("fee_paid", sa.Boolean(), nullable=False),
        sa.Column("fee_amount_cents", sa.Integer(), nullable=True),
        sa.Column("fee_provider_reference", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("last_submission_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture_sessions")),
        schema="photo",
    )
    op.create_index(
        op.f("ix_capture_sessions_student_no"),
        "capture_sessions",
        ["student_no"],
        unique=False,
        schema="photo",
    )
    op.create_table(
        "collection_code_attempts",
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", _WHEN, nullable=True),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("code_sha256", name=op.f("pk_collection_code_attempts")),
        schema="photo",
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("centres", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("archive_sha256", sa.String(length=64), nullable=False),
        sa.Column("archive_bytes", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("started_at", _WHEN, nullable=True),
        sa.Column("finished_at", _WHEN, nullable=True),
        sa.Column("heartbeat_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
        schema="photo",
    )
    op.create_index(op.f("ix_imports_status"), "imports", ["status"], unique=False, schema="photo")
    op.create_table(
        "import_files",
        sa.Column("id", _BIGINT, autoincrement=True, nullable=False),
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("student_no", sa.String(length=32), nullable=True),
        sa.Column("submission_id", sa.String(length=36), nullable=True),
        sa.Column("failed_checks", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_files")),
        sa.UniqueConstraint("import_id", "position", name=op.f("uq_import_files_import_id_position")),
        schema="photo",
    )
    op.create_index(
        op.f("ix_import_files_import_id"), "import_files", ["import_id"], unique=False, schema="photo"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_import_files_import_id"), table_name="import_files", schema="photo")
    op.drop_table("import_files", schema="photo")
    op.drop_index(op.f("ix_imports_status"), table_name="imports", schema="photo")
    op.drop_table("imports", schema="photo")
    op.drop_table("collection_code_attempts", schema="photo")
    op.drop_index(op.f("ix_capture_sessions_student_no"), table_name="capture_sessions", schema="photo")
    op.drop_table("capture_sessions", schema="photo")
    schema = _alter_schema()
    op.drop_index(op.f("ix_submissions_review_due_at"), table_name="submissions", schema=schema)
    for name in (
        "proofread_at",
        "proofread_detail",
        "proofread_state",
        "review_comment",
        "review_reasons",
        "reviewer",
        "resubmit_by",
        "review_due_at",
    ):
        op.drop_column("submissions", name, schema=schema)
