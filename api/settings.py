"""Docket's settings, read once from the environment (``DOCKET_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCKET_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostgreSQL to use; unset starts the embedded one."
    )
    read_database_url: str | None = Field(
        default=None,
        description="A hot standby of the primary to answer reads from (the lists, the detail, "
        "the dashboards, the feed, the audit); writes, tokens, idempotency keys and files stay "
        "on the primary. Unset: every read is from the primary.",
    )
    data_dir: Path = Field(default=Path(".docket"), description="Embedded PostgreSQL's home.")
    schema_name: str = Field(default="docket", alias="DOCKET_SCHEMA")
    host: str = "127.0.0.1"
    port: int = 8000
    pool_size: int = 8
    workers: int | None = Field(
        default=None,
        ge=1,
        description="API processes `docket serve` runs on its one port (also `--workers`); "
        "unset, one per core of the machine.",
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="Set by `docket serve --workers N` for its workers: the folder where each "
        "writes its request counts, so /metrics sums them (api/metrics.py).",
    )
    max_body_bytes: int = 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024
    community_url: str = Field(
        default="https://community.docket.example",
        description="The community forum the portal points people to whose plan does not "
        "include ticket support.",
    )

    @property
    def max_upload_bytes(self) -> int:
        """The largest body of a route that carries files (an upload, a raw email): one
        attachment at its limit and room for the envelope around it."""
        return self.max_attachment_bytes + 64 * 1024

    run_projections: bool = Field(
        default=True,
        description="Keep the views current alongside the API; turn off when `docket "
        "project` workers do it.",
    )
    projections_process: bool = Field(
        default=True,
        description="`docket serve` keeps the views in a `docket project` child process (an "
        "interpreter of its own, so projecting never holds up a request); false keeps them "
        "in threads of the API process.",
    )
    automation_sweep_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How often the automation watch looks for due tickets, where the views "
        "are kept; 0 runs no automation watch in this process.",
    )
    ticket_cache_maxsize: int = Field(
        default=2000,
        ge=0,
        description="Tickets each process keeps folded, so a write folds only what is new "
        "(desk/ticket_cache.py); 0 keeps none.",
    )
    aggregate_cache_maxsize: int = Field(
        default=1000,
        ge=0,
        description="Other aggregates each process keeps folded (accounts, the SLA policy and "
        "custom-field books, staff members, saved views: store/aggregate_cache.py), each read "
        "fetching only the events since; 0 keeps none.",
    )
    read_wait_seconds: float = Field(
        default=5.0, description="How long a read with min_position waits for its view."
    )
    smtp_url: str | None = Field(
        default=None,
        description="Mail server for notifications, e.g. smtp://127.0.0.1:1025 (smtps:// for "
        "TLS, ?starttls=1 to upgrade); unset keeps emails in the outbox (GET /v1/admin/outbox).",
    )
    mail_from: str = Field(
        default="Docket Support <support@docket.example>", description="From of every email."
    )
    support_address: str = Field(
        default="support@docket.example",
        description="The support address: new mail to it files tickets; replies go to "
        "its +T-000123 sub-addresses.",
    )
    mail_secret: SecretStr | None = Field(
        default=None,
        description="Signs each recipient's own reply address (support+T-000123.<token>@…), "
        "which proves who answers by email; unset, Docket draws one and keeps it in the "
        "database (server_secrets), the same for every process.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where people reach this API on the web: the satisfaction survey links "
        "in emails point there (https://support.example.com, say).",
    )
    mail_trusted_authserv_id: str | None = Field(
        default=None,
        description="The authserv-id of the mail gateway's Authentication-Results header "
        "(e.g. mx.acme-support.example): its dmarc=pass, or dkim=pass aligned with the From "
        "domain, proves the sender. Unset: that proof is off, only reply addresses prove.",
    )
    mail_max_age_hours: float = Field(
        default=24.0, description="Emails older than this when first picked up expire unsent."
    )
