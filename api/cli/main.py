"""The `kyso` command line.

Every error reaches the user as one line in Vietnamese and English, never a
traceback; exit codes: 0 success, 1 a verified file is not valid, 2 unusable
input or a refused operation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from common import KysoError
from signer import Report, Verdict, bilingual_rows
from tokens import list_slots

from ..agent.main import agent as agent_command
from ..datadir import DataDir, private_files, resolve
from ..environment import ENVIRONMENT
from .accounts import accounts_app
from .audit import audit_app
from .db import backup_command, db_app, restore_command
from .doctor import doctor as doctor_command
from .init import init as init_command
from .operations import (
    pki_services,
    sign_document_into,
    verify_document,
    write_new_file,
    write_new_file_with,
)

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Kyso — ký số và phát hành văn bản điện tử / sign and issue documents.")
tokens_app = typer.Typer(no_args_is_help=True, help="Thiết bị ký số / tokens.")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(accounts_app, name="accounts")
app.add_typer(db_app, name="db")
app.command("backup")(backup_command)
app.command("restore")(restore_command)
app.command("doctor")(doctor_command)
app.command("init")(init_command)
app.command("agent")(agent_command)
out = Console(highlight=False)

DataDirOption = Annotated[Path | None, typer.Option(
    "--data-dir", envvar="KYSO_DATA_DIR",
    help="Thư mục dữ liệu / data directory (tokens, PKI, outputs).")]


_global_data_dir: list[Path | None] = [None]


@app.callback()
def _main_options(data_dir: DataDirOption = None) -> None:
    """Kyso — ký số và phát hành văn bản điện tử / sign and issue documents."""
    _global_data_dir[0] = data_dir


def _data(data_dir: Path | None) -> DataDir:
    return DataDir(resolve(data_dir or _global_data_dir[0])).create()


def _read_pin(token_name: str) -> str:
    pin = ENVIRONMENT.pin()
    if pin is None:
        pin = typer.prompt(f"PIN của thiết bị / PIN of token '{token_name}'", hide_input=True)
    return pin


@app.command()
def demo(
    draft: Annotated[Path | None, typer.Option(
        help="Dự thảo PDF cần ban hành (mặc định: Quyết định mẫu) / draft to issue")] = None,
    doc_type: Annotated[str | None, typer.Option(
        "--type", help="Mã loại văn bản khi dòng 'Số:' không cho biết, vd. quyet-dinh, "
                       "to-trinh, cong-van / document type code")] = None,
    subject: Annotated[str | None, typer.Option(help="Trích yếu / subject")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Dựng xã demo và ban hành một văn bản: ký duyệt, cấp số, ký số cơ quan, phụ lục, bản sao.

    Build the demo commune and issue one document end to end: approval signature,
    number, date, register, organisation signature, an attachment and a SAO Y copy.
    """
    from importlib.resources import files

    from ..demo import demo as demo_commune
    from ..demo.commune import run_flow
    from ..settings import Settings

    data = _data(data_dir)
    out.print(f"Thư mục dữ liệu / data directory: {data.root}")
    data.activate_softhsm()
    commune = demo_commune.provision(data.softhsm, data.pki,
                                     port=Settings().demo_pki_preferred_port)
    settings = data.token_settings()
    settings.update(demo_commune.token_settings(commune))
    data.save_token_settings(settings)

    pdf = _read_file(draft) if draft else (
        files("api") / "demo" / "assets" / "draft-quyet-dinh.pdf").read_bytes()
    with pki_services(data) as pki:
        assert pki is not None
        result = run_flow(data, pki, pdf, doc_type=doc_type, subject=subject,
                          draft_name=draft.name if draft else "draft-quyet-dinh.pdf")

    out.print(f"\n[bold]Sổ đăng ký văn bản đi / outgoing register[/bold] ({data.database_url})")
    for row in result.register:
        note = f"  [yellow]{row[9]}[/yellow]" if row[9] else ""
        out.print(f"  {row[0]:<12} {row[1]:%d/%m/%Y}  {row[2][:50]:<50}  {row[3]}{note}",
                  soft_wrap=True)
    out.print("\n[bold]Xác minh / verification[/bold]")
    for report in result.reports.values():
        _print_summary(report)
    out.print()
    out.print("[bold]Đã tạo / made:[/bold]")
    out.print(f"  PKI demo (KHÔNG PHẢI CA THẬT / NOT A REAL CA): {commune.pki.directory}")
    out.print(f"  Token SoftHSM: {commune.hsm.directory} (SOFTHSM2_CONF={commune.hsm.conf})")
    labels = {"issued": "Văn bản ban hành / issued document",
              "attachment": "Phụ lục / attachment", "copy": "Bản sao y / SAO Y copy"}
    for key, path in result.files.items():
        out.print(f"  {labels[key]}: {path}", soft_wrap=True)
    out.print(f"  Token demo: {', '.join(commune.token_names)} — PIN demo: "
              f"{demo_commune.DEMO_PIN}")
    out.print(f"Kiểm tra lại / verify again: kyso --data-dir {data.root} verify "
              f"{' '.join(str(p) for p in result.files.values())}", soft_wrap=True)
    if any(r.verdict is not Verdict.VALID for r in result.reports.values()):
        raise typer.Exit(1)


