"""Real signed PDFs (tests/data/real/, origins in its README) judged as SOURCES.md expects.

Validation is offline against Kyso's bundled Vietnamese trust store only: real CAs'
revocation services cannot be reached, so a missing OCSP/CRL is a WARNING
(indeterminate), never a pass. Each file's verdict and why: docs/verification.md.
"""

from __future__ import annotations

import json
import time
import unicodedata
from dataclasses import asdict
from pathlib import Path

import pytest

from certs import TrustStore, bundled_store, validation_context
from signer import Report, SignatureReport, verify_pdf

REAL = Path(__file__).parent / "data" / "real"
G1_ROOT = "Co quan chung thuc so chuyen dung Chinh phu (RootCA)"
NEAC_ROOT = "Vietnam National Root CA"
PORTAL = "Cổng Thông tin điện tử Chính phủ"


@pytest.fixture(scope="module")
def store() -> TrustStore:
    return bundled_store()


def _verify(store: TrustStore, name: str, online: bool = False) -> Report:
    data = next(REAL.glob(f"{name}_*.pdf")).read_bytes()
    return verify_pdf(data, lambda: validation_context(store, online=online), name, store)


def _codes(sig: SignatureReport) -> set[str]:
    return {r.code for r in sig.reasons}


@pytest.mark.parametrize("name, tsa", [("01", "Máy chủ cấp dấu thời gian"),
                                       ("02", "Máy chủ cấp dấu thời gian 01")])
def test_government_portal_decrees_are_trusted_at_their_timestamp(
        store: TrustStore, name: str, tsa: str) -> None:
    report = _verify(store, name)
    (sig,) = report.signatures
    # who: the Government portal, under the special-use CA G1, whose root Kyso bundles
    assert sig.signer == PORTAL
    assert sig.signer_organisation == "Văn phòng Chính phủ"
    assert sig.issuer == "Co quan chung thuc so Chinh phu"
    assert G1_ROOT in sig.trust_anchor and sig.trust_anchor_origin == "bundled"
    # only the leaf is embedded: the intermediate came from the trust store
    assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
    assert sig.coverage == "entire_file" and sig.modification_level == "none"
    # the signer and (for 01) the TSA certificate have expired: validated at the timestamp
    assert sig.cert_expired
    assert sig.timestamp_valid and sig.timestamp_authority == tsa
    assert sig.validation_time_source == "timestamp"
    assert sig.validation_time == sig.timestamp
    assert sig.valid_at_signing is True
    # SHA-1 and no reachable revocation service: indeterminate, for these two reasons only
    assert sig.digest_algorithm == "sha1"
    assert "signature digest sha1" in sig.weak_algorithms
    assert _codes(sig) == {"weak_algorithm", "revocation_unchecked"}
    assert report.verdict == sig.verdict == "indeterminate"


def test_signing_time_after_the_timestamp_is_only_a_note(store: TrustStore) -> None:
    (sig,) = _verify(store, "02").signatures
    assert sig.signing_time is not None and sig.timestamp is not None
    assert "clock_skew" in {n.code for n in sig.notes}
    assert "18 s" in next(n.en for n in sig.notes if n.code == "clock_skew")


def test_validating_now_would_not_trust_the_expired_signer(store: TrustStore) -> None:
    """The control for the test above: bare pyHanko, validating today, does not trust it."""
    from pyhanko.sign.validation import validate_pdf_signature

    from signer import open_reader

    (embedded,) = open_reader(next(REAL.glob("01_*.pdf")).read_bytes()).embedded_signatures
    status = validate_pdf_signature(embedded, validation_context(store, online=False))
    assert status.intact and not status.trusted


