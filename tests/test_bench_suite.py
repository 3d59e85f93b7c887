"""The benchmark suite runs (``--quick``: small N and files, no timing verdicts), so its
scripts cannot rot; the full run and its targets are docs/benchmarks.md's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_suite_measures_every_operation(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k != "SOFTHSM2_CONF"}
    done = subprocess.run([sys.executable, "-m", "bench.suite", "--quick", "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["quick"] is True and result["machine"]["cores"]
    rows = {row["operation"].split(",")[0].split(" (")[0]: row for row in result["rows"]}
    assert set(rows) >= {"approval signature", "issuing act", "verification",
                         "preparing a 12-page draft", "kyso sign",
                         "worker: kyso.sign_attachment"}
    for row in result["rows"]:
        assert row["median_ms"] > 0 and row["p95_ms"] >= row["median_ms"]
        assert row["baseline_ms"] > 0 and row["ratio"] > 0
        assert row["passed"] is None  # --quick gives no verdict
    assert all(row["floor_ms"] > 0 for row in result["rows"]
               if row["operation"].startswith(("approval", "issuing")))
    assert all(row["memory"]["kyso_mb"] > 0 for row in result["rows"]
               if row["operation"].startswith(("verification", "kyso sign", "worker")))
    assert "median" in done.stdout and "baseline" in done.stdout


def test_the_numbering_load_runs_without_gap_or_duplicate(tmp_path: Path) -> None:
    """bench/numbering_load.py --quick: 640 numbers from 32 clients on PostgreSQL (the
    10,000-number run and its figures are docs/reliability.md's)."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    base = os.environ.get("KYSO_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    try:
        create_engine(base, connect_args={"connect_timeout": 5}).connect().close()
    except OperationalError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL unreachable ({str(exc).splitlines()[0]})")
    out = tmp_path / "numbering.json"
    done = subprocess.run([sys.executable, "-m", "bench.numbering_load", "--quick",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    kyso = result["kyso"]
    assert kyso["allocations"] == 640 and kyso["clients"] == 32
    assert kyso["gaps"] == [] and kyso["duplicates"] == [] and kyso["errors"] == []
    assert kyso["rolled_back"] > 0 and kyso["per_second"] > 0
    assert 0 < kyso["p50_ms"] <= kyso["p95_ms"] <= kyso["p99_ms"]
    assert result["baseline"]["allocations"] == 640
    assert "alloc/s" in done.stdout


@pytest.mark.slow
def test_a_short_load_of_every_role_loses_nothing(tmp_path: Path) -> None:
    """bench/load.py for a few users and seconds (two APIs, two workers, PostgreSQL +
    Redis): every document routed under load is issued once, numbered without a gap, and
    its issued file is valid."""
    out = tmp_path / "load.json"
    env = {k: v for k, v in os.environ.items() if k != "SOFTHSM2_CONF"}
    done = subprocess.run([sys.executable, "bench/load.py", "--users", "4", "--minutes",
                           "0.5", "--think", "2", "--drain-minutes", "8", "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500,
                          check=False)
    if done.returncode and "Skipped: " in done.stderr:  # no PostgreSQL/Redis here (not CI)
        pytest.skip(done.stderr.rsplit("Skipped: ", 1)[1].strip())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    check = result["check"]
    assert check["documents"] > 0 and check["issued"] == check["documents"]
    assert not (check["not_issued"] or check["invalid_files"] or check["gaps"])
    assert check["duplicate_numbers"] == 0
    assert sum(row["errors"] for row in result["rows"]) == 0, result["rows"]
    assert "NOTHING LOST" in done.stdout


@pytest.mark.slow
def test_the_queue_bench_runs_one_and_two_workers(tmp_path: Path) -> None:
    """bench/queue_bench.py with a handful of documents on PostgreSQL + Redis, with one
    worker and then two: every document gets through every phase, and the table gives
    the rate of the whole life and the ratio of two workers to one."""
    env = {k: v for k, v in os.environ.items() if k != "SOFTHSM2_CONF"}
    done = subprocess.run([sys.executable, "bench/queue_bench.py", "--documents", "3",
                           "--profiles", "postgres-redis", "--workers", "1,2"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500,
                          check=False)
    if done.returncode and "Skipped: " in done.stderr:  # no PostgreSQL/Redis here (not CI)
        pytest.skip(done.stderr.rsplit("Skipped: ", 1)[1].strip())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [line.split() for line in done.stdout.splitlines()
            if line.startswith("postgres-redis")]
    assert [(r[1], r[2]) for r in rows if r[2] == "whole"] == [("1", "whole"), ("2", "whole")]
    two = [r for r in rows if r[1] == "2"]
    assert len(two) == 4 and all(float(r[-1]) > 0 for r in two)  # each phase's 2w/1w ratio
