"""Build a token from plain settings (the `tokens` section of a data directory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Token
from .errors import TokenError
from .pkcs11 import Pkcs11Config, Pkcs11Token
from .pkcs12 import Pkcs12Config, Pkcs12Token


def token_from_settings(name: str, settings: Mapping[str, Any]) -> Token:
    """``settings`` holds ``backend`` ("pkcs11" or "pkcs12") and that backend's fields."""
    fields = {k: v for k, v in settings.items() if k != "backend"}
    try:
        match settings.get("backend"):
            case "pkcs11":
                return Pkcs11Token(Pkcs11Config(name=name, **fields))
            case "pkcs12":
                return Pkcs12Token(Pkcs12Config(name=name, **fields))
    except TypeError as exc:
        raise TokenError(f"cấu hình thiết bị ký '{name}' không hợp lệ: {exc}",
                         f"invalid settings for token '{name}': {exc}") from exc
    raise TokenError(f"thiết bị ký '{name}' có kiểu không hỗ trợ: {settings.get('backend')}",
                     f"token '{name}' has an unsupported backend: {settings.get('backend')}")
