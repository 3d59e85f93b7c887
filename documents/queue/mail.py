"""E-mailing the notifications through a :class:`Mailer`.

The mailer is injected: the worker wiring gives an SMTP one (``api/worker/mail.py``),
tests give their own. A message is marked sent only once the mailer accepted it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import MailFailed
from ..models import Person
from ..sqltypes import utc_now
from .records import Notification


class Mailer(Protocol):
    """Delivers one e-mail; raises :class:`~documents.errors.MailFailed` when it cannot."""

    def send(self, to: str, subject: str, body: str) -> None: ...



#: Closes every e-mailed notification.
MAIL_FOOTER = ("\n\n—\nThư tự động của hệ thống Kyso; vui lòng không trả lời thư này. "
               "Xem và xử lý văn bản trong hệ thống.")


@dataclass
class MailReport:
    """What :func:`send_pending` did: ids sent, ids failed (with the error), ids of
    people without an address (left pending)."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, MailFailed] = field(default_factory=dict)
    no_address: list[int] = field(default_factory=list)
    #: True when the server could not be reached and the run stopped early.
    stopped: bool = False


def send_pending(session: Session, mailer: Mailer,
                 address_of: Callable[[Person], str | None], *,
                 limit: int | None = None) -> MailReport:
    """E-mail the notifications not yet e-mailed nor read, oldest first.

    ``emailed_at`` is set only after the mailer accepted the message; a failure
    leaves the notification pending for the next run, never lost. A message refused
    for one address does not stop the others; a server that cannot be reached stops
    the run (the rest stay pending). A person ``address_of`` gives no address for is
    skipped (in-app only). A notification already read in the app is not e-mailed.
    Delivery is at least once: the caller commits after the run, and a crash before
    that commit sends those messages again next time. On PostgreSQL the rows are
    locked (SKIP LOCKED), so two senders running at once do not send the same one.
    """
    query = (select(Notification)
             .where(Notification.emailed_at.is_(None), Notification.read_at.is_(None))
             .order_by(Notification.id).with_for_update(skip_locked=True))
    if limit is not None:
        query = query.limit(limit)
    report = MailReport()
    for notification in session.scalars(query).all():
        address = address_of(notification.person)
        if not address:
            report.no_address.append(notification.id)
            continue
        try:
            mailer.send(address, notification.subject, notification.text + MAIL_FOOTER)
        except MailFailed as exc:
            report.failed[notification.id] = exc
            if exc.server_down:
                report.stopped = True
                break
            continue
        notification.emailed_at = utc_now()
        report.sent.append(notification.id)
    session.flush()
    return report
