"""The worker's heartbeat: a row of ``worker_heartbeat`` written every few seconds by a
thread of the worker's main process (:func:`documents.beat`), whatever the broker."""

from __future__ import annotations

import logging
import os
import threading

from sqlalchemy.exc import SQLAlchemyError

from documents import beat, worker_stopped

from ..database import open_database_url
from ..settings import Settings

log = logging.getLogger(__name__)

#: seconds between two heartbeats (documents.HEARTBEAT_STALE counts a worker dead)
INTERVAL = 10.0


class Heartbeat:
    """A daemon thread writing this worker's row until :meth:`stop`."""

    def __init__(self, settings: Settings, hostname: str, queues: list[str],
                 interval: float = INTERVAL) -> None:
        self.sessions = open_database_url(settings)
        self.key = f"{hostname}:{os.getpid()}"
        self.queues = queues
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kyso-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def beat_once(self) -> None:
        with self.sessions() as session, session.begin():
            beat(session, self.key, os.getpid(), self.queues)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat_once()
            except SQLAlchemyError as exc:  # the database away: try again next time
                log.warning("heartbeat not written: %s", exc)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            with self.sessions() as session, session.begin():
                worker_stopped(session, self.key)
        except SQLAlchemyError as exc:
            log.warning("heartbeat row not removed: %s", exc)
