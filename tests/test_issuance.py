"""The life of a document in the database: prepare, approve, issue, attach, copy — and the
refusals, after which nothing is half-done (no number used, no version, no status change)."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.cli.operations import verify_document
from api.datadir import DataDir
from api.demo.art import appendix_pdf, handwritten_signature, seal
from api.demo.commune import run_flow, seed
from api.demo.demo import DEMO_PIN, DemoCommune
from documents import (
    CertificateMismatch,
    Document,
    DocumentStatus,
    DocumentVersion,
    FileStore,
    IssueDetails,
    NoSigningAuthority,
    NumberBook,
    Person,
    RegisterEntry,
    SignerNotInBlock,
    Signing,
    VersionKind,
    WrongStep,
    approve,
    counter_value,
    create_engine_for,
    issue,
    latest_version,
    make_copy,
    new_draft,
    prepare,
    session_factory,
    sign_attachment,
    upgrade_database,
)
from signer import PdfEncrypted, SigningOptions, TimestampUnavailable, locate
from signer.prepare import (
    DAY_FIELD,
    MONTH_FIELD,
    NUMBER_FIELD,
    ORGANISATION_FIELD,
    PERSON_FIELD,
    YEAR_FIELD,
)
from signer.profiles import CopyKind

from .conftest import TESTS_DATA

DRAFTS = TESTS_DATA / "drafts"
#: Rendered pages kept after the run for people (and CI) to look at; not committed.
ARTEFACTS = Path(__file__).resolve().parent.parent / ".test-artefacts"
WHEN = date(2025, 11, 5)


@pytest.fixture
def db(tmp_path: Path, commune: DemoCommune) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'kyso.db'}"
    upgrade_database(url)
    engine = create_engine_for(url)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        seed(session, commune.pki)
    yield factory
    engine.dispose()


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


@pytest.fixture
def signing(commune: DemoCommune) -> Signing:
    return Signing(tsa_url=commune.pki.tsa_url)


def person(session: Session, name: str) -> Person:
    return session.scalars(select(Person).where(Person.full_name == name)).one()


def details(name: str = "Lê Minh Đức", day: date = WHEN) -> IssueDetails:
    return IssueDetails(issued_date=day, signer_full_name=name, signer_position="Phó Chủ tịch",
                        recipients="Như Điều 3; Lưu: VT.", registered_by="Văn thư")


def drafted(db: sessionmaker[Session], store: FileStore, draft: str,
            doc_type: str = "quyet-dinh") -> str:
    from documents import Organisation

    with db() as session, session.begin():
        body = session.scalars(select(Organisation)).one()
        document = new_draft(session, store, body, doc_type, "Về việc thử nghiệm",
                             (DRAFTS / draft).read_bytes())
        prepare(session, store, document)
        return document.id


def approved(db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing,
             draft: str = "t1_mau12_quyet_dinh.pdf", signer: str = "Lê Minh Đức",
             token: str = "pho-chu-tich-duc", doc_type: str = "quyet-dinh") -> str:
    doc_id = drafted(db, store, draft, doc_type)
    with data.token(token).signer(DEMO_PIN) as hand, db() as session, session.begin():
        approve(session, store, session.get_one(Document, doc_id), person(session, signer),
                hand, handwritten_signature(), signing)
    return doc_id


def issued(db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing,
           doc_id: str, name: str = "Lê Minh Đức") -> tuple[str, bytes]:
    with data.token("ubnd").signer(DEMO_PIN) as body, db() as session, session.begin():
        entry, pdf = issue(session, store, session.get_one(Document, doc_id), body, seal(),
                           details(name), signing)
        return entry.number_symbol, pdf


def values(pdf: bytes) -> dict[str, str]:
    """Each form field's value."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return {str(f.T): str(f.get("/V", "")) for f in doc.Root.AcroForm.Fields}


# --- the whole flow ----------------------------------------------------------------------

