"""Cross-site request forgery: what a state-changing request made with the session cookie
must also carry.

The session cookie is ``SameSite=strict``; on top of it, every post of the web pages
carries the session's CSRF token (an HMAC of the session secret under
``KYSO_SECRET_KEY``, nothing stored), and so must every state-changing call of the JSON
API that is authenticated by the cookie: either the token in ``X-CSRF-Token`` (htmx sends
it on every request), or an ``Origin`` (else ``Referer``) of this very site, which a
browser never forges (the API's own /docs page). Calls with a bearer token (the agent,
scripts) carry no ambient credential and need neither.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request

from ..errors import CsrfRefused
from .deps import COOKIE, bearer_secret, services

#: The header htmx sends on every request (set on <body hx-headers>).
HEADER = "x-csrf-token"
#: Methods that change nothing and need no token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Calls authenticated by what they carry (a password), not by the cookie.
NOT_BY_COOKIE = frozenset({"/api/v1/auth/login"})


def session_token(secret_key: str, session_secret: str) -> str:
    """The CSRF token of one session (derived, never stored)."""
    return hmac.new(secret_key.encode(), b"kyso-csrf:" + session_secret.encode(),
                    hashlib.sha256).hexdigest()


def token_matches(secret_key: str, session_secret: str, sent: str) -> bool:
    return bool(session_secret and sent) and hmac.compare_digest(
        sent, session_token(secret_key, session_secret))


def same_origin(request: Request, public_url: str | None) -> bool:
    """Whether the request's ``Origin`` (else ``Referer``) names this site: the host the
    request was sent to, or the host of ``KYSO_PUBLIC_URL``."""
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    if not source or source == "null":
        return False
    try:
        netloc = urlsplit(source).netloc.lower()
    except ValueError:
        return False
    ours = {request.headers.get("host", "").lower()}
    if public_url:
        ours.add(urlsplit(public_url).netloc.lower())
    return bool(netloc) and netloc in ours


def api_csrf(request: Request) -> None:
    """Refuse a state-changing API call authenticated by the session cookie that carries
    neither the session's CSRF token nor an Origin of this site (a dependency of the
    JSON API's routers; the web pages check their own token, see ``api/web/security.py``)."""
    if request.method in SAFE_METHODS or request.url.path in NOT_BY_COOKIE \
            or bearer_secret(request):
        return
    session_secret = request.cookies.get(COOKIE, "")
    if not session_secret:
        return  # no ambient credential: the route answers 401 (or needs none)
    settings = services(request).settings
    if token_matches(settings.secret_key, session_secret, request.headers.get(HEADER, "")):
        return
    if same_origin(request, settings.public_url):
        return
    raise CsrfRefused()
