"""The VGCA Sign Service adapter: single-use addresses for the service on the official's PC.

The Government Cipher Committee's *VGCA Sign Service* runs on the official's PC and
listens on a local WebSocket, ``wss://127.0.0.1:8987``. Document systems call it from the
browser (integrators' public code, wrapped by the committee's ``vgcaplugin.js``). Kyso
relies on exactly this, and nothing else of it:

- **method** ``SignApproved`` (the approval signature: ``vgca_sign_approved`` in the
  plugin): a WebSocket opened at ``wss://127.0.0.1:8987/SignApproved``, one text message
  sent — the JSON object of :func:`sign_approved_request`:

  ``FileName``           the URL the service downloads the PDF from (GET);
  ``FileUploadHandler``  the URL the service uploads the signed PDF to (POST, a
                         ``multipart/form-data`` file part — any field name — or the raw
                         PDF as the body);
  ``SessionId``, ``JWTToken``  empty: the two URLs carry their own single-use tickets;
  ``MetaData``           ``[{"Key": "kyso_document", "Value": <id>}]``, informative;

- **its one reply**: JSON with ``Status`` (0 = signed and uploaded), ``Message`` (the
  reason otherwise), ``FileName`` and ``FileServer`` (the upload handler's answer, which
  here is the JSON of :func:`upload_with_ticket`).

Whether the service signed the right thing is not taken from its reply: the upload goes
through :func:`documents.accept_signed`'s check (the prepared revision plus one approval
signature in the prepared field by the registered certificate). The page's side
(detection, the call) is ``api/web/static/vgca.js``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from documents import file_for_ticket, issue_tickets, upload_for_ticket

from ..deps import CurrentUser, ServicesDep, SessionDep
from ..limits import read_upload

#: the service's address on the official's PC and the method Kyso calls
SERVICE_URL = "wss://127.0.0.1:8987"
METHOD = "SignApproved"
CHANNEL = "vgca"
TICKETS = "/api/v1/ky-so-mot-lan"

router = APIRouter(prefix="/api/v1", tags=["VGCA Sign Service"])
#: the addresses the service itself calls: no login, no CSRF (the ticket is the capability)
ticket_router = APIRouter(prefix=TICKETS, tags=["VGCA Sign Service"])


def sign_approved_request(file_url: str, upload_url: str, document_id: str) -> dict[str, Any]:
    """The message ``SignApproved`` takes."""
    return {"FileName": file_url, "FileUploadHandler": upload_url, "SessionId": "",
            "JWTToken": "", "MetaData": [{"Key": "kyso_document", "Value": document_id}]}


def _base(request: Request, svc: ServicesDep) -> str:
    return (svc.settings.public_url or str(request.base_url)).rstrip("/")


@router.post("/documents/{document_id}/vgca")
def vgca_call(document_id: str, request: Request, user: CurrentUser, db: SessionDep,
              svc: ServicesDep) -> dict[str, Any]:
    """What the signer's page sends the VGCA Sign Service: the method's address and its
    message, with a file and an upload address valid once, for five minutes."""
    tickets = issue_tickets(db, user, document_id, secret=svc.settings.secret_key.encode(),
                            channel=CHANNEL)
    base = _base(request, svc)
    return {"service": f"{SERVICE_URL}/{METHOD}", "expires_at": tickets.expires_at.isoformat(),
            "request": sign_approved_request(f"{base}{TICKETS}/{tickets.file}/file.pdf",
                                             f"{base}{TICKETS}/{tickets.upload}/upload",
                                             document_id)}


@ticket_router.get("/{ticket}/file.pdf")
def file_with_ticket(ticket: str, db: SessionDep, svc: ServicesDep) -> Response:
    prepared = file_for_ticket(db, svc.store, ticket, secret=svc.settings.secret_key.encode())
    return Response(prepared.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{prepared.file_name}"',
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@ticket_router.post("/{ticket}/upload")
async def upload_with_ticket(ticket: str, request: Request, db: SessionDep,
                             svc: ServicesDep) -> dict[str, Any]:
    """The signed PDF, as the service posts it (a multipart file part or the raw body)."""
    data: bytes | None = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form() as form:  # closes the part's spooled file afterwards
            part = next((v for v in form.values() if isinstance(v, UploadFile)), None)
            if part is not None:
                data = read_upload(part, svc.settings.max_upload_mb)
    if data is None:
        data = await request.body()
    done = await asyncio.to_thread(upload_for_ticket, db, svc.store, ticket, data,
                                   secret=svc.settings.secret_key.encode())
    return {"accepted": True, "document_id": done.document_id, "sha256": done.sha256,
            "status": done.status.name,
            "vi": "Kyso đã nhận văn bản đã ký: đúng bản đã chuẩn bị, đúng chứng thư."}
