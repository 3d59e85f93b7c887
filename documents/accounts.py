"""Accounts, roles and logins: who may act, in which issuing body, as what.

One Kyso instance may serve a whole province, so an account acts only inside the
issuing bodies it is a member of, with the roles of DESIGN.md's table
(:class:`Role`); a province-level administrator who runs some bodies is an ADMIN
member of each. One thing belongs to no single body: the province-wide trust anchors
(:mod:`documents.anchors`). Only an account with :attr:`User.province_admin` set may
add or remove those (and sees every body's anchors); the flag gives no role in any
body — it is set from the command line (``kyso accounts province-admin``), never
through the HTTP API. A signer's account is linked to their :class:`Person` row,
which is what signing authority is bound to.

Secrets:

* Passwords are NFC-normalised (a Vietnamese password typed with a "dựng sẵn"
  keyboard must match the same one typed "tổ hợp") and stored only as argon2id
  hashes (argon2-cffi ``PasswordHasher``; its parameters are an argument, so
  ``api/`` may tune them). A hash made with older parameters is replaced at the
  next successful login.
* An API token (for API clients and the signer agent) is ``kyso_`` + 32 random
  bytes, URL-safe. Only its SHA-256 is stored; the token itself is returned once
  by :func:`issue_token` and never again.
* Nothing here logs, and no error message carries a password or a token.

Logins are throttled from the ``login_attempt`` table, so the limits hold across
several API processes: after a few free failures :func:`authenticate` makes the caller
wait (:class:`LoginThrottled`), longer after each further failure, counting per user
name and client address, per client address, and per user name from addresses it never
logged in from (see :func:`authenticate`). It slows a guesser; it never locks the owner
out. A throttled attempt checks no password and is not recorded.

Like the rest of ``documents``, nothing here commits. **The caller must commit
after** :class:`LoginFailed` **too**: the failed attempt's row is what throttling
counts; rolling it back would give an attacker unlimited guesses.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    delete,
    false,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates
from sqlalchemy.sql.elements import ColumnElement

from .errors import (
    Forbidden,
    InvalidToken,
    InvalidUsername,
    LoginFailed,
    LoginThrottled,
    UsernameTaken,
    WeakPassword,
)
from .models import Base, Organisation, Person, enum_type
from .sqltypes import Nfc, UtcDateTime, nfc, utc_now

__all__ = [
    "DEFAULT_HASHER", "ApiToken",
    "LoginAttempt", "Membership", "Role", "User",
    "authenticate", "bodies_of", "check_password_policy", "checked_username", "create_user",
    "email_of", "forget_login_attempts", "grant", "is_province_admin",
    "issue_token", "normalise_username",
    "require_role", "revoke", "revoke_token", "revoke_tokens_of", "roles_of",
    "set_password",
    "token_for", "tokens_of", "user_for_token",
    # the errors these functions raise, so callers may import them from here too
    "Forbidden", "InvalidToken", "InvalidUsername", "LoginFailed", "LoginThrottled",
    "UsernameTaken", "WeakPassword",
]

USERNAME_MIN = 3
USERNAME_MAX = 64
#: Characters besides letters and digits a user name may hold.
USERNAME_SYMBOLS = frozenset("._-")
PASSWORD_MIN = 10
PASSWORD_MAX = 1024
#: Length kept of a client address (an IPv6 address with zone fits).
CLIENT_MAX = 100
TOKEN_PREFIX = "kyso_"

#: argon2id with argon2-cffi's defaults (RFC 9106 "low memory": t=3, 64 MiB, p=4).
DEFAULT_HASHER = PasswordHasher()

#: Failed logins count for throttling during this long; also the longest delay.
LOGIN_WINDOW = timedelta(minutes=15)
#: Failures allowed before delays start: one user name from one address …
FREE_FAILURES_PER_ACCOUNT_CLIENT = 5
#: … one address, whatever the names …
FREE_FAILURES_PER_CLIENT = 20
#: … one user name from all the addresses it never logged in from, together.
FREE_FAILURES_PER_ACCOUNT = 10
#: The first delay; each further failure doubles it (15 s, 30 s, 1 min, … 15 min).
BASE_DELAY = timedelta(seconds=15)


class Role(enum.Enum):
    """What a member does in an issuing body (DESIGN.md, "Who uses it").

    The value is the Vietnamese name shown to people; :attr:`english` the English one.
    """

    DRAFTER = "Chuyên viên"
    SIGNER = "Lãnh đạo"
    CLERK = "Văn thư"
    AUDITOR = "Kiểm tra"
    ADMIN = "Quản trị"

    @property
    def english(self) -> str:
        return _ROLE_EN[self.name]


_ROLE_EN = {"DRAFTER": "drafter", "SIGNER": "signer", "CLERK": "records clerk",
            "AUDITOR": "auditor", "ADMIN": "administrator"}


def normalise_username(value: str) -> str:
    """The stored form of a user name: NFC, lower case, no surrounding spaces."""
    return nfc(nfc(value).strip().lower())


def checked_username(value: str) -> str:
    """``value`` normalised, or :class:`InvalidUsername` when it is not a usable name."""
    name = normalise_username(value)
    if not (USERNAME_MIN <= len(name) <= USERNAME_MAX
            and all(c.isalnum() or c in USERNAME_SYMBOLS for c in name)):
        raise InvalidUsername(nfc(value)[:USERNAME_MAX + 16], USERNAME_MIN, USERNAME_MAX)
    return name


class User(Base):
    """An account. ``password_hash`` is an argon2id hash; the password is never stored."""

    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower case, NFC, letters, digits and ``._-`` (see :func:`checked_username`).
    username: Mapped[str] = mapped_column(Nfc(USERNAME_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(Nfc(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The official this account belongs to (a signer's account must have one).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), unique=True)
    #: Where notifications are e-mailed (none: in-app only).
    email: Mapped[str | None] = mapped_column(Nfc(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: A province administrator: adds and removes the province-wide trust anchors
    #: (trusted for every body). No role in any body comes with it.
    province_admin: Mapped[bool] = mapped_column(Boolean, default=False,
                                                 server_default=false())

    person: Mapped[Person | None] = relationship()
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Membership.id")

    @validates("username")
    def _username(self, key: str, value: str) -> str:
        return checked_username(value)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}{'' if self.active else ' inactive'}>"


class Membership(Base):
    """The account ``user`` acts in the issuing body ``body`` with ``role``."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "body_id", "role"),
        Index("ix_membership_body_role", "body_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)

    user: Mapped[User] = relationship(back_populates="memberships")
    body: Mapped[Organisation] = relationship()

    def __repr__(self) -> str:
        return f"<Membership user={self.user_id} body={self.body_id} {self.role.name}>"


class ApiToken(Base):
    """A bearer token of an API client or a signer agent; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("length(token_hash) = 64", name="hash_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    #: What the token is for, e.g. "kyso agent — máy chị Hà".
    name: Mapped[str] = mapped_column(Nfc(100))
    #: Lower-case hex SHA-256 of the token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} user={self.user_id} {self.name!r}>"


class LoginAttempt(Base):
    """One password login, right or wrong: what throttling counts (never the password)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The user name as typed, normalised (it may name no account).
    username: Mapped[str] = mapped_column(Nfc(USERNAME_MAX))
    #: The client's address as the API saw it (after trusted proxies).
    client: Mapped[str] = mapped_column(String(CLIENT_MAX))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now, index=True)
    success: Mapped[bool] = mapped_column(Boolean)

    def __repr__(self) -> str:
        return (f"<LoginAttempt {self.username!r} from {self.client} "
                f"{'ok' if self.success else 'failed'}>")


