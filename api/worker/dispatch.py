"""The documents' :class:`~documents.Dispatcher` over Celery: each act's follow-up work
sent by task name (no import of the task module), called by the act after its commit.
Each task is first written down in the ledger (:func:`api.worker.ledger.enqueue`, a
transaction of its own), so a broker that does not take it leaves it for the
reconciliation to send."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from .ledger import enqueue
from .names import (
    EXPORT_REGISTER,
    FINISH_JOB,
    ISSUE,
    MAKE_COPY,
    PREPARE,
    PREPARE_JOB,
    SIGN_APPROVAL,
    SIGN_ATTACHMENT,
)


@dataclass(frozen=True)
class CeleryPending:
    """A sent task: its id, and its result once it is there."""

    result: Any

    @property
    def id(self) -> str:
        return str(self.result.id)

    def outcome(self, timeout: float) -> object:
        from celery.exceptions import TimeoutError as CeleryTimeout

        with contextlib.suppress(CeleryTimeout):
            found: object = self.result.get(timeout=timeout, propagate=False, interval=0.05)
            return found
        return None


@dataclass(frozen=True)
class CeleryDispatcher:
    """Sends each act's follow-up task to ``celery`` (the API's Celery app), written down
    first in the ledger of background work (:func:`api.worker.ledger.enqueue`) through a
    session of ``sessions`` of its own: the act has committed and holds no transaction (on
    SQLite it would hold the write lock the ledger needs: acts read ids before committing)."""

    celery: Any
    sessions: Callable[[], Session]

    def _send(self, name: str, args: list[Any], queue: str | None = None) -> Any:
        with self.sessions() as db:
            task_id = enqueue(db, self.celery, name, args, queue=queue)
        return self.celery.AsyncResult(task_id)

    def prepare(self, document_id: str, actor: str, qr: bool | None,
                cover_draft_mark: bool) -> CeleryPending:
        return CeleryPending(self._send(PREPARE, [document_id, actor, qr, cover_draft_mark]))

    def sign_approval(self, document_id: str, person_id: int, user_id: int,
                      queue: str) -> str:
        return str(self._send(SIGN_APPROVAL, [document_id, person_id, user_id], queue).id)

    def prepare_job(self, job_id: str) -> None:
        self._send(PREPARE_JOB, [job_id])

    def finish_job(self, job_id: str) -> None:
        self._send(FINISH_JOB, [job_id])

    def issue(self, document_id: str, user_id: int, recipients: str, queue: str) -> str:
        return str(self._send(ISSUE, [document_id, user_id, recipients], queue).id)

    def sign_attachment(self, document_id: str, user_id: int, sha256: str, name: str,
                        queue: str) -> str:
        return str(self._send(SIGN_ATTACHMENT, [document_id, user_id, sha256, name],
                              queue).id)

    def make_copy(self, document_id: str, user_id: int, kind: str, key: str,
                  queue: str) -> str:
        return str(self._send(MAKE_COPY, [document_id, user_id, kind, key], queue).id)

    def export_register(self, body_id: int, year: int, fmt: str, unit: str | None,
                        date_from: str | None, date_to: str | None,
                        book: str | None) -> str:
        return str(self._send(EXPORT_REGISTER,
                              [body_id, year, fmt, unit, date_from, date_to, book]).id)
