"""The Celery tasks: thin callers of the plain functions of :mod:`documents.work`.

Each task takes ids, gets this process's :class:`documents.Runtime` (handed over once
per worker process by :mod:`api.worker.app` through :func:`configure`) and calls one
``documents.run_*`` function, which reloads the rows, skips a document already past the
step and runs the act in one transaction. Only named transient errors are retried; a
task that failed for good is recorded where people see it (:class:`KysoTask`).
The names (:mod:`api.worker.names`) are in the broker and never change.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from sqlalchemy.exc import OperationalError

from documents import (
    AuditAction,
    Runtime,
    StorageFull,
    record_failure,
    run_attachment,
    run_copy,
    run_expire_jobs,
    run_finish_job,
    run_issue,
    run_prepare,
    run_prepare_job,
    run_renew_archives,
    run_send_notifications,
    run_sign_approval,
)
from signer import TimestampUnavailable
from tokens import TokenNotFound, TokenRemoved

from ..exports import export_register as run_export_register
from .names import (
    EXPIRE_JOBS,
    EXPORT_REGISTER,
    FINISH_JOB,
    ISSUE,
    MAKE_COPY,
    PREPARE,
    PREPARE_JOB,
    RENEW_ARCHIVES,
    SEND_MAIL,
    SIGN_APPROVAL,
    SIGN_ATTACHMENT,
)

#: Errors worth another try: the TSA or the database was briefly away, a token was
#: unplugged or its HSM connection dropped (the session is reopened on retry), the disk
#: of the stored files was full (nothing written, the transaction rolled back).
TRANSIENT = (TimestampUnavailable, TokenRemoved, TokenNotFound, OperationalError,
             StorageFull)

#: What a task that failed for good was doing: its audit action. The document it was about
#: (its first argument; for the job tasks, the job's document) keeps the reason.
FAILED_ACTS = {SIGN_APPROVAL: AuditAction.SIGN, ISSUE: AuditAction.ISSUE,
               SIGN_ATTACHMENT: AuditAction.ATTACH, MAKE_COPY: AuditAction.COPY,
               PREPARE_JOB: AuditAction.SIGN, FINISH_JOB: AuditAction.SIGN}

log = logging.getLogger(__name__)

_runtime: list[Runtime] = []


def configure(runtime: Runtime) -> None:
    _runtime[:] = [runtime]


def current() -> Runtime:
    if not _runtime:
        raise RuntimeError("api.worker.tasks.configure() was not called in this process")
    return _runtime[0]


def on_final_failure(task_name: str, task_id: str, exc: BaseException,
                     args: tuple[Any, ...]) -> None:
    """Record a task's final failure on the document it was about (see
    :func:`documents.record_failure`); a failed approval signature goes back to the
    signer's queue. A task that could not reach a service (the TSA, a token, the
    database) is not given up: it waits for it (:func:`api.worker.ledger.final_failure`)."""
    from .ledger import LEDGERED, final_failure

    if task_name in LEDGERED and final_failure(task_id, exc):
        return  # waits for the service it could not reach: sent again, not given up
    action = FAILED_ACTS.get(task_name)
    if action is None or not args:
        return
    by_job = task_name in (PREPARE_JOB, FINISH_JOB)
    record_failure(current(), action, exc,
                   job_id=args[0] if by_job else None,
                   document_id=None if by_job else args[0],
                   reopen_for=args[1] if task_name == SIGN_APPROVAL else None,
                   details={"task": task_name, "task_id": task_id})


class KysoTask(Task):  # type: ignore[misc]
    """A document task whose final failure is recorded where people see it."""

    def on_failure(self, exc: BaseException, task_id: str, args: tuple[Any, ...],
                   kwargs: dict[str, Any], einfo: Any) -> None:
        try:
            on_final_failure(self.name, task_id, exc, tuple(args))
        except Exception:  # the worker's boundary: log, never mask the task's error
            log.exception("could not record the failure of task %s (%s)", self.name, task_id)


TASK_OPTIONS: dict[str, Any] = {
    "base": KysoTask,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 5,
    "soft_time_limit": 120,
    "time_limit": 180,
}


@shared_task(name=PREPARE, **TASK_OPTIONS)
def prepare_document(document_id: str, actor: str = "", qr: bool | None = None,
                     cover_draft_mark: bool = False) -> dict[str, str]:
    """:func:`documents.run_prepare`: locate the draft's elements and add the fields."""
    return run_prepare(current(), document_id, actor, qr, cover_draft_mark)


