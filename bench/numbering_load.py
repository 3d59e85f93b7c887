"""Numbering under load (issue 17, point 4): N numbers from C concurrent clients on PostgreSQL.

    .venv/bin/python -m bench.numbering_load [--allocations 10000] [--clients 32]
                                             [--quick] [--json FILE]

A throwaway PostgreSQL database (created on ``KYSO_TEST_POSTGRES_URL``'s server, default
trust auth on 127.0.0.1, migrated to head, dropped at the end) holds one commune and its
general number book. Each client is a thread with its own connection; each allocation is the
clerk's act as the product does it: a new document, ``documents.register_issue`` (the
book's counter row-locked, the number bound to the document, the register line written)
and one commit. Every 50th allocation is rolled back after taking its number: that number
must be given again, not leave a gap. Afterwards the register, the documents and the counter
must hold exactly 1..N, each once.

The baseline is the physical floor of a row-locked counter on the same server and the same
clients: ``UPDATE … SET value = value + 1 RETURNING value`` and one INSERT, one commit.
Printed: allocations per second, p50/p95/p99 latency (ms, commit included), the ratio to
the baseline, gaps and duplicates; ``--json`` writes the same. Exit status 1 on a gap, a
duplicate, a mismatch or an error. ``--quick`` (640 allocations) is what
tests/test_bench_suite.py runs so this script cannot rot.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_timing import percentile  # noqa: E402  (after the path is set)
from tests.support.databases import throwaway_postgres  # noqa: E402

POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: every ROLLBACK_EVERY-th allocation is abandoned after taking its number
ROLLBACK_EVERY = 50
YEAR = 2025


@dataclass
class Result:
    """One run's figures (the Kyso act or the baseline)."""

    name: str
    allocations: int
    clients: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rolled_back: int = 0
    gaps: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def drive(total: int, clients: int, one: Callable[[int], bool]) -> tuple[list[float], float,
                                                                          list[str], int]:
    """``total`` calls of ``one(i)`` shared by ``clients`` threads started together.

    ``one`` returns False when it abandoned its allocation (rolled back): that index is
    done again so ``total`` numbers are kept. Returns the kept calls' latencies (s), the
    wall time, the errors and the number rolled back."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    next_index = iter(range(10 * total))
    claimed = [0]  # allocations kept or under way: never more than total
    rolled = [0]
    start = threading.Barrier(clients)

    def client() -> None:
        start.wait(timeout=60)
        while True:
            with lock:
                if claimed[0] >= total or errors:
                    return
                claimed[0] += 1
                i = next(next_index)
            began = time.perf_counter()
            try:
                done = one(i)
            except Exception as exc:  # noqa: BLE001 - the thread's boundary: reported
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                return
            took = time.perf_counter() - began
            with lock:
                if done:
                    latencies.append(took)
                else:
                    rolled[0] += 1
                    claimed[0] -= 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - began, errors, rolled[0]


def summarise(name: str, latencies: list[float], seconds: float, clients: int,
              errors: list[str], rolled: int, numbers: list[int]) -> Result:
    counts: dict[int, int] = {}
    for number in numbers:
        counts[number] = counts.get(number, 0) + 1
    top = max(numbers, default=0)
    ms = [s * 1000 for s in latencies] or [0.0]
    return Result(
        name=name, allocations=len(latencies), clients=clients, seconds=round(seconds, 2),
        per_second=round(len(latencies) / seconds, 1) if seconds else 0.0,
        p50_ms=round(statistics.median(ms), 2), p95_ms=round(percentile(ms, 95), 2),
        p99_ms=round(percentile(ms, 99), 2), rolled_back=rolled,
        gaps=[n for n in range(1, top + 1) if n not in counts][:20],
        duplicates=sorted(n for n, c in counts.items() if c > 1)[:20], errors=errors[:5])


def kyso_run(url: str, total: int, clients: int) -> Result:
    """The product's own act: ``register_issue`` on a new document, one commit."""
    from sqlalchemy import func, select

    from documents import (
        Document,
        NumberBook,
        RegisterEntry,
        counter_value,
        create_engine_for,
        register_issue,
        session_factory,
        upgrade_database,
    )
    from tests.documents_fixtures import details, make_commune

    upgrade_database(url)
    engine = create_engine_for(url, pool_size=clients + 2, max_overflow=0)
    sessions = session_factory(engine)
    with sessions() as session:
        commune = make_commune(session)
        session.commit()

    def one(i: int) -> bool:
        with sessions() as session:
            document = Document(body_id=commune.body_id, unit_id=commune.units["VP"],
                                doc_type_code="quyet-dinh", subject=f"về việc thử tải số {i}")
            session.add(document)
            book = session.get_one(NumberBook, commune.book_id)
            register_issue(session, document, book, details())
            if i % ROLLBACK_EVERY == ROLLBACK_EVERY - 1:
                session.rollback()
                return False
            session.commit()
            return True

    try:
        latencies, seconds, errors, rolled = drive(total, clients, one)
        with sessions() as session:
            numbers = list(session.scalars(select(RegisterEntry.number).where(
                RegisterEntry.book_id == commune.book_id, RegisterEntry.year == YEAR)))
            bound = list(session.scalars(select(Document.number)))
            counter = counter_value(session, session.get_one(NumberBook, commune.book_id), YEAR)
            entries = session.scalar(select(func.count()).select_from(RegisterEntry))
    finally:
        engine.dispose()
    result = summarise("kyso register_issue", latencies, seconds, clients, errors, rolled,
                       numbers)
    if sorted(bound, key=lambda n: n or 0) != sorted(numbers) or None in bound:
        result.errors.append("the documents' numbers differ from the register's")
    if counter != len(numbers) or entries != len(numbers):
        result.errors.append(f"counter {counter}, {entries} entries, {len(numbers)} numbers")
    if len(numbers) != total:
        result.errors.append(f"{len(numbers)} numbers in the register, {total} expected")
    return result


