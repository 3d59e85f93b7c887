"""Certificates and trust: the trust store, validation contexts and the DEMO PKI."""

from .demo_pki import (
    COMMUNE,
    OFFICIALS,
    DemoPki,
    official,
)
from .errors import (
    CertsError,
)
from .fetching import (
    SharedFetchers,
)
from .services import free_port, serving
from .trust import (
    DEMO_MARKER,
    Origin,
    TrustedCert,
    TrustStore,
    bundled_store,
    load_certificates,
)
from .validation import Revocation, context_at, revocation_evidence, validation_context

__all__ = [
    "COMMUNE",
    "CertsError",
    "DEMO_MARKER",
    "DemoPki",
    "OFFICIALS",
    "Origin",
    "Revocation",
    "SharedFetchers",
    "TrustStore",
    "TrustedCert",
    "bundled_store",
    "context_at",
    "free_port",
    "load_certificates",
    "official",
    "revocation_evidence",
    "serving",
    "validation_context",
]
