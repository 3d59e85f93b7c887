"""Celery tasks that move documents along: thin wrappers over the issuance acts.

No task takes a token name: the signing tasks take the document, the acting account
and what the act needs, check the account's right again and resolve the key through
:mod:`documents.custody` (the route chose the Celery queue from the same resolution);
before signing, the open token's certificate must be the bound one.

Each task takes ids, reloads the rows, and is idempotent: a document already past
the step is left alone, so a task redelivered after a worker died (``acks_late``)
never signs or numbers twice. A task runs the act in one transaction; if the worker
dies before the commit nothing of it remains (the stored blob is unreferenced), and
the redelivered task does the act once. Only named transient errors are retried.

What a task needs (database, file store, open token sessions, TSA) is handed over
once per worker process by the composition root through :func:`configure`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from celery import Task, shared_task
from pyhanko.sign.signers import Signer
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from common import KysoError
from signer import TimestampUnavailable
from signer.isolate import ChildLimits, run_isolated
from signer.profiles import CopyKind
from tokens import TokenNotFound, TokenRemoved

from .accounts import User, email_of
from .archive import renew_archive_timestamps
from .audit import AuditAction, record
from .custody import Act, approval_custody, issuing_custody
from .custody import queue_for as queue_for
from .export import export_register_pdf, export_register_xlsx
from .issuance import (
    PrepareInput,
    Signing,
    approve,
    issue,
    latest_version,
    make_copy,
    prepare_input,
    sign_attachment,
    store_prepared,
)
from .job_status import JobStatus
from .jobs import SigningJob, expire_jobs, finish_job, prepare_job
from .models import (
    Document,
    DocumentStatus,
    DocumentVersion,
    NumberBook,
    Organisation,
    Person,
    VersionKind,
)
from .queue import Mailer, notify_issued, notify_signed, reopen_after_failure, send_pending
from .register import IssueDetails
from .sqltypes import utc_now
from .storage import FileStore

#: Errors worth another try: the TSA or the database was briefly away, a token was
#: unplugged or its HSM connection dropped (the session is reopened on retry).
TRANSIENT = (TimestampUnavailable, TokenRemoved, TokenNotFound, OperationalError)

PREPARE = "kyso.prepare"
EXPORT_REGISTER = "kyso.export_register"
SIGN_APPROVAL = "kyso.sign_approval"
PREPARE_JOB = "kyso.prepare_job"
FINISH_JOB = "kyso.finish_job"
EXPIRE_JOBS = "kyso.expire_jobs"
RENEW_ARCHIVES = "kyso.renew_archives"
ISSUE = "kyso.issue"
SIGN_ATTACHMENT = "kyso.sign_attachment"
MAKE_COPY = "kyso.make_copy"
SEND_MAIL = "kyso.send_notifications"


#: What a task that failed for good was doing: its audit action. The document it was about
#: (its first argument) keeps the reason (``problem``) and the failure is audited, so
#: nobody waits for a signature that will not come.
FAILED_ACTS = {SIGN_APPROVAL: AuditAction.SIGN, ISSUE: AuditAction.ISSUE,
               SIGN_ATTACHMENT: AuditAction.ATTACH, MAKE_COPY: AuditAction.COPY,
               PREPARE_JOB: AuditAction.SIGN, FINISH_JOB: AuditAction.SIGN}

log = logging.getLogger(__name__)


def failure_reason(exc: BaseException) -> str:
    """The reason a person reads ("vi / en"): a Kyso error's own, else a general one."""
    if isinstance(exc, KysoError):
        return str(exc)
    return ("lỗi không mong muốn của hệ thống, đã ghi vào nhật ký máy chủ — báo quản trị / "
            f"unexpected system error ({type(exc).__name__}), logged — tell the administrator")


def record_failure(task_name: str, task_id: str, exc: BaseException,
                   args: tuple[Any, ...]) -> None:
    """Keep the reason on the document, audit the failure, and for an approval signature
    put the request back in the signer's queue (:func:`reopen_after_failure`)."""
    action = FAILED_ACTS.get(task_name)
    if action is None or not args:
        return
    reason = failure_reason(exc)
    with _transaction() as (_, session):
        if task_name in (PREPARE_JOB, FINISH_JOB):
            job = session.get(SigningJob, args[0])
            document = job.document if job is not None else None
        else:
            document = session.get(Document, args[0])
        if document is None:
            return
        document.problem = reason[:1000]
        record(session, action, actor="hệ thống", body_id=document.body_id,
               object_type="document", object_id=document.id,
               details={"failed": True, "task": task_name, "task_id": task_id,
                        "error": type(exc).__name__, "reason": reason})
        if task_name == SIGN_APPROVAL:
            person = session.get(Person, args[1])
            if person is not None:
                reopen_after_failure(session, document, person, reason)


