"""Integrations, their deliveries and their logs as Elastic Path's Integrations API shows them."""

from __future__ import annotations

from typing import Any

from pxm_jobs.catalog.integrations.logs import DeliveryLog, DeliverySummary
from pxm_jobs.catalog.integrations.records import Integration
from pxm_jobs.clock import format_timestamp
from pxm_jobs.queue.outbox import DeliveryState

INTEGRATIONS_PATH = "v2/integrations"


def render_integration(integration: Integration, base_url: str) -> dict[str, Any]:
    """`base_url` ends with "/": the host the caller reached."""
    configuration: dict[str, Any] = {"url": integration.url}
    if integration.secret_key is not None:
        configuration["secret_key"] = integration.secret_key
    rendered: dict[str, Any] = {
        "id": integration.id,
        "type": "integration",
        "name": integration.name,
    }
    if integration.description is not None:
        rendered["description"] = integration.description
    rendered.update(
        {
            "enabled": integration.enabled,
            "integration_type": integration.integration_type,
            "observes": list(integration.observes),
            "configuration": configuration,
            "links": {"self": f"{base_url}{INTEGRATIONS_PATH}/{integration.id}"},
            "meta": {
                "timestamps": {
                    "created_at": format_timestamp(integration.created_at),
                    "updated_at": format_timestamp(integration.updated_at),
                }
            },
        }
    )
    return rendered


def render_log(log: DeliveryLog) -> dict[str, Any]:
    created = format_timestamp(log.created_at)
    return {
        "id": log.id,
        "type": "integration",
        "succeeded": log.succeeded,
        "attempt": log.attempt,
        "body": log.body,
        "status_code": log.status_code,
        "error_detail": log.error_detail,
        "relationships": {
            "integration": {"data": {"id": log.integration_id, "type": "integration"}},
            "job": {"data": {"id": log.delivery_id, "type": "integration-job"}},
        },
        "meta": {"timestamps": {"created_at": created, "updated_at": created}},
    }


def render_delivery(delivery: DeliverySummary) -> dict[str, Any]:
    pending = delivery.state == DeliveryState.PENDING
    return {
        "id": delivery.id,
        "type": "integration-job",
        "meta": {
            "triggered_by": delivery.event,
            "status": delivery.state,
            "attempts": delivery.attempts,
            "pim_job_id": delivery.job_id,
            "created_at": format_timestamp(delivery.created_at),
            "next_attempt_at": format_timestamp(delivery.next_attempt_at) if pending else None,
            "ended_at": format_timestamp(delivery.ended_at),
        },
    }


def log_list_document(document: dict[str, Any]) -> dict[str, Any]:
    """A list document given Elastic Path's keys for lists of logs as well as this service's."""
    meta = document["meta"]
    page = meta["page"]
    meta.update(
        {
            "limit": page["limit"],
            "offset": page["offset"],
            "current": page["current"],
            "total": page["total"],
        }
    )
    return {
        "data": document["data"],
        "meta": meta,
        "results": meta["results"],
        "links": document["links"],
    }
