"""Alembic environment: runs on the connection that `pxm_jobs.store.migrate` hands over."""

from alembic import context

from pxm_jobs.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
