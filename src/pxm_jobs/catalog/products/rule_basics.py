"""What every product rule shares: problem codes, limits, and the violation a rule raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pxm_jobs.catalog.text_rules import unstorable_character
from pxm_jobs.config import Settings

# Problem codes: stable, for clients to branch on.
REQUIRED = "required"
INVALID_VALUE = "invalid_value"
TOO_LONG = "too_long"
TOO_MANY = "too_many"
UNKNOWN_ATTRIBUTE = "unknown_attribute"
ALREADY_EXISTS = "already_exists"


@dataclass(frozen=True)
class ProductLimits:
    tags_max: int
    tag_max_length: int
    external_ref_max_length: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ProductLimits:
        return cls(settings.tags_max, settings.tag_max_length, settings.external_ref_max_length)


Normalizer = Callable[[Any, ProductLimits], Any]


class RuleViolation(Exception):
    """One attribute value breaks a rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_storable(text: str) -> str:
    """`text`, unless it holds a character no database column can keep."""
    what = unstorable_character(text)
    if what is not None:
        raise RuleViolation(INVALID_VALUE, f"text must not contain {what}")
    return text
