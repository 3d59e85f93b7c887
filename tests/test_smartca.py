"""VNPT SmartCA style remote signing: a batch sent as one transaction, confirmed once on
the phone, signed and validated; a refusal or a timeout leaves nothing signed. Against a
stand-in written from the provider's public API description (tests/support/smartca_standin.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.demo.demo import DemoCommune
from certs import Origin, TrustStore, validation_context
from signer import SigningOptions, verify_pdf
from signer.hashonly import finish, prepare_digest
from tokens import (
    CredentialUnavailable,
    PhoneConfirmationRefused,
    PhoneConfirmationTimedOut,
    RemoteAuthRefused,
    SmartCaProvider,
)
from tokens.digest import RawSignature

from .support.smartca_standin import SmartCaStandIn, serving

OFFICIAL = "chuyen-vien-vp"  # the demo official whose key is a file, as the service's is


def _context(commune: DemoCommune) -> Any:
    store = TrustStore()
    store.add(commune.pki.root, Origin.DEMO, "test")
    return validation_context(store, other_certs=commune.pki.chain)


@pytest.fixture
def standin(commune: DemoCommune) -> Iterator[SmartCaStandIn]:
    key = serialization.load_pem_private_key(
        (commune.pki.directory / "keys" / f"{OFFICIAL}.key.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    with serving(SmartCaStandIn(sp_id="kyso", sp_password="mat-khau-sp",
                                user_id="001234567890", key=key,
                                certificate=commune.pki.cert(OFFICIAL),
                                chain=[*commune.pki.chain, commune.pki.root])) as service:
        yield service


def provider(standin: SmartCaStandIn, **kwargs: Any) -> SmartCaProvider:
    return SmartCaProvider(standin.base_url, standin.sp_id, standin.sp_password,
                           standin.user_id, poll_seconds=0.05, **kwargs)


def in_background(call: Any) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except Exception as exc:  # noqa: BLE001 — handed to the test thread to assert on
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_the_certificate_and_its_chain_come_from_the_account(standin: SmartCaStandIn) -> None:
    smartca = provider(standin)
    (cid,) = smartca.credentials()
    credential = smartca.credential(cid)
    assert credential.certificate.dump() == standin.certificate.dump()
    assert len(credential.chain) == 2 and credential.auth_mode == "implicit"
    assert "mat-khau-sp" not in repr(smartca)


def test_a_batch_is_one_confirmation_on_the_phone_and_every_file_validates(
        standin: SmartCaStandIn, commune: DemoCommune, sample_pdf: bytes) -> None:
    countdown: list[float] = []
    smartca = provider(standin, on_waiting=countdown.append)
    credential = smartca.credential("cert-1")
    options = SigningOptions(tsa_url=commune.pki.tsa_url, validation_context=_context(commune))
    pending = [prepare_digest(sample_pdf, credential.certificate, options, chain=credential.chain)
               for _ in range(3)]
    digests = [p.digest for p in pending]

    thread, outcome = in_background(lambda: smartca.authorize("cert-1", digests))
    transaction = standin.next_transaction()  # the phone shows one request ...
    assert [d for _, d in transaction.digests] == digests  # ... for the whole batch
    standin.wait_polled(transaction, 2)  # while the page counts down
    standin.confirm(transaction)
    thread.join(timeout=60)
    authorization = outcome["value"]
    assert len(standin.transactions) == 1 and countdown  # the page had a countdown
    assert countdown == sorted(countdown, reverse=True)

    signatures = smartca.sign_digests(authorization, digests)
    for p, value in zip(pending, signatures, strict=True):
        signed = finish(p, RawSignature(value, p.algorithm))
        report = verify_pdf(signed, lambda: _context(commune))
        (sig,) = report.signatures
        assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
        assert report.verdict == "valid"


def test_a_refusal_on_the_phone_signs_nothing(standin: SmartCaStandIn) -> None:
    smartca = provider(standin)
    thread, outcome = in_background(lambda: smartca.authorize("cert-1", [b"\x01" * 32]))
    standin.refuse(standin.next_transaction())
    thread.join(timeout=60)
    error = outcome["error"]
    assert isinstance(error, PhoneConfirmationRefused) and "từ chối" in error.vi


def test_no_confirmation_in_time_is_a_timeout_and_the_documents_still_wait(
        standin: SmartCaStandIn) -> None:
    smartca = provider(standin, confirm_seconds=0.3)
    with pytest.raises(PhoneConfirmationTimedOut) as timed_out:
        smartca.authorize("cert-1", [b"\x02" * 32])
    assert "vẫn chờ ký" in timed_out.value.vi
    assert standin.next_transaction().state == "waiting"  # never confirmed, never signed


def test_a_wrong_integrator_password_is_refused(standin: SmartCaStandIn) -> None:
    wrong = SmartCaProvider(standin.base_url, standin.sp_id, "sai", standin.user_id)
    with pytest.raises(RemoteAuthRefused):
        wrong.credentials()


def test_an_expired_or_revoked_certificate_is_refused_before_the_phone_rings(
        standin: SmartCaStandIn) -> None:
    standin.cert_status = "0"
    smartca = provider(standin)
    assert not smartca.credential("cert-1").enabled
    with pytest.raises(CredentialUnavailable):
        smartca.authorize("cert-1", [b"\x03" * 32])
    assert standin.transactions == {}
