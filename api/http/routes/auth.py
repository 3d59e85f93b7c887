"""Login and logout: one bearer token per session, also set as an HttpOnly cookie."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from documents import (
    SigningAuthority,
    bodies_of,
    change_own_password,
    roles_of,
    sign_in,
    sign_out,
)

from ..deps import (
    CurrentUser,
    SessionDep,
    clear_session_cookie,
    client_address,
    presented_secret,
    set_session_cookie,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


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
    done = sign_in(db, form.username, form.password, client_address(request))
    set_session_cookie(request, response, done.secret)
    return {"token": done.secret, **describe(db, done.user)}


@router.post("/logout")
def logout(request: Request, response: Response, user: CurrentUser,
           db: SessionDep) -> dict[str, str]:
    sign_out(db, presented_secret(request))
    clear_session_cookie(request, response)
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
    revoked = change_own_password(db, user.id, form.current_password, form.new_password,
                                  client_address(request), presented_secret(request))
    return {"status": "ok", "revoked_tokens": revoked}
