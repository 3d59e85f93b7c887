"""Where private keys live, behind one interface: PKCS#11 tokens, PKCS#12 files and
remote signing services (CSC API v2)."""

from .base import CertInfo, Health, Token
from .csc import CscAuth, CscProvider, CscToken, csc_signer
from .diagnose import Check, DoctorConfig, ModuleCandidate, run_checks
from .digest import (
    DigestRefused,
    DigestSigner,
    DigestSigningUnsupported,
    RawSignature,
    SoftwareDigestSigner,
)
from .errors import (
    CredentialUnavailable,
    HashCountMismatch,
    KeyFileError,
    KeyNotFound,
    ModuleMissing,
    PhoneConfirmationRefused,
    PhoneConfirmationTimedOut,
    RemoteAuthRefused,
    RemoteServerError,
    RemoteSigningError,
    RemoteUnreachable,
    SadExpired,
    TokenError,
    TokenLocked,
    TokenNotFound,
    TokenRemoved,
    WrongOtp,
    WrongPin,
)
from .factory import RemoteNotConfigured, provider_from_settings, token_from_settings
from .pkcs11 import (
    Pkcs11Config,
    Pkcs11DigestSigner,
    Pkcs11Token,
    SlotInfo,
    find_certificate,
    list_slots,
    refresh_module,
)
from .pkcs12 import Pkcs12Config, Pkcs12Token
from .remote import Authorization, Grant, RemoteCredential, RemoteSigningProvider
from .smartca import SmartCaProvider
from .softhsm import SoftHsm, find_softhsm_module

__all__ = [
    "Authorization",
    "CertInfo",
    "Check",
    "DigestRefused",
    "DigestSigner",
    "DigestSigningUnsupported",
    "DoctorConfig",
    "CredentialUnavailable",
    "CscAuth",
    "CscProvider",
    "CscToken",
    "Grant",
    "HashCountMismatch",
    "Health",
    "KeyFileError",
    "KeyNotFound",
    "ModuleCandidate",
    "ModuleMissing",
    "Pkcs11Config",
    "Pkcs11DigestSigner",
    "Pkcs11Token",
    "Pkcs12Config",
    "Pkcs12Token",
    "PhoneConfirmationRefused",
    "PhoneConfirmationTimedOut",
    "RemoteAuthRefused",
    "SmartCaProvider",
    "RemoteCredential",
    "RemoteServerError",
    "RemoteSigningError",
    "RemoteSigningProvider",
    "RemoteUnreachable",
    "SadExpired",
    "RawSignature",
    "RemoteNotConfigured",
    "SlotInfo",
    "SoftwareDigestSigner",
    "SoftHsm",
    "Token",
    "TokenError",
    "TokenLocked",
    "TokenNotFound",
    "TokenRemoved",
    "WrongOtp",
    "WrongPin",
    "csc_signer",
    "find_certificate",
    "provider_from_settings",
    "find_softhsm_module",
    "list_slots",
    "refresh_module",
    "run_checks",
    "token_from_settings",
]
