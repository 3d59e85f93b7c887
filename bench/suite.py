"""Kyso against the fastest honest baseline, every operation with its target, in one run.

    .venv/bin/python -m bench.suite [--quick] [--runs N] [--json FILE] [--service]

One throwaway demo commune (SoftHSM RSA-2048 tokens, the certomancer TSA/OCSP/CRL served
on 127.0.0.1 by this process); the big PDFs are made at run time in a temporary folder
(:mod:`bench.pdfs`). Each operation runs interleaved with its baseline on the same input
and token (:func:`bench.bench_timing.paired`); the ratio is the median of the paired
ratios. Printed per row: median and p95 (ms), the baseline's median, the ratio, the
target and pass/fail, and the physical floor (the token's raw RSA signature and the CMS
encoding around it). Peak memory is measured in a forked child per run (VmHWM reset,
minus the RSS at the start), for the CLI from the child process's own peak RSS, and for the
worker in its own process (the high-water mark reset: an open PKCS#11 session does not
survive a fork).

Operations (targets from issue 18):
- approval signature with the full Appendix I appearance on a prepared 1, 20 and
  300-page draft ≤ 1.15 × bare pyHanko (``bytes_reserved``, no stamp, same field);
- the issuing act's signature (number, day, month, year, seal, organisation) ≤ 1.6 ×;
- verification ≤ 1.1 × bare pyHanko's ``validate_pdf_signature`` per file (text 1 and
  300 pages, JPEG scan, Flate scan), peak memory ≤ 1.5 ×;
- preparing (checks + layout + fields) a 300-page draft ≤ 1 s, its peak memory within
  1.5 × a 20-page draft's;
- ``kyso sign`` of a 95 MB scanned annex (just under the 100 MB a PDF may have) ≤ 1.2 ×
  a bare pyHanko script (both new processes serving the demo PKI, B-T with its TSA),
  peak RSS ≤ 3 × the file;
- the worker's task signing that annex as an attachment of an issued document
  (``kyso.sign_attachment``'s function on a worker's runtime) ≤ 1.2 × bare pyHanko with
  the same organisation token, the memory it adds ≤ 3 × the file.
``--service`` adds the batch-signing agent run (:mod:`bench.batch_sign_bench`) and the
queue throughput (:mod:`bench.queue_bench`), which start ``kyso serve``: documents per
minute from upload to issued (``--documents``, default 1,000) on the embedded default and
on PostgreSQL + Redis, then there with two workers, which must issue ≥ 1.8 × one's.
``--quick`` (small N and files, no timing verdicts) is what tests/test_bench_suite.py
runs so the scripts cannot rot. Exit status 1 when a target fails (never with --quick).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_timing import Paired, paired  # noqa: E402  (after the path is set)


@dataclass
class Row:
    """One operation's result."""

    operation: str
    median_ms: float
    p95_ms: float
    baseline_ms: float | None
    ratio: float | None
    target: str
    passed: bool | None
    floor_ms: float | None = None
    memory: dict[str, float] = field(default_factory=dict)
    note: str = ""


@dataclass
class Plan:
    """What a run measures: the full suite, or ``--quick``."""

    runs: int
    approval_pages: tuple[int, ...]
    verify_files: tuple[tuple[str, str, int], ...]  # (name, kind, pages)
    prepare_pages: tuple[int, int]
    cli_mb: int
    quick: bool
    #: documents per queue row of ``--service`` (issue 18: 1,000 from upload to issued)
    queue_documents: int = 1000


FULL = Plan(runs=15, approval_pages=(1, 20, 300),
            verify_files=(("text, 1 page, issued", "text", 1),
                          ("text, 300 pages, approved", "text", 300),
                          ("JPEG scan, 50 pages, issued", "jpeg", 50),
                          ("Flate scan, 200 pages, issued", "flate", 200)),
            prepare_pages=(20, 300), cli_mb=95, quick=False)
