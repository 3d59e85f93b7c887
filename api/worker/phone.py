"""Remote signing confirmed on the official's phone (VNPT SmartCA style).

The official approved a batch whose authority's token is ``remote:<name>`` and ``<name>``
is a phone-confirmed service in tokens.json (``"backend": "smartca"``). No PIN is typed
in Kyso: :func:`start_phone_batch` sends the batch's digests as one transaction (a batch
larger than the service allows goes as several, one confirmation each) and returns at
once with the moment the confirmation must come by; a thread of the API process waits
for the phone while the signer's page counts down. Signed: the jobs are finished as for
any remote signature. Refused on the phone or timed out: the jobs stay READY with the
reason (:func:`documents.note_batch_problem`), the documents still wait to be signed.

The waiting thread lives in the API process that started it: a restart during the
confirmation loses only the wait (the jobs stay READY; the signer sends the request
again).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from common import KysoError
from documents import REMOTE_PREFIX, SigningJob, accept_signature, note_batch_problem
from signer import RawSignature
from tokens import RemoteNotConfigured, RemoteSigningProvider, is_phone_confirmed

from ..errors import NothingToSign
from ..http.deps import Services
from .ledger import enqueue
from .names import FINISH_JOB
from .remote import _certificate_from_service, _channel, _provider, _ready_batch

log = logging.getLogger(__name__)

#: Said on the jobs while the phone's answer is awaited.
WAITING_VI = "đang chờ xác nhận trên điện thoại"


@dataclass(frozen=True)
class PhoneRequest:
    batch: str
    documents: int
    #: the confirmation must come before this (the provider's own limit)
    confirm_until: dt.datetime

    @property
    def seconds_left(self) -> int:
        return max(0, int((self.confirm_until - dt.datetime.now(dt.UTC)).total_seconds()))


def phone_channel(svc: Services, channel: str | None) -> bool:
    """Whether a job channel names a phone-confirmed remote-signing service."""
    if not channel or not channel.startswith(REMOTE_PREFIX):
        return False
    settings = svc.settings.data.token_settings().get(channel.removeprefix(REMOTE_PREFIX))
    return settings is not None and is_phone_confirmed(settings)


def start_phone_batch(svc: Services, person_id: int, batch: str) -> PhoneRequest:
    """Send ``batch`` to the official's phone and wait for it in the background."""
    channel = _channel(svc, person_id, batch)
    if not phone_channel(svc, channel):
        raise RemoteNotConfigured(channel.removeprefix(REMOTE_PREFIX))
    provider, credential = _provider(svc, channel)
    _certificate_from_service(svc, person_id, provider, credential)
    jobs = _ready_batch(svc, person_id, batch)
    if not jobs:
        raise NothingToSign(batch)
    _note(svc, person_id, batch, WAITING_VI)
    seconds = float(getattr(provider, "confirm_seconds", 300.0))
    size = provider.credential(credential).multisign
    parts = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds * len(parts))
    thread = threading.Thread(target=_wait_for_phone, name=f"phone-{batch[:8]}", daemon=True,
                              args=(svc, person_id, batch, provider, credential, parts))
    thread.start()
    return PhoneRequest(batch, len(jobs), until)


def _note(svc: Services, person_id: int, batch: str, reason: str | None) -> None:
    with svc.sessions() as db:
        note_batch_problem(db, person_id, batch, reason)
        db.commit()


def _wait_for_phone(svc: Services, person_id: int, batch: str,
                    provider: RemoteSigningProvider, credential: str,
                    parts: list[list[SigningJob]]) -> None:
    """One transaction (one confirmation) per part; the first refusal stops the rest."""
    try:
        for part in parts:
            digests = [bytes.fromhex(j.digest or "") for j in part]
            authorization = provider.authorize(credential, digests)
            values = provider.sign_digests(authorization, digests)
            for job, value in zip(part, values, strict=True):
                with svc.sessions() as db:
                    fresh = db.get_one(SigningJob, job.id)
                    fresh.error = None
                    accept_signature(db, fresh, RawSignature(value, fresh.algorithm or ""))
                    enqueue(db, svc.celery, FINISH_JOB, [job.id])
        _note(svc, person_id, batch, None)
    except KysoError as exc:
        _note(svc, person_id, batch, exc.vi)
    except Exception:  # a thread's boundary: say something rather than die silently
        log.exception("phone-confirmed signing of batch %s failed", batch)
        _note(svc, person_id, batch, "ký số từ xa không thành công (lỗi hệ thống); hãy thử lại")
