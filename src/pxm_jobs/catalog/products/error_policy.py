"""What a product import does with rows that have problems, as the caller chose it."""

from __future__ import annotations

from enum import StrEnum

from pxm_jobs.catalog.errors import CatalogError


class ErrorPolicy(StrEnum):
    # Elastic Path's rule and the default: one row with a problem and nothing is written.
    REJECT_EVERYTHING = "reject_everything"
    # The rows without problems apply; those with problems, and the rows tied to them (both
    # rows of a duplicate sku), are left out and listed.
    REJECT_FAILED_ROWS = "reject_failed_rows"


DEFAULT_ERROR_POLICY = ErrorPolicy.REJECT_EVERYTHING


class UnknownErrorPolicy(CatalogError):
    """The import's error policy is not one there is."""


def read_error_policy(text: str | None) -> ErrorPolicy:
    """The policy `text` names; absent or blank means the default."""
    if text is None or not text.strip():
        return DEFAULT_ERROR_POLICY
    try:
        return ErrorPolicy(text.strip())
    except ValueError:
        allowed = " or ".join(policy.value for policy in ErrorPolicy)
        raise UnknownErrorPolicy(f"error_policy must be {allowed}, not {text!r}") from None
