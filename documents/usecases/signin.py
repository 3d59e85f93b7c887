"""Signing in and out, and changing one's own password: throttled, audited, one session
token per sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from ..accounts import User, authenticate, issue_token, revoke_token, set_password, token_for
from ..audit import AuditAction, record
from .access import actor_of

#: How long a web session lasts.
SESSION_HOURS = 12


@dataclass(frozen=True)
class SignedIn:
    user: User
    #: the session token (never stored: only its hash is)
    secret: str


def sign_in(db: Session, username: str, password: str, client: str) -> SignedIn:
    """Check the password (the attempt counts for throttling, whether it succeeded or
    not) and open a session of :data:`SESSION_HOURS` for ``client``."""
    try:
        user = authenticate(db, username, password, client)
    finally:
        db.commit()  # the attempt counts, whether it succeeded or not
    _, secret = issue_token(db, user, "web", timedelta(hours=SESSION_HOURS))
    record(db, AuditAction.LOGIN, actor=user.username, object_type="user", object_id=str(user.id),
           details={"client": client})
    db.commit()
    return SignedIn(user, secret)


def sign_out(db: Session, secret: str | None) -> None:
    """End the session of ``secret`` (idempotent)."""
    if secret:
        revoke_token(db, secret)
    db.commit()


def change_own_password(db: Session, actor: int, current_password: str, new_password: str,
                        client: str, secret: str | None) -> int:
    """Change one's own password: the current one is checked as at sign-in (throttled,
    recorded), then every other session and API token of the account is revoked; the
    session (or token) ``secret`` making the change stays. The number revoked."""
    user = actor_of(db, actor)
    try:
        authenticate(db, user.username, current_password, client)
    finally:
        db.commit()  # a wrong current password counts as a failed login
    revoked = set_password(db, user, new_password,
                           keep=token_for(db, secret) if secret else None)
    record(db, AuditAction.ADMIN_CHANGE, actor=user.username, object_type="user",
           object_id=str(user.id), details={"password": "changed", "revoked_tokens": revoked})
    db.commit()
    return revoked
