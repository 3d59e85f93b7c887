"""Why an official "cannot sign": token diagnostics behind `kyso doctor`.

Each check is a plain function returning a :class:`Check` — passed, failed or
skipped (``ok is None``) — that says in Vietnamese and English what was found
and, when something is wrong, what the person should do next. Nothing here
prints, logs in or asks for a PIN: the token is only read (slots, token flags,
public certificate objects), so running the doctor never spends a PIN try.

:func:`run_checks` runs them in order and skips a check whose premise failed
(no module → no token → no certificate …), saying why.

Revocation answers (OCSP, CRL) are read to tell *reachable* from *unreachable*
and to spot a revoked certificate; their signatures are not verified here —
that is the validator's job when signing (``signer.check_signer_certificate``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import hashlib
import json
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509

from certs import Origin, TrustStore, validation_context

from .errors import TokenError
from .pkcs11 import load_module, map_error, token_certificates


@dataclass(frozen=True)
class ModuleCandidate:
    """Where a token vendor's installer usually puts its PKCS#11 module."""

    vendor: str
    path: str


_SYSTEM32 = "C:\\Windows\\System32\\"

#: Common default locations of PKCS#11 modules on officials' PCs, most specific first.
#: These are COMMON PATHS seen in vendors' installers and integrators' code, not a
#: guarantee: a vendor may install elsewhere — pass the real path (``--module``).
#: Most Vietnamese CAs' USB tokens are rebranded Feitian/SafeNet/SecureMetric devices.
WINDOWS_MODULES: tuple[ModuleCandidate, ...] = (
    ModuleCandidate("VNPT-CA", _SYSTEM32 + "vnpt-ca_csp11.dll"),
    ModuleCandidate("VNPT-CA", _SYSTEM32 + "vnptca_p11_v8.dll"),
    ModuleCandidate("VNPT-CA", _SYSTEM32 + "vnpt-ca_v34.dll"),
    ModuleCandidate("Viettel-CA", _SYSTEM32 + "viettel-ca_v6.dll"),
    ModuleCandidate("Viettel-CA", _SYSTEM32 + "viettel-ca_v5.dll"),
    ModuleCandidate("Viettel-CA", _SYSTEM32 + "viettel-ca.dll"),
    ModuleCandidate("BkavCA", _SYSTEM32 + "BkavCA.dll"),
    ModuleCandidate("BkavCA", _SYSTEM32 + "BkavCAv2S.dll"),
    ModuleCandidate("FPT-CA", _SYSTEM32 + "fpt-ca.dll"),
    ModuleCandidate("FPT-CA", _SYSTEM32 + "fpt-ca_v5.dll"),
    ModuleCandidate("Vina-CA", _SYSTEM32 + "vina-ca_v5.dll"),
    ModuleCandidate("Vina-CA", _SYSTEM32 + "Vina-CA.dll"),
    ModuleCandidate("CA2 (Nacencomm)", _SYSTEM32 + "CA2_csp11.dll"),
    ModuleCandidate("Feitian ePass2003", _SYSTEM32 + "eps2003csp11.dll"),
    ModuleCandidate("SafeNet eToken", _SYSTEM32 + "eTPKCS11.dll"),
    ModuleCandidate("OpenSC",
                    "C:\\Program Files\\OpenSC Project\\OpenSC\\pkcs11\\opensc-pkcs11.dll"),
)
LINUX_MODULES: tuple[ModuleCandidate, ...] = (
    ModuleCandidate("Feitian ePass2003", "/usr/lib/libcastle.so.1.0.0"),
    ModuleCandidate("SafeNet eToken", "/usr/lib/libeTPkcs11.so"),
    ModuleCandidate("OpenSC", "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"),
    ModuleCandidate("OpenSC", "/usr/lib/opensc-pkcs11.so"),
    ModuleCandidate("SoftHSM (demo)", "/usr/lib/softhsm/libsofthsm2.so"),
    ModuleCandidate("SoftHSM (demo)", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"),
)


def common_module_paths(platform: str = sys.platform) -> tuple[ModuleCandidate, ...]:
    """The common module locations for ``platform`` (``sys.platform`` spelling)."""
    return WINDOWS_MODULES if platform.startswith("win") else LINUX_MODULES


def find_module(candidates: Sequence[ModuleCandidate]) -> ModuleCandidate | None:
    """The first candidate whose file exists."""
    return next((c for c in candidates if Path(c.path).is_file()), None)


#: What each check is called in the table: name → (Vietnamese, English).
TITLES: dict[str, tuple[str, str]] = {
    "module": ("Thư viện PKCS#11 của thiết bị", "PKCS#11 module"),
    "token": ("USB token đang cắm", "token present"),
    "pin": ("Mã PIN chưa bị khóa", "PIN not locked"),
    "certificate": ("Chứng thư số trên token còn hạn", "certificate on the token, unexpired"),
    "chain": ("Chứng thư do CA được tin cậy cấp", "chain reaches a trusted root"),
    "revocation": ("Kiểm tra thu hồi (OCSP/CRL)", "revocation check (OCSP/CRL)"),
    "service": ("Kết nối tới dịch vụ Kyso", "Kyso service reachable"),
    "clock": ("Đồng hồ máy tính", "computer clock"),
    "registered": ("Chứng thư đúng chứng thư đã đăng ký", "certificate is the registered one"),
}
CHECK_ORDER = tuple(TITLES)

RETRY_VI = "rồi chạy lại kiểm tra"
RETRY_EN = "then run the check again"
ASK_REGISTRY_VI = "Liên hệ văn thư/quản trị để đăng ký chứng thư mới"
ASK_REGISTRY_EN = "Ask the records clerk/administrator to register the new certificate"


@dataclass(frozen=True)
class Check:
    """The outcome of one check. ``ok``: True passed, False failed, None skipped.

    ``warning`` marks a pass that needs attention soon (few PIN tries left, a
    certificate expiring within 30 days); the next step then says what to do.
    """

    name: str
    ok: bool | None
    vi: str
    en: str
    next_step_vi: str = ""
    next_step_en: str = ""
    detail: str = ""
    warning: bool = False

    @property
    def title_vi(self) -> str:
        return TITLES.get(self.name, (self.name, self.name))[0]

    @property
    def title_en(self) -> str:
        return TITLES.get(self.name, (self.name, self.name))[1]


def _fail(name: str, vi: str, en: str, next_vi: str, next_en: str, detail: str = "") -> Check:
    return Check(name, False, vi, en, next_vi, next_en, detail)


def _skip(name: str, vi: str, en: str) -> Check:
    return Check(name, None, f"Bỏ qua: {vi}", f"Skipped: {en}")


@dataclass(frozen=True)
class DoctorConfig:
    """What to check. Every field is optional; what is not given is looked for or skipped.

    ``module``: the PKCS#11 module path (else the first of ``candidates`` found);
    ``token_label``: which token (else the only one, or the one holding a
    registered certificate); ``trust``: the trust store for the chain check;
    ``service_url``: the Kyso service (its ``/api/v1/health`` and ``Date``);
    ``registered``: SHA-256 fingerprints of the person's registered certificates;
    ``now``: the moment the certificate's validity is judged at (default: now).
    """

    module: str | None = None
    token_label: str | None = None
    trust: TrustStore | None = None
    service_url: str | None = None
    registered: Collection[str] | None = None
    candidates: Sequence[ModuleCandidate] = field(default_factory=common_module_paths)
    timeout: float = 3.0
    clock_tolerance: dt.timedelta = dt.timedelta(minutes=5)
    expiry_warning: dt.timedelta = dt.timedelta(days=30)
    now: dt.datetime | None = None


if TYPE_CHECKING:
    import pkcs11
    from pkcs11._pkcs11 import lib as Pkcs11Lib  # the module object pkcs11.lib() returns

# --- the module, the token, its PIN flags, its certificate ---------------------------------

def check_module(path: str | None,
                 candidates: Sequence[ModuleCandidate] = ()) -> tuple[Check, Pkcs11Lib | None]:
    """The module file exists and loads; returns the check and the loaded module (or None)."""
    install_vi = ("Cài phần mềm (driver) USB token của nhà cung cấp chứng thư (VNPT-CA, "
                  "Viettel-CA, BkavCA, FPT-CA, Vina-CA…) hoặc chỉ đúng đường dẫn thư viện "
                  f"bằng --module, {RETRY_VI}")
    install_en = ("Install the token driver from your CA (VNPT-CA, Viettel-CA, BkavCA, FPT-CA, "
                  f"Vina-CA…) or give the module's path with --module, {RETRY_EN}")
    if path is None:
        found = find_module(candidates)
        if found is None:
            looked = "; ".join(c.path for c in candidates)
            return _fail("module", "Không tìm thấy thư viện PKCS#11 ở các vị trí thường gặp",
                         "No PKCS#11 module at the common locations", install_vi, install_en,
                         f"đã tìm / looked in: {looked}"), None
        path, vendor = found.path, found.vendor
    else:
        vendor = ""
    if not Path(path).is_file():
        return _fail("module", f"Không có tệp thư viện {path}", f"No module file {path}",
                     install_vi, install_en), None
    try:
        lib = load_module(path)
    except TokenError as exc:
        cause = exc.__cause__
        return _fail("module", f"Không nạp được thư viện {path}", f"Cannot load module {path}",
                     install_vi, install_en,
                     f"{type(cause).__name__}: {cause}" if cause else exc.en), None
    about = " ".join(s for s in (vendor, str(getattr(lib, "manufacturer_id", "")).strip(),
                                 str(getattr(lib, "library_description", "")).strip()) if s)
    return Check("module", True, f"Đã nạp {path}", f"Loaded {path}", detail=about), lib


def _present_tokens(lib: Pkcs11Lib) -> list[pkcs11.Token]:
    from pkcs11 import PKCS11Error

    try:
        tokens = [slot.get_token() for slot in lib.get_slots(token_present=True)]
    except PKCS11Error as exc:
        raise map_error(exc) from exc
    return [t for t in tokens if t.label]  # SoftHSM's spare slot has an uninitialised token


def _certificates(token: pkcs11.Token) -> list[x509.Certificate]:
    from pkcs11 import PKCS11Error

    try:
        with token.open() as session:  # public objects: no login
            return [cert for cert, _, _ in token_certificates(session)]
    except (PKCS11Error, ValueError) as exc:  # a token error, or a certificate's bad DER
        raise map_error(exc) from exc


def _sha256(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def check_token(lib: Pkcs11Lib, label: str | None,
                registered: Collection[str] | None = None) -> tuple[Check, pkcs11.Token | None]:
    """A token is present (the one named ``label``, else the only one, else the one
    holding a registered certificate); returns the check and the token (or None)."""
    try:
        tokens = _present_tokens(lib)
    except TokenError as exc:
        return _fail("token", "Thư viện không liệt kê được khe cắm token",
                     "The module cannot list its slots",
                     f"Rút USB token ra, cắm lại, {RETRY_VI}", f"Unplug and replug the token, "
                     f"{RETRY_EN}", exc.en), None
    labels = ", ".join(f"'{t.label}'" for t in tokens) or "—"
    if not tokens:
        return _fail("token", "Không thấy USB token nào", "No token is plugged in",
                     f"Cắm lại USB token (thử cổng USB khác) {RETRY_VI}",
                     f"Plug the USB token in again (try another USB port), {RETRY_EN}"), None
    chosen: pkcs11.Token | None = None
    if label is not None:
        chosen = next((t for t in tokens if t.label == label), None)
        if chosen is None:
            return _fail("token", f"Không thấy token '{label}'", f"Token '{label}' not found",
                         f"Cắm đúng USB token của mình rồi cắm lại, {RETRY_VI}",
                         f"Plug in your own USB token, {RETRY_EN}",
                         f"token đang cắm / tokens present: {labels}"), None
    elif len(tokens) == 1:
        chosen = tokens[0]
    elif registered:
        wanted = {s.lower() for s in registered}
        holding = [t for t in tokens if any(_sha256(c) in wanted for c in _certificates(t))]
        chosen = holding[0] if len(holding) == 1 else None
    if chosen is None:
        return _fail("token", "Đang cắm nhiều token, không biết dùng token nào",
                     "Several tokens are plugged in; which one is yours is unknown",
                     f"Chỉ để lại USB token của mình hoặc chọn bằng --token-label, {RETRY_VI}",
                     f"Leave only your token plugged in or choose it with --token-label, "
                     f"{RETRY_EN}", f"token đang cắm / tokens present: {labels}"), None
    serial = bytes(chosen.serial).decode("ascii", "replace").strip()
    detail = f"{str(chosen.manufacturer_id).strip()} {str(chosen.model).strip()}, S/N {serial}"
    return Check("token", True, f"Thấy token '{chosen.label}'", f"Found token '{chosen.label}'",
                 detail=detail), chosen


def check_pin(token: pkcs11.Token) -> Check:
    """From the token's flags, without logging in: locked, last try, few tries left."""
    from pkcs11.constants import TokenFlag

    flags = TokenFlag(token.flags)
    if flags & TokenFlag.USER_PIN_LOCKED:
        return _fail("pin", "Mã PIN đã bị khóa do nhập sai quá số lần",
                     "The PIN is locked after too many wrong tries",
                     "Không thử PIN nữa; mang token đến quản trị hoặc nhà cung cấp chứng thư để "
                     f"mở khóa (cần mã PUK/SO PIN), {RETRY_VI}",
                     "Do not try the PIN again; take the token to the administrator or the CA "
                     f"to unlock it (needs the SO PIN/PUK), {RETRY_EN}")
    if flags & TokenFlag.USER_PIN_FINAL_TRY:
        return Check("pin", True, "PIN chưa khóa nhưng chỉ còn MỘT lần thử",
                     "The PIN is not locked but ONE try is left",
                     "Chỉ nhập PIN khi chắc chắn đúng; nếu quên, liên hệ quản trị trước khi thử",
                     "Enter the PIN only when sure; if forgotten, ask the administrator first",
                     warning=True)
    if flags & TokenFlag.USER_PIN_COUNT_LOW:
        return Check("pin", True, "PIN chưa khóa; đã có lần nhập sai, còn ít lần thử",
                     "The PIN is not locked; a wrong PIN was entered, few tries are left",
                     "Nhập PIN cẩn thận; sau lần đúng bộ đếm sẽ trở lại bình thường",
                     "Enter the PIN carefully; a correct entry resets the counter",
                     warning=True)
    return Check("pin", True, "Mã PIN chưa bị khóa", "The PIN is not locked")


def _validity(cert: x509.Certificate) -> tuple[dt.datetime, dt.datetime]:
    validity = cert["tbs_certificate"]["validity"]
    return validity["not_before"].native, validity["not_after"].native


def _is_ca(cert: x509.Certificate) -> bool:
    constraints = cert.basic_constraints_value
    return bool(constraints is not None and constraints["ca"].native)


def _name(cert: x509.Certificate) -> str:
    return str(cert.subject.native.get("common_name") or cert.subject.human_friendly)


def _pick_certificate(certs: Sequence[x509.Certificate],
                      registered: Collection[str] | None) -> x509.Certificate | None:
    """The person's certificate: a registered one if present, else the latest-expiring leaf."""
    leaves = [c for c in certs if not _is_ca(c)]
    if registered:
        wanted = {s.lower() for s in registered}
        match = next((c for c in leaves if _sha256(c) in wanted), None)
        if match is not None:
            return match
    return max(leaves, key=lambda c: _validity(c)[1], default=None)


def check_certificate(token: pkcs11.Token, registered: Collection[str] | None = None, *,
                      now: dt.datetime | None = None,
                      warn_within: dt.timedelta = dt.timedelta(days=30),
                      ) -> tuple[Check, x509.Certificate | None, list[x509.Certificate]]:
    """The person's certificate is on the token and valid now; warns when it ends soon.

    Returns the check, the certificate (also when expired: later checks still use
    it) and every certificate on the token (chains are often stored there too).
    """
    moment = now or dt.datetime.now(dt.UTC)
    try:
        certs = _certificates(token)
    except TokenError as exc:
        return _fail("certificate", "Không đọc được chứng thư trên token",
                     "Cannot read the certificates on the token",
                     f"Rút USB token ra, cắm lại, {RETRY_VI}",
                     f"Unplug and replug the token, {RETRY_EN}", exc.en), None, []
    cert = _pick_certificate(certs, registered)
    if cert is None:
        return _fail("certificate", "Token không có chứng thư số của người ký",
                     "The token holds no signer certificate",
                     "Liên hệ nhà cung cấp chứng thư để nạp chứng thư vào token, rồi "
                     + ASK_REGISTRY_VI.lower(),
                     "Ask your CA to load the certificate onto the token, then "
                     + ASK_REGISTRY_EN[0].lower() + ASK_REGISTRY_EN[1:]), None, certs
    not_before, not_after = _validity(cert)
    who = _name(cert)
    detail = (f"{who}; {not_before:%d/%m/%Y} – {not_after:%d/%m/%Y}; "
              f"SHA-256 {_sha256(cert)}")
    if moment > not_after:
        return _fail("certificate", f"Chứng thư của {who} đã hết hạn ngày {not_after:%d/%m/%Y}",
                     f"{who}'s certificate expired on {not_after:%Y-%m-%d}",
                     "Gia hạn hoặc xin cấp chứng thư mới với nhà cung cấp chứng thư số, rồi "
                     + ASK_REGISTRY_VI.lower(),
                     "Renew the certificate with your CA, then "
                     + ASK_REGISTRY_EN[0].lower() + ASK_REGISTRY_EN[1:], detail), cert, certs
    if moment < not_before:
        return _fail("certificate",
                     f"Chứng thư của {who} chưa có hiệu lực (từ ngày {not_before:%d/%m/%Y})",
                     f"{who}'s certificate is not valid before {not_before:%Y-%m-%d}",
                     "Kiểm tra ngày giờ của máy tính; nếu đúng, chờ đến ngày chứng thư có hiệu lực",
                     "Check the computer's date; if right, wait until the certificate is valid",
                     detail), cert, certs
    left = not_after - moment
    if left < warn_within:
        return Check("certificate", True,
                     f"Chứng thư của {who} còn hạn nhưng chỉ còn {left.days} ngày",
                     f"{who}'s certificate is valid but ends in {left.days} days",
                     f"Liên hệ nhà cung cấp chứng thư để gia hạn trước ngày {not_after:%d/%m/%Y}",
                     f"Renew with your CA before {not_after:%Y-%m-%d}", detail,
                     warning=True), cert, certs
    return Check("certificate", True, f"Chứng thư của {who} còn hạn",
                 f"{who}'s certificate is valid", detail=detail), cert, certs


# --- trust and revocation ------------------------------------------------------------------

def _issuer_of(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> x509.Certificate | None:
    aki = cert.authority_key_identifier
    for candidate in pool:
        if candidate.subject != cert.issuer:
            continue
        if aki is None or candidate.key_identifier in (None, aki):
            return candidate
    return None


def check_chain(cert: x509.Certificate, trust: TrustStore,
                extra: Sequence[x509.Certificate] = (), *,
                now: dt.datetime | None = None) -> Check:
    """A path from ``cert`` to an anchor of ``trust`` exists and its signatures hold.

    Judged offline. The certificate's own dates are the certificate check's
    business: an expired (or not yet valid) leaf whose path is otherwise sound
    passes here, so expiry does not hide a trust problem or fake one.
    """
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import (
        ExpiredError,
        NotYetValidError,
        PathBuildingError,
        PathValidationError,
    )

    context = validation_context(trust, online=False, other_certs=extra, moment=now)
    validator = CertificateValidator(cert, validation_context=context)
    next_vi = ("Liên hệ quản trị để thêm chứng thư CA gốc và trung gian của nhà cung cấp "
               f"vào kho tin cậy của Kyso, {RETRY_VI}")
    next_en = ("Ask the administrator to add the CA's root and intermediate certificates to "
               f"Kyso's trust store, {RETRY_EN}")
    try:
        path = asyncio.run(validator.async_validate_path())
    except (ExpiredError, NotYetValidError) as exc:
        if not exc.is_ee_cert:
            return _fail("chain", "Một chứng thư CA trong chuỗi đã hết hạn hoặc chưa có hiệu lực",
                         "A CA certificate in the chain is expired or not yet valid",
                         next_vi, next_en, str(exc))
        path = exc.original_path  # sound up to the leaf's own dates
    except PathBuildingError as exc:
        return _fail("chain", f"Không tìm được CA gốc tin cậy cho chứng thư (CA cấp: "
                     f"{cert.issuer.human_friendly})",
                     f"No path to a trusted root (issuer: {cert.issuer.human_friendly})",
                     next_vi, next_en, str(exc))
    except PathValidationError as exc:
        return _fail("chain", "Chuỗi chứng thư không hợp lệ", "The certificate chain is invalid",
                     next_vi, next_en, str(exc))
    anchor = path.first
    entry = trust.find(anchor) if isinstance(anchor, x509.Certificate) else None
    origin = entry.origin.value if entry else "?"
    detail = f"CA gốc / root: {_name(anchor) if anchor is not None else '?'} ({origin})"
    if entry is not None and entry.origin is Origin.DEMO:
        detail += " — DEMO, không có giá trị pháp lý / no legal value"
    return Check("chain", True, "Chứng thư do CA được tin cậy cấp",
                 "The certificate chains to a trusted root", detail=detail)


#: what asking a URL can raise: no answer, a malformed address, an unreadable answer
_UNREACHABLE = (OSError, ValueError, httpx.HTTPError, httpx.InvalidURL)


def _http(url: str, *, data: bytes | None = None, content_type: str | None = None,
          timeout: float) -> tuple[int, httpx.Headers, bytes]:
    """(status, headers, body) of a GET (or POST with ``data``), redirects followed; HTTP
    errors are answers too (with no body). Raises one of :data:`_UNREACHABLE`."""
    headers = {"User-Agent": "kyso-doctor"}
    if content_type:
        headers["Content-Type"] = content_type
    response = httpx.request("GET" if data is None else "POST", url, content=data,
                             headers=headers, timeout=timeout, follow_redirects=True)
    return response.status_code, response.headers, response.content if response.is_success else b""


def _crl_urls(cert: x509.Certificate) -> list[str]:
    urls = []
    for point in cert.crl_distribution_points or []:
        url = point.url
        if url:
            urls.append(str(url))
    return urls


def _ask_ocsp(url: str, cert: x509.Certificate, issuer: x509.Certificate,
              timeout: float) -> str:
    """'good', 'revoked' or 'unknown' from the responder at ``url`` (raises when unreachable)."""
    cert_id = asn1_ocsp.CertId({
        "hash_algorithm": {"algorithm": "sha1"},
        "issuer_name_hash": cert.issuer.sha1,
        "issuer_key_hash": issuer.public_key.sha1,
        "serial_number": cert.serial_number,
    })
    request = asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}})
    status, _, body = _http(url, data=request.dump(), content_type="application/ocsp-request",
                            timeout=timeout)
    if status != 200:
        raise OSError(f"HTTP {status}")
    response = asn1_ocsp.OCSPResponse.load(body)
    if response["response_status"].native != "successful":
        raise OSError(f"OCSP {response['response_status'].native}")
    basic = response["response_bytes"]["response"].parsed
    for single in basic["tbs_response_data"]["responses"]:
        if single["cert_id"]["serial_number"].native == cert.serial_number:
            return str(single["cert_status"].name)
    return "unknown"


