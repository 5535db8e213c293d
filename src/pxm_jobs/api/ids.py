"""Path ids: UUIDs, where anything else is simply not found."""

from __future__ import annotations

import uuid

from pxm_jobs.api.errors import not_found


def require_uuid(value: str, what: str) -> str:
    """The id in canonical form; a value that is no UUID gets the same 404 as an unknown one."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise not_found(what) from None
