"""The signer's other ways to sign, in a real browser (Debian's chromium, Playwright) over
the real app served by uvicorn in this process (tests/inprocess_support.py): the round
trip through the signer's own tool (download "Tải bản để ký", sign outside Kyso with
pyHanko and his SoftHSM key, upload), the VGCA Sign Service detected on 127.0.0.1:8987
(tests/support/vgca_standin.py, over wss:// as the real service) signing a batch, and the
phone confirmation with its countdown (tests/support/smartca_standin.py). Every signed
file is validated. Screenshots for docs/user-guide/lanh-dao.md."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from asn1crypto import pem
from pyhanko.sign import signers
from sqlalchemy import select

from api.demo.demo import DemoCommune
from documents import Document, DocumentStatus, JobStatus, SigningJob
from documents.queue import SigningRequest
from signer import APPROVAL_FIELD

from .inprocess_support import SIGNER, World, sign_on_the_phone, until
from .support.smartca_standin import SmartCaStandIn
from .support.vgca_standin import VgcaStandIn, sign_in_field
from .ui_support import browser, login, new_page, require_browser, screenshot

#: where vgca.js (and the VGCA call Kyso hands out) finds the VGCA Sign Service
VGCA_PORT = 8987
SLOW = 120_000  # ms: signing with a timestamp on a busy 2-core machine
T = TypeVar("T")

#: Records every text the page shows as it changes (an alert swapped in, a status line
#: set), so that a message replaced at once by the next refresh is still seen.
RECORD = """() => {
  window.kysoSaid = [];
  new MutationObserver(changes => changes.forEach(
    c => window.kysoSaid.push(c.target.textContent || ""))
  ).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    require_browser()
    with browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def aside() -> Iterator[ThreadPoolExecutor]:
    """A thread for pyHanko's signing and validation (Playwright's loop runs in this one)."""
    with ThreadPoolExecutor(1) as pool:
        yield pool


def off_thread(pool: ThreadPoolExecutor, call: Callable[[], T]) -> T:
    return pool.submit(call).result()


def signers_page(chromium: Any, world: World, **options: Any) -> Any:
    page = new_page(chromium, world.url, **options)
    login(page, "phochutichduc")
    page.goto("/lanh-dao")
    page.evaluate(RECORD)
    return page


def shown(page: Any, text: str, timeout: float = SLOW) -> None:
    """Until the page has shown ``text`` (now or in a moment since :data:`RECORD`)."""
    page.wait_for_function(
        "t => document.body.innerText.includes(t) || window.kysoSaid.some(s => s.includes(t))",
        arg=text, timeout=timeout)


def status(world: World, document_id: str) -> DocumentStatus:
    with world.sessions() as session:
        return session.get_one(Document, document_id).status


def test_the_round_trip_through_the_signers_own_tool(
        served_world: World, chromium: Any, duc_key: signers.Signer,
        aside: ThreadPoolExecutor, tmp_path: Path) -> None:
    world = served_world
    document_id = world.routed_draft(subject="Về việc hỗ trợ hộ gia đình khó khăn")
    page = signers_page(chromium, world)
    other_ways = page.locator("#other-ways")
    assert "Ký bằng phần mềm ký số của anh/chị" in other_ways.inner_text()
    assert page.locator(f"#to-sign-{document_id}").inner_text() == "Tải bản để ký"
    with page.expect_download() as download:
        page.locator(f"#to-sign-{document_id}").click()
    prepared = Path(download.value.path()).read_bytes()
    assert prepared.startswith(b"%PDF")
    # the official's own tool: pyHanko and the key on his token, outside Kyso
    returned = off_thread(aside, lambda: sign_in_field(prepared, duc_key, APPROVAL_FIELD))
    signed_file = tmp_path / "quyet-dinh-da-ky.pdf"
    signed_file.write_bytes(returned)
    page.locator(f"#signed-file-{document_id}").set_input_files(str(signed_file))
    screenshot(page, "lanh-dao-ky-bang-phan-mem", at="#other-ways")
    page.locator(f"#signed-{document_id}").get_by_role("button", name="Tải lên tệp đã ký").click()
    shown(page, "Đã nhận văn bản anh/chị ký bằng phần mềm của mình")
    # the panel refreshes: the document is no longer one to sign
    page.locator(f"#elsewhere-{document_id}").wait_for(state="detached", timeout=SLOW)
    assert status(world, document_id) is DocumentStatus.SIGNED
    assert world.approved(document_id) == returned
    off_thread(aside, lambda: world.assert_approvals_validate([document_id], signer=SIGNER))
    page.context.close()


def _self_signed(directory: Path) -> ssl.SSLContext:
    """The TLS context of a service on 127.0.0.1 with a certificate of its own (the real
    service's is installed with it; the browser here is told to accept it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "VGCA Sign Service (thử)")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                   .sign(key, hashes.SHA256()))
    (directory / "vgca.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "vgca.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "vgca.pem", directory / "vgca.key")
    return context


def _port_free(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        # as the server binds: connections of an earlier run left in TIME_WAIT do not count
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def vgca(served_world: World, duc_key: signers.Signer,
         tmp_path: Path) -> Iterator[VgcaStandIn]:
    """The VGCA Sign Service stand-in where vgca.js looks for it: wss://127.0.0.1:8987."""
    if not _port_free(VGCA_PORT):
        pytest.skip(f"127.0.0.1:{VGCA_PORT} is in use (a VGCA Sign Service or another test "
                    "session on this PC): the stand-in must listen where vgca.js looks")
    # the service fetches and uploads over HTTP, as on the official's PC
    with httpx.Client(timeout=120) as http, VgcaStandIn(http, duc_key, APPROVAL_FIELD).running(
            VGCA_PORT, _self_signed(tmp_path)) as standin:
        yield standin


def test_the_vgca_sign_service_is_detected_and_signs_a_batch(
        served_world: World, chromium: Any, vgca: VgcaStandIn,
        aside: ThreadPoolExecutor) -> None:
    world = served_world
    documents = [world.routed_draft(subject=f"Về việc cấp kinh phí đợt {n}")
                 for n in (1, 2, 3)]
    page = signers_page(chromium, world, ignore_https_errors=True)
    button = "Ký bằng VGCA Sign Service trên máy này"
    for document_id in documents:  # detected: every document offers the service
        page.locator(f'[data-vgca-sign="{document_id}"]').wait_for(state="visible")
    assert page.get_by_role("button", name=button).count() == len(documents)
    screenshot(page, "lanh-dao-vgca", at="#other-ways")
    for document_id in documents:
        page.locator(f'[data-vgca-sign="{document_id}"]').click()
        shown(page, "Kyso đã nhận văn bản đã ký: đúng bản đã chuẩn bị, đúng chứng thư.")
        page.locator(f"#elsewhere-{document_id}").wait_for(state="detached", timeout=SLOW)
        page.evaluate("window.kysoSaid = []")
    assert [call["MetaData"][0]["Value"] for call in vgca.calls] == documents
    assert all(status(world, d) is DocumentStatus.SIGNED for d in documents)
    off_thread(aside, lambda: world.assert_approvals_validate(documents, signer=SIGNER))
    page.context.close()


@contextlib.contextmanager
def _worker(world: World) -> Iterator[None]:
    """A Celery worker in a thread of this process, on the served app's broker: it takes
    the jobs' prepare and finish tasks as `kyso serve`'s worker does."""
    from celery.contrib.testing.worker import start_worker

    with start_worker(world.client.app.state.services.celery, pool="solo", concurrency=1,
                      perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        yield


def test_the_phone_confirmation_counts_down_and_signs_the_batch(
        served_world: World, chromium: Any, phone_standin: SmartCaStandIn,
        commune: DemoCommune, aside: ThreadPoolExecutor) -> None:
    world = served_world
    sign_on_the_phone(world, phone_standin, 300, commune.pki.tsa_url)
    # the certificate the service holds, known to Kyso (as for tests/test_phone_signing.py)
    registered = world.client.post("/api/v1/agent/certificate", headers=world.headers, json={
        "certificate_pem": pem.armor("CERTIFICATE", phone_standin.certificate.dump()).decode()})
    assert registered.status_code == 200, registered.text
    documents = [world.routed_draft(subject=f"Về việc phân bổ chỉ tiêu quý {n}")
                 for n in ("I", "II", "III")]
    with world.sessions() as session:
        requests = [session.scalars(select(SigningRequest.id).where(
            SigningRequest.document_id == d)).one() for d in documents]
    with _worker(world):
        page = signers_page(chromium, world)
        assert "xác nhận trên điện thoại" in page.inner_text("#channel")  # no PIN in Kyso
        for request_id in requests:
            page.locator(f"#pick-{request_id}").check()
        page.get_by_role("button", name="Phê duyệt và ký các văn bản đã chọn").click()
        send = page.get_by_role("button", name="Gửi yêu cầu ký đến điện thoại")
        send.wait_for(timeout=SLOW)
        until(lambda: _jobs(world, documents) == [JobStatus.READY] * 3, seconds=SLOW / 1000)
        with page.expect_response(lambda r: r.request.method == "POST" and
                                  "/lanh-dao/dien-thoai/" in r.url, timeout=SLOW) as sent:
            send.click()
        assert sent.value.ok, sent.value.text()  # the reason, if it was refused
        countdown = page.locator("#phone-countdown")
        countdown.wait_for(timeout=SLOW)
        assert "Hãy xác nhận trên điện thoại" in page.inner_text("#phone-wait")
        assert "3 văn bản (một lần cho cả lô)" in page.inner_text("#phone-wait")
        first = int(countdown.get_attribute("data-seconds") or 0)
        assert 250 <= first <= 300 and countdown.inner_text() == f"{first // 60}:{first % 60:02d}"
        page.wait_for_function(  # the page counts down while the phone is awaited
            "s => Number(document.getElementById('phone-countdown').dataset.seconds) < s",
            arg=first, timeout=SLOW)
        screenshot(page, "lanh-dao-xac-nhan-dien-thoai")
        transaction = phone_standin.next_transaction()  # one request on the phone ...
        assert len(transaction.digests) == 3  # ... for the whole batch
        phone_standin.confirm(transaction)
        shown(page, "Lô đã xong: 3/3 văn bản đã ký.")
        assert page.locator("#phone-countdown").count() == 0
    assert all(status(world, d) is DocumentStatus.SIGNED for d in documents)
    off_thread(aside, lambda: world.assert_approvals_validate(documents, signer=SIGNER))
    page.context.close()


def _jobs(world: World, documents: list[str]) -> list[JobStatus]:
    with world.sessions() as session:
        return [session.scalars(select(SigningJob.status).where(
            SigningJob.document_id == d)).one() for d in documents]