QUICK = Plan(runs=2, approval_pages=(1, 3),
             verify_files=(("text, 1 page, issued", "text", 1),
                           ("Flate scan, 3 pages, issued", "flate", 3)),
             prepare_pages=(3, 12), cli_mb=2, quick=True)


# ----------------------------------------------------------------------------- memory

def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def peak_mb(fn: Callable[[], object]) -> float:
    """Peak memory (MB) ``fn`` adds, measured in a forked child: the high-water mark is
    reset at the start (``/proc/self/clear_refs``) and the RSS then subtracted."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, leave without clean-up
        try:
            Path("/proc/self/clear_refs").write_text("5")
            start = _status_kb("VmRSS")
            fn()
            os.write(write, str(_status_kb("VmHWM") - start).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        text = answer.read()
    os.waitpid(pid, 0)
    return int(text or 0) / 1024


def peak_here_mb(fn: Callable[[], object]) -> float:
    """Peak memory (MB) ``fn`` adds to this process (the high-water mark reset first): for
    what a forked child cannot run, such as an open PKCS#11 session."""
    Path("/proc/self/clear_refs").write_text("5")
    start = _status_kb("VmRSS")
    fn()
    return (_status_kb("VmHWM") - start) / 1024


# ----------------------------------------------------------------------------- set-up

@dataclass
class Bench:
    """The demo commune and what every operation needs."""

    root: Path
    data: Any
    commune: Any
    store: Any
    signature_image: bytes
    seal_image: bytes


def _row(name: str, result: Paired, limit: float | None, target: str, quick: bool,
         floor: float | None = None, **extra: Any) -> Row:
    ratio = result.ratio
    passed = None if quick or limit is None else ratio <= limit
    return Row(name, result.median, result.p95, result.base_median, ratio, target, passed,
               floor, **extra)


def floor_ms(bench: Bench, signer: Any, runs: int) -> float:
    """The physical floor of one signature: the token's raw RSA signature over a digest
    plus the CMS encoding around it (a dry run: everything but the key)."""
    import asyncio
    import hashlib

    digest = hashlib.sha256(b"kyso").digest()

    async def raw() -> None:
        await signer.async_sign_raw(digest, "sha256")

    async def cms() -> None:
        await signer.async_sign(digest, "sha256", use_pades=True, dry_run=True)

    def timed(coroutine: Callable[[], Any]) -> float:
        times = []
        for _ in range(max(runs, 3)):
            start = time.perf_counter()
            asyncio.run(coroutine())
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    return timed(raw) + timed(cms)


def prepared_draft(pages: int) -> bytes:
    from bench.pdfs import long_draft
    from signer import prepare_pdf

    return prepare_pdf(long_draft(pages)).pdf


# ----------------------------------------------------------------------------- signing

def signing_rows(bench: Bench, plan: Plan) -> Iterator[Row]:
    from api.demo.demo import DEMO_PIN
    from bench.sign_bench import bare_pyhanko
    from signer import ORGANISATION_FIELD, PERSON_FIELD, PadesLevel, sign_pdf
    from signer import approval_options as approval
    from signer import issuance_options as issuance

    with bench.data.token("pho-chu-tich").signer(DEMO_PIN) as person:
        floor = floor_ms(bench, person, plan.runs)
        approved = b""
        for pages in plan.approval_pages:
            draft = prepared_draft(pages)
            options = approval(bench.signature_image)
            result = paired(partial(sign_pdf, draft, person, options),
                            partial(bare_pyhanko, person, draft, PERSON_FIELD, 16384),
                            plan.runs)
            yield _row(f"approval signature, {pages} page(s)", result, 1.15, "≤ 1.15×",
                       plan.quick, floor)
            if pages == plan.approval_pages[0]:
                approved = sign_pdf(draft, person, options)
    with bench.data.token("ubnd").signer(DEMO_PIN) as body:
        options = issuance(bench.seal_image, "ỦY BAN NHÂN DÂN XÃ TIÊN LỮ", "05", "03", "12",
                           "2026", level=PadesLevel.B_B)
        result = paired(lambda: sign_pdf(approved, body, options),
                        lambda: bare_pyhanko(body, approved, ORGANISATION_FIELD, 16384),
                        plan.runs)
        body_floor = floor_ms(bench, body, plan.runs)
        yield _row("issuing act (number, date, seal)", result, 1.6, "≤ 1.6×", plan.quick,
                   body_floor,
                   note="the signature only: the number and register entry are database "
                        "work, measured by --service")
        yield from level_rows(bench, plan, body, approved, body_floor)