@pytest.mark.slow
def test_demo_flow_issues_document_attachment_and_copy(data: DataDir,
                                                        commune: DemoCommune) -> None:
    draft = (DRAFTS / "t1_mau12_quyet_dinh.pdf").read_bytes()
    result = run_flow(data, commune.pki, draft)
    assert set(result.files) == {"issued", "attachment", "copy"}
    for key, report in result.reports.items():
        assert report.verdict == "valid", (key, [r.en for s in report.signatures
                                                 for r in s.reasons])
    issued_report = result.reports["issued"]
    assert [s.signer for s in issued_report.signatures] == ["Lê Minh Đức", "UBND xã Tiên Lữ"]
    # B-LT: the DSS added after the organisation signature is an allowed update
    assert [s.modification_level for s in issued_report.signatures] == ["form_filling",
                                                                        "lta_updates"]
    number = result.number.split("/")[0]
    assert values(result.files["issued"].read_bytes())[NUMBER_FIELD] == number
    rows = {row[0]: row for row in result.register}
    assert rows[result.number][3] == "Lê Minh Đức"
    copy_number = [r for r in rows if r.endswith("/SY-UBND")]
    assert copy_number and all(p.exists() for p in result.files.values())
    # pyHanko's own CLI agrees on all three files
    root = commune.pki.directory / "certs" / "root.cert.pem"
    for path in result.files.values():
        check = subprocess.run(
            [str(Path(__file__).parent.parent / ".venv/bin/pyhanko"), "sign", "validate",
             "--trust", str(root), "--trust-replace", "--executive-summary", str(path)],
            capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr
        assert all(line.endswith(":VALID") for line in check.stdout.split())


@pytest.mark.slow
def test_issued_pages_show_number_date_and_both_images_where_the_rules_say(
        db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing) -> None:
    doc_id = approved(db, store, data, signing, draft="c_thong_bao_2trang.pdf",
                      signer="Lê Minh Đức", doc_type="thong-bao")
    number, pdf = issued(db, store, data, signing, doc_id)
    art = ARTEFACTS
    art.mkdir(exist_ok=True)
    target = art / f"issued-{number.replace('/', '-')}.pdf"
    target.write_bytes(pdf)
    pages = locate(pdf).pages
    subprocess.run(["pdftoppm", "-r", "72", "-png", str(target), str(target.with_suffix(""))],
                   check=True, timeout=120)
    first = Image.open(f"{target.with_suffix('')}-1.png").convert("RGB")
    last = Image.open(f"{target.with_suffix('')}-{pages}.png").convert("RGB")

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        rects = {str(f.T): [float(v) for v in f.Rect] for f in doc.Root.AcroForm.Fields}
        pages_of = {str(f.T): doc.pages.index(pikepdf.Page(f.P)) for f in doc.Root.AcroForm.Fields}
        height = float(doc.pages[0].mediabox[3])
    layout = locate((DRAFTS / "c_thong_bao_2trang.pdf").read_bytes())
    assert layout.number is not None and layout.date is not None
    block = layout.signature
    assert block is not None

    # number and date: in the header's blanks, on page 1, with the digits written there
    assert pages_of[NUMBER_FIELD] == pages_of[DAY_FIELD] == pages_of[MONTH_FIELD] == 0
    words = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(target), "-"],
                           capture_output=True, text=True, check=True).stdout
    x1, y1, x2, y2 = rects[NUMBER_FIELD]
    assert 'yMin="' in words and number.split("/")[0] in words
    assert layout.number.blank.x0 - 1 <= x1 and x2 <= layout.number.blank.x1 + 1

    # the person's image sits between title and name on the last page, and is blue
    px1, py1, px2, py2 = rects[PERSON_FIELD]
    assert pages_of[PERSON_FIELD] == pages - 1
    assert block.name_box.y1 <= py1 and py2 <= block.title_boxes[-1].y0
    assert _share(last, (px1, py1, px2, py2), height, _blue) > 0.01
    # the seal covers the left third of the signature image and is red
    sx1, sy1, sx2, sy2 = rects[ORGANISATION_FIELD]
    assert sx2 == pytest.approx(px1 + (px2 - px1) / 3, abs=0.5)
    assert sx2 - sx1 == pytest.approx(36 / 25.4 * 72, abs=0.5)  # real size, 36 mm
    assert _share(last, (sx1, sy1, sx2, sy2), height, _red) > 0.05
    assert _share(first, (x1, y1, x2, y2), height, _dark) > 0.02  # the number's ink