def test_two_company_signatures_under_neac(store: TrustStore) -> None:
    report = _verify(store, "03")
    first, second = report.signatures
    assert first.signer == "CÔNG TY CỔ PHẦN HỆ THỐNG LUẬT NGUYỄN" and first.issuer == "EASYCA"
    assert second.signer == "CÔNG TY TNHH DỊCH VỤ CÔNG NGHỆ TRỰC TUYẾN"
    assert second.issuer == "MISA-CA"
    for sig in (first, second):
        assert NEAC_ROOT in sig.trust_anchor and sig.trust_anchor_origin == "bundled"
        assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
        assert sig.cert_expired and sig.validation_time_source == "claimed_signing_time"
        assert {"expired_no_poe", "weak_algorithm"} <= _codes(sig)
        assert sig.verdict == "indeterminate"
    # the first signs revision 1 of 2; what followed is a signature and validation data
    assert (first.coverage, first.modification_level) == ("entire_revision", "form_filling")
    assert (first.revision, first.revisions_after) == (1, 1)
    assert {c.kind for c in first.changes} == {"signature", "dss"}
    # the DSS added later holds an OCSP response for the first signer: used offline
    assert first.revocation == "ocsp"
    assert second.revocation == "unchecked" and "revocation_unchecked" in _codes(second)
    assert (second.coverage, second.revisions_after) == ("entire_file", 0)
    assert report.verdict == "indeterminate"


def test_misa_cades_signature_is_sha256_but_expired_without_proof(store: TrustStore) -> None:
    (sig,) = _verify(store, "04").signatures
    assert sig.signer == "CÔNG TY TNHH DỊCH VỤ CÔNG NGHỆ TRỰC TUYẾN" and sig.issuer == "MISA-CA"
    assert NEAC_ROOT in sig.trust_anchor
    assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
    assert sig.pades_level == "B-B" and sig.subfilter == "ETSI.CAdES.detached"
    assert sig.weak_algorithms == []
    assert _codes(sig) == {"expired_no_poe", "revocation_unchecked"}


def test_self_signed_signer_with_digicert_timestamp_is_not_trusted(store: TrustStore) -> None:
    (sig,) = _verify(store, "05").signatures
    assert sig.signer == "Do The Sang" and sig.issuer == "Do The Sang"
    assert (sig.intact, sig.valid, sig.trusted) == (True, True, False)
    assert sig.timestamp_authority == "DigiCert Timestamp 2024" and not sig.timestamp_valid
    assert {"untrusted", "timestamp_untrusted"} <= _codes(sig)
    assert sig.verdict == "indeterminate"


def test_signature_without_signed_attributes_is_read_but_not_trusted(store: TrustStore) -> None:
    (sig,) = _verify(store, "06").signatures
    assert sig.signer == "RSSP" and sig.issuer == "RSSP"
    assert (sig.intact, sig.valid, sig.trusted) == (True, True, False)
    assert "no_signed_attributes" in {n.code for n in sig.notes}
    assert "untrusted" in _codes(sig) and sig.verdict == "indeterminate"


def test_cms_without_certificates_names_the_missing_signer(store: TrustStore) -> None:
    report = _verify(store, "07")
    (sig,) = report.signatures
    assert sig.signer == "" and not sig.trusted
    assert "no_signing_certificate" in _codes(sig)
    assert sig.intact  # the digest still matches: it is the signer that is unknown
    assert sig.signing_time is not None and sig.signing_time.startswith("2023-11-13")
    assert report.verdict == "indeterminate"


def test_no_real_file_is_valid_and_none_crashes_online_either(store: TrustStore) -> None:
    started = time.monotonic()
    verdicts = {name: _verify(store, name, online=True).verdict
                for name in ("01", "02", "03", "04", "05", "06", "07")}
    assert set(verdicts.values()) == {"indeterminate"}
    # no network here: fetching fails fast or times out per request (FETCH_TIMEOUT)
    assert time.monotonic() - started < 60


def test_report_carries_what_article_6_requires(store: TrustStore) -> None:
    report = _verify(store, "01")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["schema"] == "kyso.verify/1"
    sig = data["signatures"][0]
    article_6 = {
        "issuing CA": ("issuer", "issuer_dn"),
        "signer": ("signer", "signer_dn"),
        "managing unit": ("signer_organisation",),
        "signing time or timestamp": ("signing_time", "timestamp"),
        "integrity": ("intact",),
        "validity at signing": ("valid_at_signing", "validation_time"),
        "certificate validity period": ("cert_valid_from", "cert_valid_to"),
    }
    for what, keys in article_6.items():
        for key in keys:
            assert sig[key] not in (None, ""), what
    assert sig["cert_valid_from"].startswith("2014-01-15")
    for reason in sig["reasons"]:
        assert reason["vi"] == unicodedata.normalize("NFC", reason["vi"])
        assert reason["code"] and reason["en"]
    assert asdict(report.signatures[0])["issuer_dn"].startswith("Common Name: Co quan")
