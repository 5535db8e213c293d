"""What the client prints: tables for people, the API's documents as they are with --json."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

FINISHED = frozenset({"success", "failed", "cancelled"})
# What a job's progress counts, by job type.
UNITS = {
    "product-import": "rows",
    "product-export": "products",
    "hierarchy-duplicate": "nodes",
    "child-products": "products",
    "pricebook-import": "prices",
    "price-import": "prices",
}
COUNTED_NAMES = {"pricebooks": "price books"}
STATUS_STYLES = {"success": "green", "failed": "red", "started": "blue", "cancelled": "dim"}

# Results on stdout; progress and messages on stderr. Piped output is not cut to 80 columns.
PIPED_WIDTH = 200
out = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
err = Console(stderr=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)


def print_json(document: Any) -> None:
    out.print_json(json.dumps(document))


def unit_of(job: dict[str, Any]) -> str:
    return UNITS.get(job["attributes"]["type"], "items")


def outcome_of(job: dict[str, Any]) -> str:
    """A finished job's result in a few words: counts, files, children or the new hierarchy."""
    meta = job.get("meta") or {}
    parts = []
    if meta.get("dry_run"):
        parts.append("dry run")
    if meta.get("rows"):
        parts.append(counts_text(meta["rows"]))
    if meta.get("file_locations"):
        count = len(meta["file_locations"])
        parts.append(f"{count} file{'' if count == 1 else 's'}")
    if meta.get("children"):
        children = meta["children"]
        parts.append(
            f"children: {children['created']:,} created, {children['updated']:,} updated, "
            f"{children['deleted']:,} deleted"
        )
    if job["attributes"]["type"] == "hierarchy-duplicate" and meta.get("hierarchy_id"):
        parts.append(f"hierarchy {meta['hierarchy_id']}")
    return ", ".join(parts)


def counts_text(rows: dict[str, Any]) -> str:
    """`meta.rows` in words: one count, or one per kind of object (a price book import's)."""
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


def progress_text(job: dict[str, Any]) -> str:
    status = job["attributes"]["status"]
    meta = job.get("meta") or {}
    if status == "pending" and meta.get("queue_position"):
        return f"position {meta['queue_position']} in line"
    progress = meta.get("progress")
    if status == "started" and progress:
        total = f"/{progress['total']:,}" if progress.get("total") else ""
        return f"{progress['processed']:,}{total} {unit_of(job)}"
    return outcome_of(job) if status in FINISHED else ""


def jobs_table(jobs: list[dict[str, Any]], total: int, queue: dict[str, Any] | None) -> Table:
    table = Table(caption=_queue_caption(total, len(jobs), queue), caption_justify="left")
    table.add_column("id", min_width=36, overflow="fold")
    table.add_column("type", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("completed", no_wrap=True)
    table.add_column("progress / result")
    for job in jobs:
        attributes = job["attributes"]
        status = attributes["status"]
        table.add_row(
            job["id"],
            attributes["type"],
            Text(status, style=STATUS_STYLES.get(status, "")),
            _short_time(attributes["created_at"]),
            _short_time(attributes["completed_at"]),
            progress_text(job),
        )
    return table


def job_table(job: dict[str, Any]) -> Table:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    attributes = job["attributes"]
    table.add_row("id", job["id"])
    for key in ("type", "status", "created_at", "started_at", "completed_at"):
        table.add_row(key, str(attributes.get(key) or ""))
    shown = progress_text(job)
    if shown:
        table.add_row("progress" if attributes["status"] != "success" else "result", shown)
    for key, value in (job.get("meta") or {}).items():
        if key in ("queue_position", "progress", "rows") or value is None:
            continue
        if isinstance(value, list):
            value = "\n".join(str(item) for item in value)
        table.add_row(key, str(value))
    return table


def errors_table(errors: list[dict[str, Any]], total: int) -> Table:
    shown = f"{len(errors)} of {total:,} errors" if total > len(errors) else f"{total:,} errors"
    table = Table(caption=shown, caption_justify="left")
    for name in ("row", "field", "value", "code"):
        table.add_column(name, no_wrap=name != "value")
    table.add_column("message")
    for error in errors:
        meta = error.get("meta") or {}
        table.add_row(
            *(str(meta.get(name, "")) for name in ("row", "field", "value", "code")),
            error["attributes"]["message"],
        )
    return table


def _short_time(text: str | None) -> str:
    return text.replace("T", " ")[:19] if text else ""


def _queue_caption(total: int, shown: int, queue: dict[str, Any] | None) -> str:
    caption = f"{shown} of {total:,} jobs" if total > shown else f"{total:,} jobs"
    if queue:
        alive = queue["workers_alive"]
        caption += (
            f"; {queue['pending']:,} pending, {alive} worker{'' if alive == 1 else 's'} running"
        )
        if queue["pending"] and not queue["workers_alive"]:
            caption += " (no worker: pending jobs wait until one starts)"
    return caption