def _blue(p: tuple[int, int, int]) -> bool:
    return p[2] > 120 and p[0] < 90 and p[1] < 120


def _red(p: tuple[int, int, int]) -> bool:
    return p[0] > 170 and p[1] < 110 and p[2] < 110


def _dark(p: tuple[int, int, int]) -> bool:
    return sum(p) < 200


def _share(image: Image.Image, rect: tuple[float, float, float, float], page_height: float,
           test: Callable[[tuple[int, int, int]], bool]) -> float:
    """Fraction of the pixels in ``rect`` (PDF points, 72 dpi render) that pass ``test``."""
    x1, y1, x2, y2 = rect
    box = image.crop((int(x1), int(page_height - y2), int(x2), int(page_height - y1)))
    raw = box.tobytes()
    pixels = [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]
    return sum(1 for p in pixels if test(p)) / max(len(pixels), 1)


# --- refusals leave nothing half-done ------------------------------------------------------

def test_encrypted_draft_is_refused_and_nothing_is_stored(
        db: sessionmaker[Session], store: FileStore, tmp_path: Path) -> None:
    from documents import Organisation

    locked = io.BytesIO()
    with pikepdf.open(DRAFTS / "t1_mau12_quyet_dinh.pdf") as doc:
        doc.save(locked, encryption=pikepdf.Encryption(owner="a", user="b", R=6))
    with db() as session, pytest.raises(PdfEncrypted), session.begin():
        body = session.scalars(select(Organisation)).one()
        new_draft(session, store, body, "quyet-dinh", "x", locked.getvalue())
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0
    assert not store.root.exists()


def test_only_an_authorised_person_with_the_registered_certificate_signs(
        db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing) -> None:
    doc_id = drafted(db, store, "t1_mau12_quyet_dinh.pdf")
    with db() as session, session.begin():
        session.add(Person(body_id=session.get_one(Document, doc_id).body_id,
                           full_name="Lê Minh Đức Hai", position="Chuyên viên"))
    with data.token("chuyen-vien-vp").signer(DEMO_PIN) as hand, db() as session, \
            pytest.raises(NoSigningAuthority):
        approve(session, store, session.get_one(Document, doc_id),
                person(session, "Lê Minh Đức Hai"), hand, handwritten_signature(), signing)
    with data.token("chu-tich").signer(DEMO_PIN) as hand, db() as session:
        with pytest.raises(CertificateMismatch) as err:  # Đức's authority, the chair's token
            approve(session, store, session.get_one(Document, doc_id),
                    person(session, "Lê Minh Đức"), hand, handwritten_signature(), signing)
        assert "Lê Minh Đức" in err.value.vi
        with pytest.raises(SignerNotInBlock):  # the block names Đức, not the chair
            approve(session, store, session.get_one(Document, doc_id),
                    person(session, "Nguyễn Văn Hùng"), hand, handwritten_signature(), signing)
    with db() as session:
        document = session.get_one(Document, doc_id)
        assert document.status is DocumentStatus.PREPARED
        assert latest_version(session, document, VersionKind.APPROVED) is None


