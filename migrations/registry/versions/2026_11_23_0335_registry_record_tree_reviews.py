"""registry: organisation tree, the full student record with the ID number encrypted, typed status
changes, prior-education reviews with evidence, identity flags

Revision ID: regi0002
Revises: regi0001
Create Date: 2026-11-23 03:35:00

The clear `id_number` column is replaced: each existing number is encrypted (AES-GCM) with the
key from the registry settings (GRADOPS_REGISTRY_PII_KEY / GRADOPS_PII_KEY), hashed for lookups,
and the clear column is dropped. Run it with the same key the service will use.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from gradops_registry.service.pii import PiiCipher
from gradops_registry.settings import RegistrySettings

revision: str = "regi0002"
down_revision: str | None = "regi0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "registry"


def _schema() -> str | None:
    return None if op.get_bind().dialect.name == "sqlite" else SCHEMA


def _pii_cipher() -> PiiCipher:
    """The key the registry itself reads: on SQLite the embedded default's (its development key is
    allowed there), elsewhere the process's settings, which refuse a development key outside the
    tests, so numbers are never sealed with a key the deployment does not hold."""
    if op.get_bind().dialect.name == "sqlite":
        settings = RegistrySettings(database_url="sqlite+aiosqlite://", event_bus="embedded")
    else:
        settings = RegistrySettings()
    return PiiCipher(settings.pii_key.get_secret_value())


def upgrade() -> None:
    schema = _schema()
    op.create_table(
        "org_units",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_org_units")),
        schema=SCHEMA,
    )
    op.create_index(op.f("ix_org_units_parent"), "org_units", ["parent"], unique=False, schema=SCHEMA)
    op.create_table(
        "evidence_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_evidence_blobs")),
        schema=SCHEMA,
    )
    op.create_table(
        "prior_education_reviews",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("student_no", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("state_after", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("prior_graduation_year", sa.Integer(), nullable=True),
        sa.Column("abroad", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prior_education_reviews")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_prior_education_reviews_student_no"),
        "prior_education_reviews",
        ["student_no"],
        unique=False,
        schema=SCHEMA,
    )
    op.create_table(
        "identity_flag_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("student_no", sa.String(length=32), nullable=False),
        sa.Column("in_doubt", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_flag_changes")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("ix_identity_flag_changes_student_no"),
        "identity_flag_changes",
        ["student_no"],
        unique=False,
        schema=SCHEMA,
    )

    # Status changes get their type; the foundation wrote only registrations, updates and 毕业.
    with op.batch_alter_table("status_changes", schema=schema) as batch:
        batch.add_column(sa.Column("change_type", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))
    changes = sa.table(
        "status_changes",
        sa.column("change_type", sa.String),
        sa.column("from_status", sa.String),
        sa.column("to_status", sa.String),
        schema=schema,
    )
    op.execute(changes.update().where(changes.c.from_status.is_(None)).values(change_type="registered"))
    op.execute(changes.update().where(changes.c.to_status == "graduated").values(change_type="graduate"))
    op.execute(changes.update().where(changes.c.change_type.is_(None)).values(change_type="record_update"))
    with op.batch_alter_table("status_changes", schema=schema) as batch:
        batch.alter_column("change_type", existing_type=sa.String(length=20), nullable=False)

    # The student record: new fields, nullable first so existing rows can be filled.
    new_columns: list[sa.Column[Any]] = [
        sa.Column("former_name", sa.String(length=100), nullable=True),
        sa.Column("ethnicity", sa.String(length=32), nullable=True),
        sa.Column("political_status", sa.String(length=32), nullable=True),
        sa.Column("id_number_encrypted", sa.String(length=200), nullable=True),
        sa.Column("id_number_hash", sa.String(length=64), nullable=True),
        sa.Column("id_number_last4", sa.String(length=4), nullable=True),
        sa.Column("exam_no", sa.String(length=32), nullable=True),
        sa.Column("branch", sa.String(length=32), nullable=True),
        sa.Column("class_code", sa.String(length=64), nullable=True),
        sa.Column("duration_years", sa.Float(), nullable=True),
        sa.Column("education_type", sa.String(length=16), nullable=True),
        sa.Column("expected_graduation_date", sa.Date(), nullable=True),
        sa.Column("mobile", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("work_unit", sa.String(length=200), nullable=True),
        sa.Column("certificate_number", sa.String(length=32), nullable=True),
        sa.Column("registration_number", sa.String(length=32), nullable=True),
        sa.Column("prior_education_state", sa.String(length=16), nullable=True),
        sa.Column("prior_education_deadline", sa.Date(), nullable=True),
        sa.Column("identity_in_doubt", sa.Boolean(), nullable=True),
        sa.Column("identity_doubt_kind", sa.String(length=16), nullable=True),
    ]
    with op.batch_alter_table("students", schema=schema) as batch:
        for column in new_columns:
            batch.add_column(column)

    # Data migration: encrypt every clear number, then forget it.
    students = sa.table(
        "students",
        sa.column("student_no", sa.String),
        sa.column("id_number", sa.String),
        sa.column("id_number_encrypted", sa.String),
        sa.column("id_number_hash", sa.String),
        sa.column("id_number_last4", sa.String),
        sa.column("prior_education_state", sa.String),
        sa.column("identity_in_doubt", sa.Boolean),
        schema=schema,
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(students.c.student_no, students.c.id_number)).all()
    cipher = _pii_cipher() if rows else None  # a fresh database needs no key
    for student_no, number in rows:
        assert cipher is not None
        bind.execute(
            students.update()
            .where(students.c.student_no == student_no)
            .values(
                id_number_encrypted=cipher.encrypt(number),
                id_number_hash=cipher.lookup_hash(number),
                id_number_last4=number[-4:],
            )
        )
    op.execute(students.update().values(prior_education_state="none", identity_in_doubt=False))

    with op.batch_alter_table("students", schema=schema) as batch:
        for name, type_ in (
            ("id_number_encrypted", sa.String(length=200)),
            ("id_number_hash", sa.String(length=64)),
            ("id_number_last4", sa.String(length=4)),
            ("prior_education_state", sa.String(length=16)),
            ("identity_in_doubt", sa.Boolean()),
        ):
            batch.alter_column(name, existing_type=type_, nullable=False)
        batch.drop_column("id_number")
        batch.drop_index("ix_students_learning_centre")
        batch.create_index("ix_students_learning_centre_student_no", ["learning_centre", "student_no"])
        batch.create_index(
            "ix_students_prior_education", ["prior_education_state", "prior_education_deadline"]
        )
        batch.create_index("ix_students_id_number_hash", ["id_number_hash"])


def downgrade() -> None:
    """Back to clear numbers (decrypted with the configured key): only to roll back a failed deploy."""
    schema = _schema()
    with op.batch_alter_table("students", schema=schema) as batch:
        batch.add_column(sa.Column("id_number", sa.String(length=64), nullable=True))
    students = sa.table(
        "students",
        sa.column("student_no", sa.String),
        sa.column("id_number", sa.String),
        sa.column("id_number_encrypted", sa.String),
        schema=schema,
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(students.c.student_no, students.c.id_number_encrypted)).all()
    cipher = _pii_cipher() if rows else None
    for student_no, sealed in rows:
        assert cipher is not None
        bind.execute(
            students.update()
            .where(students.c.student_no == student_no)
            .values(id_number=cipher.decrypt(sealed))
        )
    with op.batch_alter_table("students", schema=schema) as batch:
        batch.alter_column("id_number", existing_type=sa.String(length=64), nullable=False)
        batch.drop_index("ix_students_id_number_hash")
        batch.drop_index("ix_students_prior_education")
        batch.drop_index("ix_students_learning_centre_student_no")
        batch.create_index("ix_students_learning_centre", ["learning_centre"])
        for name in (
            "former_name", "ethnicity", "political_status", "id_number_encrypted", "id_number_hash",
            "id_number_last4", "exam_no", "branch", "class_code", "duration_years", "education_type",
            "expected_graduation_date", "mobile", "email", "work_unit", "certificate_number",
            "registration_number", "prior_education_state", "prior_education_deadline", "identity_in_doubt",
            "identity_doubt_kind",
        ):  # fmt: skip
            batch.drop_column(name)
    with op.batch_alter_table("status_changes", schema=schema) as batch:
        batch.drop_column("details")
        batch.drop_column("change_type")
    op.drop_index(
        op.f("ix_identity_flag_changes_student_no"), table_name="identity_flag_changes", schema=SCHEMA
    )
    op.drop_table("identity_flag_changes", schema=SCHEMA)
    op.drop_index(
        op.f("ix_prior_education_reviews_student_no"), table_name="prior_education_reviews", schema=SCHEMA
    )
    op.drop_table("prior_education_reviews", schema=SCHEMA)
    op.drop_table("evidence_blobs", schema=SCHEMA)
    op.drop_index(op.f("ix_org_units_parent"), table_name="org_units", schema=SCHEMA)
    op.drop_table("org_units", schema=SCHEMA)
