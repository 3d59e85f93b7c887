"""Settings of the service: read once, here, from KYSO_* environment variables.

Two profiles share the code. The embedded default keeps everything under the data
directory (SQLite database, Celery over a SQLite broker, PDFs in ``files/``); the
scale-out profile points at PostgreSQL and Redis or RabbitMQ by URL.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .datadir import DataDir, resolve

DEV_SECRET = "kyso-dev-secret-change-me"


class Settings(BaseSettings):
    """``KYSO_DATA_DIR``, ``KYSO_DATABASE_URL``, ``KYSO_BROKER_URL``, … (see operations.md)."""

    model_config = SettingsConfigDict(env_prefix="KYSO_", extra="ignore")

    data_dir: Path | None = None
    database_url: str | None = None
    broker_url: str | None = None
    result_backend: str | None = None
    profile: Literal["embedded", "scale-out"] = "embedded"
    secret_key: str = DEV_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    tsa_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "kyso@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    #: How often (seconds) Celery beat e-mails pending notifications.
    mail_interval: float = 30.0
    #: Server-side tokens this host holds: their signing tasks go to queue "token.<name>".
    server_tokens: list[str] = Field(default_factory=lambda: ["ubnd"])
    #: Redis broker: seconds before a task taken by a worker that died (unacknowledged)
    #: is given to another worker. Must exceed the longest task (3 minutes).
    visibility_timeout: int = 3600
    #: Seconds an upload waits for its draft to be prepared by a worker before it
    #: answers with the draft still being prepared.
    prepare_wait: float = 30.0
    #: Largest upload accepted, in megabytes.
    max_upload_mb: int = 50

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.profile == "scale-out" and self.secret_key == DEV_SECRET:
            raise ValueError("KYSO_SECRET_KEY must be set for the scale-out profile")
        return self

    @property
    def data(self) -> DataDir:
        return DataDir(resolve(self.data_dir)).create()

    @property
    def db_url(self) -> str:
        return self.database_url or self.data.database_url

    @property
    def broker(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data.root / 'celery-broker.db'}"

    @property
    def backend(self) -> str:
        return self.result_backend or f"db+sqlite:///{self.data.root / 'celery-results.db'}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)