def test_issue_without_timestamp_uses_no_number_and_the_retry_takes_the_next_one(
        db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing) -> None:
    doc_id = approved(db, store, data, signing)
    with data.token("ubnd").signer(DEMO_PIN) as body, db() as session, \
            pytest.raises(TimestampUnavailable), session.begin():
        issue(session, store, session.get_one(Document, doc_id), body, seal(), details(),
              Signing(tsa_url="http://127.0.0.1:9/tsa"))
    with db() as session:
        book = session.scalars(select(NumberBook).where(NumberBook.code == "chung")).one()
        assert counter_value(session, book, WHEN.year) == 0
        assert session.scalar(select(func.count()).select_from(RegisterEntry)) == 0
        assert session.get_one(Document, doc_id).status is DocumentStatus.SIGNED
    number, pdf = issued(db, store, data, signing, doc_id)
    assert number == "01/QĐ-UBND"
    written = values(pdf)
    assert (written[NUMBER_FIELD], written[DAY_FIELD], written[MONTH_FIELD]) == ("01", "05", "11")
    with data.token("ubnd").signer(DEMO_PIN) as body, db() as session, \
            pytest.raises(WrongStep):  # issued once, never twice
        issue(session, store, session.get_one(Document, doc_id), body, seal(), details(),
              signing)


def test_attachment_and_copies_carry_the_main_number_and_their_own(
        db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing) -> None:
    doc_id = approved(db, store, data, signing)
    number, _ = issued(db, store, data, signing, doc_id)
    with data.token("ubnd").signer(DEMO_PIN) as body:
        with db() as session, session.begin():
            attached = sign_attachment(session, store, session.get_one(Document, doc_id), body,
                                       appendix_pdf(f"Quyết định số {number}"), signing)
        copies = []
        for kind in (CopyKind.SAO_Y, CopyKind.SAO_Y, CopyKind.TRICH_SAO):
            with db() as session, session.begin():
                _, entry, pdf = make_copy(session, store, session.get_one(Document, doc_id),
                                          body, kind, details("UBND xã Tiên Lữ"), signing)
                copies.append((entry.number_symbol, pdf))
    assert [n for n, _ in copies] == ["01/SY-UBND", "02/SY-UBND", "03/TrS-UBND"]
    header = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-", "-"], input=attached,
                            capture_output=True, check=True).stdout.decode()
    assert number in header
    for _, pdf in copies:
        report = verify_document(data, pdf)
        assert report.verdict == "valid"
        assert len(report.signatures) == 3  # person, body, copying body
    with db() as session:
        versions = session.scalars(select(DocumentVersion.kind)).all()
        assert sorted(k.name for k in versions) == sorted(
            ["DRAFT", "PREPARED", "APPROVED", "ISSUED", "ATTACHMENT", "COPY", "COPY", "COPY"])



def _big_annex(pages: int, image_mb: int) -> bytes:
    """A scanned annex of ``pages`` pages whose first page shows one uncompressed grey
    image of ``image_mb`` MB (beyond a draft's limits when pages > 300 or MB > 50)."""
    import random

    width = 4096
    height = image_mb * 2**20 // width
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, random.Random(7).randbytes(width * height))
    image.stream_dict = pikepdf.Dictionary(
        Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=width, Height=height,
        ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8)
    shown = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    for number in range(pages):
        page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842])
        if number == 0:
            page.Contents = shown
            page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(
                Im0=pdf.make_indirect(image)))
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def test_an_annex_beyond_a_drafts_limits_is_signed_as_an_attachment(
        db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing) -> None:
    """A scanned annex may have the 100 MB and the pages verification accepts (issue 18:
    a 100 MB annex through the worker); a draft stays within 50 MB and 300 pages."""
    from signer import ATTACHMENT_LIMITS, DRAFT_LIMITS, PdfHostile, check_draft

    annex = _big_annex(301, 51)
    assert len(annex) > DRAFT_LIMITS.max_bytes
    with pytest.raises(PdfHostile):
        check_draft(annex)
    check_draft(annex, ATTACHMENT_LIMITS)
    doc_id = approved(db, store, data, signing)
    issued(db, store, data, signing, doc_id)
    with data.token("ubnd").signer(DEMO_PIN) as body, db() as session, session.begin():
        attached = sign_attachment(session, store, session.get_one(Document, doc_id), body,
                                   annex, signing, file_name="phu-luc-lon.pdf")
    assert attached.startswith(annex)  # an incremental update of the annex as it came
    report = verify_document(data, attached)
    assert report.verdict == "valid", report.to_dict()
    with db() as session:
        kept = session.scalars(select(DocumentVersion).where(
            DocumentVersion.file_name == "phu-luc-lon.pdf")).one()
        assert kept.kind is VersionKind.ATTACHMENT and kept.size == len(attached)

