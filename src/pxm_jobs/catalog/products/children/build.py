"""Building a base product's children: read, decide, check, then write in a few statements.

Everything is decided before anything is written: the combinations the build rules keep, each
child's values, the plan against the children there are (see `plan`), and every clash of a
SKU, slug or external ref (see `uniqueness`). Only then the writes: deletes and updates in
batches, new children by the products' bulk insert (COPY on PostgreSQL). The caller owns the
transaction, so a build commits whole, with its job's success, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from pxm_jobs.catalog.errors import ChildrenRejected, ProductNotFound
from pxm_jobs.catalog.products.children.build_rules import BuildRulesRejected, select_combinations
from pxm_jobs.catalog.products.children.matrix import Combination, VariationLike
from pxm_jobs.catalog.products.children.modifiers import (
    INHERITED,
    apply_modifiers,
    inherited_values,
    option_effect,
)
from pxm_jobs.catalog.products.children.plan import (
    BuildPlan,
    ExistingChild,
    WantedChild,
    plan_build,
)
from pxm_jobs.catalog.products.children.uniqueness import (
    UNIQUE_VALUES,
    clashes_with_store,
    duplicates_among,
    values_to_check,
)
from pxm_jobs.catalog.products.children.writes import delete_children, in_bundles
from pxm_jobs.catalog.products.product_ids import new_product_ids
from pxm_jobs.catalog.products.queries import (
    Product,
    find_product_ids_by,
    insert_products,
    update_products,
)
from pxm_jobs.catalog.products.rule_basics import ProductLimits
from pxm_jobs.catalog.variations import variation_matrix_inputs
from pxm_jobs.job_errors import JobErrorDetail
from pxm_jobs.store.tables import products

# Children written per statement batch, between progress reports.
WRITE_BATCH: Final = 2_000
NOT_A_BASE = "not_a_base_product"
CONFLICT = "conflict"
# The columns a rebuild refreshes on a child that keeps its id.
_REFRESHED: Final = (*INHERITED, "external_ref", "build_rules")

ProgressReport = Callable[[int, int | None], None]


@dataclass(frozen=True)
class BuildResult:
    created: int
    updated: int
    unchanged: int
    deleted: int
    independent: int


def build_children(
    connection: Connection,
    store_id: str,
    product_id: str,
    *,
    limits: ProductLimits,
    now: datetime,
    report_progress: ProgressReport | None = None,
) -> BuildResult:
    """Create, refresh and delete the product's children so that they are its combinations.

    Raises ProductNotFound, or ChildrenRejected listing every problem (nothing written).
    """
    base = _lock_base(connection, store_id, product_id)
    variations = variation_matrix_inputs(connection, store_id, product_id)
    try:
        combinations = select_combinations(variations, base.build_rules)
    except BuildRulesRejected as rejected:
        raise ChildrenRejected(rejected.errors) from None
    wanted, problems = _wanted_children(base, variations, combinations, limits)
    existing = _existing_children(connection, store_id, product_id)
    plan = plan_build(
        [variation.id for variation in variations],
        wanted,
        [_as_existing(child) for child in existing],
    )
    by_id = {child.id: child for child in existing}
    refresh = [
        (child_id, child)
        for child_id, child in plan.update
        if by_id[child_id].values != _chosen(child)
    ]
    problems += _clashes(connection, store_id, plan)
    problems += in_bundles(connection, plan.delete)
    if problems:
        raise ChildrenRejected(problems)
    # Progress counts the children this build makes: those it leaves as they are are done.
    unchanged = len(plan.update) - len(refresh)
    total = len(plan.create) + len(plan.update)
    if report_progress is not None:
        report_progress(unchanged, total)
    try:
        with connection.begin_nested():
            delete_children(connection, store_id, plan.delete)
            _refresh_children(
                connection, store_id, refresh, by_id, now, report_progress, unchanged, total
            )
            _create_children(
                connection,
                store_id,
                base,
                plan.create,
                now,
                report_progress,
                unchanged + len(refresh),
                total,
            )
    except IntegrityError:
        message = "products changed while the children were built; build them again"
        raise ChildrenRejected([JobErrorDetail(message=message, code=CONFLICT)]) from None
    return BuildResult(
        created=len(plan.create),
        updated=len(refresh),
        unchanged=unchanged,
        deleted=len(plan.delete),
        independent=len(plan.independent),
    )


def _lock_base(connection: Connection, store_id: str, product_id: str) -> Product:
    """The base product, locked so that it does not change while its children are built."""
    row = (
        connection.execute(
            select(products)
            .where(products.c.store_id == store_id, products.c.id == product_id)
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ProductNotFound()
    base = Product.from_row(row)
    if base.parent_id is not None:
        message = (
            f"product {product_id} is a child of product {base.parent_id}; build the children "
            "of its base product instead"
        )
        raise ChildrenRejected([JobErrorDetail(message=message, code=NOT_A_BASE)])
    return base


def _wanted_children(
    base: Product,
    variations: Sequence[VariationLike],
    combinations: Sequence[Combination],
    limits: ProductLimits,
) -> tuple[list[WantedChild], list[JobErrorDetail]]:
    inherited = inherited_values(base.__dict__)
    # An option is part of many children: sort its modifiers out once.
    effects = {
        option.id: option_effect(option.modifiers)
        for variation in variations
        for option in variation.options
    }
    variation_ids = [variation.id for variation in variations]
    variation_names = [variation.name for variation in variations]
    wanted = []
    problems: list[JobErrorDetail] = []
    for combination in combinations:
        label = ", ".join(
            f"{name} {option.name}"
            for name, option in zip(variation_names, combination, strict=True)
        )
        child = apply_modifiers(
            inherited, [effects[option.id] for option in combination], limits, label
        )
        problems += child.problems
        options = {
            variation_id: option.id
            for variation_id, option in zip(variation_ids, combination, strict=True)
        }
        wanted.append(WantedChild(options, child.values, label))
    return wanted, problems


@dataclass(frozen=True)
class _Child:
    """What a rebuild reads of a child: whom it was built from and what it holds now."""

    id: str
    child_options: dict[str, str] | None
    independent: bool
    values: dict[str, Any]


def _existing_children(connection: Connection, store_id: str, product_id: str) -> list[_Child]:
    columns = [products.c[name] for name in _REFRESHED]
    rows = connection.execute(
        select(
            products.c.id,
            products.c.child_options,
            products.c.independent_at.is_not(None).label("independent"),
            *columns,
        )
        .where(products.c.store_id == store_id, products.c.parent_id == product_id)
        # A child updated directly meanwhile would be overwritten: its update waits instead,
        # and finds it rebuilt.
        .with_for_update()
    )
    return [
        _Child(row[0], row[1], bool(row[2]), dict(zip(_REFRESHED, row[3:], strict=True)))
        for row in rows
    ]


def _as_existing(child: _Child) -> ExistingChild:
    return ExistingChild(child.id, child.child_options or {}, child.independent)


def _chosen(child: WantedChild) -> dict[str, Any]:
    return {name: child.values.get(name) for name in _REFRESHED}


def _changed(current: _Child, child: WantedChild) -> dict[str, Any]:
    """Only the columns that change: a rename of the base product writes names alone, and
    leaves the children's facet rows as they are."""
    return {name: value for name, value in _chosen(child).items() if current.values[name] != value}


