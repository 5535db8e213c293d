"""What the catalog refuses about hierarchies, nodes and their product links.

Each docstring is the exception's short message; `detail` tells a person what to fix.
"""

from __future__ import annotations

from collections.abc import Sequence

from pxm_jobs.catalog.errors import CatalogError


class HierarchyNotFound(CatalogError):
    """The hierarchy was not found."""


class NodeNotFound(CatalogError):
    """The node was not found."""


class InvalidCatalogField(CatalogError):
    """A field has a value the catalog cannot take."""

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        super().__init__(detail)


class ParentNotFound(CatalogError):
    """The parent node is not in this hierarchy."""

    def __init__(self, parent_id: str) -> None:
        self.parent_id = parent_id
        super().__init__(
            f"parent node {parent_id} is not a node of this hierarchy; "
            "give the id of a node in the same hierarchy"
        )


class NodeCycle(CatalogError):
    """A node cannot be its own ancestor."""

    def __init__(self, node_id: str, parent_id: str) -> None:
        self.node_id = node_id
        self.parent_id = parent_id
        if node_id == parent_id:
            detail = "a node cannot be its own parent"
        else:
            detail = (
                f"node {parent_id} is below node {node_id} in the tree, so it cannot become its "
                "parent; move it elsewhere first"
            )
        super().__init__(detail)


class SiblingConflict(CatalogError):
    """A sibling node already has this name or slug."""

    def __init__(self, field: str, value: str, sibling_id: str) -> None:
        self.field = field
        self.value = value
        self.sibling_id = sibling_id
        super().__init__(
            f"sibling node {sibling_id} already has the {field} {value!r}; "
            f"{field}s must be unique among nodes with the same parent"
        )


class UnknownProducts(CatalogError):
    """Some products do not exist in this store."""

    def __init__(self, product_ids: Sequence[str]) -> None:
        self.product_ids = list(product_ids)
        super().__init__(
            "no product with id " + ", ".join(self.product_ids) + " in this store; "
            "nothing was linked"
        )


class ChildNotFound(CatalogError):
    """A child node is not in this hierarchy."""

    def __init__(self, child_id: str) -> None:
        self.child_id = child_id
        super().__init__(
            f"node {child_id} is not a node of this hierarchy; give ids of nodes in the same "
            "hierarchy as the parent"
        )