class KysoTask(Task):  # type: ignore[misc]
    """A document task whose final failure is recorded where people see it."""

    def on_failure(self, exc: BaseException, task_id: str, args: tuple[Any, ...],
                   kwargs: dict[str, Any], einfo: Any) -> None:
        try:
            record_failure(self.name, task_id, exc, tuple(args))
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


@dataclass
class Runtime:
    """Everything a worker process needs, built by ``api`` after the fork."""

    sessions: sessionmaker[Session]
    store: FileStore
    #: token name → an open pyHanko signer for as long as the block runs
    signer_for: Callable[[str], contextlib.AbstractContextManager[Signer]]
    signing: Signing
    seal_for: Callable[[Document], bytes]
    signature_image_for: Callable[[Person], bytes]
    #: None when no SMTP server is configured: notifications stay in-app only.
    mailer: Mailer | None = None
    #: The public base URL printed in verification QR codes (KYSO_PUBLIC_URL);
    #: None when QR codes are off (KYSO_VERIFY_QR=false).
    public_url: str | None = None
    #: Memory and time one draft's preparation may use (a child process is killed beyond).
    prepare_limits: ChildLimits = ChildLimits()


_runtime: list[Runtime] = []


def configure(runtime: Runtime) -> None:
    _runtime[:] = [runtime]


def current() -> Runtime:
    if not _runtime:
        raise RuntimeError("documents.tasks.configure() was not called in this process")
    return _runtime[0]


@contextlib.contextmanager
def _transaction() -> Iterator[tuple[Runtime, Session]]:
    runtime = current()
    with runtime.sessions() as session, session.begin():
        yield runtime, session


@shared_task(name=PREPARE, **TASK_OPTIONS)
def prepare_document(document_id: str, actor: str = "", qr: bool | None = None,
                     cover_draft_mark: bool = False) -> dict[str, str]:
    """Locate the draft's number, date and signature block and add the fields.

    ``qr``: print the verification QR code on page 1 (None: when the service prints
    them, ``Runtime.public_url``; True does nothing while QR codes are off).
    ``cover_draft_mark``: the drafter asked to take "DỰ THẢO" marks off the pages
    (without it such a draft is refused, the reason naming each mark).

    A draft that cannot be prepared stays DRAFT with the reason kept on the document
    (``problem``) and in the audit trail; the result says why, in both languages.

    The PDF work (:func:`signer.prepare.prepare_pdf`) runs in a child process with the
    runtime's memory and time limits and with no transaction open: a hostile draft can
    neither hold the database's write lock nor take the worker down. The draft is read in
    one short transaction and the result kept in another, which does nothing if the
    document moved on meanwhile (a redelivered or duplicate task).
    """
    actor_name = actor or None
    with _transaction() as (runtime, session):
        document = session.get_one(Document, document_id)
        if document.status is not DocumentStatus.DRAFT:
            return {"status": document.status.name}  # prepared already
        given: PrepareInput = prepare_input(
            session, runtime.store, document,
            qr_url=runtime.public_url if qr is not False else None,
            cover_draft_mark=cover_draft_mark)
    try:
        prepared = run_isolated("prepare", given.pdf, given.qr_text, None,
                                given.cover_draft_mark, limits=runtime.prepare_limits)
        failure: KysoError | None = None
    except KysoError as exc:
        failure = exc
    with _transaction() as (runtime, session):
        document = session.get_one(Document, document_id)
        if failure is None:
            if store_prepared(session, runtime.store, document, given, prepared,
                              actor=actor_name) is not None:
                document.problem = None
            return {"status": document.status.name}
        if document.status is not DocumentStatus.DRAFT:
            return {"status": document.status.name}
        document.problem = str(failure)
        record(session, AuditAction.PREPARE, actor=actor_name, body_id=document.body_id,
               object_type="document", object_id=document.id,
               details={"failed": True, "error": type(failure).__name__,
                        "reason": str(failure),
                        "code": getattr(failure, "code", None)})
        outcome = {"status": document.status.name, "vi": failure.vi, "en": failure.en,
                   "error": type(failure).__name__}
        code = getattr(failure, "code", None)
        if isinstance(code, str):
            outcome["code"] = code
        return outcome


