"""A stand-in for VNPT SmartCA, written from the provider's public API description (the
three calls tokens/smartca.py documents), serving over loopback HTTP.

It holds one account (``user_id``) with a key and its certificate chain, and behaves as
the phone app's owner tells it: a test waits for a transaction to arrive
(:meth:`SmartCaStandIn.next_transaction`, as an official waits for the notification on
their phone), then :meth:`confirm` s or :meth:`refuse` s it. Confirmed transactions are
signed with RSA PKCS#1 v1.5 over the hashes received, as the service does.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from asn1crypto import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed


@dataclass
class Transaction:
    code: str
    user_id: str
    digests: list[tuple[str, bytes]]
    state: str = "waiting"  # waiting | confirmed | refused
    polls: int = 0


@dataclass
class SmartCaStandIn:
    sp_id: str
    sp_password: str
    user_id: str
    #: the account's key (or, with ``sign``, None: the key is on a token)
    key: rsa.RSAPrivateKey | None
    certificate: x509.Certificate
    chain: list[x509.Certificate]
    cert_status: str = "1"
    transactions: dict[str, Transaction] = field(default_factory=dict)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    base_url: str = ""
    #: signs a SHA-256 digest (RSA PKCS#1 v1.5) when the key is not a file
    sign: Callable[[bytes], bytes] | None = None

    def signature(self, digest: bytes) -> bytes:
        if self.sign is not None:
            return self.sign(digest)
        assert self.key is not None
        return self.key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))

    def next_transaction(self, timeout: float = 30.0) -> Transaction:
        """The first transaction still waiting for the phone (waits until one arrives)."""
        with self.arrived:
            assert self.arrived.wait_for(self._waiting, timeout=timeout), "no transaction"
            found = self._waiting()
            assert found is not None
            return found

    def _waiting(self) -> Transaction | None:
        return next((t for t in self.transactions.values() if t.state == "waiting"), None)

    def wait_polled(self, transaction: Transaction, times: int = 1,
                    timeout: float = 30.0) -> None:
        """Until Kyso has asked ``times`` times whether the phone confirmed."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: transaction.polls >= times, timeout=timeout)

    def confirm(self, transaction: Transaction) -> None:
        transaction.state = "confirmed"

    def refuse(self, transaction: Transaction) -> None:
        transaction.state = "refused"

    # --- the service ------------------------------------------------------------------

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path.endswith("/status"):
            code = path.split("/")[-2]
            return self._status(code)
        if (body.get("sp_id"), body.get("sp_password")) != (self.sp_id, self.sp_password):
            return 401, {"status_code": 401, "message": "SP_CREDENTIAL_INVALID", "data": None}
        if body.get("user_id") != self.user_id:
            return 400, {"status_code": 400, "message": "BAD_REQUEST", "data": None}
        if path.endswith("/v1/credentials/get_certificate"):
            return 200, {"status_code": 200, "message": "SUCCESS", "data": {"user_certificates": [{
                "cert_id": "cert-1", "serial_number": format(self.certificate.serial_number, "x"),
                "cert_status": self.cert_status,
                "cert_subject": self.certificate.subject.human_friendly,
                "cert_data": base64.b64encode(self.certificate.dump()).decode(),
                "chain_data": {k: base64.b64encode(c.dump()).decode()
                               for k, c in zip(("ca_cert", "root_cert"), self.chain,
                                               strict=False)}}]}}
        if path.endswith("/v1/signatures/sign"):
            if self.cert_status != "1":
                return 403, {"status_code": 403, "message": "CREDENTIAL_STATUS_INVALID"}
            files = body.get("sign_files") or []
            transaction = Transaction(
                code=str(uuid.uuid4()), user_id=body["user_id"],
                digests=[(f["doc_id"], bytes.fromhex(f["data_to_be_signed"])) for f in files])
            with self.arrived:
                self.transactions[transaction.code] = transaction
                self.arrived.notify_all()
            return 200, {"status_code": 200, "message": "sig_wait_for_user_confirm",
                         "data": {"transaction_id": body.get("transaction_id"),
                                  "tran_code": transaction.code}}
        return 404, {"status_code": 404, "message": "NOT_FOUND"}

    def _status(self, code: str) -> tuple[int, dict[str, Any]]:
        transaction = self.transactions.get(code)
        if transaction is None:
            return 400, {"status_code": 400, "message": "BAD_REQUEST"}
        with self.arrived:
            transaction.polls += 1
            self.arrived.notify_all()
        if transaction.state == "refused":
            return 200, {"status_code": 400, "message": "sig_rejected_by_user"}
        if transaction.state == "waiting":
            return 200, {"status_code": 200, "message": "sig_wait_for_user_confirm",
                         "data": {"tran_code": code}}
        signatures = [{"doc_id": doc, "signature_value": base64.b64encode(
            self.signature(digest)).decode(),
            "timestamp_signature": None} for doc, digest in transaction.digests]
        return 200, {"status_code": 200, "message": "SUCCESS",
                     "data": {"tran_code": code, "signatures": signatures}}


def serve(standin: SmartCaStandIn) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            status, answer = standin.answer(self.path, json.loads(raw or b"{}"))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    standin.base_url = f"http://127.0.0.1:{server.server_address[1]}/sca/sp769"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextlib.contextmanager
def serving(standin: SmartCaStandIn) -> Iterator[SmartCaStandIn]:
    """``standin`` served on loopback (:func:`serve`) while the block runs."""
    server = serve(standin)
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()