# --- passwords ---------------------------------------------------------------------------

def check_password_policy(password: str, username: str) -> None:
    """Refuse (:class:`WeakPassword`) a password the policy does not allow."""
    password = nfc(password)
    if len(password) < PASSWORD_MIN:
        raise WeakPassword(f"cần ít nhất {PASSWORD_MIN} ký tự",
                           f"it needs at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise WeakPassword(f"dài quá {PASSWORD_MAX} ký tự",
                           f"it is longer than {PASSWORD_MAX} characters")
    if normalise_username(password) == normalise_username(username):
        raise WeakPassword("không được trùng với tên đăng nhập",
                           "it must not be the user name")


def _hash_password(password: str, hasher: PasswordHasher) -> str:
    if hasher.type is not Type.ID:
        raise ValueError("passwords are hashed with argon2id only")
    return hasher.hash(nfc(password))


def _verify(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, nfc(password))
    except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
        return False


_DUMMY_HASHES: dict[tuple[object, ...], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash with ``hasher``'s costs, so an unknown user name takes as long as a known one."""
    key = (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism,
           hasher.hash_len, hasher.salt_len)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def create_user(session: Session, username: str, password: str, display_name: str, *,
                person: Person | None = None, active: bool = True,
                email: str | None = None,
                hasher: PasswordHasher = DEFAULT_HASHER) -> User:
    """A new account (flushed, not committed).

    Raises :class:`InvalidUsername`, :class:`WeakPassword`, or :class:`UsernameTaken`
    (also when another account is already linked to ``person``).
    """
    name = checked_username(username)
    check_password_policy(password, name)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise UsernameTaken(name)
    if person is not None and person.id is not None and session.scalar(
            select(User.username).where(User.person_id == person.id)) is not None:
        raise UsernameTaken(name)
    user = User(username=name, display_name=display_name, active=active, person=person,
                email=email, password_hash=_hash_password(password, hasher))
    try:
        with session.begin_nested():  # a concurrent create_user of the same name
            session.add(user)
    except IntegrityError as exc:
        raise UsernameTaken(name) from exc
    return user


def set_password(session: Session, user: User, password: str, *,
                 keep: ApiToken | None = None,
                 hasher: PasswordHasher = DEFAULT_HASHER) -> int:
    """Replace ``user``'s password after checking it against the policy, and revoke every
    session and API token of the account but ``keep`` (the session changing its own
    password): whoever knew the old password may have logged in with it. How many
    tokens were revoked."""
    check_password_policy(password, user.username)
    user.password_hash = _hash_password(password, hasher)
    revoked = revoke_tokens_of(session, user, keep=keep)
    session.flush()
    return revoked


def revoke_tokens_of(session: Session, user: User, *, keep: ApiToken | None = None,
                     now: datetime | None = None) -> int:
    """Revoke every live token (sessions, agents, scripts) of ``user`` except ``keep``;
    how many."""
    live = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if keep is not None:
        live = live.where(ApiToken.id != keep.id)
    tokens = list(session.scalars(live))
    for token in tokens:
        revoke_token(session, token, now=now)
    return len(tokens)


# --- memberships and roles ---------------------------------------------------------------

def _body_id(body: Organisation | int) -> int:
    return body if isinstance(body, int) else body.id


def grant(session: Session, user: User, body: Organisation | int, role: Role) -> Membership:
    """Make ``user`` a member of ``body`` with ``role`` (the existing membership if any)."""
    body_id = _body_id(body)
    membership = session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.body_id == body_id, Membership.role == role))
    if membership is None:
        membership = Membership(user=user, body_id=body_id, role=role)
        session.add(membership)
        session.flush()
    return membership


