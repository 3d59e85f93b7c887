"""The Celery worker entry point: ``celery -A api.worker.app worker -Q …``.

Reads the settings from the environment, makes the Celery app, and hands each worker
process its runtime (database, file store, token sessions) after the fork.
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_init, worker_process_init, worker_process_shutdown

from documents.tasks import configure

from ..datadir import private_files
from ..settings import Settings
from .runtime import TokenSessions, make_celery, runtime_for

private_files()  # results, broker files, signed PDFs: for the service's account only
settings = Settings()
celery_app = make_celery(settings)
_tokens: list[TokenSessions] = []


@worker_init.connect
@worker_process_init.connect
def _open_runtime(**_: Any) -> None:
    """After the fork (prefork pool), or in the worker itself (solo pool). Token
    sessions open lazily, on the first task that needs them, in the process that
    runs it."""
    runtime, tokens = runtime_for(settings)
    configure(runtime)
    _tokens[:] = [tokens]


@worker_process_shutdown.connect
def _close_tokens(**_: Any) -> None:
    for tokens in _tokens:
        tokens.close_all()
