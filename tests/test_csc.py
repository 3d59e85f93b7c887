"""Remote signing through CSC API v2, against the CSC v2 test server process
(tests/support/csc_server.py, keys on SoftHSM): batches under one authorisation,
SCAL 1 and 2, OAuth2, the errors, and PDFs signed end to end and validated."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
import unicodedata
import urllib.parse
from typing import Any

import httpx
import pytest
from asn1crypto import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from api.demo.demo import DEMO_PIN, DemoCommune
from certs import Origin, TrustStore, free_port, validation_context
from signer import SigningOptions, sign_pdf, verify_pdf
from tokens import (
    CredentialUnavailable,
    CscAuth,
    CscProvider,
    CscToken,
    HashCountMismatch,
    RemoteAuthRefused,
    RemoteSigningError,
    RemoteUnreachable,
    SadExpired,
    TokenError,
    WrongOtp,
    WrongPin,
)
from tokens.csc import RSASSA_PSS

from .csc_fixtures import CscService, csc_service_fixture  # noqa: F401


class Recording(httpx.Client):
    """A real client that remembers which CSC methods were called, with what body."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []

    def request(self, method: str, url: str,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> httpx.Response:
        path = urllib.parse.urlsplit(str(url)).path
        self.calls.append((path.split("/csc/v2/")[-1], kwargs.get("json")))
        return super().request(method, url, *args, **kwargs)

    def count(self, method: str) -> int:
        return sum(1 for name, _ in self.calls if name == method)

    def bodies(self, method: str) -> list[Any]:
        return [body for name, body in self.calls if name == method]


def _digests(n: int) -> list[bytes]:
    return [hashlib.sha256(secrets.token_bytes(32)).digest() for _ in range(n)]


def _verify(cert: x509.Certificate, digest: bytes, signature: bytes, pss: bool = False) -> None:
    """Raises cryptography's InvalidSignature unless ``signature`` signs ``digest``."""
    key = serialization.load_der_public_key(cert.public_key.dump())
    if isinstance(key, rsa.RSAPublicKey):
        pad: padding.AsymmetricPadding = (
            padding.PSS(padding.MGF1(hashes.SHA256()), 32) if pss else padding.PKCS1v15())
        key.verify(signature, digest, pad, Prehashed(hashes.SHA256()))
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def _context(commune: DemoCommune) -> Any:
    store = TrustStore()
    store.add(commune.pki.root, Origin.DEMO, "test")
    return validation_context(store, other_certs=commune.pki.chain)


# --- service and credentials -------------------------------------------------------------


def test_info_says_csc_v2_with_oauth2(csc_service: CscService) -> None:
    info = csc_service.provider().info()
    assert info["specs"] == "2.0.0.2"
    assert info["oauth2"] == csc_service.base_url
    assert {"oauth2client", "oauth2code"} <= set(info["authType"])
    assert "signatures/signHash" in info["methods"]


def test_list_and_info_give_the_certificate_and_its_chain(
        csc_service: CscService, commune: DemoCommune) -> None:
    provider = csc_service.provider()
    assert {"chu-tich", "pho-chu-tich-ec", "ubnd-oauth2", "khoa"} <= set(provider.credentials())
    cred = provider.credential("chu-tich")
    assert cred.certificate.dump() == commune.pki.cert("chu-tich").dump()
    assert [c.dump() for c in cred.chain] == [commune.pki.cert("interm").dump(),
                                              commune.pki.root.dump()]
    assert (cred.key_algorithm, cred.key_length, cred.scal, cred.multisign) == ("rsa", 2048, 1, 20)
    assert cred.auth_mode == "explicit" and cred.auth_objects == ("PIN",) and cred.enabled
    assert "1.2.840.113549.1.1.11" in cred.sign_algorithms
    ec_cred = provider.credential("pho-chu-tich-ec")
    assert (ec_cred.key_algorithm, ec_cred.scal) == ("ec", 2)
    assert ec_cred.sign_algorithms == ("1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3",
                                       "1.2.840.10045.4.3.4")
    assert provider.credential("ubnd-oauth2").auth_mode == "oauth2code"
    assert provider.credential("truong-phong-otp").auth_objects == ("PIN", "OTP")
    assert not provider.credential("khoa").enabled


def test_credentials_info_is_spec_shaped(csc_service: CscService) -> None:
    reply = httpx.post(f"{csc_service.base_url}/csc/v2/credentials/info", timeout=10,
                       headers={"Authorization": f"Bearer {csc_service.static_token}"},
                       json={"credentialID": "pho-chu-tich-ec", "certificates": "single",
                             "certInfo": True, "authInfo": True}).json()
    assert len(reply["cert"]["certificates"]) == 1
    assert reply["cert"]["status"] == "valid"
    assert "Trần Thị Thu Hà" in reply["cert"]["subjectDN"]
    assert len(reply["cert"]["validTo"]) == 15 and reply["cert"]["validTo"].endswith("Z")
    assert reply["key"] == {"status": "enabled", "algo": reply["key"]["algo"], "len": 256,
                            "curve": "1.2.840.10045.3.1.7"}
    assert reply["SCAL"] == "2" and reply["multisign"] == 10
    assert reply["auth"]["mode"] == "explicit"
    assert reply["auth"]["objects"][0]["id"] == "PIN"


# --- batches -----------------------------------------------------------------------------


def test_a_batch_of_ten_takes_one_pin_and_one_signhash_call(csc_service: CscService) -> None:
    session = Recording()
    provider = csc_service.provider(session=session)
    cred = provider.credential("chu-tich")
    digests = _digests(10)
    auth = provider.authorize("chu-tich", digests, DEMO_PIN)
    signatures = provider.sign_digests(auth, digests)
    assert session.count("credentials/authorize") == 1
    assert session.count("signatures/signHash") == 1
    (authorize,) = session.bodies("credentials/authorize")
    assert authorize["numSignatures"] == 10 and "hashes" not in authorize  # SCAL 1
    assert authorize["authData"] == [{"id": "PIN", "value": DEMO_PIN}]
    (sign,) = session.bodies("signatures/signHash")
    assert len(sign["hashes"]) == 10 and sign["signAlgo"] == "1.2.840.113549.1.1.11"
    assert len(signatures) == 10
    for digest, signature in zip(digests, signatures, strict=True):
        _verify(cred.certificate, digest, signature)
    with pytest.raises(InvalidSignature):
        _verify(cred.certificate, digests[1], signatures[0])


def test_scal2_binds_the_sad_to_the_hashes_ec_key(csc_service: CscService) -> None:
    session = Recording()
    provider = csc_service.provider(session=session)
    cred = provider.credential("pho-chu-tich-ec")
    digests = _digests(10)
    auth = provider.authorize("pho-chu-tich-ec", digests, DEMO_PIN)
    (authorize,) = session.bodies("credentials/authorize")
    assert authorize["hashes"] == [base64.b64encode(d).decode() for d in digests]
    assert authorize["hashAlgorithmOID"] == "2.16.840.1.101.3.4.2.1"
    signatures = provider.sign_digests(auth, digests)
    assert session.count("signatures/signHash") == 1
    for digest, signature in zip(digests, signatures, strict=True):
        _verify(cred.certificate, digest, signature)


def test_a_batch_above_multisign_is_split_but_asks_the_pin_once(csc_service: CscService) -> None:
    session = Recording()
    provider = csc_service.provider(session=session)
    cred = provider.credential("pho-chu-tich-duc")
    assert cred.multisign == 4
    digests = _digests(10)
    auth = provider.authorize("pho-chu-tich-duc", digests, DEMO_PIN)
    assert [(g.start, g.count) for g in auth.grants] == [(0, 4), (4, 4), (8, 2)]
    signatures = provider.sign_digests(auth, digests)
    assert session.count("credentials/authorize") == 3
    assert session.count("signatures/signHash") == 3
    for digest, signature in zip(digests, signatures, strict=True):
        _verify(cred.certificate, digest, signature)


def test_rsa_pss_through_signhash(csc_service: CscService) -> None:
    from tokens.digest import pss_params

    provider = csc_service.provider()
    cred = provider.credential("chu-tich")
    digests = _digests(2)
    auth = provider.authorize("chu-tich", digests, DEMO_PIN)
    signatures = provider.sign_digests(auth, digests, sign_algorithm=RSASSA_PSS,
                                       sign_algorithm_params=pss_params("sha256").dump())
    for digest, signature in zip(digests, signatures, strict=True):
        _verify(cred.certificate, digest, signature, pss=True)


def test_otp_is_sent_checked_and_used_once(csc_service: CscService) -> None:
    provider = csc_service.provider()
    cred = provider.credential("truong-phong-otp")
    digests = _digests(3)
    provider.send_otp("truong-phong-otp")
    otp = csc_service.read_otp("truong-phong-otp")
    auth = provider.authorize("truong-phong-otp", digests, DEMO_PIN, otp=otp)
    for digest, signature in zip(digests, provider.sign_digests(auth, digests), strict=True):
        _verify(cred.certificate, digest, signature)
    with pytest.raises(WrongOtp):
        provider.authorize("truong-phong-otp", digests, DEMO_PIN, otp=otp)


# --- PDFs, end to end --------------------------------------------------------------------


@pytest.mark.parametrize("credential_id", ["chu-tich", "pho-chu-tich-ec"])
def test_three_pdfs_signed_hash_only_through_csc_are_valid(
        csc_service: CscService, commune: DemoCommune, sample_pdf: bytes,
        credential_id: str) -> None:
    from signer.hashonly import finish, prepare_digest
    from tokens.digest import RawSignature

    provider = csc_service.provider()
    cred = provider.credential(credential_id)
    options = SigningOptions(tsa_url=commune.pki.tsa_url,
                             validation_context=_context(commune))
    pending = [prepare_digest(sample_pdf, cred.certificate, options, chain=cred.chain)
               for _ in range(3)]
    digests = [p.digest for p in pending]
    auth = provider.authorize(credential_id, digests, DEMO_PIN)
    signatures = provider.sign_digests(auth, digests)
    for p, value in zip(pending, signatures, strict=True):
        signed = finish(p, RawSignature(value, p.algorithm))
        report = verify_pdf(signed, lambda: _context(commune))
        (sig,) = report.signatures
        assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
        assert report.verdict == "valid", [r.en for r in sig.reasons]
        assert sig.pades_level == "B-T"


def test_csc_token_signs_a_pdf_one_off(csc_service: CscService, commune: DemoCommune,
                                       sample_pdf: bytes) -> None:
    token = CscToken("csc-chu-tich", csc_service.provider(), "pho-chu-tich-ec")
    assert token.needs_pin
    health = token.health()
    assert health.ok and "2.0.0.2" in health.detail
    with token.signer(DEMO_PIN) as signer:
        signed = sign_pdf(sample_pdf, signer, SigningOptions(
            tsa_url=commune.pki.tsa_url, validation_context=_context(commune)))
    (sig,) = verify_pdf(signed, lambda: _context(commune)).signatures
    assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
    assert sig.signer == "Trần Thị Thu Hà"
    assert sig.verdict == "valid"


def test_csc_token_with_a_wrong_pin_signs_nothing(csc_service: CscService,
                                                  sample_pdf: bytes) -> None:
    token = CscToken("csc", csc_service.provider(), "chu-tich")
    with pytest.raises(WrongPin), token.signer("000000") as signer:
        sign_pdf(sample_pdf, signer, SigningOptions())


# --- errors -------------------------------------------------------------------------------


def _bilingual(exc: TokenError) -> None:
    assert exc.vi == unicodedata.normalize("NFC", exc.vi)
    def marks(text: str) -> int:  # Vietnamese letters carry combining marks once decomposed
        return sum(unicodedata.category(c) == "Mn" for c in unicodedata.normalize("NFD", text))

    assert marks(exc.vi) > 3 and marks(exc.en) == 0


def test_wrong_pin(csc_service: CscService) -> None:
    with pytest.raises(WrongPin) as caught:
        csc_service.provider().authorize("chu-tich", _digests(2), "111111")
    assert "mã PIN không đúng" in caught.value.vi and "wrong PIN" in caught.value.en


def test_wrong_otp(csc_service: CscService) -> None:
    provider = csc_service.provider()
    provider.send_otp("truong-phong-otp")
    sent = csc_service.read_otp("truong-phong-otp")
    wrong = f"{(int(sent) + 1) % 10**6:06d}"
    with pytest.raises(WrongOtp) as caught:
        provider.authorize("truong-phong-otp", _digests(1), DEMO_PIN, otp=wrong)
    _bilingual(caught.value)
    assert "OTP" in caught.value.vi
    with pytest.raises(WrongOtp):  # no OTP at all
        provider.authorize("truong-phong-otp", _digests(1), DEMO_PIN)


def test_expired_sad(csc_service: CscService) -> None:
    provider = csc_service.provider()
    digests = _digests(2)
    auth = provider.authorize("chu-tich-short", digests, DEMO_PIN)
    time.sleep(1.3)
    assert auth.expired()
    with pytest.raises(SadExpired) as caught:
        provider.sign_digests(auth, digests)
    _bilingual(caught.value)


def test_scal2_refuses_a_hash_it_did_not_authorise(csc_service: CscService) -> None:
    provider = csc_service.provider()
    authorised = _digests(2)
    auth = provider.authorize("pho-chu-tich-ec", authorised, DEMO_PIN)
    with pytest.raises(RemoteAuthRefused) as caught:
        provider.sign_digests(auth, [authorised[0], _digests(1)[0]])
    assert "Hash not authorized" in caught.value.en
    _bilingual(caught.value)
    # the authorised ones still sign
    assert len(provider.sign_digests(auth, authorised)) == 2


def test_scal1_signs_no_more_than_authorised(csc_service: CscService) -> None:
    provider = csc_service.provider()
    auth = provider.authorize("chu-tich", _digests(2), DEMO_PIN)
    with pytest.raises(HashCountMismatch) as caught:
        provider.sign_digests(auth, _digests(3))
    assert (caught.value.expected, caught.value.got) == (2, 3)
    _bilingual(caught.value)


def test_unreachable_server(commune: DemoCommune) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    provider = CscProvider(url, CscAuth.bearer("x"), timeout=3)
    with pytest.raises(RemoteUnreachable) as caught:
        provider.credentials()
    assert url in caught.value.en and url in caught.value.vi
    health = CscToken("csc", provider, "chu-tich").health()
    assert not health.ok and "unreachable" in health.detail


def test_unknown_and_disabled_credentials(csc_service: CscService) -> None:
    provider = csc_service.provider()
    with pytest.raises(CredentialUnavailable) as unknown:
        provider.credential("khong-co")
    assert not unknown.value.disabled
    with pytest.raises(CredentialUnavailable) as disabled:
        provider.authorize("khoa", _digests(1), DEMO_PIN)
    assert disabled.value.disabled and "bị khóa" in disabled.value.vi
    assert not CscToken("csc", provider, "khoa").health().ok


def test_a_bad_service_token_is_refused(csc_service: CscService) -> None:
    with pytest.raises(RemoteAuthRefused):
        csc_service.provider(CscAuth.bearer("not-a-token")).credentials()


def test_errors_are_spec_shaped(csc_service: CscService) -> None:
    reply = httpx.post(f"{csc_service.base_url}/csc/v2/credentials/authorize", timeout=10,
                       headers={"Authorization": f"Bearer {csc_service.static_token}"},
                       json={"credentialID": "chu-tich", "numSignatures": 1,
                             "authData": [{"id": "PIN", "value": "0"}]})
    assert reply.status_code == 400
    assert reply.json() == {"error": "invalid_pin", "error_description": "The PIN is invalid"}


def test_no_secret_reaches_logs_or_reprs(csc_service: CscService,
                                         caplog: pytest.LogCaptureFixture) -> None:
    provider = csc_service.provider()
    with caplog.at_level(logging.DEBUG):
        digests = _digests(1)
        auth = provider.authorize("chu-tich", digests, DEMO_PIN)
        provider.sign_digests(auth, digests)
    sad = auth.grants[0].sad
    assert sad and sad not in repr(auth) and sad not in caplog.text
    assert DEMO_PIN not in caplog.text and csc_service.static_token not in caplog.text
    assert csc_service.static_token not in repr(provider.auth)


# --- OAuth2 --------------------------------------------------------------------------------


def test_oauth2_client_credentials(csc_service: CscService) -> None:
    session = Recording()
    provider = csc_service.provider(
        CscAuth.client_credentials(csc_service.client_id, csc_service.client_secret), session)
    assert "chu-tich" in provider.credentials()
    assert "chu-tich" in provider.credentials()
    token_calls = [n for n, _ in session.calls if n.endswith("oauth2/token")]
    assert len(token_calls) == 1  # the access token is reused until it expires
    with pytest.raises(RemoteAuthRefused):
        csc_service.provider(
            CscAuth.client_credentials(csc_service.client_id, "wrong")).credentials()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def _person_approves(url: str, **fields: str) -> dict[str, str]:
    """What the person's browser does: open the page, submit the form, follow no further."""
    page = httpx.get(url, timeout=10, follow_redirects=True)
    assert page.status_code == 200 and "<form" in page.text
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    answer = httpx.post(url.split("?")[0], data={**query, **fields}, timeout=10,
                        follow_redirects=False)
    if answer.status_code != 302:
        return dict(answer.json())
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["location"]).query))