def revoke(session: Session, user: User, body: Organisation | int, role: Role) -> bool:
    """Take ``role`` in ``body`` from ``user``; whether there was such a membership."""
    membership = session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.body_id == _body_id(body),
        Membership.role == role))
    if membership is None:
        return False
    user.memberships.remove(membership)  # delete-orphan
    session.flush()
    return True


def roles_of(session: Session, user: User, body: Organisation | int) -> set[Role]:
    """The roles ``user`` holds in ``body``; none at all when the account is inactive."""
    if not user.active:
        return set()
    return set(session.scalars(select(Membership.role).where(
        Membership.user_id == user.id, Membership.body_id == _body_id(body))))


def is_province_admin(user: User) -> bool:
    """Whether ``user`` may manage the province-wide trust anchors (active accounts only)."""
    return bool(user.active and user.province_admin)


def bodies_of(session: Session, user: User, role: Role | None = None) -> list[Organisation]:
    """The bodies ``user`` is a member of (with ``role``, when given), by id."""
    if not user.active:
        return []
    members = select(Membership.body_id).where(Membership.user_id == user.id)
    if role is not None:
        members = members.where(Membership.role == role)
    return list(session.scalars(select(Organisation).where(Organisation.id.in_(members))
                                .order_by(Organisation.id)))


