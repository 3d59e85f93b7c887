"""A real body from an empty database: its official code, units, books and first
administrator, then its staff from the list the administrator already keeps."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.datadir import DataDir
from documents import (
    AuditAction,
    AuditEvent,
    BodyExists,
    BodyPlan,
    BookScope,
    FirstAdmin,
    InvalidOrganId,
    NumberBook,
    Organisation,
    Person,
    Role,
    StaffListUnreadable,
    UnitPlan,
    User,
    authenticate,
    create_engine_for,
    import_staff,
    read_staff_list,
    roles_of,
    start_body,
)

from .documents_fixtures import (  # noqa: F401
    Database,
    db_fixture,
    postgres_url_fixture,
    sqlite_template_fixture,
)
from .helpers import KYSO

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PLAN = BodyPlan(name="Ủy ban nhân dân xã Hòa Bình", abbreviation="UBND",
                place_name="Hòa Bình", organ_id="000.21.07.h41",
                units=[UnitPlan("Văn phòng HĐND và UBND", "VP"),
                       UnitPlan("Phòng Kinh tế", "KT")])
ADMIN = FirstAdmin("quantri.hb", "mat-khau-rat-dai-2026", "Nguyễn Thị Quản", "qt@hb.gov.vn")
STAFF_CSV = ("Họ và tên;Chức vụ;Đơn vị;Tên đăng nhập;Vai trò;Email\n"
             "Lò Văn Tám;Chủ tịch;;chutich.hb;Lãnh đạo;tam@hb.gov.vn\n"
             "Hà Thị Mơ;Chuyên viên;VP;mo.ht;Chuyên viên, Văn thư;\n"
             "Vi Văn Sáng;Chuyên viên;Phòng Kinh tế;sang.vv;Chuyên viên;\n")


def started(db: Database) -> int:
    with db.Session() as session:
        body = start_body(session, PLAN, ADMIN, actor=None, hasher=FAST)
        session.commit()
        return body.id


def test_a_body_starts_with_its_code_units_books_and_an_administrator(db: Database) -> None:
    body_id = started(db)
    with db.Session() as session:
        body = session.get_one(Organisation, body_id)
        assert body.organ_id == "000.21.07.H41"
        assert [u.abbreviation for u in body.units] == ["VP", "KT"]
        books = session.scalars(select(NumberBook).where(NumberBook.body_id == body_id)).all()
        assert {b.scope for b in books} == {BookScope.BODY, BookScope.COPIES}
        admin = authenticate(session, "quantri.hb", ADMIN.password, "10.0.0.1", hasher=FAST)
        assert roles_of(session, admin, body) == {Role.ADMIN}
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "organisation")).one()
        assert event.action is AuditAction.ADMIN_CHANGE and event.actor == "quantri.hb"


def test_the_same_body_is_not_created_twice_by_name_or_by_code(db: Database) -> None:
    started(db)
    for plan in (PLAN, BodyPlan("Ủy ban nhân dân xã Khác", "UBND", "Khác", "000.21.07.H41")):
        with db.Session() as session, pytest.raises(BodyExists):
            start_body(session, plan, FirstAdmin("khac", "mat-khau-rat-dai-2026", "Khác"),
                       actor=None, hasher=FAST)


@pytest.mark.parametrize("code", ["", "H41", "000.21.07", "000-21-07-H41", "000.21.07.H4"])
def test_a_malformed_official_code_is_refused_with_an_example(db: Database, code: str) -> None:
    plan = BodyPlan("Ủy ban nhân dân xã Sai Mã", "UBND", "Sai Mã", code)
    with db.Session() as session, pytest.raises(InvalidOrganId) as refused:
        start_body(session, plan, ADMIN, actor=None, hasher=FAST)
    assert "000.12.34.H41" in str(refused.value)


def test_the_staff_list_adds_people_and_accounts_with_their_roles(db: Database) -> None:
    body_id = started(db)
    staff = read_staff_list(STAFF_CSV.encode(), "can-bo.csv")
    with db.Session() as session:
        body = session.get_one(Organisation, body_id)
        imported = import_staff(session, body, staff, actor="quantri.hb", hasher=FAST)
        session.commit()
        assert [p.full_name for p in imported.people] == ["Lò Văn Tám", "Hà Thị Mơ",
                                                          "Vi Văn Sáng"]
        sang = session.scalars(select(Person).where(Person.full_name == "Vi Văn Sáng")).one()
        assert sang.unit is not None and sang.unit.abbreviation == "KT"
        passwords = dict(imported.accounts)
        mo = authenticate(session, "mo.ht", passwords["mo.ht"], "10.0.0.1", hasher=FAST)
        assert roles_of(session, mo, body) == {Role.DRAFTER, Role.CLERK}
        assert mo.person_id is not None
        assert len(set(passwords.values())) == 3


def test_a_list_with_one_bad_row_imports_nobody_and_names_the_line(db: Database) -> None:
    body_id = started(db)
    bad = STAFF_CSV.replace("Phòng Kinh tế", "Phòng Không Có") \
        .replace("chutich.hb", "quantri.hb")
    with db.Session() as session:
        body = session.get_one(Organisation, body_id)
        with pytest.raises(StaffListUnreadable) as refused:
            import_staff(session, body, read_staff_list(bad.encode(), "can-bo.csv"),
                         actor="quantri.hb", hasher=FAST)
        session.rollback()
        message = str(refused.value)
        assert "dòng 2" in message and "quantri.hb" in message
        assert "dòng 4" in message and "Phòng Không Có" in message
        assert session.scalar(select(User).where(User.username == "mo.ht")) is None


def test_kyso_init_sets_up_an_empty_instance_and_never_prints_the_password(
        tmp_path: Path) -> None:
    (tmp_path / "can-bo.csv").write_text(STAFF_CSV, encoding="utf-8")
    args = [KYSO, "--data-dir", str(tmp_path / "data"), "init",
            "--name", PLAN.name, "--abbreviation", "UBND", "--place", "Hòa Bình",
            "--organ-id", "000.21.07.H41", "--admin", "quantri.hb",
            "--admin-name", "Nguyễn Thị Quản", "--unit", "VP=Văn phòng HĐND và UBND",
            "--unit", "KT=Phòng Kinh tế", "--staff", str(tmp_path / "can-bo.csv"),
            "--password-stdin"]
    done = subprocess.run(args, input=ADMIN.password + "\n", capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    assert "000.21.07.H41" in done.stdout and "mo.ht" in done.stdout
    assert ADMIN.password not in done.stdout + done.stderr
    again = subprocess.run(args, input=ADMIN.password + "\n", capture_output=True, text=True,
                           timeout=180)
    assert again.returncode != 0 and "đã có cơ quan" in again.stdout + again.stderr
    engine = create_engine_for(DataDir(tmp_path / "data").database_url)
    try:
        with Session(engine) as session:
            admin = authenticate(session, "quantri.hb", ADMIN.password, "10.0.0.1")
            body = session.scalars(select(Organisation)).one()
            assert roles_of(session, admin, body) == {Role.ADMIN}
            assert len(session.scalars(select(User)).all()) == 4
    finally:
        engine.dispose()
