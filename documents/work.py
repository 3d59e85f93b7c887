"""What the worker does, as plain functions: one per Celery task of ``api/worker/tasks.py``.

No function takes a token name: the signing ones take the document, the acting account
and what the act needs, check the account's right again and resolve the key through
:mod:`documents.custody` (the route chose the Celery queue from the same resolution);
before signing, the open token's certificate must be the bound one.

Each takes the worker's :class:`Runtime` and ids, reloads the rows, and is idempotent: a
document already past the step is left alone, so a task redelivered after a worker died
(``acks_late``) never signs or numbers twice. Each runs the act in one transaction
(:func:`transaction`); if the worker dies before the commit nothing of it remains (the
stored blob is unreferenced), and the redelivered task does the act once. The signing and
numbering ones lock the document's row first, so two deliveries of one task running at
once (a task sent again by the reconciliation, :mod:`documents.background`, while the
broker still held it) queue there and the second finds the act done.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pyhanko.sign.signers import Signer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from common import KysoError
from signer import ChildLimits, CopyKind, run_isolated

from .accounts import User, email_of
from .archive import renew_archive_timestamps
from .audit import AuditAction, record
from .background import BackgroundTask, reconcile, send_failed
from .custody import Act, approval_custody, issuing_custody
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
    Person,
    VersionKind,
)
from .queue import Mailer, notify_issued, notify_signed, reopen_after_failure, send_pending
from .register import IssueDetails, archive_holders
from .sqltypes import utc_now
from .storage import FileStore


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
    #: Keyword arguments of :func:`documents.background.reconcile` (its thresholds).
    reconcile_limits: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def transaction(runtime: Runtime) -> Iterator[Session]:
    """One session in one transaction, committed when the block ends without error."""
    with runtime.sessions() as session, session.begin():
        yield session


def failure_reason(exc: BaseException) -> str:
    """The reason a person reads ("vi / en"): a Kyso error's own, else a general one."""
    if isinstance(exc, KysoError):
        return str(exc)
    return ("lỗi không mong muốn của hệ thống, đã ghi vào nhật ký máy chủ — báo quản trị / "
            f"unexpected system error ({type(exc).__name__}), logged — tell the administrator")


def record_failure(runtime: Runtime, action: AuditAction, exc: BaseException, *,
                   document_id: str | None = None, job_id: str | None = None,
                   reopen_for: int | None = None, details: dict[str, Any]) -> None:
    """A task failed for good: keep the reason on its document (``document_id``, or the
    document of ``job_id``), audit the failure with ``details``, and when ``reopen_for``
    names the person whose approval signature failed, put their request back in their
    queue (:func:`~documents.queue.reopen_after_failure`). Nobody waits for a signature
    that will not come."""
    reason = failure_reason(exc)
    with transaction(runtime) as session:
        if job_id is not None:
            job = session.get(SigningJob, job_id)
            document = job.document if job is not None else None
        else:
            document = session.get(Document, document_id) if document_id else None
        if document is None:
            return
        document.problem = reason[:1000]
        record(session, action, actor="hệ thống", body_id=document.body_id,
               object_type="document", object_id=document.id,
               details={"failed": True, **details, "error": type(exc).__name__,
                        "reason": reason})
        if reopen_for is not None:
            person = session.get(Person, reopen_for)
            if person is not None:
                reopen_after_failure(session, document, person, reason)


def run_prepare(runtime: Runtime, document_id: str, actor: str = "", qr: bool | None = None,
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
    with transaction(runtime) as session:
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
    with transaction(runtime) as session:
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


def run_sign_approval(runtime: Runtime, document_id: str, person_id: int, account_id: int) -> str:
    """``account``'s own approval signature, with the server-side token of the person's
    signing authority: refused unless the account is that person and the next signer."""
    with transaction(runtime) as session:
        document = session.get_one(Document, document_id, with_for_update=True)
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


def run_prepare_job(runtime: Runtime, job_id: str) -> str:
    """Prepare a document for a key the service does not hold: the digest to sign."""
    with transaction(runtime) as session:
        job = session.get_one(SigningJob, job_id)
        prepare_job(session, runtime.store, job, runtime.signature_image_for(job.person),
                    runtime.signing)
        return job.status.name


def run_finish_job(runtime: Runtime, job_id: str) -> str:
    """Embed the signature an agent or a remote service made; the approval is recorded."""
    with transaction(runtime) as session:
        job = session.get_one(SigningJob, job_id)
        finish_job(session, runtime.store, job)
        if job.status is JobStatus.DONE:
            notify_signed(session, job.document, job.person)
        return job.status.name


def run_expire_jobs(runtime: Runtime) -> int:
    """Drop the prepared states of jobs nobody signed in time (Celery beat)."""
    with transaction(runtime) as session:
        return expire_jobs(session)


def run_renew_archives(runtime: Runtime, margin_days: int = 180, limit: int = 200) -> int:
    """Give issued files whose archive timestamp is due a new one (Celery beat, daily):
    before the last TSA certificate expires or its algorithm weakens (PAdES B-LTA)."""
    tsa_url, contexts = runtime.signing.tsa_url, runtime.signing.contexts
    if not tsa_url or contexts is None:
        return 0
    with transaction(runtime) as session:
        renewed = renew_archive_timestamps(
            session, runtime.store, tsa_url=tsa_url, validation_context=contexts, now=utc_now(),
            margin=timedelta(days=margin_days), limit=limit, actor="hệ thống",
            signing=runtime.signing)
        return len(renewed)


def run_issue(runtime: Runtime, document_id: str, account_id: int, recipients: str = "") -> str:
    """The clerk's act: number, date, register entry and organisation signature, with the
    body's organisation key; the date is the day of that signature."""
    with transaction(runtime) as session:
        document = session.get_one(Document, document_id, with_for_update=True)
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
            recipients=recipients, registered_by=account.username,
            archive_holder=archive_holders(recipients, document.unit.abbreviation
                                           if document.unit else None))
        with runtime.signer_for(custody.token_name) as signer:
            entry, _ = issue(session, runtime.store, document, signer,
                             runtime.seal_for(document), details, runtime.signing,
                             actor=account.username, custody=custody)
        document.problem = None
        notify_issued(session, document, entry.number_symbol)
        return document.status.name


