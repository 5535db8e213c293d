"""initial schema

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import pxm_jobs.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_secrets")),
    )
    op.create_table(
        "stores",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workers_last_seen_at"), ["last_seen_at"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("revoked_at", pxm_jobs.store.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_api_keys_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_api_keys")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_store_id"), ["store_id"], unique=False)

    op.create_table(
        "blobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("expires_at", pxm_jobs.store.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_blobs_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blobs")),
    )
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blobs_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_blobs_store_id"), ["store_id"], unique=False)

    op.create_table(
        "job_lines",
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("head_created_at", pxm_jobs.store.types.UtcDateTime(), nullable=True),
        sa.Column("head_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_job_lines_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_job_lines")),
    )
    with op.batch_alter_table("job_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_lines_head",
            ["head_created_at", "head_seq"],
            unique=False,
            sqlite_where=sa.text("head_seq IS NOT NULL"),
            postgresql_where=sa.text("head_seq IS NOT NULL"),
        )

    op.create_table(
        "products",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("commodity_type", sa.String(length=16), nullable=False),
        sa.Column("upc_ean", sa.String(length=255), nullable=True),
        sa.Column("mpn", sa.String(length=255), nullable=True),
        sa.Column("external_ref", sa.String(length=2048), nullable=True),
        sa.Column("main_image_id", sa.String(length=255), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "locales",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "templates",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_products_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_products_store_created", ["store_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "uq_products_store_external_ref", ["store_id", "external_ref"], unique=True
        )
        batch_op.create_index("uq_products_store_sku", ["store_id", "sku"], unique=True)
        batch_op.create_index("uq_products_store_slug", ["store_id", "slug"], unique=True)

    op.create_table(
        "blob_chunks",
        sa.Column("blob_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_id"], ["blobs.id"], name=op.f("fk_blob_chunks_blob_id_blobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("blob_id", "position", name=op.f("pk_blob_chunks")),
    )
    op.create_table(
        "jobs",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("started_at", pxm_jobs.store.types.UtcDateTime(), nullable=True),
        sa.Column("completed_at", pxm_jobs.store.types.UtcDateTime(), nullable=True),
        sa.Column("request_id", sa.String(length=255), nullable=True),
        sa.Column(
            "input",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("file_id", sa.String(length=36), nullable=True),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("progress_processed", sa.Integer(), nullable=True),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("worker_id", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", pxm_jobs.store.types.UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["blobs.id"], name=op.f("fk_jobs_file_id_blobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_jobs_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_jobs")),
        sa.UniqueConstraint("id", name=op.f("uq_jobs_id")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_pending_line",
            ["store_id", "created_at", "seq"],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            "ix_jobs_started_lease",
            ["lease_expires_at"],
            unique=False,
            sqlite_where=sa.text("status = 'started'"),
            postgresql_where=sa.text("status = 'started'"),
        )
        batch_op.create_index(
            "ix_jobs_store_created", ["store_id", "created_at", "seq"], unique=False
        )
        batch_op.create_index(
            "uq_jobs_one_started_per_store",
            ["store_id"],
            unique=True,
            sqlite_where=sa.text("status = 'started'"),
            postgresql_where=sa.text("status = 'started'"),
        )

    op.create_table(
        "job_errors",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("job_seq", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=255), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_seq"], ["jobs.seq"], name=op.f("fk_job_errors_job_seq_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_errors")),
    )
    with op.batch_alter_table("job_errors", schema=None) as batch_op:
        batch_op.create_index("ix_job_errors_job", ["job_seq", "position"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_errors", schema=None) as batch_op:
        batch_op.drop_index("ix_job_errors_job")

    op.drop_table("job_errors")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_jobs_one_started_per_store",
            sqlite_where=sa.text("status = 'started'"),
            postgresql_where=sa.text("status = 'started'"),
        )
        batch_op.drop_index("ix_jobs_store_created")
        batch_op.drop_index(
            "ix_jobs_started_lease",
            sqlite_where=sa.text("status = 'started'"),
            postgresql_where=sa.text("status = 'started'"),
        )
        batch_op.drop_index(
            "ix_jobs_pending_line",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.drop_table("jobs")
    op.drop_table("blob_chunks")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("uq_products_store_slug")
        batch_op.drop_index("uq_products_store_sku")
        batch_op.drop_index("uq_products_store_external_ref")
        batch_op.drop_index("ix_products_store_created")

    op.drop_table("products")
    with op.batch_alter_table("job_lines", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_job_lines_head",
            sqlite_where=sa.text("head_seq IS NOT NULL"),
            postgresql_where=sa.text("head_seq IS NOT NULL"),
        )

    op.drop_table("job_lines")
    with op.batch_alter_table("blobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blobs_store_id"))
        batch_op.drop_index(batch_op.f("ix_blobs_expires_at"))

    op.drop_table("blobs")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_store_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_last_seen_at"))

    op.drop_table("workers")
    op.drop_table("stores")
    op.drop_table("service_secrets")
