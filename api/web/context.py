"""Who is looking at a page: the signed-in account, its bodies and roles, the CSRF token.

Page routes take :data:`PageCtx`; form posts take :data:`PostCtx`, which also checks the
post's CSRF token. Both reuse the JSON API's ``current_user`` (session cookie)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from documents import NoBody, Organisation, Role, User, bodies_of, require_role, roles_of

from ..http.deps import COOKIE, CurrentUser, Services, ServicesDep, SessionDep
from .rendering import ROLE_PAGES
from .security import check_session_post, session_token


@dataclass
class Ctx:
    request: Request
    user: User
    db: Session
    svc: Services
    bodies: list[Organisation]
    body: Organisation | None
    roles: set[Role]
    csrf: str
    pages: list[tuple[Role, str, str]] = field(default_factory=list)

    def require(self, *roles: Role) -> Organisation:
        """The current body, if the caller holds one of ``roles`` there (else Forbidden)."""
        if self.body is None:
            raise NoBody(self.user.username, " hoặc ".join(r.value for r in roles),
                         " or ".join(r.english for r in roles))
        require_role(self.db, self.user, self.body, *roles)
        return self.body

    @property
    def person_id(self) -> int | None:
        return self.user.person_id


def page_context(request: Request, user: CurrentUser, db: SessionDep,
                 svc: ServicesDep, body: int | None = None) -> Ctx:
    """The caller's context; ``?body=`` picks one of several bodies (default: the first)."""
    bodies = bodies_of(db, user)
    chosen = next((b for b in bodies if b.id == body), bodies[0] if bodies else None)
    roles = roles_of(db, user, chosen) if chosen else set()
    csrf = session_token(svc.settings.secret_key, request.cookies.get(COOKIE, ""))
    ctx = Ctx(request, user, db, svc, bodies, chosen, roles, csrf,
              [page for page in ROLE_PAGES if page[0] in roles])
    request.state.ui_ctx = ctx
    return ctx


async def post_context(request: Request, ctx: Annotated[Ctx, Depends(page_context)]) -> Ctx:
    await check_session_post(request, ctx.svc.settings.secret_key)
    return ctx


PageCtx = Annotated[Ctx, Depends(page_context)]
PostCtx = Annotated[Ctx, Depends(post_context)]
