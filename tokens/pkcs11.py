"""PKCS#11 tokens: USB tokens through their vendor module, network HSMs, SoftHSM.

All python-pkcs11 calls live in this module; its errors leave it only as
:class:`~tokens.errors.TokenError`. Signing goes through pyHanko's
``PKCS11Signer``; EC keys on tokens without ``CKM_ECDSA_SHA256`` (SoftHSM 2.6)
are signed with the raw ``CKM_ECDSA`` mechanism over a digest computed here.
For hash-only signing, :meth:`Pkcs11Token.digest_signer` signs bare digests in
one logged-in session.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from asn1crypto import x509

from common import KysoError

from .base import CertInfo, Health, Token
from .digest import DIGEST_SIZES, ECDSA, RSA_PSS, DigestSigner, digest_info
from .errors import (
    KeyNotFound,
    ModuleMissing,
    TokenError,
    TokenLocked,
    TokenNotFound,
    TokenRemoved,
    WrongPin,
)

if TYPE_CHECKING:
    import pkcs11
    from pkcs11._pkcs11 import lib as Pkcs11Lib  # the module object pkcs11.lib() returns
    from pkcs11.types import SignMixin
    from pyhanko.sign.signers import Signer

_lib_lock = threading.Lock()


def load_module(path: str) -> Pkcs11Lib:
    """Load (once per process) the PKCS#11 module at ``path``."""
    import pkcs11

    with _lib_lock:
        try:
            return pkcs11.lib(path)
        except (RuntimeError, OSError, pkcs11.PKCS11Error) as exc:
            raise ModuleMissing(path) from exc


def refresh_module(path: str) -> None:
    """Make a loaded module see tokens created since it was loaded."""
    lib = load_module(path)
    with _lib_lock:
        lib.reinitialize()


def map_error(exc: BaseException, what: str = "") -> TokenError:
    """The Kyso error for a python-pkcs11 error."""
    from pkcs11 import exceptions as p11

    if isinstance(exc, TokenError):
        return exc
    if isinstance(exc, p11.PinLocked):
        return TokenLocked()
    if isinstance(exc, (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange)):
        return WrongPin()
    if isinstance(exc, (p11.TokenNotPresent, p11.DeviceRemoved, p11.SessionHandleInvalid,
                        p11.SessionClosed, p11.DeviceError)):
        return TokenRemoved()
    if isinstance(exc, (p11.NoSuchKey, p11.NoSuchToken)):
        return KeyNotFound(what)
    return TokenError(f"thiết bị ký số báo lỗi: {type(exc).__name__}",
                      f"the token reported an error: {type(exc).__name__}")


def mid_signature_errors() -> tuple[type[Exception], ...]:
    """What a token's error reaches the caller as, when it is raised mid-signature:
    python-pkcs11's own, or inside pyHanko's ``SigningError`` or a Kyso error
    (``SigningFailed`` … raised ``from`` it); :func:`token_error_in` finds it there."""
    from pkcs11 import PKCS11Error
    from pyhanko.sign.general import SigningError

    return PKCS11Error, SigningError, KysoError


def token_error_in(exc: BaseException, what: str = "") -> TokenError | None:
    """The Kyso token error for a python-pkcs11 error that is ``exc`` or one of its causes
    (pyHanko wraps the token's errors in its own), or None when there is none."""
    from pkcs11 import PKCS11Error

    seen: BaseException | None = exc
    for _ in range(8):  # a short chain: the signer's wrappers, then the token's error
        if seen is None:
            return None
        if isinstance(seen, TokenError):
            return seen
        if isinstance(seen, PKCS11Error):
            return map_error(seen, what)
        seen = seen.__cause__ or seen.__context__
    return None


class KeySelection(TypedDict, total=False):
    """Which key and certificate pyHanko's ``PKCS11Signer`` takes (its keyword arguments)."""

    key_label: str
    cert_label: str
    key_id: bytes
    cert_id: bytes
    signing_cert: x509.Certificate


@dataclass(frozen=True)
class Pkcs11Config:
    """Which module, which token, which key.

    The token is chosen by label or serial; the key by label, CKA_ID (hex) or
    the SHA-256 fingerprint of its certificate. With none of the three, the
    token must hold exactly one certificate.
    """

    name: str
    module: str
    token_label: str | None = None
    token_serial: str | None = None
    key_label: str | None = None
    key_id: str | None = None
    cert_sha256: str | None = None


def _pin_warning(token: pkcs11.Token) -> str | None:
    from pkcs11.constants import TokenFlag

    flags = token.flags
    if flags & TokenFlag.USER_PIN_LOCKED:
        raise TokenLocked()
    if flags & TokenFlag.USER_PIN_FINAL_TRY:
        return "final"
    if flags & TokenFlag.USER_PIN_COUNT_LOW:
        return "low"
    return None


