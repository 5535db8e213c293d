"""hierarchies, nodes and node-product links

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import pxm_jobs.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hierarchies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("slug", sa.String(length=255), nullable=True),
        sa.Column(
            "locales",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_hierarchies_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hierarchies")),
    )
    with op.batch_alter_table("hierarchies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hierarchies_store_created", ["store_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "nodes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("hierarchy_id", sa.String(length=36), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("slug", sa.String(length=255), nullable=True),
        sa.Column(
            "locales",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("sort_order", sa.Integer(), nullable=True),
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hierarchy_id"],
            ["hierarchies.id"],
            name=op.f("fk_nodes_hierarchy_id_hierarchies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["nodes.id"], name=op.f("fk_nodes_parent_id_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_nodes_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nodes")),
    )
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nodes_hierarchy_created", ["hierarchy_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "uq_nodes_sibling_name",
            ["parent_id", "name"],
            unique=True,
            sqlite_where=sa.text("parent_id IS NOT NULL"),
            postgresql_where=sa.text("parent_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_nodes_sibling_slug",
            ["parent_id", "slug"],
            unique=True,
            sqlite_where=sa.text("parent_id IS NOT NULL"),
            postgresql_where=sa.text("parent_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_nodes_top_level_name",
            ["hierarchy_id", "name"],
            unique=True,
            sqlite_where=sa.text("parent_id IS NULL"),
            postgresql_where=sa.text("parent_id IS NULL"),
        )
        batch_op.create_index(
            "uq_nodes_top_level_slug",
            ["hierarchy_id", "slug"],
            unique=True,
            sqlite_where=sa.text("parent_id IS NULL"),
            postgresql_where=sa.text("parent_id IS NULL"),
        )

    op.create_table(
        "node_products",
        sa.Column("node_id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["nodes.id"],
            name=op.f("fk_node_products_node_id_nodes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_node_products_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("node_id", "product_id", name=op.f("pk_node_products")),
    )
    with op.batch_alter_table("node_products", schema=None) as batch_op:
        batch_op.create_index("ix_node_products_product", ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("node_products", schema=None) as batch_op:
        batch_op.drop_index("ix_node_products_product")

    op.drop_table("node_products")
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_nodes_top_level_slug",
            sqlite_where=sa.text("parent_id IS NULL"),
            postgresql_where=sa.text("parent_id IS NULL"),
        )
        batch_op.drop_index(
            "uq_nodes_top_level_name",
            sqlite_where=sa.text("parent_id IS NULL"),
            postgresql_where=sa.text("parent_id IS NULL"),
        )
        batch_op.drop_index(
            "uq_nodes_sibling_slug",
            sqlite_where=sa.text("parent_id IS NOT NULL"),
            postgresql_where=sa.text("parent_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_nodes_sibling_name",
            sqlite_where=sa.text("parent_id IS NOT NULL"),
            postgresql_where=sa.text("parent_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_nodes_hierarchy_created")

    op.drop_table("nodes")
    with op.batch_alter_table("hierarchies", schema=None) as batch_op:
        batch_op.drop_index("ix_hierarchies_store_created")

    op.drop_table("hierarchies")
