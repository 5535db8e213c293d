"""`--wait`: a live progress bar until the job ends, fed by long polls, never busy polling.

The bar counts what the job counts (rows, products, nodes) with its rate and time left; while
the job is pending it shows its place in its store's line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from pxm_jobs.client.output import FINISHED, err, unit_of

if TYPE_CHECKING:
    from pxm_jobs.client.http import PxmClient


class RateColumn(ProgressColumn):
    """Items a second, as measured from the progress reports seen."""

    def render(self, task: Task) -> Text:
        if not task.speed:
            return Text("")
        return Text(f"{task.speed:,.0f} {task.fields.get('unit', 'items')}/s")


def describe(job: dict[str, Any]) -> str:
    attributes = job["attributes"]
    status = attributes["status"]
    position = (job.get("meta") or {}).get("queue_position")
    if status == "pending" and position:
        return f"{attributes['type']}: pending, position {position} in line"
    return f"{attributes['type']}: {status}"


def watch_job(client: PxmClient, job: dict[str, Any], etag: str | None = None) -> dict[str, Any]:
    """Follow the job until it ends; its last document."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
    with progress:
        task = progress.add_task(describe(job), total=None, unit=unit_of(job))
        while True:
            _show(progress, task, job)
            if job["attributes"]["status"] in FINISHED:
                return job
            document, etag = client.wait_for_change(job["id"], etag)
            if document:
                job = document["data"]


def _show(progress: Progress, task: Any, job: dict[str, Any]) -> None:
    counted = (job.get("meta") or {}).get("progress")
    if counted:
        total = counted.get("total")
        progress.update(task, completed=counted["processed"], total=total)
    progress.update(task, description=describe(job))