def _clashes(connection: Connection, store_id: str, plan: BuildPlan) -> list[JobErrorDetail]:
    holders = values_to_check([*plan.create, *(child for _, child in plan.update)])
    problems = duplicates_among(holders)
    taken = {
        name: find_product_ids_by(connection, store_id, name, list(holders[name]))
        for name in UNIQUE_VALUES
    }
    released = {*plan.delete, *(child_id for child_id, _ in plan.update)}
    return problems + clashes_with_store(holders, taken, released)


def _refresh_children(
    connection: Connection,
    store_id: str,
    refresh: Sequence[tuple[str, WantedChild]],
    by_id: dict[str, _Child],
    now: datetime,
    report_progress: ProgressReport | None,
    done: int,
    total: int,
) -> None:
    """Give children that keep their ids their new values, in one executemany per batch.

    A child may take a SKU or slug another child gives up in the same rebuild: those values
    are first set aside (slug `~<id>`, which no product can have, SKU and ref NULL), so no
    row ever holds a value a row not yet updated still has.
    """
    moving = [
        child_id
        for child_id, child in refresh
        if any(by_id[child_id].values[name] != child.values.get(name) for name in UNIQUE_VALUES)
    ]
    for start in range(0, len(moving), WRITE_BATCH):
        batch = moving[start : start + WRITE_BATCH]
        connection.execute(
            update(products)
            .where(products.c.store_id == store_id, products.c.id.in_(batch))
            .values(slug="~" + products.c.id, sku=None, external_ref=None)
        )
    for start in range(0, len(refresh), WRITE_BATCH):
        changes = refresh[start : start + WRITE_BATCH]
        update_products(
            connection,
            store_id,
            [
                {**_changed(by_id[child_id], child), "id": child_id, "updated_at": now}
                for child_id, child in changes
            ],
        )
        if report_progress is not None:
            report_progress(done + start + len(changes), total)


def _create_children(
    connection: Connection,
    store_id: str,
    base: Product,
    create: Sequence[WantedChild],
    now: datetime,
    report_progress: ProgressReport | None,
    done: int,
    total: int,
) -> None:
    ids = new_product_ids(len(create))
    for start in range(0, len(create), WRITE_BATCH):
        batch = create[start : start + WRITE_BATCH]
        insert_products(
            connection,
            [
                {
                    **child.values,
                    "id": child_id,
                    "store_id": store_id,
                    "parent_id": base.id,
                    "child_options": dict(child.options),
                    "created_at": now,
                    "updated_at": now,
                }
                for child_id, child in zip(ids[start : start + len(batch)], batch, strict=True)
            ],
        )
        if report_progress is not None:
            report_progress(done + start + len(batch), total)
