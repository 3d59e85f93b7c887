"""Accounts, roles, logins and API tokens, on SQLite and PostgreSQL.

Most tests hash with cheap argon2id parameters (``FAST``) to stay quick; the
rehash test shows a hash with other parameters being replaced at login.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.demo.accounts import seed_demo_accounts
from common import KysoError
from documents import (
    DEFAULT_HASHER,
    ApiToken,
    Forbidden,
    InvalidToken,
    InvalidUsername,
    LoginAttempt,
    LoginFailed,
    LoginThrottled,
    Membership,
    Organisation,
    Person,
    Role,
    User,
    UsernameTaken,
    WeakPassword,
    authenticate,
    bodies_of,
    create_user,
    forget_login_attempts,
    grant,
    issue_token,
    require_role,
    revoke,
    revoke_token,
    roles_of,
    set_password,
    tokens_of,
    user_for_token,
)

from .documents_fixtures import (  # noqa: F401
    Commune,
    Database,
    body,
    commune_fixture,
    db_fixture,
    make_commune,
    postgres_url_fixture,
    sqlite_template_fixture,
)

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
NOW = datetime(2025, 3, 5, 8, 30, tzinfo=UTC)
PASSWORD = "Mật khẩu Tiên Lữ 2025"


def new_user(session: Session, username: str = "vanthu", password: str = PASSWORD,
             person: Person | None = None) -> User:
    return create_user(session, username, password, "Phạm Thị Hoa", person=person,
                       hasher=FAST)


def login(session: Session, username: str, password: str = PASSWORD,
          client: str = "10.0.0.1", at: datetime = NOW, **limits: Any) -> User:
    return authenticate(session, username, password, client, now=at, hasher=FAST, **limits)


def fail(session: Session, username: str, client: str = "10.0.0.1",
         at: datetime = NOW) -> None:
    with pytest.raises(LoginFailed):
        login(session, username, "sai mật khẩu rồi", client, at)
    session.commit()  # the failure must outlive the request: it is what throttling counts


def assert_bilingual(error: KysoError) -> None:
    line = error.one_line()
    assert line.startswith("Lỗi: ") and " — Error: " in line and "\n" not in line


# --- hashing ---------------------------------------------------------------------------

def test_the_password_is_stored_as_an_argon2id_hash_only(db: Database) -> None:
    with db.Session() as session:
        user = new_user(session, "VanThu")
        session.commit()
        user_id = user.id
    with db.Session() as session:
        user = session.get_one(User, user_id)
        assert user.username == "vanthu"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash and PASSWORD not in repr(user)
        assert user.active and user.last_login_at is None
        assert user.created_at.tzinfo is not None


def test_the_default_hasher_is_argon2id_with_its_recommended_costs(db: Database) -> None:
    with db.Session() as session:
        user = create_user(session, "chutich", PASSWORD, "Nguyễn Văn Hùng")
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert not DEFAULT_HASHER.check_needs_rehash(user.password_hash)


def test_an_outdated_hash_is_replaced_at_login(db: Database) -> None:
    with db.Session() as session:
        user = new_user(session)  # cheap parameters, as an older Kyso might have used
        old = user.password_hash
        session.commit()
        assert authenticate(session, "vanthu", PASSWORD, "10.0.0.1", now=NOW) is user
        session.commit()
        assert user.password_hash != old
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        # and the new hash still opens the account
        assert login(session, "vanthu", at=NOW + timedelta(minutes=1)) is user


def test_a_password_typed_decomposed_matches_the_precomposed_one(db: Database) -> None:
    with db.Session() as session:
        user = new_user(session)
        decomposed = unicodedata.normalize("NFD", PASSWORD)
        assert decomposed != PASSWORD
        assert login(session, unicodedata.normalize("NFD", "VanThu"), decomposed) is user


# --- logins ----------------------------------------------------------------------------

def test_login_succeeds_and_records_the_attempt(db: Database) -> None:
    with db.Session() as session:
        user = new_user(session)
        session.commit()
        assert login(session, " VanThu ", client="192.0.2.7") is user
        with pytest.raises(LoginFailed):  # a longer name is not cut down to a real one
            login(session, "vanthu" + "x" * 64, client="192.0.2.7")
        session.commit()
        assert user.last_login_at == NOW
        ok, failed = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert (ok.username, ok.client, ok.at, ok.success) == ("vanthu", "192.0.2.7", NOW, True)
        assert len(failed.username) == 64 and not failed.success


def test_a_failed_login_says_the_same_whether_or_not_the_user_exists(db: Database) -> None:
    with db.Session() as session:
        new_user(session)
        inactive = new_user(session, "nghiviec")
        inactive.active = False
        session.commit()
        errors = []
        for username, password in (("vanthu", "sai mật khẩu rồi"),   # wrong password
                                   ("khongco", PASSWORD),              # no such user
                                   ("nghiviec", PASSWORD)):            # disabled account
            with pytest.raises(LoginFailed) as err:
                login(session, username, password)
            session.commit()
            errors.append(err.value)
        assert len({(e.vi, e.en, str(e)) for e in errors}) == 1
        assert_bilingual(errors[0])
        assert errors[0].en == "wrong user name or password"
        attempts = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert [(a.username, a.success) for a in attempts] == \
            [("vanthu", False), ("khongco", False), ("nghiviec", False)]


def test_no_password_is_stored_anywhere(db: Database) -> None:
    with db.Session() as session:
        new_user(session)
        session.commit()
        login(session, "vanthu")
        fail(session, "vanthu")
        session.commit()
    with db.engine.connect() as conn:
        for table in ("user_account", "login_attempt"):
            for row in conn.exec_driver_sql(f"SELECT * FROM {table}"):
                assert not any(isinstance(v, str) and ("Mật khẩu" in v or "sai mật" in v)
                               for v in row)


def test_five_failures_from_one_address_slow_that_name_there_more_each_time(
        db: Database) -> None:
    with db.Session() as session:
        user = new_user(session)
        session.commit()
        for minute in range(5):
            fail(session, "VanThu", at=NOW + timedelta(minutes=minute))
        last = NOW + timedelta(minutes=4)
        with pytest.raises(LoginThrottled) as err:
            login(session, "vanthu", at=last + timedelta(seconds=5))  # the right password too
        assert err.value.retry_after_seconds == 10  # 15 s after the fifth failure
        assert "10 giây" in err.value.vi and "10 seconds" in err.value.en
        assert_bilingual(err.value)
        # a throttled attempt is not recorded and checks no password
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 5
        # another user name from the same address is not affected
        new_user(session, "kiemtra")
        assert login(session, "kiemtra", at=last + timedelta(seconds=5)).username == "kiemtra"
        # after the delay one more try; each further failure doubles the wait
        fail(session, "vanthu", at=last + timedelta(seconds=15))
        with pytest.raises(LoginThrottled) as err:
            login(session, "vanthu", at=last + timedelta(seconds=16))
        assert err.value.retry_after_seconds == 29
        fail(session, "vanthu", at=last + timedelta(seconds=45))
        with pytest.raises(LoginThrottled) as err:
            login(session, "vanthu", at=last + timedelta(seconds=46))
        assert err.value.retry_after_seconds == 59
        assert login(session, "vanthu", at=last + timedelta(seconds=105)) is user


def test_the_delay_doubles_and_never_exceeds_the_window(db: Database) -> None:
    with db.Session() as session:
        new_user(session)
        session.commit()
        at, waits = NOW, []
        for _ in range(30):  # a guesser trying again as soon as allowed
            try:
                fail(session, "vanthu", client="198.51.100.7", at=at)
            except LoginThrottled as err:
                waits.append(err.retry_after_seconds)
                at += timedelta(seconds=err.retry_after_seconds)
        assert waits[:6] == [15, 30, 60, 120, 240, 480]
        assert max(waits) <= 15 * 60  # then failures leave the window: about 8 tries an hour
        assert len(waits) >= 12


def test_the_owner_logs_in_from_their_address_while_somebody_elsewhere_guesses(
        db: Database) -> None:
    with db.Session() as session:
        user = new_user(session)
        session.commit()
        login(session, "vanthu", client="10.0.0.1", at=NOW - timedelta(days=3))
        session.commit()
        # one guesser, then a guesser spread over many addresses
        for second in range(5):
            fail(session, "vanthu", client="198.51.100.7", at=NOW + timedelta(seconds=second))
        with pytest.raises(LoginThrottled):
            login(session, "vanthu", "đoán tiếp", client="198.51.100.7",
                  at=NOW + timedelta(seconds=6))
        for i in range(5):
            fail(session, "vanthu", client=f"203.0.113.{i}", at=NOW + timedelta(seconds=10 + i))
        with pytest.raises(LoginThrottled):  # ten from unfamiliar addresses: all slowed
            login(session, "vanthu", "đoán tiếp", client="203.0.113.99",
                  at=NOW + timedelta(seconds=16))
        # the owner, right password, from the address they logged in from before: in
        assert login(session, "vanthu", client="10.0.0.1", at=NOW + timedelta(seconds=16)) is user
        # from a new address the owner waits like anybody, and is never locked out
        with pytest.raises(LoginThrottled) as err:
            login(session, "vanthu", client="192.0.2.50", at=NOW + timedelta(seconds=17))
        wait = err.value.retry_after_seconds
        assert 0 < wait <= 15
        assert login(session, "vanthu", client="192.0.2.50",
                     at=NOW + timedelta(seconds=17 + wait)) is user


def test_a_successful_login_clears_the_user_names_failures(db: Database) -> None:
    with db.Session() as session:
        new_user(session)
        session.commit()
        for minute in range(4):
            fail(session, "vanthu", at=NOW + timedelta(minutes=minute))
        login(session, "vanthu", at=NOW + timedelta(minutes=4))
        session.commit()
        for minute in range(5, 9):
            fail(session, "vanthu", at=NOW + timedelta(minutes=minute))
        # eight failures in the window, but only four since the last success
        login(session, "vanthu", at=NOW + timedelta(minutes=8, seconds=1))


def test_twenty_failures_from_an_address_slow_it(db: Database) -> None:
    with db.Session() as session:
        new_user(session)
        session.commit()
        for i in range(20):  # twenty different (unknown) names from one address
            fail(session, f"doan{i:02d}", client="203.0.113.5", at=NOW + timedelta(seconds=i))
        with pytest.raises(LoginThrottled) as err:
            login(session, "vanthu", client="203.0.113.5", at=NOW + timedelta(seconds=20))
        assert err.value.retry_after_seconds == 14
        # the same account from another address is fine
        assert login(session, "vanthu", client="203.0.113.6",
                     at=NOW + timedelta(seconds=20)).username == "vanthu"


def test_the_limits_and_the_window_are_arguments(db: Database) -> None:
    with db.Session() as session:
        new_user(session)
        session.commit()
        limits: dict[str, Any] = {"free_per_account_client": 2, "window": timedelta(minutes=1),
                                  "base_delay": timedelta(seconds=40)}
        for second in (0, 10):
            with pytest.raises(LoginFailed):
                login(session, "vanthu", "sai mật khẩu rồi", at=NOW + timedelta(seconds=second),
                      **limits)
        with pytest.raises(LoginThrottled) as err:
            login(session, "vanthu", at=NOW + timedelta(seconds=20), **limits)
        assert err.value.retry_after_seconds == 30
        login(session, "vanthu", at=NOW + timedelta(seconds=50), **limits)


def test_throttling_counts_failures_committed_by_other_sessions(db: Database) -> None:
    # several API processes: each request has its own session
    with db.Session() as session:
        new_user(session)
        session.commit()
    for minute in range(5):
        with db.Session() as session:
            fail(session, "vanthu", at=NOW + timedelta(minutes=minute))
    with db.Session() as session, pytest.raises(LoginThrottled):
        login(session, "vanthu", at=NOW + timedelta(minutes=4, seconds=1))


def test_old_login_attempts_can_be_forgotten(db: Database) -> None:
    with db.Session() as session:
        fail(session, "khongco", at=NOW - timedelta(days=40))
        fail(session, "khongco", at=NOW)
        assert forget_login_attempts(session, now=NOW) == 1
        assert session.scalars(select(LoginAttempt.at)).all() == [NOW]


# --- API tokens ------------------------------------------------------------------------

def test_a_token_is_shown_once_and_only_its_hash_is_stored(db: Database) -> None:
    with db.Session() as session:
        user = new_user(session)
        token, secret = issue_token(session, user, "kyso agent — máy chị Hoa",
                                    timedelta(days=30), now=NOW)
        session.commit()
        token_id = token.id
    assert secret.startswith("kyso_") and len(secret) >= 5 + 43
    with db.Session() as session:
        stored = session.get_one(ApiToken, token_id)
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr(stored)
        assert stored.expires_at == NOW + timedelta(days=30) and stored.last_used_at is None
    with db.engine.connect() as conn:
        for row in conn.exec_driver_sql("SELECT * FROM api_token"):
            assert not any(isinstance(v, str) and secret[5:15] in v for v in row)
    with db.Session() as session:
        user = user_for_token(session, secret, now=NOW + timedelta(days=1))
        assert user.username == "vanthu"
        session.commit()
        assert session.get_one(ApiToken, token_id).last_used_at == NOW + timedelta(days=1)
        # two tokens are never the same
        _, other = issue_token(session, user, "API", timedelta(days=1), now=NOW)
        assert other != secret


def test_a_token_is_refused_once_expired_revoked_or_its_account_disabled(
        db: Database) -> None:
    with db.Session() as session:
        user = new_user(session)
        token, secret = issue_token(session, user, "agent", timedelta(hours=8), now=NOW)
        assert user_for_token(session, secret, now=NOW + timedelta(hours=7)) is user

        with pytest.raises(InvalidToken) as err:
            user_for_token(session, secret, now=NOW + timedelta(hours=8))
        assert err.value.reason == "expired"
        assert_bilingual(err.value)

        with pytest.raises(InvalidToken) as err:
            user_for_token(session, secret[:-1] + ("A" if secret[-1] != "A" else "B"), now=NOW)
        assert err.value.reason == "unknown"
        with pytest.raises(InvalidToken):
            user_for_token(session, "", now=NOW)

        user.active = False
        with pytest.raises(InvalidToken) as err:
            user_for_token(session, secret, now=NOW)
        assert err.value.reason == "inactive"
        user.active = True

        assert revoke_token(session, token, now=NOW + timedelta(hours=1)) is token
        assert revoke_token(session, secret, now=NOW + timedelta(hours=2)) is token  # idempotent
        assert revoke_token(session, "kyso_khongco", now=NOW) is None
        session.commit()
        assert token.revoked_at == NOW + timedelta(hours=1)
        with pytest.raises(InvalidToken) as err:
            user_for_token(session, secret, now=NOW + timedelta(hours=1))
        assert err.value.reason == "revoked"

        with pytest.raises(ValueError):
            issue_token(session, user, "never", timedelta(0))


def test_tokens_of_lists_a_users_tokens_newest_first(db: Database) -> None:
    with db.Session() as session:
        user, other = new_user(session), new_user(session, "kiemtra")
        first, _ = issue_token(session, user, "một", timedelta(days=1), now=NOW)
        second, _ = issue_token(session, user, "hai", timedelta(days=1),
                                now=NOW + timedelta(minutes=1))
        issue_token(session, other, "ba", timedelta(days=1), now=NOW)
        assert tokens_of(session, user) == [second, first]


# --- roles -----------------------------------------------------------------------------

def test_roles_are_held_per_body(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        ubnd = body(session, commune)
        other = session.get_one(Organisation, make_commune(
            session, name="Ủy ban nhân dân xã Hưng Đạo", place="Hưng Đạo").body_id)
        user = new_user(session)
        membership = grant(session, user, ubnd, Role.CLERK)
        assert grant(session, user, ubnd.id, Role.CLERK) is membership  # idempotent
        grant(session, user, ubnd, Role.AUDITOR)
        session.commit()

        assert roles_of(session, user, ubnd) == {Role.CLERK, Role.AUDITOR}
        assert roles_of(session, user, other) == set()
        assert require_role(session, user, ubnd, Role.CLERK, Role.SIGNER) == {Role.CLERK}
        assert bodies_of(session, user) == [ubnd]
        assert bodies_of(session, user, Role.SIGNER) == []

        # a member of body A is refused on body B, and the message says which role is needed
        with pytest.raises(Forbidden) as err:
            require_role(session, user, other, Role.CLERK)
        assert_bilingual(err.value)
        assert "Văn thư" in err.value.vi and "Hưng Đạo" in err.value.vi
        assert "records clerk" in err.value.en and "vanthu" in err.value.en
        # roles do not imply one another
        with pytest.raises(Forbidden) as err:
            require_role(session, user, ubnd.id, Role.SIGNER, Role.ADMIN)
        assert "Lãnh đạo hoặc Quản trị" in err.value.vi
        assert "signer or administrator" in err.value.en

        assert revoke(session, user, ubnd, Role.CLERK)
        assert not revoke(session, user, ubnd, Role.CLERK)
        session.commit()
        assert roles_of(session, user, ubnd) == {Role.AUDITOR}
        with pytest.raises(Forbidden):
            require_role(session, user, ubnd, Role.CLERK)

        # a disabled account acts nowhere
        user.active = False
        assert roles_of(session, user, ubnd) == set() and bodies_of(session, user) == []
        with pytest.raises(Forbidden):
            require_role(session, user, ubnd, Role.AUDITOR)


def test_a_province_admin_administers_several_bodies(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        ubnd = body(session, commune)
        other = session.get_one(Organisation, make_commune(
            session, name="Ủy ban nhân dân xã Hưng Đạo", place="Hưng Đạo").body_id)
        admin = new_user(session, "quantri.tinh")
        for organisation in (ubnd, other):
            grant(session, admin, organisation, Role.ADMIN)
        grant(session, admin, ubnd, Role.AUDITOR)
        session.commit()
        assert bodies_of(session, admin, Role.ADMIN) == [ubnd, other]
        assert bodies_of(session, admin, Role.AUDITOR) == [ubnd]
        for organisation in (ubnd, other):
            require_role(session, admin, organisation, Role.ADMIN)


def test_a_membership_is_unique_in_the_database(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        user = new_user(session)
        for _ in range(2):
            session.add(Membership(user_id=user.id, body_id=commune.body_id, role=Role.SIGNER))
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_signers_account_is_linked_to_their_person(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        person = session.get_one(Person, commune.people["chu-tich"])
        user = new_user(session, "chutich", person=person)
        session.commit()
        assert user.person is person and user.person_id == person.id
        with pytest.raises(UsernameTaken):  # one account per person
            new_user(session, "chutich2", person=person)


# --- user names and the password policy -------------------------------------------------

def test_the_password_policy(db: Database) -> None:
    with db.Session() as session:
        with pytest.raises(WeakPassword) as err:
            new_user(session, "vanthu", "ngắn quá")
        assert "10" in err.value.vi and "at least 10 characters" in err.value.en
        assert "ngắn quá" not in str(err.value)
        assert_bilingual(err.value)
        with pytest.raises(WeakPassword) as err:
            new_user(session, "vanthu.tienlu", "VanThu.TienLu")
        assert "user name" in err.value.en
        with pytest.raises(WeakPassword):
            new_user(session, "vanthu", "x" * 1025)
        user = new_user(session, "vanthu", "0123456789")  # exactly ten is enough
        session.commit()

        with pytest.raises(WeakPassword):
            set_password(session, user, "VANTHU")
        with pytest.raises(WeakPassword):
            set_password(session, user, "123456789")
        set_password(session, user, "Mật khẩu mới 2025", hasher=FAST)
        session.commit()
        with pytest.raises(LoginFailed):
            login(session, "vanthu", "0123456789")
        assert login(session, "vanthu", "Mật khẩu mới 2025") is user


def test_user_names_are_lower_case_nfc_and_unique(db: Database) -> None:
    with db.Session() as session:
        user = new_user(session, unicodedata.normalize("NFD", "Hoà.PTH"))
        assert user.username == unicodedata.normalize("NFC", "hoà.pth")
        session.commit()
        with pytest.raises(UsernameTaken) as err:
            new_user(session, "HOÀ.pth")
        assert_bilingual(err.value)
        for bad in ("ab", "có dấu cách", "a/b", "x" * 65, ""):
            with pytest.raises(InvalidUsername):
                new_user(session, bad)
        session.rollback()
        assert session.scalars(select(User.username)).all() == ["hoà.pth"]


def test_the_database_refuses_a_second_account_with_the_same_name(db: Database) -> None:
    with db.Session() as session:
        new_user(session)
        session.commit()
        session.add(User(username="VANTHU", display_name="x", password_hash="x"))
        with pytest.raises(IntegrityError):
            session.commit()


# --- the demo commune ------------------------------------------------------------------

def test_demo_accounts_are_seeded_once(db: Database, commune: Commune) -> None:
    with db.Session() as session:
        ubnd = body(session, commune)
        duc = Person(body=ubnd, full_name="Lê Minh Đức", position="Phó Chủ tịch")
        session.add(duc)
        session.flush()
        people = {"chu-tich": session.get_one(Person, commune.people["chu-tich"]),
                  "pho-chu-tich": session.get_one(Person, commune.people["pho-chu-tich"]),
                  "pho-chu-tich-duc": duc}
        logins = seed_demo_accounts(session, ubnd, people, hasher=FAST)
        session.commit()
        assert [(u, r.split(" (")[0]) for u, _, r in logins] == [
            ("chuyenvien", "Chuyên viên"), ("phochutich", "Lãnh đạo"),
            ("phochutichduc", "Lãnh đạo"), ("chutich", "Lãnh đạo"), ("vanthu", "Văn thư"),
            ("kiemtra", "Kiểm tra"), ("quantri", "Quản trị")]
        assert "Phó Chủ tịch Lê Minh Đức" in logins[2][2]

        again = seed_demo_accounts(session, ubnd, people, hasher=FAST)
        session.commit()
        assert again == logins
        assert session.scalar(select(func.count()).select_from(User)) == 7
        assert session.scalar(select(func.count()).select_from(Membership)) == 7

        for username, password, _ in logins:
            user = login(session, username, password)
            assert roles_of(session, user, ubnd) == {
                "chuyenvien": {Role.DRAFTER}, "vanthu": {Role.CLERK},
                "kiemtra": {Role.AUDITOR}, "quantri": {Role.ADMIN},
            }.get(username, {Role.SIGNER})
        chair = session.scalars(select(User).where(User.username == "chutich")).one()
        assert chair.person is people["chu-tich"]
        assert session.scalars(select(User).where(User.username == "phochutichduc")
                               ).one().person is duc

        with pytest.raises(ValueError, match="pho-chu-tich-duc"):
            seed_demo_accounts(session, ubnd, {"chu-tich": people["chu-tich"]}, hasher=FAST)