def require_role(session: Session, user: User, body: Organisation | int,
                 *roles: Role) -> set[Role]:
    """The roles among ``roles`` that ``user`` holds in ``body``; :class:`Forbidden` if none.

    Roles do not imply one another: an ADMIN does not sign, a SIGNER does not issue.
    """
    if not roles:
        raise ValueError("require_role needs at least one role")
    held = roles_of(session, user, body) & set(roles)
    if not held:
        if isinstance(body, int):
            found = session.get(Organisation, body)
            body_name = found.name if found is not None else f"cơ quan #{body}"
        else:
            body_name = body.name
        raise Forbidden(user.username, " hoặc ".join(r.value for r in roles),
                        " or ".join(r.english for r in roles), body_name)
    return held


# --- logins ------------------------------------------------------------------------------

def _wait(session: Session, where: ColumnElement[bool], free: int, now: datetime,
          window: timedelta, base_delay: timedelta) -> int:
    """Seconds still to wait after the failures matching ``where`` inside ``window``: none
    for the first ``free`` ones, then ``base_delay`` after the last failure, doubling with
    each further failure, at most ``window``."""
    count: int
    last: datetime | None
    count, last = session.execute(
        select(func.count(), func.max(LoginAttempt.at))
        .where(where, LoginAttempt.success.is_(False),
               LoginAttempt.at > now - window, LoginAttempt.at <= now)).one()
    if count < free or last is None:
        return 0
    delay = min(window, base_delay * 2 ** min(count - free, 30))
    if last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=now.tzinfo)
    remaining: float = (last + delay - now).total_seconds()
    return max(0, int(math.ceil(remaining)))


def authenticate(session: Session, username: str, password: str, client: str, *,
                 now: datetime | None = None, window: timedelta = LOGIN_WINDOW,
                 free_per_account_client: int = FREE_FAILURES_PER_ACCOUNT_CLIENT,
                 free_per_client: int = FREE_FAILURES_PER_CLIENT,
                 free_per_account: int = FREE_FAILURES_PER_ACCOUNT,
                 base_delay: timedelta = BASE_DELAY,
                 hasher: PasswordHasher = DEFAULT_HASHER) -> User:
    """The active account whose password this is, or an error; the attempt is recorded.

    Raises :class:`LoginThrottled` (``retry_after_seconds``) while a recent run of failures
    asks the caller to wait, else :class:`LoginFailed` — one message for an unknown name,
    a wrong password and a disabled account (the password is checked against a dummy
    hash when the name is unknown, so the time is the same). Failures inside ``window``
    are counted three ways, each with its free tries and then delays doubling from
    ``base_delay`` up to ``window`` after the last failure:

    * this user name from this client address (since their last success together);
    * this client address, whatever the names (a success does not reset it);
    * this user name from addresses it never logged in from — counted only when this
      address is one of those: a guesser spread over many addresses is slowed, while
      the owner at an address they have logged in from before is not.

    Nothing ever locks an account: the owner from their own address still gets in with
    the right password while somebody elsewhere is guessing it.
    On success ``last_login_at`` is set and an outdated hash is replaced.

    Commit after :class:`LoginFailed` as after success: see the module docstring.
    """
    now = now or utc_now()
    typed = normalise_username(username)
    name = typed[:USERNAME_MAX]  # as recorded: a longer name names no account
    client = client[:CLIENT_MAX]
    # On PostgreSQL, concurrent logins to one account queue here, so each one
    # counts the failures the previous ones committed (SQLite serialises anyway).
    user = None if len(typed) > USERNAME_MAX else session.scalars(
        select(User).where(User.username == name).with_for_update()).one_or_none()

    by_name = LoginAttempt.username == name
    pair = by_name & (LoginAttempt.client == client)
    last_pair_success = session.scalar(select(func.max(LoginAttempt.at)).where(
        pair, LoginAttempt.success.is_(True), LoginAttempt.at <= now))
    if last_pair_success is not None:
        pair = pair & (LoginAttempt.at > last_pair_success)
    familiar = select(LoginAttempt.client).where(by_name, LoginAttempt.success.is_(True),
                                                 LoginAttempt.at <= now)
    waits = [_wait(session, pair, free_per_account_client, now, window, base_delay),
             _wait(session, LoginAttempt.client == client, free_per_client, now, window,
                   base_delay)]
    if last_pair_success is None:  # an address this name never logged in from
        waits.append(_wait(session, by_name & LoginAttempt.client.not_in(familiar),
                           free_per_account, now, window, base_delay))
    retry = max(waits)
    if retry:
        raise LoginThrottled(retry)

    right = _verify(hasher, user.password_hash if user is not None else _dummy_hash(hasher),
                    password)
    success = right and user is not None and user.active
    session.add(LoginAttempt(username=name, client=client, at=now, success=success))
    if not success or user is None:
        session.flush()
        raise LoginFailed()
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hash_password(password, hasher)
    user.last_login_at = now
    session.flush()
    return user


