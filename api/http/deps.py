"""Typed dependencies of the HTTP routes: the database session, the caller, services."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pyhanko_certvalidator import ValidationContext
from sqlalchemy.orm import Session, sessionmaker

from certs import SharedFetchers, TrustStore, validation_context
from documents import (
    SESSION_HOURS,
    Dispatcher,
    FileStore,
    User,
    trust_for,
    user_for_token,
)
from signer import (
    ATTACHMENT_LIMITS,
    DRAFT_LIMITS,
    UPLOADED,
    VERIFY_LIMITS,
    PdfHostile,
    Report,
    hostile_report,
    run_isolated,
    trust_entries,
)

from ..settings import Settings
from ..worker.dispatch import CeleryDispatcher
from .errors import NotAuthenticated

COOKIE = "kyso_session"


@dataclass
class Services:
    """Built once by the application's lifespan; shared by every request."""

    settings: Settings
    sessions: sessionmaker[Session]
    store: FileStore
    #: what every body trusts: the bundled Vietnamese CAs and the demo PKI's root. A
    #: verification trusts :meth:`trust_for` its bodies, never this alone.
    trust: TrustStore
    celery: Any
    #: OCSP responses and CRLs fetched by this process, kept a few minutes (revocation
    #: evidence only: which CAs are trusted is decided per verification, by its store)
    fetchers: SharedFetchers = field(default_factory=SharedFetchers)

    @property
    def dispatcher(self) -> Dispatcher:
        """The acts' follow-up work, sent to :attr:`celery` after their commit."""
        return CeleryDispatcher(self.celery, self.sessions)

    def trust_for(self, db: Session, body_ids: Iterable[int]) -> TrustStore:
        """A fresh store for one verification: the shared base, the province-wide anchors
        and those of ``body_ids`` (read from the database, so every process agrees)."""
        return trust_for(db, self.trust, body_ids)

    def contexts(self, store: TrustStore) -> Callable[[], Any]:
        """Fresh validation contexts over ``store``, sharing this process's recent fetches."""
        return lambda: validation_context(store, shared=self.fetchers)

    def context_for(self, body_ids: Iterable[int]) -> ValidationContext:
        """A fresh validation context over what these bodies trust (OCSP/CRL fetched), the
        trust read in a session of its own, closed before the context is used."""
        with self.sessions() as db:
            store = self.trust_for(db, body_ids)
        context: ValidationContext = self.contexts(store)()
        return context

    def check_draft(self, pdf: bytes, *, allow_signatures: bool = False,
                    draft_marks: bool = False, source: str = UPLOADED,
                    attachment: bool = False) -> None:
        """``signer.prepare.check_draft`` in a child process within the settings' memory and
        time limits (a hostile upload can neither hang nor exhaust this process). Call it
        with no database transaction open. ``draft_marks``: a draft that will be prepared
        (its "DỰ THẢO" stamps are left to preparation); ``source``: how errors name the
        file (its name, else "uploaded file"); ``attachment``: an annex, within
        ``signer.ATTACHMENT_LIMITS`` (up to 100 MB) instead of a draft's."""
        run_isolated("check_draft", pdf, ATTACHMENT_LIMITS if attachment else DRAFT_LIMITS,
                     allow_signatures, draft_marks, source or UPLOADED,
                     limits=self.settings.check_limits)

    def verify_report(self, pdf: bytes, name: str, store: TrustStore) -> Report:
        """Verify an uploaded file in a child process within the settings' memory and time
        limits (``signer.verify_file`` against ``store``: the structure checked, then the
        signatures, OCSP and CRLs fetched by the child); a file refused or over the limits
        gets the report ``refused_<code>``. Call it with no database transaction open."""
        try:
            report: Report = run_isolated("verify", pdf, trust_entries(store), name,
                                          VERIFY_LIMITS, limits=self.settings.verify_limits)
        except PdfHostile as error:
            return hostile_report(pdf, name, error)
        return report


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def session(svc: ServicesDep) -> Iterator[Session]:
    """One session per request; routes commit explicitly, anything else rolls back."""
    with svc.sessions() as s:
        yield s


SessionDep = Annotated[Session, Depends(session)]


def cookie_secure(request: Request) -> bool:
    """Whether cookies get ``Secure``: the service is reached over HTTPS — its public URL
    is https, or this request came over HTTPS (directly, or through a trusted proxy's
    X-Forwarded-Proto). Only a plain-HTTP service (the embedded default on loopback)
    sets cookies a browser would also send over HTTP."""
    return request.url.scheme == "https" or services(request).settings.https


def bearer_secret(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if the request has one."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return header[7:].strip() or None


def presented_secret(request: Request) -> str | None:
    """The token the caller authenticates with: the bearer token, else the session cookie."""
    return bearer_secret(request) or request.cookies.get(COOKIE)


def current_user(request: Request, db: SessionDep) -> User:
    """The caller, from ``Authorization: Bearer …`` (API, agent) or the session cookie (UI)."""
    secret = presented_secret(request)
    if not secret:
        raise NotAuthenticated()
    user = user_for_token(db, secret)
    db.commit()  # last_used_at
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def client_address(request: Request) -> str:
    """The caller's address as this process sees it: the peer, or the address a trusted
    proxy forwarded (``KYSO_TRUSTED_PROXIES``, see ``api/proxies.py``)."""
    return request.client.host if request.client else "?"


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    """The session token as an HttpOnly, SameSite=strict cookie (``Secure`` over HTTPS)."""
    response.set_cookie(COOKIE, secret, httponly=True, samesite="strict",
                        secure=cookie_secure(request), max_age=SESSION_HOURS * 3600)


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="strict",
                           secure=cookie_secure(request))
