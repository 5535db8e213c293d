"""one job per transaction: no round functions, lines point at a store's front job, heartbeats

Revision ID: 0006
Revises: 0005

Workers run one job per transaction, with statements sent from Python on both databases, so the
PostgreSQL functions of revisions 0004 and 0005 go. A store's line now points at its front job:
the started one if any, else the earliest pending one; claims then never move a line. A job is
kept by its worker's heartbeat (`workers.last_seen_at`), not by a lease of its own, so the lease
column and its index go too.

Upgrading: stop every process of the earlier release first. Its workers call the functions this
revision drops, and its processes read the lease column.
"""

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS pxm_jobs_round;
DROP FUNCTION IF EXISTS pxm_jobs_chain_step;
DROP FUNCTION IF EXISTS pxm_jobs_record_successes;
"""

# Frozen here as of this revision: a line's front job, started first, else earliest pending.
POINT_AT_FRONT = """
UPDATE job_lines SET
    head_seq = COALESCE(
        (SELECT seq FROM jobs WHERE jobs.store_id = job_lines.store_id AND status = 'started'),
        (SELECT seq FROM jobs WHERE jobs.store_id = job_lines.store_id AND status = 'pending'
         ORDER BY created_at, seq LIMIT 1)),
    head_created_at = COALESCE(
        (SELECT created_at FROM jobs
         WHERE jobs.store_id = job_lines.store_id AND status = 'started'),
        (SELECT created_at FROM jobs WHERE jobs.store_id = job_lines.store_id
         AND status = 'pending' ORDER BY created_at, seq LIMIT 1))
"""

# As revision 0005 left them: a line points at its earliest pending job.
POINT_AT_EARLIEST_PENDING = """
UPDATE job_lines SET
    head_seq = (SELECT seq FROM jobs WHERE jobs.store_id = job_lines.store_id
                AND status = 'pending' ORDER BY created_at, seq LIMIT 1),
    head_created_at = (SELECT created_at FROM jobs WHERE jobs.store_id = job_lines.store_id
                       AND status = 'pending' ORDER BY created_at, seq LIMIT 1)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_FUNCTIONS)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_jobs_started_lease",
            sqlite_where=sa.text("status = 'started'"),
            postgresql_where=sa.text("status = 'started'"),
        )
        batch_op.drop_column("lease_expires_at")
    op.execute(POINT_AT_FRONT)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            "ix_jobs_started_lease",
            ["lease_expires_at"],
            unique=False,
            sqlite_where=sa.text("status = 'started'"),
            postgresql_where=sa.text("status = 'started'"),
        )
    # A lapsed lease: the earlier release's workers take started jobs back and run them again.
    op.execute("UPDATE jobs SET lease_expires_at = updated_at WHERE status = 'started'")
    op.execute(POINT_AT_EARLIEST_PENDING)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_revision("0004_round_function").ROUND_FUNCTION)
        op.execute(_revision("0005_chained_runs").FUNCTIONS)


def _revision(name: str) -> ModuleType:
    """An earlier revision's module (its name is no identifier, so it cannot be imported)."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"pxm_jobs_migration_{name[:4]}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
