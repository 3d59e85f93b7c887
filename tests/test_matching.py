"""Register matching, short verification links and the QR code printed before the first
signature: a real draft prepared with its QR code, approved and issued on the session's
SoftHSM tokens with the demo TSA, its archive timestamp renewed; then every stored file
is matched back to its document, and the QR code on the issued file is read."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from api.datadir import DataDir
from api.demo.art import appendix_pdf, handwritten_signature
from api.demo.art import seal as seal_image
from api.demo.commune import seed
from api.demo.demo import DEMO_PIN, DemoCommune
from certs import validation_context
from common import vietnam_time
from documents import (
    Document,
    DocumentVersion,
    FileStore,
    IssueDetails,
    Organisation,
    Person,
    Relation,
    Signing,
    VersionKind,
    approve,
    check_against,
    code_in_url,
    create_engine_for,
    document_for_code,
    ensure_link,
    issue,
    latest_version,
    link_of,
    make_copy,
    match_claimed,
    match_file,
    match_link,
    new_draft,
    normalise_code,
    prepare,
    renew_archive_timestamps,
    session_factory,
    sign_attachment,
    upgrade_database,
    verify_url,
)
from signer import locate
from signer.errors import QrOverlapsField
from signer.prepare import PERSON_FIELD, Place, plan_fields, prepare_draft
from signer.profiles import CopyKind
from signer.qr import QR_SIZE_PT, qr_links, qr_matrix, qr_rect

from .conftest import TESTS_DATA
from .helpers import verify
from .tamper import change_page_content

DRAFT = TESTS_DATA / "drafts" / "t1_mau12_quyet_dinh.pdf"
BASE = "https://kyso.tienlu.example"
WHEN = date(2025, 11, 5)
SIGNER, SIGNER_TOKEN = "Lê Minh Đức", "pho-chu-tich-duc"
RECIPIENTS = "Như Điều 3; Lưu: VT."


@dataclasses.dataclass(frozen=True)
class Flow:
    """One document taken from draft to issued file, with every stored PDF."""

    document_id: str
    code: str
    number_symbol: str
    files: dict[VersionKind, bytes]


def issue_with_qr(sessions: sessionmaker[Session], store: FileStore, data: DataDir,
                  signing: Signing, qr_url: str | None = BASE,
                  subject: str = "Về việc thử nghiệm mã kiểm tra") -> Flow:
    """New draft → prepare (with the QR code when ``qr_url``) → approve → issue."""
    with sessions() as session, session.begin():
        body = session.scalars(select(Organisation)).one()
        document = new_draft(session, store, body, "quyet-dinh", subject,
                             DRAFT.read_bytes(), actor="Chuyên viên")
        prepare(session, store, document, actor="Văn thư", qr_url=qr_url)
        doc_id = document.id
    with data.token(SIGNER_TOKEN).signer(DEMO_PIN) as hand, sessions() as session, \
            session.begin():
        person = session.scalars(select(Person).where(Person.full_name == SIGNER)).one()
        approve(session, store, session.get_one(Document, doc_id), person, hand,
                handwritten_signature(), signing)
    with data.token("ubnd").signer(DEMO_PIN) as body_signer, sessions() as session, \
            session.begin():
        details = IssueDetails(issued_date=WHEN, signer_full_name=SIGNER,
                               signer_position="Phó Chủ tịch", recipients=RECIPIENTS,
                               registered_by="Văn thư")
        entry, _ = issue(session, store, session.get_one(Document, doc_id), body_signer,
                         seal_image(), details, signing)
        number = entry.number_symbol
    with sessions() as session:
        document = session.get_one(Document, doc_id)
        link = link_of(session, document)
        assert link is not None
        files = {}
        for kind in (VersionKind.DRAFT, VersionKind.PREPARED, VersionKind.APPROVED,
                     VersionKind.ISSUED):
            version = latest_version(session, document, kind)
            assert version is not None
            files[kind] = store.get(version.sha256)
        return Flow(doc_id, link.code, number, files)


def new_database(path: Path, commune: DemoCommune) -> tuple[sessionmaker[Session], Engine]:
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = create_engine_for(url)
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        seed(session, commune.pki)
    return sessions, engine


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, data: DataDir,
          commune: DemoCommune) -> Iterator[tuple[sessionmaker[Session], FileStore, Flow,
                                                  Signing]]:
    root = tmp_path_factory.mktemp("matching")
    sessions, engine = new_database(root / "kyso.db", commune)
    store = FileStore(root / "files")
    signing = Signing(tsa_url=commune.pki.tsa_url)
    yield sessions, store, issue_with_qr(sessions, store, data, signing), signing
    engine.dispose()


def verify_sha(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


# --- short links ---------------------------------------------------------------------------

def test_codes_are_random_base32_and_read_back_in_any_case(
        world: tuple[sessionmaker[Session], FileStore, Flow, Signing]) -> None:
    sessions, _, flow, _ = world
    assert len(flow.code) == 12 and normalise_code(flow.code) == flow.code
    assert normalise_code(f"  {flow.code.upper()} ") == flow.code
    for junk in ("", "short", flow.code + "a", "0" * 12, "../../etc/pas", flow.code[:-1] + "!"):
        assert normalise_code(junk) is None
    assert code_in_url(verify_url(BASE + "/", flow.code)) == flow.code
    assert code_in_url(f"{BASE}/v/{flow.code}x") is None
    with sessions() as session:
        document = session.get_one(Document, flow.document_id)
        assert document_for_code(session, flow.code.upper()) is document
        assert document_for_code(session, "a" * 12) is None
        assert ensure_link(session, document).code == flow.code  # made once, kept


# --- matching ------------------------------------------------------------------------------

def test_the_issued_file_matches_exactly_with_its_register_entry(
        world: tuple[sessionmaker[Session], FileStore, Flow, Signing]) -> None:
    sessions, _, flow, _ = world
    with sessions() as session:
        found = match_file(session, verify_sha(flow.files[VersionKind.ISSUED]))
        body_name = session.scalars(select(Organisation)).one().name
    assert found is not None and found.exact
    assert (found.document_id, found.relation, found.kind) == \
        (flow.document_id, Relation.ISSUED, VersionKind.ISSUED)
    entry = found.entry
    assert entry is not None
    assert (entry.number_symbol, entry.issued_date, entry.signer_full_name,
            entry.signer_position, entry.recipients, entry.organ_name, entry.cancelled) == \
        (flow.number_symbol, WHEN, SIGNER, "Phó Chủ tịch", RECIPIENTS, body_name, False)
    block = found.to_dict()
    assert block["exact"] is True and block["entry"]["number_symbol"] == flow.number_symbol
    assert block["relation"] == "ISSUED" and block["version_kind"] == "ISSUED"


@pytest.mark.parametrize("kind", [VersionKind.DRAFT, VersionKind.PREPARED,
                                  VersionKind.APPROVED])
def test_versions_before_issue_match_but_are_not_the_issued_file(
        world: tuple[sessionmaker[Session], FileStore, Flow, Signing],
        kind: VersionKind) -> None:
    sessions, _, flow, _ = world
    with sessions() as session:
        found = match_file(session, verify_sha(flow.files[kind]).upper())
        answer = check_against(session, session.get_one(Document, flow.document_id),
                               verify_sha(flow.files[kind]))
    assert found is not None and found.kind is kind
    assert found.relation is Relation.NOT_ISSUED and not found.exact
    assert found.entry is not None and found.entry.number_symbol == flow.number_symbol
    assert not answer.genuine and "KHÔNG phải bản đã ban hành" in answer.vi
    assert "trước khi ban hành" in answer.vi


def test_unknown_and_altered_files_match_nothing_but_the_link_names_the_document(
        world: tuple[sessionmaker[Session], FileStore, Flow, Signing], data: DataDir,
        sample_pdf: bytes) -> None:
    sessions, _, flow, _ = world
    altered = change_page_content(flow.files[VersionKind.ISSUED])
    assert verify(data, altered).verdict != "valid"
    with sessions() as session:
        assert match_file(session, verify_sha(sample_pdf)) is None
        assert match_file(session, verify_sha(altered)) is None
        claimed = match_claimed(session, qr_links(altered))
        answer = check_against(session, session.get_one(Document, flow.document_id),
                               verify_sha(altered))
        assert match_claimed(session, qr_links(sample_pdf)) is None
        assert match_link(session, "b" * 12) is None
    assert claimed is not None and claimed.relation is Relation.CLAIMED
    assert claimed.document_id == flow.document_id and not claimed.exact
    assert claimed.kind is None and claimed.entry is not None
    assert not answer.genuine and answer.match is None
    assert "KHÔNG phải bản đã ban hành" in answer.vi and "khác với bản đã ban hành" in answer.vi


def test_check_against_the_issued_document(
        world: tuple[sessionmaker[Session], FileStore, Flow, Signing]) -> None:
    sessions, _, flow, _ = world
    with sessions() as session:
        document = session.get_one(Document, flow.document_id)
        answer = check_against(session, document, verify_sha(flow.files[VersionKind.ISSUED]))
    assert answer.genuine and answer.vi == "Tệp này đúng là bản đã ban hành."


@pytest.mark.slow
def test_archived_attachment_and_copy(
        world: tuple[sessionmaker[Session], FileStore, Flow, Signing], data: DataDir,
        commune: DemoCommune) -> None:
    sessions, store, flow, signing = world
    trust = data.trust_store()
    for margin in (timedelta(days=180), timedelta(days=365 * 100)):  # the 2nd renews again
        with sessions() as session, session.begin():
            renewed = renew_archive_timestamps(
                session, store, tsa_url=commune.pki.tsa_url,
                validation_context=lambda: validation_context(trust, online=True),
                now=vietnam_time(), margin=margin)
            assert flow.document_id in renewed
    with data.token("ubnd").signer(DEMO_PIN) as body_signer, sessions() as session, \
            session.begin():
        document = session.get_one(Document, flow.document_id)
        attachment = sign_attachment(session, store, document, body_signer,
                                     appendix_pdf("Phụ lục kèm theo"), signing,
                                     file_name="phu-luc.pdf")
        details = IssueDetails(issued_date=WHEN, signer_full_name="UBND xã Tiên Lữ",
                               signer_position="Văn thư", registered_by="Văn thư")
        copy_doc, copy_entry, copy_pdf = make_copy(session, store, document, body_signer,
                                                   CopyKind.SAO_Y, details, signing)
        copy_id, copy_number = copy_doc.id, copy_entry.number_symbol
    with sessions() as session:
        archived = session.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id == flow.document_id,
            DocumentVersion.kind == VersionKind.ARCHIVED).order_by(DocumentVersion.id)).all()
        assert len(archived) == 2
        older, newer = (match_file(session, v.sha256) for v in archived)
        document = session.get_one(Document, flow.document_id)
        latest = check_against(session, document, archived[1].sha256)
        of_copy = check_against(session, document, verify_sha(copy_pdf))
        found_attachment = match_file(session, verify_sha(attachment))
        found_copy = match_file(session, verify_sha(copy_pdf))
        newest_pdf = store.get(archived[1].sha256)
    assert newer is not None and newer.relation is Relation.ARCHIVED and newer.exact
    assert older is not None and older.relation is Relation.ARCHIVED_SUPERSEDED and older.exact
    assert latest.genuine and "lưu trữ" in latest.vi
    assert newest_pdf.startswith(flow.files[VersionKind.ISSUED])  # extends the issued file
    assert found_attachment is not None and found_attachment.relation is Relation.ATTACHMENT
    assert found_attachment.document_id == flow.document_id and not found_attachment.exact
    assert found_copy is not None and found_copy.relation is Relation.COPY
    assert found_copy.document_id == copy_id and found_copy.source_document_id == flow.document_id
    assert found_copy.entry is not None and found_copy.entry.number_symbol == copy_number
    assert found_copy.source_entry is not None
    assert found_copy.source_entry.number_symbol == flow.number_symbol
    assert not of_copy.genuine and copy_number in of_copy.vi


# --- the QR code ---------------------------------------------------------------------------

def _page_one(pdf: bytes, dpi: int, tmp_path: Path) -> Image.Image:
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-gray", "-png",
                    str(path), str(tmp_path / "page")], check=True, timeout=60)
    (png,) = tmp_path.glob("page*.png")
    return Image.open(png).convert("L")


def _media_box(pdf: bytes) -> tuple[float, float, float, float]:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        x1, y1, x2, y2 = (float(v) for v in doc.pages[0].mediabox)
    return x1, y1, x2, y2


def test_the_qr_code_is_on_page_one_of_the_issued_file_and_its_signatures_hold(
        world: tuple[sessionmaker[Session], FileStore, Flow, Signing], data: DataDir,
        tmp_path: Path) -> None:
    _, _, flow, _ = world
    issued = flow.files[VersionKind.ISSUED]
    link = verify_url(BASE, flow.code)
    report = verify(data, issued)
    assert report.verdict == "valid" and len(report.signatures) == 2
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)
    assert qr_links(flow.files[VersionKind.DRAFT]) == []
    assert qr_links(flow.files[VersionKind.PREPARED]) == [link] == qr_links(issued)

    # the modules painted on the page are segno's matrix for the link, module by module
    dpi = 300
    image = _page_one(issued, dpi, tmp_path)
    box = _media_box(issued)
    x0, y0, x1, y1 = qr_rect(box)
    assert x1 - box[0] <= 30 * 72 / 25.4 and y1 - box[1] <= 35 * 72 / 25.4  # bottom-left margin
    matrix = qr_matrix(link)
    module = QR_SIZE_PT / len(matrix)
    scale = dpi / 72
    pixels = image.load()
    assert pixels is not None

    def dark(r: int, c: int) -> bool:
        value = pixels[round((x0 + (c + 0.5) * module - box[0]) * scale),
                       round((box[3] - (y1 - (r + 0.5) * module)) * scale)]
        assert isinstance(value, int)
        return value < 128

    seen = [[dark(r, c) for c in range(len(matrix))] for r in range(len(matrix))]
    assert seen == matrix


def test_a_qr_decoder_reads_the_link(world: tuple[sessionmaker[Session], FileStore, Flow,
                                                  Signing], tmp_path: Path) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    _, _, flow, _ = world
    image = _page_one(flow.files[VersionKind.ISSUED], 150, tmp_path)
    (found,) = zxingcpp.read_barcodes(image)
    assert found.text == verify_url(BASE, flow.code)
    assert found.position.top_left.x < image.width * 0.15
    assert found.position.top_left.y > image.height * 0.8


def test_without_qr_url_the_link_exists_but_nothing_is_printed(
        tmp_path: Path, data: DataDir, commune: DemoCommune) -> None:
    sessions, engine = new_database(tmp_path / "kyso.db", commune)
    store = FileStore(tmp_path / "files")
    with sessions() as session, session.begin():
        body = session.scalars(select(Organisation)).one()
        document = new_draft(session, store, body, "quyet-dinh", "Không in mã",
                             DRAFT.read_bytes())
        prepare(session, store, document)
        prepared = latest_version(session, document, VersionKind.PREPARED)
        assert prepared is not None and link_of(session, document) is not None
        assert qr_links(store.get(prepared.sha256)) == []
        answer = check_against(session, document, prepared.sha256)
        assert not answer.genuine and "chưa được ban hành" in answer.vi
    engine.dispose()


def test_a_qr_code_over_a_field_is_refused() -> None:
    draft = DRAFT.read_bytes()
    plan = plan_fields(locate(draft))
    crowded = dataclasses.replace(plan, person=Place(0, (30, 30, 120, 70)))
    with pytest.raises(QrOverlapsField) as refused:
        prepare_draft(draft, crowded, qr_text=verify_url(BASE, "a" * 12))
    assert PERSON_FIELD in refused.value.vi and "mã QR" in refused.value.vi