@app.command()
def sign(
    source: Annotated[Path, typer.Argument(help="PDF cần ký / PDF to sign")],
    target: Annotated[Path, typer.Argument(help="Tệp đã ký (không ghi đè) / signed output")],
    token: Annotated[str, typer.Option("--token", help="Tên thiết bị ký / token name")],
    page: Annotated[int, typer.Option(help="Trang đặt chữ ký (0 = đầu, -1 = cuối)")] = -1,
    box: Annotated[str | None, typer.Option(
        help="Vị trí chữ ký x1,y1,x2,y2 (điểm PDF) / stamp box in PDF points")] = None,
    image: Annotated[Path | None, typer.Option(
        help="Ảnh chữ ký PNG nền trong suốt / signature image (PNG)")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Ký số một tệp PDF / sign a PDF. PIN: nhập khi được hỏi, hoặc biến môi trường KYSO_PIN."""
    data = _data(data_dir)
    if target.exists():
        from ..errors import OutputExists

        raise OutputExists(target)
    pdf = _read_file(source)
    rect = _parse_box(box) if box else None
    picture = _read_file(image) if image else None
    pin = _read_pin(token)
    with pki_services(data) as pki:  # the signed file is written as it is made
        write_new_file_with(target, lambda output: sign_document_into(
            data, pdf, token, pin, output, pki=pki, box=rect, page=page, image=picture))
    out.print(f"Đã ký / signed: {target}")


@app.command()
def verify(
    paths: Annotated[list[Path], typer.Argument(help="Tệp PDF cần xác minh / PDFs to verify")],
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả JSON / JSON output")] = False,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Thư mục ghi bảng tổng hợp và báo cáo từng tệp / folder for the summary "
                      "and per-file reports")] = None,
    pdf: Annotated[bool, typer.Option(
        "--pdf", help="Ghi thêm báo cáo PDF từng tệp / also write PDF reports")] = False,
    workers: Annotated[int | None, typer.Option(
        help="Số tiến trình (mặc định: số lõi) / worker processes")] = None,
    body: Annotated[str | None, typer.Option(
        "--body", help="Tin cậy thêm CA riêng của cơ quan này (mã số hoặc tên) / also trust "
                       "this body's own CAs (id or exact name)")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Xác minh chữ ký số / verify signatures. Exit 0: all valid, 1: any not valid, 2: bad input.

    Tin cậy: CA sẵn có, CA demo, CA toàn tỉnh; thêm CA của một cơ quan với --body /
    trusts the bundled, demo and province-wide CAs; --body adds one body's own.

    Thư mục (đệ quy, *.pdf), tệp .zip, --out hoặc --workers: kiểm tra hàng loạt trên mọi
    lõi / folders, zip files, --out or --workers: batch verification on every core.
    """
    from ..trust import operator_trust

    data = _data(data_dir)
    trust = operator_trust(data, body)
    if (out_dir is not None or pdf or workers is not None
            or any(p.is_dir() or p.suffix.lower() == ".zip" for p in paths)):
        from .batch_verify import batch_command

        raise typer.Exit(batch_command(data, paths, out_dir, pdf=pdf, workers=workers,
                                       as_json=as_json, console=out, trust=trust))
    reports: list[Report] = []
    with pki_services(data):
        for path in paths:
            reports.append(verify_document(data, _read_file(path), str(path), trust))
    if as_json:
        doc = [r.to_dict() for r in reports]
        sys.stdout.write(json.dumps(doc[0] if len(doc) == 1 else doc, ensure_ascii=False,
                                    indent=2, default=str) + "\n")
    else:
        for report in reports:
            _print_report(report)
    if any(r.verdict is not Verdict.VALID for r in reports):
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(
        help="Địa chỉ / address (mặc định KYSO_HOST, 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(
        help="Cổng / port (mặc định KYSO_PORT, 8000)")] = None,
    demo_commune_too: Annotated[bool, typer.Option(
        "--demo/--no-demo", help="Nạp xã demo và tài khoản demo / load the demo commune")] = True,
    data_dir: DataDirOption = None,
) -> None:
    """Chạy dịch vụ: API, giao diện và một worker / run the service (embedded profile).

    Every setting comes from the settings object (``KYSO_*``); ``--host``, ``--port`` and
    ``--data-dir`` override theirs."""
    from ..settings import Settings
    from .serve import run_embedded

    settings = Settings(data_dir=_data(data_dir).root)
    settings = settings.model_copy(update={"host": host or settings.host,
                                           "port": port or settings.port})
    run_embedded(settings, with_demo=demo_commune_too, console=out)


