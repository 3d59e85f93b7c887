"""Remote signing through the Cloud Signature Consortium API v2 (CSC v2.0.0.2).

:class:`CscProvider` is a small HTTP client (``httpx``, timeouts, TLS
verification on) for the calls Kyso needs: ``info``, ``oauth2/token``,
``credentials/list``, ``credentials/info``, ``credentials/sendOTP``,
``credentials/authorize`` and ``signatures/signHash``. One authorisation covers
a batch: SCAL 1 credentials are authorised for N signatures, SCAL 2 credentials
for exactly the N hashes sent; a batch larger than the credential's
``multisign`` is split into several authorisations (same PIN) and signing calls.

:class:`CscToken` puts one credential behind the :class:`~tokens.base.Token`
seam. pyHanko's own ``CSCSigner`` is not wrapped: it speaks CSC v1 request
fields (``hash``, ``hashAlgo``, PIN/OTP at the top level) whatever its
``api_ver`` says, so ours is a small ``Signer`` subclass that hashes and
calls ``signHash`` through :class:`CscProvider` (:func:`csc_signer`).

PINs, OTPs, SADs, client secrets and access tokens are passed through, never
kept beyond the call (or the token's cache lifetime) and never logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import logging
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
from asn1crypto import x509

from .base import Health, Token
from .errors import (
    CredentialUnavailable,
    HashCountMismatch,
    RemoteAuthRefused,
    RemoteServerError,
    RemoteSigningError,
    RemoteUnreachable,
    SadExpired,
    TokenError,
    WrongOtp,
    WrongPin,
)
from .remote import AuthMode, Authorization, Grant, RemoteCredential, RemoteSigningProvider

if TYPE_CHECKING:
    from pyhanko.sign.signers import Signer

log = logging.getLogger(__name__)

API = "csc/v2"
#: the version of the specification this client follows
SPEC = "2.0.0.2"

HASH_OIDS = {
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
}
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSASSA_PSS = "1.2.840.113549.1.1.10"
#: signature algorithms that do not name their hash (hashAlgorithmOID must be sent)
_HASH_NOT_IMPLIED = {RSA_ENCRYPTION, RSASSA_PSS}
#: A JSON object Kyso sends to the service (a request body).
JsonBody = dict[str, object]


@dataclass(frozen=True)
class CscAuth:
    """How the client authenticates to the service (the *service* authorisation).

    - :meth:`bearer`: an access token obtained elsewhere;
    - :meth:`client_credentials`: OAuth2 client credentials grant at ``oauth2/token``;
    - :meth:`authorization_code`: exchange an authorization code the person
      already obtained (``scope=service``), with PKCE when ``code_verifier`` is given.
    """

    kind: Literal["bearer", "client_credentials", "authorization_code"]
    token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    code: str | None = field(default=None, repr=False)
    redirect_uri: str | None = None
    code_verifier: str | None = field(default=None, repr=False)

    @classmethod
    def bearer(cls, token: str) -> CscAuth:
        return cls("bearer", token=token)

    @classmethod
    def client_credentials(cls, client_id: str, client_secret: str) -> CscAuth:
        return cls("client_credentials", client_id=client_id, client_secret=client_secret)

    @classmethod
    def authorization_code(cls, code: str, client_id: str, client_secret: str | None,
                           redirect_uri: str, code_verifier: str | None = None) -> CscAuth:
        return cls("authorization_code", code=code, client_id=client_id,
                   client_secret=client_secret, redirect_uri=redirect_uri,
                   code_verifier=code_verifier)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(size, n - start)) for start in range(0, n, size)]


def map_csc_error(status: int, body: object, credential_id: str = "") -> TokenError:
    """The Kyso error for a CSC error response ``{"error", "error_description"}``."""
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
    low = description.lower()
    if error == "invalid_pin":
        return WrongPin()
    if error == "invalid_otp":
        return WrongOtp()
    if "sad" in low and "expired" in low:
        return SadExpired()
    if "credentialid" in low and "invalid" in low:
        return CredentialUnavailable(credential_id)
    if "disabled" in low:
        return CredentialUnavailable(credential_id, disabled=True)
    if status == 401 or error in {"invalid_token", "invalid_client", "invalid_grant",
                                  "unauthorized_client", "access_denied"}:
        return RemoteAuthRefused(description or error)
    if "sad" in low or ("hash" in low and "authori" in low):
        return RemoteAuthRefused(description)
    return RemoteServerError(status, error, description or (str(body)[:200] if body else ""))


def _tls(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx's ``verify``: a CA bundle file or folder becomes an SSL context trusting it."""
    if not isinstance(verify, str):
        return verify
    if Path(verify).is_dir():
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def _digest_name(hash_algorithm: str) -> str:
    if hash_algorithm not in HASH_OIDS:
        raise RemoteSigningError(f"thuật toán băm không hỗ trợ: {hash_algorithm}",
                                 f"unsupported hash algorithm: {hash_algorithm}")
    return hash_algorithm


