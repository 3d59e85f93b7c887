"""Certificates running out: each holder and their body's administrators are told at 60,
30 and 7 days before the end and when it has passed, once per step, in the app and by
e-mail (the notifications go out with every other one, :func:`documents.send_pending`).

:func:`notify_expiring` is idempotent: a periodic task may call it as often as it likes;
:class:`CertificateNotice` remembers which step each person was told of for each
certificate. Nothing here commits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from common import vietnam_time

from .accounts import Membership, Role, User
from .inventory import CertificateInUse, ExpiryWarning, KeyRole, certificates_in_use
from .models import Base, Organisation, Person, SigningAuthority
from .queue import Notification, NotificationKind
from .sqltypes import UtcDateTime, nfc, utc_now

__all__ = ["CertificateNotice", "notify_expiring"]


class CertificateNotice(Base):
    """That ``person`` was told of ``certificate_sha256`` reaching ``step``."""

    __tablename__ = "certificate_notice"
    __table_args__ = (UniqueConstraint("certificate_sha256", "step", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    #: :class:`ExpiryWarning`'s value: 60, 30, 7, or 0 (expired)
    step: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    notified_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


def _text(certificate: CertificateInUse, now: datetime) -> str:
    assert certificate.not_after is not None and certificate.warning is not None
    end = vietnam_time(certificate.not_after).strftime("%d/%m/%Y")
    whose = (f"Chứng thư số của {certificate.holder} ({certificate.capacity}, {certificate.body})"
             if certificate.role is KeyRole.PERSON
             else f"Chứng thư số của cơ quan {certificate.body}")
    if certificate.warning is ExpiryWarning.EXPIRED:
        return (f"{whose} đã hết hạn ngày {end}: không thể ký bằng chứng thư này nữa. "
                "Hãy đề nghị CA cấp chứng thư mới và đăng ký lại trong Kyso.")
    days = max(1, int((certificate.not_after - now).total_seconds() // 86400))
    return (f"{whose} hết hạn ngày {end} (còn {days} ngày). Hãy đề nghị CA gia hạn hoặc cấp "
            "chứng thư mới và đăng ký trong Kyso trước ngày đó.")


def _recipients(session: Session, certificate: CertificateInUse,
                holders: dict[str, list[int]]) -> set[int]:
    """The holder (a person's certificate) and the body's administrators (and clerks, for
    the body's own certificate)."""
    roles = [Role.ADMIN] if certificate.role is KeyRole.PERSON else [Role.ADMIN, Role.CLERK]
    people = {p for p in session.scalars(select(User.person_id).join(
        Membership, Membership.user_id == User.id).where(
        Membership.body_id == certificate.body_id, Membership.role.in_(roles),
        User.active.is_(True), User.person_id.is_not(None))) if p is not None}
    if certificate.role is KeyRole.PERSON:
        people.update(holders.get(certificate.sha256, []))
    return people


def notify_expiring(session: Session, *, now: datetime | None = None) -> list[Notification]:
    """Tell everyone concerned of each certificate that reached a new warning step."""
    now = now or datetime.now(UTC)
    bodies = list(session.scalars(select(Organisation.id)))
    sent: list[Notification] = []
    due = [c for c in certificates_in_use(session, bodies, now=now) if c.warning is not None]
    if not due:
        return sent
    holders: dict[str, list[int]] = {}
    for sha256, person_id in session.execute(select(
            SigningAuthority.certificate_sha256, SigningAuthority.person_id)):
        holders.setdefault(sha256, []).append(person_id)
    for certificate in due:
        assert certificate.warning is not None
        step = int(certificate.warning)
        told = set(session.scalars(select(CertificateNotice.person_id).where(
            CertificateNotice.certificate_sha256 == certificate.sha256,
            CertificateNotice.step == step)))
        for person_id in sorted(_recipients(session, certificate, holders) - told):
            if session.get(Person, person_id) is None:
                continue
            notification = Notification(person_id=person_id, kind=NotificationKind.CERT_EXPIRING,
                                        text=nfc(_text(certificate, now)))
            session.add(notification)
            session.flush()
            session.add(CertificateNotice(certificate_sha256=certificate.sha256, step=step,
                                          person_id=person_id, notification_id=notification.id))
            sent.append(notification)
    session.flush()
    return sent
