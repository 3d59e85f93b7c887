"""A CSC API v2 (2.0.0.2) remote signing server for the tests, keys on SoftHSM.

Run as its own process on 127.0.0.1 (``tests/csc_fixtures.py`` starts it)::

    CSC_TOKEN_PIN=… SOFTHSM2_CONF=… python tests/support/csc_server.py config.json

certomancer-csc-dummy speaks only CSC v1 (no OAuth2, no ``authData``, keys in
certomancer), so this stands in for a real remote signing service: credentials
whose private keys are on SoftHSM tokens (signed with python-pkcs11), explicit
authorisation with PIN and/or OTP (``credentials/sendOTP`` "delivers" the OTP by
writing it to the outbox folder, as an SMS gateway would), SADs with an expiry
and a number of signatures, SCAL 2 binding of the SAD to the exact hashes,
OAuth2 client credentials and authorization code (with PKCE) at ``oauth2/token``,
and errors shaped as ``{"error", "error_description"}``.

It is a test double of a foreign service: it imports nothing from Kyso. The
token PIN comes from the environment; PINs, OTPs, SADs and tokens are not logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pkcs11
import uvicorn
from asn1crypto import algos, x509
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pkcs11 import MGF, Attribute, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ecdsa_signature
from starlette.concurrency import run_in_threadpool

SPECS = "2.0.0.2"
HASHES = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
          "2.16.840.1.101.3.4.2.3": "sha512"}
RSA_ALGOS = {"1.2.840.113549.1.1.11": "sha256", "1.2.840.113549.1.1.12": "sha384",
             "1.2.840.113549.1.1.13": "sha512", "1.2.840.113549.1.1.1": None,
             "1.2.840.113549.1.1.10": None}
EC_ALGOS = {"1.2.840.10045.4.3.2": "sha256", "1.2.840.10045.4.3.3": "sha384",
            "1.2.840.10045.4.3.4": "sha512"}
RSA_PSS = "1.2.840.113549.1.1.10"
OTP_LIFETIME = 300
TOKEN_LIFETIME = 3600


class CscError(Exception):
    def __init__(self, description: str, error: str = "invalid_request", status: int = 400):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass
class Credential:
    id: str
    token: str
    key_label: str
    chain: list[bytes]
    scal: int = 1
    multisign: int = 10
    auth: list[str] = field(default_factory=lambda: ["PIN"])
    mode: str = "explicit"
    sad_lifetime: int = 300
    enabled: bool = True
    description: str = ""


@dataclass
class Grant:
    credential_id: str | None  # None: a service access token
    remaining: int
    hashes: list[bytes] | None  # SCAL 2: what is still authorised
    expires: float


class Server:
    def __init__(self, config: dict[str, Any], pin: str) -> None:
        self.base_url: str = config["base_url"]
        self.outbox = Path(config["outbox"])
        self.clients: dict[str, str] = config["clients"]
        self.redirect_uris: list[str] = config.get("redirect_uris", [])
        self.users: dict[str, str] = config.get("users", {})
        self.credentials = {c["id"]: Credential(**{**c, "chain": [
            base64.b64decode(x) for x in c.get("chain", [])]}) for c in config["credentials"]}
        self._pin = pin
        self.lib = pkcs11.lib(config["module"])
        self.sessions: dict[str, Any] = {}
        self.locks: dict[str, threading.Lock] = {}
        self.lock = threading.Lock()
        self.tokens: dict[str, Grant] = {t: Grant(None, 0, None, float("inf"))
                                         for t in config.get("static_tokens", [])}
        self.sads: dict[str, Grant] = {}
        self.otps: dict[str, tuple[str, float]] = {}
        self.codes: dict[str, dict[str, Any]] = {}

    # --- keys on the tokens ----------------------------------------------------------

    def open(self) -> None:
        for cred in self.credentials.values():
            if cred.token not in self.sessions:
                token = self.lib.get_token(token_label=cred.token)
                self.sessions[cred.token] = token.open(user_pin=self._pin)
                self.locks[cred.token] = threading.Lock()

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()

    def certificate(self, cred: Credential) -> x509.Certificate:
        with self.locks[cred.token]:
            session = self.sessions[cred.token]
            (obj,) = list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE,
                                               Attribute.LABEL: cred.key_label}))
            return x509.Certificate.load(obj[Attribute.VALUE])

    def sign(self, cred: Credential, digest: bytes, sign_algo: str, hash_name: str,
             params: bytes | None) -> bytes:
        with self.locks[cred.token]:
            key = self.sessions[cred.token].get_key(object_class=ObjectClass.PRIVATE_KEY,
                                                    label=cred.key_label)
            if sign_algo in EC_ALGOS:
                return bytes(encode_ecdsa_signature(key.sign(digest, mechanism=Mechanism.ECDSA)))
            if sign_algo == RSA_PSS:
                if params is None:
                    raise CscError("Missing parameter signAlgoParams")
                pss = algos.RSASSAPSSParams.load(params)
                name = pss["hash_algorithm"]["algorithm"].native
                mech = {"sha256": (Mechanism.SHA256, MGF.SHA256),
                        "sha384": (Mechanism.SHA384, MGF.SHA384),
                        "sha512": (Mechanism.SHA512, MGF.SHA512)}[name]
                return bytes(key.sign(digest, mechanism=Mechanism.RSA_PKCS_PSS,
                                      mechanism_param=(*mech, pss["salt_length"].native)))
            info = algos.DigestInfo({"digest_algorithm": {"algorithm": hash_name},
                                     "digest": digest}).dump()
            return bytes(key.sign(info, mechanism=Mechanism.RSA_PKCS))

    # --- authentication of the client ----------------------------------------------

    def grant_of(self, request: Request) -> Grant:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise CscError("Missing access token", "invalid_token", 401)
        grant = self.tokens.get(header[7:].strip())
        if grant is None:
            raise CscError("The access token is not valid", "invalid_token", 401)
        if grant.expires < time.time():
            raise CscError("The access token expired", "invalid_token", 401)
        return grant

    def issue_token(self, grant: Grant) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = grant
        return token

    def credential(self, body: dict[str, Any], usable: bool = True) -> Credential:
        cred = self.credentials.get(str(body.get("credentialID", "")))
        if cred is None:
            raise CscError("Invalid parameter credentialID")
        if usable and not cred.enabled:
            raise CscError("The signing key is disabled")
        return cred

    # --- responses ------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {
            "specs": SPECS, "name": "Kyso CSC v2 test server (SoftHSM)", "logo": "",
            "region": "VN", "lang": "vi-VN",
            "description": "Dịch vụ ký số từ xa thử nghiệm — test remote signing service",
            "authType": ["oauth2client", "oauth2code"], "oauth2": self.base_url,
            "oauth2Issuer": self.base_url, "asynchronousOperationMode": False,
            "methods": ["credentials/list", "credentials/info", "credentials/authorize",
                        "credentials/sendOTP", "signatures/signHash", "oauth2/authorize",
                        "oauth2/token"],
            "validationInfo": False,
            "signAlgorithms": {"algos": sorted({*RSA_ALGOS, *EC_ALGOS})},
        }

    def credential_info(self, cred: Credential, body: dict[str, Any]) -> dict[str, Any]:
        cert = self.certificate(cred)
        ec = cert.public_key.algorithm == "ec"
        key: dict[str, Any] = {"status": "enabled" if cred.enabled else "disabled",
                               "algo": sorted(EC_ALGOS if ec else RSA_ALGOS),
                               "len": cert.public_key.bit_size}
        if ec:
            key["curve"] = cert.public_key["algorithm"]["parameters"].chosen.dotted
        which = body.get("certificates", "single")
        ders = {"none": [], "single": [cert.dump()], "chain": [cert.dump(), *cred.chain]}.get(
            str(which))
        if ders is None:
            raise CscError("Invalid parameter certificates")
        validity = cert["tbs_certificate"]["validity"]
        not_after = validity["not_after"].native
        out: dict[str, Any] = {
            "description": cred.description, "key": key,
            "cert": {"status": "valid" if not_after > dt.datetime.now(dt.UTC) else "expired",
                     "certificates": [base64.b64encode(d).decode() for d in ders]},
            "SCAL": str(cred.scal), "multisign": cred.multisign, "lang": "vi-VN",
        }
        if body.get("certInfo"):
            stamp = "%Y%m%d%H%M%SZ"
            out["cert"].update({
                "issuerDN": cert.issuer.human_friendly,
                "serialNumber": format(cert.serial_number, "x"),
                "subjectDN": cert.subject.human_friendly,
                "validFrom": validity["not_before"].native.strftime(stamp),
                "validTo": not_after.strftime(stamp)})
        if body.get("authInfo"):
            objects = []
            if "PIN" in cred.auth:
                objects.append({"type": "Password", "id": "PIN", "format": "N",
                                "label": "PIN", "description": "Mã PIN ký số"})
            if "OTP" in cred.auth:
                objects.append({"type": "Password", "id": "OTP", "format": "N",
                                "generator": "sendOTP", "label": "OTP",
                                "description": "Mã OTP gửi qua tin nhắn"})
            out["auth"] = {"mode": cred.mode, "expression": " AND ".join(cred.auth),
                           "objects": objects} if cred.mode == "explicit" else {
                "mode": cred.mode}
        return out

    def check_factors(self, cred: Credential, pin: str | None, otp: str | None) -> None:
        if "PIN" in cred.auth:
            if pin is None:
                raise CscError("Missing parameter PIN")
            if not hmac.compare_digest(pin.encode(), self._pin.encode()):
                raise CscError("The PIN is invalid", "invalid_pin")
        if "OTP" in cred.auth:
            sent = self.otps.get(cred.id)
            if otp is None or sent is None or sent[1] < time.time() or not hmac.compare_digest(
                    otp.encode(), sent[0].encode()):
                raise CscError("The OTP is invalid", "invalid_otp")
            del self.otps[cred.id]  # one use

    def authorize(self, body: dict[str, Any]) -> dict[str, Any]:
        cred = self.credential(body)
        if cred.mode != "explicit":
            raise CscError("The credential is authorised through oauth2/authorize")
        n = body.get("numSignatures")
        if not isinstance(n, int) or n < 1:
            raise CscError("Invalid parameter numSignatures")
        if n > cred.multisign:
            raise CscError("Numbers of signatures is too high")
        hashes = _hashes(body.get("hashes"))
        if cred.scal == 2:
            if hashes is None:
                raise CscError("Missing parameter hashes")
            if str(body.get("hashAlgorithmOID")) not in HASHES:
                raise CscError("Invalid parameter hashAlgorithmOID")
        if hashes is not None and len(hashes) != n:
            raise CscError("Invalid parameter hashes: count differs from numSignatures")
        data = {str(d.get("id")): str(d.get("value")) for d in body.get("authData") or []
                if isinstance(d, dict)}
        self.check_factors(cred, data.get("PIN"), data.get("OTP"))
        sad = secrets.token_urlsafe(32)
        self.sads[sad] = Grant(cred.id, n, hashes if cred.scal == 2 else None,
                               time.time() + cred.sad_lifetime)
        return {"SAD": sad, "expiresIn": cred.sad_lifetime}

    def send_otp(self, body: dict[str, Any]) -> None:
        cred = self.credential(body)
        if "OTP" not in cred.auth:
            raise CscError("The credential does not use an OTP")
        otp = f"{secrets.randbelow(10**6):06d}"
        self.otps[cred.id] = (otp, time.time() + OTP_LIFETIME)
        self.outbox.mkdir(parents=True, exist_ok=True)
        (self.outbox / f"{cred.id.replace('/', '_')}.otp").write_text(otp)

    def sign_hash(self, body: dict[str, Any], token_grant: Grant) -> dict[str, Any]:
        cred = self.credential(body)
        if token_grant.credential_id is not None:
            if token_grant.credential_id != cred.id:
                raise CscError("The access token is not valid for this credential",
                               "invalid_token", 401)
            grant = token_grant
        else:
            sad = body.get("SAD")
            if not isinstance(sad, str):
                raise CscError("Missing parameter SAD")
            found = self.sads.get(sad)
            if found is None or found.credential_id != cred.id:
                raise CscError("Invalid parameter SAD")
            if found.expires < time.time():
                del self.sads[sad]
                raise CscError("SAD expired")
            grant = found
        hashes = _hashes(body.get("hashes"))
        if not hashes:
            raise CscError("Missing parameter hashes")
        if len(hashes) > cred.multisign:
            raise CscError("Numbers of signatures is too high")
        if len(hashes) > grant.remaining:
            raise CscError("The SAD does not authorise so many signatures")
        if grant.hashes is not None and any(h not in grant.hashes for h in hashes):
            raise CscError("Hash not authorized by the SAD")
        algo = str(body.get("signAlgo", ""))
        cert = self.certificate(cred)
        table = EC_ALGOS if cert.public_key.algorithm == "ec" else RSA_ALGOS
        if algo not in table:
            raise CscError("Invalid parameter signAlgo")
        hash_name = table[algo] or HASHES.get(str(body.get("hashAlgorithmOID")))
        if algo == RSA_PSS and body.get("signAlgoParams"):
            pss = algos.RSASSAPSSParams.load(base64.b64decode(body["signAlgoParams"]))
            hash_name = pss["hash_algorithm"]["algorithm"].native
        if hash_name is None:
            raise CscError("Invalid parameter hashAlgorithmOID")
        size = hashlib.new(hash_name).digest_size
        if any(len(h) != size for h in hashes):
            raise CscError("Invalid digest value length")
        params = base64.b64decode(body["signAlgoParams"]) if body.get("signAlgoParams") else None
        signatures = [self.sign(cred, h, algo, hash_name, params) for h in hashes]
        grant.remaining -= len(hashes)
        if grant.hashes is not None:
            for h in hashes:
                grant.hashes.remove(h)
        if grant.remaining <= 0 and grant.credential_id is not None:
            self.sads = {k: v for k, v in self.sads.items() if v is not grant}
            self.tokens = {k: v for k, v in self.tokens.items() if v is not grant}
        return {"signatures": [base64.b64encode(s).decode() for s in signatures]}

    # --- OAuth2 ---------------------------------------------------------------------

    def check_authorize_request(self, q: dict[str, str]) -> Credential | None:
        if q.get("response_type") != "code" or q.get("client_id") not in self.clients:
            raise CscError("Invalid client or response_type", "unauthorized_client")
        if q.get("redirect_uri") not in self.redirect_uris:
            raise CscError("Invalid parameter redirect_uri")
        if q.get("scope") == "service":
            return None
        if q.get("scope") != "credential":
            raise CscError("Invalid parameter scope", "invalid_scope")
        cred = self.credential({"credentialID": q.get("credentialID")})
        if cred.mode != "oauth2code":
            raise CscError("The credential is not authorised through OAuth2")
        n = int(q.get("numSignatures", "0") or 0)
        hashes = [_unb64url(h) for h in q.get("hashes", "").split(",") if h]
        if not 1 <= n <= cred.multisign or (cred.scal == 2 and len(hashes) != n):
            raise CscError("Invalid parameter numSignatures or hashes")
        return cred

    def login_form(self, q: dict[str, str], cred: Credential | None, message: str = "") -> str:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in q.items())
        if cred is None:
            fields = ('<input name="username" placeholder="Tên đăng nhập">'
                      '<input name="password" type="password" placeholder="Mật khẩu">')
        else:
            fields = '<input name="PIN" type="password" inputmode="numeric" placeholder="PIN">'
        return (f"<!doctype html><meta charset=utf-8><title>Ủy quyền ký</title>"
                f"<p>{html.escape(message)}</p><form method=post>{hidden}{fields}"
                f"<button>Đồng ý</button></form>")

    def approve(self, form: dict[str, str]) -> str:
        q = {k: v for k, v in form.items() if k not in {"PIN", "username", "password"}}
        cred = self.check_authorize_request(q)
        if cred is None:
            user, password = form.get("username", ""), form.get("password", "")
            known = self.users.get(user)
            if known is None or not hmac.compare_digest(known.encode(), password.encode()):
                raise CscError("Wrong user name or password", "access_denied", 403)
        else:
            self.check_factors(cred, form.get("PIN"), None)
        code = secrets.token_urlsafe(24)
        self.codes[code] = {**q, "expires": time.time() + 120}
        query = urllib.parse.urlencode({"code": code, "state": q.get("state", "")})
        return f"{q['redirect_uri']}?{query}"

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        kind = form.get("grant_type")
        client, secret = form.get("client_id", ""), form.get("client_secret")
        if client not in self.clients:
            raise CscError("Unknown client", "invalid_client", 401)
        if secret is not None and not hmac.compare_digest(secret.encode(),
                                                          self.clients[client].encode()):
            raise CscError("Wrong client secret", "invalid_client", 401)
        if kind == "client_credentials":
            if secret is None:
                raise CscError("Missing client_secret", "invalid_client", 401)
            grant = Grant(None, 0, None, time.time() + TOKEN_LIFETIME)
        elif kind == "authorization_code":
            saved = self.codes.pop(form.get("code", ""), None)
            if saved is None or saved["expires"] < time.time() or saved["client_id"] != client \
                    or saved["redirect_uri"] != form.get("redirect_uri"):
                raise CscError("Invalid or expired authorization code", "invalid_grant")
            challenge = saved.get("code_challenge")
            if challenge:
                verifier = form.get("code_verifier", "")
                if _b64url(hashlib.sha256(verifier.encode()).digest()) != challenge:
                    raise CscError("Invalid code_verifier", "invalid_grant")
            elif secret is None:
                raise CscError("Missing client_secret", "invalid_client", 401)
            if saved.get("scope") == "credential":
                cred = self.credentials[saved["credentialID"]]
                hashes = [_unb64url(h) for h in saved.get("hashes", "").split(",") if h]
                grant = Grant(cred.id, int(saved["numSignatures"]),
                              hashes if cred.scal == 2 else None,
                              time.time() + cred.sad_lifetime)
            else:
                grant = Grant(None, 0, None, time.time() + TOKEN_LIFETIME)
        else:
            raise CscError("Unsupported grant_type", "unsupported_grant_type")
        lifetime = max(1, int(grant.expires - time.time()))
        out: dict[str, Any] = {"access_token": self.issue_token(grant), "token_type": "Bearer",
                               "expires_in": lifetime}
        if grant.credential_id:
            out["credentialID"] = grant.credential_id
        return out


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise CscError("Invalid parameter hashes") from exc


def _hashes(value: Any) -> list[bytes] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise CscError("Invalid parameter hashes")
    try:
        return [base64.b64decode(h, validate=True) for h in value]
    except (ValueError, TypeError) as exc:
        raise CscError("Invalid Base64 hashes string parameter") from exc


def create_app(server: Server) -> FastAPI:
    app = FastAPI(title="CSC v2 test server", openapi_url=None, docs_url=None)

    @app.exception_handler(CscError)
    async def _error(_: Request, exc: CscError) -> JSONResponse:
        return JSONResponse({"error": exc.error, "error_description": exc.description},
                            status_code=exc.status)

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise CscError("The request body is not JSON") from exc
        if not isinstance(body, dict):
            raise CscError("The request body is not a JSON object")
        return body

    @app.post("/csc/v2/info")
    async def info() -> dict[str, Any]:
        return server.info()

    @app.post("/csc/v2/credentials/list")
    async def credentials_list(request: Request) -> dict[str, Any]:
        server.grant_of(request)
        body = await body_of(request)
        ids = [c.id for c in server.credentials.values()
               if c.enabled or not body.get("onlyValid")]
        out: dict[str, Any] = {"credentialIDs": ids}
        if body.get("credentialInfo"):
            out["credentialInfos"] = [
                {"credentialID": i, **await run_in_threadpool(
                    server.credential_info, server.credentials[i], body)} for i in ids]
        return out

    @app.post("/csc/v2/credentials/info")
    async def credentials_info(request: Request) -> dict[str, Any]:
        server.grant_of(request)
        body = await body_of(request)
        cred = server.credential(body, usable=False)
        return await run_in_threadpool(server.credential_info, cred, body)

    @app.post("/csc/v2/credentials/authorize")
    async def credentials_authorize(request: Request) -> dict[str, Any]:
        if server.grant_of(request).credential_id is not None:
            raise CscError("A service access token is required", "invalid_token", 401)
        return server.authorize(await body_of(request))

    @app.post("/csc/v2/credentials/sendOTP")
    async def send_otp(request: Request) -> Response:
        server.grant_of(request)
        server.send_otp(await body_of(request))
        return Response(status_code=204)

    @app.post("/csc/v2/signatures/signHash")
    async def sign_hash(request: Request) -> dict[str, Any]:
        grant = server.grant_of(request)
        body = await body_of(request)
        if body.get("operationMode", "S") != "S":
            raise CscError("Asynchronous operation mode is not supported")
        return await run_in_threadpool(server.sign_hash, body, grant)

    @app.get("/oauth2/authorize")
    async def oauth2_authorize(request: Request) -> HTMLResponse:
        q = dict(request.query_params)
        return HTMLResponse(server.login_form(q, server.check_authorize_request(q)))

    @app.post("/oauth2/authorize")
    async def oauth2_approve(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        return RedirectResponse(server.approve(form), status_code=302)

    @app.post("/oauth2/token")
    async def oauth2_token(request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        return JSONResponse(server.token(form), headers={"Cache-Control": "no-store"})

    return app


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    server = Server(config, os.environ["CSC_TOKEN_PIN"])
    server.open()
    port = urllib.parse.urlsplit(server.base_url).port or 443
    try:
        uvicorn.run(create_app(server), host="127.0.0.1", port=port, log_level="warning",
                    access_log=False)
    finally:
        server.close()


if __name__ == "__main__":
    main(sys.argv[1])
