"""Bodies, people, authority and books round-trip through the migrated schema, on
SQLite and on PostgreSQL; the migrations build exactly what the models describe."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from documents import (
    DOC_TYPES,
    Base,
    BookScope,
    Designation,
    DocumentStatus,
    DocumentType,
    NoNumberBook,
    NumberBook,
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    RegisterEntry,
    SigningAuthority,
    Unit,
    alembic_config,
    book_for,
    find_authority,
    register_issue,
    upgrade_database,
)

from .documents_fixtures import (  # noqa: F401
    FINGERPRINT,
    Commune,
    Database,
    add_authority,
    commune_fixture,
    db_fixture,
    details,
    new_document,
    postgres_url_fixture,
    sqlite_template_fixture,
)


def test_migrations_build_what_the_models_describe(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == []


def test_migrations_go_down_and_up_again(db: Database) -> None:
    upgrade_database(db.url)  # already at head: nothing to do
    db.engine.dispose()
    command.downgrade(alembic_config(db.url), "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade_database(db.url)
    with db.Session() as session:
        assert len(session.scalars(select(DocumentType)).all()) == len(DOC_TYPES)


def test_the_migration_seeds_appendix_iii(db: Database) -> None:
    with db.Session() as session:
        rows = session.scalars(select(DocumentType).order_by(DocumentType.ordinal)).all()
        assert [(r.code, r.name, r.abbreviation, r.ordinal, r.is_copy) for r in rows] == \
            [(t.code, t.name, t.abbreviation, t.ordinal, t.is_copy) for t in DOC_TYPES]


def test_bodies_units_people_round_trip_in_nfc(db: Database) -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung")
    with db.Session() as session:
        ubnd = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE,
                            name=unicodedata.normalize("NFD", "Ủy ban nhân dân xã Tiên Lữ"),
                            abbreviation="UBND", place_name="Tiên Lữ")
        centre = Organisation(kind=OrganisationKind.PUBLIC_SERVICE_CENTRE, parent=ubnd,
                              name="Trung tâm Phục vụ hành chính công xã Tiên Lữ",
                              abbreviation="TTPVHCC", place_name="Tiên Lữ")
        council = Organisation(kind=OrganisationKind.COUNCIL, parent=ubnd,
                               name="Hội đồng thi đua - khen thưởng xã Tiên Lữ",
                               abbreviation="HĐTĐKT", place_name="Tiên Lữ")
        vp = Unit(body=ubnd, name="Văn phòng HĐND và UBND", abbreviation="VP")
        person = Person(body=ubnd, unit=vp, full_name=decomposed, position="Văn thư")
        # normalised on assignment, before any flush
        assert person.full_name == unicodedata.normalize("NFC", decomposed)
        session.add_all([ubnd, centre, council, vp, person])
        session.commit()
        ids = ubnd.id, person.id

    with db.Session() as session:
        ubnd = session.get_one(Organisation, ids[0])
        assert ubnd.name == "Ủy ban nhân dân xã Tiên Lữ"
        assert unicodedata.is_normalized("NFC", ubnd.name)
        assert [u.abbreviation for u in ubnd.units] == ["VP"]
        assert ubnd.created_at.tzinfo is not None
        assert ubnd.created_at.utcoffset() == UTC.utcoffset(None)
        children = session.scalars(select(Organisation).where(Organisation.parent_id == ubnd.id)
                                   .order_by(Organisation.id)).all()
        assert [c.kind for c in children] == [OrganisationKind.PUBLIC_SERVICE_CENTRE,
                                              OrganisationKind.COUNCIL]
        # a decomposed query parameter finds the stored precomposed name
        found = session.scalars(select(Person).where(Person.full_name == decomposed)).one()
        assert found.id == ids[1]
        assert found.unit is not None and found.unit.abbreviation == "VP"


def test_signing_authority_round_trip(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        authority = add_authority(session, commune, "pho-chu-tich", "quyet-dinh", "bao-cao",
                                  designation=Designation.KT, on_behalf_of="CHỦ TỊCH",
                                  valid_from=date(2025, 7, 1))
        authority.certificate_sha256 = ":".join(["AB"] * 32)
        session.commit()
        authority_id = authority.id

    with db.Session() as session:
        stored = session.get_one(SigningAuthority, authority_id)
        assert stored.designation is Designation.KT
        assert stored.designation_line == "KT. CHỦ TỊCH"
        assert stored.certificate_sha256 == FINGERPRINT
        assert stored.token_name == "token-pho-chu-tich"
        assert {t.code for t in stored.doc_types} == {"quyet-dinh", "bao-cao"}
        assert stored.person.position == "Phó Chủ tịch"
        assert stored.valid_from == date(2025, 7, 1) and stored.unit is None


def test_a_fingerprint_must_be_a_sha256(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        add_authority(session, commune, "chu-tich")
        session.commit()
        authority = session.scalars(select(SigningAuthority)).one()
        authority.certificate_sha256 = "abcd"
        with pytest.raises(IntegrityError):
            session.commit()


def test_find_authority(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        chair = add_authority(session, commune, "chu-tich", on_behalf_of="ỦY BAN NHÂN DÂN",
                              designation=Designation.TM)
        deputy = add_authority(session, commune, "pho-chu-tich", "quyet-dinh", "bao-cao",
                               designation=Designation.KT, on_behalf_of="CHỦ TỊCH")
        head_vx = add_authority(session, commune, "truong-phong-vx", "cong-van",
                                designation=Designation.TL, on_behalf_of="CHỦ TỊCH", unit="VX")
        add_authority(session, commune, "truong-phong-vx", "cong-van", unit=None,
                      designation=Designation.TUQ, on_behalf_of="CHỦ TỊCH",
                      valid_from=date(2025, 1, 1), valid_until=date(2025, 6, 30))
        session.commit()
        people = {k: session.get_one(Person, v) for k, v in commune.people.items()}
        ubnd = session.get_one(Organisation, commune.body_id)
        vx = session.get_one(Unit, commune.units["VX"])
        vp = session.get_one(Unit, commune.units["VP"])
        day = date(2025, 9, 1)

        assert find_authority(session, people["chu-tich"], ubnd, "to-trinh", on=day) == chair
        qd = session.get_one(DocumentType, "quyet-dinh")
        assert find_authority(session, people["pho-chu-tich"], ubnd, qd, on=day) == deputy
        assert find_authority(session, people["pho-chu-tich"], ubnd, "to-trinh", on=day) is None
        assert find_authority(session, people["truong-phong-vx"], ubnd, "cong-van", vx,
                              on=day) == head_vx
        # not for another unit's công văn, and the TUQ. delegation has ended
        assert find_authority(session, people["truong-phong-vx"], ubnd, "cong-van", vp,
                              on=day) is None
        tuq = find_authority(session, people["truong-phong-vx"], ubnd, "cong-van", vp,
                             on=date(2025, 3, 1))
        assert tuq is not None and tuq.designation_line == "TUQ. CHỦ TỊCH"


def test_book_for(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        ubnd = session.get_one(Organisation, commune.body_id)
        general = session.get_one(NumberBook, commune.book_id)
        nq_book = NumberBook(body=ubnd, code="nq", name="Sổ nghị quyết", scope=BookScope.DOC_TYPE,
                             doc_types={session.get_one(DocumentType, "nghi-quyet")})
        copies = NumberBook(body=ubnd, code="sao", name="Sổ bản sao", scope=BookScope.COPIES)
        secret = NumberBook(body=ubnd, code="mat", name="Sổ văn bản mật", scope=BookScope.SECRET)
        session.add_all([nq_book, copies, secret])
        session.flush()

        assert book_for(session, ubnd, "quyet-dinh") == general
        assert book_for(session, ubnd, "nghi-quyet") == nq_book
        assert book_for(session, ubnd, "ban-trich-sao") == copies
        assert book_for(session, ubnd, "quyet-dinh", secret=True) == secret

        vx = session.get_one(Unit, commune.units["VX"])
        vx_book = NumberBook(body=ubnd, code="vx", name="Sổ của phòng VX", scope=BookScope.UNIT,
                             unit=vx, symbol_with_unit=True)
        twin = NumberBook(body=ubnd, code="chung-2", name="Sổ thứ hai", scope=BookScope.BODY)
        session.add_all([vx_book, twin])
        session.flush()
        assert book_for(session, ubnd, "cong-van", vx) == vx_book
        with pytest.raises(NoNumberBook) as ambiguous:
            book_for(session, ubnd, "cong-van")
        assert "nhiều sổ" in ambiguous.value.vi and "several books" in ambiguous.value.en
        copies.active = False
        with pytest.raises(NoNumberBook):
            book_for(session, ubnd, "ban-sao-y")


def test_a_register_entry_keeps_the_appendix_vi_metadata(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        document = new_document(session, commune, "to-trinh", unit="KT")
        entry = register_issue(session, document, session.get_one(NumberBook, commune.book_id),
                               details(date(2025, 8, 19), priority=Priority.URGENT,
                                       due_date=date(2025, 8, 29), page_amount=3,
                                       file_code="H34.22.01-2025-KT", doc_ordinal=7,
                                       description="Kèm theo 02 phụ lục",
                                       transferred_date=date(2025, 8, 20),
                                       receipt="Đã nhận qua hệ thống", registered_by="vanthu"))
        session.commit()
        entry_id = entry.id

    with db.Session() as session:
        stored = session.get_one(RegisterEntry, entry_id)
        assert (stored.code_number, stored.code_notation, stored.number_symbol) == \
            ("01", "TTr-UBND", "01/TTr-UBND")
        assert (stored.issued_date, stored.year, stored.organ_name, stored.type_name) == \
            (date(2025, 8, 19), 2025, "Ủy ban nhân dân xã Tiên Lữ", "Tờ trình")
        assert stored.subject == "về việc thành lập Tổ công tác"
        assert (stored.signer_full_name, stored.signer_position) == \
            ("Trần Thị Bình", "Phó Chủ tịch")
        assert (stored.recipients, stored.archive_holder, stored.issued_amount) == \
            ("Như Điều 3; Lưu: VT, VP.", "VP (Phạm Thị Hoa)", 2)
        assert (stored.priority, stored.due_date, stored.page_amount) == \
            (Priority.URGENT, date(2025, 8, 29), 3)
        assert (stored.file_code, stored.doc_ordinal, stored.language) == \
            ("H34.22.01-2025-KT", 7, "Tiếng Việt")
        assert stored.description == "Kèm theo 02 phụ lục"
        assert (stored.transferred_date, stored.receipt) == \
            (date(2025, 8, 20), "Đã nhận qua hệ thống")
        assert stored.registered_by == "vanthu" and stored.registered_at.tzinfo is not None
        assert stored.unit is not None and stored.unit.abbreviation == "KT"
        assert stored.document.status is DocumentStatus.NUMBERED
        assert stored.document.register_entry is stored


def test_an_inactive_person_has_no_authority(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        add_authority(session, commune, "chu-tich")
        chair = session.get_one(Person, commune.people["chu-tich"])
        ubnd = session.get_one(Organisation, commune.body_id)
        assert find_authority(session, chair, ubnd, "quyet-dinh") is not None
        chair.active = False
        assert find_authority(session, chair, ubnd, "quyet-dinh") is None
