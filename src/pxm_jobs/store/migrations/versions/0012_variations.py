"""variations, their options and modifiers, and the variations a base product names

Revision ID: 0012
Revises: 0010

New tables only: processes of the earlier release run beside this one unchanged. Products kept
the ids of the variations they named in `product_references` (kind `variation`) while the
service had no variations; those rows stay where they are (they name nothing that exists here,
and a step back to 0010 finds them as they were), and `product_variations` is what names a
variation from now on.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import pxm_jobs.store.types

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def _owned(table: str) -> list[sa.Column[Any] | sa.Constraint]:
    """The key, the store and the timestamps every variation table has."""
    return [
        sa.Column("created_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", pxm_jobs.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f(f"fk_{table}_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "variations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=True),
        *_owned("variations"),
    )
    with op.batch_alter_table("variations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_variations_store_created", ["store_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "variation_options",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("variation_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=True),
        *_owned("variation_options"),
        sa.ForeignKeyConstraint(
            ["variation_id"],
            ["variations.id"],
            name=op.f("fk_variation_options_variation_id_variations"),
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("variation_options", schema=None) as batch_op:
        batch_op.create_index("ix_variation_options_variation_id", ["variation_id"], unique=False)

    op.create_table(
        "variation_modifiers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("option_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("value", _json(), nullable=True),
        sa.Column("seek", sa.Text(), nullable=True),
        sa.Column("set", sa.Text(), nullable=True),
        sa.Column("reference_name", sa.Text(), nullable=True),
        *_owned("variation_modifiers"),
        sa.ForeignKeyConstraint(
            ["option_id"],
            ["variation_options.id"],
            name=op.f("fk_variation_modifiers_option_id_variation_options"),
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("variation_modifiers", schema=None) as batch_op:
        batch_op.create_index(
            "uq_variation_modifiers_option_type", ["option_id", "type"], unique=True
        )

    op.create_table(
        "product_variations",
        sa.Column("product_id", sa.String(length=36), nullable=False),
        sa.Column("variation_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_variations_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variation_id"],
            ["variations.id"],
            name=op.f("fk_product_variations_variation_id_variations"),
        ),
        sa.PrimaryKeyConstraint("product_id", "variation_id", name=op.f("pk_product_variations")),
    )
    with op.batch_alter_table("product_variations", schema=None) as batch_op:
        batch_op.create_index("ix_product_variations_variation_id", ["variation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_variations", schema=None) as batch_op:
        batch_op.drop_index("ix_product_variations_variation_id")
    op.drop_table("product_variations")
    with op.batch_alter_table("variation_modifiers", schema=None) as batch_op:
        batch_op.drop_index("uq_variation_modifiers_option_type")
    op.drop_table("variation_modifiers")
    with op.batch_alter_table("variation_options", schema=None) as batch_op:
        batch_op.drop_index("ix_variation_options_variation_id")
    op.drop_table("variation_options")
    with op.batch_alter_table("variations", schema=None) as batch_op:
        batch_op.drop_index("ix_variations_store_created")
    op.drop_table("variations")
