"""Everything the catalog layer refuses, as one family of exceptions.

Each exception's docstring is its message (a short title); `detail` tells a person what to fix.
HTTP status codes are chosen in `api/`, never here.
"""

from __future__ import annotations

from collections.abc import Sequence

from pxm_jobs.job_errors import JobErrorDetail


class CatalogError(Exception):
    """The catalog refused the request."""

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.message
        super().__init__(self.detail)

    @property
    def message(self) -> str:
        return (type(self).__doc__ or "").strip()


class ImportFileTooLarge(CatalogError):
    """The import file is too large."""


class ImportFileEmpty(CatalogError):
    """The import file is empty."""


class ImportFileNotUtf8(CatalogError):
    """The import file is not UTF-8 text."""


class MalformedCsv(CatalogError):
    """The import file is not well-formed CSV."""


class MissingCsvHeader(CatalogError):
    """A required CSV header is missing."""

    def __init__(self, header: str) -> None:
        self.header = header
        super().__init__(f"missing required csv header: {header}")


class UnknownCsvHeader(CatalogError):
    """The CSV has a header this import does not know."""

    def __init__(self, header: str, detail: str) -> None:
        self.header = header
        super().__init__(detail)


class DuplicateCsvHeader(CatalogError):
    """The CSV names a column twice."""

    def __init__(self, header: str) -> None:
        self.header = header
        super().__init__(f"csv header {header!r} appears more than once; keep one column of it")


class TooManyRows(CatalogError):
    """The import file has too many rows."""


class InvalidFilter(CatalogError):
    """The filter cannot be used."""


class ImportRejected(CatalogError):
    """The import has invalid rows; nothing was written."""

    def __init__(self, errors: Sequence[JobErrorDetail]) -> None:
        self.errors = list(errors)
        first = self.errors[0].message if self.errors else "the import was rejected"
        super().__init__(first)


class ProductNotFound(CatalogError):
    """The product was not found."""


class ProductRejected(CatalogError):
    """The product attributes break the catalog's rules; nothing was written."""

    def __init__(self, problems: Sequence[JobErrorDetail]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(problem.message for problem in self.problems))


class InvalidExportColumns(CatalogError):
    """The export columns cannot be written."""


class ChildrenRejected(CatalogError):
    """The children cannot be built; nothing was written."""

    def __init__(self, problems: Sequence[JobErrorDetail]) -> None:
        self.problems = list(problems)
        first = self.problems[0].message if self.problems else "the build was rejected"
        super().__init__(first)
