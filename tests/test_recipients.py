"""What a recipient gets: issued files that validate from the root alone, with every
demo PKI service out of reach (each check runs in a process without a network)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.datadir import DataDir
from api.demo.commune import FlowResult, run_flow
from api.demo.demo import DemoCommune

from .conftest import TESTS_DATA

PYHANKO = str(Path(sys.executable).with_name("pyhanko"))
OFFLINE = ["unshare", "--net"]  # a new network namespace: not even loopback is up


@pytest.fixture(scope="module")
def flow(data: DataDir, commune: DemoCommune) -> FlowResult:
    draft = (TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf").read_bytes()
    return run_flow(data, commune.pki, draft)


@pytest.fixture(scope="module")
def root(commune: DemoCommune) -> Path:
    return commune.pki.directory / "certs" / "root.cert.pem"


@pytest.fixture(scope="module")
def nss_with_root_only(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[str]:
    if shutil.which("certutil") is None:
        pytest.fail("certutil (libnss3-tools) is missing: ops/setup.sh test installs it")
    folder = tmp_path_factory.mktemp("nss")
    db = f"sql:{folder}"
    subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", db, "-n", "demo-root", "-t", "CT,C,C", "-i",
                    str(root)], check=True)
    yield db


def test_the_offline_guard_really_has_no_network(flow: FlowResult, commune: DemoCommune) -> None:
    probe = subprocess.run([*OFFLINE, sys.executable, "-c",
                            "import urllib.request as u; u.urlopen("
                            f"'{commune.pki.base_url}/certs/root/ca.crt', timeout=3)"],
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and "URLError" in probe.stderr


def test_every_signature_carries_the_chain_up_to_the_root(flow: FlowResult) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    for path in flow.files.values():
        reader = PdfFileReader(io.BytesIO(path.read_bytes()))
        for sig in reader.embedded_regular_signatures:
            subjects = [c.chosen.subject.native.get("common_name", "")
                        for c in sig.signed_data["certificates"]]
            assert any("RootCA" in s for s in subjects), (path.name, subjects)
            assert any("CA phục vụ" in s for s in subjects), (path.name, subjects)


def test_issued_files_validate_from_the_root_and_their_own_dss_alone(
        flow: FlowResult, root: Path) -> None:
    """pyHanko's validator, revocation REQUIRED, fetching nothing: only what the file holds."""
    script = f"""
import asyncio, sys
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore

async def main(path):
    reader = PdfFileReader(open(path, "rb"))
    context = DocumentSecurityStore.read_dss(reader).as_validation_context({{
        "trust_roots": [load_cert_from_pemder({str(root)!r})], "allow_fetching": False,
        "revocation_mode": "hard-fail", "retroactive_revinfo": True}})
    for sig in reader.embedded_regular_signatures:
        status = await async_validate_pdf_signature(
            sig, signer_validation_context=context, ts_validation_context=context)
        print(sig.field_name, status.bottom_line, status.trusted, status.revoked)

asyncio.run(main(sys.argv[1]))
"""
    for path in flow.files.values():
        result = subprocess.run([*OFFLINE, sys.executable, "-c", script, str(path)],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.split("\n")[:-1]
        assert lines and all(line.endswith("True True False") for line in lines), lines


def test_pyhanko_cli_offline_from_the_root_alone(flow: FlowResult, root: Path) -> None:
    """The CLI builds each chain from what the signature carries (it reads no DSS: its
    revocation check is online only, hence soft)."""
    for path in flow.files.values():
        result = subprocess.run(
            [*OFFLINE, PYHANKO, "sign", "validate", "--trust", str(root), "--trust-replace",
             "--soft-revocation-check", "--executive-summary", str(path)],
            capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.split()
        assert lines and all(line.endswith(":VALID") for line in lines), lines


@pytest.fixture(scope="module")
def pdfsig_status_fix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment that makes poppler 22.x's pdfsig report NSS's real verdict
    (tests/support/pkix_status_fix.c says why)."""
    if shutil.which("gcc") is None:
        pytest.fail("gcc is missing: it builds tests/support/pkix_status_fix.c for pdfsig")
    library = tmp_path_factory.mktemp("pdfsig") / "pkix_status_fix.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(library),
                    str(Path(__file__).parent / "support" / "pkix_status_fix.c"),
                    "-ldl", "-lnspr4"], check=True)
    return {**os.environ, "LD_PRELOAD": str(library)}


def pdfsig(issued: Path, nss_db: str, env: dict[str, str]) -> str:
    result = subprocess.run([*OFFLINE, "pdfsig", "-no-ocsp", "-nssdir", nss_db, str(issued)],
                            capture_output=True, text=True, timeout=120, env=env)
    return result.stdout


def test_pdfsig_offline_from_the_root_alone(flow: FlowResult, nss_with_root_only: str,
                                           pdfsig_status_fix: dict[str, str]) -> None:
    report = pdfsig(flow.files["issued"], nss_with_root_only, pdfsig_status_fix)
    assert report.count("Signature Validation: Signature is Valid.") == 2, report
    assert report.count("Certificate Validation: Certificate is Trusted.") == 2, report
    assert "Lê Minh Đức" in report and "UBND xã Tiên Lữ" in report


def test_pdfsig_without_the_root_trusts_nothing(
        flow: FlowResult, tmp_path: Path, pdfsig_status_fix: dict[str, str]) -> None:
    """The control: the same check with an empty NSS database finds no trusted issuer, so
    the trust above comes from the root alone (the chain's CA is in the file itself)."""
    db = f"sql:{tmp_path}"
    subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True)
    report = pdfsig(flow.files["issued"], db, pdfsig_status_fix)
    assert report.count("Signature Validation: Signature is Valid.") == 2, report
    assert report.count("Certificate Validation: Certificate issuer isn't Trusted.") == 2, report


def test_demo_outputs_validate(flow: FlowResult) -> None:
    """A copy made of a B-LT issued file keeps every earlier signature valid (its DSS
    entries are not rewritten)."""
    for key, report in flow.reports.items():
        assert report.verdict == "valid", (key, [r.en for s in report.signatures
                                                 for r in s.reasons])
    assert [s.pades_level for s in flow.reports["issued"].signatures] == ["B-LT", "B-LT"]
