"""Batch verification: many PDFs from files, folders and zip archives, on every core.

``collect(paths)`` turns the command line's paths into :class:`BatchItem` s (folders
recursively, ``*.pdf``; zip archives' ``*.pdf`` members, read with size and ratio
limits); :func:`run_batch` verifies them in a process pool whose workers each build
their trust store and one :class:`~certs.SharedFetchers` once (an OCSP response or CRL
is fetched once per worker and time to live, not once per signature), write the
per-file reports (``<name>.json``, ``.html``, optionally ``.pdf``) and return one
:class:`BatchRow` each; :func:`write_summary` writes ``tong-hop.csv`` and
``tong-hop.xlsx``.

Processes: the calling process only hands out work, draws the progress bar and, for a
data directory with a demo PKI, serves its TSA/OCSP/CRL (:func:`api.cli.operations.pki_services`)
— it never verifies, so the services' threads do not compete for a verifying process's
GIL; the workers fork from a clean forkserver process and verify.

Nothing is ever overwritten: a name already taken gets ``-2``, ``-3`` … A file that
cannot be read (broken, encrypted, too large, a zip bomb) is a row with its error;
the batch goes on.
"""

from __future__ import annotations

import concurrent.futures
import csv
import datetime as dt
import io
import json
import multiprocessing
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from certs import SharedFetchers, TrustStore, validation_context
from common import VN_TZ, KysoError
from documents import write_new
from signer import Reason, Report, Verdict, render_html, render_pdf, verdict_words, verify_pdf

from ..datadir import DataDir
from ..errors import BatchUsageError, TooLarge
from ..trust import store_entries, store_from_entries

#: Limits on what a zip archive may hold (zip-bomb safety).
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
MAX_MEMBERS = 20_000
#: uncompressed / compressed size; PDFs compress far less than this
MAX_RATIO = 100
#: a plain file larger than this is refused too
MAX_FILE_BYTES = 256 * 1024 * 1024

SUMMARY_STEM = "tong-hop"
SUMMARY_COLUMNS = ("Tệp", "SHA-256", "Kết luận", "Mã kết luận", "Số chữ ký", "Người ký",
                   "CA cấp chứng thư", "Thời điểm ký (giờ Việt Nam)", "Lý do", "Báo cáo")
ERROR = "error"

_UNSAFE = re.compile(r"[^\w.-]+", re.UNICODE)


@dataclass(frozen=True)
class BatchItem:
    """One PDF to verify: a file, or a member of a zip archive."""

    #: what the summary shows: the path, or ``archive.zip!member.pdf``
    name: str
    source: Path
    member: str | None = None
    #: file-name stem of its reports, safe (no separators, no ``..``) and unique in the batch
    stem: str = ""


@dataclass
class BatchRow:
    """One line of the summary table."""

    file: str
    sha256: str = ""
    #: valid, invalid, indeterminate or ``error`` (the file could not be verified)
    verdict: str = ERROR
    signatures: int = 0
    signers: list[str] = field(default_factory=list)
    issuers: list[str] = field(default_factory=list)
    signing_times: list[str] = field(default_factory=list)
    reasons_vi: list[str] = field(default_factory=list)
    reasons_en: list[str] = field(default_factory=list)
    #: per-file report files written (names inside the output folder)
    outputs: list[str] = field(default_factory=list)
    #: the worker process that verified it
    worker_pid: int = 0
    report: dict[str, Any] | None = None

    @property
    def verdict_vi(self) -> str:
        if self.verdict == ERROR:
            return "LỖI TỆP"
        return verdict_words(Verdict(self.verdict), "vi")


# ---------------------------------------------------------------- inputs