def test_oauth2_authorization_code_for_a_credential(csc_service: CscService) -> None:
    s = csc_service
    provider = s.provider(CscAuth.client_credentials(s.client_id, s.client_secret))
    cred = provider.credential("ubnd-oauth2")
    digests = _digests(3)
    with pytest.raises(RemoteSigningError, match="OAuth2"):
        provider.authorize("ubnd-oauth2", digests, DEMO_PIN)
    verifier, challenge = _pkce()
    url = provider.authorization_url("ubnd-oauth2", digests, client_id=s.client_id,
                                     redirect_uri=s.redirect_uri, state="st-1",
                                     code_challenge=challenge)
    assert _person_approves(url, PIN="999999")["error"] == "invalid_pin"
    back = _person_approves(url, PIN=DEMO_PIN)
    assert back["state"] == "st-1"
    auth = provider.authorize_with_code("ubnd-oauth2", digests, back["code"],
                                        client_id=s.client_id, client_secret=None,
                                        redirect_uri=s.redirect_uri, code_verifier=verifier)
    assert auth.grants[0].access_token and auth.grants[0].sad is None
    for digest, signature in zip(digests, provider.sign_digests(auth, digests), strict=True):
        _verify(cred.certificate, digest, signature)
    with pytest.raises(RemoteAuthRefused):  # a code is good once
        provider.authorize_with_code("ubnd-oauth2", digests, back["code"],
                                     client_id=s.client_id, client_secret=None,
                                     redirect_uri=s.redirect_uri, code_verifier=verifier)


def test_oauth2_service_code_obtained_elsewhere(csc_service: CscService) -> None:
    s = csc_service
    verifier, challenge = _pkce()
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": s.client_id, "redirect_uri": s.redirect_uri,
        "scope": "service", "state": "st-2", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    back = _person_approves(f"{s.base_url}/oauth2/authorize?{query}",
                            username=s.user[0], password=s.user[1])
    provider = s.provider(CscAuth.authorization_code(back["code"], s.client_id, None,
                                                     s.redirect_uri, verifier))
    assert "chu-tich" in provider.credentials()
    digests = _digests(1)
    auth = provider.authorize("chu-tich", digests, DEMO_PIN)
    assert len(provider.sign_digests(auth, digests)) == 1


def test_the_token_pin_reaches_the_server_by_environment_only(csc_service: CscService) -> None:
    config = json.loads((csc_service.log.parent / "config.json").read_text())
    assert DEMO_PIN not in json.dumps(config)  # the token PIN reaches the server by env only