def token_certificates(session: pkcs11.Session) -> list[tuple[x509.Certificate, str, bytes]]:
    """Every X.509 certificate on the token: (certificate, label, CKA_ID)."""
    from pkcs11 import Attribute, ObjectClass, PKCS11Error

    found = []
    for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        der = obj[Attribute.VALUE]
        try:
            label = obj[Attribute.LABEL]
        except PKCS11Error:  # label is optional
            label = ""
        try:
            key_id = obj[Attribute.ID]
        except PKCS11Error:  # id is optional
            key_id = b""
        found.append((x509.Certificate.load(der), label, key_id))
    return found


class Pkcs11Token(Token):
    def __init__(self, config: Pkcs11Config) -> None:
        self.config = config
        self.name = config.name

    @property
    def needs_pin(self) -> bool:
        return True

    def _describe_token(self) -> str:
        c = self.config
        return f"'{c.token_label or c.token_serial or '?'}'"

    def _find_token(self) -> pkcs11.Token:
        from pkcs11 import PKCS11Error

        lib = load_module(self.config.module)
        try:
            for slot in lib.get_slots(token_present=True):
                token = slot.get_token()
                if self.config.token_label and token.label != self.config.token_label:
                    continue
                serial = token.serial.decode("ascii", "replace").strip()
                if self.config.token_serial and serial != self.config.token_serial:
                    continue
                return token
        except PKCS11Error as exc:
            raise map_error(exc) from exc
        raise TokenNotFound(self._describe_token())

    def health(self) -> Health:
        try:
            token = self._find_token()
            warning = _pin_warning(token)
        except TokenError as exc:
            return Health(False, exc.one_line())
        detail = f"{token.manufacturer_id.strip()} {token.model.strip()} '{token.label}'"
        if warning:
            detail += f" (PIN: {warning})"
        return Health(True, detail)

    def _select_key(self, session: pkcs11.Session) -> KeySelection:
        c = self.config
        if c.key_label:
            return {"key_label": c.key_label, "cert_label": c.key_label}
        if c.key_id:
            kid = bytes.fromhex(c.key_id)
            return {"key_id": kid, "cert_id": kid}
        certs = token_certificates(session)
        if c.cert_sha256:
            certs = [t for t in certs
                     if hashlib.sha256(t[0].dump()).hexdigest() == c.cert_sha256.lower()]
        if len(certs) != 1:
            raise KeyNotFound(c.cert_sha256 or "(cần chọn khóa / choose a key)")
        cert, _, kid = certs[0]
        return {"key_id": kid, "signing_cert": cert, "cert_id": kid}

    def _login(self, pin: str | None) -> tuple[pkcs11.Token, pkcs11.Session]:
        """The token and a session logged in with ``pin``; a wrong PIN says what the
        token reports of the tries left, and is never retried here."""
        from pkcs11 import PKCS11Error

        token = self._find_token()
        remaining = _pin_warning(token)
        try:
            return token, token.open(user_pin=pin)
        except PKCS11Error as exc:
            err = map_error(exc, self._describe_token())
            if isinstance(err, WrongPin):
                try:
                    err = WrongPin(_pin_warning(self._find_token()) or remaining)
                except TokenLocked as locked:
                    err = locked
            raise err from exc

    @contextlib.contextmanager
    def _session(self, pin: str | None) -> Iterator[tuple[pkcs11.Token, pkcs11.Session]]:
        """A logged-in session for the block; python-pkcs11 errors leave it mapped."""
        from pkcs11 import PKCS11Error

        token, session = self._login(pin)
        try:
            yield token, session
        except TokenError:
            raise
        except mid_signature_errors() as exc:
            mapped = token_error_in(exc, self._describe_token())
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            with contextlib.suppress(PKCS11Error):  # the token is gone: nothing to close
                session.close()

    @contextlib.contextmanager
    def signer(self, pin: str | None) -> Iterator[Signer]:
        from pkcs11 import Mechanism
        from pyhanko.sign.pkcs11 import PKCS11Signer

        with self._session(pin) as (token, session):
            selection = self._select_key(session)
            raw_ec = Mechanism.ECDSA_SHA256 not in token.slot.get_mechanisms()
            signer = PKCS11Signer(session, use_raw_mechanism=raw_ec, **selection)
            try:
                _ = signer.signing_cert  # load key and certificate now, not mid-signature
            except mid_signature_errors() as exc:  # no such key or certificate
                raise KeyNotFound(self.config.key_label or self.config.key_id or "") from exc
            if signer.signing_cert is None:
                raise KeyNotFound(self.config.key_label or self.config.key_id or "")
            yield signer

    def _key_and_certificates(self, session: pkcs11.Session) -> tuple[SignMixin,
                                                                      x509.Certificate,
                                                           tuple[x509.Certificate, ...]]:
        """The private key, its certificate and the token's other certificates."""
        from pkcs11 import Attribute, ObjectClass
        from pkcs11.types import SignMixin

        selection = self._select_key(session)
        certs = token_certificates(session)
        if "key_label" in selection:
            wanted: dict[pkcs11.Attribute, str | bytes] = {Attribute.LABEL: selection["key_label"]}
            mine = [c for c, label, _ in certs if label == selection["key_label"]]
        else:
            wanted = {Attribute.ID: selection["key_id"]}
            mine = [c for c, _, kid in certs if kid == selection["key_id"]]
        keys = [k for k in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, **wanted})
                if isinstance(k, SignMixin)]
        if len(mine) != 1 or len(keys) != 1:
            raise KeyNotFound(self.config.key_label or self.config.key_id
                              or self.config.cert_sha256 or "")
        others = tuple(c for c, _, _ in certs if c.dump() != mine[0].dump())
        return keys[0], mine[0], others

    @contextlib.contextmanager
    def digest_signer(self, pin: str | None) -> Iterator[DigestSigner]:
        """One logged-in session signing many digests: RSA as DigestInfo + ``CKM_RSA_PKCS``
        (or ``CKM_RSA_PKCS_PSS``), EC as ``CKM_ECDSA`` giving raw r||s."""
        with self._session(pin) as (_, session):
            key, cert, others = self._key_and_certificates(session)
            yield Pkcs11DigestSigner(key, cert, others, describe=self._describe_token())