# --- the printed date is the date of issue, whole -------------------------------------------

def _date_line_text(pdf: bytes) -> str:
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-", "-"], input=pdf,
                          capture_output=True, check=True).stdout.decode()
    return next(" ".join(line.split()) for line in text.splitlines() if ", ngày" in line)


def test_a_draft_of_2025_issued_in_2026_prints_2026(
        db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing) -> None:
    from documents import AuditAction, AuditEvent
    from documents.issuance import printed_date

    doc_id = approved(db, store, data, signing)  # t1 prints "năm 2025"
    new_year = date(2026, 1, 2)
    with db() as session:
        version = latest_version(session, session.get_one(Document, doc_id),
                                 VersionKind.APPROVED)
        assert version is not None
        approved_pdf = store.get(version.sha256)
    # what the clerk's page shows before issuing is what the page will print
    preview = printed_date(approved_pdf, new_year)
    assert preview == "Tiên Lữ, ngày 02 tháng 01 năm 2026"
    with data.token("ubnd").signer(DEMO_PIN) as body, db() as session, session.begin():
        entry, pdf = issue(session, store, session.get_one(Document, doc_id), body, seal(),
                           details(day=new_year), signing)
        assert (entry.issued_date, entry.year, entry.note or "") == (new_year, 2026, "")
    assert _date_line_text(pdf) == preview
    written = values(pdf)
    assert (written[DAY_FIELD], written[MONTH_FIELD], written[YEAR_FIELD]) == (
        "02", "01", "2026")
    assert verify_document(data, pdf).verdict == "valid"
    with db() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == AuditAction.ISSUE)).one()
        assert json.loads(event.details)["printed_date"] == preview


def _prepared_without_year_field(db: sessionmaker[Session], store: FileStore,
                                 draft: str = "t1_mau12_quyet_dinh.pdf") -> str:
    """A document prepared the way Kyso did before year fields existed: number, day and
    month fields only, the draft's printed year left on the page."""
    from dataclasses import replace

    from documents import Organisation
    from signer.prepare import plan_fields, prepare_draft

    pdf = (DRAFTS / draft).read_bytes()
    plan = replace(plan_fields(locate(pdf)), year=None)
    with db() as session, session.begin():
        body = session.scalars(select(Organisation)).one()
        document = new_draft(session, store, body, "quyet-dinh", "Văn bản cũ", pdf)
        digest = store.put(prepare_draft(pdf, plan))
        session.add(DocumentVersion(document=document, kind=VersionKind.PREPARED,
                                    sha256=digest, size=len(store.get(digest))))
        document.status = DocumentStatus.PREPARED
        return document.id


