"""E-mail through an SMTP server: the worker's :class:`documents.Mailer`.

The settings (``KYSO_SMTP_*``) name the server; :func:`api.worker.runtime.runtime_for`
builds one when a host is set and hands it to the tasks, which hand it to
:func:`documents.send_pending`.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from documents import Mailer, MailFailed

from ..settings import Settings


@dataclass(frozen=True)
class SmtpMailer:
    """E-mail through an SMTP server (smtplib), one connection per message.

    ``starttls`` upgrades the connection before logging in (``ssl_context`` defaults
    to the system's trust store); ``username`` and ``password`` log in when given.
    Messages are UTF-8 (subject as RFC 2047 words, body as UTF-8 text).
    """

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body, charset="utf-8")
        return message

    def send(self, to: str, subject: str, body: str) -> None:
        message = self.message(to, subject, body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
            # this address or this message only
            raise MailFailed(to, f"{type(exc).__name__}: {exc}", server_down=False) from exc
        except (smtplib.SMTPException, OSError, UnicodeError) as exc:
            # unreachable, TLS, login or sender refused (smtplib logs in with ASCII
            # only): nothing will go through until the server or the settings change
            raise MailFailed(to, f"{type(exc).__name__}: {exc}", server_down=True) from exc




def smtp_mailer(settings: Settings) -> Mailer | None:
    """The mailer the settings name (``KYSO_SMTP_*``); None when no SMTP host is set:
    notifications then stay in-app only."""
    if not settings.smtp_host:
        return None
    return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender,
                      username=settings.smtp_username, password=settings.smtp_password,
                      starttls=settings.smtp_starttls)


__all__ = ["SmtpMailer", "smtp_mailer"]
