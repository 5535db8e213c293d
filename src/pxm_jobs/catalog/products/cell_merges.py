"""What an import row's cells make of a product's maps: its custom data (`template:` columns)
and its shopper and admin attributes (`shopper_attributes.<key>` columns).
"""

from __future__ import annotations

from pxm_jobs.catalog.products.csv_format import REMOVE_ATTRIBUTE
from pxm_jobs.catalog.products.queries import Product


def merge_keyed_cells(
    target: Product | None, cells: list[tuple[str, str, str]]
) -> dict[str, dict[str, str]]:
    """The product's shopper and admin attributes after a row's keyed cells: only the keys
    present change; `__REMOVE_ATTRIBUTE__` removes one, an empty cell is an empty string.
    """
    merged: dict[str, dict[str, str]] = {}
    for column, key, cell in cells:
        if column not in merged:
            current = getattr(target, column) if target is not None else None
            merged[column] = dict(current or {})
        if cell == REMOVE_ATTRIBUTE:
            merged[column].pop(key, None)
        else:
            merged[column][key] = cell
    return merged


def merge_templates(
    current: dict[str, dict[str, str]] | None, cells: list[tuple[str, str, str | None]] | None
) -> dict[str, dict[str, str]] | None:
    """Template data after applying a row's template cells; a blank cell removes the field."""
    merged = {template: dict(fields) for template, fields in (current or {}).items()}
    for template, field, value in cells or ():
        if value is None:
            merged.get(template, {}).pop(field, None)
        else:
            merged.setdefault(template, {})[field] = value
    merged = {template: fields for template, fields in merged.items() if fields}
    return merged or None
