"""Which columns a product export writes when it is asked for some: checked at request time,
expanded when the job runs (wildcards become the keys the exported products have).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from pxm_jobs.catalog.errors import InvalidExportColumns
from pxm_jobs.catalog.products.csv_format import (
    ATTRIBUTE_COLUMNS,
    ID_COLUMN,
    TEMPLATE_PREFIX,
    canonical_header,
    split_keyed_header,
)

CREATED_AT_COLUMN: Final = "_created_at"
UPDATED_AT_COLUMN: Final = "_updated_at"
TIMESTAMP_COLUMNS: Final = (CREATED_AT_COLUMN, UPDATED_AT_COLUMN)
# Database columns in the order an export writes them; keyed, template and timestamps follow.
EXPORT_ROW_COLUMNS: Final = (ID_COLUMN, *ATTRIBUTE_COLUMNS)
# Always written, whatever columns are asked for, so that the file imports back (as in EP).
ALWAYS_EXPORTED: Final = ("id", "external_ref", "name", "commodity_type", "sku")
_ROW_COLUMNS = EXPORT_ROW_COLUMNS


def check_export_columns(columns: Iterable[str]) -> tuple[str, ...] | None:
    """The columns asked for, in their order, each once; None (every column) for none.

    `shopper_attributes.*`, `admin_attributes.*` and `template:*` stand for every key (or
    field) the exported products have; a wildcard and single keys of its kind are refused
    together, as one of them would be pointless.
    """
    known = set(_ROW_COLUMNS) | set(TIMESTAMP_COLUMNS)
    chosen: dict[str, None] = {}
    for given in columns:
        column = canonical_header(given.strip())
        if column not in known and _column_kind(column) is None:
            raise InvalidExportColumns(
                f"unknown export column {given!r}; use any of "
                + ", ".join((*_ROW_COLUMNS, *TIMESTAMP_COLUMNS))
                + ", shopper_attributes.<key>, admin_attributes.<key>, "
                "template:<template>:<field>, or the wildcards shopper_attributes.*, "
                "admin_attributes.* and template:*"
            )
        chosen[column] = None
    for kind, wildcard in _WILDCARDS.items():
        singles = [c for c in chosen if c != wildcard and _column_kind(c) == kind]
        if wildcard in chosen and singles:
            raise InvalidExportColumns(
                f"columns {wildcard} and {singles[0]} overlap; ask for {wildcard} alone or "
                "for single keys alone"
            )
    return tuple(chosen) or None


# The wildcard of each kind of column that holds a map's keys.
_WILDCARDS = {
    "shopper_attributes": "shopper_attributes.*",
    "admin_attributes": "admin_attributes.*",
    "template": "template:*",
}


def _column_kind(column: str) -> str | None:
    """`template`, `shopper_attributes` or `admin_attributes` for their columns, else None."""
    if column == _WILDCARDS["template"] or _is_template_column(column):
        return "template"
    keyed = split_keyed_header(column)
    return keyed[0] if keyed is not None else None


def expand_columns(
    columns: Sequence[str],
    templates: Sequence[tuple[str, str]],
    keyed: Mapping[str, Sequence[str]],
) -> list[str]:
    """The columns to write: the five an import needs first (where not asked for), then the
    ones asked for, wildcards replaced by what the exported products have.
    """
    expanded: dict[str, None] = {
        column: None for column in ALWAYS_EXPORTED if column not in columns
    }
    for column in columns:
        if column == _WILDCARDS["template"]:
            expanded.update(
                (f"{TEMPLATE_PREFIX}{template}:{field}", None) for template, field in templates
            )
        elif column in (_WILDCARDS["shopper_attributes"], _WILDCARDS["admin_attributes"]):
            kind = column.split(".", 1)[0]
            expanded.update((f"{kind}.{key}", None) for key in keyed[kind])
        else:
            expanded[column] = None
    return list(expanded)


def _is_template_column(column: str) -> bool:
    parts = column.split(":", 2)
    return column.startswith(TEMPLATE_PREFIX) and len(parts) == 3 and all(parts[1:])


def keyed_fields(columns: Iterable[str]) -> list[tuple[str, str]]:
    return [found for column in columns if (found := split_keyed_header(column)) is not None]


def template_fields(columns: Iterable[str]) -> list[tuple[str, str]]:
    fields = []
    for column in columns:
        if _is_template_column(column):
            _, template, field = column.split(":", 2)
            fields.append((template, field))
    return fields
