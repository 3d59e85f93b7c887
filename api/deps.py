"""Typed dependencies of the HTTP routes: the database session, the caller, services."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from certs import SharedFetchers, TrustStore, validation_context
from documents import FileStore, Person, trust_for
from documents.accounts import Forbidden, Role, User, user_for_token

from .errors import NotAuthenticated
from .settings import Settings

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

    def trust_for(self, db: Session, body_ids: Iterable[int]) -> TrustStore:
        """A fresh store for one verification: the shared base, the province-wide anchors
        and those of ``body_ids`` (read from the database, so every process agrees)."""
        return trust_for(db, self.trust, body_ids)

    def contexts(self, store: TrustStore) -> Callable[[], Any]:
        """Fresh validation contexts over ``store``, sharing this process's recent fetches."""
        return lambda: validation_context(store, shared=self.fetchers)


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
