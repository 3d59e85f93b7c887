"""Build a token from plain settings (the `tokens` section of a data directory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Token
from .csc import CscAuth, CscProvider, CscToken
from .errors import RemoteNotConfigured, TokenError
from .pkcs11 import Pkcs11Config, Pkcs11Token
from .pkcs12 import Pkcs12Config, Pkcs12Token


def provider_from_settings(name: str, settings: Mapping[str, Any]) -> tuple[CscProvider, str]:
    """The CSC provider and credential id of the remote-signing service ``name``:
    ``url``, ``credential_id`` and ``access_token`` or ``client_id``/``client_secret``."""
    if settings.get("backend") != "csc" or "url" not in settings \
            or "credential_id" not in settings:
        raise RemoteNotConfigured(name)
    if settings.get("access_token"):
        auth = CscAuth.bearer(str(settings["access_token"]))
    else:
        auth = CscAuth.client_credentials(str(settings.get("client_id", "")),
                                          str(settings.get("client_secret", "")))
    provider = CscProvider(str(settings["url"]), auth, timeout=float(settings.get("timeout", 30)),
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
                return CscToken(name, *provider_from_settings(name, settings))
    except TypeError as exc:
        raise TokenError(f"cấu hình thiết bị ký '{name}' không hợp lệ: {exc}",
                         f"invalid settings for token '{name}': {exc}") from exc
    raise TokenError(f"thiết bị ký '{name}' có kiểu không hỗ trợ: {settings.get('backend')}",
                     f"token '{name}' has an unsupported backend: {settings.get('backend')}")
