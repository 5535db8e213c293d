"""The Integrations API over HTTP, on both databases: webhooks created, read, changed and
deleted in Elastic Path's shape, target URLs checked, deliveries and their logs listed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from pxm_jobs.config import Settings
from pxm_jobs.queue.outbox import DeliveryState
from tests.queue_steps import claim
from tests.store_client import StoreClient, sign_in, store_client
from tests.webhook_receiver import running_receiver
from tests.webhooks import courier_for, deliver_until_ended, webhook_settings

Json = dict[str, Any]
PUBLIC_URL = "https://93.184.215.14/hooks/jobs"
PATH = "/v2/integrations"


def webhook(url: str = PUBLIC_URL, **fields: Any) -> Json:
    data: Json = {
        "type": "integration",
        "name": "Job events",
        "description": "Tell the ERP when imports end",
        "enabled": True,
        "integration_type": "webhook",
        "observes": ["pim-job.succeeded", "pim-job.failed"],
        "configuration": {"url": url, "secret_key": "s3cret"},
        **fields,
    }
    return {"data": data}


@pytest.fixture
def api(settings: Settings, engine: Engine) -> Iterator[StoreClient]:
    with store_client(settings, engine) as client:
        yield client


def create(api: StoreClient, body: Json) -> Json:
    response = api.http.post(PATH, json=body)
    assert response.status_code == 201, response.text
    created: Json = response.json()["data"]
    return created


def refusal(api: StoreClient, body: Json, method: str = "POST", path: str = PATH) -> str:
    response = api.http.request(method, path, json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    detail: str = error["detail"]
    return detail


def test_a_webhook_is_created_read_listed_changed_and_deleted(api: StoreClient) -> None:
    created = create(api, webhook())
    assert created["type"] == "integration" and created["integration_type"] == "webhook"
    assert (created["name"], created["enabled"]) == ("Job events", True)
    assert created["observes"] == ["pim-job.succeeded", "pim-job.failed"]
    assert created["configuration"] == {"url": PUBLIC_URL, "secret_key": "s3cret"}
    assert created["links"]["self"].endswith(f"{PATH}/{created['id']}")
    timestamps = created["meta"]["timestamps"]
    assert timestamps["created_at"] == timestamps["updated_at"]
    shown = api.http.get(f"{PATH}/{created['id']}").json()["data"]
    assert shown == created
    listed = api.http.get(PATH).json()
    assert [item["id"] for item in listed["data"]] == [created["id"]]
    assert listed["meta"]["results"]["total"] == 1

    changed = api.http.put(
        f"{PATH}/{created['id']}",
        json={
            "data": {"type": "integration", "enabled": False, "configuration": {"secret_key": None}}
        },
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()["data"]
    assert after["enabled"] is False and after["name"] == "Job events"
    assert after["configuration"] == {"url": PUBLIC_URL}, "the URL is kept, the secret removed"
    assert after["meta"]["timestamps"]["updated_at"] >= timestamps["updated_at"]

    assert api.http.delete(f"{PATH}/{created['id']}").status_code == 204
    assert api.http.get(f"{PATH}/{created['id']}").status_code == 404
    assert api.http.delete(f"{PATH}/{created['id']}").status_code == 404


def test_what_is_required_and_what_is_known_is_checked(api: StoreClient) -> None:
    body = webhook()
    del body["data"]["observes"]
    assert refusal(api, body) == "observes: is required"
    assert refusal(api, webhook(observes=[])).startswith("observes: must be a non-empty list")
    detail = refusal(api, webhook(observes=["order.paid"]))
    assert detail.startswith("observes: 'order.paid' is not an event this service sends")
    assert "pim-job.cancelled" in detail
    detail = refusal(api, webhook(integration_type="aws_sqs"))
    assert detail == (
        "integration_type: 'aws_sqs' integrations are not offered by this service; use 'webhook'"
    )
    assert refusal(api, webhook(name="  ")) == "name: must be a non-empty string"
    no_url = webhook()
    no_url["data"]["configuration"] = {"secret_key": "x"}
    assert refusal(api, no_url).startswith("configuration.url: is required")
    unknown = webhook()
    unknown["data"]["colour"] = "red"
    assert api.http.post(PATH, json=unknown).status_code == 422
    assert api.http.post(PATH, json=webhook(type="product")).status_code == 422
    assert api.http.get(PATH).json()["data"] == [], "nothing was created"


REFUSED_URLS = [
    ("ftp://93.184.215.14/hooks", "is not an http or https URL"),
    ("http:///hooks", "names no host"),
    ("http://127.0.0.1:8080/hooks", "127.0.0.1 is a loopback address"),
    ("http://[::1]/hooks", "::1 is a loopback address"),
    ("http://10.0.0.7/hooks", "10.0.0.7 is a private address"),
    ("http://192.168.1.20/hooks", "192.168.1.20 is a private address"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
    ("http://[::ffff:10.0.0.7]/hooks", "is a private address"),
    ("http://0.0.0.0/hooks", "is the unspecified address"),
    ("http://100.64.0.1/hooks", "is a reserved address"),
]


def test_urls_that_reach_the_service_s_own_network_are_refused(api: StoreClient) -> None:
    for url, why in REFUSED_URLS:
        detail = refusal(api, webhook(url))
        assert detail.startswith("configuration.url: ") and why in detail, url
        if "address" in why:
            assert detail.endswith(
                "webhooks may only post to public addresses unless the service's operator sets "
                "PXM_WEBHOOK_ALLOW_PRIVATE_TARGETS=true"
            )
    assert api.http.get(PATH).json()["data"] == []


def test_a_changed_url_is_checked_like_a_new_one(api: StoreClient) -> None:
    created = create(api, webhook())
    path = f"{PATH}/{created['id']}"
    moved = {"data": {"type": "integration", "configuration": {"url": "http://10.0.0.7/"}}}
    assert "10.0.0.7 is a private address" in refusal(api, moved, "PUT", path)
    assert api.http.get(path).json()["data"]["configuration"]["url"] == PUBLIC_URL
    other = {"data": {"type": "integration", "id": "4b5a4f4e-0000-4000-8000-000000000000"}}
    assert "does not match the id in the path" in refusal(api, other, "PUT", path)


def test_private_targets_are_allowed_when_the_operator_says_so(
    settings: Settings, engine: Engine
) -> None:
    allowing = settings.model_copy(update={"webhook_allow_private_targets": True})
    with store_client(allowing, engine) as api:
        created = create(api, webhook("http://127.0.0.1:9000/hooks"))
    assert created["configuration"]["url"] == "http://127.0.0.1:9000/hooks"


def test_integrations_are_the_store_s_own_and_need_an_admin_token(
    api: StoreClient, engine: Engine
) -> None:
    created = create(api, webhook())
    _, other_token = sign_in(api.http, engine, "other")
    as_other = {"Authorization": f"Bearer {other_token}"}
    for method, suffix in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/logs")):
        response = api.http.request(
            method,
            f"{PATH}/{created['id']}{suffix}",
            headers=as_other,
            json={"data": {"type": "integration"}} if method == "PUT" else None,
        )
        assert response.status_code == 404, (method, suffix)
    assert api.http.get(PATH, headers=as_other).json()["data"] == []
    assert api.http.get(PATH, headers={"Authorization": ""}).status_code == 401


def test_deliveries_and_their_logs_are_listed(settings: Settings, engine: Engine) -> None:
    quick = webhook_settings(settings, webhook_max_attempts=5)
    answers = iter([502, 200])
    with (
        store_client(quick, engine) as api,
        running_receiver(lambda _n, _b: next(answers)) as receiver,
    ):
        created = create(api, webhook(receiver.url, observes=["pim-job.started"]))
        api.http.post("/pcm/products/export")
        assert claim(engine) is not None
        assert deliver_until_ended(courier_for(engine, quick)) is DeliveryState.DELIVERED
        jobs = api.http.get(f"{PATH}/{created['id']}/jobs").json()
        [delivery] = jobs["data"]
        assert delivery["type"] == "integration-job"
        assert delivery["id"] == receiver.received[0].event_id
        meta = delivery["meta"]
        assert (meta["triggered_by"], meta["status"], meta["attempts"]) == (
            "pim-job.started",
            "delivered",
            2,
        )
        assert meta["next_attempt_at"] is None and meta["ended_at"] is not None
        document = api.http.get(f"{PATH}/{created['id']}/logs").json()
        store_logs = api.http.get(f"{PATH}/logs").json()
        job_logs = api.http.get(f"{PATH}/{created['id']}/jobs/{delivery['id']}/logs").json()
        missing = api.http.get(f"{PATH}/{created['id']}/jobs/{created['id']}/logs")
    assert document["data"] == store_logs["data"] == job_logs["data"]
    assert missing.status_code == 404
    newest, oldest = document["data"]
    assert (oldest["attempt"], oldest["succeeded"], oldest["status_code"]) == (1, False, 502)
    assert oldest["error_detail"] == "the receiver answered 502, not a 2xx status"
    assert (newest["attempt"], newest["succeeded"], newest["error_detail"]) == (2, True, None)
    assert newest["type"] == "integration"
    assert newest["relationships"] == {
        "integration": {"data": {"id": created["id"], "type": "integration"}},
        "job": {"data": {"id": delivery["id"], "type": "integration-job"}},
    }
    assert document["results"] == {"total": 2} == document["meta"]["results"]
    assert (document["meta"]["limit"], document["meta"]["offset"]) == (25, 0)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "Job\x00events"}, "name: must not contain the NUL character"),
        ({"description": "\ud800"}, "description: must not contain a lone surrogate"),
        (
            {"configuration": {"url": PUBLIC_URL, "secret_key": "s\x00"}},
            "configuration.secret_key: must not contain the NUL character",
        ),
        (
            {"configuration": {"url": PUBLIC_URL + "\x00"}},
            "configuration.url: must not contain the NUL character",
        ),
    ],
)
def test_text_no_database_can_keep_is_refused_with_its_field(
    api: StoreClient, fields: Json, expected: str
) -> None:
    # Escaped as json.dumps does by default, so the body may carry a lone surrogate too.
    body = json.dumps(webhook(**fields))
    headers = {"Content-Type": "application/json"}
    response = api.http.post(PATH, content=body, headers=headers)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert expected in error["detail"]
    assert api.http.get(PATH).json()["data"] == []
