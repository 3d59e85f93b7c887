"""Typed dependencies of the HTTP routes: the database session, the caller, services."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from certs import SharedFetchers, TrustStore, validation_context
from documents import FileStore, Person
from documents.accounts import Forbidden, Role, User, user_for_token
from signer import VERIFY_LIMITS, PdfHostile, Report, hostile_report, run_isolated
from signer.prepare import DRAFT_LIMITS
from signer.verify import trust_entries

from .errors import NotAuthenticated
from .settings import Settings

COOKIE = "kyso_session"


@dataclass
class Services:
    """Built once by the application's lifespan; shared by every request."""

    settings: Settings
    sessions: sessionmaker[Session]
    store: FileStore
    trust: TrustStore
    celery: Any
    #: OCSP responses and CRLs fetched by this process, kept a few minutes
    fetchers: SharedFetchers = field(default_factory=SharedFetchers)

    def validation_context(self) -> Any:
        """A fresh validation context over the trust store, sharing recent fetches."""
        return validation_context(self.trust, shared=self.fetchers)

    def check_draft(self, pdf: bytes, *, allow_signatures: bool = False) -> None:
        """``signer.prepare.check_draft`` in a child process within the settings' memory and
        time limits (a hostile upload can neither hang nor exhaust this process). Call it
        with no database transaction open."""
        run_isolated("check_draft", pdf, DRAFT_LIMITS, allow_signatures,
                     limits=self.settings.check_limits)

    def verify_report(self, pdf: bytes, name: str) -> Report:
        """Verify an uploaded file in a child process within the settings' memory and time
        limits (``signer.verify_file``: the structure checked, then the signatures, OCSP
        and CRLs fetched by the child); a file refused or over the limits gets the report
        ``refused_<code>``. Call it with no database transaction open."""
        try:
            report: Report = run_isolated("verify", pdf, trust_entries(self.trust), name,
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


def current_user(request: Request, db: SessionDep) -> User:
    """The caller, from ``Authorization: Bearer …`` (API, agent) or the session cookie (UI)."""
    header = request.headers.get("authorization", "")
    secret = header[7:].strip() if header.lower().startswith("bearer ") else None
    secret = secret or request.cookies.get(COOKIE)
    if not secret:
        raise NotAuthenticated()
    user = user_for_token(db, secret)
    db.commit()  # last_used_at
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def signer_of(db: Session, user: User) -> Person:
    """The official the caller's account belongs to (signers act as their person); an
    account linked to nobody is refused."""
    if user.person_id is None:
        raise Forbidden(user.username, Role.SIGNER.value, Role.SIGNER.english,
                        "(tài khoản chưa gắn với người ký / account not linked to a signer)")
    return db.get_one(Person, user.person_id)
