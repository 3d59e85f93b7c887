"""The largest request body the service reads: ``KYSO_MAX_UPLOAD_MB``, enforced while the
body arrives, before any route (or multipart parser) sees more of it.

An ASGI middleware: a ``Content-Length`` above the limit is answered 413 at once without
reading a byte; a body without one (chunked) is counted as it is received and answered
413 as soon as the count passes the limit — whatever the route was doing with it is
dropped. A little room is left above the file limit for the multipart envelope and the
form's other fields, so a file of exactly the limit still goes through.
"""

from __future__ import annotations

import json
from typing import Any

from common import render_template

from ..errors import UploadTooLarge

#: Room above the file limit for multipart boundaries, headers and small form fields.
ENVELOPE = 64 * 1024

Scope = dict[str, Any]
Message = dict[str, Any]


def read_upload(file: Any, limit_mb: int) -> bytes:
    """The whole of an uploaded file (a ``fastapi.UploadFile``), refused past ``limit_mb``
    MB: the middleware leaves room for the envelope, this holds the file itself to it."""
    limit = limit_mb * 1024 * 1024
    data: bytes = file.file.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLarge(limit_mb)
    return data


class _Exceeded(Exception):
    """Raised into the application when the body passes the limit."""


class BodyLimit:
    """Refuse (413, bilingual) a request body larger than ``limit_mb`` MB + ``ENVELOPE``."""

    def __init__(self, app: Any, limit_mb: int) -> None:
        self.app = app
        self.limit_mb = limit_mb
        self.limit = limit_mb * 1024 * 1024 + ENVELOPE

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _Exceeded()
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise _Exceeded()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the application's answer to a body cut short is not sent
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:  # the upload's HTTP boundary: what the app raised once the limit
            # was passed is the limit's refusal; anything else is raised again
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Any) -> None:
        error = UploadTooLarge(self.limit_mb)
        headers = [(b"connection", b"close")]
        if scope.get("path", "").startswith("/api/"):
            body = json.dumps({"error": {"type": type(error).__name__, "vi": error.vi,
                                         "en": error.en}}, ensure_ascii=False).encode()
            headers.append((b"content-type", b"application/json"))
        else:  # the web pages and the public verification page
            body = render_template("api.http", "too_large.html", vi=error.vi,
                                   en=error.en).encode()
            headers.append((b"content-type", b"text/html; charset=utf-8"))
            if _header(scope, b"hx-request"):  # htmx: into the page's alert region
                headers += [(b"hx-retarget", b"#alerts"), (b"hx-reswap", b"innerHTML")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
