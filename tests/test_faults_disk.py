"""The disk full while a version is written (issue 17, faults during work), end to end on
`kyso serve`: the data directory's ``files/`` (every PDF version) is a small tmpfs the
test fills up just before the clerk issues. The issue fails cleanly — no half file, no
number used, a clear Vietnamese and English reason on the document, the person told —
waits for space as for any service, and goes on by itself once space is freed: the
number it then takes is the next one, and every stored file is whole."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.datadir import DataDir
from api.demo.demo import provision
from certs import free_port

from .service_support import Service, embedded_env, start_service, upload, wait_for
from .test_faults import DRAFT, events, routed, until, verdict

SIZE = 16 * 1024 * 1024  # room for the drafts and versions of the test, not much more


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/data/files`` on a tmpfs of SIZE bytes (root only: ``mount``)."""
    files = tmp_path / "data" / "files"
    files.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700",
                              "tmpfs", str(files)], capture_output=True, text=True) \
        if os.geteuid() == 0 else None
    if mounted is None or mounted.returncode != 0:
        why = mounted.stderr.strip() if mounted else "not root"
        if os.environ.get("CI") == "true":
            raise AssertionError(f"cannot mount a small tmpfs for the disk-full test: {why}")
        pytest.skip(f"cannot mount a small tmpfs ({why})")
    try:
        yield files
    finally:
        subprocess.run(["umount", "-l", str(files)], capture_output=True, check=False)


def fill(files: Path, leave: int) -> Path:
    """Fill ``files``'s disk up to ``leave`` free bytes (a filler file, removed to free)."""
    filler = files / "filler.bin"
    stat = os.statvfs(files)
    free = stat.f_bavail * stat.f_frsize
    with filler.open("ab") as out:
        out.write(b"\0" * max(free - leave, 0))
    return filler


def stored_files_whole(files: Path) -> list[Path]:
    """Every stored version is complete (its name is its SHA-256); no temporary left."""
    stored = [p for p in files.rglob("*") if p.is_file() and p.name != "filler.bin"]
    for path in stored:
        assert not path.name.endswith(".part"), f"a half-written file is left: {path}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem, path
    return stored


def test_a_store_on_a_full_disk_raises_storage_full_and_leaves_nothing(small_disk: Path) -> None:
    from documents import StorageFull
    from documents.storage import FileStore

    store = FileStore(small_disk)
    fill(small_disk, 8 * 1024)
    with pytest.raises(StorageFull) as raised:
        store.put(os.urandom(64 * 1024))
    assert "ổ đĩa lưu văn bản đã đầy" in raised.value.vi and "disk" in raised.value.en
    assert "số văn bản chưa được cấp" in raised.value.vi
    assert stored_files_whole(small_disk) == []  # no partial file, no temporary
    (small_disk / "filler.bin").unlink()
    digest = store.put(b"%PDF-1.7 whole")  # space again: stored
    assert store.get(digest) == b"%PDF-1.7 whole"


@pytest.mark.slow
def test_a_full_disk_while_issuing_uses_no_number_and_the_issue_resumes_once_freed(
        tmp_path: Path, small_disk: Path) -> None:
    data = DataDir(tmp_path / "data").create()
    provision(data.softhsm, data.pki)
    running: Service = start_service(data, free_port(), embedded_env(
        KYSO_RECONCILE_INTERVAL="2", KYSO_TASK_STALE_SECONDS="30"), tmp_path / "serve.log")
    try:
        first, signer, first_request = routed(running)
        second, _, second_request = routed(running)
        for request_id in (first_request, second_request):
            assert signer.post(f"/api/v1/requests/{request_id}/approve").status_code == 202
        for document_id in (first, second):
            wait_for(signer, document_id, "SIGNED", 120)
        clerk = running.login("vanthu")
        body_id = clerk.get("/api/v1/bodies").json()[0]["id"]
        year = time.gmtime().tm_year
        before = clerk.get(f"/api/v1/register/{body_id}/{year}").json()

        filler = fill(small_disk, 8 * 1024)  # less than any issued PDF
        started = time.monotonic()
        assert clerk.post(f"/api/v1/documents/{first}/issue", json={}).status_code == 202
        waiting = until(lambda: (d := clerk.get(f"/api/v1/documents/{first}").json())
                        ["problem"] and d, 90, "the document says the disk is full")
        assert waiting["status"] == "SIGNED" and waiting["number"] is None, waiting
        assert waiting["problem"].startswith("Đang chờ dịch vụ"), waiting["problem"]
        assert "ổ đĩa lưu văn bản đã đầy" in waiting["problem"]
        assert "disk of the stored files is full" in waiting["problem"]
        assert [v["kind"] for v in waiting["versions"]].count("ISSUED") == 0
        assert clerk.get(f"/api/v1/register/{body_id}/{year}").json() == before  # no number
        stored_files_whole(small_disk)
        drafter = running.login("chuyenvien")
        told = [n for n in drafter.get("/api/v1/notifications").json()
                if n["kind"] == "WORK_DELAYED" and n["document_id"] == first]
        assert told and "(storage)" in told[0]["text"], told
        # a draft uploaded meanwhile (the same bytes: already stored) is taken; its
        # preparation waits for the disk too, with the same reason
        body = drafter.get("/api/v1/bodies").json()[0]["id"]
        late = upload(drafter, body, DRAFT)
        assert late.status_code == 201, late.text
        late_waits = until(lambda: (d := drafter.get(f"/api/v1/documents/{late.json()['id']}")
                                    .json())["problem"] and d, 90, "the draft waits")
        assert late_waits["status"] == "DRAFT" and "ổ đĩa" in late_waits["problem"]

        filler.unlink()  # space freed: nobody does anything else
        freed = time.monotonic()
        issued = wait_for(clerk, first, "ISSUED", 240)
        resumed = time.monotonic() - freed
        assert issued["problem"] is None
        assert wait_for(drafter, late.json()["id"], "PREPARED", 240)["problem"] is None
        assert clerk.post(f"/api/v1/documents/{second}/issue", json={}).status_code == 202
        other = wait_for(clerk, second, "ISSUED", 120)
        numbers = [int(d["number"].split("/")[0]) for d in (issued, other)]
        assert numbers[1] == numbers[0] + 1, numbers  # no number lost to the full disk
        register = [r["number"] for r in clerk.get(f"/api/v1/register/{body_id}/{year}").json()]
        assert len(register) == len(before) + 2 and len(set(register)) == len(register)
        for document_id in (first, second):
            document = clerk.get(f"/api/v1/documents/{document_id}").json()
            assert [v["kind"] for v in document["versions"]].count("ISSUED") == 1
            assert verdict(running, document_id, "issued")["verdict"] == "valid"
        trail = events(running, first)
        assert [e["action"] for e in trail if "background" not in e].count("NUMBER") == 1
        background = [e["background"] for e in trail if "background" in e]
        assert "waiting_for_service" in background and "resumed" in background, background
        stored_files_whole(small_disk)
        print(f"disk full: waited {freed - started:.1f} s, issued {resumed:.1f} s "
              "after space was freed")
    finally:
        running.stop()
