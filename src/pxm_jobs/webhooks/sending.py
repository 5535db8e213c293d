"""One attempt to deliver one event: the body Elastic Path's webhooks carry, posted once.

The body has Elastic Path's shape (`id`, `triggered_by`, `attempt`, `integration`, `payload`
and the deprecated `resources`, the payload as JSON text), and the payload is the job document
the Jobs API shows. Headers carry the integration's secret as `X-MOLTIN-SECRET-KEY` and the
event id as `X-PXM-Event-ID`, the same on every attempt, so that a receiver drops repeats.

Unless private targets are allowed, the host is resolved and checked now, and the request goes
to the checked address itself (the URL's host name still sent as `Host` and as the TLS server
name, and checked against the certificate), so no later lookup can steer it elsewhere.
Redirects are not followed: they could lead anywhere.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from pxm_jobs import __version__
from pxm_jobs.catalog.integrations.errors import TargetRefused
from pxm_jobs.catalog.integrations.targets import Resolver, parse_target, resolve_target
from pxm_jobs.queue.outbox import AttemptOutcome, Delivery

SECRET_HEADER = "X-MOLTIN-SECRET-KEY"
EVENT_ID_HEADER = "X-PXM-Event-ID"
EVENT_HEADER = "X-PXM-Event"
ATTEMPT_HEADER = "X-PXM-Attempt"
USER_AGENT = f"pxm-jobs/{__version__}"
# How much of a receiver's answer the log keeps.
LOGGED_BODY_BYTES = 1024


def event_body(delivery: Delivery, payload: dict[str, Any]) -> dict[str, Any]:
    """What a webhook receives: the event, the integration it is for, and the job document."""
    receiver = delivery.receiver
    configuration = {"url": receiver.url}
    if receiver.secret_key is not None:
        configuration["secret_key"] = receiver.secret_key
    return {
        "id": delivery.id,
        "triggered_by": delivery.event,
        "attempt": delivery.attempt,
        "store_id": delivery.job.store_id,
        "integration": {
            "id": receiver.integration_id,
            "integration_type": receiver.integration_type,
            "name": receiver.name,
            "description": receiver.description,
        },
        "resources": json.dumps(payload, separators=(",", ":")),
        "payload": payload,
        "configuration": configuration,
    }


def new_client() -> httpx.Client:
    """A client for deliveries: no pooled connections (each is pinned to one checked address
    and server name), no redirects, no proxies from the environment."""
    return httpx.Client(
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def post_event(
    client: httpx.Client,
    delivery: Delivery,
    body: dict[str, Any],
    *,
    timeout_seconds: float,
    allow_private: bool,
    resolver: Resolver,
) -> AttemptOutcome:
    """Post the event once; what came of it, never raising for what the receiver did."""
    try:
        url, host_header, extensions = _pinned(delivery.receiver.url, allow_private, resolver)
    except TargetRefused as refused:
        return AttemptOutcome(succeeded=False, error_detail=f"not sent: {refused.detail}")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: delivery.id,
        EVENT_HEADER: delivery.event,
        ATTEMPT_HEADER: str(delivery.attempt),
    }
    if host_header is not None:
        headers["Host"] = host_header
    if delivery.receiver.secret_key is not None:
        headers[SECRET_HEADER] = delivery.receiver.secret_key
    content = json.dumps(body, separators=(",", ":")).encode()
    try:
        with client.stream(
            "POST",
            url,
            content=content,
            headers=headers,
            timeout=timeout_seconds,
            extensions=extensions,
        ) as response:
            answer = _read_some(response)
    except httpx.TimeoutException:
        return AttemptOutcome(
            succeeded=False,
            error_detail=f"the receiver did not answer within {timeout_seconds:g} s",
        )
    except httpx.HTTPError as error:
        return AttemptOutcome(
            succeeded=False,
            error_detail=f"could not reach the receiver: {str(error) or type(error).__name__}",
        )
    if 200 <= response.status_code < 300:
        return AttemptOutcome(succeeded=True, status_code=response.status_code, body=answer)
    return AttemptOutcome(
        succeeded=False,
        status_code=response.status_code,
        body=answer,
        error_detail=f"the receiver answered {response.status_code}, not a 2xx status",
    )


def _pinned(
    url: str, allow_private: bool, resolver: Resolver
) -> tuple[httpx.URL, str | None, dict[str, Any]]:
    """The URL to request, the Host header to send, and the TLS server name to use."""
    target = parse_target(url)
    parsed = httpx.URL(url)
    if allow_private or target.host_is_address:
        if not allow_private:
            resolve_target(target, resolver)
        return parsed, None, {}
    address = resolve_target(target, resolver)[0]
    host_header = parsed.netloc.decode("ascii").rpartition("@")[2]
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return parsed.copy_with(host=address), host_header, extensions


def _read_some(response: httpx.Response) -> str:
    """The start of the answer, as text: enough for the log, never the whole of a large one."""
    kept = b""
    for chunk in response.iter_bytes():
        kept += chunk
        if len(kept) >= LOGGED_BODY_BYTES:
            break
    return kept[:LOGGED_BODY_BYTES].decode("utf-8", "replace")