def _ask_crl(url: str, cert: x509.Certificate, timeout: float) -> str:
    """'good' or 'revoked' from the CRL at ``url`` (raises when unreachable)."""
    status, _, body = _http(url, timeout=timeout)
    if status != 200:
        raise OSError(f"HTTP {status}")
    crl = asn1_crl.CertificateList.load(body)
    if crl.issuer != cert.issuer:
        return "unknown"
    revoked = crl["tbs_cert_list"]["revoked_certificates"]
    serials = {entry["user_certificate"].native for entry in revoked} if revoked else set()
    return "revoked" if cert.serial_number in serials else "good"


def check_revocation(cert: x509.Certificate, pool: Sequence[x509.Certificate], *,
                     timeout: float = 3.0) -> Check:
    """The OCSP responders and CRLs the certificate names answer, and do not list it revoked.

    ``pool`` holds certificates to find the issuer in (trust store, token).
    """
    issuer = _issuer_of(cert, pool)
    answers: list[tuple[str, str, str]] = []  # (kind, url, outcome)
    for url in cert.ocsp_urls or []:
        if issuer is None:
            answers.append(("OCSP", str(url), "unreachable: issuer unknown"))
            continue
        try:
            answers.append(("OCSP", str(url), _ask_ocsp(str(url), cert, issuer, timeout)))
        except (*_UNREACHABLE, TypeError, KeyError) as exc:
            answers.append(("OCSP", str(url), f"unreachable: {exc}"))
    for url in _crl_urls(cert):
        try:
            answers.append(("CRL", url, _ask_crl(url, cert, timeout)))
        except (*_UNREACHABLE, TypeError, KeyError) as exc:
            answers.append(("CRL", url, f"unreachable: {exc}"))
    detail = "; ".join(f"{kind} {url}: {outcome}" for kind, url, outcome in answers)
    if not answers:
        return _skip("revocation", "chứng thư không ghi địa chỉ OCSP/CRL",
                     "the certificate names no OCSP responder or CRL")
    if any(outcome == "revoked" for _, _, outcome in answers):
        return _fail("revocation", f"Chứng thư của {_name(cert)} đã bị thu hồi",
                     f"{_name(cert)}'s certificate has been revoked",
                     "Không dùng chứng thư này nữa; xin cấp chứng thư mới với nhà cung cấp, rồi "
                     + ASK_REGISTRY_VI.lower(),
                     "Stop using this certificate; get a new one from your CA, then "
                     + ASK_REGISTRY_EN[0].lower() + ASK_REGISTRY_EN[1:], detail)
    if all(outcome.startswith("unreachable") for _, _, outcome in answers):
        return _fail("revocation", "Không kết nối được tới máy chủ OCSP/CRL của CA",
                     "The CA's OCSP responder and CRL cannot be reached",
                     "Kiểm tra kết nối mạng (Internet, tường lửa, proxy) tới các địa chỉ trên; "
                     "nếu mạng bình thường, báo quản trị",
                     "Check the network (Internet, firewall, proxy) to those addresses; "
                     "if the network is fine, tell the administrator", detail)
    return Check("revocation", True, "Máy chủ OCSP/CRL trả lời, chứng thư chưa bị thu hồi",
                 "OCSP/CRL answer and the certificate is not revoked", detail=detail)


