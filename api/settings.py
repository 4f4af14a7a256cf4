"""Docket's settings, read once from the environment (``DOCKET_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCKET_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostgreSQL to use; unset starts the embedded one."
    )
    data_dir: Path = Field(default=Path(".docket"), description="Embedded PostgreSQL's home.")
    schema_name: str = Field(default="docket", alias="DOCKET_SCHEMA")
    host: str = "127.0.0.1"
    port: int = 8000
    pool_size: int = 8
    max_body_bytes: int = 1024 * 1024
    max_attachment_bytes: int = 10 * 1024 * 1024
    token_cache_seconds: float = 5.0
    run_projections: bool = Field(
        default=True,
        description="Keep the views current in a background thread of the API process; "
        "turn off when `docket project` workers do it.",
    )
    read_wait_seconds: float = Field(
        default=5.0, description="How long a read with min_position waits for its view."
    )