class Pkcs11DigestSigner(DigestSigner):
    """Digests signed by a private key object of an open PKCS#11 session."""

    def __init__(self, key: SignMixin, certificate: x509.Certificate,
                 chain: tuple[x509.Certificate, ...] = (), algorithm: str | None = None,
                 *, describe: str = "") -> None:
        super().__init__(certificate, chain, algorithm)
        self._key = key
        self._describe = describe

    def _sign(self, digest: bytes, algorithm: str, md_algorithm: str) -> bytes:
        from pkcs11 import MGF, Mechanism, PKCS11Error

        try:
            if algorithm == ECDSA:
                return bytes(self._key.sign(digest, mechanism=Mechanism.ECDSA))
            if algorithm == RSA_PSS:
                hash_mech, mgf = {"sha256": (Mechanism.SHA256, MGF.SHA256),
                                  "sha384": (Mechanism.SHA384, MGF.SHA384),
                                  "sha512": (Mechanism.SHA512, MGF.SHA512)}[md_algorithm]
                return bytes(self._key.sign(
                    digest, mechanism=Mechanism.RSA_PKCS_PSS,
                    mechanism_param=(hash_mech, mgf, DIGEST_SIZES[md_algorithm])))
            return bytes(self._key.sign(digest_info(digest, md_algorithm),
                                        mechanism=Mechanism.RSA_PKCS))
        except PKCS11Error as exc:
            raise map_error(exc, self._describe) from exc


@dataclass(frozen=True)
class SlotInfo:
    slot_id: int
    description: str
    token_label: str
    serial: str
    manufacturer: str
    model: str
    certificates: list[CertInfo]


def list_slots(module: str) -> list[SlotInfo]:
    """Every slot with a token on ``module`` and the certificates it shows without login."""
    from pkcs11 import PKCS11Error

    lib = load_module(module)
    out = []
    try:
        for slot in lib.get_slots(token_present=True):
            token = slot.get_token()
            if not token.label:
                continue  # SoftHSM's spare uninitialised slot
            with token.open() as session:
                certs = [CertInfo.of(c, label) for c, label, _ in token_certificates(session)]
            out.append(SlotInfo(
                slot_id=slot.slot_id,
                description=slot.slot_description.strip(),
                token_label=token.label,
                serial=token.serial.decode("ascii", "replace").strip(),
                manufacturer=token.manufacturer_id.strip(),
                model=token.model.strip(),
                certificates=certs,
            ))
    except PKCS11Error as exc:
        raise map_error(exc) from exc
    return out


def find_certificate(module: str, wanted: Collection[str], token_label: str | None = None
                     ) -> tuple[str, x509.Certificate, list[x509.Certificate]] | None:
    """The first token (of ``token_label``, if given) holding a certificate whose SHA-256
    is in ``wanted``: (token label, that certificate, the token's other certificates).
    Reads public objects only — no PIN is asked. None when no token has one."""
    from pkcs11 import PKCS11Error

    lib = load_module(module)
    try:
        for slot in lib.get_slots(token_present=True):
            token = slot.get_token()
            if not token.label or (token_label and token.label != token_label):
                continue
            with token.open() as session:
                certs = [c for c, _, _ in token_certificates(session)]
            for cert in certs:
                if hashlib.sha256(cert.dump()).hexdigest() in wanted:
                    return token.label, cert, [c for c in certs if c.dump() != cert.dump()]
    except PKCS11Error as exc:
        raise map_error(exc) from exc
    return None
