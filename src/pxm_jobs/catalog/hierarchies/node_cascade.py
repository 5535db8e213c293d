"""Deleting subtrees of any depth with the database's ON DELETE CASCADE.

SQLite runs each level of a cascade as a nested trigger and gives up past 1,000 levels ("too
many levels of trigger recursion"). Before a subtree goes, its levels are cut from the bottom
in slices of `CASCADE_LEVELS_MAX`, so no single cascade runs deeper than that; a tree of usual
depth costs one recursive query and no extra delete.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import ColumnElement, Connection, delete, func, literal, select

from pxm_jobs.store.tables import nodes

CASCADE_LEVELS_MAX: Final = 500


def cut_deep_levels(connection: Connection, roots: ColumnElement[bool]) -> int:
    """Delete the levels of the subtrees under `roots` deeper than one cascade may reach.

    `roots` selects the top nodes of the subtrees about to be deleted. Returns how many
    levels were cut (0 for trees less than `CASCADE_LEVELS_MAX` deep).
    """
    subtree = (
        select(nodes.c.id, literal(0).label("depth")).where(roots).cte("subtree", recursive=True)
    )
    subtree = subtree.union_all(
        select(nodes.c.id, subtree.c.depth + 1).join(subtree, nodes.c.parent_id == subtree.c.id)
    )
    deepest = connection.execute(select(func.max(subtree.c.depth))).scalar() or 0
    cuts = range(deepest // CASCADE_LEVELS_MAX * CASCADE_LEVELS_MAX, 0, -CASCADE_LEVELS_MAX)
    for depth in cuts:
        level = select(subtree.c.id).where(subtree.c.depth == depth)
        connection.execute(delete(nodes).where(nodes.c.id.in_(level)))
    return len(cuts)
