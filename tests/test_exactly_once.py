"""Two deliveries of one task at the same time — the reconciliation sent it again while the
broker still held it, or Redis's visibility timeout handed it to a second worker — do the
act once (issue 17): on SQLite and PostgreSQL, two threads run the same issue (and the same
copy) task together with the real tokens and TSA; one number, one issued version, one
register entry, and the file validates."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from api.cli.operations import verify_document
from api.datadir import DataDir
from api.demo.demo import DemoCommune
from api.worker import tasks
from documents import (
    Document,
    DocumentVersion,
    NumberCounter,
    RegisterEntry,
    VersionKind,
)
from documents.custody import Act

from . import test_custody as custody
from .documents_fixtures import (  # noqa: F401
    db_fixture,
    postgres_url_fixture,
    sqlite_template_fixture,
)
from .test_custody import Pdfs, World, runtime, stage

pdfs = custody.pdfs  # the custody tests' fixtures: the demo commune's real files and keys
world = custody.world


def together(*calls: Any) -> list[Any]:
    """Run the calls in threads released at the same moment; their results (or errors)."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # the thread's boundary: the test looks at it  # noqa: BLE001
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return results


def test_the_same_issue_delivered_twice_at_once_numbers_and_seals_once(
        world: World, pdfs: Pdfs, data: DataDir, commune: DemoCommune,
        tmp_path: Path) -> None:
    document_id = stage(world, pdfs, Act.ISSUE)
    clerk = world.accounts["clerk", "own"]
    with runtime(world, data, commune) as opened:
        results = together(lambda: tasks.issue_document(document_id, clerk, "Lưu: VT."),
                           lambda: tasks.issue_document(document_id, clerk, "Lưu: VT."))
    assert results == ["ISSUED", "ISSUED"], results
    assert opened == ["ubnd"]  # the second delivery found the act done before any key
    with world.db.Session() as session:
        document = session.get_one(Document, document_id)
        assert document.number == 1
        assert session.scalar(select(func.count()).select_from(RegisterEntry)) == 1
        assert [c.value for c in session.scalars(select(NumberCounter))] == [1]
        issued = session.scalars(select(DocumentVersion).where(
            DocumentVersion.document_id == document_id,
            DocumentVersion.kind == VersionKind.ISSUED)).all()
        assert len(issued) == 1
        pdf = world.store.get(issued[0].sha256)
    assert verify_document(data, pdf).verdict == "valid"


def test_the_same_copy_delivered_twice_at_once_is_made_once(
        world: World, pdfs: Pdfs, data: DataDir, commune: DemoCommune) -> None:
    document_id = stage(world, pdfs, Act.COPY)
    clerk = world.accounts["clerk", "own"]
    with runtime(world, data, commune) as opened:
        results = together(
            lambda: tasks.copy_document(document_id, clerk, "SAO_Y", "same-request"),
            lambda: tasks.copy_document(document_id, clerk, "SAO_Y", "same-request"))
    assert isinstance(results[0], str) and results[0] == results[1], results
    assert opened == ["ubnd"]
    with world.db.Session() as session:
        copies = session.scalars(select(DocumentVersion).where(
            DocumentVersion.kind == VersionKind.COPY)).all()
        assert len(copies) == 1
        copy = session.get_one(Document, results[0])
        assert copy.number == 1
