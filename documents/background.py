"""Background work the service owes someone, kept in the database so nothing stays stuck.

Every task a person's act sends to the Celery broker is first written down as a
:class:`BackgroundTask` row (the ledger), in the transaction of the act, under the Celery
task id it is sent with. The worker moves the row along (:func:`task_started`,
:func:`task_done`, :func:`task_waiting`, :func:`task_failed`); the periodic
reconciliation (:func:`reconcile`, Celery beat every minute) finds what a broker or a
worker lost and sends it again with the same task id, or gives up on it with a reason::

    QUEUED ──worker starts──▶ RUNNING ──▶ DONE
      ▲  │                      │  │
      │  │ sent long ago, never │  └──service away (TSA, token, remote signing,
      │  │ started (broker lost │      database)──▶ WAITING_SERVICE ──back-off──▶ sent again
      │  │ it): sent again      │ the worker died (started longer ago than a task may run)
      └──┴──────────────────────┘──▶ sent again; FAILED after MAX_DEATHS or GIVE_UP_AFTER

Sending again is safe because every task is idempotent (``documents/work.py``: a document
past the step is left alone, the numbered acts lock the document's row first), so a task
delivered twice still signs and numbers once. Each re-send, each wait for a service and
each failure is an audit event on the document and a notice to the person waiting.

:class:`WorkerHeartbeat` is the other half of "is the work moving": each worker writes its
row every few seconds (:func:`beat`), whatever the broker; ``/api/v1/health`` reads them.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .audit import AuditAction, record
from .job_status import JobStatus
from .models import Base, Document, Person, enum_type
from .queue import NotificationKind, reopen_after_failure
from .queue.notices import _drafter_of, describe, notify
from .sqltypes import Nfc, UtcDateTime, utc_now

SYSTEM = "hệ thống"

#: A task may run at most this long (the tasks' hard time limit, 180 s, and a margin):
#: one still RUNNING after it lost its worker.
RUNNING_STALE = timedelta(seconds=240)
#: A task sent this long ago and never started: the broker lost it (a broker restarted
#: without persistence, a message a killed worker had taken from the SQLite broker).
QUEUED_STALE = timedelta(minutes=15)
#: A task whose worker died this many times is not sent again (it may be what kills it).
MAX_DEATHS = 3
#: Work older than this is given up with a reason (a service away for a whole day).
GIVE_UP_AFTER = timedelta(hours=24)
#: Waiting for a service: first try again after this, doubling up to SERVICE_BACKOFF_MAX.
SERVICE_BACKOFF = timedelta(seconds=20)
SERVICE_BACKOFF_MAX = timedelta(minutes=10)
#: How the problem of a document whose work waits for a service begins.
WAITING_PREFIX = "Đang chờ dịch vụ"
#: A worker whose last heartbeat is older than this is not counted as alive.
HEARTBEAT_STALE = timedelta(seconds=45)


class TaskState(enum.Enum):
    """Where a piece of background work is; the value is the Vietnamese label."""

    QUEUED = "Đang chờ xử lý"
    RUNNING = "Đang xử lý"
    WAITING_SERVICE = "Chờ dịch vụ"
    DONE = "Hoàn tất"
    FAILED = "Không thành công"


LIVE = (TaskState.QUEUED, TaskState.RUNNING, TaskState.WAITING_SERVICE)


class BackgroundTask(Base):
    """One task sent (or to be sent) to the broker, under its Celery task id."""

    __tablename__ = "background_task"
    __table_args__ = (Index("ix_background_task_state", "state"),
                      Index("ix_background_task_document", "document_id"))

    id: Mapped[str] = mapped_column(String(155), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The task's positional arguments, JSON.
    args: Mapped[str] = mapped_column(Text, default="[]")
    queue: Mapped[str | None] = mapped_column(String(200))
    document_id: Mapped[str | None] = mapped_column(String(36))
    job_id: Mapped[str | None] = mapped_column(String(36))
    #: Who waits for it (told when it is sent again, waits for a service or fails).
    person_id: Mapped[int | None] = mapped_column(Integer)
    #: The audit action its re-sends and failure are recorded under (AuditAction name).
    act: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[TaskState] = mapped_column(enum_type(TaskState, "task_state"),
                                             default=TaskState.QUEUED)
    #: Times a worker started it; times the reconciliation sent it again.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    resent: Mapped[int] = mapped_column(Integer, default=0)
    #: Why it waits or failed ("vi / en").
    problem: Mapped[str | None] = mapped_column(Nfc(1000))
    enqueued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    #: When it was last handed to the broker; None while the broker could not take it.
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: WAITING_SERVICE: when the reconciliation sends it again.
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @property
    def arguments(self) -> list[Any]:
        value: list[Any] = json.loads(self.args)
        return value

    def __repr__(self) -> str:
        return f"<BackgroundTask {self.id} {self.name} {self.state.name}>"


class WorkerHeartbeat(Base):
    """A worker's sign of life, written every few seconds by the worker itself."""

    __tablename__ = "worker_heartbeat"

    hostname: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[str] = mapped_column(String(1000), default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


# ------------------------------------------------------------------------ the ledger

def record_enqueued(session: Session, task_id: str, name: str, args: Sequence[Any], *,
                    queue: str | None = None, document_id: str | None = None,
                    job_id: str | None = None, person_id: int | None = None,
                    act: AuditAction | None = None,
                    now: datetime | None = None) -> BackgroundTask:
    """Write down a task about to be sent (in the caller's transaction; the caller sends
    it after the commit, with ``task_id``)."""
    now = now or utc_now()
    row = BackgroundTask(id=task_id, name=name, args=json.dumps(list(args)), queue=queue,
                         document_id=document_id, job_id=job_id, person_id=person_id,
                         act=act.name if act else None, enqueued_at=now, sent_at=now)
    session.add(row)
    session.flush()
    return row


def send_failed(session: Session, task_id: str) -> None:
    """The broker did not take the task: the reconciliation sends it when it can."""
    row = session.get(BackgroundTask, task_id)
    if row is not None and row.state is TaskState.QUEUED:
        row.sent_at = None
        session.flush()


def task_started(session: Session, task_id: str, *, now: datetime | None = None) -> None:
    row = session.get(BackgroundTask, task_id)
    if row is None or row.state in (TaskState.DONE, TaskState.FAILED):
        return  # not ledgered (periodic), or a duplicate of finished work: a no-op run
    row.state = TaskState.RUNNING
    row.attempts += 1
    row.started_at = now or utc_now()
    session.flush()


def task_done(session: Session, task_id: str, *, now: datetime | None = None) -> None:
    row = session.get(BackgroundTask, task_id)
    if row is None or row.state is TaskState.DONE:
        return
    resumed = row.state is TaskState.WAITING_SERVICE or row.problem is not None
    row.state = TaskState.DONE
    row.finished_at = now or utc_now()
    row.next_try_at = None
    if resumed:
        _audit(session, row, "resumed", reason=row.problem)
        document = _document(session, row)
        if document is not None and (document.problem or "").startswith(WAITING_PREFIX):
            document.problem = None
    row.problem = None
    session.flush()


def task_retrying(session: Session, task_id: str, *, now: datetime | None = None) -> None:
    """Celery sends the task again itself (a retry): it waits in the broker again."""
    row = session.get(BackgroundTask, task_id)
    if row is None or row.state is not TaskState.RUNNING:
        return
    row.state = TaskState.QUEUED
    row.sent_at = now or utc_now()
    session.flush()


def _backoff(resent: int) -> timedelta:
    later: timedelta = SERVICE_BACKOFF * (2 ** min(resent, 16))
    return min(later, SERVICE_BACKOFF_MAX)


def task_waiting(session: Session, task_id: str, reason: str, *, service: str,
                 retry_at: datetime | None = None, now: datetime | None = None) -> None:
    """The task could not reach a service (``service``: what is away, e.g. "tsa"); it
    will be tried again at ``retry_at`` (by Celery's own retry), else after the back-off
    (by the reconciliation). The first time in a row it says so on the document, in the
    audit trail and to the person waiting."""
    row = session.get(BackgroundTask, task_id)
    if row is None or row.state in (TaskState.DONE, TaskState.FAILED):
        return
    now = now or utc_now()
    first = row.problem is None  # a new spell of waiting, not Celery's next retry
    row.state = TaskState.WAITING_SERVICE
    row.problem = reason[:1000]
    row.next_try_at = retry_at or now + _backoff(row.resent)
    document = _document(session, row)
    text = waiting_text(reason)
    if document is not None:
        document.problem = text[:1000]
    if first:
        _audit(session, row, "waiting_for_service", service=service, reason=reason)
        if document is not None:
            _tell(session, row, document, NotificationKind.WORK_DELAYED,
                  f"{describe(document)} đang chờ dịch vụ ({service}) và sẽ tự tiếp tục "
                  f"khi dịch vụ hoạt động lại: {reason}")
    session.flush()


def waiting_text(reason: str) -> str:
    """What the document's pages show while its work waits for a service."""
    return (f"{WAITING_PREFIX}, sẽ tự tiếp tục khi dịch vụ hoạt động lại — {reason} — "
            "waiting for a service, resumes by itself when it is back")


def batch_waiting(session: Session, person_id: int, batch: str, reason: str, *,
                  service: str) -> int:
    """A signing batch the official authorised could not reach its remote-signing service
    (``service``): its jobs stay (READY, or PREPARING when the certificate could not be
    fetched) with the reason, each document shows the waiting-for-a-service state, and the
    first time the audit trail, the official and the drafter are told. Nothing resumes by
    itself — the PIN or OTP is never kept — but one new authorisation signs the whole batch
    once the service is back (:func:`batch_resumed`). How many documents wait."""
    from .jobs import SigningJob

    jobs = session.scalars(select(SigningJob).where(
        SigningJob.person_id == person_id, SigningJob.batch == batch,
        SigningJob.status.in_((JobStatus.PREPARING, JobStatus.READY)))).all()
    text = (f"{WAITING_PREFIX} ký số từ xa — {reason} — khi dịch vụ hoạt động lại, người "
            "ký xác nhận lại một lần để ký cả lô / waiting for the remote-signing service: "
            "once it is back, the signer authorises the batch once more")[:1000]
    for job in jobs:
        job.error = text
        document = job.document
        first = not (document.problem or "").startswith(WAITING_PREFIX)
        document.problem = text
        if first:
            record(session, AuditAction.SIGN, actor=SYSTEM, body_id=document.body_id,
                   object_type="document", object_id=document.id,
                   details={"background": "waiting_for_service", "service": service,
                            "reason": reason, "batch": batch, "job_id": job.id})
            for person in dict.fromkeys((person_id, _drafter_of(session, document))):
                if person is not None:
                    notify(session, person, NotificationKind.WORK_DELAYED,
                           f"{describe(document)} đang chờ dịch vụ ({service}): {reason} — "
                           "khi dịch vụ hoạt động lại, người ký xác nhận lại một lần để ký "
                           "cả lô", document)
    session.flush()
    return len(jobs)


def batch_resumed(session: Session, jobs: Sequence[Any]) -> None:
    """The remote-signing service took the batch's signatures: the documents that said
    they waited for it no longer do (and the audit trail says so)."""
    for job in jobs:
        document = job.document
        if (document.problem or "").startswith(WAITING_PREFIX):
            document.problem = None
            record(session, AuditAction.SIGN, actor=SYSTEM, body_id=document.body_id,
                   object_type="document", object_id=document.id,
                   details={"background": "resumed", "batch": job.batch, "job_id": job.id})
    session.flush()


def task_failed(session: Session, task_id: str, reason: str, *,
                now: datetime | None = None) -> None:
    """The task failed for good (the document's problem and the audit event are the
    failure hook's, :func:`documents.record_failure`)."""
    row = session.get(BackgroundTask, task_id)
    if row is None or row.state in (TaskState.DONE, TaskState.FAILED):
        return
    row.state = TaskState.FAILED
    row.problem = reason[:1000]
    row.finished_at = now or utc_now()
    row.next_try_at = None
    session.flush()


def _document(session: Session, row: BackgroundTask) -> Document | None:
    if row.document_id is not None:
        return session.get(Document, row.document_id)
    if row.job_id is not None:
        from .jobs import SigningJob

        job = session.get(SigningJob, row.job_id)
        return job.document if job is not None else None
    return None


def _tell(session: Session, row: BackgroundTask, document: Document, kind: NotificationKind,
          text: str) -> None:
    """The person waiting for the task (who asked for it) and the document's drafter."""
    for person_id in dict.fromkeys((row.person_id, _drafter_of(session, document))):
        if person_id is not None:
            notify(session, person_id, kind, text, document)


def _audit(session: Session, row: BackgroundTask, what: str, **details: Any) -> None:
    document = _document(session, row)
    action = AuditAction[row.act] if row.act else AuditAction.ADMIN_CHANGE
    record(session, action, actor=SYSTEM,
           body_id=document.body_id if document is not None else None,
           object_type="document" if document is not None else "background_task",
           object_id=document.id if document is not None else row.id,
           details={"background": what, "task": row.name, "task_id": row.id,
                    "attempts": row.attempts, "resent": row.resent, **details})


# --------------------------------------------------------------- the reconciliation

@dataclass(frozen=True)
class Outcome:
    """What one reconciliation run did: the rows to send again (after the commit) and
    the ones given up, each with its reason."""

    resend: list[BackgroundTask]
    failed: list[tuple[BackgroundTask, str]]


#: What the person waiting is told when their task is sent again, by the reason (the
#: wait for a service was told when it began: :func:`task_waiting`).
_RESENT_TEXT = {
    "worker_lost": "máy xử lý đã dừng giữa chừng, việc được làm lại tự động (không ký hay "
                   "cấp số hai lần).",
    "never_sent": "hàng đợi việc nền chưa nhận việc (máy chủ hàng đợi tạm ngừng), việc đã "
                  "được gửi lại tự động.",
    "lost_in_broker": "việc nền bị mất trong hàng đợi, đã được gửi lại tự động (không ký "
                      "hay cấp số hai lần).",
}


def reconcile(session: Session, *, now: datetime | None = None,
              running_stale: timedelta = RUNNING_STALE, queued_stale: timedelta = QUEUED_STALE,
              give_up_after: timedelta = GIVE_UP_AFTER, max_deaths: int = MAX_DEATHS,
              task_names: dict[str, str] | None = None) -> Outcome:
    """Find the work that nothing is moving and send it again or give it up.

    - QUEUED, never handed to the broker (it was away) → sent;
    - QUEUED, sent more than ``queued_stale`` ago and never started → sent again;
    - RUNNING, started more than ``running_stale`` ago → its worker died: sent again,
      unless it already killed ``max_deaths`` workers;
    - WAITING_SERVICE, its back-off over → sent again;
    - anything enqueued more than ``give_up_after`` ago → given up.

    With ``task_names``, first :func:`adopt_orphans`. Marks and audits in the caller's
    transaction; the caller sends ``resend`` (name,
    arguments, queue, same task id) after committing and records each failure on its
    document (:func:`documents.record_failure`).
    """
    now = now or utc_now()
    if task_names is not None:
        adopt_orphans(session, task_names, now=now)
    resend: list[BackgroundTask] = []
    failed: list[tuple[BackgroundTask, str]] = []
    rows = session.scalars(select(BackgroundTask).where(BackgroundTask.state.in_(LIVE))
                           .order_by(BackgroundTask.enqueued_at)).all()
    for row in rows:
        why = _why_resend(row, now, running_stale, queued_stale)
        if why is None:
            continue
        if row.enqueued_at <= now - give_up_after:
            failed.append((row, _give_up(session, row, now, _too_long(give_up_after, row))))
            continue
        if why == "worker_lost" and row.attempts >= max_deaths:
            failed.append((row, _give_up(session, row, now, _deaths(row.attempts))))
            continue
        row.resent += 1
        row.sent_at = now
        if row.state is TaskState.RUNNING:
            row.state = TaskState.QUEUED
        if row.state is TaskState.WAITING_SERVICE:
            row.next_try_at = now + _backoff(row.resent)
        _audit(session, row, "resent", why=why)
        document = _document(session, row)
        told = _RESENT_TEXT.get(why)
        # once per task for the broker's cases (a broker away for long resends every run)
        if told is not None and document is not None and (why == "worker_lost"
                                                           or row.resent == 1):
            _tell(session, row, document, NotificationKind.WORK_DELAYED,
                  f"{describe(document)}: {told}")
        resend.append(row)
    session.flush()
    return Outcome(resend, failed)


#: The kinds of work :func:`adopt_orphans` recognises from the documents' and jobs' states.
ORPHAN_KINDS = ("sign_approval", "prepare_job", "finish_job")
#: How long after an act its task may still be on its way (the act commits before it sends).
ORPHAN_GRACE = timedelta(minutes=2)


def adopt_orphans(session: Session, task_names: dict[str, str], *,
                  now: datetime | None = None, grace: timedelta = ORPHAN_GRACE
                  ) -> list[BackgroundTask]:
    """Work the documents' and jobs' states say is owed but no live task carries (sent
    before the ledger existed, or its row lost): written down, unsent, for :func:`reconcile`
    to send. ``task_names`` maps each of :data:`ORPHAN_KINDS` to its Celery task name.

    - a document AWAITING_SIGNATURE whose every request is approved, the last more than
      ``grace`` ago, its signer's key on a server token, and no live approval task → the
      approval signature (as the account that approved);
    - a hash-only job SIGNED (the key's signature is in) with no live finish task → finish;
    - a job PREPARING whose certificate is on file, with no live prepare task → prepare.
    """
    from .accounts import User
    from .custody import Channel, approval_custody
    from .errors import DocumentsError
    from .job_status import JobStatus
    from .jobs import SignerCertificate, SigningJob
    from .models import DocumentStatus
    from .queue import current_signer
    from .queue.records import LIVE as LIVE_REQUESTS
    from .queue.records import current_round, round_requests

    now = now or utc_now()
    adopted: list[BackgroundTask] = []
    live_docs = set(session.scalars(select(BackgroundTask.document_id).where(
        BackgroundTask.state.in_(LIVE), BackgroundTask.name == task_names["sign_approval"])))
    live_jobs = set(session.scalars(select(BackgroundTask.job_id).where(
        BackgroundTask.state.in_(LIVE), BackgroundTask.job_id.is_not(None))))
    open_jobs = set(session.scalars(select(SigningJob.document_id).where(
        SigningJob.status.in_((JobStatus.PREPARING, JobStatus.READY, JobStatus.SIGNED)))))
    for document in session.scalars(select(Document).where(
            Document.status == DocumentStatus.AWAITING_SIGNATURE)):
        if document.id in live_docs or document.id in open_jobs:
            continue
        signer = current_signer(session, document)
        round_ = current_round(session, document)
        if signer is None or round_ is None:
            continue
        last = round_requests(session, document.id, round_, *LIVE_REQUESTS)[-1]
        if last.decided_at is None or last.decided_at > now - grace or not last.decided_by:
            continue
        account = session.scalar(select(User).where(User.username == last.decided_by))
        if account is None:
            continue
        try:
            custody = approval_custody(session, account, document, person_id=signer.id,
                                       server=False)
        except DocumentsError:
            continue  # the authority ended meanwhile: nothing to sign with
        if custody.channel is not Channel.SERVER:
            continue
        adopted.append(_adopt(session, task_names["sign_approval"],
                              [document.id, signer.id, account.id], now, queue=custody.queue,
                              document=document, person_id=signer.id, act=AuditAction.SIGN))
    jobs = session.scalars(select(SigningJob).where(
        SigningJob.status.in_((JobStatus.SIGNED, JobStatus.PREPARING)),
        SigningJob.created_at <= now - grace))
    for job in jobs:
        if job.id in live_jobs:
            continue
        if job.status is JobStatus.PREPARING and \
                session.get(SignerCertificate, job.certificate_sha256) is None:
            continue  # waits for the agent to hand the certificate over: not stuck
        kind = "finish_job" if job.status is JobStatus.SIGNED else "prepare_job"
        adopted.append(_adopt(session, task_names[kind], [job.id], now, job_id=job.id,
                              document=job.document, person_id=job.person_id,
                              act=AuditAction.SIGN))
    session.flush()
    return adopted


def _adopt(session: Session, name: str, args: list[Any], now: datetime, *,
           document: Document, person_id: int | None, act: AuditAction,
           queue: str | None = None, job_id: str | None = None) -> BackgroundTask:
    import uuid

    row = record_enqueued(session, str(uuid.uuid4()), name, args, queue=queue,
                          document_id=None if job_id else document.id, job_id=job_id,
                          person_id=person_id, act=act, now=now)
    row.sent_at = None  # sent by the reconciliation that follows
    _audit(session, row, "adopted", found=document.status.name)
    return row


def _why_resend(row: BackgroundTask, now: datetime, running_stale: timedelta,
                queued_stale: timedelta) -> str | None:
    if row.state is TaskState.QUEUED:
        if row.sent_at is None:
            return "never_sent"
        return "lost_in_broker" if row.sent_at <= now - queued_stale else None
    if row.state is TaskState.RUNNING:
        started = row.started_at or row.enqueued_at
        return "worker_lost" if started <= now - running_stale else None
    due = row.next_try_at or row.enqueued_at
    return "service_back_off" if due <= now else None


def _too_long(limit: timedelta, row: BackgroundTask) -> str:
    hours = int(limit.total_seconds() // 3600)
    waited = f" ({row.problem})" if row.problem else ""
    return (f"việc nền không hoàn tất sau {hours} giờ{waited}, đã dừng thử lại — làm lại "
            f"thao tác khi dịch vụ hoạt động / background work not done after {hours} h, "
            "no more tries — do the act again once the service works")


def _deaths(attempts: int) -> str:
    return (f"máy xử lý đã dừng {attempts} lần khi làm việc này, không thử lại nữa — báo "
            f"quản trị / the worker stopped {attempts} times doing this task, not tried "
            "again — tell the administrator")


def _give_up(session: Session, row: BackgroundTask, now: datetime, reason: str) -> str:
    row.state = TaskState.FAILED
    row.problem = reason[:1000]
    row.finished_at = now
    row.next_try_at = None
    document = _document(session, row)
    _audit(session, row, "given_up", failed=True, reason=reason)
    if document is not None:
        document.problem = reason[:1000]
        _tell(session, row, document, NotificationKind.WORK_FAILED,
              f"{describe(document)} chưa được xử lý xong: {reason}")
        person = session.get(Person, row.person_id) if row.person_id is not None else None
        if row.act == AuditAction.SIGN.name and row.job_id is None and person is not None:
            reopen_after_failure(session, document, person, reason)  # back in their queue
    return reason


def oldest_queued(session: Session) -> datetime | None:
    """When the longest-waiting task still waiting for a worker was handed to the broker
    (None when nothing waits)."""
    return session.scalar(select(func.min(BackgroundTask.sent_at)).where(
        BackgroundTask.state == TaskState.QUEUED))


def count_by_state(session: Session) -> dict[TaskState, int]:
    rows = session.execute(select(BackgroundTask.state, func.count())
                           .where(BackgroundTask.state.in_(LIVE))
                           .group_by(BackgroundTask.state)).all()
    return {state: count for state, count in rows}


def live_task_of(session: Session, name: str, *, document_id: str | None = None,
                 job_id: str | None = None) -> BackgroundTask | None:
    query = select(BackgroundTask).where(BackgroundTask.name == name,
                                         BackgroundTask.state.in_(LIVE))
    if document_id is not None:
        query = query.where(BackgroundTask.document_id == document_id)
    if job_id is not None:
        query = query.where(BackgroundTask.job_id == job_id)
    return session.scalars(query.limit(1)).first()


def forget_finished(session: Session, *, older_than: timedelta = timedelta(days=30),
                    now: datetime | None = None) -> int:
    """Delete DONE rows older than ``older_than`` (failed ones are kept)."""
    limit = (now or utc_now()) - older_than
    result = session.execute(delete(BackgroundTask).where(
        BackgroundTask.state == TaskState.DONE, BackgroundTask.finished_at < limit))
    return int(getattr(result, "rowcount", 0) or 0)


# ------------------------------------------------------------------------ heartbeats

def beat(session: Session, hostname: str, pid: int, queues: Sequence[str], *,
         now: datetime | None = None) -> None:
    """This worker is alive (written every few seconds by the worker)."""
    now = now or utc_now()
    row = session.get(WorkerHeartbeat, hostname)
    if row is None or row.pid != pid:
        if row is not None:
            session.delete(row)
            session.flush()
        session.add(WorkerHeartbeat(hostname=hostname, pid=pid, queues=",".join(queues),
                                    started_at=now, seen_at=now))
    else:
        row.seen_at = now
        row.queues = ",".join(queues)
    session.flush()


def live_workers(session: Session, *, now: datetime | None = None,
                 within: timedelta = HEARTBEAT_STALE) -> list[WorkerHeartbeat]:
    limit = (now or utc_now()) - within
    return list(session.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.seen_at > limit)
                                .order_by(WorkerHeartbeat.hostname)))


def last_heartbeat(session: Session) -> datetime | None:
    return session.scalar(select(func.max(WorkerHeartbeat.seen_at)))


def worker_stopped(session: Session, hostname: str) -> None:
    """A worker stopping cleanly takes its row away."""
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.hostname == hostname))


__all__ = [
    "GIVE_UP_AFTER",
    "ORPHAN_KINDS",
    "HEARTBEAT_STALE",
    "QUEUED_STALE",
    "RUNNING_STALE",
    "BackgroundTask",
    "Outcome",
    "adopt_orphans",
    "WAITING_PREFIX",
    "batch_resumed",
    "batch_waiting",
    "TaskState",
    "WorkerHeartbeat",
    "beat",
    "count_by_state",
    "forget_finished",
    "last_heartbeat",
    "live_task_of",
    "live_workers",
    "oldest_queued",
    "reconcile",
    "record_enqueued",
    "send_failed",
    "task_done",
    "task_failed",
    "task_retrying",
    "task_started",
    "task_waiting",
    "waiting_text",
    "worker_stopped",
]
