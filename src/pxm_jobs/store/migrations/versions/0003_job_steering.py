"""job steering: idempotency keys and the index that prunes finished jobs

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "uq_jobs_store_idempotency_key",
            ["store_id", "idempotency_key"],
            unique=True,
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_jobs_finished",
            ["completed_at"],
            unique=False,
            sqlite_where=sa.text("completed_at IS NOT NULL"),
            postgresql_where=sa.text("completed_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_jobs_finished",
            sqlite_where=sa.text("completed_at IS NOT NULL"),
            postgresql_where=sa.text("completed_at IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_jobs_store_idempotency_key",
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
        )
        batch_op.drop_column("request_fingerprint")
        batch_op.drop_column("idempotency_key")
