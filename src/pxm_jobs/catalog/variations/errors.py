"""What the catalog refuses about variations, their options and modifiers, and the variations
a product names. Each docstring is the short message; `detail` tells a person what to fix."""

from __future__ import annotations

from collections.abc import Sequence

from pxm_jobs.catalog.errors import CatalogError

_SHOWN_IDS = 10


def _listed(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_SHOWN_IDS])
    more = len(ids) - _SHOWN_IDS
    return shown + (f" and {more} more" if more > 0 else "")


class VariationNotFound(CatalogError):
    """The variation was not found."""


class OptionNotFound(CatalogError):
    """The variation option was not found."""


class ModifierNotFound(CatalogError):
    """The modifier was not found."""


class InvalidVariationField(CatalogError):
    """A field has a value the catalog cannot take."""

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        super().__init__(detail)


class ModifierTypeTaken(CatalogError):
    """The option already has a modifier of this type."""

    def __init__(self, modifier_type: str, holder_id: str) -> None:
        self.modifier_type = modifier_type
        super().__init__(
            f"this option already has a {modifier_type} modifier ({holder_id}); an option has "
            "one modifier of each type: change that one with PUT, or delete it first"
        )


class VariationInUse(CatalogError):
    """The variation is in use by products."""

    def __init__(self, product_ids: Sequence[str], what: str = "variation") -> None:
        self.product_ids = list(product_ids)
        super().__init__(
            f"this {what} is in use: products {_listed(self.product_ids)} name its variation; "
            "remove the variation from them first (DELETE "
            "/pcm/products/{id}/relationships/variations)"
        )


class UnknownVariations(CatalogError):
    """Some variations named are not variations of this store."""

    def __init__(self, variation_ids: Sequence[str]) -> None:
        self.variation_ids = list(variation_ids)
        super().__init__(
            f"no variation {_listed(self.variation_ids)} in this store; give the ids of "
            "existing variations (GET /pcm/variations lists them)"
        )
