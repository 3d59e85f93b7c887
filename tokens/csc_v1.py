"""Remote signing through the Cloud Signature Consortium API v1 (CSC v1.0.4.0).

Services in Vietnam (e.g. Viettel MySign) expose the v1 paths
``…/csc/v1/credentials/list``, ``/credentials/info``, ``/credentials/authorize`` and
``/signatures/signHash``. :class:`CscV1Provider` is :class:`~tokens.csc.CscProvider`
with the v1 fields; the flow, the batching by ``multisign``, the service
authorisation (bearer token or ``oauth2/token``) and the errors are the same.

What differs from v2, and is all this module changes:

- ``credentials/info``: asked with ``certInfo`` false (the certificate is parsed here);
  the answer names the mode as ``authMode`` and the factors as ``PIN.presence`` /
  ``OTP.presence`` (``"true"``, ``"false"``, ``"optional"``) instead of ``auth``;
- ``credentials/authorize``: the hashes as ``hash`` (no hash OID), the factors as
  top-level ``PIN`` and ``OTP`` instead of ``authData``;
- ``signatures/signHash``: the hashes as ``hash``, the digest OID as ``hashAlgo``, no
  ``operationMode``.
"""

from __future__ import annotations

from typing import Any, Literal

from .csc import _HASH_NOT_IMPLIED, HASH_OIDS, CscProvider, JsonBody, _b64, _parse_credential
from .remote import RemoteCredential

__all__ = ["API_V1", "CscV1Provider"]

API_V1 = "csc/v1"


class CscV1Provider(CscProvider):
    """A CSC API v1 service at ``base_url`` (the part before ``/csc/v1/``)."""

    api = API_V1

    def _info_request(self, credential_id: str) -> JsonBody:
        return {"credentialID": credential_id, "certificates": "chain", "certInfo": False,
                "authInfo": True}

    def _parse_info(self, credential_id: str, body: dict[str, Any]) -> RemoteCredential:
        objects = [name for name in ("PIN", "OTP")
                   if str((body.get(name) or {}).get("presence", "false")).lower() == "true"]
        mode = str(body.get("authMode", "explicit"))
        scal: Literal["1", "2"] = "2" if str(body.get("SCAL", "1")) == "2" else "1"
        v2_shaped = {**body, "SCAL": scal,
                     "auth": {"mode": mode, "objects": [{"id": o} for o in objects]}}
        return _parse_credential(credential_id, v2_shaped)

    def _authorize_request(self, cred: RemoteCredential, digests: list[bytes],
                           hash_algorithm: str, secret: str | None,
                           otp: str | None) -> JsonBody:
        body: JsonBody = {"credentialID": cred.credential_id,
                                "numSignatures": len(digests)}
        if cred.scal == 2:
            body["hash"] = [_b64(d) for d in digests]
        if secret is not None:
            body["PIN"] = secret
        if otp is not None:
            body["OTP"] = otp
        return body

    def _sign_request(self, credential_id: str, digests: list[bytes], algo: str,
                      hash_algorithm: str, params: bytes | None,
                      sad: str | None) -> JsonBody:
        body: JsonBody = {"credentialID": credential_id,
                                "hash": [_b64(d) for d in digests], "signAlgo": algo}
        if algo in _HASH_NOT_IMPLIED:
            body["hashAlgo"] = HASH_OIDS[hash_algorithm]
        if params is not None:
            body["signAlgoParams"] = _b64(params)
        if sad is not None:
            body["SAD"] = sad
        return body