def forget_login_attempts(session: Session, *, older_than: timedelta = timedelta(days=30),
                          now: datetime | None = None) -> int:
    """Delete login attempts older than ``older_than`` (a periodic task); how many."""
    now = now or utc_now()
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - older_than))
    return int(getattr(result, "rowcount", 0) or 0)


# --- API tokens --------------------------------------------------------------------------

def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def issue_token(session: Session, user: User, name: str, ttl: timedelta, *,
                now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row (holding the hash) and the token itself.

    Show the token once; it cannot be recovered, only revoked and replaced.
    """
    if ttl <= timedelta(0):
        raise ValueError("a token's lifetime must be positive")
    now = now or utc_now()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_token_hash(secret), created_at=now,
                     expires_at=now + ttl)
    session.add(token)
    session.flush()
    return token, secret


def token_for(session: Session, secret: str) -> ApiToken | None:
    """The row of a presented token (any state), or None."""
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))


def user_for_token(session: Session, secret: str, *, now: datetime | None = None) -> User:
    """The account a presented token opens, or :class:`InvalidToken` saying why not.

    Refuses a token that is unknown, revoked or expired, or whose account is
    inactive; records when the token was last used.
    """
    now = now or utc_now()
    digest = _token_hash(secret)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise InvalidToken("unknown")
    if token.revoked_at is not None:
        raise InvalidToken("revoked")
    if token.expires_at <= now:
        raise InvalidToken("expired")
    if not token.user.active:
        raise InvalidToken("inactive")
    token.last_used_at = now
    session.flush()
    return token.user


def revoke_token(session: Session, token: ApiToken | str, *,
                 now: datetime | None = None) -> ApiToken | None:
    """Revoke a token, given as its row or as the token itself (logout); idempotent.

    From then on :func:`user_for_token` refuses it. Returns the row, or None when a
    token given as text is unknown (nothing to revoke).
    """
    if isinstance(token, str):
        found = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
        if found is None:
            return None
        token = found
    if token.revoked_at is None:
        token.revoked_at = now or utc_now()
        session.flush()
    return token


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """``user``'s tokens, newest first, revoked and expired ones included."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def email_of(session: Session, person: Person) -> str | None:
    """The e-mail address of the account linked to ``person``, if any."""
    return session.scalar(select(User.email).where(User.person_id == person.id,
                                                   User.active.is_(True)))
