"""child products: the options each child was built from, and when it became independent

Revision ID: 0013
Revises: 0012

Two nullable columns of `products`, set on children only, so a build of 10,000 children writes
10,000 rows and a rebuild reads what it needs with the children themselves. Added with plain
ALTER TABLE statements, as 0008 added its columns: a batch migration would rebuild `products`
on SQLite, and dropping the old table would cascade to its node links. Processes of the
earlier release run beside this one unchanged (they never set the columns).
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

import pxm_jobs.store.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("products", sa.Column("child_options", _json(), nullable=True))
    op.add_column(
        "products",
        sa.Column("independent_at", pxm_jobs.store.types.UtcDateTime(), nullable=True),
    )


def downgrade() -> None:
    # SQLite drops a column in place since 3.35, without rebuilding the table.
    op.drop_column("products", "independent_at")
    op.drop_column("products", "child_options")
