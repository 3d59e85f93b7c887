""""Ready to issue?" on this server: the database's checklist plus what needs the network.

:func:`readiness` is what the administrator's checklist page and ``kyso doctor --body``
show: :func:`documents.body_readiness` (seal picture, organisation certificate in force,
number books, signing authorities, signers' certificates, …) followed by the checks only
a running server can make — the token holding the body's organisation key answers, the
organisation certificate is trusted and its CA's OCSP/CRL answers and does not list it
revoked, the timestamp server (TSA) gives a timestamp, and the SMTP server takes a login.
Each failed check says what to do next. Nothing is signed, sent or written; no PIN is
used (a token's health is read without logging in).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from asn1crypto import x509
from sqlalchemy.orm import Session

from certs import TrustStore, validation_context
from common import KysoError, today_in_vietnam
from documents import (
    Check,
    Organisation,
    SignerCertificate,
    administered,
    body_readiness,
    check_certificate,
    seal_key,
)
from tokens import check_revocation

from .settings import Settings

if TYPE_CHECKING:
    from .http.deps import Services

__all__ = ["readiness", "readiness_of", "service_checks"]

#: seconds each network check may take
TIMEOUT = 5.0


def _failed(name: tuple[str, str], detail: tuple[str, str], todo: tuple[str, str]) -> Check:
    return Check(name[0], name[1], False, detail[0], detail[1], todo[0], todo[1])


def _token_check(settings: Settings, token_name: str) -> Check:
    name = ("Thiết bị giữ khóa của cơ quan", "Token holding the organisation key")
    try:
        health = settings.data.token(token_name).health()
    except KysoError as exc:
        return _failed(name, (exc.vi, exc.en), (
            f"khai báo thiết bị ký “{token_name}” trong tokens.json của máy chủ",
            f"configure the token “{token_name}” in the server's tokens.json"))
    if not health.ok:
        return _failed(name, (health.detail, health.detail), (
            "cắm lại token/HSM của cơ quan vào máy chủ rồi kiểm tra lại",
            "plug the body's token/HSM back into the server and check again"))
    return Check(name[0], name[1], True, f"{token_name}: {health.detail}",
                 f"{token_name}: {health.detail}")


def _certificate_checks(session: Session, sha256: str, trust: TrustStore) -> list[Check]:
    trusted = ("Chứng thư số của cơ quan được tin cậy", "Organisation certificate trusted")
    revocation = ("Tra cứu thu hồi (OCSP/CRL)", "Revocation service (OCSP/CRL)")
    known = session.get(SignerCertificate, sha256)
    if known is None:
        todo = ("tải tệp chứng thư (PEM) của cơ quan lên trang Quản trị → Chứng thư số",
                "upload the body's certificate (PEM) on Admin → Certificates")
        detail = ("Kyso mới biết SHA-256 của chứng thư, chưa có chính chứng thư",
                  "Kyso knows only the certificate's SHA-256, not the certificate")
        return [_failed(trusted, detail, todo), _failed(revocation, detail, todo)]
    cert = x509.Certificate.load(known.der)
    checks = []
    try:
        facts = check_certificate(cert, validation_context(trust, online=True))
        checks.append(Check(trusted[0], trusted[1], True, f"CA cấp: {facts.issuer}",
                            f"issued by {facts.issuer}"))
    except KysoError as exc:
        checks.append(_failed(trusted, (exc.vi, exc.en), (
            "thêm CA gốc/trung gian của nhà cung cấp vào kho tin cậy, hoặc xin CA cấp lại "
            "chứng thư", "add the CA's root/intermediate to the trust store, or ask the CA "
            "for a new certificate")))
    answered = check_revocation(cert, [*trust.anchors, *trust.intermediates, *known.chain],
                                timeout=TIMEOUT)
    checks.append(Check(revocation[0], revocation[1], answered.ok is True, answered.vi,
                        answered.en, answered.next_step_vi, answered.next_step_en))
    return checks


def _tsa_check(url: str | None) -> Check:
    name = ("Máy chủ dấu thời gian (TSA)", "Timestamp server (TSA)")
    todo = ("đặt KYSO_TSA_URL là địa chỉ TSA của CA (hoặc mở tường lửa tới nó)",
            "set KYSO_TSA_URL to the CA's TSA address (or open the firewall to it)")
    if not url:
        return _failed(name, ("chưa cấu hình KYSO_TSA_URL", "KYSO_TSA_URL is not set"), todo)
    from pyhanko.sign.timestamps import TimestampRequestError

    from signer import probe_tsa

    try:
        probe_tsa(url, b"kyso readiness", TIMEOUT)
    except (TimestampRequestError, OSError, ValueError) as exc:
        return _failed(name, (f"{url}: không lấy được dấu thời gian ({type(exc).__name__})",
                              f"{url}: no timestamp ({type(exc).__name__}: {exc})"), todo)
    return Check(name[0], name[1], True, url, url)


def _mail_check(settings: Settings) -> Check:
    name = ("Gửi thư điện tử (SMTP)", "E-mail delivery (SMTP)")
    todo = ("đặt KYSO_SMTP_HOST, KYSO_SMTP_PORT (và tài khoản nếu máy chủ thư đòi) để nhắc "
            "việc qua e-mail", "set KYSO_SMTP_HOST, KYSO_SMTP_PORT (and an account if the "
            "mail server needs one) so reminders go by e-mail")
    if not settings.smtp_host:
        return _failed(name, ("chưa cấu hình máy chủ thư: chỉ có thông báo trong Kyso",
                              "no mail server configured: in-app notices only"), todo)
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username is not None:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.noop()
    except (smtplib.SMTPException, OSError) as exc:
        return _failed(name, (f"{where}: không kết nối/đăng nhập được ({type(exc).__name__})",
                              f"{where}: cannot connect or log in ({type(exc).__name__})"),
                       todo)
    return Check(name[0], name[1], True, where, where)


def _today() -> date:
    return today_in_vietnam()


def service_checks(settings: Settings, session: Session, body: Organisation,
                   trust: TrustStore) -> list[Check]:
    """The network's and the tokens' part of ``body``'s checklist."""
    checks: list[Check] = []
    try:
        key = seal_key(session, body, on=_today())
    except KysoError:
        pass  # the database's checklist already says there is no organisation key
    else:
        checks.append(_token_check(settings, key.token_name))
        checks += _certificate_checks(session, key.certificate_sha256, trust)
    pki = settings.data.demo_pki()
    checks.append(_tsa_check(settings.tsa_url or (pki.tsa_url if pki else None)))
    checks.append(_mail_check(settings))
    return checks


def readiness(settings: Settings, session: Session, body: Organisation,
              trust: TrustStore, *, now: datetime | None = None) -> Sequence[Check]:
    """The whole checklist of ``body``: the database's, then this server's."""
    now = now or datetime.now(UTC)
    return [*body_readiness(session, body, today=_today(), now=now),
            *service_checks(settings, session, body, trust)]


def readiness_of(svc: Services, actor_id: int, body_id: int) -> list[dict[str, Any]]:
    """"Ready to issue?" for a body the account ``actor_id`` administers, as plain rows."""
    with svc.sessions() as db:
        _, body = administered(db, actor_id, body_id)
        store = svc.trust_for(db, [body_id])
        return [asdict(c) for c in readiness(svc.settings, db, body, store)]
