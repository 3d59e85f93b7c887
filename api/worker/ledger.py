"""Sending work to the broker so that none is lost (:mod:`documents.background`).

:func:`enqueue` is how a route sends a document's task: the task is written down in the
route's transaction, committed, then sent with the same id; a broker that does not take it
leaves the row for the reconciliation to send. In the worker, Celery's signals move the row
along (:func:`connect_signals`); :func:`resend` is what the reconciliation sends again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from celery.signals import task_postrun, task_prerun, task_retry, task_success
from kombu.exceptions import KombuError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from documents import (
    AuditAction,
    BackgroundTask,
    SigningJob,
    StorageFull,
    User,
    record_enqueued,
    send_failed,
    task_done,
    task_failed,
    task_retrying,
    task_started,
    task_waiting,
    transaction,
    utc_now,
)
from signer import TimestampUnavailable
from tokens import RemoteServerError, RemoteUnreachable, TokenNotFound, TokenRemoved

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

log = logging.getLogger(__name__)

#: While Celery retries a task itself, the reconciliation leaves it alone this long.
CELERY_RETRY_GRACE = timedelta(minutes=5)

#: The tasks kept in the ledger, each with the audit action of its re-sends and failure.
LEDGERED = {PREPARE: AuditAction.PREPARE, SIGN_APPROVAL: AuditAction.SIGN,
            ISSUE: AuditAction.ISSUE, SIGN_ATTACHMENT: AuditAction.ATTACH,
            MAKE_COPY: AuditAction.COPY, PREPARE_JOB: AuditAction.SIGN,
            FINISH_JOB: AuditAction.SIGN, EXPORT_REGISTER: AuditAction.EXPORT}
#: Tasks whose first argument is a signing job's id (the others: a document's, but export).
BY_JOB = (PREPARE_JOB, FINISH_JOB)
#: Where the account that waits is among the arguments (PREPARE: a user name).
ACCOUNT_ARG = {ISSUE: 1, SIGN_ATTACHMENT: 1, MAKE_COPY: 1}

#: What the broker raises when it is away (the SQLite broker: SQLAlchemy's errors, among
#: them kombu's race of two processes declaring one queue at once).
BROKER_ERRORS = (KombuError, OSError, SQLAlchemyError)


def service_of(exc: BaseException) -> str | None:
    """Which service ``exc`` says is away ("tsa", "token", "database", "storage": the
    disk of the stored files full, …), or None when
    it is not an outage (a task failing for such a reason waits, it is not given up)."""
    if isinstance(exc, TimestampUnavailable):
        return "tsa"
    if isinstance(exc, (TokenRemoved, TokenNotFound)):
        return "token"
    if isinstance(exc, (RemoteUnreachable, RemoteServerError)):
        return "remote-signing"
    if isinstance(exc, OperationalError):
        return "database"
    if isinstance(exc, StorageFull):
        return "storage"
    return None  # a wrong PIN, a key or module missing, a revoked certificate: not waited on


def _waiting_person(db: Session, name: str, args: Sequence[Any]) -> int | None:
    if name == SIGN_APPROVAL and len(args) > 1:
        return int(args[1])
    if name in BY_JOB and args:
        job = db.get(SigningJob, args[0])
        return job.person_id if job is not None else None
    account = None
    if name in ACCOUNT_ARG and len(args) > ACCOUNT_ARG[name]:
        account = db.get(User, args[ACCOUNT_ARG[name]])
    elif name == PREPARE and len(args) > 1 and args[1]:
        account = db.scalar(select(User).where(User.username == args[1]))
    return account.person_id if account is not None else None


def enqueue(db: Session, celery: Any, name: str, args: Sequence[Any], *,
            queue: str | None = None) -> str:
    """Write the task down in ``db``'s transaction, commit, send it; its id.

    A broker that is away does not fail the request: the task stays written down and the
    reconciliation (Celery beat, every minute) sends it once the broker is back."""
    task_id = str(uuid.uuid4())
    first = args[0] if args else None
    record_enqueued(db, task_id, name, list(args), queue=queue,
                    document_id=str(first) if first is not None and name not in BY_JOB
                    and name != EXPORT_REGISTER else None,
                    job_id=str(first) if name in BY_JOB and first is not None else None,
                    person_id=_waiting_person(db, name, args), act=LEDGERED.get(name))
    db.commit()  # enqueue only after the commit
    for attempt in (1, 2):  # a second try at once: the SQLite broker's queue race is over
        try:
            celery.send_task(name, args=list(args), queue=queue, task_id=task_id)
            return task_id
        except BROKER_ERRORS as exc:
            log.warning("broker did not take task %s (%s), try %d: %s", name, task_id,
                        attempt, exc)
    db.rollback()
    send_failed(db, task_id)  # the reconciliation sends it once the broker takes it
    db.commit()
    return task_id


def resend(celery: Any, row: BackgroundTask) -> bool:
    """Send ``row``'s task again with its own id; False when the broker is away."""
    try:
        celery.send_task(row.name, args=row.arguments, queue=row.queue, task_id=row.id)
    except BROKER_ERRORS as exc:
        log.warning("broker did not take task %s (%s) again: %s", row.name, row.id, exc)
        return False
    return True


