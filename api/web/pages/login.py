"""Login, logout and the home page that sends each role to its own page."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from common import KysoError
from documents import sign_in, sign_out

from ...http.deps import (
    COOKIE,
    ServicesDep,
    SessionDep,
    clear_session_cookie,
    client_address,
    cookie_secure,
    current_user,
    presented_secret,
    set_session_cookie,
)
from ..context import PageCtx
from ..rendering import render
from ..routing import LOGIN_PATH, UiRoute
from ..security import LOGIN_COOKIE, check_login_token, check_session_token, new_login_token

router = APIRouter(route_class=UiRoute, include_in_schema=False)


def _login_page(request: Request, svc: ServicesDep, message: str | None = None,
                username: str | None = None, status_code: int = 200) -> Response:
    token = new_login_token()
    response = render(request, "login.html", {
        "csrf": token, "message": message, "username": username,
        "demo": svc.settings.data.demo_pki() is not None}, status_code=status_code)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=cookie_secure(request), max_age=3600)
    return response


@router.get(LOGIN_PATH)
def login_page(request: Request, svc: ServicesDep, db: SessionDep) -> Response:
    if request.cookies.get(COOKIE):
        try:
            current_user(request, db)
            return RedirectResponse("/", status_code=303)
        except KysoError:
            pass  # expired or revoked: log in again
    return _login_page(request, svc)


@router.post(LOGIN_PATH)
def login(request: Request, svc: ServicesDep, db: SessionDep, username: str = Form(""),
          password: str = Form(""), csrf: str = Form("")) -> Response:
    """The same login as ``POST /api/v1/auth/login`` (throttling, audit, session cookie)."""
    try:
        check_login_token(request, csrf)
        answer = RedirectResponse("/", status_code=303)
        done = sign_in(db, username, password, client_address(request))
        set_session_cookie(request, answer, done.secret)
    except KysoError as exc:
        status = 429 if type(exc).__name__ == "LoginThrottled" else 401
        return _login_page(request, svc, exc.vi, username, status_code=status)
    answer.delete_cookie(LOGIN_COOKIE)
    return answer


@router.post("/dang-xuat")
def logout(request: Request, db: SessionDep, svc: ServicesDep,
           csrf: str = Form("")) -> Response:
    answer = RedirectResponse(LOGIN_PATH, status_code=303)
    try:
        current_user(request, db)  # a session that is still valid
    except KysoError:
        return answer
    check_session_token(request, svc.settings.secret_key, csrf)
    sign_out(db, presented_secret(request))
    clear_session_cookie(request, answer)
    return answer


@router.get("/")
def home(request: Request, ctx: PageCtx) -> Response:
    """One role: straight to its page; several: a choice."""
    if len(ctx.pages) == 1:
        return RedirectResponse(ctx.pages[0][1], status_code=303)
    return render(request, "home.html", {"ctx": ctx})