# --- the service, the clock, the registered certificate -----------------------------------

def health_url(service_url: str) -> str:
    return service_url.rstrip("/") + "/api/v1/health"


def check_service(service_url: str, *, timeout: float = 3.0) -> Check:
    """GET ``/api/v1/health`` answers 200 with ``"status": "ok"``."""
    url = health_url(service_url)
    next_vi = ("Kiểm tra mạng và địa chỉ dịch vụ (--service); nếu vẫn lỗi, báo quản trị "
               "rằng dịch vụ Kyso không trả lời")
    next_en = ("Check the network and the service address (--service); if it persists, tell "
               "the administrator the Kyso service does not answer")
    try:
        status, _, body = _http(url, timeout=timeout)
    except _UNREACHABLE as exc:
        return _fail("service", f"Không kết nối được tới dịch vụ {service_url}",
                     f"Cannot reach the service at {service_url}", next_vi, next_en,
                     f"{type(exc).__name__}: {exc}")
    try:
        answer = json.loads(body.decode("utf-8")) if status == 200 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("status") != "ok":
        return _fail("service", f"Dịch vụ {service_url} trả lời nhưng không sẵn sàng",
                     f"The service at {service_url} answers but is not ready", next_vi, next_en,
                     f"HTTP {status}")
    return Check("service", True, f"Dịch vụ {service_url} đang chạy",
                 f"The service at {service_url} is up")


