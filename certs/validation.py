"""Validation contexts built from a trust store, and what revocation evidence they hold.

Revocation policy (Circular 15/2025, Appendix II): ask the CA's OCSP responder,
else use its latest CRL; if neither can be had, the check does not silently
pass: :func:`revocation_evidence` returns ``None`` and the caller warns.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

from asn1crypto import x509

from .trust import TrustStore


class Revocation(enum.Enum):
    """How the signer certificate's status was established."""

    OCSP = "ocsp"
    CRL = "crl"
    REVOKED = "revoked"
    UNCHECKED = "unchecked"  # neither OCSP nor CRL could be had: a warning, never a pass


def validation_context(
    store: TrustStore,
    *,
    online: bool = True,
    other_certs: Iterable[x509.Certificate] = (),
    moment: dt.datetime | None = None,
    ocsps: Iterable[Any] = (),
    crls: Iterable[Any] = (),
) -> Any:
    """A pyHanko ValidationContext trusting ``store``'s anchors.

    ``online`` lets the validator fetch OCSP responses and CRLs named in the
    certificates; offline it uses only what it is given (e.g. embedded in a PDF).
    """
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

    return ValidationContext(
        trust_roots=store.anchors,
        other_certs=[*store.intermediates, *other_certs],
        allow_fetching=online,
        revocation_mode="soft-fail",
        moment=moment,
        ocsps=list(ocsps),
        crls=list(crls),
        fetcher_backend=RequestsFetcherBackend(per_request_timeout=10) if online else None,
    )


def revocation_evidence(context: Any, cert: x509.Certificate) -> Revocation:
    """Which kind of revocation information the context holds for ``cert``."""
    manager = context.revinfo_manager
    serial = cert.serial_number
    for response in manager.ocsps:
        try:
            basic = response["response_bytes"]["response"].parsed
            singles = basic["tbs_response_data"]["responses"]
        except (KeyError, ValueError, TypeError):
            continue
        for single in singles:
            if single["cert_id"]["serial_number"].native == serial:
                if single["cert_status"].name == "revoked":
                    return Revocation.REVOKED
                return Revocation.OCSP
    for crl in manager.crls:
        if crl.issuer == cert.issuer:
            for entry in crl["tbs_cert_list"]["revoked_certificates"]:
                if entry["user_certificate"].native == serial:
                    return Revocation.REVOKED
            return Revocation.CRL
    return Revocation.UNCHECKED
