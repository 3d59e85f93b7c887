"""Issuing bodies the caller belongs to, and their units and people (for routing)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from documents import Person, SigningAuthority
from documents.accounts import bodies_of
from documents.authority import in_force

from ..deps import CurrentUser, SessionDep, member_body

router = APIRouter(prefix="/api/v1/bodies", tags=["administration"])


@router.get("")
def my_bodies(user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    return [{"id": b.id, "name": b.name, "abbreviation": b.abbreviation,
             "units": [{"abbreviation": u.abbreviation, "name": u.name} for u in b.units]}
            for b in bodies_of(db, user)]


@router.get("/{body_id}/signers")
def signers(body_id: int, user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    """People holding signing authority in the body: whom a draft can be routed to."""
    body = member_body(db, user, body_id)
    rows = db.execute(select(Person, SigningAuthority).join(
        SigningAuthority, SigningAuthority.person_id == Person.id).where(
        SigningAuthority.body_id == body.id, Person.active.is_(True), in_force())).all()
    return [{"person_id": person.id, "full_name": person.full_name,
             "position": person.position, "designation": authority.designation.name}
            for person, authority in rows]
