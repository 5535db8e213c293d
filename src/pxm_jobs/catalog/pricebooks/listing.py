"""Filter terms of the price book lists as SQL conditions; every value is a bound parameter."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Table

from pxm_jobs.catalog.errors import InvalidFilter
from pxm_jobs.catalog.filters import GT, IN, LIKE, LT, FilterTerm
from pxm_jobs.catalog.products.product_filter import like_pattern

TIME_ATTRIBUTES = frozenset({"created_at", "updated_at"})


def check_operators(terms: list[FilterTerm], allowed: dict[str, tuple[str, ...]]) -> None:
    """Refuse a term whose operator its attribute does not take, saying which it does."""
    for term in terms:
        operators = allowed[term.attribute]
        if term.operator not in operators:
            raise InvalidFilter(
                f"{term.operator} cannot be used on {term.attribute}; use " + " or ".join(operators)
            )
        if term.attribute in TIME_ATTRIBUTES:
            read_moment(term)


def filter_condition(table: Table, term: FilterTerm) -> ColumnElement[bool]:
    column = table.c[term.attribute]
    if term.operator == LIKE:
        return column.ilike(like_pattern(term.values[0]), escape="\\")
    if term.operator == GT:
        return column > read_moment(term)
    if term.operator == LT:
        return column < read_moment(term)
    if term.operator == IN or len(term.values) > 1:
        return column.in_(term.values)
    return column == term.values[0]


def read_moment(term: FilterTerm) -> datetime:
    (value,) = term.values
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidFilter(
            f"{term.operator}({term.attribute},...) needs a timestamp such as "
            f"2024-01-05T13:46:41.695Z, got {value!r}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