@shared_task(name=EXPORT_REGISTER, **TASK_OPTIONS)
def export_register(body_id: int, year: int, fmt: str, unit: str | None = None,
                    date_from: str | None = None, date_to: str | None = None,
                    book: str | None = None) -> dict[str, Any]:
    """:func:`api.exports.export_register`: the register as PDF or XLSX, stored."""
    return run_export_register(current(), body_id, year, fmt, unit, date_from, date_to, book)


@shared_task(name=SIGN_APPROVAL, **TASK_OPTIONS)
def sign_approval(document_id: str, person_id: int, account_id: int) -> str:
    """:func:`documents.run_sign_approval`: an approval signature on a server-side token."""
    return run_sign_approval(current(), document_id, person_id, account_id)


@shared_task(name=PREPARE_JOB, **TASK_OPTIONS)
def prepare_signing_job(job_id: str) -> str:
    """:func:`documents.run_prepare_job`: the digest a key the service does not hold signs."""
    return run_prepare_job(current(), job_id)


@shared_task(name=FINISH_JOB, **TASK_OPTIONS)
def finish_signing_job(job_id: str) -> str:
    """:func:`documents.run_finish_job`: embed an agent's or remote service's signature."""
    return run_finish_job(current(), job_id)


@shared_task(name=EXPIRE_JOBS, acks_late=True, soft_time_limit=120, time_limit=180)
def expire_signing_jobs() -> int:
    """:func:`documents.run_expire_jobs` (Celery beat, every 10 minutes)."""
    return run_expire_jobs(current())


@shared_task(name=RENEW_ARCHIVES, acks_late=True, soft_time_limit=1800, time_limit=2000,
             autoretry_for=(TimestampUnavailable,), retry_backoff=60, max_retries=3)
def renew_archives(margin_days: int = 180, limit: int = 200) -> int:
    """:func:`documents.run_renew_archives` (Celery beat, daily)."""
    return run_renew_archives(current(), margin_days, limit)


@shared_task(name=ISSUE, **TASK_OPTIONS)
def issue_document(document_id: str, account_id: int, recipients: str = "") -> str:
    """:func:`documents.run_issue`: number, date, register entry, organisation signature."""
    return run_issue(current(), document_id, account_id, recipients)


@shared_task(name=SIGN_ATTACHMENT, **TASK_OPTIONS)
def attach(document_id: str, account_id: int, sha256: str, file_name: str) -> str:
    """:func:`documents.run_attachment`: sign an attachment of an issued document."""
    return run_attachment(current(), document_id, account_id, sha256, file_name)


@shared_task(name=MAKE_COPY, **TASK_OPTIONS)
def copy_document(document_id: str, account_id: int, kind: str, request_key: str) -> str:
    """:func:`documents.run_copy`: an electronic copy with its own number."""
    return run_copy(current(), document_id, account_id, kind, request_key)


@shared_task(name=SEND_MAIL, acks_late=True, soft_time_limit=120, time_limit=180)
def send_notifications() -> int:
    """:func:`documents.run_send_notifications` (Celery beat)."""
    return run_send_notifications(current())


__all__ = [
    "FAILED_ACTS",
    "TASK_OPTIONS",
    "TRANSIENT",
    "KysoTask",
    "Runtime",
    "attach",
    "configure",
    "copy_document",
    "current",
    "expire_signing_jobs",
    "export_register",
    "finish_signing_job",
    "issue_document",
    "on_final_failure",
    "prepare_document",
    "prepare_signing_job",
    "renew_archives",
    "send_notifications",
    "sign_approval",
]
