"""In-app notifications: what waits for me, what came back, what was signed or issued."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from documents import Person
from documents.queue import mark_read, unread

from ..deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("")
def my_notifications(user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    if user.person_id is None:
        return []
    person = db.get_one(Person, user.person_id)
    return [{"id": n.id, "kind": n.kind.name, "text": n.text, "document_id": n.document_id,
             "created_at": n.created_at.isoformat()} for n in unread(db, person)]


class Read(BaseModel):
    ids: list[int] | None = None


@router.post("/read")
def read(form: Read, user: CurrentUser, db: SessionDep) -> dict[str, int]:
    if user.person_id is None:
        return {"marked": 0}
    marked = mark_read(db, db.get_one(Person, user.person_id), form.ids)
    db.commit()
    return {"marked": marked}
