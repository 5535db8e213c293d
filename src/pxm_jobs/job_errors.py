"""What went wrong in a job, as the catalog reports it and the Jobs API lists it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobErrorDetail:
    """One problem a job ran into; `row` is the 1-based CSV line (the header is line 1)."""

    message: str
    code: str | None = None
    row: int | None = None
    field: str | None = None
    value: str | None = None
