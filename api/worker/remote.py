"""Remote signing of an approved batch: the settings name the service, ``tokens.csc`` talks
to it, ``documents.jobs`` holds the digests and finishes the documents.

An official whose signing authority's token is ``remote:<name>`` signs through the
remote-signing service configured as ``<name>`` in the data directory's tokens.json::

    "csc-tinh": {"backend": "csc", "url": "https://ky-so.example.vn",
                 "credential_id": "…", "client_id": "…", "client_secret": "…"}

(or ``"access_token"`` instead of the client credentials). The PIN/OTP the official
types is passed to the service once for the whole batch and dropped.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from documents import (
    REMOTE_PREFIX,
    JobStatus,
    Person,
    SigningJob,
    accept_signature,
    batch_resumed,
    batch_waiting,
    register_certificate,
    waiting_for_certificate,
)
from signer import RawSignature
from tokens import (
    RemoteNotConfigured,
    RemoteServerError,
    RemoteSigningProvider,
    RemoteUnreachable,
    provider_from_settings,
)

from ..errors import NothingToSign
from ..http.deps import Services
from .ledger import enqueue
from .names import FINISH_JOB, PREPARE_JOB

#: How long a batch may still be in preparation when the official authorises it.
PREPARE_TIMEOUT = 120.0


def _channel(svc: Services, person_id: int, batch: str) -> str:
    with svc.sessions() as db:
        channels = set(db.scalars(select(SigningJob.channel).where(
            SigningJob.person_id == person_id, SigningJob.batch == batch,
            SigningJob.status.in_((JobStatus.PREPARING, JobStatus.READY)))))
    if not channels:
        raise NothingToSign(batch)
    (channel,) = channels  # one person's authority: one place for their key
    return channel


def _provider(svc: Services, channel: str) -> tuple[RemoteSigningProvider, str]:
    name = channel.removeprefix(REMOTE_PREFIX)
    configured = svc.settings.data.token_settings()
    if not channel.startswith(REMOTE_PREFIX) or name not in configured:
        raise RemoteNotConfigured(name)
    return provider_from_settings(name, configured[name])


def _certificate_from_service(svc: Services, person_id: int, provider: RemoteSigningProvider,
                              credential: str) -> None:
    """Take the signer's certificate from the remote service (checked against the one
    registered for them) and prepare the jobs that were waiting for it."""
    remote = provider.credential(credential)
    with svc.sessions() as db:
        person = db.get_one(Person, person_id)
        register_certificate(db, person, remote.certificate, list(remote.chain),
                             actor=f"remote:{credential}")
        waiting = waiting_for_certificate(db, person)
        db.commit()
        for job_id in waiting:
            enqueue(db, svc.celery, PREPARE_JOB, [job_id])


def _ready_batch(svc: Services, person_id: int, batch: str) -> list[SigningJob]:
    deadline = time.monotonic() + PREPARE_TIMEOUT
    while True:
        with svc.sessions() as db:
            jobs = list(db.scalars(select(SigningJob).where(
                SigningJob.person_id == person_id, SigningJob.batch == batch,
                SigningJob.status.in_((JobStatus.PREPARING, JobStatus.READY)))
                .order_by(SigningJob.created_at, SigningJob.id)))
            if not any(j.status is JobStatus.PREPARING for j in jobs) or \
                    time.monotonic() >= deadline:
                ready = [j for j in jobs if j.status is JobStatus.READY]
                db.expunge_all()
                return ready
        time.sleep(0.2)


def sign_remote_batch(svc: Services, person_id: int, batch: str, pin: str | None,
                      otp: str | None) -> int:
    """Authorise once and sign every digest of ``batch``; how many were signed.

    The service unreachable or failing (before any signature came back): the batch's
    documents say they wait for it (:func:`documents.batch_waiting`) and the error is
    raised; authorising again once it is back signs the whole batch."""
    channel = _channel(svc, person_id, batch)
    provider, credential = _provider(svc, channel)
    try:
        _certificate_from_service(svc, person_id, provider, credential)
        jobs = _ready_batch(svc, person_id, batch)
        if not jobs:
            raise NothingToSign(batch)
        digests = [bytes.fromhex(j.digest or "") for j in jobs]
        authorization = provider.authorize(credential, digests, secret=pin, otp=otp)
        values = provider.sign_digests(authorization, digests)
    except (RemoteUnreachable, RemoteServerError) as exc:
        with svc.sessions() as db:
            batch_waiting(db, person_id, batch, f"{exc.vi} / {exc.en}",
                          service="remote-signing")
            db.commit()
        raise
    for job, value in zip(jobs, values, strict=True):
        with svc.sessions() as db:
            fresh = db.get_one(SigningJob, job.id)
            fresh.error = None
            accept_signature(db, fresh, RawSignature(value, fresh.algorithm or ""))
            batch_resumed(db, [fresh])
            enqueue(db, svc.celery, FINISH_JOB, [job.id])
    return len(jobs)