def check_clock(url: str, *, timeout: float = 3.0,
                tolerance: dt.timedelta = dt.timedelta(minutes=5)) -> Check:
    """The local clock agrees with the ``Date`` header ``url`` answers with."""
    try:
        before = dt.datetime.now(dt.UTC)
        _, headers, _ = _http(url, timeout=timeout)
        after = dt.datetime.now(dt.UTC)
    except _UNREACHABLE as exc:
        return _skip("clock", f"không hỏi được giờ từ {url} ({type(exc).__name__})",
                     f"cannot ask {url} for the time ({type(exc).__name__})")
    stamp = headers.get("Date")
    try:
        remote = email.utils.parsedate_to_datetime(stamp) if stamp else None
    except (TypeError, ValueError):
        remote = None
    if remote is None:
        return _skip("clock", f"{url} không gửi giờ (Date)", f"{url} sent no Date header")
    local = before + (after - before) / 2
    skew = local - remote.astimezone(dt.UTC)
    minutes = abs(skew.total_seconds()) / 60
    direction_vi = "nhanh" if skew.total_seconds() > 0 else "chậm"
    detail = (f"máy / local {local:%Y-%m-%d %H:%M:%S} UTC, "
              f"máy chủ / server {remote.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC")
    if abs(skew) > tolerance:
        return _fail("clock", f"Đồng hồ máy tính {direction_vi} {minutes:.0f} phút so với máy chủ",
                     f"The computer clock is {minutes:.0f} minutes "
                     f"{'ahead of' if skew.total_seconds() > 0 else 'behind'} the server",
                     "Chỉnh lại ngày giờ máy tính (bật đồng bộ giờ tự động, múi giờ UTC+07:00 "
                     f"Hà Nội), {RETRY_VI}",
                     "Set the computer's date and time (automatic time sync, time zone "
                     f"UTC+07:00), {RETRY_EN}", detail)
    return Check("clock", True, "Đồng hồ máy tính đúng giờ", "The computer clock is right",
                 detail=detail)


