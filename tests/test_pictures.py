"""A body's seal and its signers' signature pictures: versions kept, audited, the latest
stamped; a body without a seal picture cannot issue. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.demo.art import handwritten_signature, seal
from documents import (
    AuditEvent,
    Organisation,
    Person,
    Picture,
    PictureKind,
    SealPictureMissing,
    add_picture,
    pictures_of,
    seal_of,
    signature_of,
    verify_chain,
)
from signer import check_seal, check_signature

from .documents_fixtures import (  # noqa: F401
    Commune,
    Database,
    commune_fixture,
    db_fixture,
    postgres_url_fixture,
    sqlite_template_fixture,
)


def test_a_body_without_a_seal_picture_is_told_it_cannot_issue(db: Database,
                                                               commune: Commune) -> None:
    with db.Session() as session:
        body = session.get_one(Organisation, commune.body_id)
        with pytest.raises(SealPictureMissing) as refused:
            seal_of(session, body)
    assert "chưa có ảnh con dấu" in refused.value.vi and "Tiên Lữ" in refused.value.vi


def test_every_version_is_kept_audited_and_the_latest_is_stamped(db: Database,
                                                                 commune: Commune) -> None:
    first, second = check_seal(seal(), 36), check_seal(seal(), 38)
    with db.Session() as session:
        body = session.get_one(Organisation, commune.body_id)
        old = add_picture(session, first, actor="quantri", body=body)
        new = add_picture(session, second, actor="quantri", body=body)
        session.commit()
        assert seal_of(session, body).id == new.id and seal_of(session, body).width_mm == 38
        assert [p.id for p in pictures_of(session, body=body)] == [new.id, old.id]
        assert seal_of(session, body).png == second.png
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "picture").order_by(AuditEvent.seq)).all()
        assert [(e.actor, e.object_id, e.body_id) for e in events] == [
            ("quantri", str(old.id), commune.body_id), ("quantri", str(new.id), commune.body_id)]
        assert verify_chain(session).ok


def test_a_signature_picture_belongs_to_its_person(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        person = session.get_one(Person, next(iter(commune.people.values())))
        assert signature_of(session, person) is None
        picture = add_picture(session, check_signature(handwritten_signature()),
                              actor="quantri", person=person)
        session.commit()
        assert signature_of(session, person) == picture
        assert picture.kind is PictureKind.SIGNATURE and picture.body_id is None


def test_a_seal_given_to_a_person_is_refused(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        person = session.get_one(Person, next(iter(commune.people.values())))
        with pytest.raises(ValueError):
            add_picture(session, check_seal(seal()), actor="quantri", person=person)


def test_the_database_refuses_a_picture_without_its_owner(db: Database) -> None:
    checked = check_seal(seal())
    with db.Session() as session:
        session.add(Picture(kind=PictureKind.SEAL, png=checked.png, sha256="0" * 64,
                            width_px=1, height_px=1, width_mm=36, uploaded_by="x"))
        with pytest.raises(IntegrityError):
            session.flush()