class CscProvider(RemoteSigningProvider):
    """A CSC API v2 service at ``base_url`` (the part before ``/csc/v2/``).

    The request and answer fields that differ between the API's versions are built and
    read by four hooks (:meth:`_info_request`, :meth:`_parse_info`,
    :meth:`_authorize_request`, :meth:`_sign_request`); :class:`tokens.csc_v1.CscV1Provider`
    overrides them for CSC v1.
    """

    #: the path of the API under the base URL
    api = API

    def __init__(self, base_url: str, auth: CscAuth, session: httpx.Client | None = None,
                 *, timeout: float = 30.0, verify: bool | str = True) -> None:
        """``verify``: TLS verification on (``True``), off, or the CA bundle file to verify
        with; it configures the client made here (a given ``session`` keeps its own)."""
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.verify = verify
        self.session = session or httpx.Client(verify=_tls(verify), follow_redirects=False)
        self._lock = threading.Lock()
        self._token: str | None = auth.token if auth.kind == "bearer" else None
        self._token_expires: dt.datetime | None = None
        self._info: dict[str, Any] | None = None
        self._credentials: dict[str, RemoteCredential] = {}

    # --- transport -------------------------------------------------------------------

    def _request(self, url: str, *, json: JsonBody | None = None,
                 data: Mapping[str, str] | None = None,
                 token: str | None = None, credential_id: str = "") -> Any:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.session.post(url, json=json, data=data, headers=headers,
                                         timeout=self.timeout, follow_redirects=False)
        except (httpx.NetworkError, httpx.TimeoutException, httpx.ProxyError) as exc:
            raise RemoteUnreachable(self.base_url) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise RemoteServerError(0, type(exc).__name__, str(exc)) from exc
        log.debug("CSC %s → HTTP %s", url.rsplit("/", 2)[-2:], response.status_code)
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise map_csc_error(response.status_code, body, credential_id)
        if response.status_code >= 300 or not isinstance(body, dict):
            raise RemoteServerError(response.status_code, "bad_response",
                                    "phản hồi không phải JSON / response is not JSON")
        return body

    def _call(self, method: str, body: JsonBody | None = None, *,
              token: str | None = None, credential_id: str = "") -> Any:
        return self._request(f"{self.base_url}/{self.api}/{method}", json=body or {},
                             token=token or self.access_token(), credential_id=credential_id)

    # --- service information and service authorisation ---------------------------------

    def info(self) -> dict[str, Any]:
        """The service's ``info`` (no authentication needed); cached."""
        if self._info is None:
            self._info = self._request(f"{self.base_url}/{self.api}/info", json={})
        return self._info

    def oauth2_url(self, endpoint: str) -> str:
        base = str(self.info().get("oauth2") or self.base_url).rstrip("/")
        return f"{base}/oauth2/{endpoint}"

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        body = self._request(self.oauth2_url("token"), data=form)
        if not isinstance(body.get("access_token"), str):
            raise RemoteServerError(200, "bad_response", "no access_token")
        return dict(body)

    def access_token(self) -> str | None:
        """The service access token, fetched (and renewed) as the auth mode says."""
        with self._lock:
            fresh = self._token_expires is None or _now() < self._token_expires
            if self._token and fresh:
                return self._token
            a = self.auth
            if a.kind == "bearer":
                return self._token
            if a.kind == "client_credentials":
                form = {"grant_type": "client_credentials", "client_id": a.client_id or "",
                        "client_secret": a.client_secret or ""}
            else:
                if a.code is None or (self._token and not fresh):
                    raise RemoteAuthRefused("authorization code used or expired / "
                                            "mã ủy quyền đã dùng hoặc hết hạn")
                form = {"grant_type": "authorization_code", "code": a.code,
                        "client_id": a.client_id or "", "redirect_uri": a.redirect_uri or ""}
                if a.client_secret:
                    form["client_secret"] = a.client_secret
                if a.code_verifier:
                    form["code_verifier"] = a.code_verifier
            body = self._token_request(form)
            self._token = str(body["access_token"])
            lifetime = int(body.get("expires_in", 3600))
            self._token_expires = _now() + dt.timedelta(seconds=max(lifetime - 5, 1))
            return self._token

    # --- credentials ----------------------------------------------------------------

    def credentials(self) -> list[str]:
        body = self._call("credentials/list", {"credentialInfo": False})
        return [str(c) for c in body.get("credentialIDs", [])]

    def credential(self, credential_id: str) -> RemoteCredential:
        if credential_id not in self._credentials:
            body = self._call("credentials/info", self._info_request(credential_id),
                              credential_id=credential_id)
            self._credentials[credential_id] = self._parse_info(credential_id, body)
        return self._credentials[credential_id]

    def _info_request(self, credential_id: str) -> JsonBody:
        return {"credentialID": credential_id, "certificates": "chain", "certInfo": True,
                "authInfo": True}

    def _parse_info(self, credential_id: str, body: dict[str, Any]) -> RemoteCredential:
        return _parse_credential(credential_id, body)

    def _authorize_request(self, cred: RemoteCredential, digests: list[bytes],
                           hash_algorithm: str, secret: str | None,
                           otp: str | None) -> JsonBody:
        body: JsonBody = {"credentialID": cred.credential_id,
                                "numSignatures": len(digests)}
        if cred.scal == 2:
            body["hashes"] = [_b64(d) for d in digests]
            body["hashAlgorithmOID"] = HASH_OIDS[hash_algorithm]
        auth_data = []
        if secret is not None:
            auth_data.append({"id": "PIN", "value": secret})
        if otp is not None:
            auth_data.append({"id": "OTP", "value": otp})
        if auth_data:
            body["authData"] = auth_data
        return body

    def _sign_request(self, credential_id: str, digests: list[bytes], algo: str,
                      hash_algorithm: str, params: bytes | None,
                      sad: str | None) -> JsonBody:
        body: JsonBody = {"credentialID": credential_id,
                                "hashes": [_b64(d) for d in digests],
                                "signAlgo": algo, "operationMode": "S"}
        if algo in _HASH_NOT_IMPLIED:
            body["hashAlgorithmOID"] = HASH_OIDS[hash_algorithm]
        if params is not None:
            body["signAlgoParams"] = _b64(params)
        if sad is not None:
            body["SAD"] = sad
        return body

    def send_otp(self, credential_id: str) -> None:
        """Ask the service to send the person an OTP (SMS, e-mail …) for this credential."""
        self._call("credentials/sendOTP", {"credentialID": credential_id},
                   credential_id=credential_id)

    def _usable(self, credential_id: str, n: int) -> RemoteCredential:
        cred = self.credential(credential_id)
        if not cred.enabled:
            raise CredentialUnavailable(credential_id, disabled=True)
        if n < 1:
            raise HashCountMismatch(1, 0)
        return cred

    # --- explicit authorisation (PIN / OTP) ----------------------------------------------

    def authorize(self, credential_id: str, digests: list[bytes], secret: str | None = None,
                  otp: str | None = None, hash_algorithm: str = "sha256") -> Authorization:
        cred = self._usable(credential_id, len(digests))
        hash_algorithm = _digest_name(hash_algorithm)
        if cred.auth_mode == "oauth2code":
            raise RemoteSigningError(
                "chứng thư này cần ủy quyền qua trang đăng nhập của dịch vụ (OAuth2)",
                "this credential is authorised through the service's sign-in page (OAuth2); "
                "use authorization_url() and authorize_with_code()")
        chunks = _chunks(len(digests), cred.multisign)
        if otp is not None and len(chunks) > 1:
            raise RemoteSigningError(
                f"một mã OTP chỉ ủy quyền tối đa {cred.multisign} chữ ký; lô có {len(digests)}",
                f"one OTP authorises at most {cred.multisign} signatures; the batch has "
                f"{len(digests)}")
        grants = []
        expiry = None
        for start, count in chunks:
            body = self._authorize_request(cred, digests[start:start + count], hash_algorithm,
                                           secret, otp)
            reply = self._call("credentials/authorize", body, credential_id=credential_id)
            sad = reply.get("SAD")
            if not isinstance(sad, str):
                raise RemoteServerError(200, "bad_response", "no SAD")
            until = _now() + dt.timedelta(seconds=int(reply.get("expiresIn", 3600)))
            expiry = until if expiry is None else min(expiry, until)
            grants.append(Grant(start=start, count=count, sad=sad))
        assert expiry is not None
        return Authorization(credential_id, tuple(digests), hash_algorithm, tuple(grants), expiry)

    # --- OAuth2 credential authorisation (authorization code) ----------------------------

    def authorization_url(self, credential_id: str, digests: list[bytes], *, client_id: str,
                          redirect_uri: str, state: str, code_challenge: str,
                          hash_algorithm: str = "sha256") -> str:
        """The ``oauth2/authorize`` address where the person authorises these digests."""
        cred = self._usable(credential_id, len(digests))
        if len(digests) > cred.multisign:
            raise HashCountMismatch(cred.multisign, len(digests))
        params = {
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
            "scope": "credential", "code_challenge": code_challenge,
            "code_challenge_method": "S256", "state": state, "credentialID": credential_id,
            "numSignatures": str(len(digests)),
            "hashes": ",".join(_b64url(d) for d in digests),
            "hashAlgorithmOID": HASH_OIDS[_digest_name(hash_algorithm)],
        }
        return f"{self.oauth2_url('authorize')}?{urllib.parse.urlencode(params)}"

    def authorize_with_code(self, credential_id: str, digests: list[bytes], code: str, *,
                            client_id: str, client_secret: str | None, redirect_uri: str,
                            code_verifier: str | None = None,
                            hash_algorithm: str = "sha256") -> Authorization:
        """Exchange the code the person obtained for a credential-scoped access token."""
        self._usable(credential_id, len(digests))
        form = {"grant_type": "authorization_code", "code": code, "client_id": client_id,
                "redirect_uri": redirect_uri}
        if client_secret:
            form["client_secret"] = client_secret
        if code_verifier:
            form["code_verifier"] = code_verifier
        body = self._token_request(form)
        until = _now() + dt.timedelta(seconds=int(body.get("expires_in", 3600)))
        grant = Grant(start=0, count=len(digests), access_token=str(body["access_token"]))
        return Authorization(credential_id, tuple(digests), _digest_name(hash_algorithm),
                             (grant,), until)

    # --- signing --------------------------------------------------------------------

    def default_sign_algorithm(self, cred: RemoteCredential, hash_algorithm: str) -> str:
        preferred = {
            ("rsa", "sha256"): "1.2.840.113549.1.1.11",
            ("rsa", "sha384"): "1.2.840.113549.1.1.12",
            ("rsa", "sha512"): "1.2.840.113549.1.1.13",
            ("ec", "sha256"): "1.2.840.10045.4.3.2",
            ("ec", "sha384"): "1.2.840.10045.4.3.3",
            ("ec", "sha512"): "1.2.840.10045.4.3.4",
        }.get((cred.key_algorithm, hash_algorithm))
        if preferred in cred.sign_algorithms:
            return preferred
        if cred.key_algorithm == "rsa" and RSA_ENCRYPTION in cred.sign_algorithms:
            return RSA_ENCRYPTION
        raise RemoteSigningError(
            f"khóa không hỗ trợ ký với {hash_algorithm}",
            f"the key offers no signature algorithm for {hash_algorithm}")

    def sign_digests(self, authorization: Authorization, digests: list[bytes], *,
                     sign_algorithm: str | None = None,
                     sign_algorithm_params: bytes | None = None) -> list[bytes]:
        if len(digests) != len(authorization.digests):
            raise HashCountMismatch(len(authorization.digests), len(digests))
        cid = authorization.credential_id
        cred = self._usable(cid, len(digests))
        algo = sign_algorithm or self.default_sign_algorithm(cred, authorization.hash_algorithm)
        signatures: list[bytes] = []
        for grant in authorization.grants:
            part = digests[grant.start:grant.start + grant.count]
            body = self._sign_request(cid, part, algo, authorization.hash_algorithm,
                                      sign_algorithm_params, grant.sad)
            reply = self._call("signatures/signHash", body, token=grant.access_token,
                               credential_id=cid)
            values = reply.get("signatures")
            if not isinstance(values, list) or len(values) != len(part):
                raise HashCountMismatch(len(part), len(values) if isinstance(values, list) else 0)
            try:
                signatures.extend(base64.b64decode(v, validate=True) for v in values)
            except (ValueError, TypeError) as exc:
                raise RemoteServerError(200, "bad_response", "signature not base64") from exc
        return signatures


