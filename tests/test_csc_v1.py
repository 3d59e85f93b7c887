"""Remote signing through CSC API v1, against certomancer-csc-dummy (Matthias Valvekens's
Certomancer-based CSC server, run in-process over loopback HTTP with the demo PKI's
certomancer configuration): a batch under one authorisation, SCAL 1 and 2, every PDF
validated; pyHanko's own ``CSCSigner`` (a v1 client) against the same server.

certomancer-csc-dummy 0.4.2 serves only CSC **v1** paths (``POST /csc/v1/info``,
``credentials/list``, ``credentials/info``, ``credentials/authorize``,
``signatures/signHash``, ``signatures/timestamp``; and ``GET /info``); it has no v2 path,
no ``oauth2``/``auth`` endpoint, no ``sendOTP``, and answers ``certInfo: true`` with 501.
It does not authenticate requests (any bearer token passes)."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiohttp import web

from api.demo.demo import DemoCommune
from certs import Origin, TrustStore, free_port, validation_context
from signer import SigningOptions, verify_pdf
from signer.hashonly import finish, prepare_digest
from tokens import CscProvider, HashCountMismatch, RemoteServerError, provider_from_settings
from tokens.csc_v1 import CscV1Provider
from tokens.digest import RawSignature

csc_dummy = pytest.importorskip("csc_dummy.csc_dummy_server")

OFFICIAL = "chuyen-vien-vp"  # a demo official whose key certomancer holds


@dataclass
class Dummy:
    base_url: str
    credential_id: str
    calls: list[str]


def _serve(commune: DemoCommune, scal: int) -> Iterator[Dummy]:
    port = free_port()
    calls: list[str] = []
    app = csc_dummy.CSCWithCertomancer(
        commune.pki.certomancer_config(),
        service_params=csc_dummy.DummyServiceParams(hash_pinning_required=scal >= 2,
                                                    multisign=2))
    app.register_routes()

    @web.middleware
    async def remember(request: web.Request, handler: Any) -> web.StreamResponse:
        calls.append(request.path)
        response: web.StreamResponse = await handler(request)
        return response

    app.app.middlewares.append(remember)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app.app)
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(30)
    try:
        yield Dummy(f"http://127.0.0.1:{port}", f"tien-lu/{OFFICIAL}", calls)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


@pytest.fixture(params=[2, 1], ids=["scal2", "scal1"])
def dummy(request: pytest.FixtureRequest, commune: DemoCommune) -> Iterator[Dummy]:
    yield from _serve(commune, request.param)


def _context(commune: DemoCommune) -> Any:
    store = TrustStore()
    store.add(commune.pki.root, Origin.DEMO, "test")
    return validation_context(store, other_certs=commune.pki.chain)


def _v1(dummy: Dummy) -> CscProvider:
    provider, credential = provider_from_settings("mysign", {
        "backend": "csc", "version": "1", "url": dummy.base_url,
        "credential_id": dummy.credential_id, "access_token": "bat-ky"})
    assert isinstance(provider, CscV1Provider) and credential == dummy.credential_id
    return provider


def test_the_dummy_serves_only_v1_paths(dummy: Dummy) -> None:
    assert httpx.post(f"{dummy.base_url}/csc/v1/info", json={}, timeout=10).json()[
        "specs"].startswith("1.")
    assert httpx.post(f"{dummy.base_url}/csc/v2/info", json={}, timeout=10).status_code == 404
    with pytest.raises(RemoteServerError):  # a v2 client finds nothing there
        CscProvider(dummy.base_url, _v1(dummy).auth).credentials()


def test_a_v1_batch_is_authorised_once_per_multisign_and_every_pdf_validates(
        dummy: Dummy, commune: DemoCommune, sample_pdf: bytes) -> None:
    provider = _v1(dummy)
    assert dummy.credential_id in provider.credentials()
    credential = provider.credential(dummy.credential_id)
    assert credential.certificate.dump() == commune.pki.cert(OFFICIAL).dump()
    assert credential.multisign == 2 and credential.auth_mode == "implicit"
    options = SigningOptions(tsa_url=commune.pki.tsa_url, validation_context=_context(commune))
    pending = [prepare_digest(sample_pdf, credential.certificate, options,
                              chain=list(credential.chain)) for _ in range(3)]
    digests = [p.digest for p in pending]
    authorization = provider.authorize(dummy.credential_id, digests)
    assert [g.count for g in authorization.grants] == [2, 1]  # multisign 2: two grants
    signatures = provider.sign_digests(authorization, digests)
    assert dummy.calls.count("/csc/v1/credentials/authorize") == 2
    assert dummy.calls.count("/csc/v1/signatures/signHash") == 2
    assert all(path.startswith("/csc/v1/") for path in dummy.calls)
    for p, value in zip(pending, signatures, strict=True):
        report = verify_pdf(finish(p, RawSignature(value, p.algorithm)),
                            lambda: _context(commune))
        (sig,) = report.signatures
        assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
        assert report.verdict == "valid"


def test_hashes_not_authorised_are_refused_by_a_scal2_service(
        commune: DemoCommune) -> None:
    for dummy in _serve(commune, 2):
        provider = _v1(dummy)
        authorization = provider.authorize(dummy.credential_id, [b"\x01" * 32])
        with pytest.raises(RemoteServerError):
            provider.sign_digests(authorization.__class__(
                authorization.credential_id, (b"\x02" * 32,), "sha256",
                authorization.grants, authorization.expires_at), [b"\x02" * 32])
        with pytest.raises(HashCountMismatch):
            provider.sign_digests(authorization, [b"\x01" * 32, b"\x02" * 32])


def test_pyhanko_csc_signer_a_v1_client_signs_through_the_same_service(
        commune: DemoCommune, sample_pdf: bytes) -> None:
    import aiohttp
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.signers import csc_signer

    async def sign(dummy: Dummy) -> bytes:
        async with aiohttp.ClientSession() as session:
            info = csc_signer.CSCServiceSessionInfo(service_url=dummy.base_url,
                                                    credential_id=dummy.credential_id)
            credential = await csc_signer.fetch_certs_in_csc_credential(session, info)

            class Implicit(csc_signer.CSCAuthorizationManager):
                async def authorize_signature(
                        self, hash_b64s: list[str]) -> csc_signer.CSCAuthorizationInfo:
                    request = self.format_csc_auth_request(len(hash_b64s), hash_b64s=hash_b64s)
                    async with session.post(info.endpoint_url("credentials/authorize"),
                                            json=request, raise_for_status=True) as r:
                        return csc_signer.CSCAuthorizationInfo(sad=(await r.json())["SAD"])

            signer = csc_signer.CSCSigner(session, Implicit(info, credential))
            out = io.BytesIO()
            await signers.async_sign_pdf(
                IncrementalPdfFileWriter(io.BytesIO(sample_pdf)),
                signers.PdfSignatureMetadata(field_name="ChuKy"), signer=signer, output=out)
            return out.getvalue()

    for dummy in _serve(commune, 2):
        signed = asyncio.run(sign(dummy))
        assert "/csc/v1/signatures/signHash" in dummy.calls
    report = verify_pdf(signed, lambda: _context(commune))
    (sig,) = report.signatures
    assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
