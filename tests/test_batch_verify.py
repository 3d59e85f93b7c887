"""Batch verification: `kyso verify` over folders and zip archives, on every core."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest

from api.cli.batch_verify import MAX_RATIO, BatchItem, collect, read_item, run_batch, safe_stem
from api.datadir import DataDir
from api.demo.demo import DemoCommune
from api.errors import BatchUsageError
from signer.report import Verdict

from .conftest import TESTS_DATA
from .helpers import run_kyso, sign_as, verify


@dataclass(frozen=True)
class Corpus:
    folder: Path
    archive: Path
    #: expected verdict code per file name as the summary shows it
    expected: dict[str, str]


def _tamper(signed: bytes) -> bytes:
    data = bytearray(signed)
    at = data.index(b"/Type /Page")
    data[at + 1] ^= 0x01  # one bit inside the signed byte range
    return bytes(data)


def _encrypt(pdf: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        buffer = io.BytesIO()
        doc.save(buffer, encryption=pikepdf.Encryption(owner="chu", user="khach", R=6))
        return buffer.getvalue()


@pytest.fixture(scope="module")
def signed_docs(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> list[bytes]:
    docs = [sign_as(data, commune.pki, "chu-tich", sample_pdf),
            sign_as(data, commune.pki, "pho-chu-tich", sample_pdf),
            sign_as(data, commune.pki, "chu-tich",
                    (TESTS_DATA / "b_cong_van_vhxh_1trang.pdf").read_bytes())]
    for doc in docs:  # what the batch is compared against
        assert verify(data, doc).verdict is Verdict.VALID
    return docs


@pytest.fixture(scope="module")
def corpus(signed_docs: list[bytes], sample_pdf: bytes,
           tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("batch")
    folder = root / "ho-so"
    (folder / "thang-9").mkdir(parents=True)
    expected: dict[str, str] = {}

    def put(rel: str, content: bytes, verdict: str) -> None:
        (folder / rel).write_bytes(content)
        expected[str(folder / rel)] = verdict

    put("qd-chu-tich.pdf", signed_docs[0], "valid")
    put("qd-pho-chu-tich.pdf", signed_docs[1], "valid")
    put("thang-9/cong-van.pdf", signed_docs[2], "valid")
    put("thang-9/da-sua.pdf", _tamper(signed_docs[0]), "invalid")
    put("chua-ky.pdf", sample_pdf, "indeterminate")
    put("hong.pdf", b"%PDF-1.7\nkhong phai PDF\n", "error")
    put("ma-hoa.pdf", _encrypt(sample_pdf), "error")
    (folder / "ghi-chu.txt").write_text("không phải PDF")  # not collected

    archive = root / "nop-ho-so.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        members = {"ban-chinh.pdf": (signed_docs[0], "valid"),
                   "phu-luc/ban-2.pdf": (signed_docs[2], "valid"),
                   "../../vuot-ra-ngoai.pdf": (signed_docs[1], "valid"),
                   "/tuyet-doi/da-sua.pdf": (_tamper(signed_docs[1]), "invalid"),
                   "bom.pdf": (b"%PDF-1.7\n" + b"\0" * (8 * 1024 * 1024), "error")}
        for name, (content, verdict) in members.items():
            info = zipfile.ZipInfo("placeholder")
            info.filename = name  # kept as is: ZipInfo would strip the leading slash
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
            expected[f"{archive}!{name}"] = verdict
        zf.writestr("doc-tai-lieu.txt", "bỏ qua")
    return Corpus(folder, archive, expected)


def _summary(path: Path) -> dict[str, dict[str, str]]:
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheet programs read UTF-8 with a BOM
    return {row["Tệp"]: row for row in csv.DictReader(io.StringIO(text[1:]))}


def test_batch_over_a_folder_and_a_zip(data: DataDir, commune: DemoCommune, corpus: Corpus,
                                       tmp_path: Path) -> None:
    out = tmp_path / "ket-qua"
    result = run_kyso(data, "verify", str(corpus.folder), str(corpus.archive), "--out", str(out),
                      "--pdf", extra_env={"COLUMNS": "120"})
    assert result.returncode == 1, result.stdout + result.stderr
    # the progress bar, on stderr, ends complete
    total = len(corpus.expected)
    assert f"{total}/{total}" in result.stderr and "100%" in result.stderr, result.stderr
    assert "Kiểm tra / verifying" in result.stderr

    rows = _summary(out / "tong-hop.csv")
    assert {name: row["Mã kết luận"] for name, row in rows.items()} == corpus.expected
    ok = rows[str(corpus.folder / "qd-chu-tich.pdf")]
    assert ok["Kết luận"] == "HỢP LỆ" and ok["Số chữ ký"] == "1"
    assert ok["Người ký"] == "Nguyễn Văn Hùng" and "DEMO" in ok["CA cấp chứng thư"]
    assert ok["Thời điểm ký (giờ Việt Nam)"]
    assert rows[str(corpus.folder / "thang-9/da-sua.pdf")]["Kết luận"] == "KHÔNG HỢP LỆ"
    assert "không có chữ ký" in rows[str(corpus.folder / "chua-ky.pdf")]["Lý do"]
    assert rows[str(corpus.folder / "chua-ky.pdf")]["Kết luận"] == "KHÔNG XÁC ĐỊNH"
    assert "mã hóa" in rows[str(corpus.folder / "ma-hoa.pdf")]["Lý do"]
    assert rows[str(corpus.folder / "hong.pdf")]["Kết luận"] == "LỖI TỆP"
    assert "zip bomb" in rows[f"{corpus.archive}!bom.pdf"]["Lý do"]

    # per-file reports, named safely inside --out
    report = json.loads((out / "ho-so__qd-chu-tich.json").read_text(encoding="utf-8"))
    assert report["schema"] == "kyso.verify/1" and report["verdict"] == "valid"
    assert report["sha256"] == ok["SHA-256"]
    assert "HỢP LỆ" in (out / "ho-so__qd-chu-tich.html").read_text(encoding="utf-8")
    assert (out / "ho-so__qd-chu-tich.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "ho-so__thang-9__cong-van.json").is_file()
    assert (out / "nop-ho-so__vuot-ra-ngoai.json").is_file()
    assert (out / "nop-ho-so__tuyet-doi__da-sua.json").is_file()
    for outside in (tmp_path, tmp_path.parent, corpus.folder.parent):
        assert not list(outside.glob("*vuot-ra-ngoai*"))
    assert {p.parent for p in out.rglob("*")} == {out}  # nothing in sub-folders
    assert not (out / "ho-so__hong.json").exists()  # an unreadable file: a summary row only

    from openpyxl import load_workbook
    sheet = load_workbook(out / "tong-hop.xlsx").active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Tệp" and len(values) == total + 1
    assert {row[0]: row[3] for row in values[1:]} == corpus.expected

    # a second run into the same folder writes beside, never over
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = run_kyso(data, "verify", str(corpus.folder), str(corpus.archive), "--out", str(out))
    assert again.returncode == 1, again.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in before} == before
    assert (out / "tong-hop-2.csv").is_file() and (out / "tong-hop-2.xlsx").is_file()
    assert (out / "ho-so__qd-chu-tich-2.json").is_file()
    assert _summary(out / "tong-hop-2.csv").keys() == rows.keys()


def test_all_valid_exits_0_and_json_lists_reports(data: DataDir, commune: DemoCommune,
                                                   signed_docs: list[bytes],
                                                   tmp_path: Path) -> None:
    folder = tmp_path / "tot"
    folder.mkdir()
    for i, doc in enumerate(signed_docs):
        (folder / f"vb-{i}.PDF").write_bytes(doc)
    result = run_kyso(data, "verify", "--json", str(folder))
    assert result.returncode == 0, result.stderr
    reports = json.loads(result.stdout)
    assert [r["verdict"] for r in reports] == ["valid"] * 3
    assert [Path(r["file"]).name for r in reports] == ["vb-0.PDF", "vb-1.PDF", "vb-2.PDF"]


def test_usage_errors_exit_2(data: DataDir, tmp_path: Path) -> None:
    missing = run_kyso(data, "verify", str(tmp_path / "khong-co"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and missing.stderr.startswith("Lỗi: ")
    (tmp_path / "rong").mkdir()
    empty = run_kyso(data, "verify", str(tmp_path / "rong"))
    assert empty.returncode == 2 and "không tìm thấy tệp PDF" in empty.stderr
    a_file = tmp_path / "tep"
    a_file.write_text("x")
    pdf_only = run_kyso(data, "verify", str(a_file), "--pdf")
    assert pdf_only.returncode == 2 and "--pdf" in pdf_only.stderr


def test_both_cores_verify(data: DataDir, commune: DemoCommune, signed_docs: list[bytes],
                           tmp_path: Path) -> None:
    for i in range(24):
        (tmp_path / f"vb-{i:02}.pdf").write_bytes(signed_docs[i % len(signed_docs)])
    items = collect([tmp_path])
    rows = run_batch(items, data, workers=2)
    assert [r.verdict for r in rows] == ["valid"] * 24
    assert [Path(r.file).name for r in rows] == [f"vb-{i:02}.pdf" for i in range(24)]
    pids = {r.worker_pid for r in rows}
    assert len(pids) > 1 and os.getpid() not in pids


def test_zip_member_names_cannot_escape() -> None:
    assert safe_stem(["hs", "../../etc/passwd.pdf"]) == "hs__etc__passwd"
    assert safe_stem(["hs", "/abs/x.pdf"]) == "hs__abs__x"
    assert safe_stem(["hs", "..\\..\\win\\x.pdf"]) == "hs__win__x"
    assert safe_stem([".."]) == "tep"
    assert safe_stem(["a b;rm -rf *.pdf"]) == "a_b_rm_-rf"
    assert safe_stem(["Quyết định.pdf"]) == "Quyết_định"
    for stem in (safe_stem(["x", "../" * 50 + "y.pdf"]), safe_stem([".hidden.pdf"])):
        assert "/" not in stem and ".." not in stem and not stem.startswith(".")


def test_zip_limits(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bom.pdf", b"\0" * (MAX_RATIO * 2000))
        zf.writestr("ok.pdf", os.urandom(5000))
    bomb, fine = collect([archive])
    with pytest.raises(Exception, match="zip bomb"):
        read_item(bomb)
    assert len(read_item(fine)) == 5000
    with pytest.raises(BatchUsageError):
        collect([tmp_path / "khong-co.zip"])
    broken = tmp_path / "hong.zip"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(BatchUsageError):
        collect([broken])
    assert read_item(BatchItem("x", archive, "ok.pdf", "x")) == read_item(fine)