@shared_task(name=EXPORT_REGISTER, **TASK_OPTIONS)
def export_register(body_id: int, year: int, fmt: str, unit: str | None = None,
                    date_from: str | None = None, date_to: str | None = None,
                    book: str | None = None) -> dict[str, Any]:
    """The register as PDF or XLSX, kept in the file store; the result names the file.

    ``unit`` is a unit's abbreviation, ``book`` a number book's code, dates ISO.
    """
    with _transaction() as (runtime, session):
        body = session.get_one(Organisation, body_id)
        chosen_unit = next((u for u in body.units if u.abbreviation == unit), None)
        chosen_book = session.scalar(select(NumberBook).where(
            NumberBook.body_id == body.id, NumberBook.code == book)) if book else None
        export = export_register_pdf if fmt == "pdf" else export_register_xlsx
        data = export(session, body, year, chosen_unit,
                      date.fromisoformat(date_from) if date_from else None,
                      date.fromisoformat(date_to) if date_to else None, book=chosen_book)
        suffix = f"-{book}" if book else ""
        return {"sha256": runtime.store.put(data), "body_id": body.id, "format": fmt,
                "file_name": f"so-van-ban-di-{year}{suffix}.{fmt}", "size": len(data)}


@shared_task(name=SIGN_APPROVAL, **TASK_OPTIONS)
def sign_approval(document_id: str, person_id: int, account_id: int) -> str:
    """``account``'s own approval signature, with the server-side token of the person's
    signing authority: refused unless the account is that person and the next signer."""
    with _transaction() as (runtime, session):
        document = session.get_one(Document, document_id)
        if document.status not in (DocumentStatus.PREPARED, DocumentStatus.AWAITING_SIGNATURE):
            return document.status.name  # already signed: a redelivered task does nothing
        account = session.get_one(User, account_id)
        custody = approval_custody(session, account, document, person_id=person_id)
        person = session.get_one(Person, custody.person_id)
        with runtime.signer_for(custody.token_name) as signer:
            approve(session, runtime.store, document, person, signer,
                    runtime.signature_image_for(person), runtime.signing,
                    actor=account.username, custody=custody)
        document.problem = None  # an earlier failed try's reason
        notify_signed(session, document, person)
        return document.status.name


@shared_task(name=PREPARE_JOB, **TASK_OPTIONS)
def prepare_signing_job(job_id: str) -> str:
    """Prepare a document for a key the service does not hold: the digest to sign."""
    with _transaction() as (runtime, session):
        job = session.get_one(SigningJob, job_id)
        prepare_job(session, runtime.store, job, runtime.signature_image_for(job.person),
                    runtime.signing)
        return job.status.name


@shared_task(name=FINISH_JOB, **TASK_OPTIONS)
def finish_signing_job(job_id: str) -> str:
    """Embed the signature an agent or a remote service made; the approval is recorded."""
    with _transaction() as (runtime, session):
        job = session.get_one(SigningJob, job_id)
        finish_job(session, runtime.store, job)
        if job.status is JobStatus.DONE:
            notify_signed(session, job.document, job.person)
        return job.status.name


@shared_task(name=EXPIRE_JOBS, acks_late=True, soft_time_limit=120, time_limit=180)
def expire_signing_jobs() -> int:
    """Drop the prepared states of jobs nobody signed in time (Celery beat)."""
    with _transaction() as (_, session):
        return expire_jobs(session)


@shared_task(name=RENEW_ARCHIVES, acks_late=True, soft_time_limit=1800, time_limit=2000,
             autoretry_for=(TimestampUnavailable,), retry_backoff=60, max_retries=3)
def renew_archives(margin_days: int = 180, limit: int = 200) -> int:
    """Give issued files whose archive timestamp is due a new one (Celery beat, daily):
    before the last TSA certificate expires or its algorithm weakens (PAdES B-LTA)."""
    tsa_url, contexts = current().signing.tsa_url, current().signing.contexts
    if not tsa_url or contexts is None:
        return 0
    with _transaction() as (runtime, session):
        renewed = renew_archive_timestamps(
            session, runtime.store, tsa_url=tsa_url, validation_context=contexts, now=utc_now(),
            margin=timedelta(days=margin_days), limit=limit, actor="hệ thống",
            signing=runtime.signing)
        return len(renewed)


