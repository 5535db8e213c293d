"""What a job's life tells the store's integrations: the keys an integration can observe.

Like `job_errors`, it sits outside the queue so that the catalog (which checks what an
integration asks to observe) and the queue (which records the events) share it without either
importing the other.
"""

from __future__ import annotations

from enum import StrEnum


class JobEvent(StrEnum):
    """An observable key, named as Elastic Path's Integrations API names its events."""

    STARTED = "pim-job.started"  # a worker claimed the job (again, after a lost worker)
    SUCCEEDED = "pim-job.succeeded"  # the job ended `success`; its effects are committed
    FAILED = "pim-job.failed"  # the job ended `failed`, with its errors
    CANCELLED = "pim-job.cancelled"  # the job was withdrawn before it ran


OBSERVABLE_EVENTS = tuple(event.value for event in JobEvent)
