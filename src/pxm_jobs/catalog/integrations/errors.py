"""What the catalog refuses about integrations.

Each docstring is the exception's short message; `detail` tells a person what to fix.
"""

from __future__ import annotations

from pxm_jobs.catalog.errors import CatalogError


class IntegrationNotFound(CatalogError):
    """The integration was not found."""


class InvalidIntegration(CatalogError):
    """A field of the integration has a value the catalog cannot take."""

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        super().__init__(f"{field}: {detail}")


class TargetRefused(CatalogError):
    """The webhook's URL may not be posted to."""