@shared_task(name=ISSUE, **TASK_OPTIONS)
def issue_document(document_id: str, account_id: int, recipients: str = "") -> str:
    """The clerk's act: number, date, register entry and organisation signature, with the
    body's organisation key; the date is the day of that signature."""
    with _transaction() as (runtime, session):
        document = session.get_one(Document, document_id)
        if document.status in (DocumentStatus.ISSUED, DocumentStatus.DELIVERED):
            return document.status.name
        account = session.get_one(User, account_id)
        custody = issuing_custody(session, account, document.body, Act.ISSUE)
        approved = latest_version(session, document, VersionKind.APPROVED)
        signer_person = approved.signer if approved is not None else None
        details = IssueDetails(
            issued_date=date.min,  # replaced by the day of the organisation signature
            signer_full_name=signer_person.full_name if signer_person else "",
            signer_position=signer_person.position if signer_person else "",
            recipients=recipients, registered_by=account.username)
        with runtime.signer_for(custody.token_name) as signer:
            entry, _ = issue(session, runtime.store, document, signer,
                             runtime.seal_for(document), details, runtime.signing,
                             actor=account.username, custody=custody)
        document.problem = None
        notify_issued(session, document, entry.number_symbol)
        return document.status.name


@shared_task(name=SIGN_ATTACHMENT, **TASK_OPTIONS)
def attach(document_id: str, account_id: int, sha256: str, file_name: str) -> str:
    """Sign an attachment (already stored by its SHA-256) for an issued document.

    Idempotent: an attachment version made from the same upload is not made twice.
    """
    with _transaction() as (runtime, session):
        document = session.get_one(Document, document_id)
        done = session.scalar(select(DocumentVersion).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.kind == VersionKind.ATTACHMENT,
            DocumentVersion.file_name == file_name))
        if done is not None:
            return done.sha256
        account = session.get_one(User, account_id)
        custody = issuing_custody(session, account, document.body, Act.ATTACHMENT)
        with runtime.signer_for(custody.token_name) as signer:
            signed = sign_attachment(session, runtime.store, document, signer,
                                     runtime.store.get(sha256), runtime.signing,
                                     file_name=file_name, actor=account.username,
                                     custody=custody)
        return hashlib.sha256(signed).hexdigest()


@shared_task(name=MAKE_COPY, **TASK_OPTIONS)
def copy_document(document_id: str, account_id: int, kind: str, request_key: str) -> str:
    """An electronic copy (SAO Y, TRÍCH SAO, SAO LỤC) with its own number, dated the day
    of its organisation signature.

    ``request_key`` (kept as the copy version's file name) lets a redelivered task find
    the copy it already made instead of numbering a second one.
    """
    file_name = f"ban-sao-{request_key}.pdf"
    with _transaction() as (runtime, session):
        made = session.scalar(select(DocumentVersion).where(
            DocumentVersion.kind == VersionKind.COPY, DocumentVersion.file_name == file_name))
        if made is not None:
            return made.document_id
        document = session.get_one(Document, document_id)
        account = session.get_one(User, account_id)
        custody = issuing_custody(session, account, document.body, Act.COPY)
        details = IssueDetails(issued_date=date.min,  # replaced by the signature's day
                               signer_full_name=document.body.name, signer_position="Văn thư",
                               registered_by=account.username)
        with runtime.signer_for(custody.token_name) as signer:
            copy_doc, _, _ = make_copy(session, runtime.store, document, signer,
                                       CopyKind[kind], details, runtime.signing,
                                       file_name=file_name, actor=account.username,
                                       custody=custody)
        return copy_doc.id


@shared_task(name=SEND_MAIL, acks_late=True, soft_time_limit=120, time_limit=180)
def send_notifications() -> int:
    """E-mail pending notifications (run periodically by Celery beat). A message is
    marked sent only once the server accepted it; failures stay pending for the next run."""
    runtime = current()
    if runtime.mailer is None:
        return 0
    with _transaction() as (_, session):
        report = send_pending(session, runtime.mailer, lambda p: email_of(session, p))
        return len(report.sent)