def safe_stem(parts: Iterable[str], limit: int = 120) -> str:
    """A file-name stem from path parts: no separators, no ``.``/``..``, no hidden names."""
    cleaned = []
    for part in parts:
        for piece in re.split(r"[\\/]+", part):
            piece = unicodedata.normalize("NFC", piece)
            if piece in ("", ".", ".."):
                continue
            piece = _UNSAFE.sub("_", piece).strip("._") or "_"
            cleaned.append(piece)
    stem = "__".join(cleaned) or "tep"
    if stem.lower().endswith(".pdf"):
        stem = stem[:-4]
    return stem[:limit].strip("._") or "tep"


def _pdfs_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())


def _zip_members(archive: Path) -> list[str]:
    try:
        with zipfile.ZipFile(archive) as zf:
            names = [i.filename for i in zf.infolist()
                     if not i.is_dir() and i.filename.lower().endswith(".pdf")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise BatchUsageError(f"không đọc được tệp nén {archive}",
                              f"cannot read the zip archive {archive}") from exc
    if len(names) > MAX_MEMBERS:
        raise BatchUsageError(f"tệp nén {archive} có quá nhiều tệp (> {MAX_MEMBERS})",
                              f"the zip archive {archive} holds too many files (> {MAX_MEMBERS})")
    return names


def collect(paths: Sequence[Path]) -> list[BatchItem]:
    """The PDFs named by ``paths`` (files, folders recursively, zip archives), in order.

    Raises :class:`BatchUsageError` for a path that does not exist, an unreadable zip,
    or when nothing is found.
    """
    found: list[tuple[str, Path, str | None, list[str]]] = []
    for path in paths:
        if path.is_dir():
            for pdf in _pdfs_in(path):
                rel = pdf.relative_to(path)
                found.append((str(pdf), pdf, None, [path.resolve().name, *rel.parts]))
        elif path.is_file() and path.suffix.lower() == ".zip":
            for member in _zip_members(path):
                found.append((f"{path}!{member}", path, member, [path.stem, member]))
        elif path.is_file():
            found.append((str(path), path, None, [path.name]))
        else:
            raise BatchUsageError(f"không có tệp hay thư mục {path}",
                                  f"no such file or folder: {path}")
    if not found:
        raise BatchUsageError("không tìm thấy tệp PDF nào để kiểm tra",
                              "no PDF file found to verify")
    taken: set[str] = set()
    items = []
    for name, source, inner, parts in found:
        base = stem = safe_stem(parts)
        n = 1
        while stem.casefold() in taken:
            n += 1
            stem = f"{base}-{n}"
        taken.add(stem.casefold())
        items.append(BatchItem(name, source, inner, stem))
    return items


def _read_limited(stream: Any, limit: int, member: bool) -> bytes:
    data = stream.read(limit + 1)
    if len(data) <= limit:
        return bytes(data)
    size = f"{limit / (1024 * 1024):.1f} MiB"
    if member:
        raise TooLarge(f"tệp trong tệp nén giải nén ra lớn hơn giới hạn {size} hoặc nén quá "
                       f"{MAX_RATIO} lần (nghi zip bomb): bỏ qua",
                       f"the archive member expands beyond {size} or more than {MAX_RATIO} "
                       "times its compressed size (zip bomb?): skipped")
    raise TooLarge(f"tệp lớn hơn giới hạn {size}", f"the file is larger than {size}")


def read_item(item: BatchItem) -> bytes:
    """The item's bytes; a zip member only within :data:`MAX_MEMBER_BYTES` and
    :data:`MAX_RATIO` (declared sizes are not trusted: reading stops at the limit)."""
    if item.member is None:
        try:
            with item.source.open("rb") as stream:
                return _read_limited(stream, MAX_FILE_BYTES, member=False)
        except OSError as exc:
            raise KysoError(f"không đọc được tệp {item.source}",
                            f"cannot read {item.source}") from exc
    try:
        with zipfile.ZipFile(item.source) as zf:
            info = zf.getinfo(item.member)
            if info.flag_bits & 0x1:
                raise KysoError("tệp trong tệp nén được mã hóa (có mật khẩu)",
                                "the archive member is encrypted (password protected)")
            limit = min(MAX_MEMBER_BYTES, max(info.compress_size, 1) * MAX_RATIO)
            with zf.open(info) as stream:
                return _read_limited(stream, limit, member=True)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, KeyError) as exc:
        raise KysoError(f"không giải nén được {item.member}: {type(exc).__name__}",
                        f"cannot extract {item.member}: {type(exc).__name__}") from exc


