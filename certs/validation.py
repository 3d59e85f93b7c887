"""Validation contexts built from a trust store, and what revocation evidence they hold.

Revocation policy (Circular 15/2025, Appendix II): ask the CA's OCSP responder,
else use its latest CRL; if neither can be had, the check does not silently
pass: :func:`revocation_evidence` returns ``UNCHECKED`` and the caller warns.

Algorithms: the contexts accept SHA-1 in certificate *chains* (the Government
special-use G1 hierarchy, still in force until 2030, is SHA-1), so that chain,
trust and integrity can be established and reported. Whether a document
signature's own algorithms are strong enough (Circular 15/2025 Appendix I) is
judged by ``signer.verify``, which reports SHA-1, RSA < 2048 and EC < 256 itself.

Network: fetching is bounded by a short per-request timeout
(:data:`FETCH_TIMEOUT`) and happens only for validation "now"; validation at a
past moment (:func:`context_at`) never fetches and uses only the revocation
information it is given (e.g. embedded in the PDF). A process that validates many
files passes one :class:`~certs.fetching.SharedFetchers` (``shared=``) so the same
OCSP response or CRL is fetched once per few minutes, not once per signature.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Iterable
from typing import Any

from asn1crypto import x509

from .fetching import SharedFetchers
from .trust import TrustStore

#: seconds per OCSP/CRL/certificate request: an unreachable CA costs at most this
FETCH_TIMEOUT = 5

#: digest algorithms the validator itself refuses anywhere (chains included)
BROKEN_HASHES = frozenset({"md2", "md5"})


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
    shared: SharedFetchers | None = None,
) -> Any:
    """A pyHanko ValidationContext trusting ``store``'s anchors.

    ``online`` lets the validator fetch OCSP responses and CRLs named in the
    certificates; offline it uses only what it is given (e.g. embedded in a PDF).
    ``shared`` (online only) reuses what earlier contexts of this process fetched.
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
        weak_hash_algos=BROKEN_HASHES,
        fetcher_backend=(RequestsFetcherBackend(per_request_timeout=FETCH_TIMEOUT)
                         if online and shared is None else None),
        fetchers=shared.fetchers() if online and shared is not None else None,
    )


def context_at(base: Any, moment: dt.datetime, *, ocsps: Iterable[Any] = (),
               crls: Iterable[Any] = (), other_certs: Iterable[x509.Certificate] = ()) -> Any:
    """A context trusting what ``base`` trusts, validating at the past ``moment``.

    It never fetches: revocation comes only from ``ocsps``/``crls`` (embedded in the
    file, or already gathered by ``base``), so it cannot hang on the network.
    Revocation information issued *after* ``moment`` is accepted as evidence for it
    (``retroactive_revinfo``): an OCSP "good" gathered minutes after signing, as
    PAdES B-LT files carry, shows the certificate was not revoked when it signed.
    """
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy

    registry = base.certificate_registry
    registry.register_multiple(list(other_certs))
    return ValidationContext(
        trust_manager=base.path_builder.trust_manager,
        certificate_registry=registry,
        moment=moment,
        allow_fetching=False,
        revinfo_policy=CertRevTrustPolicy(base.revinfo_policy.revocation_checking_policy,
                                          retroactive_revinfo=True),
        algorithm_usage_policy=base.algorithm_policy,
        ocsps=[*base.ocsps, *ocsps],
        crls=[*base.crls, *crls],
    )


def _about(cert_id: Any, cert: x509.Certificate, issuer_key: Any) -> bool:
    """Whether an OCSP CertID names ``cert``: its serial and its issuer's name (and the
    issuer's key when known), not the serial alone — serials repeat across CAs."""
    try:
        if cert_id["serial_number"].native != cert.serial_number:
            return False
        algo = cert_id["hash_algorithm"]["algorithm"].native
        if cert_id["issuer_name_hash"].native != hashlib.new(algo, cert.issuer.dump()).digest():
            return False
        if issuer_key is None:
            return True
        key_hash = hashlib.new(algo, bytes(issuer_key["public_key"])).digest()
        return bool(cert_id["issuer_key_hash"].native == key_hash)
    except (KeyError, ValueError, TypeError):
        return False


def revocation_evidence(context: Any, cert: x509.Certificate,
                        issuer_key: Any = None) -> Revocation:
    """Which kind of revocation information the context holds for ``cert``.

    ``issuer_key`` (the issuer's ``PublicKeyInfo``, e.g. from the validation path)
    makes an OCSP response count only if it was made for that issuer's certificate.
    """
    manager = context.revinfo_manager
    serial = cert.serial_number
    for response in manager.ocsps:
        try:
            basic = response["response_bytes"]["response"].parsed
            singles = basic["tbs_response_data"]["responses"]
        except (KeyError, ValueError, TypeError):
            continue
        for single in singles:
            if _about(single["cert_id"], cert, issuer_key):
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
