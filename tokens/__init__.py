"""Where private keys live, behind one interface: PKCS#11 tokens and PKCS#12 files."""

from .base import CertInfo, Health, Token
from .errors import (
    KeyFileError,
    KeyNotFound,
    ModuleMissing,
    TokenError,
    TokenLocked,
    TokenNotFound,
    TokenRemoved,
    WrongPin,
)
from .factory import token_from_settings
from .pkcs11 import Pkcs11Config, Pkcs11Token, SlotInfo, list_slots, refresh_module
from .pkcs12 import Pkcs12Config, Pkcs12Token
from .softhsm import SoftHsm, find_softhsm_module

__all__ = [
    "CertInfo",
    "Health",
    "KeyFileError",
    "KeyNotFound",
    "ModuleMissing",
    "Pkcs11Config",
    "Pkcs11Token",
    "Pkcs12Config",
    "Pkcs12Token",
    "SlotInfo",
    "SoftHsm",
    "Token",
    "TokenError",
    "TokenLocked",
    "TokenNotFound",
    "TokenRemoved",
    "WrongPin",
    "find_softhsm_module",
    "list_slots",
    "refresh_module",
    "token_from_settings",
]