def _parse_credential(credential_id: str, body: dict[str, Any]) -> RemoteCredential:
    try:
        key = body["key"]
        certs = [x509.Certificate.load(base64.b64decode(c))
                 for c in body["cert"]["certificates"]]
        auth = body.get("auth") or {"mode": "explicit", "objects": []}
        mode: AuthMode = auth["mode"] if auth["mode"] in ("explicit", "oauth2code",
                                                          "implicit") else "explicit"
        scal: Literal[1, 2] = 2 if str(body.get("SCAL", "1")) == "2" else 1
        algorithm = certs[0].public_key.algorithm
        return RemoteCredential(
            credential_id=credential_id,
            certificate=certs[0],
            chain=tuple(certs[1:]),
            key_algorithm="ec" if algorithm == "ec" else "rsa" if algorithm == "rsa"
            else str(algorithm),
            key_length=int(key.get("len", certs[0].public_key.bit_size)),
            sign_algorithms=tuple(str(a) for a in key.get("algo", [])),
            scal=scal,
            multisign=max(1, int(body.get("multisign", 1))),
            auth_mode=mode,
            auth_objects=tuple(str(o.get("id", "")) for o in auth.get("objects", [])),
            enabled=key.get("status", "enabled") == "enabled",
            description=str(body.get("description", "")),
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise RemoteServerError(200, "bad_response",
                                f"credentials/info không đọc được / unreadable: {exc}") from exc


class _Pin:
    """The PIN a CSC signer authorises with, until its token's block ends."""

    def __init__(self, value: str | None) -> None:
        self.value = value

    def forget(self) -> None:
        self.value = None


def csc_signer(provider: CscProvider, credential: RemoteCredential, pin: str | None,
               otp: Callable[[], str] | None = None) -> Signer:
    """A pyHanko ``Signer`` that authorises and signs each digest through ``provider``.

    Blocking HTTP calls run in the default executor, so the event loop keeps going.
    """
    return _csc_signer(provider, credential, _Pin(pin), otp)


def _csc_signer(provider: CscProvider, credential: RemoteCredential, pin: _Pin,
                otp: Callable[[], str] | None) -> Signer:
    from pyhanko.sign.signers import Signer
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    class _Signer(Signer):
        def __init__(self) -> None:
            registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
            registry.register_multiple(credential.chain)
            super().__init__(signing_cert=credential.certificate, cert_registry=registry)

        async def async_sign_raw(self, data: bytes, digest_algorithm: str,
                                 dry_run: bool = False) -> bytes:
            if dry_run:
                return bytes(max(512, credential.key_length // 8 + 16))
            digest = hashlib.new(digest_algorithm, data).digest()
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            params = mechanism["parameters"]
            params_der = params.dump() if params.native is not None else None
            one_time = otp() if otp is not None else None
            secret = pin.value

            def work() -> bytes:
                auth = provider.authorize(credential.credential_id, [digest], secret, one_time,
                                          digest_algorithm)
                (value,) = provider.sign_digests(
                    auth, [digest], sign_algorithm=mechanism["algorithm"].dotted,
                    sign_algorithm_params=params_der)
                return value

            return await asyncio.get_running_loop().run_in_executor(None, work)

    return _Signer()


class CscToken(Token):
    """One CSC credential behind the :class:`~tokens.base.Token` seam.

    ``signer(pin)`` yields a pyHanko signer that asks the service for one
    authorisation per signature (one-off signing). For batches, use
    :class:`CscProvider` directly: one ``authorize`` for all digests, then
    ``sign_digests``. ``otp`` is called for each signature when the credential
    wants an OTP.
    """

    def __init__(self, name: str, provider: CscProvider, credential_id: str,
                 otp: Callable[[], str] | None = None) -> None:
        self.name = name
        self.provider = provider
        self.credential_id = credential_id
        self.otp = otp

    @property
    def needs_pin(self) -> bool:
        try:
            return self.provider.credential(self.credential_id).needs_pin
        except TokenError:
            return True

    def health(self) -> Health:
        try:
            info = self.provider.info()
            cred = self.provider.credential(self.credential_id)
        except TokenError as exc:
            return Health(False, exc.one_line())
        if not cred.enabled:
            return Health(False, CredentialUnavailable(self.credential_id, True).one_line())
        name = cred.certificate.subject.native.get("common_name", "")
        return Health(True, f"CSC {info.get('specs', '?')} {info.get('name', '')} — "
                            f"{self.credential_id} ({name}, SCAL{cred.scal})")

    @contextlib.contextmanager
    def signer(self, pin: str | None) -> Iterator[Signer]:
        cred = self.provider.credential(self.credential_id)
        if not cred.enabled:
            raise CredentialUnavailable(self.credential_id, disabled=True)
        secret = _Pin(pin)
        try:
            yield _csc_signer(self.provider, cred, secret, self.otp)
        finally:
            secret.forget()
