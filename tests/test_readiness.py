""""Ready to issue?": a new body's checklist fails with what to do, and passes once done."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from api.demo.art import seal
from documents import (
    BookScope,
    NumberBook,
    Organisation,
    OrganisationKey,
    Person,
    Role,
    add_picture,
    body_readiness,
    create_user,
    grant,
    register_certificate,
)
from signer import check_seal

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

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 3, tzinfo=UTC)


def test_a_new_body_is_told_what_is_missing_and_what_to_do(db: Database,
                                                           commune: Commune) -> None:
    with db.Session() as session:
        checks = body_readiness(session, session.get_one(Organisation, commune.body_id),
                                today=TODAY, now=NOW)
    failing = {c.name_vi: c for c in checks if not c.ok}
    assert set(failing) == {"Ảnh con dấu", "Chứng thư số của cơ quan",
                            "Sổ đăng ký bản sao đi năm 2026",
                            "Người có thẩm quyền ký quyết định", "Văn thư"}
    assert all(c.todo_vi and c.todo_en and c.detail_vi for c in failing.values())
    assert "chưa có ảnh con dấu" in failing["Ảnh con dấu"].detail_vi


def test_a_body_with_everything_in_place_is_ready(db: Database, commune: Commune) -> None:
    cert = certificate("Nguyễn Văn An", NOW + timedelta(days=300))
    with db.Session() as session:
        body = session.get_one(Organisation, commune.body_id)
        add_picture(session, check_seal(seal()), actor="quantri", body=body)
        session.add(OrganisationKey(body_id=body.id, certificate_sha256="cd" * 32,
                                    token_name="ubnd"))
        session.add(NumberBook(body=body, code="sao", name="Sổ bản sao", scope=BookScope.COPIES))
        authority = add_authority(session, commune, "chu-tich")
        authority.certificate_sha256 = hashlib.sha256(cert.dump()).hexdigest()
        register_certificate(session, session.get_one(Person, commune.people["chu-tich"]), cert)
        clerk = create_user(session, "vanthu", "một mật khẩu đủ dài", "Văn thư")
        grant(session, clerk, body, Role.CLERK)
        session.commit()
        checks = body_readiness(session, body, today=TODAY, now=NOW)
    assert [(c.name_vi, c.detail_vi) for c in checks if not c.ok] == []
    holders = {c.name_vi: c.detail_vi for c in checks}
    assert holders["Người có thẩm quyền ký quyết định"] == "Nguyễn Văn An"


def test_an_expired_signer_certificate_fails_the_check(db: Database, commune: Commune) -> None:
    old = certificate("Nguyễn Văn An", NOW - timedelta(days=1))
    with db.Session() as session:
        authority = add_authority(session, commune, "chu-tich")
        authority.certificate_sha256 = hashlib.sha256(old.dump()).hexdigest()
        register_certificate(session, session.get_one(Person, commune.people["chu-tich"]), old)
        session.commit()
        checks = body_readiness(session, session.get_one(Organisation, commune.body_id),
                                today=TODAY, now=NOW)
    signers = next(c for c in checks if c.name_vi == "Chứng thư số của người ký")
    assert not signers.ok and "hết hạn: Nguyễn Văn An" in signers.detail_vi
