"""A stand-in for the VGCA Sign Service, written from the interface integrators publicly
describe (and api/http/routes/vgca.py documents): a WebSocket server on loopback whose
``/SignApproved`` method takes one JSON message (``FileName``, ``FileUploadHandler``,
``SessionId``, ``JWTToken``, ``MetaData``), downloads the file, signs it with the key the
official chose (a pyHanko signer here; the real service asks for the token's PIN in its
own dialog), uploads the result as a multipart file part and answers one JSON message
(``Status``, ``Message``, ``FileName``, ``FileServer``).

Plain ``ws://`` by default, or ``wss://`` with a TLS context (the real service speaks
``wss://`` with a certificate of its own); the HTTP side goes through the client it is
given (the in-process app's TestClient, or an HTTP client of the served app).
``sign`` may be replaced to make the stand-in misbehave (sign elsewhere, tamper).
"""

from __future__ import annotations

import contextlib
import io
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


def sign_in_field(pdf: bytes, key: signers.Signer, field_name: str) -> bytes:
    """What the service does by default: sign the first empty signature field."""
    out = io.BytesIO()
    signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False),
                     signers.PdfSignatureMetadata(field_name=field_name), signer=key,
                     output=out)
    return out.getvalue()


@dataclass
class VgcaStandIn:
    http: httpx.Client
    key: signers.Signer
    field_name: str
    sign: Callable[[bytes], bytes] | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _server: Server | None = None

    def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        if ws.request.path != "/SignApproved":
            ws.send(json.dumps({"Status": 404, "Message": "unknown method"}))
            return
        try:
            message = ws.recv()
        except ConnectionClosed:  # the page's detection: opened, then closed at once
            return
        params = json.loads(message)
        self.calls.append(params)
        try:
            reply = self._sign_approved(params)
        except Exception as exc:  # noqa: BLE001 — the service's boundary: answer, do not die
            reply = {"Status": 500, "Message": f"{type(exc).__name__}: {exc}"}
        ws.send(json.dumps(reply))

    def _sign_approved(self, params: dict[str, Any]) -> dict[str, Any]:
        download = self.http.get(params["FileName"])
        if download.status_code != 200:
            return {"Status": 1, "Message": f"tải tệp lỗi HTTP {download.status_code}"}
        signed = (self.sign or (lambda pdf: sign_in_field(pdf, self.key, self.field_name)))(
            download.content)
        name = "da-ky.pdf"
        upload = self.http.post(params["FileUploadHandler"],
                                files={"uploadfile": (name, signed, "application/pdf")})
        if upload.status_code != 200:
            return {"Status": 2, "Message": upload.text, "FileName": name}
        return {"Status": 0, "Message": "", "FileName": name, "FileServer": upload.text}

    def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> VgcaStandIn:
        """Listen on 127.0.0.1:``port`` (any free port by default), over ``wss://`` when
        given a server TLS context, as the real service does."""
        self._server = serve(self._handle, "127.0.0.1", port, ssl=tls)
        port = self._server.socket.getsockname()[1]
        self.url = f"{'wss' if tls else 'ws'}://127.0.0.1:{port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()

    @contextlib.contextmanager
    def running(self, port: int = 0, tls: ssl.SSLContext | None = None
                ) -> Iterator[VgcaStandIn]:
        """:meth:`start`, then :meth:`stop` after the block."""
        self.start(port, tls)
        try:
            yield self
        finally:
            self.stop()
