"""Settings: with ``api/environment.py``, the only module of the service that reads the
environment (KYSO_* variables).

:class:`Settings` is the service's configuration, read once (by pydantic-settings);
:class:`Environment` (``api/environment.py``, re-exported here) is what any command reads
of its environment beside it (the data directory, the database URL, a PIN or password
given to a script …) and what it hands on to child processes, each value read when asked
so that no PIN or password is kept (``tests/test_settings_reads.py`` fails when another
module reads the environment; the agent, which loads nothing server-side, has its own
spot, ``api/agent/settings.py``).

Two profiles share the code. The embedded default keeps everything under the data
directory (SQLite database, Celery over a SQLite broker, PDFs in ``files/``); the
scale-out profile points at PostgreSQL and Redis or RabbitMQ by URL.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from signer import ChildLimits

from .datadir import DataDir, resolve

# what a command reads of its environment, re-exported for the service's modules
from .environment import ENV_DATA_DIR as ENV_DATA_DIR
from .environment import ENV_DATABASE_URL as ENV_DATABASE_URL
from .environment import ENV_DEBUG as ENV_DEBUG
from .environment import ENV_PASSWORD as ENV_PASSWORD
from .environment import ENV_PIN as ENV_PIN
from .environment import ENV_TSA_URL as ENV_TSA_URL
from .environment import ENVIRONMENT as ENVIRONMENT
from .environment import Environment as Environment
from .environment import pin_env as pin_env

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
    #: How often (seconds) Celery beat reconciles background work (documents/background.py).
    reconcile_interval: float = 60.0
    #: A task still running this many seconds after it started lost its worker: sent again
    #: (must exceed the longest task, 3 minutes).
    task_stale_seconds: float = 240.0
    #: The process that started this worker and whose death it outlives by at most
    #: ``orphan_grace`` seconds (``kyso serve`` sets it for its worker: api/worker/lifeline.py);
    #: unset (systemd units), the worker watches no parent.
    supervisor_pid: int | None = None
    #: Seconds a worker whose supervisor died has to finish its current task before it
    #: abandons it (sent again by the reconciliation) and exits, with its beat child.
    orphan_grace: float = 30.0
    #: A task sent this many seconds ago and never started was lost by the broker: sent again.
    queued_stale_seconds: float = 900.0
    #: Server-side tokens this host holds: their signing tasks go to queue "token.<name>".
    server_tokens: list[str] = Field(default_factory=lambda: ["ubnd"])
    #: Redis broker: seconds before a task taken by a worker that died (unacknowledged)
    #: is given to another worker. Must exceed the longest task (3 minutes).
    visibility_timeout: int = 3600
    #: Seconds an upload waits for its draft to be prepared by a worker before it
    #: answers with the draft still being prepared.
    prepare_wait: float = 30.0
    #: PAdES level of the organisation's signatures (issue, attachments, copies): "B-LT"
    #: embeds the validation data of every signature, so that a recipient validates the
    #: issued file offline; "B-LTA" adds a document timestamp (renewed daily when due).
    pades_level: Literal["B-B", "B-T", "B-LT", "B-LTA"] = "B-LT"
    #: The demo only: where a new demo PKI publishes its TSA, OCSP and CRLs when that port
    #: is free (else any free port); 0: any free port (tests running side by side).
    demo_pki_port: int = 8791

    @property
    def demo_pki_preferred_port(self) -> int | None:
        return self.demo_pki_port or None
    #: Print the body's name and the signing time under the seal on issued documents
    #: (KYSO_SEAL_CAPTION=true); Appendix I shows the seal alone, the default.
    seal_caption: bool = False
    #: Days before a TSA certificate expires that issued files get a new archive timestamp.
    archive_margin_days: int = 180
    #: Largest upload accepted, in megabytes.
    max_upload_mb: int = 50
    #: Address space (MiB) of the child process that reads an untrusted PDF (upload
    #: check, preparation, verification of an uploaded file); beyond it the file is
    #: refused.
    pdf_memory_mb: int = 1024
    #: Seconds of CPU time the upload check of one PDF may take in its child process
    #: before it is killed and the file refused (of wall-clock time: twice as many,
    #: signer/isolate.py's WALL_FACTOR).
    pdf_check_seconds: float = 20.0
    #: Seconds of CPU time the preparation of one draft may take in its child process
    #: (twice it, the wall-clock bound, below the Celery task's soft time limit, 120 s).
    pdf_prepare_seconds: float = 50.0
    #: Seconds the verification of one uploaded file may take in its child process
    #: (OCSP and CRL fetches included).
    pdf_verify_seconds: float = 60.0
    #: Print the verification QR code (the document's short link) on page 1 when a
    #: draft is prepared (KYSO_VERIFY_QR=true|false).
    verify_qr: bool = False
    #: The address recipients reach the service at, the base of verification links,
    #: e.g. "https://kyso.tienlu.gov.vn" (embedded profile default: http://host:port).
    public_url: str | None = None
    #: Files one client may check on the public verification page per window (seconds).
    public_verify_limit: int = 10
    public_verify_window: float = 600.0
    #: Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: addresses
    #: or networks, comma-separated (e.g. "127.0.0.1" for nginx on this host). None by
    #: default: the peer's address is the client's, whatever headers it sends.
    trusted_proxies: str = ""

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.profile == "scale-out" and self.secret_key == DEV_SECRET:
            raise ValueError("KYSO_SECRET_KEY must be set for the scale-out profile")
        return self

    @model_validator(mode="after")
    def _check_public_url(self) -> Settings:
        if self.public_url is not None and not self.public_url.startswith(
                ("https://", "http://")):
            raise ValueError("KYSO_PUBLIC_URL must start with https:// or http://")
        if self.verify_qr and self.public_url is None and self.profile == "scale-out":
            raise ValueError("KYSO_VERIFY_QR needs KYSO_PUBLIC_URL in the scale-out profile")
        return self

    @model_validator(mode="after")
    def _check_trusted_proxies(self) -> Settings:
        for item in self.trusted_proxy_list:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"KYSO_TRUSTED_PROXIES: {item!r} is not an IP address or "
                                 "network") from None
        return self

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [item.strip() for item in self.trusted_proxies.split(",") if item.strip()]

    @property
    def https(self) -> bool:
        """Whether the service is reached over HTTPS (KYSO_PUBLIC_URL says so)."""
        return (self.public_url or "").startswith("https://")

    @property
    def public_base(self) -> str:
        """The base of verification links: KYSO_PUBLIC_URL, else this host and port."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def qr_url(self) -> str | None:
        """The base URL printed in QR codes, or None when QR codes are off."""
        return self.public_base if self.verify_qr else None

    @property
    def check_limits(self) -> ChildLimits:
        """Limits of the child process that checks an uploaded PDF."""
        return ChildLimits(memory_mb=self.pdf_memory_mb, seconds=self.pdf_check_seconds)

    @property
    def verify_limits(self) -> ChildLimits:
        """Limits of the child process that verifies an uploaded file."""
        return ChildLimits(memory_mb=self.pdf_memory_mb, seconds=self.pdf_verify_seconds)

    @property
    def prepare_limits(self) -> ChildLimits:
        """Limits of the child process that prepares a draft."""
        return ChildLimits(memory_mb=self.pdf_memory_mb, seconds=self.pdf_prepare_seconds)

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
