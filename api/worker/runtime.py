"""The Celery application and what each worker process opens after the fork.

Run a worker with ``celery -A api.worker.app worker -Q default,token.ubnd …``
(``kyso serve`` starts one for the embedded profile). Each process opens one session per
server-side token, once, and keeps it; a token that dropped is reopened on the
task's retry. Token PINs come from the worker's environment
(``KYSO_PIN_<TOKEN>``, e.g. ``KYSO_PIN_UBND``): never from the database or a task.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import timedelta

from celery import Celery
from pyhanko.sign.signers import Signer

from certs import SharedFetchers, validation_context
from documents import FileStore, Runtime, Signing, seal_image_for, signature_image_for
from signer import PadesLevel
from tokens import TokenError, TokenRemoved, mid_signature_errors, token_error_in

from ..database import open_database_url
from ..settings import ENVIRONMENT, Settings
from ..trust import base_trust
from .mail import smtp_mailer


def make_celery(settings: Settings) -> Celery:
    app = Celery("kyso", broker=settings.broker, backend=settings.backend,
                 include=["api.worker.tasks", "api.worker.periodic"])
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
        # certificates expiring in 60/30/7 days: each notice once (documents/expiry.py)
        "notify-expiring-certificates": {"task": "kyso.notify_expiring",
                                         "schedule": 6 * 3600.0},
        "remind-overdue-signatures": {"task": "kyso.notify_overdue", "schedule": 900.0},
        "forget-login-attempts": {"task": "kyso.forget_login_attempts",
                                  "schedule": 24 * 3600.0},
        # lost, stuck or waiting background work sent again (documents/background.py)
        "reconcile-background-work": {"task": "kyso.reconcile",
                                      "schedule": settings.reconcile_interval},
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
                signer = stack.enter_context(token.signer(ENVIRONMENT.token_pin(name)))
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
    sessions = open_database_url(settings)
    store = base_trust(data, sessions)  # + province and the document's body, per act
    runtime = Runtime(
        sessions=sessions,
        store=FileStore(data.files),
        signer_for=tokens.signer_for,
        # the pre-signing checks' OCSP/CRL answers are reused for 5 minutes, as the
        # batch verification's are (certs.SharedFetchers): a batch of signatures of one
        # key asks the responder once, not once per document
        signing=Signing(tsa_url=tsa, contexts=lambda: validation_context(store),
                        level=PadesLevel(settings.pades_level), trust=store,
                        fetchers=SharedFetchers(),
                        seal_caption=settings.seal_caption),
        seal_for=seal_image_for,  # the pictures the body's administrator uploaded
        signature_image_for=signature_image_for,
        mailer=smtp_mailer(settings),
        public_url=settings.qr_url,
        prepare_limits=settings.prepare_limits,
        reconcile_limits={"running_stale": timedelta(seconds=settings.task_stale_seconds),
                          "queued_stale": timedelta(seconds=settings.queued_stale_seconds)},
    )
    return runtime, tokens
