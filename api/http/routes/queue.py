"""The signer's queue: what waits, approve (one or a batch), return with a reason, reassign."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from documents import approve_one, approve_several, my_queue, signer_of
from documents import give_back as act_give_back
from documents import hand_over as act_hand_over

from ..deps import CurrentUser, ServicesDep, SessionDep
from ..views import request_json, started_json

router = APIRouter(prefix="/api/v1", tags=["signing queue"])


@router.get("/queue")
def queue(user: CurrentUser, db: SessionDep) -> list[dict[str, Any]]:
    """What waits for the caller now (priority, then due time)."""
    return [request_json(r) for r in my_queue(db, signer_of(db, user))]


@router.post("/requests/{request_id}/approve", status_code=202)
def approve(request_id: int, user: CurrentUser, db: SessionDep,
            svc: ServicesDep) -> dict[str, Any]:
    done = approve_one(db, svc, user.id, request_id)
    return {"request": request_json(done.request), **started_json(done.started)}


class Batch(BaseModel):
    request_ids: list[int]


@router.post("/requests/approve-batch", status_code=202)
def approve_many(batch: Batch, user: CurrentUser, db: SessionDep,
                 svc: ServicesDep) -> dict[str, Any]:
    done = approve_several(db, svc, user.id, batch.request_ids)
    started = [started_json(s) for s in done.started]
    return {"requests": [request_json(r) for r in done.requests], "batch": done.batch,
            "task_ids": [s.get("task_id") for s in started],
            "job_ids": [s["job_id"] for s in started if "job_id" in s]}


class Return(BaseModel):
    reason: str


@router.post("/requests/{request_id}/return")
def give_back(request_id: int, form: Return, user: CurrentUser,
              db: SessionDep) -> dict[str, Any]:
    return request_json(act_give_back(db, user.id, request_id, form.reason))


class Reassign(BaseModel):
    person_id: int


@router.post("/requests/{request_id}/reassign")
def hand_over(request_id: int, form: Reassign, user: CurrentUser,
              db: SessionDep) -> dict[str, Any]:
    return request_json(act_hand_over(db, user.id, request_id, form.person_id))
