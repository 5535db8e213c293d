"""the whole product: bundles, custom inputs, build rules, attributes, children, references

Revision ID: 0008
Revises: 0011

Products gain the JSON columns of Elastic Path's product schema and a `parent_id` for children
built from variations. Beside them: which products a bundle's components offer (so a product
in a bundle cannot be deleted), the ids a product keeps of files, templates and variations, and
an index of the values inside the JSON columns that filters look up.

On SQLite the new columns are added with plain ALTER TABLE statements: a batch migration
would rebuild `products`, and dropping the old table would cascade to its node links. For the
same reason `parent_id` has no foreign key: deleting a base product deletes its children in
the catalog's own statement.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0011"
branch_labels = None
depends_on = None

JSON_COLUMNS = (
    "custom_inputs",
    "build_rules",
    "components",
    "shopper_attributes",
    "admin_attributes",
)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    for name in JSON_COLUMNS:
        op.add_column("products", sa.Column(name, _json(), nullable=True))
    op.add_column("products", sa.Column("parent_id", sa.String(length=36), nullable=True))
    op.create_index("ix_products_parent", "products", ["parent_id"])
    op.create_table(
        "product_components",
        sa.Column("bundle_id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"],
            ["products.id"],
            name="fk_product_components_bundle_id_products",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name="fk_product_components_product_id_products"
        ),
        sa.PrimaryKeyConstraint("bundle_id", "product_id", name="pk_product_components"),
    )
    op.create_index("ix_product_components_product", "product_components", ["product_id"])
    op.create_table(
        "product_references",
        sa.Column("product_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("meta", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name="fk_product_references_product_id_products",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "kind", "target_id", name="pk_product_references"),
    )
    op.create_table(
        "product_facets",
        sa.Column("product_id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("facet", sa.String(length=1100), nullable=False),
        sa.Column("value", sa.String(length=1100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name="fk_product_facets_product_id_products",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_product_facets_lookup",
        "product_facets",
        ["store_id", "facet", "value", "created_at", "product_id"],
    )
    op.create_index("ix_product_facets_product", "product_facets", ["product_id"])
    _index_existing_tags()


def _index_existing_tags() -> None:
    """Products imported before this revision have tags; filters now find them through facets."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "INSERT INTO product_facets (product_id, store_id, facet, value, created_at) "
            "SELECT DISTINCT p.id, p.store_id, 'tags', t.value, p.created_at FROM products p, "
            "jsonb_array_elements_text(CASE WHEN jsonb_typeof(p.tags) = 'array' "
            "THEN p.tags ELSE '[]'::jsonb END) AS t(value)"
        )
    else:
        op.execute(
            "INSERT INTO product_facets (product_id, store_id, facet, value, created_at) "
            "SELECT DISTINCT p.id, p.store_id, 'tags', t.value, p.created_at FROM products p, "
            "json_each(CASE WHEN json_type(p.tags) = 'array' THEN p.tags ELSE '[]' END) AS t"
        )


def downgrade() -> None:
    op.drop_index("ix_product_facets_product", table_name="product_facets")
    op.drop_index("ix_product_facets_lookup", table_name="product_facets")
    op.drop_table("product_facets")
    op.drop_table("product_references")
    op.drop_index("ix_product_components_product", table_name="product_components")
    op.drop_table("product_components")
    op.drop_index("ix_products_parent", table_name="products")
    op.drop_column("products", "parent_id")
    for name in reversed(JSON_COLUMNS):
        op.drop_column("products", name)
