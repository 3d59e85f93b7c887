"""The lists' cost as a body accumulates documents: the drafter's page, the clerk's page and
``GET /api/v1/documents`` for bodies of 100 to 5,000 documents.

    .venv/bin/python -m bench.page_bench [--sizes 100,1000,5000] [--runs 15] [--quick]
                                         [--json FILE]

One database (SQLite, in a fresh data directory) holds one body per size, each with its own
drafter and clerk accounts, its documents seeded directly in the database (no files: the
lists read no PDF) as a province's years of documents look: the same work in progress in
every body, the newest documents (prepared, returned, routed, signed and waiting for a
number: :data:`MIX`, so every size's first pages show the same rows), and before them the
rest, issued, over four years; each document has two or three versions.
The app runs in-process (FastAPI's TestClient, the real middleware and templates). Each
round asks every size's pages in turn (the order rotating), so the machine's drift hits
every size alike; the baseline is the smallest body, measured in the same rounds. Printed:
the median and p95 (ms) of each page for each size and its ratio to the smallest body's
(the median of the per-round ratios). Flat means ratios near 1.0.

``--quick`` (sizes 20 and 200, 3 runs) is what tests/test_bench_suite.py can run so this
script cannot rot.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.bench_timing import percentile

#: the documents in progress, as many in every body (the work under way does not grow with
#: the years a body has kept); the rest of each body's documents are issued
MIX = (("PREPARED", 15), ("RETURNED", 5), ("AWAITING_SIGNATURE", 20), ("SIGNED", 25),
       ("DRAFT", 5))
PAGES = (("drafter page", "drafter", "/chuyen-vien"),
         ("drafter list (htmx poll)", "drafter", "/chuyen-vien/danh-sach"),
         ("clerk page", "clerk", "/van-thu"),
         ("GET /api/v1/documents", "clerk", "/api/v1/documents"),
         ("GET /api/v1/documents?status=SIGNED", "clerk", "/api/v1/documents?status=SIGNED"))


def seed_body(session: Any, size: int, index: int) -> int:
    """A body named for its size with ``size`` documents, a drafter ``d{size}`` and a clerk
    ``c{size}`` (password ``mat-khau-{size}``); its id."""
    from documents import (
        BookScope,
        Document,
        DocumentStatus,
        DocumentVersion,
        NumberBook,
        Organisation,
        OrganisationKind,
        Role,
        VersionKind,
        create_user,
        grant,
    )

    body = Organisation(kind=OrganisationKind.PEOPLE_COMMITTEE, name=f"UBND xã Thử {size}",
                        abbreviation="UBND", place_name=f"Thử {index}")
    session.add(body)
    session.add(NumberBook(body=body, code="chung", name="Sổ văn bản đi",
                           scope=BookScope.BODY, scope_description="Văn bản của UBND xã"))
    session.flush()
    for role, prefix in ((Role.DRAFTER, "d"), (Role.CLERK, "c")):
        user = create_user(session, f"{prefix}{size}", f"mat-khau-{size}",
                           f"{prefix} {size}")
        grant(session, user, body, role)
    groups = [[name] * min(count, size // 5) for name, count in MIX]
    in_progress = [s for row in zip_longest(*groups) for s in row if s]
    # years of issued documents, then the recent work in progress (its states mixed)
    statuses = ["ISSUED"] * (size - len(in_progress)) + in_progress
    start = datetime(2022, 1, 3, 8, 0, tzinfo=UTC)
    span = timedelta(days=4 * 365) / size
    documents, versions = [], []
    for n, status in enumerate(statuses):
        created = start + n * span
        doc_id = f"{index:04d}{n:08d}-0000-4000-8000-000000000000"[:36]
        documents.append({"id": doc_id, "body_id": body.id, "doc_type_code": "quyet-dinh",
                          "subject": f"Về việc thử số {n} của cơ quan",
                          "status": DocumentStatus[status], "created_at": created})
        kinds = [VersionKind.DRAFT, VersionKind.PREPARED]
        if status == "ISSUED":
            kinds.append(VersionKind.ISSUED)
        for k, kind in enumerate(kinds):
            versions.append({"document_id": doc_id, "kind": kind,
                             "sha256": f"{n:032d}{k:032d}", "size": 90_000,
                             "created_at": created + timedelta(minutes=k)})
    session.execute(insert(Document.__table__), documents)
    session.execute(insert(DocumentVersion.__table__), versions)
    return int(body.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sizes = [20, 200] if args.quick else [int(s) for s in args.sizes.split(",")]
    runs = 3 if args.quick else args.runs

    from fastapi.testclient import TestClient

    from api.database import open_database
    from api.datadir import DataDir
    from api.http.app import create_app
    from api.settings import Settings

    root = Path(tempfile.mkdtemp(prefix="kyso-page-bench-"))
    data = DataDir(root / "data").create()
    sessions = open_database(data)
    began = time.perf_counter()
    with sessions() as session, session.begin():
        for index, size in enumerate(sizes):
            seed_body(session, size, index + 1)
    print(f"seeded {sum(sizes)} documents in {time.perf_counter() - began:.1f} s "
          f"({', '.join(str(s) for s in sizes)} a body)", file=sys.stderr)
    app = create_app(Settings(data_dir=data.root, database_url=data.database_url))
    with TestClient(app) as lifespan:  # the app's start-up, once; a client per account
        clients: dict[tuple[int, str], Any] = {}
        for size in sizes:
            for role, prefix in (("drafter", "d"), ("clerk", "c")):
                answer = lifespan.post("/api/v1/auth/login", json={
                    "username": f"{prefix}{size}", "password": f"mat-khau-{size}"})
                answer.raise_for_status()
                client = TestClient(app)
                client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
                clients[(size, role)] = client

        def call(size: int, role: str, path: str) -> Callable[[], None]:
            def run() -> None:
                answer = clients[(size, role)].get(path)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            return run

        times: dict[tuple[str, int], list[float]] = {}
        for _, role, path in PAGES:  # warm-up: templates compiled, caches filled
            for size in sizes:
                call(size, role, path)()
        for run in range(runs):
            order = sizes[run % len(sizes):] + sizes[:run % len(sizes)]
            for name, role, path in PAGES:
                for size in order:
                    start = time.perf_counter()
                    call(size, role, path)()
                    times.setdefault((name, size), []).append(
                        (time.perf_counter() - start) * 1000)
    base = sizes[0]
    rows = []
    for name, _, _ in PAGES:
        for size in sizes:
            measured = times[(name, size)]
            ratio = statistics.median(t / b for t, b in zip(
                measured, times[(name, base)], strict=True))
            rows.append({"page": name, "documents": size,
                         "median_ms": round(statistics.median(measured), 1),
                         "p95_ms": round(percentile(measured, 95), 1),
                         "ratio": round(ratio, 2)})
    width = max(len(r["page"]) for r in rows)
    print(f"{'page':<{width}}  {'documents':>9}  {'median ms':>9}  {'p95 ms':>7}  "
          f"{'× ' + str(base) + ' docs':>11}")
    for row in rows:
        print(f"{row['page']:<{width}}  {row['documents']:>9}  {row['median_ms']:>9.1f}  "
              f"{row['p95_ms']:>7.1f}  {row['ratio']:>11.2f}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
