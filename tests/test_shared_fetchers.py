"""The per-process cache of fetched OCSP responses and CRLs (certs.fetching), and
verification doing no more validator runs than it needs."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pyhanko_certvalidator.authority import AuthorityWithCert
from pyhanko_certvalidator.errors import OCSPFetchError

import signer.timed_validation as timed
from api.cli.batch_verify import collect, run_batch
from api.datadir import DataDir
from api.demo.demo import DemoCommune
from certs import (
    OFFICIALS,
    DemoPki,
    Revocation,
    SharedFetchers,
    bundled_store,
    free_port,
    revocation_evidence,
    serving,
    validation_context,
)
from signer import Verdict, verify_pdf

from .conftest import TESTS_DATA
from .helpers import sign_as


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def signed(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> bytes:
    return sign_as(data, commune.pki, "chu-tich", sample_pdf)


@pytest.fixture(scope="module")
def spare_pki(tmp_path_factory: pytest.TempPathFactory) -> DemoPki:
    """A second demo PKI (software keys only), not served until a test serves it."""
    return DemoPki.create(tmp_path_factory.mktemp("spare") / "pki", free_port(), {})


def _file_keyed() -> str:
    return next(o.label for o in OFFICIALS if o.key_store == "file")


def _issuer(pki: DemoPki, label: str) -> Any:
    cert = pki.cert(label)
    return next(c for c in pki.chain if c.subject == cert.issuer)


def test_one_fetch_serves_many_signatures_until_the_ttl(data: DataDir, commune: DemoCommune,
                                                       signed: bytes) -> None:
    store = data.trust_store()
    clock = Clock()
    cache = SharedFetchers(dt.timedelta(minutes=5), clock=clock)

    def verify() -> None:
        report = verify_pdf(signed, lambda: validation_context(store, online=True,
                                                               shared=cache), "x", store)
        assert report.verdict is Verdict.VALID, report.to_dict()
        assert report.signatures[0].revocation == Revocation.OCSP.value

    verify()
    fetched = cache.misses
    assert fetched >= 1 and len(cache) >= 1  # the signer's OCSP response at least
    for _ in range(3):
        verify()
    assert cache.misses == fetched  # nothing fetched again
    assert cache.hits >= 3 * fetched

    clock.now += 5 * 60 + 1  # past the time to live: fetched again, still valid
    verify()
    assert cache.misses == 2 * fetched


def test_each_context_sees_only_what_it_used(data: DataDir, commune: DemoCommune,
                                             signed: bytes) -> None:
    store = data.trust_store()
    cache = SharedFetchers()
    verify_pdf(signed, lambda: validation_context(store, online=True, shared=cache), "x", store)
    assert len(cache) >= 1
    fresh = validation_context(store, online=True, shared=cache)
    assert fresh.revinfo_manager.ocsps == [] and fresh.revinfo_manager.crls == []


def test_a_failed_fetch_is_not_kept(spare_pki: DemoPki) -> None:
    label = _file_keyed()
    cert = spare_pki.cert(label)
    authority = AuthorityWithCert(_issuer(spare_pki, label))
    cache = SharedFetchers(timeout=2)
    with pytest.raises(OCSPFetchError):  # nobody serves the spare PKI yet
        asyncio.run(cache.fetchers().ocsp_fetcher.fetch(cert, authority))
    assert len(cache) == 0
    with serving(spare_pki):
        response = asyncio.run(cache.fetchers().ocsp_fetcher.fetch(cert, authority))
    assert response["response_status"].native == "successful"
    assert len(cache) == 1


def test_ocsp_evidence_must_name_the_issuer(data: DataDir, commune: DemoCommune,
                                            signed: bytes, spare_pki: DemoPki) -> None:
    """Same serial and same issuer name under another CA key: not evidence for it."""
    store = data.trust_store()
    contexts: list[Any] = []

    def context() -> Any:
        contexts.append(validation_context(store, online=True))
        return contexts[-1]

    verify_pdf(signed, context, "x", store)
    used = contexts[0]
    ours = commune.pki.cert("chu-tich")
    other = spare_pki.cert(_file_keyed())
    assert other.serial_number == ours.serial_number and other.issuer == ours.issuer
    ours_key = _issuer(commune.pki, "chu-tich").public_key
    other_key = _issuer(spare_pki, _file_keyed()).public_key
    assert revocation_evidence(used, ours, ours_key) is Revocation.OCSP
    assert revocation_evidence(used, other, other_key) is Revocation.UNCHECKED


def test_expired_offline_is_validated_once_at_the_timestamp(
        monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[Any] = []
    real = timed.validate

    def counting(embedded: Any, context: Any) -> Any:
        runs.append(context.moment)
        return real(embedded, context)

    monkeypatch.setattr(timed, "validate", counting)
    store = bundled_store()
    pdf = next((TESTS_DATA / "real").glob("01_*.pdf")).read_bytes()
    (sig,) = verify_pdf(pdf, lambda: validation_context(store, online=False), "01",
                        store).signatures
    assert sig.validation_time_source == "timestamp" and sig.cert_expired
    assert sig.intact and sig.valid and sig.trusted
    assert len(runs) == 1 and runs[0].year == 2018  # not "now", then 2018: only 2018


def test_batch_workers_report_ocsp_with_their_cache(data: DataDir, commune: DemoCommune,
                                                    signed: bytes, tmp_path: Path) -> None:
    for i in range(8):
        (tmp_path / f"vb-{i}.pdf").write_bytes(signed)
    rows = run_batch(collect([tmp_path]), data, workers=2, keep_reports=True)
    assert [r.verdict for r in rows] == ["valid"] * 8
    assert all(r.report is not None and r.report["signatures"][0]["revocation"] == "ocsp"
               for r in rows)


def test_a_folder_carries_an_ocsp_answer_to_the_next_process(spare_pki: DemoPki,
                                                              tmp_path: Path) -> None:
    """What ``kyso sign`` keeps in the data directory: the next process, with nothing in
    memory and the responder gone, gets the answer from disk — for as long as the
    responder's own producedAt is within the time to live, whatever the file's date."""
    import os

    label = _file_keyed()
    cert = spare_pki.cert(label)
    authority = AuthorityWithCert(_issuer(spare_pki, label))
    folder = tmp_path / "revocation"
    with serving(spare_pki):
        fetched = asyncio.run(SharedFetchers(folder=folder).fetchers().ocsp_fetcher.fetch(
            cert, authority))
    kept = sorted(folder.iterdir())
    assert [p.name.split("-")[0] for p in kept] == ["ocsp"]

    later = SharedFetchers(folder=folder, timeout=2)  # a new process: nothing in memory
    again = asyncio.run(later.fetchers().ocsp_fetcher.fetch(cert, authority))
    assert again.dump() == fetched.dump() and later.hits == 1 and later.misses == 0

    # the file's date does not count for an OCSP answer: its producedAt does
    os.utime(kept[0], (0, 0))
    assert asyncio.run(SharedFetchers(folder=folder).fetchers().ocsp_fetcher.fetch(
        cert, authority)).dump() == fetched.dump()
    with pytest.raises(OCSPFetchError):  # too old for this time to live: asked again
        asyncio.run(SharedFetchers(dt.timedelta(0), folder=folder, timeout=2)
                    .fetchers().ocsp_fetcher.fetch(cert, authority))
    kept[0].write_bytes(b"not DER")  # damaged: asked again, not an error of its own
    with pytest.raises(OCSPFetchError):
        asyncio.run(SharedFetchers(folder=folder, timeout=2).fetchers().ocsp_fetcher.fetch(
            cert, authority))
