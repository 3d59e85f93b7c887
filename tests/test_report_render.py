"""Verification reports for auditors: HTML and A4 PDF, Circular 15/2025 Art. 6 items."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.cli.operations import verify_document
from api.datadir import DataDir
from api.demo.demo import DemoCommune
from signer.report import Report, SignatureReport, Verdict
from signer.report_render import (
    ARTICLE_6_FIELDS,
    LABELS,
    format_value,
    render_html,
    render_pdf,
)

from .helpers import sign_as

HOSTILE = '<script>alert("x")</script>&"quyết-định\'.pdf'
WHEN = dt.datetime(2025, 10, 3, 2, 4, 5, tzinfo=dt.UTC)

#: Art. 6 items in the words a Vietnamese auditor reads on the report
ARTICLE_6_VI = ("Tổ chức cấp chứng thư số (CA)", "Người ký", "Cơ quan, đơn vị quản lý người ký",
                "Thời điểm ký, dấu thời gian", "Tính toàn vẹn của văn bản",
                "Hiệu lực của chứng thư tại thời điểm ký", "Thời hạn hiệu lực của chứng thư số")


@pytest.fixture(scope="module")
def report(data: DataDir, commune: DemoCommune, sample_pdf: bytes) -> Report:
    signed = sign_as(data, commune.pki, "chu-tich", sample_pdf)
    report = verify_document(data, signed, "qd-05.pdf")
    sig = report.signatures[0]
    assert report.verdict is Verdict.VALID  # intact, valid, trusted
    assert sig.intact and sig.valid and sig.trusted
    return report


def _values(report: Report) -> list[str]:
    """What the report must show for Art. 6, as the renderers format it."""
    sig = report.signatures[0]
    return [format_value(sig, attr) for item in ARTICLE_6_FIELDS for attr in item.attributes[:2]]


def test_article_6_fields_name_real_report_attributes(report: Report) -> None:
    names = {f.name for f in dataclasses.fields(SignatureReport)}
    assert [item.vi for item in ARTICLE_6_FIELDS] == list(ARTICLE_6_VI)
    for item in ARTICLE_6_FIELDS:
        assert item.attributes and set(item.attributes) <= names, item
        assert all(a in LABELS for a in item.attributes)
    sig = report.signatures[0]
    # every Art. 6 item is answered for a valid demo signature (its main attribute is set)
    for item in ARTICLE_6_FIELDS:
        if item.key == "signing_time":
            assert sig.signing_time or sig.timestamp
        else:
            assert getattr(sig, item.attributes[0]) not in ("", None), item.key


def test_html_shows_every_article_6_item_in_vietnamese(report: Report) -> None:
    page = render_html(report, verified_at=WHEN)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page
    assert unicodedata.is_normalized("NFC", page)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    for label in ARTICLE_6_VI:
        assert label in text, label
    sig = report.signatures[0]
    for value in (sig.signer, sig.signer_organisation, sig.issuer, *_values(report)):
        assert value and value in text, value
    assert "Nguyễn Văn Hùng" in text and "Còn nguyên vẹn" in text
    assert "Có hiệu lực tại thời điểm ký" in text
    assert "KẾT LUẬN: HỢP LỆ" in text and 'class="verdict valid"' in page
    assert report.sha256 in text and "qd-05.pdf" in text
    assert "03/10/2025 09:04:05" in text  # time of verification, Vietnam time
    assert re.search(r"Kyso \d+\.\d+", text)
    # self-contained: no external assets
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", page)


def test_html_in_english(report: Report) -> None:
    page = render_html(report, "en", verified_at=WHEN)
    assert '<html lang="en">' in page and "VERDICT: VALID" in page
    assert "Issuing CA" in page and "Certificate validity period" in page
    with pytest.raises(ValueError):
        render_html(report, "fr")


def test_verdict_words_and_reasons() -> None:
    sig = SignatureReport(field="KySo_PheDuyet", signer="X", verdict=Verdict.INVALID)
    bad = Report.of("x.pdf", "0" * 64, [sig])
    assert "KHÔNG HỢP LỆ" in render_html(bad) and 'class="verdict invalid"' in render_html(bad)
    empty = Report.of("y.pdf", "1" * 64, [])
    page = render_html(empty)
    assert "KHÔNG XÁC ĐỊNH" in page and "tệp không có chữ ký số nào" in page


def test_hostile_file_and_certificate_names_are_escaped(report: Report) -> None:
    sig = dataclasses.replace(report.signatures[0], signer='<img src=x onerror="alert(1)">',
                              issuer="</td></table><script>evil()</script>")
    hostile = dataclasses.replace(report, file=HOSTILE, signatures=[sig])
    page = render_html(hostile)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&quot;quyết-định&#x27;.pdf" \
        in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert render_pdf(hostile).startswith(b"%PDF")  # ReportLab markup escaped too


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "bao-cao.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_pdf_is_a4_and_shows_every_article_6_item(report: Report, tmp_path: Path) -> None:
    pdf = render_pdf(report, verified_at=WHEN)
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    assert b"595.276 x 841.89 pts (A4)" in info
    text = _pdftotext(pdf, tmp_path)
    flat = unicodedata.normalize("NFC", re.sub(r"\s+", " ", text))
    for label in ARTICLE_6_VI:
        assert label in flat, label
    sig = report.signatures[0]
    for value in (sig.signer, sig.signer_organisation, sig.issuer, "Còn nguyên vẹn",
                  "Có hiệu lực tại thời điểm ký", "KẾT LUẬN: HỢP LỆ", "03/10/2025 09:04:05"):
        assert value in flat, value
    for value in _values(report):
        assert re.sub(r"\s+", "", value) in flat.replace(" ", ""), value
    assert report.sha256 in flat.replace(" ", "")


def test_pdf_in_english(report: Report, tmp_path: Path) -> None:
    text = _pdftotext(render_pdf(report, "en"), tmp_path)
    assert "VERDICT: VALID" in text and "Issuing CA" in text


# ---------------------------------------------------------------- over HTTP


@pytest.fixture(scope="module")
def auditor(data: DataDir, commune: DemoCommune,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """The real app in-process on its own database, trusting the session's demo PKI,
    signed in as the demo auditor; and a session factory to read the audit trail."""
    from fastapi.testclient import TestClient

    from api.database import open_database
    from api.demo.accounts import seed_demo_accounts
    from api.demo.commune import demo_people, seed
    from api.http.app import create_app
    from api.settings import Settings

    service = DataDir(tmp_path_factory.mktemp("http") / "data").create()
    shutil.copytree(data.pki, service.pki)
    sessions = open_database(service)
    with sessions() as session, session.begin():
        body = seed(session, commune.pki)
        seed_demo_accounts(session, body, demo_people(session, body))
    app = create_app(Settings(data_dir=service.root, database_url=service.database_url))
    with TestClient(app) as client:
        login = client.post("/api/v1/auth/login",
                            json={"username": "kiemtra", "password": "kiemtra-demo"})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        yield client, sessions


def _verify_events(sessions: Any) -> list[Any]:
    from sqlalchemy import select

    from documents.audit import AuditAction, AuditEvent

    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == AuditAction.VERIFY).order_by(AuditEvent.seq)))


def test_http_html_and_pdf_reports(auditor: tuple[Any, Any], data: DataDir,
                                   commune: DemoCommune, sample_pdf: bytes,
                                   tmp_path: Path) -> None:
    client, sessions = auditor
    signed = sign_as(data, commune.pki, "pho-chu-tich", sample_pdf)
    upload = [("files", (HOSTILE, signed, "application/pdf"))]

    (doc,) = client.post("/api/v1/verify", files=upload).json()
    assert doc["verdict"] == "valid" and doc["schema"] == "kyso.verify/1"

    page = client.post("/api/v1/verify?format=html", files=upload)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.text))
    assert "KẾT LUẬN: HỢP LỆ" in text and "<script>" not in page.text
    assert all(label in text for label in ARTICLE_6_VI)
    assert "\n" not in page.headers["content-disposition"]
    english = client.post("/api/v1/verify?format=html&lang=en", files=upload)
    assert "VERDICT: VALID" in english.text

    two = client.post("/api/v1/verify?format=html", files=upload * 2)
    assert two.status_code == 400 and "đúng một tệp" in two.json()["error"]["vi"]

    pdf = client.post("/api/v1/verify/report.pdf",
                      files={"file": ("qd.pdf", signed, "application/pdf")})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    flat = re.sub(r"\s+", " ", _pdftotext(pdf.content, tmp_path))
    assert "KẾT LUẬN: HỢP LỆ" in flat and all(label in flat for label in ARTICLE_6_VI)

    broken = client.post("/api/v1/verify/report.pdf",
                         files={"file": ("x.pdf", b"not a pdf", "application/pdf")})
    assert broken.status_code == 422 and broken.json()["error"]["vi"]

    events = _verify_events(sessions)
    assert len(events) == 4  # json, html, html (en), pdf; refused requests verify nothing
    assert all(e.actor == "kiemtra" for e in events)
    assert "qd.pdf" in str(events[-1].details)
