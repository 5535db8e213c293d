"""price books, their prices and their price modifiers

Revision ID: 0009
Revises: 0008

Jobs of the price book import are now spelled `pricebook-import`, as Elastic Path spells them;
any job queued under the older `price-import` is renamed with them.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import pxm_jobs.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def _owned(table: str, *, by_book: bool) -> list[sa.Column[Any] | sa.Constraint]:
    """The key, the timestamps and the foreign keys every price book table has."""
    items: list[sa.Column[Any] | sa.Constraint] = [
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
    if by_book:
        items.append(
            sa.ForeignKeyConstraint(
                ["pricebook_id"],
                ["pricebooks.id"],
                name=op.f(f"fk_{table}_pricebook_id_pricebooks"),
                ondelete="CASCADE",
            )
        )
    return items


def upgrade() -> None:
    op.create_table(
        "pricebooks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("external_ref", sa.String(length=2048), nullable=True),
        *_owned("pricebooks", by_book=False),
    )
    with op.batch_alter_table("pricebooks", schema=None) as batch_op:
        batch_op.create_index("uq_pricebooks_store_name", ["store_id", "name"], unique=True)
        batch_op.create_index(
            "uq_pricebooks_store_external_ref", ["store_id", "external_ref"], unique=True
        )
        batch_op.create_index(
            "ix_pricebooks_store_created", ["store_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "prices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("pricebook_id", sa.String(length=36), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("external_ref", sa.String(length=2048), nullable=True),
        sa.Column("currencies", _json(), nullable=False),
        sa.Column("sales", _json(), nullable=True),
        sa.Column("admin_attributes", _json(), nullable=True),
        sa.Column("shopper_attributes", _json(), nullable=True),
        *_owned("prices", by_book=True),
    )
    with op.batch_alter_table("prices", schema=None) as batch_op:
        batch_op.create_index("uq_prices_pricebook_sku", ["pricebook_id", "sku"], unique=True)
        batch_op.create_index(
            "uq_prices_pricebook_external_ref", ["pricebook_id", "external_ref"], unique=True
        )
        batch_op.create_index(
            "ix_prices_pricebook_created", ["pricebook_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_prices_store_created", ["store_id", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_prices_store_sku", ["store_id", "sku"], unique=False)

    op.create_table(
        "price_modifiers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("pricebook_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("modifier_type", sa.String(length=32), nullable=False),
        sa.Column("external_ref", sa.String(length=2048), nullable=True),
        sa.Column("currencies", _json(), nullable=False),
        *_owned("price_modifiers", by_book=True),
    )
    with op.batch_alter_table("price_modifiers", schema=None) as batch_op:
        batch_op.create_index(
            "uq_price_modifiers_pricebook_name", ["pricebook_id", "name"], unique=True
        )
        batch_op.create_index(
            "uq_price_modifiers_pricebook_external_ref",
            ["pricebook_id", "external_ref"],
            unique=True,
        )
        batch_op.create_index(
            "ix_price_modifiers_pricebook_created",
            ["pricebook_id", "created_at", "id"],
            unique=False,
        )

    op.execute("UPDATE jobs SET type = 'pricebook-import' WHERE type = 'price-import'")


def downgrade() -> None:
    op.execute("UPDATE jobs SET type = 'price-import' WHERE type = 'pricebook-import'")
    op.drop_table("price_modifiers")
    op.drop_table("prices")
    op.drop_table("pricebooks")
