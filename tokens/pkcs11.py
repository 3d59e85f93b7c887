"""PKCS#11 tokens: USB tokens through their vendor module, network HSMs, SoftHSM.

All python-pkcs11 calls live in this module; its errors leave it only as
:class:`~tokens.errors.TokenError`. Signing goes through pyHanko's
``PKCS11Signer``; EC keys on tokens without ``CKM_ECDSA_SHA256`` (SoftHSM 2.6)
are signed with the raw ``CKM_ECDSA`` mechanism over a digest computed here.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509

from .base import CertInfo, Health, Token
from .errors import (
    KeyNotFound,
    ModuleMissing,
    TokenError,
    TokenLocked,
    TokenNotFound,
    TokenRemoved,
    WrongPin,
)

_lib_lock = threading.Lock()


def load_module(path: str) -> Any:
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


def _pin_warning(token: Any) -> str | None:
    from pkcs11.constants import TokenFlag

    flags = token.flags
    if flags & TokenFlag.USER_PIN_LOCKED:
        raise TokenLocked()
    if flags & TokenFlag.USER_PIN_FINAL_TRY:
        return "final"
    if flags & TokenFlag.USER_PIN_COUNT_LOW:
        return "low"
    return None


def token_certificates(session: Any) -> list[tuple[x509.Certificate, str, bytes]]:
    """Every X.509 certificate on the token: (certificate, label, CKA_ID)."""
    from pkcs11 import Attribute, ObjectClass

    found = []
    for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        der = obj[Attribute.VALUE]
        try:
            label = obj[Attribute.LABEL]
        except Exception:  # noqa: BLE001 - label is optional
            label = ""
        try:
            key_id = obj[Attribute.ID]
        except Exception:  # noqa: BLE001 - id is optional
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

    def _find_token(self) -> Any:
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
        except Exception as exc:  # noqa: BLE001 - mapped below
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

    def _select_key(self, session: Any) -> dict[str, Any]:
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

    @contextlib.contextmanager
    def signer(self, pin: str | None) -> Iterator[Any]:
        from pkcs11 import Mechanism
        from pyhanko.sign.pkcs11 import PKCS11Signer

        token = self._find_token()
        remaining = _pin_warning(token)
        try:
            session = token.open(user_pin=pin)
        except Exception as exc:  # noqa: BLE001 - mapped below
            err = map_error(exc, self._describe_token())
            if isinstance(err, WrongPin):
                try:
                    err = WrongPin(_pin_warning(self._find_token()) or remaining)
                except TokenLocked as locked:
                    err = locked
            raise err from exc
        try:
            selection = self._select_key(session)
            raw_ec = Mechanism.ECDSA_SHA256 not in token.slot.get_mechanisms()
            signer = PKCS11Signer(session, use_raw_mechanism=raw_ec, **selection)
            try:
                _ = signer.signing_cert  # load key and certificate now, not mid-signature
            except Exception as exc:  # noqa: BLE001 - mapped below
                raise KeyNotFound(self.config.key_label or self.config.key_id or "") from exc
            if signer.signing_cert is None:
                raise KeyNotFound(self.config.key_label or self.config.key_id or "")
            yield signer
        except TokenError:
            raise
        except Exception as exc:
            from pkcs11 import PKCS11Error

            if isinstance(exc, PKCS11Error):
                raise map_error(exc, self._describe_token()) from exc
            raise
        finally:
            with contextlib.suppress(Exception):
                session.close()


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
    except TokenError:
        raise
    except Exception as exc:  # noqa: BLE001 - mapped below
        raise map_error(exc) from exc
    return out
