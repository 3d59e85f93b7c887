"""The outgoing register: query, and export for printing and binding."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from documents import (
    NumberBook,
    Organisation,
    Unit,
    export_register_pdf,
    export_register_xlsx,
    register_entries,
    register_row,
)
from documents.accounts import Role, require_role
from documents.audit import AuditAction, record
from documents.tasks import EXPORT_REGISTER

from ..deps import CurrentUser, ServicesDep, SessionDep, member_body
from ..errors import NotFound, UnknownValue

MEDIA = {"pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

router = APIRouter(prefix="/api/v1/register", tags=["register"])


def _body(db: SessionDep, user: CurrentUser, body_id: int) -> Organisation:
    body = member_body(db, user, body_id)
    require_role(db, user, body, Role.CLERK, Role.AUDITOR, Role.ADMIN)
    return body


def _filters(db: SessionDep, body: Organisation, unit: str | None,
             book: str | None) -> tuple[Unit | None, NumberBook | None]:
    """The unit (by abbreviation) and number book (by code) a query is limited to."""
    chosen_unit = next((u for u in body.units if u.abbreviation == unit), None)
    if unit and chosen_unit is None:
        raise NotFound(f"đơn vị {unit} / unit {unit}")
    chosen_book = db.scalar(select(NumberBook).where(NumberBook.body_id == body.id,
                                                     NumberBook.code == book)) if book else None
    if book and chosen_book is None:
        raise NotFound(f"sổ {book} / book {book}")
    return chosen_unit, chosen_book


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
    _body(db, user, int(made["body_id"]))  # only people of that body may fetch it
    return Response(svc.store.get(made["sha256"]), media_type=MEDIA[made["format"]], headers={
        "Content-Disposition": f'attachment; filename="{made["file_name"]}"'})


@router.get("/{body_id}/{year}")
def query(body_id: int, year: int, user: CurrentUser, db: SessionDep,
          date_from: date | None = None, date_to: date | None = None,
          unit: str | None = None, book: str | None = None) -> list[dict[str, Any]]:
    """The register lines of a year; ``unit`` (abbreviation) and ``book`` (code) narrow it."""
    body = _body(db, user, body_id)
    chosen_unit, chosen_book = _filters(db, body, unit, book)
    rows = []
    for entry in register_entries(db, body, year, date_from=date_from, date_to=date_to,
                                  unit=chosen_unit, book=chosen_book):
        cells = register_row(entry)
        rows.append({"number": cells[0], "date": cells[1].isoformat(), "subject": cells[2],
                     "signer": cells[3], "recipients": cells[4], "archive": cells[5],
                     "copies": cells[6], "note": cells[9], "document_id": entry.document_id})
    return rows


@router.get("/{body_id}/{year}/export.{fmt}")
def export(body_id: int, year: int, fmt: str, user: CurrentUser, db: SessionDep,
           date_from: date | None = None, date_to: date | None = None,
           unit: str | None = None, book: str | None = None) -> Response:
    """The register as a file at once (for a year of a commune: well under a second);
    ``POST …/exports`` makes the same file in a worker."""
    body = _body(db, user, body_id)
    if fmt not in MEDIA:
        raise NotFound(f"định dạng {fmt} / format {fmt}")
    chosen_unit, chosen_book = _filters(db, body, unit, book)
    make = export_register_pdf if fmt == "pdf" else export_register_xlsx
    data = make(db, body, year, chosen_unit, date_from, date_to, book=chosen_book)
    record(db, AuditAction.EXPORT, actor=user.username, body_id=body.id, object_type="register",
           object_id=f"{body.id}/{year}", details={"format": fmt, "unit": unit, "book": book})
    db.commit()
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
    body = _body(db, user, body_id)
    if form.format not in MEDIA:
        raise UnknownValue("định dạng", "format", form.format, MEDIA)
    _filters(db, body, form.unit, form.book)
    record(db, AuditAction.EXPORT, actor=user.username, body_id=body.id, object_type="register",
           object_id=f"{body.id}/{year}", details=form.model_dump(mode="json"))
    db.commit()
    result = svc.celery.send_task(EXPORT_REGISTER, args=[
        body.id, year, form.format, form.unit,
        form.date_from.isoformat() if form.date_from else None,
        form.date_to.isoformat() if form.date_to else None, form.book])
    return {"task_id": result.id, "status": "PENDING",
            "url": f"/api/v1/register/exports/{result.id}"}