def level_rows(bench: Bench, plan: Plan, body: Any, approved: bytes,
               floor: float) -> Iterator[Row]:
    """The issuing act at B-T, B-LT and B-LTA against pyHanko at the same level (the same
    TSA; at B-LT/B-LTA validation data fetched and embedded, and a document timestamp at
    B-LTA). No target of its own: the issue asks for the cost to be measured again."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    from bench.sign_bench import bare_pyhanko
    from certs import validation_context
    from signer import ORGANISATION_FIELD, PadesLevel, sign_pdf
    from signer import issuance_options as issuance

    tsa = bench.commune.pki.tsa_url
    runs = max(2, plan.runs // 3)  # each pair fetches OCSP/CRLs over loopback HTTP
    for level in (PadesLevel.B_T, PadesLevel.B_LT, PadesLevel.B_LTA):
        def kyso(level: PadesLevel = level) -> bytes:
            return sign_pdf(approved, body, issuance(
                bench.seal_image, "ỦY BAN NHÂN DÂN XÃ TIÊN LỮ", "05", "03", "12", "2026",
                level=level, tsa_url=tsa,
                validation_context=validation_context(bench.store, online=True)))

        def bare(level: PadesLevel = level) -> bytes:
            extra: dict[str, Any] = {}
            if level is not PadesLevel.B_T:
                extra = {"embed_validation_info": True,
                         "validation_context": validation_context(bench.store, online=True),
                         "use_pades_lta": level is PadesLevel.B_LTA}
            # room for the timestamp token as well (16 KiB is not enough at B-T)
            return bare_pyhanko(body, approved, ORGANISATION_FIELD, 32768,
                                HTTPTimeStamper(tsa, timeout=10), **extra)

        yield _row(f"issuing act at {level.value}", paired(kyso, bare, runs), None,
                   "measured", plan.quick, floor)


# ----------------------------------------------------------------------------- verification

def _issued_scan(bench: Bench, kind: str, pages: int) -> bytes:
    """A scan (or text draft) signed twice, as an issued document is: the person's
    approval, then the organisation's signature (both B-T with the demo TSA)."""
    from api.demo.demo import DEMO_PIN
    from bench.pdfs import long_draft, scan
    from signer import SigningOptions, sign_pdf

    tsa = bench.commune.pki.tsa_url
    pdf = long_draft(pages) if kind == "text" else scan(pages, kind)
    with bench.data.token("pho-chu-tich").signer(DEMO_PIN) as person:
        pdf = sign_pdf(pdf, person, SigningOptions(field_name="KySo_PheDuyet", tsa_url=tsa))
    if pages == 300 and kind == "text":
        return pdf  # approved only: one signature
    with bench.data.token("ubnd").signer(DEMO_PIN) as body:
        return sign_pdf(pdf, body, SigningOptions(field_name="KySo_PhatHanh", tsa_url=tsa))