def baseline_run(url: str, total: int, clients: int) -> Result:
    """A bare row-locked counter: UPDATE … RETURNING and one INSERT per commit."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, pool_size=clients + 2, max_overflow=0)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bare_counter (id int PRIMARY KEY, value int NOT NULL)"))
        conn.execute(text("CREATE TABLE bare_entry (number int NOT NULL, note text)"))
        conn.execute(text("INSERT INTO bare_counter VALUES (1, 0)"))

    def one(i: int) -> bool:
        with engine.connect() as conn:
            value = conn.execute(text(
                "UPDATE bare_counter SET value = value + 1 WHERE id = 1 RETURNING value"
            )).scalar_one()
            conn.execute(text("INSERT INTO bare_entry VALUES (:n, :s)"),
                         {"n": value, "s": f"số {i}"})
            if i % ROLLBACK_EVERY == ROLLBACK_EVERY - 1:
                conn.rollback()
                return False
            conn.commit()
            return True

    try:
        latencies, seconds, errors, rolled = drive(total, clients, one)
        with engine.connect() as conn:
            numbers = list(conn.execute(text("SELECT number FROM bare_entry")).scalars())
    finally:
        engine.dispose()
    return summarise("bare UPDATE … RETURNING", latencies, seconds, clients, errors, rolled,
                     numbers)


def table(rows: list[Result], baseline: Result | None) -> str:
    lines = [f"{'run':26} {'N':>6} {'clients':>7} {'s':>7} {'alloc/s':>8} {'p50':>7} "
             f"{'p95':>7} {'p99':>7} {'ratio':>6} {'gaps':>5} {'dups':>5} {'errors':>6}"]
    for row in rows:
        ratio = (f"{baseline.per_second / row.per_second:6.2f}"
                 if baseline and row.per_second else f"{'':6}")
        lines.append(f"{row.name[:26]:26} {row.allocations:6} {row.clients:7} {row.seconds:7.1f} "
                     f"{row.per_second:8.1f} {row.p50_ms:7.1f} {row.p95_ms:7.1f} "
                     f"{row.p99_ms:7.1f} {ratio} {len(row.gaps):5} {len(row.duplicates):5} "
                     f"{len(row.errors):6}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allocations", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="640 allocations (the test)")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", type=Path, help="where to write the results")
    args = parser.parse_args(argv)
    total = 640 if args.quick else args.allocations
    base = os.environ.get("KYSO_TEST_POSTGRES_URL", POSTGRES_DEFAULT)
    rows: list[Result] = []
    baseline = None
    with throwaway_postgres("kyso_bench_numbering", base) as url:
        rows.append(kyso_run(url, total, args.clients))
        if not args.no_baseline:
            baseline = baseline_run(url, total, args.clients)
    print(f"Numbering under load on PostgreSQL: {total} numbers, {args.clients} clients, "
          f"every {ROLLBACK_EVERY}th rolled back and given again "
          f"(ratio = baseline alloc/s ÷ Kyso's; latency in ms)")
    print(table(rows + ([baseline] if baseline else []), baseline))
    for row in rows + ([baseline] if baseline else []):
        for problem in (row.errors + [f"gap {n}" for n in row.gaps]
                        + [f"duplicate {n}" for n in row.duplicates]):
            print(f"  {row.name}: {problem}")
    result: dict[str, Any] = {"quick": args.quick, "kyso": asdict(rows[0]),
                              "baseline": asdict(baseline) if baseline else None}
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"JSON: {args.json}")
    kyso = rows[0]
    return 1 if kyso.errors or kyso.gaps or kyso.duplicates else 0


if __name__ == "__main__":
    sys.exit(main())
