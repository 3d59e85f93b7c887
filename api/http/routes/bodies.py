"""Issuing bodies the caller belongs to, and their units and people (for routing)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from documents import bodies_of, routable_signers

from ..deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/bodies", tags=["administration"])


@router.get("")
def my_bodies(user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    return [{"id": b.id, "name": b.name, "abbreviation": b.abbreviation,
             "units": [{"abbreviation": u.abbreviation, "name": u.name} for u in b.units]}
            for b in bodies_of(db, user)]


@router.get("/{body_id}/signers")
def signers(body_id: int, user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    """People holding signing authority in the body: whom a draft can be routed to."""
    rows = routable_signers(db, user.id, body_id)
    return [{"person_id": person.id, "full_name": person.full_name,
             "position": person.position, "designation": authority.designation.name}
            for person, authority in rows]
