"""In-app notifications: what waits for me, what came back, what was signed or issued."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from documents import notifications_of, read_notifications

from ..deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("")
def my_notifications(user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    return [{"id": n.id, "kind": n.kind.name, "text": n.text, "document_id": n.document_id,
             "created_at": n.created_at.isoformat()} for n in notifications_of(db, user.id)]


class Read(BaseModel):
    ids: list[int] | None = None


@router.post("/read")
def read(form: Read, user: CurrentUser, db: SessionDep) -> dict[str, int]:
    return {"marked": read_notifications(db, user.id, form.ids)}
