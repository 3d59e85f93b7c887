"""What the acts need from the process that runs them, as small Protocols (the wiring in
``api`` implements them: ``api.http.deps.Services``, ``api.worker.dispatch``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from sqlalchemy.orm import Session

from certs import TrustStore
from signer import Report

from ..storage import FileStore

#: The bytes of an uploaded file, read only once the act allows the caller to upload
#: (so an oversized file from someone who may not upload is refused as a stranger's).
Upload = Callable[[], bytes]


class Pending(Protocol):
    """Work sent to a worker: its id, and its outcome when it comes within ``timeout``."""

    @property
    def id(self) -> str: ...

    def outcome(self, timeout: float) -> object:
        """The task's return value (or error), or None if it has not finished in time."""


class Dispatcher(Protocol):
    """Enqueues the follow-up work of an act. An act calls it only after its commit, so a
    worker always finds what the act wrote, and with its session untouched since (the
    arguments are plain values read before the commit): the dispatcher may write in a
    session of its own (the task ledger), which on SQLite needs the write lock. ``queue``
    is the queue of the host holding the key the work signs with."""

    def prepare(self, document_id: str, actor: str, qr: bool | None,
                cover_draft_mark: bool) -> Pending: ...

    def sign_approval(self, document_id: str, person_id: int, user_id: int,
                      queue: str) -> str: ...

    def prepare_job(self, job_id: str) -> None: ...

    def finish_job(self, job_id: str) -> None: ...

    def issue(self, document_id: str, user_id: int, recipients: str, queue: str) -> str: ...

    def sign_attachment(self, document_id: str, user_id: int, sha256: str, name: str,
                        queue: str) -> str: ...

    def make_copy(self, document_id: str, user_id: int, kind: str, key: str,
                  queue: str) -> str: ...

    def export_register(self, body_id: int, year: int, fmt: str, unit: str | None,
                        date_from: str | None, date_to: str | None,
                        book: str | None) -> str: ...


class Tools(Protocol):
    """The process's shared tools an act uses besides the session."""

    @property
    def store(self) -> FileStore: ...

    @property
    def dispatcher(self) -> Dispatcher: ...

    def check_draft(self, pdf: bytes, *, allow_signatures: bool = False,
                    draft_marks: bool = False, source: str = ...,
                    attachment: bool = False) -> None:
        """Refuse a broken, encrypted or active PDF (in a child process, no transaction
        open); ``attachment``: within the limits of an annex, else of a draft."""

    def trust_for(self, db: Session, body_ids: Iterable[int]) -> TrustStore: ...

    def verify_report(self, pdf: bytes, name: str, store: TrustStore) -> Report:
        """Verify a file against ``store`` (in a child process, no transaction open)."""

    def contexts(self, store: TrustStore) -> Callable[[], Any]: ...
