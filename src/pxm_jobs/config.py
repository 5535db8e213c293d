"""The service's settings: one validated object, read from `PXM_*` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
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
    # A request that waits longer than this for a pooled connection, or for a lock (SQLite's
    # write lock, a PostgreSQL row lock), is answered 503 with Retry-After instead of waiting on.
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    request_lock_wait_seconds: float = Field(default=5.0, gt=0)
    # PostgreSQL: the statements every job passes through (listed in `store.driver_path`) go
    # straight to the driver, skipping SQLAlchemy's execution, which costs more client CPU than
    # they do. Off, they run as every other statement does.
    db_driver_path: bool = True

    # The token endpoint: scrypt runs on at most this many threads per process, with at most
    # `token_hash_queue` requests waiting for one (more get 429); failed exchanges are limited
    # per client id and per caller address (limits' notation: "10/minute", "100 per hour").
    token_hash_concurrency: int = Field(default=2, ge=1)
    token_hash_queue: int = Field(default=16, ge=0)
    # Only a rate someone set is checked (the defaults are rates), so that reading the
    # settings does not load `limits`, which only the API uses.
    token_failures_per_client: str = Field(default="10/minute", validate_default=False)
    token_failures_per_address: str = Field(default="30/minute", validate_default=False)
    # A 429 from the token endpoint is sent after this pause (at most its Retry-After), so a
    # client that asks again at once asks a few times a second, not hundreds.
    token_refusal_pause_seconds: float = Field(default=1.0, ge=0)

    # The HTTP server's own limits, met before the application sees a request.
    http_header_max_bytes: int = Field(default=16 * 1024, ge=1024)
    http_header_max_count: int = Field(default=100, ge=1)
    http_request_line_max_bytes: int = Field(default=8 * 1024, ge=256)
    http_keep_alive_seconds: int = Field(default=5, ge=1)
    # A client must send a request's head within this, and go no longer without sending any
    # of its body's bytes than the body timeout.
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    # Of a body over its limit, how much is read (and thrown away) so that the client, still
    # sending, reads the 413; past this the connection is closed.
    http_drain_max_bytes: int = Field(default=128 * MEGABYTE, ge=0)
    # The scheme, host and port that links in answers use (download links, list links), e.g.
    # "https://jobs.example.com"; unset, the address the server was reached on, never the Host
    # header a client sent.
    public_url: str | None = None

    import_max_bytes: int = Field(default=50 * MEGABYTE, gt=0)
    import_max_rows: int = Field(default=50_000, gt=1)
    json_body_max_bytes: int = Field(default=1 * MEGABYTE, gt=0)
    page_limit_max: int = Field(default=100, gt=0)
    page_offset_max: int = Field(default=10_000, ge=0)
    tags_max: int = Field(default=20, ge=0)
    tag_max_length: int = Field(default=255, gt=0)
    external_ref_max_length: int = Field(default=2048, gt=0)
    export_rows_per_file: int = Field(default=50_000, gt=0)
    # Bytes per export file, and per file of rejected rows; at most IMPORT_MAX_BYTES, so that
    # every file imports back.
    export_bytes_per_file: int | None = Field(default=None, gt=1024)
    # Cells starting with =, +, -, @, a tab or a carriage return are written with a leading '
    # (and the import removes it again): for files opened in spreadsheets. Off, files are
    # byte-faithful, as files moving between this service and Elastic Path must be.
    csv_escape_formulas: bool = False
    export_retention_days: float = Field(default=7, gt=0)
    download_link_seconds: int = Field(default=3600, gt=0)
    # Finished jobs, their errors and their files are deleted this long after they finished.
    job_retention_days: float = Field(default=90, gt=0)
    # When set, `pxm-jobs worker` serves its own Prometheus metrics on this port.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Off by default, as in Elastic Path, whose cancel of a started job answers 422.
    cancel_started_jobs: bool = False

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

    @field_validator("token_failures_per_client", "token_failures_per_address")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        # Imported here: `limits` takes a third of a second to load, which every worker and
        # command would pay at start.
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as '10/minute'") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") + "/"

    def bytes_per_export_file(self) -> int:
        """Bytes per export file and file of rejected rows: never more than an import takes."""
        if self.export_bytes_per_file is None:
            return self.import_max_bytes
        return min(self.export_bytes_per_file, self.import_max_bytes)

    def worker_concurrency_for(self, dialect: str) -> int:
        if self.worker_concurrency is not None:
            return self.worker_concurrency
        return 1 if dialect == "sqlite" else 4


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