def run_attachment(runtime: Runtime, document_id: str, account_id: int, sha256: str,
                   file_name: str) -> str:
    """Sign an attachment (already stored by its SHA-256) for an issued document.

    Idempotent: an attachment version made from the same upload is not made twice.
    """
    with transaction(runtime) as session:
        document = session.get_one(Document, document_id, with_for_update=True)
        done = session.scalar(select(DocumentVersion).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.kind == VersionKind.ATTACHMENT,
            DocumentVersion.file_name == file_name))
        if done is not None:
            return done.sha256
        account = session.get_one(User, account_id)
        custody = issuing_custody(session, account, document.body, Act.ATTACHMENT)
        with runtime.signer_for(custody.token_name) as signer:
            sign_attachment(session, runtime.store, document, signer,
                            runtime.store.get(sha256), runtime.signing,
                            file_name=file_name, actor=account.username, custody=custody)
        # the version just kept: its SHA-256 was computed once, to store it
        return session.scalars(select(DocumentVersion.sha256).where(
            DocumentVersion.document_id == document.id,
            DocumentVersion.kind == VersionKind.ATTACHMENT,
            DocumentVersion.file_name == file_name)).one()


def run_copy(runtime: Runtime, document_id: str, account_id: int, kind: str,
             request_key: str) -> str:
    """An electronic copy (SAO Y, TRÍCH SAO, SAO LỤC) with its own number, dated the day
    of its organisation signature.

    ``request_key`` (kept as the copy version's file name) lets a redelivered task find
    the copy it already made instead of numbering a second one.
    """
    file_name = f"ban-sao-{request_key}.pdf"
    with transaction(runtime) as session:
        # a duplicate delivery waits here for the first, then finds its copy
        session.get_one(Document, document_id, with_for_update=True)
        made = session.scalar(select(DocumentVersion).where(
            DocumentVersion.kind == VersionKind.COPY, DocumentVersion.file_name == file_name))
        if made is not None:
            return made.document_id
        document = session.get_one(Document, document_id)
        account = session.get_one(User, account_id)
        custody = issuing_custody(session, account, document.body, Act.COPY)
        details = IssueDetails(issued_date=date.min,  # replaced by the signature's day
                               signer_full_name=document.body.name, signer_position="Văn thư",
                               registered_by=account.username,
                               archive_holder=archive_holders("", None))
        with runtime.signer_for(custody.token_name) as signer:
            copy_doc, _, _ = make_copy(session, runtime.store, document, signer,
                                       CopyKind[kind], details, runtime.signing,
                                       file_name=file_name, actor=account.username,
                                       custody=custody)
        return copy_doc.id


def run_reconcile(runtime: Runtime, send: Callable[[BackgroundTask], bool], *,
                  now: datetime | None = None, **limits: Any) -> dict[str, int]:
    """Celery beat, every minute: find the background work nothing is moving
    (:func:`documents.background.reconcile`), commit what it decided, then ``send`` each
    task again (same id); a task the broker does not take now is sent on the next run."""
    with transaction(runtime) as session:
        outcome = reconcile(session, now=now, **limits)
        resend = list(outcome.resend)
        for row in resend:
            session.expunge(row)  # read after the commit, to be sent
    unsent = [row.id for row in resend if not send(row)]
    if unsent:
        with transaction(runtime) as session:
            for task_id in unsent:
                send_failed(session, task_id)
    return {"resent": len(resend) - len(unsent), "unsent": len(unsent),
            "failed": len(outcome.failed)}


def run_send_notifications(runtime: Runtime) -> int:
    """E-mail pending notifications (run periodically by Celery beat). A message is
    marked sent only once the server accepted it; failures stay pending for the next run."""
    if runtime.mailer is None:
        return 0
    with transaction(runtime) as session:
        report = send_pending(session, runtime.mailer, lambda p: email_of(session, p))
        return len(report.sent)


__all__ = [
    "Runtime",
    "failure_reason",
    "record_failure",
    "run_attachment",
    "run_copy",
    "run_expire_jobs",
    "run_finish_job",
    "run_issue",
    "run_prepare",
    "run_prepare_job",
    "run_reconcile",
    "run_renew_archives",
    "run_send_notifications",
    "run_sign_approval",
    "transaction",
]
