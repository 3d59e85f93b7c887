"""The Celery worker entry point: ``celery -A api.worker.app worker -Q …``.

Reads the settings from the environment, makes the Celery app, and hands each worker
process its runtime (database, file store, token sessions) after the fork.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from celery.signals import (
    beat_embedded_init,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from ..datadir import private_files
from ..settings import Settings
from .heartbeat import Heartbeat
from .ledger import connect_signals
from .lifeline import Lifeline, die_with_parent
from .runtime import TokenSessions, make_celery, runtime_for
from .tasks import configure

private_files()  # results, broker files, signed PDFs: for the service's account only
settings = Settings()
celery_app = make_celery(settings)
_tokens: list[TokenSessions] = []
_heartbeat: list[Heartbeat] = []
_lifeline: list[Lifeline] = []
#: The worker's main process (its embedded beat, a child, dies with it).
_worker_pid: list[int] = []
connect_signals()  # the ledger of background work follows each task (api/worker/ledger.py)


def _ours(sender: Any) -> bool:
    """Whether a worker signal is about this app's worker. Celery's signals are global: in
    a process that also runs another app's worker (an in-thread test worker, a tool that
    imported this module), that worker's start must not hand the process this app's
    runtime or heartbeat. The pool's child signals have no sender: the current app
    tells (the worker's own, in its child processes)."""
    from celery import current_app

    app = getattr(sender, "app", None) or current_app._get_current_object()
    return app is celery_app


@worker_init.connect
def _watch_supervisor(sender: Any = None, **_: Any) -> None:
    """In the worker's main process: started by `kyso serve` (``KYSO_SUPERVISOR_PID``), it
    ends at most ``KYSO_ORPHAN_GRACE`` seconds after `kyso serve` died, with its beat
    child, whatever its warm shutdown waits for (api/worker/lifeline.py)."""
    if not _ours(sender):
        return
    _worker_pid[:] = [os.getpid()]
    if settings.supervisor_pid is None or _lifeline:
        return
    lifeline = Lifeline(settings.supervisor_pid, settings.orphan_grace, _warm_shutdown)
    lifeline.start()
    _lifeline[:] = [lifeline]


def _warm_shutdown() -> None:
    """What SIGTERM does to a worker (Celery's warm shutdown), unless already begun."""
    from celery.worker import state

    if not state.should_stop:
        os.kill(os.getpid(), signal.SIGTERM)


@beat_embedded_init.connect
def _beat_dies_with_worker(sender: Any = None, **_: Any) -> None:
    """In the embedded beat's process (``-B``): SIGKILL from the kernel when its worker
    dies, however it dies; no beat is left behind to send the periodic tasks twice."""
    if _worker_pid and _ours(sender):
        die_with_parent(signal.SIGKILL, _worker_pid[0])


@worker_init.connect
@worker_process_init.connect
def _open_runtime(sender: Any = None, **_: Any) -> None:
    """After the fork (prefork pool), or in the worker itself (solo pool). Token
    sessions open lazily, on the first task that needs them, in the process that
    runs it."""
    if not _ours(sender):
        return
    runtime, tokens = runtime_for(settings)
    configure(runtime)
    _tokens[:] = [tokens]


@worker_process_shutdown.connect
def _close_tokens(sender: Any = None, **_: Any) -> None:
    if not _ours(sender):
        return
    for tokens in _tokens:
        tokens.close_all()


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **_: Any) -> None:
    """The worker's sign of life in the database, every few seconds, read by
    ``/api/v1/health`` (the embedded worker runs ``--without-heartbeat``, and Celery's
    own events do not cross the SQLite broker)."""
    if not _ours(sender):
        return
    queues = sorted(sender.app.amqp.queues.consume_from) if sender is not None else []
    hostname = getattr(sender, "hostname", None) or "worker"
    beat = Heartbeat(settings, hostname, queues)
    beat.start()
    _heartbeat[:] = [beat]


@worker_shutdown.connect
def _stop_heartbeat(sender: Any = None, **_: Any) -> None:
    if not _ours(sender):
        return
    for beat in _heartbeat:
        beat.stop()
