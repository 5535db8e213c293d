"""integrations: webhooks told of job events, their outbox and their delivery logs

Revision ID: 0010
Revises: 0008

New tables only: processes of the earlier release run beside this one unchanged (they write no
events, so jobs they move tell no integration).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import pxm_jobs.store.types

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("integration_type", sa.String(length=32), nullable=False),
        sa.Column(
            "observes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret_key", sa.Text(), nullable=True),
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_integrations_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
    )
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_integrations_store_created", ["store_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "integration_deliveries",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("ended_at", pxm_jobs.store.types.UtcDateTime(), nullable=True),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("job_type", sa.String(length=32), nullable=False),
        sa.Column("job_status", sa.String(length=16), nullable=False),
        sa.Column("job_created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("job_updated_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("job_started_at", pxm_jobs.store.types.UtcDateTime(), nullable=True),
        sa.Column("job_completed_at", pxm_jobs.store.types.UtcDateTime(), nullable=True),
        sa.Column("job_request_id", sa.String(length=255), nullable=True),
        sa.Column(
            "job_meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("job_progress_processed", sa.Integer(), nullable=True),
        sa.Column("job_progress_total", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_deliveries_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_integration_deliveries_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_integration_deliveries")),
        sa.UniqueConstraint("id", name=op.f("uq_integration_deliveries_id")),
    )
    with op.batch_alter_table("integration_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_integration_deliveries_due",
            ["next_attempt_at", "seq"],
            unique=False,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )
        batch_op.create_index(
            "ix_integration_deliveries_ended",
            ["ended_at"],
            unique=False,
            sqlite_where=sa.text("ended_at IS NOT NULL"),
            postgresql_where=sa.text("ended_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_integration_deliveries_integration", ["integration_id", "seq"], unique=False
        )
        batch_op.create_index(
            "ix_integration_deliveries_line",
            ["integration_id", "job_id", "seq"],
            unique=False,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )

    op.create_table(
        "integration_observers",
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_observers_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "store_id", "event", "integration_id", name=op.f("pk_integration_observers")
        ),
    )
    with op.batch_alter_table("integration_observers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_integration_observers_integration_id", ["integration_id"], unique=False
        )

    op.create_table(
        "integration_logs",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("delivery_seq", sa.BigInteger(), nullable=False),
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_seq"],
            ["integration_deliveries.seq"],
            name=op.f("fk_integration_logs_delivery_seq_integration_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_logs_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_integration_logs_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_integration_logs")),
        sa.UniqueConstraint("id", name=op.f("uq_integration_logs_id")),
    )
    with op.batch_alter_table("integration_logs", schema=None) as batch_op:
        batch_op.create_index("ix_integration_logs_delivery", ["delivery_seq", "seq"], unique=False)
        batch_op.create_index(
            "ix_integration_logs_integration", ["integration_id", "seq"], unique=False
        )
        batch_op.create_index("ix_integration_logs_store", ["store_id", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("integration_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_integration_logs_store")
        batch_op.drop_index("ix_integration_logs_integration")
        batch_op.drop_index("ix_integration_logs_delivery")

    op.drop_table("integration_logs")
    with op.batch_alter_table("integration_observers", schema=None) as batch_op:
        batch_op.drop_index("ix_integration_observers_integration_id")

    op.drop_table("integration_observers")
    with op.batch_alter_table("integration_deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_integration_deliveries_line",
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )
        batch_op.drop_index("ix_integration_deliveries_integration")
        batch_op.drop_index(
            "ix_integration_deliveries_ended",
            sqlite_where=sa.text("ended_at IS NOT NULL"),
            postgresql_where=sa.text("ended_at IS NOT NULL"),
        )
        batch_op.drop_index(
            "ix_integration_deliveries_due",
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )

    op.drop_table("integration_deliveries")
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.drop_index("ix_integrations_store_created")

    op.drop_table("integrations")
