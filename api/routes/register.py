"""The outgoing register: query, and export for printing and binding."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from documents import (
    Organisation,
    export_register_pdf,
    export_register_xlsx,
    register_entries,
    register_row,
)
from documents.accounts import Role, require_role
from documents.audit import AuditAction, record

from ..deps import CurrentUser, SessionDep
from ..errors import NotFound

router = APIRouter(prefix="/api/v1/register", tags=["register"])


def _body(db: SessionDep, user: CurrentUser, body_id: int) -> Organisation:
    body = db.get(Organisation, body_id)
    if body is None:
        raise NotFound(f"cơ quan {body_id} / body {body_id}")
    require_role(db, user, body, Role.CLERK, Role.AUDITOR, Role.ADMIN)
    return body


@router.get("/{body_id}/{year}")
def query(body_id: int, year: int, user: CurrentUser, db: SessionDep,
          date_from: date | None = None, date_to: date | None = None) -> list[dict[str, Any]]:
    body = _body(db, user, body_id)
    rows = []
    for entry in register_entries(db, body, year, date_from=date_from, date_to=date_to):
        cells = register_row(entry)
        rows.append({"number": cells[0], "date": cells[1].isoformat(), "subject": cells[2],
                     "signer": cells[3], "recipients": cells[4], "archive": cells[5],
                     "copies": cells[6], "note": cells[9], "document_id": entry.document_id})
    return rows


@router.get("/{body_id}/{year}/export.{fmt}")
def export(body_id: int, year: int, fmt: str, user: CurrentUser, db: SessionDep) -> Response:
    body = _body(db, user, body_id)
    if fmt == "pdf":
        data, media = export_register_pdf(db, body, year), "application/pdf"
    elif fmt == "xlsx":
        data = export_register_xlsx(db, body, year)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise NotFound(f"định dạng {fmt} / format {fmt}")
    record(db, AuditAction.EXPORT, actor=user.username, body_id=body.id, object_type="register",
           object_id=f"{body.id}/{year}", details={"format": fmt})
    db.commit()
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="so-van-ban-di-{year}.{fmt}"'})
