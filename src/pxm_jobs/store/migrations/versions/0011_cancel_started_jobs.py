"""started jobs can be asked to stop: jobs.cancel_requested_at

Revision ID: 0011
Revises: 0006

With PXM_CANCEL_STARTED_JOBS on, a cancel of a started job records when it was asked; the job
keeps its `started` row (and with it the store's one-started-job rule) until it notices, rolls
its work back and ends `cancelled`. Processes of the previous release ignore the column.
"""

import sqlalchemy as sa
from alembic import op

from pxm_jobs.store.types import UtcDateTime

revision = "0011"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("cancel_requested_at", UtcDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("cancel_requested_at")
