"""Hostile PDFs against the checks themselves (no service): every case of the corpus
(tests/support/hostile.py) is refused with its reason class, quickly, by the upload check
(``check_draft``), by the verifier (``signer.verify_pdf``) and through the isolation
child process; what an official document may contain still passes.

The HTTP round trip of the same corpus against a running service is
tests/test_hostile_service.py.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from signer import (
    ChildLimits,
    PdfHostile,
    PdfTooCostly,
    PdfUnreadable,
    Verdict,
    inspect_pdf,
    run_isolated,
    verify_pdf,
)
from signer.guard import PdfLimits
from signer.prepare import DRAFT_LIMITS, check_draft, prepare_pdf

from .conftest import TESTS_DATA
from .support import hostile
from .support.hostile import HostileCase

DRAFT = (TESTS_DATA / "b_cong_van_vhxh_1trang.pdf").read_bytes()
STRUCTURAL = [*hostile.LOOPS, *hostile.NESTING, *hostile.SMALL_BOMBS]
#: each small case is decided in well under this (a loaded 2-core machine included)
QUICK = 3.0


def _ids(case: HostileCase) -> str:
    return case.name


@pytest.mark.parametrize("case", [*STRUCTURAL, *hostile.ACTIVE], ids=_ids)
def test_the_upload_check_refuses_each_case_with_its_reason(case: HostileCase) -> None:
    data = case.build(DRAFT)
    started = time.perf_counter()
    with pytest.raises(PdfHostile) as refused:
        check_draft(data)
    assert time.perf_counter() - started < QUICK
    assert refused.value.code == case.code, refused.value.en
    assert refused.value.vi and refused.value.en and refused.value.vi != refused.value.en


@pytest.mark.parametrize("case", hostile.ACTIVE, ids=_ids)
def test_active_content_refusals_say_what_and_where(case: HostileCase) -> None:
    with pytest.raises(PdfHostile) as refused:
        check_draft(case.build(DRAFT))
    error = refused.value
    assert "tự chạy hoặc không được phép" in error.vi and "not allowed" in error.en
    # where: a page and object, the catalog, or the catalog entry that holds it
    assert any(w in error.en for w in ("page 1", "object", "catalog", "/OpenAction",
                                       "/Names", "/AcroForm", "/Collection")), error.en


@pytest.mark.parametrize(("name", "build"), hostile.ALLOWED, ids=[n for n, _ in hostile.ALLOWED])
def test_what_an_official_document_may_contain_still_passes(name: str, build: object) -> None:
    data = build(DRAFT)  # type: ignore[operator]
    check_draft(data)
    assert prepare_pdf(data).pdf.startswith(b"%PDF")


@pytest.mark.parametrize("draft", sorted((TESTS_DATA / "drafts").glob("*.pdf")),
                         ids=lambda p: p.stem)
def test_every_real_draft_passes_the_check(draft: Path) -> None:
    check_draft(draft.read_bytes())


@pytest.mark.parametrize("case", STRUCTURAL, ids=_ids)
def test_the_verifier_refuses_each_structural_case(case: HostileCase) -> None:
    data = case.build(DRAFT)
    started = time.perf_counter()
    report = verify_pdf(data, lambda: None, case.name)
    assert time.perf_counter() - started < QUICK
    assert report.verdict is Verdict.INVALID
    assert [r.code for r in report.reasons] == [f"refused_{case.code}"]


@pytest.mark.parametrize("case", STRUCTURAL, ids=_ids)
def test_the_verifier_alone_stays_bounded_when_the_check_was_skipped(case: HostileCase) -> None:
    """``checked=True`` (as after the child's check): pyHanko and Kyso's own walks
    (signer/changes.py) must not loop on what the check would have refused."""
    started = time.perf_counter()
    with contextlib.suppress(PdfUnreadable):  # refused by the reader: bounded too
        verify_pdf(case.build(DRAFT), lambda: None, case.name, checked=True)
    assert time.perf_counter() - started < QUICK


def test_the_isolated_check_returns_the_same_refusal() -> None:
    case = hostile.LOOPS[0]  # the 57 KB freezer
    with pytest.raises(PdfHostile) as refused:
        run_isolated("check_draft", case.build(DRAFT), DRAFT_LIMITS, False)
    assert refused.value.code == "loop" and "form field tree" in refused.value.en
    run_isolated("check_draft", DRAFT, DRAFT_LIMITS, False)  # a good draft passes


def test_the_isolated_preparation_returns_the_prepared_draft() -> None:
    prepared = run_isolated("prepare", DRAFT, None)
    assert prepared.pdf.startswith(b"%PDF") and prepared.layout.signature is not None
    check_draft(prepared.pdf, allow_signatures=True)


def test_child_process_overhead_per_draft_is_small() -> None:
    """Measured: the isolated check of a one-page draft minus the same check in process
    (median of 15, after the isolation server has started)."""
    run_isolated("check_draft", DRAFT, DRAFT_LIMITS, False)

    def median(call: object) -> float:
        times = []
        for _ in range(15):
            started = time.perf_counter()
            call()  # type: ignore[operator]
            times.append(time.perf_counter() - started)
        return sorted(times)[7]

    isolated = median(lambda: run_isolated("check_draft", DRAFT, DRAFT_LIMITS, False))
    inline = median(lambda: check_draft(DRAFT))
    print(f"\nchild-process overhead per draft: {1000 * (isolated - inline):.1f} ms "
          f"(isolated {1000 * isolated:.1f} ms, in process {1000 * inline:.1f} ms)")
    assert isolated - inline < 0.25


@pytest.fixture(scope="module")
def many_pages() -> bytes:
    return hostile.many_pages(100_000)


def test_a_child_over_its_time_is_killed_and_the_file_refused() -> None:
    slow = hostile.slow_content(DRAFT)  # checked at once, laid out in many seconds
    started = time.perf_counter()
    with pytest.raises(PdfTooCostly) as refused:
        run_isolated("prepare", slow, None, limits=ChildLimits(1024, 0.5))
    assert refused.value.code == "time" and "0.5 s" in refused.value.en
    assert time.perf_counter() - started < 5
    run_isolated("check_draft", DRAFT, DRAFT_LIMITS, False)  # the next file is served


def test_a_child_over_its_cpu_time_is_refused_for_time_not_as_a_crash() -> None:
    # 3 s: the CPU limit (3 + 2 s) comes before the wall-clock one (6 s) unless the machine
    # is very busy, when the wall-clock one does; either is "time"
    with pytest.raises(PdfTooCostly) as refused:
        run_isolated("prepare", hostile.slow_content(DRAFT), None,
                     limits=ChildLimits(1024, 3))
    assert refused.value.code == "time" and "3 s" in refused.value.en


def test_a_file_waiting_for_a_busy_server_is_not_blamed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from common import Category
    from signer import PdfWorkBusy, isolate

    taken = threading.BoundedSemaphore(1)
    taken.acquire()  # every PDF child of this process busy with another file
    monkeypatch.setattr(isolate, "_slots", taken)
    with pytest.raises(PdfWorkBusy) as busy:
        run_isolated("check_draft", DRAFT, DRAFT_LIMITS, False, limits=ChildLimits(1024, 0.2))
    assert not isinstance(busy.value, PdfHostile)  # the file is not refused
    assert busy.value.category is Category.UNAVAILABLE and busy.value.retry_after
    assert "máy chủ đang bận" in busy.value.vi and "not refused" in busy.value.en
    taken.release()
    run_isolated("check_draft", DRAFT, DRAFT_LIMITS, False)  # served once a child is free


def test_a_slow_start_of_the_isolation_server_is_not_charged_to_the_first_file(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from signer import isolate

    # a loaded machine: the new server takes its time importing the PDF libraries
    monkeypatch.setattr(isolate, "_SERVE", "import time; time.sleep(3); " + isolate._SERVE)
    monkeypatch.setattr(isolate, "_idle", [])  # a new server for this call
    monkeypatch.setattr(isolate, "REPLY_GRACE", 0.5)
    try:
        # checked, not refused as "isolation server: OSError" (ChildFailed)
        run_isolated("check_draft", DRAFT, DRAFT_LIMITS, False, limits=ChildLimits(1024, 1))
    finally:
        for server in isolate._idle:
            server.close()


def test_a_child_over_its_memory_is_stopped_and_the_file_refused() -> None:
    data = hostile.big_plain_stream(DRAFT)
    with pytest.raises(PdfTooCostly) as refused:
        run_isolated("inspect", data, DRAFT_LIMITS, limits=ChildLimits(150, 30))
    assert refused.value.code == "memory" and "150 MB" in refused.value.en
    assert run_isolated("inspect", data, DRAFT_LIMITS, limits=ChildLimits(1024, 30)) == 1


@pytest.mark.slow
def test_a_hundred_thousand_pages_are_refused_in_bounded_time(many_pages: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(PdfHostile) as refused:
        run_isolated("check_draft", many_pages, DRAFT_LIMITS, False,
                     limits=ChildLimits(1024, 60))
    assert refused.value.code == "pages"
    print(f"\n100,000 pages refused in {time.perf_counter() - started:.1f} s")
    report = verify_pdf(many_pages, lambda: None, "pages")  # verification allows 5,000
    assert [r.code for r in report.reasons] == ["refused_pages"]


@pytest.fixture(scope="session")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The issue's double-Flate draft: a content stream inflating to 1.5 GB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.pdf"
    path.write_bytes(hostile.double_flate_bomb(hostile.double_flate())(DRAFT))
    yield path


#: Peak RSS (VmHWM: per address space, unlike ru_maxrss, which survives exec) of a
#: fresh interpreter that checks one file, in MB.
_PEAK = """
import sys
from signer import PdfHostile, inspect_pdf
data = open(sys.argv[1], "rb").read()
try:
    inspect_pdf(data)
except PdfHostile as exc:
    print(exc.code)
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) // 1024)
"""


@pytest.mark.slow
def test_the_decompression_bomb_is_refused_with_little_memory(bomb: Path,
                                                               tmp_path: Path) -> None:
    assert bomb.stat().st_size < 60 * 1024
    started = time.perf_counter()
    with pytest.raises(PdfHostile) as refused:
        check_draft(bomb.read_bytes())
    assert refused.value.code == "bomb" and time.perf_counter() - started < 10
    report = verify_pdf(bomb.read_bytes(), lambda: None, "bomb")
    assert [r.code for r in report.reasons] == ["refused_bomb"]
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(DRAFT)
    peaks = {}
    for name, path in (("bomb", bomb), ("plain", plain)):
        done = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True,
                              text=True, check=True, timeout=120)
        peaks[name] = int(done.stdout.split()[-1])
    assert done.stdout.split()[0] != "bomb"  # the plain draft is not refused
    print(f"\npeak RSS checking the 1.5 GB bomb: {peaks['bomb']} MB "
          f"(a plain draft: {peaks['plain']} MB)")
    assert peaks["bomb"] - peaks["plain"] < 300


def test_limits_are_arguments() -> None:
    with pytest.raises(PdfHostile) as refused:
        inspect_pdf(DRAFT, PdfLimits(max_stream_mb=0))
    assert refused.value.code == "bomb"
    with pytest.raises(PdfHostile) as refused:
        inspect_pdf(DRAFT, PdfLimits(max_objects=3))
    assert refused.value.code == "objects"


def test_concurrent_callers_share_at_most_a_few_isolation_servers() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from signer import isolate

    freezer = hostile.LOOPS[0].build(DRAFT)

    def one(index: int) -> str:
        try:
            run_isolated("check_draft", freezer if index % 2 else DRAFT, DRAFT_LIMITS, False)
            return "ok"
        except PdfHostile as exc:
            return exc.code

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(one, range(24)))
    assert outcomes == ["ok", "loop"] * 12
    assert len(isolate._idle) <= isolate.MAX_SERVERS


def test_an_isolated_verification_reports_what_the_verifier_in_process_does() -> None:
    from certs import bundled_store
    from signer import VERIFY_LIMITS, verify_file
    from signer.verify import trust_entries

    trusted = trust_entries(bundled_store())
    for path in sorted((TESTS_DATA / "real").glob("0[23]*.pdf")):
        data = path.read_bytes()
        isolated = run_isolated("verify", data, trusted, path.name, VERIFY_LIMITS).to_dict()
        inline = verify_file(data, trusted, path.name).to_dict()
        for report in (isolated, inline):
            for signature in report["signatures"]:
                signature.pop("validation_time")
        assert isolated == inline
        assert isolated["signatures"] and isolated["signatures"][0]["signer"]
