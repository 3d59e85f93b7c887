"""Short-lived, single-use addresses for a signing tool that fetches and uploads by itself.

A local signing service on the official's PC (the VGCA Sign Service) is given two URLs:
one to download the prepared document, one to upload the signed file. Neither carries
the official's session; each is a *ticket*: what it is for (``file`` or ``upload``),
the document, the account, an expiry a few minutes away and a random nonce, under an
HMAC-SHA256 of the service's secret key. A ticket works once: its use is an audit event
(object ``signing_ticket``, the ticket's id), written under the audit trail's head lock
before the use is checked, so two concurrent uses cannot both pass.

- :func:`issue_tickets`: for the document's next signer only (as
  :func:`documents.roundtrip.prepared_to_sign` checks);
- :func:`file_for_ticket`: the prepared PDF;
- :func:`upload_for_ticket`: :func:`documents.roundtrip.accept_signed` as the ticket's
  account, with the channel the ticket names (the same check of the returned file).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .accounts import User
from .audit import AuditAction, AuditEvent, record
from .errors import TicketRefused
from .roundtrip import PreparedFile, SignedUpload, _next_signer, accept_signed, prepared_to_sign
from .storage import FileStore

__all__ = ["SigningTickets", "file_for_ticket", "issue_tickets", "upload_for_ticket"]

Kind = Literal["file", "upload"]
LIFETIME = timedelta(minutes=5)
OBJECT = "signing_ticket"


@dataclass(frozen=True)
class SigningTickets:
    file: str
    upload: str
    expires_at: datetime


@dataclass(frozen=True)
class _Ticket:
    kind: Kind
    document_id: str
    account_id: int
    channel: str
    expires: int
    nonce: str

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.nonce}"


def _mac(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _make(secret: bytes, ticket: _Ticket) -> str:
    body = ".".join((ticket.kind, ticket.document_id, str(ticket.account_id), ticket.channel,
                     str(ticket.expires), ticket.nonce))
    return f"{body}.{_mac(secret, body)}"


def _refused() -> TicketRefused:
    return TicketRefused()


def _read(secret: bytes, text: str, kind: Kind, now: datetime | None = None) -> _Ticket:
    parts = text.split(".")
    if len(parts) != 7:
        raise _refused()
    body, mac = ".".join(parts[:6]), parts[6]
    if not hmac.compare_digest(_mac(secret, body), mac) or parts[0] != kind:
        raise _refused()
    try:
        ticket = _Ticket(kind, parts[1], int(parts[2]), parts[3], int(parts[4]), parts[5])
    except ValueError as exc:
        raise _refused() from exc
    if (now or datetime.now(UTC)).timestamp() >= ticket.expires:
        raise _refused()
    return ticket


def issue_tickets(session: Session, account: User, document_id: str, *, secret: bytes,
                  channel: str, lifetime: timedelta = LIFETIME) -> SigningTickets:
    """A file and an upload ticket for ``account``, the next signer of ``document_id``."""
    document, _ = _next_signer(session, account, document_id)
    expires = datetime.now(UTC) + lifetime
    nonce = secrets.token_urlsafe(12).replace(".", "_")
    made = {kind: _make(secret, _Ticket(kind, document.id, account.id, channel,
                                        int(expires.timestamp()), nonce))
            for kind in ("file", "upload")}
    session.rollback()  # nothing was written
    return SigningTickets(made["file"], made["upload"], expires)


def _use(session: Session, ticket: _Ticket, body_id: int | None, action: AuditAction) -> None:
    """Record the ticket's use, then refuse it if it was used before."""
    record(session, action, actor=f"{ticket.channel} (phiếu dùng một lần)", body_id=body_id,
           object_type=OBJECT, object_id=ticket.id,
           details={"document_id": ticket.document_id, "account_id": ticket.account_id})
    uses = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == OBJECT, AuditEvent.object_id == ticket.id))
    if (uses or 0) > 1:
        session.rollback()
        raise _refused()


def _account(session: Session, ticket: _Ticket) -> User:
    account = session.get(User, ticket.account_id)
    if account is None or not account.active:
        raise _refused()
    return account


def file_for_ticket(session: Session, store: FileStore, text: str, *,
                    secret: bytes) -> PreparedFile:
    """The prepared PDF a file ticket names, once."""
    ticket = _read(secret, text, "file")
    account = _account(session, ticket)
    document, _ = _next_signer(session, account, ticket.document_id)
    _use(session, ticket, document.body_id, AuditAction.DOWNLOAD)
    return prepared_to_sign(session, store, account, ticket.document_id, channel=ticket.channel)


def upload_for_ticket(session: Session, store: FileStore, text: str, returned: bytes, *,
                      secret: bytes) -> SignedUpload:
    """The signed file an upload ticket was issued for, checked as any upload; once."""
    ticket = _read(secret, text, "upload")
    account = _account(session, ticket)
    document, _ = _next_signer(session, account, ticket.document_id)
    _use(session, ticket, document.body_id, AuditAction.VERIFY)
    session.commit()  # the ticket is spent, whatever the file turns out to be
    return accept_signed(session, store, account, ticket.document_id, returned,
                         channel=ticket.channel)
