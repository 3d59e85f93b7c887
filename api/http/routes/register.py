"""The outgoing register: query, and export for printing and binding."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from documents import (
    NotFound,
    NumberBook,
    Organisation,
    RegisterWriter,
    Unit,
    export_register_now,
    query_register,
    register_body,
    start_register_export,
)

from ...exports import export_register_pdf, export_register_xlsx
from ..deps import CurrentUser, ServicesDep, SessionDep
from ..views import register_json

MEDIA = {"pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

router = APIRouter(prefix="/api/v1/register", tags=["register"])


@router.get("/exports/{task_id}", response_model=None)
def fetch_export(task_id: str, user: CurrentUser, db: SessionDep,
                 svc: ServicesDep) -> Response | dict[str, Any]:
    """The export file once the worker made it; until then its state (PENDING, STARTED)."""
    result = svc.celery.AsyncResult(task_id)
    if not result.successful():
        if result.failed():
            raise NotFound(f"bản xuất {task_id} (lỗi khi tạo) / export {task_id} (failed)")
        return {"task_id": task_id, "status": result.state}
    made: dict[str, Any] = result.result
    if not isinstance(made, dict) or "body_id" not in made:
        raise NotFound(f"bản xuất {task_id} / export {task_id}")
    register_body(db, user, int(made["body_id"]))  # only people of that body may fetch it
    return Response(svc.store.get(made["sha256"]), media_type=MEDIA[made["format"]], headers={
        "Content-Disposition": f'attachment; filename="{made["file_name"]}"'})


@router.get("/{body_id}/{year}")
def query(body_id: int, year: int, user: CurrentUser, db: SessionDep,
          date_from: date | None = None, date_to: date | None = None,
          unit: str | None = None, book: str | None = None) -> list[dict[str, Any]]:
    """The register lines of a year; ``unit`` (abbreviation) and ``book`` (code) narrow it."""
    return [register_json(entry, cells) for entry, cells in query_register(
        db, user.id, body_id, year, date_from=date_from, date_to=date_to, unit=unit,
        book=book)]


def _write(fmt: str) -> RegisterWriter:
    def write(db: Session, body: Organisation, year: int, unit: Unit | None,
              date_from: date | None, date_to: date | None, book: NumberBook | None) -> bytes:
        make = export_register_pdf if fmt == "pdf" else export_register_xlsx
        return make(db, body, year, unit, date_from, date_to, book=book)
    return write


@router.get("/{body_id}/{year}/export.{fmt}")
def export(body_id: int, year: int, fmt: str, user: CurrentUser, db: SessionDep,
           date_from: date | None = None, date_to: date | None = None,
           unit: str | None = None, book: str | None = None) -> Response:
    """The register as a file at once (for a year of a commune: well under a second);
    ``POST …/exports`` makes the same file in a worker."""
    data = export_register_now(db, user.id, body_id, year, fmt, _write(fmt),
                               date_from=date_from, date_to=date_to, unit=unit, book=book)
    suffix = f"-{book}" if book else ""
    return Response(data, media_type=MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="so-van-ban-di-{year}{suffix}.{fmt}"'})


class ExportRequest(BaseModel):
    format: str = "pdf"
    date_from: date | None = None
    date_to: date | None = None
    unit: str | None = None
    book: str | None = None


@router.post("/{body_id}/{year}/exports", status_code=202)
def start_export(body_id: int, year: int, form: ExportRequest, user: CurrentUser,
                 db: SessionDep, svc: ServicesDep) -> dict[str, Any]:
    """Export the register in a worker; fetch it from ``/exports/{task_id}`` when ready."""
    task_id = start_register_export(db, svc, user.id, body_id, year, form.format,
                                    date_from=form.date_from, date_to=form.date_to,
                                    unit=form.unit, book=form.book)
    return {"task_id": task_id, "status": "PENDING",
            "url": f"/api/v1/register/exports/{task_id}"}
