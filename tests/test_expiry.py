"""Certificates running out: the holder and the administrators are told at 60, 30 and 7
days and at the end, once per step, in the app (and so by e-mail)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from documents import (
    Notification,
    NotificationKind,
    Organisation,
    Person,
    Role,
    create_user,
    grant,
    notify_expiring,
    register_certificate,
)

from .documents_fixtures import (  # noqa: F401
    Commune,
    Database,
    add_authority,
    commune_fixture,
    db_fixture,
    postgres_url_fixture,
    sqlite_template_fixture,
)
from .test_inventory import certificate

NOW = datetime(2026, 12, 2, 3, tzinfo=UTC)


def setup(db: Database, commune: Commune, ends: datetime) -> tuple[int, int]:
    """The Chủ tịch's certificate ending at ``ends``, and an administrator on file."""
    cert = certificate("Nguyễn Văn An", ends)
    with db.Session() as session:
        authority = add_authority(session, commune, "chu-tich")
        authority.certificate_sha256 = hashlib.sha256(cert.dump()).hexdigest()
        holder = session.get_one(Person, commune.people["chu-tich"])
        register_certificate(session, holder, cert)
        admin_person = session.get_one(Person, commune.people["pho-chu-tich"])
        admin = create_user(session, "quantri", "một mật khẩu đủ dài", "Quản trị",
                            person=admin_person)
        grant(session, admin, session.get_one(Organisation, commune.body_id), Role.ADMIN)
        session.commit()
        return holder.id, admin_person.id


def told(db: Database) -> list[tuple[int, str]]:
    with db.Session() as session:
        return [(n.person_id, n.text) for n in session.scalars(select(Notification).where(
            Notification.kind == NotificationKind.CERT_EXPIRING).order_by(Notification.id))]


def test_each_step_is_told_once_to_the_holder_and_the_administrator(
        db: Database, commune: Commune) -> None:
    holder, admin = setup(db, commune, NOW + timedelta(days=45))
    for moment in (NOW, NOW + timedelta(hours=1)):  # a periodic task, twice
        with db.Session() as session:
            notify_expiring(session, now=moment)
            session.commit()
    first = told(db)
    assert sorted(p for p, _ in first) == sorted([holder, admin])
    assert all("còn 45 ngày" in text and "Nguyễn Văn An" in text for _, text in first)

    with db.Session() as session:  # 20 days later: the 30-day step, once more each
        notify_expiring(session, now=NOW + timedelta(days=20))
        session.commit()
    assert len(told(db)) == 4 and "còn 25 ngày" in told(db)[-1][1]


def test_an_expired_certificate_says_it_can_no_longer_sign(db: Database,
                                                            commune: Commune) -> None:
    setup(db, commune, NOW - timedelta(days=2))
    with db.Session() as session:
        notify_expiring(session, now=NOW)
        session.commit()
    assert told(db) and all("đã hết hạn" in text and "không thể ký" in text
                            for _, text in told(db))


def test_a_certificate_far_from_its_end_is_not_mentioned(db: Database, commune: Commune) -> None:
    setup(db, commune, NOW + timedelta(days=200))
    with db.Session() as session:
        assert notify_expiring(session, now=NOW) == []
