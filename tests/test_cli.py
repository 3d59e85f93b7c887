"""The `kyso` command line as a person runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from api.datadir import DataDir
from api.demo.demo import DemoCommune

from .conftest import TESTS_DATA
from .helpers import KYSO, run_kyso, sign_as

SIGNATURE_KEYS = {"field", "signer", "issuer", "signing_time", "timestamp", "intact", "trusted",
                  "revocation", "coverage", "modification_level", "verdict"}


@pytest.fixture(scope="module")
def signed_file(data: DataDir, commune: DemoCommune, sample_pdf: bytes,
                tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "signed.pdf"
    path.write_bytes(sign_as(data, commune.pki, "chu-tich", sample_pdf))
    return path


def test_verify_json_has_the_documented_fields(data: DataDir, signed_file: Path) -> None:
    result = run_kyso(data, "verify", "--json", str(signed_file))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "valid"
    assert report["schema"] == "kyso.verify/1"
    (sig,) = report["signatures"]
    assert set(sig) >= SIGNATURE_KEYS
    assert sig["signer"] == "Nguyễn Văn Hùng"
    assert sig["revocation"] == "ocsp"


def test_verify_exit_codes_valid_invalid_unusable(data: DataDir, signed_file: Path,
                                                  tmp_path: Path) -> None:
    tampered = bytearray(signed_file.read_bytes())
    at = tampered.index(b"/Type /Page") if b"/Type /Page" in tampered else 200
    tampered[at + 1] ^= 0x01  # one bit inside the signed byte range
    bad = tmp_path / "tampered.pdf"
    bad.write_bytes(bytes(tampered))
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"not a pdf at all")

    assert run_kyso(data, "verify", str(signed_file)).returncode == 0
    result = run_kyso(data, "verify", "--json", str(bad))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["verdict"] == "invalid"
    assert report["signatures"][0]["intact"] is False
    result = run_kyso(data, "verify", str(garbage))
    assert result.returncode == 2
    assert result.stderr.startswith("Lỗi: ") and "Traceback" not in result.stderr


def test_verify_several_files_exits_1_if_any_is_not_valid(
        data: DataDir, signed_file: Path, sample_pdf: bytes, tmp_path: Path) -> None:
    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(sample_pdf)
    result = run_kyso(data, "verify", "--json", str(signed_file), str(unsigned))
    assert result.returncode == 1
    verdicts = [r["verdict"] for r in json.loads(result.stdout)]
    assert verdicts == ["valid", "indeterminate"]


def test_sign_reads_the_pin_from_the_environment(data: DataDir, commune: DemoCommune,
                                                 sample_pdf: bytes, tmp_path: Path) -> None:
    source = tmp_path / "draft.pdf"
    source.write_bytes(sample_pdf)
    target = tmp_path / "signed.pdf"
    result = run_kyso(data, "sign", str(source), str(target), "--token", "pho-chu-tich",
                      "--page", "0", "--box", "325,163,525,225", pin="246810")
    assert result.returncode == 0, result.stderr
    assert run_kyso(data, "verify", str(target)).returncode == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    # what the next run reuses: the signer's OCSP answer, the TSA's token size
    cache = data.root / "cache"
    assert any(p.name.startswith("ocsp-") for p in (cache / "revocation").iterdir())
    sizes = json.loads((cache / "tsa-token-sizes.json").read_text(encoding="utf-8"))
    assert sizes and all(size > 1000 for size in sizes.values())
    again = tmp_path / "signed-again.pdf"
    result = run_kyso(data, "sign", str(source), str(again), "--token", "pho-chu-tich",
                      pin="246810")
    assert result.returncode == 0, result.stderr
    assert run_kyso(data, "verify", str(again)).returncode == 0


def test_sign_asks_for_the_pin_when_not_given(data: DataDir, commune: DemoCommune,
                                              sample_pdf: bytes, tmp_path: Path) -> None:
    source = tmp_path / "draft.pdf"
    source.write_bytes(sample_pdf)
    env = {k: v for k, v in os.environ.items() if k != "KYSO_PIN"}
    result = subprocess.run(
        [KYSO, "--data-dir", str(data.root), "sign", str(source), str(tmp_path / "s.pdf"),
         "--token", "chu-tich"], input="246810\n", env=env, capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 0, result.stderr
    assert "PIN" in result.stdout + result.stderr
    assert "246810" not in result.stdout + result.stderr


def test_tokens_list_shows_tokens_and_certificates(data: DataDir, commune: DemoCommune) -> None:
    result = run_kyso(data, "tokens", "list")
    assert result.returncode == 0, result.stderr
    fingerprint = commune.pki.cert("chu-tich").sha256.hex()
    flat = re.sub(r"[\s│┃]", "", result.stdout)
    assert fingerprint in flat
    assert "NguyễnVănHùng" in flat
    for label in ("chu-tich", "pho-chu-tich", "ubnd"):
        assert label in result.stdout


@pytest.mark.slow
def test_demo_runs_end_to_end_on_a_fresh_data_dir_and_again(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "fresh").create()
    env = {k: v for k, v in os.environ.items()
           if k not in ("SOFTHSM2_CONF", "KYSO_DATABASE_URL")}
    first = subprocess.run([KYSO, "demo", "--data-dir", str(data.root)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    made = sorted((data.root / "out").glob("*.pdf"))
    assert len(made) == 3  # issued document, attachment, SAO Y copy
    flat = first.stdout.replace("\n", "")
    assert all(str(path) in flat for path in made)
    assert "01/QĐ-UBND" in first.stdout and "01/SY-UBND" in first.stdout
    second = subprocess.run([KYSO, "demo", "--data-dir", str(data.root)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "02/QĐ-UBND" in second.stdout  # the next number, nothing overwritten
    assert len(list((data.root / "out").glob("*.pdf"))) == 6
    env["SOFTHSM2_CONF"] = str(data.softhsm / "softhsm2.conf")
    check = subprocess.run([KYSO, "--data-dir", str(data.root), "verify", "--json",
                            *map(str, made)], env=env, capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert [r["verdict"] for r in json.loads(check.stdout)] == ["valid"] * 3
    exported = subprocess.run([KYSO, "--data-dir", str(data.root), "register", "--pdf",
                               str(tmp_path / "so.pdf"), "--xlsx", str(tmp_path / "so.xlsx")],
                              env=env, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    printed = subprocess.run(["pdftotext", "-layout", str(tmp_path / "so.pdf"), "-"],
                             capture_output=True, text=True, check=True).stdout
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐI" in printed and "02/QĐ-UBND" in printed
    assert (tmp_path / "so.xlsx").stat().st_size > 0
    copies = subprocess.run([KYSO, "--data-dir", str(data.root), "register", "--book",
                             "ban-sao"], env=env, capture_output=True, text=True, timeout=120)
    assert copies.returncode == 0, copies.stderr
    numbers = [line.split()[0] for line in copies.stdout.splitlines()[1:] if line.strip()]
    assert numbers == ["01/SY-UBND", "02/SY-UBND"]  # the copies book only


@pytest.mark.slow
def test_demo_on_another_draft_takes_the_type_from_its_number_line(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "other").create()
    env = {k: v for k, v in os.environ.items()
           if k not in ("SOFTHSM2_CONF", "KYSO_DATABASE_URL")}
    draft = TESTS_DATA / "drafts" / "b_cong_van_vhxh_1trang.pdf"
    result = subprocess.run([KYSO, "demo", "--data-dir", str(data.root), "--draft", str(draft)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "01/UBND-VHXH" in result.stdout  # a công văn: body + drafting unit