@app.command()
def register(
    year: Annotated[int | None, typer.Option(help="Năm / year (mặc định: năm nay)")] = None,
    unit: Annotated[str | None, typer.Option(help="Đơn vị soạn thảo, vd. VP / unit")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Từ ngày YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Đến ngày YYYY-MM-DD")] = None,
    body: Annotated[str | None, typer.Option(help="Cơ quan ban hành / issuing body")] = None,
    book: Annotated[str | None, typer.Option(
        help="Chỉ một sổ, theo mã, vd. chung, ban-sao / one number book, by code")] = None,
    pdf: Annotated[Path | None, typer.Option(help="Xuất PDF để in, đóng quyển / PDF")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="Xuất Excel / XLSX")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Sổ đăng ký văn bản đi: xem, xuất PDF (A4 ngang) và Excel / the outgoing register."""
    from datetime import date

    from common import vietnam_time
    from documents import operator_register

    from ..database import open_database
    from ..exports import export_register_pdf, export_register_xlsx

    data = _data(data_dir)
    Session = open_database(data)
    when = year or vietnam_time().date().year
    try:
        start = date.fromisoformat(date_from) if date_from else None
        end = date.fromisoformat(date_to) if date_to else None
    except ValueError as exc:
        raise KysoError("ngày phải có dạng YYYY-MM-DD", "dates are YYYY-MM-DD") from exc
    with Session() as session:
        found = operator_register(session, when, body=body, unit=unit, book=book,
                                  date_from=start, date_to=end)
        organisation, chosen, only, rows = found.body, found.unit, found.book, found.rows
        out.print(f"[bold]Sổ đăng ký văn bản đi năm {when} — {organisation.name}[/bold]")
        for row in rows:
            note = f"  [yellow]{row[9]}[/yellow]" if row[9] else ""
            out.print(f"  {row[0]:<12} {row[1]:%d/%m/%Y}  {row[2][:50]:<50}  {row[3]}{note}",
                      soft_wrap=True)
        if pdf:
            write_new_file(pdf, export_register_pdf(session, organisation, when, chosen,
                                                    start, end, book=only))
            out.print(f"Đã xuất / exported: {pdf}")
        if xlsx:
            write_new_file(xlsx, export_register_xlsx(session, organisation, when, chosen,
                                                      start, end, book=only))
            out.print(f"Đã xuất / exported: {xlsx}")


@tokens_app.command("list")
def tokens_list(
    module: Annotated[list[str] | None, typer.Option(
        "--module", help="Thư viện PKCS#11 / PKCS#11 module path (repeatable)")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Liệt kê thư viện, khe, token và chứng thư / list modules, slots, tokens, certificates."""
    data = _data(data_dir)
    data.activate_softhsm()
    settings = data.token_settings()
    modules = list(module or [])
    for entry in settings.values():
        if entry.get("backend") == "pkcs11" and entry["module"] not in modules:
            modules.append(entry["module"])
    if not modules:
        out.print("Chưa cấu hình thiết bị ký nào / no token configured (try --module PATH)")
        return
    for mod in modules:
        out.print(f"[bold]Thư viện PKCS#11 / module:[/bold] {mod}")
        for slot in list_slots(mod):
            out.print(f"  Khe / slot {slot.slot_id}: token [bold]{slot.token_label}[/bold] "
                      f"({slot.manufacturer} {slot.model}, S/N {slot.serial})", soft_wrap=True)
            if not slot.certificates:
                out.print("    (không có chứng thư / no certificate)")
            for cert in slot.certificates:
                out.print(f"    Chứng thư / certificate: {cert.name}", soft_wrap=True)
                out.print(f"      Chủ thể / subject: {cert.subject}", soft_wrap=True)
                out.print(f"      CA cấp / issuer: {cert.issuer_name}", soft_wrap=True)
                out.print(f"      Hiệu lực / valid: {cert.not_before[:10]} → "
                          f"{cert.not_after[:10]}")
                out.print(f"      SHA-256: {cert.sha256}", soft_wrap=True)
    if settings:
        out.print("[bold]Đã cấu hình / configured:[/bold]")
    for name, entry in settings.items():
        where = entry.get("token_label") or entry.get("path")
        out.print(f"  {name}: {entry.get('backend')} {where}")


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KysoError(f"không đọc được tệp {path}", f"cannot read {path}") from exc


def _parse_box(text: str) -> tuple[int, int, int, int]:
    try:
        x1, y1, x2, y2 = (int(float(v)) for v in text.split(","))
    except ValueError as exc:
        raise KysoError(f"vị trí '{text}' không hợp lệ (cần x1,y1,x2,y2)",
                        f"invalid box '{text}' (expected x1,y1,x2,y2)") from exc
    return x1, y1, x2, y2


_VERDICT_VI = {"valid": "HỢP LỆ", "invalid": "KHÔNG HỢP LỆ", "indeterminate": "CHƯA XÁC ĐỊNH"}
_COLOUR = {"valid": "green", "invalid": "red", "indeterminate": "yellow"}


def _print_summary(report: Report) -> None:
    """One line per file: verdict and who signed."""
    colour = _COLOUR[report.verdict]
    signers = "; ".join(f"{s.signer} ({s.pades_level}, {s.verdict})" for s in report.signatures)
    out.print(f"  {report.file}: [{colour}]{_VERDICT_VI[report.verdict]} / {report.verdict}"
              f"[/{colour}] — {signers}", soft_wrap=True)


def _print_report(report: Report) -> None:
    colour = _COLOUR[report.verdict]
    label = _VERDICT_VI[report.verdict]
    out.print(f"[bold]{report.file}[/bold]: [{colour}]{label} / {report.verdict}[/{colour}]")
    for reason in report.reasons:
        out.print(f"  - {reason.vi} / {reason.en}")
    for sig in report.signatures:
        out.print(f"  Chữ ký / signature [{escape(sig.field)}]: "
                  f"{_VERDICT_VI[sig.verdict]} / {sig.verdict}")
        for name, value in bilingual_rows(sig, (
                "signer", "signer_title", "signer_organisation", "issuer", "signing_time",
                "timestamp", "intact", "trusted", "trust_anchor_origin", "revocation",
                "coverage", "modification_level", "pades_level")):
            out.print(f"    {name}: {escape(value)}", soft_wrap=True)
        for reason in sig.reasons:
            out.print(f"    - {reason.vi} / {reason.en}")


def main() -> None:
    """Entry point: run the app, turning Kyso errors into one bilingual line."""
    private_files()  # what any command writes (data directory, outputs) is private
    try:
        app()
    except KysoError as exc:
        sys.stderr.write(exc.one_line() + "\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("Đã hủy / aborted\n")
        sys.exit(130)
    except Exception as exc:  # the CLI's boundary: one line and exit code 3, not a traceback
        if ENVIRONMENT.debug:
            raise
        message = f"Lỗi nội bộ / internal error: {type(exc).__name__}: {exc}".replace("\n", " ")
        sys.stderr.write(f"{message} (KYSO_DEBUG=1 để xem chi tiết / for details)\n")
        sys.exit(3)
