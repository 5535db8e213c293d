"""Set-based deletes of children a build no longer makes, and what stops them being deleted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import Connection, delete, select

from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.tables import product_components, products

IN_BUNDLE: Final = "in_bundle"
# Ids per statement: well under SQLite's limit on bound variables.
_BATCH: Final = 500


def delete_children(connection: Connection, store_id: str, child_ids: Sequence[str]) -> None:
    """Delete these children; the database removes their node links and facets with them."""
    for start in range(0, len(child_ids), _BATCH):
        connection.execute(
            delete(products).where(
                products.c.store_id == store_id,
                products.c.id.in_(child_ids[start : start + _BATCH]),
            )
        )


def in_bundles(connection: Connection, child_ids: Sequence[str]) -> list[JobErrorDetail]:
    """One problem per child to delete that a bundle offers: the bundle must let go first."""
    problems = []
    for start in range(0, len(child_ids), _BATCH):
        rows = connection.execute(
            select(product_components.c.product_id, product_components.c.bundle_id)
            .where(product_components.c.product_id.in_(child_ids[start : start + _BATCH]))
            .order_by(product_components.c.product_id, product_components.c.bundle_id)
        )
        for child_id, bundle_id in rows:
            problems.append(
                JobErrorDetail(
                    message=f"child product {child_id} is a component of bundle {bundle_id} "
                    "and this build would delete it; remove it from the bundle first",
                    code=IN_BUNDLE,
                    value=child_id,
                )
            )
    return problems
