"""The auditor's page: drop signed files to verify them and read each report (the
printable HTML report, embedded), and the audit trail with filters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from documents import (
    AuditAction,
    AuditEvent,
    Document,
    Role,
    Upload,
    verify_each,
    version_labels,
)
from signer import render_html, verdict_words

from ...http.errors import MissingInput
from .. import trail
from ..context import Ctx, PageCtx, PostCtx
from ..rendering import render
from ..routing import UiRoute

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/kiem-tra"
#: Most events shown at once.
MAX_EVENTS = 500


def _trail_context(ctx: Ctx, action: str | None, actor: str | None, object_id: str | None,
                   limit: int) -> dict[str, Any]:
    body = ctx.require(Role.AUDITOR, Role.ADMIN)
    chosen = AuditAction[action] if action and action in AuditAction.__members__ else None
    people = trail.people_of(ctx.db, body)
    query = select(AuditEvent).where(AuditEvent.body_id == body.id)
    if chosen is not None:
        query = query.where(AuditEvent.action == chosen)
    if actor:  # whichever of the person's names the event was recorded under
        query = query.where(AuditEvent.actor.in_(sorted(people.aliases(actor))))
    if object_id:
        query = query.where(AuditEvent.object_id == object_id.strip())
    events = list(ctx.db.scalars(query.order_by(AuditEvent.seq.desc())
                                 .limit(max(1, min(limit, MAX_EVENTS)))))
    ids = {e.object_id for e in events if e.object_type == "document"}
    documents = {d.id: d for d in ctx.db.scalars(select(Document).where(Document.id.in_(ids)))}
    labels = version_labels(ctx.db, ids)
    rows = [{"seq": e.seq, "at": e.occurred_at, "when": trail.when(e.occurred_at),
             "who": people.who(e.actor), "action": e.action.name,
             "sentence": trail.sentence(e, people, documents, labels),
             "details": trail.details_rows(e)} for e in events]
    return {"ctx": ctx, "events": rows, "actions": list(AuditAction),
            "people": sorted(people.labels.items(), key=lambda kv: kv[1]),
            "filters": {"action": action or "", "actor": actor or "",
                        "object_id": object_id or "", "limit": limit}}


def _entry_rows(entry: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A register entry (``Match.to_dict()["entry"]``) as the public page lists it."""
    if not entry:
        return []
    day = entry["issued_date"]
    rows = [("Số, ký hiệu", entry["number_symbol"]),
            ("Ngày ban hành", f"{day[8:10]}/{day[5:7]}/{day[0:4]}"),
            ("Loại văn bản", entry["type_name"]), ("Trích yếu nội dung", entry["subject"]),
            ("Người ký", f"{entry['signer_position']} {entry['signer_full_name']}".strip()),
            ("Nơi nhận", entry["recipients"] or "—")]
    if entry["cancelled"]:
        rows.append(("Tình trạng", f"ĐÃ HỦY SỐ — lý do: {entry['cancel_reason'] or '—'}"))
    return rows


def register_view(block: dict[str, Any] | None) -> dict[str, Any]:
    """What the register says of a verified file, as the public page says it: the issued
    version, a version before issuing, an attachment or a copy, with the register entry
    (for a copy, its own and the original's)."""
    if block is None:
        return {"known": False, "exact": False,
                "vi": "Tệp không trùng với văn bản nào trong sổ đăng ký văn bản đi của cơ quan "
                      "(không phải tệp do Kyso lưu)."}
    relation = block["relation"]
    vi = ("Tệp này đúng là bản đã ban hành." if block["exact"] else
          f"Tệp này KHÔNG phải bản đã ban hành: đây là {block['vi']}.")
    return {"known": True, "exact": block["exact"], "relation": relation, "vi": vi,
            "entry": _entry_rows(block["entry"]),
            "source": _entry_rows(block["source_entry"]) if relation == "COPY" else []}


@router.get(PATH)
def auditor_page(request: Request, ctx: PageCtx, action: str | None = None,
                 actor: str | None = None, object_id: str | None = None,
                 limit: int = 50) -> Response:
    ctx.require(Role.AUDITOR)
    return render(request, "auditor.html", _trail_context(ctx, action, actor, object_id,
                                                          limit))


@router.get(PATH + "/nhat-ky")
def audit_trail(request: Request, ctx: PageCtx, action: str | None = None,
                actor: str | None = None, object_id: str | None = None,
                limit: int = 50) -> Response:
    return render(request, "_audit.html", _trail_context(ctx, action, actor, object_id, limit))


def _reader(upload: UploadFile) -> Upload:
    def read() -> bytes:
        upload.file.seek(0)
        return upload.file.read()
    return read


@router.post(PATH + "/xac-minh")
def verify_files(request: Request, ctx: PostCtx, files: list[UploadFile]) -> Response:
    """Each dropped file verified as ``POST /api/v1/verify`` does (an audit event each);
    the report shown as its printable HTML page. A plain function: verification blocks,
    FastAPI runs it in its thread pool."""
    body = ctx.require(Role.AUDITOR, Role.ADMIN, Role.CLERK)
    uploads = [f for f in files if f.filename]
    if not uploads:
        raise MissingInput(["files"])
    reports: list[dict[str, Any]] = []
    for done in verify_each(ctx.db, ctx.svc, ctx.user.id,  # this body's trust
                            [(u.filename or "", _reader(u)) for u in uploads], body.id):
        report = done.report
        if report is None:
            assert done.problem is not None
            reports.append({"file": done.name, "verdict": "error",
                            "verdict_vi": "Không xác minh được", "problem": done.problem.vi})
            continue
        block = done.register
        reports.append({"file": report.file, "verdict": str(report.verdict),
                        "verdict_vi": verdict_words(report.verdict),
                        "signers": [s.signer for s in report.signatures],
                        "register": register_view(block),
                        "html": render_html(report, "vi")})
    failed = [r["file"] for r in reports if r["verdict"] == "error"]
    return render(request, "_reports.html", {"ctx": ctx, "reports": reports,
                                             "failed": failed})
