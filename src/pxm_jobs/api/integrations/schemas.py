"""Request and response bodies of the Integrations API, by direction, in Elastic Path's shape.

Unlike the PXM resources, an integration is flat: its fields sit beside `id` and `type`, with
no `attributes`. Request bodies check shape and types; the catalog checks values (known event
keys, a URL that may be posted to).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import MISSING, BaseModel, ConfigDict, Field, StrictBool

from pxm_jobs.api.common_schemas import ListLinks, ListMeta, PageMeta, PublicModel, ResultsMeta
from pxm_jobs.job_events import OBSERVABLE_EVENTS

OBSERVES_DESCRIPTION = f"The events to be told of, any of: {', '.join(OBSERVABLE_EVENTS)}."


class WebhookConfiguration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="The http(s) URL events are posted to.")
    secret_key: str | None = Field(
        default=None, description="Sent with every event as the X-MOLTIN-SECRET-KEY header."
    )


class IntegrationFields(BaseModel):
    """Every field is optional here: which are required to create one is a catalog rule."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["integration"]
    id: str | None = None
    name: str | None = None
    description: str | None = None
    enabled: StrictBool | None = None
    integration_type: str | None = Field(default=None, examples=["webhook"])
    observes: list[str] | None = Field(default=None, description=OBSERVES_DESCRIPTION)
    configuration: WebhookConfiguration | None = None

    def given(self) -> dict[str, Any]:
        """The fields the caller sent (null ones included), `configuration` likewise."""
        given = self.model_dump(exclude_unset=True, exclude={"type", "id"})
        if self.configuration is not None:
            given["configuration"] = self.configuration.model_dump(exclude_unset=True)
        return given


class IntegrationCreate(BaseModel):
    data: IntegrationFields


class IntegrationUpdate(BaseModel):
    data: IntegrationFields


# -- responses ---------------------------------------------------------------------------------


class ConfigurationPublic(PublicModel):
    url: str
    secret_key: str | MISSING = MISSING


class SelfLink(PublicModel):
    self: str


class Timestamps(PublicModel):
    created_at: str
    updated_at: str


class TimestampsMeta(PublicModel):
    timestamps: Timestamps


class IntegrationPublic(PublicModel):
    id: str
    type: Literal["integration"]
    name: str
    description: str | MISSING = MISSING
    enabled: bool
    integration_type: Literal["webhook"]
    observes: list[str] = Field(description=OBSERVES_DESCRIPTION)
    configuration: ConfigurationPublic
    links: SelfLink
    meta: TimestampsMeta


class IntegrationDocument(PublicModel):
    data: IntegrationPublic


class IntegrationListDocument(PublicModel):
    data: list[IntegrationPublic]
    meta: ListMeta
    links: ListLinks


class RelatedIntegration(PublicModel):
    id: str
    type: Literal["integration"]


class RelatedIntegrationJob(PublicModel):
    id: str
    type: Literal["integration-job"]


class IntegrationData(PublicModel):
    data: RelatedIntegration


class IntegrationJobData(PublicModel):
    data: RelatedIntegrationJob


class LogRelationships(PublicModel):
    integration: IntegrationData
    job: IntegrationJobData


class IntegrationLogPublic(PublicModel):
    """One delivery attempt. `type` is `integration`, as Elastic Path's API has it."""

    id: str
    type: Literal["integration"]
    succeeded: bool
    attempt: int = Field(ge=1, description="Which attempt at delivering the event this was.")
    body: str | None = Field(description="The start of the receiver's answer, if it answered.")
    status_code: int | None = Field(description="The receiver's status, null if none came.")
    error_detail: str | None = Field(description="Why the attempt failed; null if it did not.")
    relationships: LogRelationships
    meta: TimestampsMeta


class LogListMeta(PublicModel):
    """The list's meta, with Elastic Path's page keys beside this service's."""

    results: ResultsMeta
    page: PageMeta
    limit: int
    offset: int
    current: int
    total: int = Field(description="How many pages the list has.")


class IntegrationLogListDocument(PublicModel):
    data: list[IntegrationLogPublic]
    meta: LogListMeta
    results: ResultsMeta
    links: ListLinks


class IntegrationJobMeta(PublicModel):
    """How the delivery of one event stands. [ext]"""

    triggered_by: str = Field(examples=list(OBSERVABLE_EVENTS))
    status: Literal["pending", "delivered", "failed"]
    attempts: int = Field(ge=0)
    pim_job_id: str = Field(description="The job the event is about.")
    created_at: str
    next_attempt_at: str | None = Field(description="When it is tried next; null once ended.")
    ended_at: str | None


class IntegrationJobPublic(PublicModel):
    """One event for the integration ("integration job"); its id is the event's id."""

    id: str
    type: Literal["integration-job"]
    meta: IntegrationJobMeta


class IntegrationJobListDocument(PublicModel):
    data: list[IntegrationJobPublic]
    meta: ListMeta
    links: ListLinks