# ------------------------------------------------------------------ in the worker

def _in_transaction(what: Any, *args: Any, **kwargs: Any) -> None:
    from .tasks import current

    try:
        with transaction(current()) as session:
            what(session, *args, **kwargs)
    except OperationalError:  # the database away: the row catches up on the next event
        log.warning("could not update the ledger (%s)", getattr(what, "__name__", what))


def _on_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id and task is not None and task.name in LEDGERED:
        _in_transaction(task_started, task_id)


def _on_success(sender: Any = None, **_: Any) -> None:
    if sender is not None and sender.name in LEDGERED and sender.request.id:
        _in_transaction(task_done, sender.request.id)


def _on_retry(request: Any = None, reason: Any = None, sender: Any = None, **_: Any) -> None:
    """Celery retries it soon: say at once what it waits for (shown on its document).
    Should the retry be lost, the reconciliation sends it after its back-off."""
    if request is None or sender is None or sender.name not in LEDGERED:
        return
    cause = getattr(reason, "exc", None) or reason  # Celery's Retry carries the error
    service = service_of(cause) if isinstance(cause, BaseException) else None
    if service is not None:
        _in_transaction(task_waiting, request.id, str(cause), service=service,
                        retry_at=utc_now() + CELERY_RETRY_GRACE)
    else:
        _in_transaction(task_retrying, request.id)


def _on_postrun(task_id: str | None = None, task: Any = None, state: str | None = None,
                retval: Any = None, **_: Any) -> None:
    """A task Celery rejected without requeue: the broker did not take its retry (Celery
    sends a retry as a new message; with the broker away the task is dropped). It waits
    for the broker — sent again by the reconciliation once the broker is back — instead
    of staying RUNNING until it looks like a dead worker's."""
    if state != "REJECTED" or not task_id or task is None or task.name not in LEDGERED:
        return
    cause = getattr(retval, "reason", None) or retval
    _in_transaction(task_waiting, task_id,
                    f"máy chủ hàng đợi (broker) không nhận lần thử lại: {cause} / the broker "
                    f"did not take the retry: {cause}", service="broker")


def final_failure(task_id: str, exc: BaseException) -> bool:
    """A ledgered task failed after Celery's retries: True when it now waits for the
    service it could not reach (the reconciliation sends it again after a back-off), False
    when it failed for good (its row says so; the caller records the failure)."""
    from .tasks import current

    service = service_of(exc)
    with transaction(current()) as session:
        row = session.get(BackgroundTask, task_id)
        if row is None:
            return False
        if service is not None:
            task_waiting(session, task_id, str(exc), service=service)
            return True
        task_failed(session, task_id, str(exc))
        return False


def connect_signals() -> None:
    """Move ledger rows along from this worker's Celery signals (idempotent)."""
    task_prerun.connect(_on_prerun, weak=False, dispatch_uid="kyso-ledger-prerun")
    task_success.connect(_on_success, weak=False, dispatch_uid="kyso-ledger-success")
    task_retry.connect(_on_retry, weak=False, dispatch_uid="kyso-ledger-retry")
    task_postrun.connect(_on_postrun, weak=False, dispatch_uid="kyso-ledger-postrun")


__all__ = ["BY_JOB", "LEDGERED", "connect_signals", "enqueue", "final_failure", "resend",
           "service_of"]
