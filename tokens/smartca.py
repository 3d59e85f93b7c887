"""VNPT SmartCA: remote signing that the official confirms on their phone.

Built from the interface as integrators publicly describe it (VNPT's "Tài liệu tích hợp
VNPT SmartCA", v4; the "SmartCA thường" account, where the user confirms each
transaction in the VNPT SmartCA app). Every call is a JSON ``POST`` under the service's
base URL (e.g. ``https://gwsca.vnpt.vn/sca/sp769``), authenticated by the integrator's
``sp_id`` and ``sp_password``; the official is named by ``user_id`` (their citizen ID as
registered with VNPT). Kyso relies on exactly these three calls and fields:

``v1/credentials/get_certificate``
    request ``sp_id, sp_password, user_id, serial_number ("" for all), transaction_id``;
    answer ``status_code`` (200), ``data.user_certificates[]`` with ``cert_id``,
    ``serial_number``, ``cert_status``, ``cert_data`` (base64 DER) and
    ``chain_data.ca_cert`` / ``chain_data.root_cert`` (base64 DER).
``v1/signatures/sign``
    request ``sp_id, sp_password, user_id, transaction_id, transaction_desc,
    serial_number, time_stamp (YYYYMMDDhhmmssZ), sign_files[]`` with, per document,
    ``doc_id``, ``file_type`` "pdf", ``sign_type`` "hash" and ``data_to_be_signed`` (the
    hex SHA-256 of the CMS signed attributes); answer ``status_code`` 200,
    ``message`` "sig_wait_for_user_confirm", ``data.transaction_id`` and ``data.tran_code``.
``v1/signatures/sign/{tran_code}/status``
    (empty body) answer ``message`` "SUCCESS" with ``data.signatures[]`` of ``doc_id`` and
    ``signature_value`` (base64 raw signature) once the official confirmed; any other
    message while waiting; a ``status_code`` other than 200 when the official refused or
    the transaction expired.

Documented error codes: 400 ``BAD_REQUEST``, 401 ``SP_CREDENTIAL_INVALID``, 403
``CREDENTIAL_STATUS_INVALID`` (certificate expired or revoked), 500. Where the public
descriptions disagree (some integrators poll with ``transaction_id`` instead of
``tran_code``) the adapter uses ``tran_code`` when the answer has one. One transaction
carries the whole batch (``sign_files`` lists every document), so the official confirms
once. :meth:`SmartCaProvider.authorize` blocks while polling: call it from a worker.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from asn1crypto import x509

from .errors import (
    CredentialUnavailable,
    HashCountMismatch,
    PhoneConfirmationRefused,
    PhoneConfirmationTimedOut,
    RemoteAuthRefused,
    RemoteServerError,
    RemoteUnreachable,
)
from .remote import Authorization, Grant, RemoteCredential, RemoteSigningProvider

__all__ = ["SmartCaProvider"]

#: the longest the official has to confirm on the phone (the service's own limit is
#: of the same order)
CONFIRM_SECONDS = 300.0
POLL_SECONDS = 2.0
#: documents in one transaction (one confirmation)
BATCH = 50
_WAITING = "sig_wait_for_user_confirm"


class SmartCaProvider(RemoteSigningProvider):
    """The VNPT SmartCA account ``user_id`` through the integrator's ``sp_id``."""

    def __init__(self, base_url: str, sp_id: str, sp_password: str, user_id: str, *,
                 transport: httpx.BaseTransport | None = None, timeout: float = 30.0,
                 confirm_seconds: float = CONFIRM_SECONDS, poll_seconds: float = POLL_SECONDS,
                 on_waiting: Callable[[float], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._sp = {"sp_id": sp_id, "sp_password": sp_password}
        self.user_id = user_id
        self._client = httpx.Client(transport=transport, timeout=timeout)
        self.confirm_seconds = confirm_seconds
        self.poll_seconds = poll_seconds
        #: told the seconds left while the phone confirmation is awaited (the page's countdown)
        self.on_waiting = on_waiting
        self._signatures: dict[str, list[bytes]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the password
        return f"SmartCaProvider({self.base_url!r}, user_id={self.user_id!r})"

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/{path}"
        try:
            response = self._client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise RemoteUnreachable(self.base_url) from exc
        try:
            answer = response.json()
        except ValueError as exc:
            raise RemoteServerError(response.status_code, "", "không phải JSON / not JSON") from exc
        if not isinstance(answer, dict):
            raise RemoteServerError(response.status_code, "", "không phải JSON / not JSON")
        code = int(answer.get("status_code") or response.status_code)
        message = str(answer.get("message") or "")
        if 401 in (code, response.status_code):
            raise RemoteAuthRefused(message or "SP_CREDENTIAL_INVALID")
        if 403 in (code, response.status_code):
            raise CredentialUnavailable(self.user_id, disabled=True)
        if response.status_code >= 500 or code >= 500:
            raise RemoteServerError(code, message, "")
        answer["_code"] = code
        return answer

    def _certificates(self) -> list[dict[str, Any]]:
        answer = self._post("v1/credentials/get_certificate", {
            **self._sp, "user_id": self.user_id, "serial_number": "",
            "transaction_id": str(uuid.uuid4())})
        data = answer.get("data") or {}
        return list(data.get("user_certificates") or [])

    def credentials(self) -> list[str]:
        return [str(c["cert_id"]) for c in self._certificates()]

    def credential(self, credential_id: str) -> RemoteCredential:
        for entry in self._certificates():
            if str(entry.get("cert_id")) != credential_id:
                continue
            cert = x509.Certificate.load(base64.b64decode(entry["cert_data"]))
            chain_data = entry.get("chain_data") or {}
            chain = tuple(x509.Certificate.load(base64.b64decode(chain_data[k]))
                          for k in ("ca_cert", "root_cert") if chain_data.get(k))
            key = cert.public_key
            return RemoteCredential(
                credential_id=credential_id, certificate=cert, chain=chain,
                key_algorithm="ec" if key.algorithm == "ec" else "rsa",
                key_length=key.bit_size, sign_algorithms=("1.2.840.113549.1.1.11",),
                scal=2, multisign=BATCH, auth_mode="implicit",
                enabled=str(entry.get("cert_status", "1")).lower() not in
                ("0", "revoked", "inactive", "expired"),
                description=str(entry.get("serial_number", "")))
        raise CredentialUnavailable(credential_id)

    def authorize(self, credential_id: str, digests: list[bytes], secret: str | None = None,
                  otp: str | None = None, hash_algorithm: str = "sha256") -> Authorization:
        """Send the batch as one transaction and wait for the phone's confirmation."""
        if not digests or len(digests) > BATCH:
            raise HashCountMismatch(BATCH, len(digests))
        credential = self.credential(credential_id)
        started = dt.datetime.now(dt.UTC)
        answer = self._post("v1/signatures/sign", {
            **self._sp, "user_id": self.user_id, "transaction_id": str(uuid.uuid4()),
            "transaction_desc": f"Kyso: ký {len(digests)} văn bản",
            "serial_number": credential.description,
            "time_stamp": started.strftime("%Y%m%d%H%M%SZ"),
            "sign_files": [{"doc_id": str(i), "file_type": "pdf", "sign_type": "hash",
                            "data_to_be_signed": d.hex()} for i, d in enumerate(digests)]})
        if answer["_code"] != 200:
            raise RemoteAuthRefused(str(answer.get("message") or answer["_code"]))
        data = answer.get("data") or {}
        handle = str(data.get("tran_code") or data.get("transaction_id"))
        signatures = self._await_confirmation(handle, len(digests))
        with self._lock:
            self._signatures[handle] = signatures
        deadline = started + dt.timedelta(seconds=self.confirm_seconds)
        return Authorization(credential_id=credential_id, digests=tuple(digests),
                             hash_algorithm=hash_algorithm,
                             grants=(Grant(start=0, count=len(digests), handle=handle),),
                             expires_at=deadline)

    def _await_confirmation(self, handle: str, count: int) -> list[bytes]:
        deadline = time.monotonic() + self.confirm_seconds
        while True:
            answer = self._post(f"v1/signatures/sign/{handle}/status", {})
            message = str(answer.get("message") or "")
            if answer["_code"] != 200:
                if "expire" in message.lower() or "timeout" in message.lower():
                    raise PhoneConfirmationTimedOut(int(self.confirm_seconds))
                raise PhoneConfirmationRefused(message)
            if message.upper() == "SUCCESS":
                entries = (answer.get("data") or {}).get("signatures") or []
                by_doc = {str(e.get("doc_id")): base64.b64decode(e["signature_value"])
                          for e in entries}
                if sorted(by_doc) != sorted(str(i) for i in range(count)):
                    raise HashCountMismatch(count, len(by_doc))
                return [by_doc[str(i)] for i in range(count)]
            left = deadline - time.monotonic()
            if left <= 0:
                raise PhoneConfirmationTimedOut(int(self.confirm_seconds))
            if self.on_waiting is not None:
                self.on_waiting(left)
            time.sleep(min(self.poll_seconds, left))

    def sign_digests(self, authorization: Authorization, digests: list[bytes]) -> list[bytes]:
        """The signatures the confirmed transaction returned, for exactly its digests."""
        if not authorization.covers(digests):
            raise HashCountMismatch(len(authorization.digests), len(digests))
        (grant,) = authorization.grants
        with self._lock:
            signatures = self._signatures.pop(str(grant.handle), None)
        if signatures is None:
            signatures = self._await_confirmation(str(grant.handle), len(digests))
        return signatures
