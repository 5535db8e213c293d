"""`GET /metrics`: the service in Prometheus' text format.

It sits outside `/pcm` and needs no token, as scrapers expect: nothing in it names a store.
The queue's gauges are read from the database at every scrape, in one grouped query, so every
API process reports the whole deployment; the histograms and counters are those this process's
embedded worker recorded (see `queue.metrics`).
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from pxm_jobs.api.common_schemas import REQUEST_HEAD_ERRORS, Responses, error_responses
from pxm_jobs.api.deps import EngineDep, SettingsDep
from pxm_jobs.clock import utc_now
from pxm_jobs.queue.models import JobStatus, JobType
from pxm_jobs.queue.reads import count_jobs, count_live_workers
from pxm_jobs.store.engine import read_transaction

router = APIRouter(tags=["metrics"])


class QueueCollector(Collector):
    """Gauges of every store's jobs together, read when scraped."""

    def __init__(self, engine: Engine, worker_silence_seconds: float) -> None:
        self._engine = engine
        self._worker_silence_seconds = worker_silence_seconds

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utc_now()
        with read_transaction(self._engine) as connection:
            counts = count_jobs(connection)
            alive = count_live_workers(connection, now, self._worker_silence_seconds)
        # Every known status and type is reported, zero or not, so no series comes and goes.
        by_label = {(status.value, kind.value): 0 for status in JobStatus for kind in JobType}
        by_label.update({(count.status, count.type): count.count for count in counts})
        jobs = GaugeMetricFamily(
            "pxm_jobs_jobs",
            "Jobs held by the service, by status and type.",
            labels=["status", "type"],
        )
        for (status, kind), value in sorted(by_label.items()):
            jobs.add_metric([status, kind], value)
        pending = [count for count in counts if count.status == JobStatus.PENDING]
        oldest = min((c.oldest_created_at for c in pending if c.oldest_created_at), default=None)
        yield jobs
        yield GaugeMetricFamily(
            "pxm_jobs_queue_depth",
            "Pending jobs of all stores.",
            value=sum(count.count for count in pending),
        )
        yield GaugeMetricFamily(
            "pxm_jobs_oldest_pending_age_seconds",
            "Age of the oldest pending job; 0 when none is pending.",
            value=(now - oldest).total_seconds() if oldest is not None else 0.0,
        )
        yield GaugeMetricFamily(
            "pxm_jobs_workers_alive",
            "Workers that reported in within twice the lease time.",
            value=alive,
        )


METRICS_RESPONSES: Responses = {
    200: {
        "description": "Every metric, in the Prometheus text exposition format.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    **REQUEST_HEAD_ERRORS,
    **error_responses(500),
}


@router.get("/metrics", response_class=Response, responses=METRICS_RESPONSES)
def show_metrics(engine: EngineDep, settings: SettingsDep) -> Response:
    """Queue gauges for the whole deployment, and this process's job timings."""
    queue = CollectorRegistry(auto_describe=False)
    queue.register(QueueCollector(engine, settings.job_lease_seconds * 2))
    body = generate_latest(queue) + generate_latest(REGISTRY)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)