# ---------------------------------------------------------------- worker side

_worker_store: list[TrustStore] = []
_worker_fetchers: list[SharedFetchers] = []


def init_worker(data_root: str, trust: list[tuple[bytes, str, str]] | None = None) -> None:
    """Per worker process, once: the trust store — ``trust`` as the caller built it
    (``api.trust.operator_trust``: bundled + demo + province-wide [+ one body's]), else
    the data directory's bundled + demo — and the cache of fetched OCSP responses, CRLs
    and issuer certificates (revocation evidence only; it decides no trust)."""
    _worker_store[:] = [store_from_entries(trust) if trust is not None
                        else DataDir(Path(data_root)).trust_store()]
    _worker_fetchers[:] = [SharedFetchers()]


def _store(data_root: str) -> tuple[TrustStore, SharedFetchers]:
    if not _worker_store or not _worker_fetchers:
        init_worker(data_root)
    return _worker_store[0], _worker_fetchers[0]


def _vn_time(value: str | None) -> str:
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return f"{moment.astimezone(VN_TZ):%d/%m/%Y %H:%M:%S}"


def row_of(report: Report) -> BatchRow:
    """The summary line of one verified file."""
    sigs = report.signatures
    reasons = [*report.reasons, *(r for s in sigs for r in s.reasons)]
    unique: dict[str, Reason] = {}
    for reason in reasons:
        unique.setdefault(reason.vi, reason)
    return BatchRow(
        file=report.file, sha256=report.sha256, verdict=Verdict(report.verdict).value,
        signatures=len(sigs), signers=[s.signer for s in sigs if s.signer],
        issuers=list(dict.fromkeys(s.issuer for s in sigs if s.issuer)),
        signing_times=[_vn_time(s.timestamp or s.signing_time) for s in sigs
                       if s.timestamp or s.signing_time],
        reasons_vi=list(unique), reasons_en=[r.en for r in unique.values()])


def write_fresh(folder: Path, stem: str, suffix: str, content: bytes) -> Path:
    """Write ``stem+suffix`` in ``folder``, or ``stem-2+suffix`` … if taken: never overwrite."""
    n = 1
    while True:
        path = folder / f"{stem if n == 1 else f'{stem}-{n}'}{suffix}"
        if not path.exists() and write_new(path, content):
            return path
        n += 1


@dataclass(frozen=True)
class Job:
    item: BatchItem
    data_root: str
    out: str | None
    pdf: bool
    keep_report: bool
    #: reuse the worker's fetched OCSP responses/CRLs (else every signature fetches afresh)
    share_fetches: bool = True


def verify_item(job: Job) -> BatchRow:
    """Verify one item in a worker process and write its reports (never raises)."""
    item = job.item
    try:
        data = read_item(item)
        store, fetchers = _store(job.data_root)
        shared = fetchers if job.share_fetches else None
        report = verify_pdf(data, lambda: validation_context(store, online=True, shared=shared),
                            item.name, store)
    except Exception as exc:  # noqa: BLE001 - the verifying worker process's boundary: one
        # bad file (or a fault of Kyso's, shown with its class) never stops the batch
        vi, en = ((exc.vi, exc.en) if isinstance(exc, KysoError)
                  else (f"lỗi khi kiểm tra: {type(exc).__name__}",
                        f"verification failed: {type(exc).__name__}: {exc}"[:300]))
        return BatchRow(file=item.name, reasons_vi=[vi], reasons_en=[en],
                        worker_pid=os.getpid())
    row = row_of(report)
    row.worker_pid = os.getpid()
    if job.out is not None:
        folder = Path(job.out)
        verified_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        doc = {**report.to_dict(), "verified_at": verified_at.isoformat()}
        outputs = [
            write_fresh(folder, item.stem, ".json", json.dumps(
                doc, ensure_ascii=False, indent=2, default=str).encode("utf-8")),
            write_fresh(folder, item.stem, ".html", render_html(
                report, "vi", verified_at=verified_at).encode("utf-8")),
        ]
        if job.pdf:
            outputs.append(write_fresh(folder, item.stem, ".pdf",
                                       render_pdf(report, "vi", verified_at=verified_at)))
        row.outputs = [p.name for p in outputs]
    if job.keep_report:
        row.report = report.to_dict()
    return row