def check_registered(cert: x509.Certificate, registered: Collection[str]) -> Check:
    """The token's certificate is one of the ``registered`` SHA-256 fingerprints."""
    digest = _sha256(cert)
    wanted = {s.lower().replace(":", "") for s in registered}
    if digest in wanted:
        return Check("registered", True, "Chứng thư trên token đúng chứng thư đã đăng ký",
                     "The certificate on the token is the registered one",
                     detail=f"SHA-256 {digest}")
    return _fail("registered", "Chứng thư trên token không phải chứng thư đã đăng ký với Kyso",
                 "The certificate on the token is not the one registered with Kyso",
                 f"{ASK_REGISTRY_VI} (SHA-256 bên dưới), {RETRY_VI}",
                 f"{ASK_REGISTRY_EN} (SHA-256 below), {RETRY_EN}",
                 f"trên token / on the token: {digest}; đã đăng ký / registered: "
                 + (", ".join(sorted(wanted)) or "—"))


# --- all of them, in order -----------------------------------------------------------------

def run_checks(config: DoctorConfig) -> list[Check]:
    """Every check in :data:`CHECK_ORDER`; a check whose premise failed is skipped, saying why."""
    results: list[Check] = []
    module_check, lib = check_module(config.module, config.candidates)
    results.append(module_check)

    token: pkcs11.Token | None = None
    if lib is None:
        results.append(_skip("token", "chưa nạp được thư viện PKCS#11",
                             "the PKCS#11 module is not loaded"))
    else:
        token_check, token = check_token(lib, config.token_label, config.registered)
        results.append(token_check)

    cert: x509.Certificate | None = None
    on_token: list[x509.Certificate] = []
    if token is None:
        why = ("không thấy token", "no token")
        results.append(_skip("pin", *why))
        results.append(_skip("certificate", *why))
    else:
        results.append(check_pin(token))
        cert_check, cert, on_token = check_certificate(
            token, config.registered, now=config.now, warn_within=config.expiry_warning)
        results.append(cert_check)

    no_cert = ("không có chứng thư để kiểm tra", "no certificate to check")
    if cert is None:
        results.append(_skip("chain", *no_cert))
    elif config.trust is None:
        results.append(_skip("chain", "không có kho tin cậy", "no trust store given"))
    else:
        results.append(check_chain(cert, config.trust, on_token, now=config.now))

    if cert is None:
        results.append(_skip("revocation", *no_cert))
    else:
        pool = [*on_token, *(e.cert for e in (config.trust or TrustStore()))]
        results.append(check_revocation(cert, pool, timeout=config.timeout))

    if config.service_url is None:
        results.append(_skip("service", "chưa cho địa chỉ dịch vụ", "no service URL given"))
        results.append(_skip("clock", "chưa cho địa chỉ dịch vụ", "no service URL given"))
    else:
        service_check = check_service(config.service_url, timeout=config.timeout)
        results.append(service_check)
        if service_check.ok:
            results.append(check_clock(health_url(config.service_url), timeout=config.timeout,
                                       tolerance=config.clock_tolerance))
        else:
            results.append(_skip("clock", "dịch vụ không trả lời", "the service does not answer"))

    if cert is None:
        results.append(_skip("registered", *no_cert))
    elif config.registered is None:
        results.append(_skip("registered", "không có chứng thư đã đăng ký để so",
                             "no registered certificate to compare with"))
    else:
        results.append(check_registered(cert, config.registered))
    return results


def passed(checks: Sequence[Check]) -> bool:
    """No check failed (skipped ones do not count as failures)."""
    return all(c.ok is not False for c in checks)