def verification_rows(bench: Bench, plan: Plan) -> Iterator[Row]:
    from bench.verify_bench import bare_verify
    from certs import SharedFetchers, validation_context
    from signer import verify_pdf

    for name, kind, pages in plan.verify_files:
        content = _issued_scan(bench, kind, pages)
        cache = SharedFetchers()  # both tools share one fetch cache: OCSP/CRL alike

        def context(cache: SharedFetchers = cache) -> Any:
            return validation_context(bench.store, online=True, shared=cache)

        def kyso(content: bytes = content, context: Any = context, name: str = name) -> None:
            report = verify_pdf(content, context, "bench", bench.store)
            if not report.signatures:
                raise SystemExit(f"Kyso found no signature in {name}")

        def bare(content: bytes = content, context: Any = context) -> None:
            bare_verify(content, context)

        result = paired(kyso, bare, max(2, plan.runs // 2))
        kyso_mb, bare_mb = peak_mb(kyso), peak_mb(bare)
        memory_ok = kyso_mb <= 1.5 * max(bare_mb, 1.0)
        row = _row(f"verification, {name} ({len(content) / 2**20:.0f} MB)", result, 1.1,
                   "≤ 1.1×, memory ≤ 1.5×", plan.quick,
                   memory={"kyso_mb": kyso_mb, "baseline_mb": bare_mb})
        if row.passed is not None:
            row.passed = row.passed and memory_ok
        yield row


# ----------------------------------------------------------------------------- preparing

def preparing_rows(bench: Bench, plan: Plan) -> Iterator[Row]:
    from bench.pdfs import long_draft
    from signer import prepare_pdf

    short_pages, long_pages = plan.prepare_pages
    short, long = long_draft(short_pages), long_draft(long_pages)
    result = paired(lambda: prepare_pdf(long), lambda: prepare_pdf(short),
                    max(2, plan.runs // 3))
    long_mb, short_mb = peak_mb(lambda: prepare_pdf(long)), peak_mb(lambda: prepare_pdf(short))
    passed = None if plan.quick else (result.median <= 1000 and long_mb <= 1.5 * short_mb)
    yield Row(f"preparing a {long_pages}-page draft (baseline: {short_pages} pages)",
              result.median, result.p95, result.base_median, result.ratio,
              "≤ 1000 ms, memory ≤ 1.5× the short draft's", passed,
              memory={"kyso_mb": long_mb, "baseline_mb": short_mb})


# ----------------------------------------------------------------------------- the CLI

_BARE_CLI = """
import io, os, sys
from pathlib import Path
from api.datadir import DataDir
from api.demo.demo import DEMO_PIN
from certs import serving
from pyhanko.sign import signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from signer.pdfinput import open_writer
data = DataDir(Path(sys.argv[1]))
data.activate_softhsm()
pdf = Path(sys.argv[2]).read_bytes()
pki = data.demo_pki()
with serving(pki), data.token("pho-chu-tich").signer(DEMO_PIN) as signer:
    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name="Sig"), signer=signer,
                      timestamper=HTTPTimeStamper(pki.tsa_url)).sign_pdf(
        open_writer(pdf), output=out, bytes_reserved=16384)
Path(sys.argv[3]).write_bytes(out.getvalue())
"""


#: Run first in each child: print its peak RSS (VmHWM of this program image; the
#: rusage of a child forked from a big parent counts the parent's pages too) at exit.
_PEAK = ("import atexit, sys; atexit.register(lambda: sys.stderr.write('PEAK_KB ' + next("
         "line.split()[1] for line in open('/proc/self/status') "
         "if line.startswith('VmHWM')) + chr(10)))\n")
_KYSO_CLI = "sys.argv[0] = 'kyso'\nfrom api.cli.main import main\nmain()\n"


def _child(code: str, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time (ms) and peak RSS (MB) of one new interpreter running ``code``."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PEAK + code, *args], env=env, cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    elapsed = (time.perf_counter() - start) * 1000
    peaks = [line.split()[1] for line in done.stderr.splitlines()
             if line.startswith("PEAK_KB ")]
    if done.returncode != 0 or not peaks:
        raise SystemExit(f"{args[:2]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, int(peaks[-1]) / 1024


def scanned_annex(plan: Plan) -> bytes:
    """The scanned annex of the ``kyso sign`` and worker rows (``plan.cli_mb`` MB)."""
    from bench.pdfs import scan

    return scan(max(2, round(plan.cli_mb / 0.3)), "flate")  # about 0.3 MB a page


def cli_rows(bench: Bench, plan: Plan, annex: bytes) -> Iterator[Row]:
    from api.demo.demo import DEMO_PIN

    source = bench.root / "annex.pdf"
    source.write_bytes(annex)
    env = {**os.environ, "KYSO_PIN": DEMO_PIN}
    env.pop("SOFTHSM2_CONF", None)  # the data directory's own
    # both programs as installed: their modules compiled once (by the warm-up pair), not
    # compiled again by every process where the caller's environment forbids writing
    # bytecode next to the sources (an editable install under PYTHONDONTWRITEBYTECODE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(bench.root / "pycache")
    counter = iter(range(10**6))

    def target() -> str:
        return str(bench.root / f"signed-{next(counter)}.pdf")

    times: list[float] = []
    bases: list[float] = []
    peaks: list[float] = []
    base_peaks: list[float] = []
    runs = max(1, plan.runs // 5)
    for run in range(runs + 1):  # the first pair warms the disk cache
        order = ["kyso", "bare"] if run % 2 == 0 else ["bare", "kyso"]
        for who in order:
            if who == "kyso":
                elapsed, peak = _child(_KYSO_CLI, ["sign", str(source), target(), "--token",
                                                   "pho-chu-tich", "--data-dir",
                                                   str(bench.root)], env)
                if run:
                    times.append(elapsed)
                    peaks.append(peak)
            else:
                elapsed, peak = _child(_BARE_CLI, [str(bench.root), str(source), target()],
                                       env)
                if run:
                    bases.append(elapsed)
                    base_peaks.append(peak)
    result = Paired(tuple(times), tuple(bases))
    size_mb = len(annex) / 2**20
    memory = {"kyso_mb": max(peaks), "baseline_mb": max(base_peaks), "file_mb": size_mb}
    row = _row(f"kyso sign, {size_mb:.0f} MB scanned annex (process)", result, 1.2,
               "≤ 1.2×, peak RSS ≤ 3× the file", plan.quick, memory=memory,
               note="both processes start, serve the demo PKI and sign B-T")
    if row.passed is not None:
        row.passed = row.passed and max(peaks) <= 3 * size_mb
    yield row


# ----------------------------------------------------------------------------- the worker

@dataclass
class Issued:
    """An issued document of the demo commune and the clerk who may attach to it."""

    document_id: str
    clerk_id: int


def issued_document(bench: Bench) -> Issued:
    """Issue the demo's sample draft (the commune's own flow, B-T) and add the demo
    accounts, so that the clerk ``vanthu`` may attach files to it."""
    from importlib.resources import files

    from sqlalchemy import select

    from api.database import open_database
    from api.demo.accounts import seed_demo_accounts
    from api.demo.commune import demo_people, run_flow, seed
    from documents import Document, DocumentStatus, User
    from signer import PadesLevel

    draft = (files("api") / "demo" / "assets" / "draft-quyet-dinh.pdf").read_bytes()
    run_flow(bench.data, bench.commune.pki, draft, level=PadesLevel.B_T)
    sessions = open_database(bench.data)
    with sessions() as session, session.begin():
        body = seed(session, bench.commune.pki)
        seed_demo_accounts(session, body, demo_people(session, body))
        document = session.scalars(select(Document).where(
            Document.status == DocumentStatus.ISSUED)).first()
        clerk = session.scalar(select(User).where(User.username == "vanthu"))
        assert document is not None and clerk is not None
        return Issued(document.id, clerk.id)


def worker_rows(bench: Bench, plan: Plan, annex: bytes) -> Iterator[Row]:
    """The worker's task signing an attachment (``kyso.sign_attachment`` →
    :func:`documents.run_attachment`, called as the Celery task calls it, on the runtime a
    worker process builds: its token session, scoped trust, pre-signing check, B-T with
    the TSA, the stored version written and fsynced, the audit event) against bare
    pyHanko signing the same annex with the same organisation token at B-T and writing
    it to a file. The memory each run adds to the process, against the file's size."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    from api.demo.demo import DEMO_PIN
    from api.settings import Settings, pin_env
    from api.worker.runtime import runtime_for
    from bench.sign_bench import bare_pyhanko
    from documents import run_attachment
    from signer import ORGANISATION_FIELD

    issued = issued_document(bench)
    os.environ[pin_env("ubnd")] = DEMO_PIN  # what a worker is started with
    runtime, tokens = runtime_for(Settings(data_dir=bench.root))
    sha256 = runtime.store.put(annex)
    counter = iter(range(10**6))
    out = bench.root / "bare-annex.pdf"

    def kyso() -> None:
        run_attachment(runtime, issued.document_id, issued.clerk_id, sha256,
                       f"phu-luc-{next(counter)}.pdf")

    def bare() -> None:
        with runtime.signer_for("ubnd") as body:  # the same open token session
            signed = bare_pyhanko(body, annex, ORGANISATION_FIELD, 32768,
                                  HTTPTimeStamper(bench.commune.pki.tsa_url, timeout=10))
        out.write_bytes(signed)

    try:
        result = paired(kyso, bare, max(1, plan.runs // 5))
        kyso_mb, bare_mb = peak_here_mb(kyso), peak_here_mb(bare)
    finally:
        tokens.close_all()
    size_mb = len(annex) / 2**20
    row = _row(f"worker: kyso.sign_attachment, {size_mb:.0f} MB scanned annex", result, 1.2,
               "≤ 1.2×, peak RSS ≤ 3× the file", plan.quick,
               memory={"kyso_mb": kyso_mb, "baseline_mb": bare_mb, "file_mb": size_mb},
               note="the task's function on a worker's runtime vs bare pyHanko (B-T, "
                    "same token and TSA); memory: what the run adds to the process")
    if row.passed is not None:
        row.passed = row.passed and kyso_mb <= 3 * size_mb
    yield row


# ----------------------------------------------------------------------------- service

def _in_child(module: str, call: str) -> Any:
    """``module.call`` in a new interpreter (each bench loads SoftHSM with a
    configuration of its own, which a process reads once); its JSON result."""
    code = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); "
            f"from bench import {module}; print('RESULT ' + json.dumps({module}.{call}))")
    env = {k: v for k, v in os.environ.items() if k != "SOFTHSM2_CONF"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=False)
    found = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not found:
        raise SystemExit(f"bench.{module} failed: {done.stderr[-2000:]}")
    return json.loads(found[-1][len("RESULT "):])


def service_rows(plan: Plan) -> Iterator[Row]:
    count, delay = (5, 50) if plan.quick else (50, 300)
    result = _in_child("batch_sign_bench", f"run({count}, {delay})")
    floor = count * delay
    wall = result["wall"] * 1000
    yield Row(f"batch of {count} through the agent, {delay} ms token", wall, wall, floor,
              wall / floor, "≤ 1.05 × N × delay", None if plan.quick else wall / floor <= 1.05,
              floor_ms=floor)
    documents = 5 if plan.quick else plan.queue_documents
    one_worker: dict[str, float] = {}
    for profile, workers in (("embedded", 1), ("postgres-redis", 1), ("postgres-redis", 2)):
        rates = _in_child("queue_bench", f"run({profile!r}, {documents}, {workers})")
        note = ", ".join(f"{k} {v:.1f}/min" for k, v in rates.items())
        whole = rates["whole life"]
        if workers == 1:
            one_worker = rates
            yield Row(f"queue, {profile}, {documents} documents (docs/min, upload to issued)",
                      whole, whole, None, None, "reported", None, note=note)
            continue
        # two workers against one, on the same profile: the baseline is one worker's rate
        scaling = whole / one_worker["whole life"]
        yield Row(f"queue, {profile}, 2 workers (docs/min, upload to issued)", whole, whole,
                  one_worker["whole life"], scaling, "≥ 1.8 × one worker",
                  None if plan.quick else scaling >= 1.8, note=note)


# ----------------------------------------------------------------------------- output

def table(rows: list[Row]) -> str:
    lines = [f"{'operation':58} {'median':>9} {'p95':>9} {'baseline':>9} {'ratio':>6} "
             f"{'target':>26} {'result':>6} {'floor':>7}  memory (MB)"]
    for row in rows:
        verdict = {True: "pass", False: "FAIL", None: "-"}[row.passed]
        base = f"{row.baseline_ms:9.1f}" if row.baseline_ms is not None else f"{'':9}"
        ratio = f"{row.ratio:6.2f}" if row.ratio is not None else f"{'':6}"
        floor = f"{row.floor_ms:7.1f}" if row.floor_ms is not None else f"{'':7}"
        memory = (f"{row.memory['kyso_mb']:.0f} vs {row.memory['baseline_mb']:.0f}"
                  if row.memory else "")
        lines.append(f"{row.operation[:58]:58} {row.median_ms:9.1f} {row.p95_ms:9.1f} {base} "
                     f"{ratio} {row.target:>26} {verdict:>6} {floor}  {memory}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load": os.getloadavg()[0], "date": dt.datetime.now(dt.UTC).isoformat()}


def setup(root: Path) -> Bench:
    os.environ["SOFTHSM2_CONF"] = str(root / "softhsm" / "softhsm2.conf")
    from api.datadir import DataDir
    from api.demo.art import handwritten_signature, seal
    from api.demo.demo import provision, token_settings

    data = DataDir(root).create()
    commune = provision(data.softhsm, data.pki)
    data.save_token_settings(token_settings(commune))
    return Bench(root, data, commune, data.trust_store(), handwritten_signature(), seal())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small N and files, no timing verdicts (the test runs it)")
    parser.add_argument("--runs", type=int, help="pairs per signing row")
    parser.add_argument("--json", type=Path, help="where to write the results")
    parser.add_argument("--service", action="store_true",
                        help="also the agent batch and queue throughput (starts kyso serve)")
    parser.add_argument("--documents", type=int,
                        help="documents per queue row of --service (default 1000)")
    groups = ("signing", "verification", "preparing", "cli", "worker")
    parser.add_argument("--only", choices=groups, action="append",
                        help="run only these groups (repeatable)")
    args = parser.parse_args(argv)
    only = set(args.only or groups)
    plan = QUICK if args.quick else FULL
    if args.runs:
        plan.runs = args.runs
    if args.documents:
        plan.queue_documents = args.documents
    from certs import serving

    root = Path(tempfile.mkdtemp(prefix="kyso-suite-"))
    bench = setup(root)
    rows: list[Row] = []
    started = time.perf_counter()
    annex = scanned_annex(plan) if only & {"cli", "worker"} else b""
    with serving(bench.commune.pki):
        for name, group in (("signing", signing_rows), ("verification", verification_rows),
                            ("preparing", preparing_rows),
                            ("worker", partial(worker_rows, annex=annex))):
            for row in group(bench, plan) if name in only else ():
                rows.append(row)
                print(table([row]).splitlines()[1], flush=True)
    if "cli" in only:
        rows.extend(cli_rows(bench, plan, annex))  # its processes serve the demo PKI
    if args.service:
        rows.extend(service_rows(plan))
    print()
    print(f"Kyso against bare pyHanko, {plan.runs} interleaved pairs per signing row "
          f"({time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f})")
    print(table(rows))
    result = {"machine": machine(), "quick": plan.quick, "rows": [asdict(r) for r in rows]}
    out = args.json or root / "results.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"JSON: {out}")
    failed = [r.operation for r in rows if r.passed is False]
    return 1 if failed and not plan.quick else 0


if __name__ == "__main__":
    sys.exit(main())