# ---------------------------------------------------------------- driver side


def _context() -> Any:
    """forkserver: workers fork from a clean process with the heavy modules preloaded
    (no threads of the caller's — PKI server, progress bar — are copied)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["api.cli.batch_verify"])
    return ctx


def run_batch(items: Sequence[BatchItem], data: DataDir, *, out: Path | None = None,
              pdf: bool = False, workers: int | None = None, keep_reports: bool = False,
              progress: Callable[[BatchRow], None] | None = None,
              share_fetches: bool = True, trust: TrustStore | None = None) -> list[BatchRow]:
    """Verify ``items`` on ``workers`` processes (default: every core), rows in input order.

    The demo PKI's services, if any, must be running (``pki_services``), best in this
    process or another one, never in a worker. ``share_fetches=False`` makes every
    signature fetch its revocation information afresh (slower; for comparison).
    ``trust``: what the workers trust (default: the data directory's bundled + demo).
    """
    workers = max(1, workers or os.cpu_count() or 1)
    if out is not None:
        if out.exists() and not out.is_dir():
            raise BatchUsageError(f"{out} không phải thư mục", f"{out} is not a folder")
        out.mkdir(parents=True, exist_ok=True)
    root = str(data.root)
    jobs = [Job(item, root, str(out) if out else None, pdf, keep_reports, share_fetches)
            for item in items]
    rows: list[BatchRow | None] = [None] * len(jobs)
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=_context(), initializer=init_worker,
            initargs=(root, store_entries(trust) if trust is not None else None)) as pool:
        futures = {pool.submit(verify_item, job): i for i, job in enumerate(jobs)}
        for future in concurrent.futures.as_completed(futures):
            index = futures[future]
            try:
                row = future.result()
            except Exception as exc:  # noqa: BLE001 - the pool's boundary: a worker died
                row = BatchRow(file=items[index].name,
                               reasons_vi=[f"tiến trình kiểm tra bị lỗi: {type(exc).__name__}"],
                               reasons_en=[f"the verifying process failed: {exc}"[:300]])
            rows[index] = row
            if progress is not None:
                progress(row)
    return [r for r in rows if r is not None]


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text: no formula from an attacker-chosen name."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def summary_table(rows: Sequence[BatchRow]) -> list[list[str | int]]:
    table: list[list[str | int]] = [list(SUMMARY_COLUMNS)]
    for row in rows:
        table.append([_cell(row.file), row.sha256, row.verdict_vi, row.verdict, row.signatures,
                      _cell("; ".join(row.signers)), _cell("; ".join(row.issuers)),
                      "; ".join(row.signing_times), _cell("; ".join(row.reasons_vi)),
                      _cell(", ".join(row.outputs))])
    return table


def summary_csv(rows: Sequence[BatchRow]) -> bytes:
    """UTF-8 with a BOM, so spreadsheet programs read the Vietnamese letters right."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(summary_table(rows))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def summary_xlsx(rows: Sequence[BatchRow]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "Tổng hợp"
    fills = {"valid": "E6F4EA", "invalid": "FDECEA", "indeterminate": "FFF4E0", ERROR: "EEEEEE"}
    for r, values in enumerate(summary_table(rows), 1):
        for c, value in enumerate(values, 1):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("?", value)
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if r == 1:
                cell.font = Font(bold=True)
            elif c == 3:
                cell.fill = PatternFill("solid", fgColor=fills.get(str(values[3]), "FFFFFF"))
    for c, width in enumerate((40, 20, 16, 12, 8, 28, 28, 22, 60, 30), 1):
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_summary(out: Path, rows: Sequence[BatchRow]) -> list[Path]:
    """``tong-hop.csv`` and ``tong-hop.xlsx`` (or ``tong-hop-2`` … when taken)."""
    return [write_fresh(out, SUMMARY_STEM, ".csv", summary_csv(rows)),
            write_fresh(out, SUMMARY_STEM, ".xlsx", summary_xlsx(rows))]


def rows_json(rows: Sequence[BatchRow]) -> list[dict[str, Any]]:
    """Reports for ``--json``: the report itself, or the file's error."""
    result = []
    for row in rows:
        if row.report is not None:
            result.append(row.report)
        else:
            doc = asdict(row)
            doc.pop("report")
            result.append(doc)
    return result


# ---------------------------------------------------------------- command line


def _print_rows(console: Any, rows: Sequence[BatchRow]) -> None:
    from rich.markup import escape
    from rich.table import Table

    colours = {"valid": "green", "invalid": "red", "indeterminate": "yellow", ERROR: "magenta"}
    table = Table(title="Kết quả kiểm tra / verification results", show_lines=False)
    for column in ("Tệp / file", "Kết luận / verdict", "Chữ ký", "Người ký / signers",
                   "Lý do / reasons"):
        table.add_column(column, overflow="fold")
    for row in rows:
        colour = colours[row.verdict]
        table.add_row(escape(row.file), f"[{colour}]{row.verdict_vi}[/{colour}]",
                      str(row.signatures), escape("; ".join(row.signers)),
                      escape("; ".join(row.reasons_vi[:3])))
    console.print(table)
    counts = {v: sum(1 for r in rows if r.verdict == v) for v in colours}
    console.print(f"Tổng / total: {len(rows)} — hợp lệ / valid {counts['valid']}, "
                  f"không hợp lệ / invalid {counts['invalid']}, không xác định / indeterminate "
                  f"{counts['indeterminate']}, lỗi tệp / unreadable {counts[ERROR]}")


def batch_command(data: DataDir, paths: Sequence[Path], out: Path | None, *, pdf: bool,
                  workers: int | None, as_json: bool, console: Any,
                  trust: TrustStore | None = None) -> int:
    """``kyso verify`` over files, folders and zips; returns the exit code (0 or 1)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from .operations import pki_services

    if pdf and out is None:
        raise BatchUsageError("--pdf cần --out (thư mục ghi báo cáo)",
                              "--pdf needs --out (the folder for the reports)")
    if workers is not None and workers < 1:
        raise BatchUsageError("--workers phải ≥ 1", "--workers must be at least 1")
    items = collect(paths)
    bar_console = Console(stderr=True, highlight=False)
    with pki_services(data), Progress(
            TextColumn("Kiểm tra / verifying"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
            console=bar_console) as bar:
        task = bar.add_task("verify", total=len(items))
        rows = run_batch(items, data, out=out, pdf=pdf, workers=workers, keep_reports=as_json,
                         progress=lambda _row: bar.advance(task), trust=trust)
    written = write_summary(out, rows) if out is not None else []
    if as_json:
        import sys

        sys.stdout.write(json.dumps(rows_json(rows), ensure_ascii=False, indent=2,
                                    default=str) + "\n")
    else:
        _print_rows(console, rows)
        for path in written:
            console.print(f"Đã ghi / written: {path}", soft_wrap=True)
    return 0 if all(r.verdict == Verdict.VALID.value for r in rows) else 1
