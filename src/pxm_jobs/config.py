"""The service's settings: one validated object, read from `PXM_*` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MEGABYTE = 1024 * 1024


class Settings(BaseSettings):
    """Everything a process needs to know; every limit of the wire contract is here."""

    model_config = SettingsConfigDict(env_prefix="PXM_", extra="ignore")

    database_url: str = "sqlite:///./pxm-jobs.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)

    # A store with these keys is ensured when `serve` starts.
    bootstrap_client_id: str | None = None
    bootstrap_client_secret: str | None = None
    # Signs tokens and download links; when unset, one is generated once and kept in the database
    # so that every process of a deployment shares it.
    signing_secret: str | None = None

    token_lifetime_seconds: int = Field(default=3600, gt=0)

    # A worker silent this long (no heartbeat) loses its jobs to the others.
    job_lease_seconds: float = Field(default=30.0, gt=0)
    job_max_attempts: int = Field(default=3, ge=1)
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=1.0)
    worker_shutdown_grace_seconds: float = Field(default=30.0, ge=0)
    # Job threads per worker process; unset means 1 on SQLite (one writer at a time anyway)
    # and 4 on PostgreSQL.
    worker_concurrency: int | None = Field(default=None, ge=1)

    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)

    import_max_bytes: int = Field(default=50 * MEGABYTE, gt=0)
    import_max_rows: int = Field(default=50_000, gt=1)
    json_body_max_bytes: int = Field(default=1 * MEGABYTE, gt=0)
    page_limit_max: int = Field(default=100, gt=0)
    page_offset_max: int = Field(default=10_000, ge=0)
    tags_max: int = Field(default=20, ge=0)
    tag_max_length: int = Field(default=255, gt=0)
    external_ref_max_length: int = Field(default=2048, gt=0)
    export_rows_per_file: int = Field(default=50_000, gt=0)
    export_retention_days: float = Field(default=7, gt=0)
    download_link_seconds: int = Field(default=3600, gt=0)
    # Finished jobs, their errors and their files are deleted this long after they finished.
    job_retention_days: float = Field(default=90, gt=0)
    # When set, `pxm-jobs worker` serves its own Prometheus metrics on this port.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Off by default, as in Elastic Path, whose cancel of a started job answers 422.
    cancel_started_jobs: bool = False

    # The service's address as clients reach it, for links in what workers send (a webhook's
    # job document); unset means http://PXM_HOST:PXM_PORT/.
    public_url: str | None = None

    # Webhooks (the Integrations API). Loopback, private and link-local targets are refused
    # unless allowed: a store admin must not reach the service's own network.
    webhook_allow_private_targets: bool = False
    # Each attempt's connect, send and read get this long; an attempt that gets no 2xx answer
    # is retried after a delay that doubles each time, up to the maximum, until the attempts
    # are spent.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    webhook_max_attempts: int = Field(default=10, ge=1, le=100)
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0)
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0)
    # Delivery threads per worker process, and how often an idle one looks for events.
    webhook_delivery_threads: int = Field(default=2, ge=1, le=64)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # Deliveries and their logs are deleted this long after they ended.
    webhook_log_retention_days: float = Field(default=30, gt=0)

    def public_base_url(self) -> str:
        """Where clients reach the service, ending with "/"."""
        base = self.public_url or f"http://{self.host}:{self.port}/"
        return base if base.endswith("/") else f"{base}/"

    def worker_concurrency_for(self, dialect: str) -> int:
        if self.worker_concurrency is not None:
            return self.worker_concurrency
        return 1 if dialect == "sqlite" else 4


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
