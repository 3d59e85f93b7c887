"""The periodic jobs that keep a live instance tidy, run by Celery beat (see
:func:`api.worker.runtime.make_celery`): certificate expiry notices (60, 30 and 7 days
before, each once), reminders of overdue signing requests, forgetting old login
attempts, and the reconciliation of background work (:mod:`documents.background`).
Each is one transaction over a plain function of ``documents``."""

from __future__ import annotations

from typing import Any

from celery import current_app, shared_task

from documents import (
    BackgroundTask,
    forget_login_attempts,
    notify_expiring,
    notify_overdue,
    run_reconcile,
)

from .ledger import resend
from .names import FINISH_JOB, PREPARE_JOB, SIGN_APPROVAL
from .tasks import current

NOTIFY_EXPIRING = "kyso.notify_expiring"
NOTIFY_OVERDUE = "kyso.notify_overdue"
FORGET_LOGIN_ATTEMPTS = "kyso.forget_login_attempts"
RECONCILE = "kyso.reconcile"
#: The tasks of the work the reconciliation recognises from documents' and jobs' states
#: (documents.background.adopt_orphans).
ORPHAN_TASKS = {"sign_approval": SIGN_APPROVAL, "prepare_job": PREPARE_JOB,
                "finish_job": FINISH_JOB}

PERIODIC = {"acks_late": True, "soft_time_limit": 300, "time_limit": 360}


@shared_task(name=NOTIFY_EXPIRING, **PERIODIC)
def notify_expiring_certificates() -> int:
    """In-app notices (and e-mail, through the notification queue) for certificates that
    expire within 60, 30 or 7 days; how many were made."""
    with current().sessions() as session, session.begin():
        return len(notify_expiring(session))


@shared_task(name=NOTIFY_OVERDUE, **PERIODIC)
def remind_overdue() -> int:
    """A notice to each signer about a request past its due time (once each)."""
    with current().sessions() as session, session.begin():
        return len(notify_overdue(session))


@shared_task(name=FORGET_LOGIN_ATTEMPTS, **PERIODIC)
def forget_old_login_attempts() -> int:
    """Delete login attempts older than 30 days; how many."""
    with current().sessions() as session, session.begin():
        return forget_login_attempts(session)


@shared_task(name=RECONCILE, acks_late=True, soft_time_limit=50, time_limit=60)
def reconcile_background_work() -> dict[str, Any]:
    """:func:`documents.run_reconcile`: send again what a broker or a dead worker lost and
    what waited for a service; give up, with a reason, on what cannot be done."""
    app = current_app

    def send(row: BackgroundTask) -> bool:
        return resend(app, row)

    return run_reconcile(current(), send, task_names=ORPHAN_TASKS,
                         **current().reconcile_limits)
