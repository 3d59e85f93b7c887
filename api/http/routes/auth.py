"""Login and logout: one bearer token per session, also set as an HttpOnly cookie."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from documents import SigningAuthority
from documents.accounts import (
    authenticate,
    bodies_of,
    issue_token,
    revoke_token,
    roles_of,
    set_password,
    token_for,
)
from documents.audit import AuditAction, record

from ..deps import COOKIE, CurrentUser, SessionDep, cookie_secure, presented_secret

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
SESSION_HOURS = 12


def client_address(request: Request) -> str:
    """The caller's address as this process sees it: the peer, or the address a trusted
    proxy forwarded (``KYSO_TRUSTED_PROXIES``, see ``api/proxies.py``)."""
    return request.client.host if request.client else "?"


class Login(BaseModel):
    username: str
    password: str


def describe(db: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Who the caller is: roles per body and, for a signer, the certificates registered
    for their signing authorities (what ``kyso agent`` and ``kyso doctor`` compare the
    token's certificate with)."""
    authorities = db.scalars(select(SigningAuthority).where(
        SigningAuthority.person_id == user.person_id).order_by(SigningAuthority.id)
    ).all() if user.person_id else []
    return {
        "username": user.username,
        "display_name": user.display_name,
        "person_id": user.person_id,
        "memberships": [
            {"body_id": body.id, "body": body.name,
             "roles": sorted(role.name for role in roles_of(db, user, body))}
            for body in bodies_of(db, user)
        ],
        "authorities": [
            {"id": a.id, "body_id": a.body_id, "token_name": a.token_name,
             "certificate_sha256": a.certificate_sha256,
             "designation_line": a.designation_line,
             "valid_until": a.valid_until.isoformat() if a.valid_until else None}
            for a in authorities
        ],
    }


@router.post("/login")
def login(form: Login, request: Request, response: Response, db: SessionDep) -> dict[str, Any]:
    client = client_address(request)
    try:
        user = authenticate(db, form.username, form.password, client)
    finally:
        db.commit()  # the attempt counts, whether it succeeded or not
    _, secret = issue_token(db, user, "web", timedelta(hours=SESSION_HOURS))
    record(db, AuditAction.LOGIN, actor=user.username, object_type="user", object_id=str(user.id),
           details={"client": client})
    db.commit()
    response.set_cookie(COOKIE, secret, httponly=True, samesite="strict",
                        secure=cookie_secure(request), max_age=SESSION_HOURS * 3600)
    return {"token": secret, **describe(db, user)}


@router.post("/logout")
def logout(request: Request, response: Response, user: CurrentUser,
           db: SessionDep) -> dict[str, str]:
    secret = presented_secret(request)
    if secret:
        revoke_token(db, secret)
    db.commit()
    response.delete_cookie(COOKIE, httponly=True, samesite="strict",
                           secure=cookie_secure(request))
    return {"status": "ok"}


@router.get("/me")
def me(user: CurrentUser, db: SessionDep) -> dict[str, Any]:
    return describe(db, user)


class PasswordChange(BaseModel):
    current_password: str
    new_password: str


@router.post("/password")
def change_password(form: PasswordChange, request: Request, user: CurrentUser,
                    db: SessionDep) -> dict[str, Any]:
    """Change one's own password: the current one is checked as at login (throttled,
    recorded), then every other session and API token of the account is revoked; the
    session (or token) making the change stays."""
    client = client_address(request)
    try:
        authenticate(db, user.username, form.current_password, client)
    finally:
        db.commit()  # a wrong current password counts as a failed login
    secret = presented_secret(request)
    revoked = set_password(db, user, form.new_password,
                           keep=token_for(db, secret) if secret else None)
    record(db, AuditAction.ADMIN_CHANGE, actor=user.username, object_type="user",
           object_id=str(user.id), details={"password": "changed", "revoked_tokens": revoked})
    db.commit()
    return {"status": "ok", "revoked_tokens": revoked}
