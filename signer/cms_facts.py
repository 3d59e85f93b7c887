"""What a signature's CMS and its PDF say, read tolerantly: names, attributes, the
timestamp token, algorithm strength, revocation evidence stored in the file, the
PAdES level.

Nothing here validates anything; every reader returns an empty value rather than
raising on a malformed structure (real files carry non-standard attributes).
Algorithm strength follows Circular 15/2025 Appendix I: SHA-2/SHA-3 digests,
RSA ≥ 2048, ECDSA ≥ 256.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = [
    "MIN_EC_BITS",
    "MIN_RSA_BITS",
    "WEAK_DIGESTS",
    "attr",
    "embedded_revinfo",
    "has_signed_attrs",
    "human",
    "name_part",
    "pades_level",
    "timestamp_time",
    "timestamp_token",
    "weak_algorithms",
]

#: Circular 15/2025 Appendix I: SHA-2/SHA-3 digests, RSA >= 2048, ECDSA >= 256
WEAK_DIGESTS = frozenset({"md2", "md5", "sha1"})
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256


def name_part(name: Any, key: str) -> str:
    """One attribute of an X.501 name (``common_name``, ``organization_name`` …), or ""."""
    try:
        value = name.native.get(key, "")
    except Exception:  # noqa: BLE001 - a malformed name is shown as empty
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value)


def human(name: Any) -> str:
    """The whole name, human-readable, or ""."""
    try:
        return str(name.human_friendly)
    except Exception:  # noqa: BLE001
        return ""


def attr(attrs: Any, name: str) -> Any:
    """The first value of the CMS attribute ``name``, tolerating malformed neighbours.

    Never asks for the whole set's ``.native``: on a large timestamp token (its
    certificates, its own attributes) asn1crypto takes hundreds of milliseconds for it.
    """
    try:
        if attrs is None or len(attrs) == 0:  # absent (Void) or empty
            return None
    except Exception:  # noqa: BLE001 - e.g. 01's non-standard unsigned attribute
        pass
    try:
        for item in attrs:
            try:
                if item["type"].native == name:
                    return item["values"][0]
            except Exception:  # noqa: BLE001 - skip an attribute we cannot read
                continue
    except Exception:  # noqa: BLE001
        return None
    return None


def has_signed_attrs(signer_info: Any) -> bool:
    """Whether the signature has signed attributes at all (PAdES needs them)."""
    try:
        return len(signer_info["signed_attrs"]) > 0
    except Exception:  # noqa: BLE001
        return False


def timestamp_token(signer_info: Any) -> Any:
    """The SignedData of the signature timestamp token, or None."""
    token = attr(signer_info["unsigned_attrs"], "signature_time_stamp_token")
    return token["content"] if token is not None else None


def timestamp_time(signer_info: Any) -> dt.datetime | None:
    """The time the signature timestamp token states (not yet validated), or None."""
    try:
        token = timestamp_token(signer_info)
        if token is None:
            return None
        moment = token["encap_content_info"]["content"].parsed["gen_time"].native
        return moment if isinstance(moment, dt.datetime) else None
    except Exception:  # noqa: BLE001 - an unreadable token is no time
        return None


def weak_algorithms(embedded: Any, cert: Any) -> list[str]:
    """The signature's algorithms below Appendix I: digest, key, timestamp imprint."""
    weak: list[str] = []
    digest = str(embedded.md_algorithm).lower()
    if digest in WEAK_DIGESTS:
        weak.append(f"signature digest {digest}")
    try:
        mech = str(embedded.signer_info["signature_algorithm"]["algorithm"].native)
        if any(mech.startswith(h + "_") for h in WEAK_DIGESTS):
            weak.append(f"signature algorithm {mech}")
    except Exception:  # noqa: BLE001
        pass
    if cert is not None:
        algo, bits = cert.public_key.algorithm, cert.public_key.bit_size
        if algo == "rsa" and bits < MIN_RSA_BITS:
            weak.append(f"RSA key {bits} bits")
        elif algo == "ec" and bits < MIN_EC_BITS:
            weak.append(f"EC key {bits} bits")
        elif algo not in ("rsa", "ec", "rsassa_pss"):
            weak.append(f"{algo} key (not allowed)")
    try:
        token = timestamp_token(embedded.signer_info)
        if token is not None:
            tst = token["encap_content_info"]["content"].parsed
            imprint = str(tst["message_imprint"]["hash_algorithm"]["algorithm"].native)
            if imprint in WEAK_DIGESTS:
                weak.append(f"timestamp imprint {imprint}")
    except Exception:  # noqa: BLE001
        pass
    return weak


def embedded_revinfo(reader: Any, embedded: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """OCSP responses, CRLs and certificates stored in the file (DSS, Adobe attribute)."""
    ocsps: list[Any] = []
    crls: list[Any] = []
    certs: list[Any] = []
    try:
        from pyhanko.sign.validation.dss import DocumentSecurityStore

        dss = DocumentSecurityStore.read_dss(reader)
        context = dss.as_validation_context({"allow_fetching": False, "trust_roots": []})
        ocsps.extend(context.ocsps)
        crls.extend(context.crls)
        certs.extend(dss.load_certs())
    except Exception:  # noqa: BLE001 - no DSS (or an unreadable one)
        pass
    try:
        archival = attr(embedded.signer_info["signed_attrs"], "adobe_revocation_info_archival")
        if archival is not None:
            ocsps.extend(v for v in (archival["ocsp"] or []))
            crls.extend(v for v in (archival["crl"] or []))
    except Exception:  # noqa: BLE001
        pass
    return ocsps, crls, certs


def pades_level(embedded: Any, has_timestamp: bool, reader: Any) -> str:
    """``none`` (not CAdES), ``B-B``, ``B-T``, ``B-LT`` (DSS with OCSP/CRL), ``B-LTA``."""
    if embedded.sig_object.get("/SubFilter") != "/ETSI.CAdES.detached":
        return "none"
    if not has_timestamp:
        return "B-B"
    level = "B-T"
    try:
        dss = reader.root["/DSS"]
        if "/OCSPs" in dss or "/CRLs" in dss:
            level = "B-LT"
    except KeyError:
        pass
    if level == "B-LT" and any(s.sig_object.get("/Type") == "/DocTimeStamp"
                               for s in reader.embedded_signatures):
        level = "B-LTA"
    return level
