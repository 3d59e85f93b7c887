"""CSRF protection of the web pages' form posts.

The session cookie is ``SameSite=strict`` (set by the login, as for the JSON API); on top
of it every form post carries a per-session token: an HMAC of the session secret under
the service's secret key, so nothing is stored. Before login (the login form itself) a
random ``SameSite=strict`` cookie is echoed by the form (double submit).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from ..errors import CsrfRefused
from ..http.csrf import HEADER, session_token, token_matches
from ..http.deps import COOKIE

__all__ = ["FIELD", "HEADER", "LOGIN_COOKIE", "CsrfRefused", "check_login_token",
           "check_session_post", "check_session_token", "new_login_token", "sent_token",
           "session_token"]

#: The pre-login cookie of the login form.
LOGIN_COOKIE = "kyso_login_csrf"
#: The hidden field of plain (non-htmx) forms.
FIELD = "csrf"


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


async def sent_token(request: Request) -> str:
    """The token a post carries: the htmx header, else the form field."""
    header = request.headers.get(HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check_session_post(request: Request, secret_key: str) -> None:
    """Refuse a post whose token is not the caller's session's."""
    check_session_token(request, secret_key, await sent_token(request))


def check_session_token(request: Request, secret_key: str, sent: str) -> None:
    if not token_matches(secret_key, request.cookies.get(COOKIE, ""), sent):
        raise CsrfRefused()


def check_login_token(request: Request, sent: str) -> None:
    """Refuse a login post whose token is not the one its login page set."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise CsrfRefused()
