"""Certificates and trust: the trust store, validation contexts and the DEMO PKI."""

from .demo_pki import ARCH, COMMUNE, OFFICIALS, DemoPki, Official, official
from .errors import CertificateRefused, CertsError
from .fetching import SHARED_FETCH_TTL, SharedFetchers
from .services import free_port, serving
from .trust import DEMO_MARKER, Origin, TrustedCert, TrustStore, bundled_store, load_certificates
from .validation import Revocation, context_at, revocation_evidence, validation_context

__all__ = [
    "ARCH",
    "COMMUNE",
    "DEMO_MARKER",
    "OFFICIALS",
    "SHARED_FETCH_TTL",
    "CertificateRefused",
    "CertsError",
    "DemoPki",
    "Official",
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
