"""What the catalog refuses about price books, their prices and their modifiers.

Each docstring is the exception's short message; `detail` tells a person what to fix.
"""

from __future__ import annotations

from collections.abc import Sequence

from pxm_jobs.catalog.errors import CatalogError
from pxm_jobs.job_errors import JobErrorDetail


class PricebookNotFound(CatalogError):
    """The price book was not found."""


class PriceNotFound(CatalogError):
    """The price was not found."""


class ModifierNotFound(CatalogError):
    """The price modifier was not found."""


class PricebookRejected(CatalogError):
    """The values break the price book rules; nothing was written."""

    def __init__(self, problems: Sequence[JobErrorDetail]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(problem.message for problem in self.problems))


class AlreadyExists(CatalogError):
    """Another price book, price or modifier already holds this value."""

    def __init__(self, field: str, value: str, detail: str) -> None:
        self.field = field
        self.value = value
        super().__init__(detail)
