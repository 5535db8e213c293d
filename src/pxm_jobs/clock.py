"""Time as the service sees and shows it: UTC, to the millisecond."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, in UTC, cut to the millisecond the wire format can carry."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def format_timestamp(moment: datetime | None) -> str | None:
    """RFC 3339 with milliseconds and `Z`, as on the wire: `2024-01-05T13:46:41.695Z`."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