def test_issuing_a_date_the_page_would_not_print_is_refused_before_a_number_is_taken(
        db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing) -> None:
    from documents import PrintedDateMismatch

    doc_id = _prepared_without_year_field(db, store)
    with data.token("pho-chu-tich-duc").signer(DEMO_PIN) as hand, db() as session, \
            session.begin():
        approve(session, store, session.get_one(Document, doc_id),
                person(session, "Lê Minh Đức"), hand, handwritten_signature(), signing)
    with data.token("ubnd").signer(DEMO_PIN) as body, db() as session, \
            pytest.raises(PrintedDateMismatch) as err, session.begin():
        issue(session, store, session.get_one(Document, doc_id), body, seal(),
              details(day=date(2026, 1, 2)), signing)
    assert "năm 2025" in err.value.vi and "02/01/2026" in err.value.vi
    assert "year" in err.value.en
    with db() as session:
        book = session.scalars(select(NumberBook).where(NumberBook.code == "chung")).one()
        assert counter_value(session, book, 2026) == 0
        assert session.scalar(select(func.count()).select_from(RegisterEntry)) == 0
        document = session.get_one(Document, doc_id)
        assert document.status is DocumentStatus.SIGNED
        assert latest_version(session, document, VersionKind.ISSUED) is None
    # the year it prints is the year of issue: that one may be issued
    with data.token("ubnd").signer(DEMO_PIN) as body, db() as session, session.begin():
        _, pdf = issue(session, store, session.get_one(Document, doc_id), body, seal(),
                       details(day=WHEN), signing)
    assert _date_line_text(pdf) == "Tiên Lữ, ngày 05 tháng 11 năm 2025"


def test_filled_fields_that_differ_from_the_register_are_never_stored(
        db: sessionmaker[Session], store: FileStore, data: DataDir, signing: Signing,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The read-back after the organisation signature: were the fills ever wrong (here a
    profile that writes the year before), nothing is stored and no number is used."""
    from documents import PrintedDateMismatch, issuance
    from signer.profiles import issuance as real_profile

    doc_id = approved(db, store, data, signing)
    def last_years(seal_image: bytes, body: str, number: str | None, day: str | None,
                   month: str | None, year: str | None, **how: Any) -> SigningOptions:
        return real_profile(seal_image, body, number, day, month, "2025", **how)

    monkeypatch.setattr(issuance, "issuance_options", last_years)
    with data.token("ubnd").signer(DEMO_PIN) as body, db() as session, \
            pytest.raises(PrintedDateMismatch) as err, session.begin():
        issue(session, store, session.get_one(Document, doc_id), body, seal(),
              details(day=date(2026, 1, 2)), signing)
    assert "KySo_Nam" in err.value.en
    with db() as session:
        assert session.scalar(select(func.count()).select_from(RegisterEntry)) == 0
        assert latest_version(session, session.get_one(Document, doc_id),
                              VersionKind.ISSUED) is None


def test_a_plan_that_leaves_the_printed_year_uncovered_is_refused(
        db: sessionmaker[Session], store: FileStore) -> None:
    from documents import Organisation
    from signer import YearNotCovered

    with db() as session, pytest.raises(YearNotCovered) as err, session.begin():
        body = session.scalars(select(Organisation)).one()
        document = new_draft(session, store, body, "quyet-dinh", "x",
                             (DRAFTS / "t1_mau12_quyet_dinh.pdf").read_bytes())
        prepare(session, store, document, overrides={"year": None})
    assert "Tiên Lữ, ngày tháng năm 2025" in err.value.vi and "trang 1" in err.value.vi
    assert "cannot be covered" in err.value.en


def test_a_month_typed_in_the_draft_is_printed_as_typed_so_only_that_month_issues() -> None:
    from documents import PrintedDateMismatch
    from documents.issuance import printed_date
    from signer.prepare import plan_fields, prepare_draft

    from .test_locate import HEADER, synthetic_draft

    pdf = synthetic_draft([
        *HEADER,
        (100.0, 115.0, "Số:        /QĐ-UBND", "r", 13.0),
        (300.0, 115.0, "Tiên Lữ, ngày      tháng 3 năm 2026", "i", 14.0),
        (370.0, 415.0, "CHỦ TỊCH", "b", 14.0),
        (360.0, 495.0, "Nguyễn Văn Hùng", "b", 14.0),
    ])
    prepared = prepare_draft(pdf, plan_fields(locate(pdf)))
    assert printed_date(prepared, date(2026, 3, 9)) == "Tiên Lữ, ngày 09 tháng 3 năm 2026"
    with pytest.raises(PrintedDateMismatch) as err:
        printed_date(prepared, date(2026, 4, 9))
    assert "tháng 3" in err.value.vi and "09/04/2026" in err.value.vi
