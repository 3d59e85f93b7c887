"""The slow-token wrapper (tests/support/slowtoken.c): a SoftHSM token whose every signature
takes as long as on a real USB token, for the batch-signing benchmark."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_der_x509_certificate

from api.datadir import DataDir
from api.demo.demo import DEMO_PIN, DemoCommune
from certs import validation_context
from signer import SigningOptions, sign_pdf
from tokens import Pkcs11Config, Pkcs11Token

from .helpers import verify
from .support.native import ENV_SLOW_MODULE, ENV_SLOW_SIGN_MS, build_slow_token

LABEL = "pho-chu-tich-duc"  # RSA-2048 on SoftHSM
DELAY_MS = 200


@pytest.fixture(scope="module")
def slow_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_slow_token(tmp_path_factory.mktemp("slowtoken"))


@pytest.fixture
def slow_session(slow_module: Path, commune: DemoCommune,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A logged-in python-pkcs11 session on the demo token, opened through the wrapper."""
    import pkcs11

    monkeypatch.setenv(ENV_SLOW_MODULE, commune.hsm.module)
    monkeypatch.setenv(ENV_SLOW_SIGN_MS, str(DELAY_MS))
    lib = pkcs11.lib(str(slow_module))
    token = lib.get_token(token_label=LABEL)
    with token.open(user_pin=DEMO_PIN) as session:
        yield session


def test_a_signature_takes_the_delay_and_verifies(
        slow_session: Any, commune: DemoCommune, monkeypatch: pytest.MonkeyPatch) -> None:
    from pkcs11 import KeyType, Mechanism, ObjectClass

    key = slow_session.get_key(ObjectClass.PRIVATE_KEY, KeyType.RSA, label=LABEL)
    message = "Quyết định số 05/QĐ-UBND".encode()
    public_key = load_der_x509_certificate(commune.pki.cert(LABEL).dump()).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)

    timings = []
    for _ in range(2):
        start = time.perf_counter()
        signature = key.sign(message, mechanism=Mechanism.SHA256_RSA_PKCS)
        timings.append(time.perf_counter() - start)
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    assert min(timings) >= DELAY_MS / 1000

    monkeypatch.setenv(ENV_SLOW_SIGN_MS, "0")  # read on every call: now as fast as SoftHSM
    start = time.perf_counter()
    signature = key.sign(message, mechanism=Mechanism.SHA256_RSA_PKCS)
    assert time.perf_counter() - start < DELAY_MS / 1000
    public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def test_kyso_signs_a_pdf_through_the_slow_token(
        slow_module: Path, data: DataDir, commune: DemoCommune, sample_pdf: bytes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_SLOW_MODULE, commune.hsm.module)
    monkeypatch.setenv(ENV_SLOW_SIGN_MS, str(DELAY_MS))
    token = Pkcs11Token(Pkcs11Config(name="usb", module=str(slow_module), token_label=LABEL,
                                     key_label=LABEL))
    store = data.trust_store()
    with token.signer(DEMO_PIN) as signer:
        start = time.perf_counter()
        signed = sign_pdf(sample_pdf, signer, SigningOptions(
            validation_context=validation_context(store, online=True)))
        elapsed = time.perf_counter() - start
    assert elapsed >= DELAY_MS / 1000
    report = verify(data, signed)
    assert report.verdict == "valid", [r.en for s in report.signatures for r in s.reasons]
    sig = report.signatures[0]
    assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
