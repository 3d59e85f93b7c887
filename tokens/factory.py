"""Build a token from plain settings (the `tokens` section of a data directory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Token
from .csc import CscAuth, CscProvider, CscToken
from .csc_v1 import CscV1Provider
from .errors import RemoteNotConfigured, TokenError
from .pkcs11 import Pkcs11Config, Pkcs11Token
from .pkcs12 import Pkcs12Config, Pkcs12Token
from .remote import RemoteSigningProvider
from .smartca import CONFIRM_SECONDS, SmartCaProvider


def provider_from_settings(name: str,
                           settings: Mapping[str, Any]) -> tuple[RemoteSigningProvider, str]:
    """The provider and credential id of the remote-signing service ``name``:

    - ``"backend": "csc"``: ``url``, ``credential_id`` and ``access_token`` or
      ``client_id``/``client_secret``; ``version`` ``"1"`` for a CSC v1 service
      (``…/csc/v1/…``), else v2;
    - ``"backend": "smartca"`` (VNPT SmartCA, confirmed on the phone): ``url``, ``sp_id``,
      ``sp_password``, ``user_id`` and ``credential_id`` (the ``cert_id``), optionally
      ``confirm_seconds``.
    """
    if settings.get("backend") == "smartca":
        return _smartca_provider(name, settings)
    return _csc_provider(name, settings)


def is_phone_confirmed(settings: Mapping[str, Any]) -> bool:
    """Whether the service asks the person on their phone (no PIN typed in Kyso)."""
    return settings.get("backend") == "smartca"


def _smartca_provider(name: str, settings: Mapping[str, Any]) -> tuple[SmartCaProvider, str]:
    needed = ("url", "sp_id", "sp_password", "user_id", "credential_id")
    if any(not settings.get(k) for k in needed):
        raise RemoteNotConfigured(name)
    provider = SmartCaProvider(
        str(settings["url"]), str(settings["sp_id"]), str(settings["sp_password"]),
        str(settings["user_id"]), timeout=float(settings.get("timeout", 30)),
        confirm_seconds=float(settings.get("confirm_seconds", CONFIRM_SECONDS)))
    return provider, str(settings["credential_id"])


def _csc_provider(name: str, settings: Mapping[str, Any]) -> tuple[CscProvider, str]:
    if settings.get("backend") != "csc" or "url" not in settings \
            or "credential_id" not in settings:
        raise RemoteNotConfigured(name)
    version = str(settings.get("version", "2"))
    if version not in ("1", "2"):
        raise TokenError(f"dịch vụ ký từ xa '{name}': phiên bản CSC không hỗ trợ: {version}",
                         f"remote-signing service '{name}': unsupported CSC version {version}")
    if settings.get("access_token"):
        auth = CscAuth.bearer(str(settings["access_token"]))
    else:
        auth = CscAuth.client_credentials(str(settings.get("client_id", "")),
                                          str(settings.get("client_secret", "")))
    kind = CscV1Provider if version == "1" else CscProvider
    provider = kind(str(settings["url"]), auth, timeout=float(settings.get("timeout", 30)),
                    verify=settings.get("verify", True))
    return provider, str(settings["credential_id"])


def token_from_settings(name: str, settings: Mapping[str, Any]) -> Token:
    """``settings`` holds ``backend`` ("pkcs11", "pkcs12" or "csc") and that backend's
    fields."""
    fields = {k: v for k, v in settings.items() if k != "backend"}
    try:
        match settings.get("backend"):
            case "pkcs11":
                return Pkcs11Token(Pkcs11Config(name=name, **fields))
            case "pkcs12":
                return Pkcs12Token(Pkcs12Config(name=name, **fields))
            case "csc":
                return CscToken(name, *_csc_provider(name, settings))
    except TypeError as exc:
        raise TokenError(f"cấu hình thiết bị ký '{name}' không hợp lệ: {exc}",
                         f"invalid settings for token '{name}': {exc}") from exc
    raise TokenError(f"thiết bị ký '{name}' có kiểu không hỗ trợ: {settings.get('backend')}",
                     f"token '{name}' has an unsupported backend: {settings.get('backend')}")
