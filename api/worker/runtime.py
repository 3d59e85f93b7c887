"""The Celery application and what each worker process opens after the fork.

Run a worker with ``celery -A api.worker.app worker -Q default,token.ubnd …``
(``kyso serve`` starts one for the embedded profile). Each process opens one session per
server-side token, once, and keeps it; a token that dropped is reopened on the
task's retry. Token PINs come from the worker's environment
(``KYSO_PIN_<TOKEN>``, e.g. ``KYSO_PIN_UBND``): never from the database or a task.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from celery import Celery
from pyhanko.sign.signers import Signer

from certs import validation_context
from documents import FileStore, Signing
from documents.queue import SmtpMailer
from documents.tasks import Runtime
from signer import PadesLevel
from tokens import TokenError, TokenRemoved
from tokens.pkcs11 import mid_signature_errors, token_error_in

from ..database import open_database_url
from ..images import Images
from ..settings import Settings
from ..trust import base_trust


def make_celery(settings: Settings) -> Celery:
    app = Celery("kyso", broker=settings.broker, backend=settings.backend,
                 include=["documents.tasks"])
    app.conf.update(
        task_default_queue="default",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        result_expires=7 * 24 * 3600,
    )
    if settings.broker.startswith(("redis://", "rediss://")):
        app.conf.broker_transport_options = {"visibility_timeout": settings.visibility_timeout}
    app.conf.beat_schedule = {
        "expire-signing-jobs": {"task": "kyso.expire_jobs", "schedule": 600.0},
        "renew-archive-timestamps": {"task": "kyso.renew_archives", "schedule": 24 * 3600.0,
                                     "args": [settings.archive_margin_days]},
    }
    if settings.smtp_host:
        app.conf.beat_schedule["send-notifications"] = {
            "task": "kyso.send_notifications", "schedule": settings.mail_interval}
    if settings.broker.startswith("sqla+"):
        # the SQLAlchemy transport polls; 0.1 s instead of 1 s (setting it through
        # broker_transport_options raises a TypeError in kombu 5.7)
        from kombu.transport import sqlalchemy as sqla_transport

        sqla_transport.Transport.polling_interval = 0.1
    return app


def pin_env(token_name: str) -> str:
    return "KYSO_PIN_" + token_name.upper().replace("-", "_")


class TokenSessions:
    """One open session per server-side token in this process, reopened after a drop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._open: dict[str, tuple[contextlib.ExitStack, Signer]] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def signer_for(self, name: str) -> Iterator[Signer]:
        with self._lock:
            if name not in self._open:
                stack = contextlib.ExitStack()
                token = self.settings.data.token(name)
                signer = stack.enter_context(token.signer(os.environ.get(pin_env(name))))
                self._open[name] = (stack, signer)
            _, signer = self._open[name]
            try:
                yield signer
            except (TokenRemoved, TokenError):
                self._close(name)
                raise
            except mid_signature_errors() as exc:
                # pyHanko lets a PKCS#11 error raised while signing (token pulled out, HSM
                # connection dropped) through unmapped: map it, so the task retries, and
                # drop the session, so the retry opens a new one and logs in again
                dropped = token_error_in(exc)
                if dropped is None:
                    raise
                self._close(name)
                raise dropped from exc

    def _close(self, name: str) -> None:
        stack, _ = self._open.pop(name, (None, None))
        if stack is not None:
            with contextlib.suppress(*mid_signature_errors(), OSError):  # already gone
                stack.close()

    def close_all(self) -> None:
        for name in list(self._open):
            self._close(name)


def runtime_for(settings: Settings) -> tuple[Runtime, TokenSessions]:
    data = settings.data
    data.activate_softhsm()
    tokens = TokenSessions(settings)
    pki = data.demo_pki()
    tsa = settings.tsa_url or (pki.tsa_url if pki else None)
    images = Images.of(data)
    sessions = open_database_url(settings)
    store = base_trust(data, sessions)  # + province and the document's body, per act
    runtime = Runtime(
        sessions=sessions,
        store=FileStore(data.files),
        signer_for=tokens.signer_for,
        signing=Signing(tsa_url=tsa, contexts=lambda: validation_context(store),
                        level=PadesLevel(settings.pades_level), trust=store,
                        seal_caption=settings.seal_caption),
        seal_for=images.seal_for,
        signature_image_for=images.signature_for,
        mailer=SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender,
                          username=settings.smtp_username, password=settings.smtp_password,
                          starttls=settings.smtp_starttls) if settings.smtp_host else None,
        public_url=settings.qr_url,
        prepare_limits=settings.prepare_limits,
    )
    return runtime, tokens
