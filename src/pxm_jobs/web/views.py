"""Jobs as the pages show them: read from the API's documents, in words and numbers for people."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

FINISHED = frozenset({"success", "failed", "cancelled"})
RETRYABLE = frozenset({"failed", "cancelled"})
# What a job's progress counts, by job type; others count "items".
PROGRESS_UNITS = {
    "product-import": "rows",
    "product-export": "products",
    "hierarchy-duplicate": "nodes",
    "child-products": "products",
    "price-import": "prices",
    "pricebook-import": "prices",
}
# What a price book import's counts are of, in words.
COUNTED_NAMES = {"pricebooks": "price books"}
# Meta keys shown on their own (links, counts, progress) rather than in the meta table.
SHOWN_APART = frozenset(
    {
        "file_locations",
        "error_file_location",
        "result_file_location",
        "progress",
        "queue_position",
        "rows",
        "children",
    }
)
META_LABELS = {
    "x_request_id": "Request id",
    "dry_run": "Dry run",
    "error_policy": "Rows with problems",
    "filter": "Filter",
    "copied_from": "Copied from hierarchy",
    "hierarchy_id": "New hierarchy",
    "retried_from": "Retry of job",
}


# Meta values said in words.
META_VALUES = {"reject_failed_rows": "left out, the others imported"}


@dataclass(frozen=True)
class FileLink:
    name: str
    url: str


@dataclass(frozen=True)
class Progress:
    processed: int
    total: int | None
    unit: str

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.processed / self.total))


@dataclass(frozen=True)
class JobView:
    id: str
    type: str
    status: str
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    queue_position: int | None
    progress: Progress | None
    counts: str | None  # what a finished job created and updated, in words
    files: list[FileLink]
    error_file: FileLink | None
    meta: list[tuple[str, str]] = field(default_factory=list)
    children: str | None = None  # what a finished build did to the children, in words
    result_file: FileLink | None = None  # what a successful import did with each row

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def can_cancel(self) -> bool:
        return self.status == "pending"

    @property
    def can_retry(self) -> bool:
        return self.status in RETRYABLE

    @property
    def can_delete(self) -> bool:
        return self.finished

    def duration(self, now: datetime) -> str:
        if self.started_at is None:
            return ""
        return format_duration(((self.completed_at or now) - self.started_at).total_seconds())


def job_view(document: dict[str, Any]) -> JobView:
    attributes = document["attributes"]
    meta = document.get("meta") or {}
    progress = meta.get("progress")
    error_file = meta.get("error_file_location")
    result_file = meta.get("result_file_location")
    return JobView(
        id=document["id"],
        type=attributes["type"],
        status=attributes["status"],
        created_at=read_time(attributes.get("created_at")),
        started_at=read_time(attributes.get("started_at")),
        completed_at=read_time(attributes.get("completed_at")),
        queue_position=meta.get("queue_position"),
        progress=Progress(
            int(progress["processed"]),
            progress.get("total"),
            PROGRESS_UNITS.get(attributes["type"], "items"),
        )
        if progress
        else None,
        counts=counts_text(meta.get("rows")),
        children=children_text(meta.get("children")),
        files=[file_link(url) for url in meta.get("file_locations") or ()],
        error_file=file_link(error_file) if error_file else None,
        result_file=file_link(result_file) if result_file else None,
        meta=[
            (META_LABELS.get(key, key), META_VALUES.get(value, _meta_text(value)))
            for key, value in meta.items()
            if key not in SHOWN_APART and value is not None
        ],
    )


def counts_text(rows: dict[str, Any] | None) -> str | None:
    """`meta.rows` in words: one count (`{"created", "updated"}`) or one per kind of object,
    as a price book import has them (`{"pricebooks": {...}, "prices": {...}, ...}`).
    """
    if not rows:
        return None
    if "created" in rows:
        said = f"{rows['created']:,} created, {rows['updated']:,} updated"
        if "rejected" in rows:  # an import keeping the valid rows
            said += f", {rows['rejected']:,} rejected"
        return said
    return "; ".join(
        f"{COUNTED_NAMES.get(name, name)}: {counted['created']:,} created, "
        f"{counted['updated']:,} updated"
        for name, counted in rows.items()
    )


def children_text(children: dict[str, Any] | None) -> str | None:
    """`meta.children` of a finished build in words; independent children only when there are."""
    if not children:
        return None
    text = (
        f"{children['created']:,} created, {children['updated']:,} updated, "
        f"{children['unchanged']:,} unchanged, {children['deleted']:,} deleted"
    )
    if children.get("independent"):
        text += f"; {children['independent']:,} independent left as they are"
    return text


def file_link(url: str) -> FileLink:
    return FileLink(unquote(urlsplit(url).path.rsplit("/", 1)[-1]), url)


def read_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _meta_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)
