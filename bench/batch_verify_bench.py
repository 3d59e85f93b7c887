"""Batch verification throughput: 1,000 signed files, 1 worker vs 2 (or more) workers.

    .venv/bin/python bench/batch_verify_bench.py [--files 1000] [--distinct 20] [--workers 1,2]
                                                  [--fresh]

Builds a throwaway demo commune, signs ``--distinct`` documents (PAdES B-T, demo TSA,
two signers, the drafts under tests/data), copies them under different names up to
``--files``, then runs :func:`api.cli.batch_verify.run_batch` as ``kyso verify DIR --out``
does (per-file JSON + HTML reports, summary CSV/XLSX) once per worker count. Each run
has its own output folder; the wall time includes starting the worker processes.
The demo TSA/OCSP/CRL are served by this (driver) process, as ``kyso verify`` does;
the workers only verify. ``--fresh`` also runs every worker count with
``share_fetches=False`` (every signature fetches its OCSP response and CRL again, as
Kyso did before the per-worker cache).
Prints files, workers, wall time, ms per file, files/s and the ratio to 1 worker
(and to the same worker count without the cache).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DRAFTS = Path(__file__).resolve().parent.parent / "tests" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--distinct", type=int, default=20)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--fresh", action="store_true",
                        help="also run without the per-worker fetch cache")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="kyso-batch-bench-"))
    os.environ["SOFTHSM2_CONF"] = str(root / "data" / "softhsm" / "softhsm2.conf")

    from api.cli.batch_verify import collect, run_batch, write_summary
    from api.cli.operations import DEMO_BOX, sign_document
    from api.datadir import DataDir
    from api.demo.demo import DEMO_PIN, provision, token_settings
    from certs import serving

    try:
        data = DataDir(root / "data").create()
        commune = provision(data.softhsm, data.pki)
        data.save_token_settings(token_settings(commune))
        drafts = [(files("api") / "demo" / "assets" / "sample-quyet-dinh.pdf").read_bytes()]
        drafts += [p.read_bytes() for p in sorted((DRAFTS / "drafts").glob("*.pdf"))]
        folder = root / "in"
        folder.mkdir()
        with serving(commune.pki):
            start = time.perf_counter()
            signed = []
            for i in range(args.distinct):
                token = ("chu-tich", "pho-chu-tich")[i % 2]
                signed.append(sign_document(data, drafts[i % len(drafts)], token, DEMO_PIN,
                                            pki=commune.pki, box=DEMO_BOX, page=0))
            print(f"signed {len(signed)} distinct documents in "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
            for n in range(args.files):
                (folder / f"van-ban-{n:04}.pdf").write_bytes(signed[n % len(signed)])
            items = collect([folder])

            results = []
            modes = [True, False] if args.fresh else [True]
            for shared in modes:
                for workers in (int(w) for w in args.workers.split(",")):
                    out = root / f"out-{workers}-{'shared' if shared else 'fresh'}"
                    start = time.perf_counter()
                    rows = run_batch(items, data, out=out, workers=workers,
                                     share_fetches=shared)
                    write_summary(out, rows)
                    wall = time.perf_counter() - start
                    valid = sum(r.verdict == "valid" for r in rows)
                    pids = len({r.worker_pid for r in rows})
                    assert valid == len(items), f"{len(items) - valid} files not valid"
                    assert os.getpid() not in {r.worker_pid for r in rows}
                    results.append((len(items), workers, shared, pids, wall))
                    print(f"  {workers} worker(s), {'cache' if shared else 'no cache'}: "
                          f"{wall:.1f} s", flush=True)

        def base(shared: bool) -> float:
            return next((wall for _, w, s, _, wall in results if w == 1 and s == shared),
                        results[0][4])

        print(f"\ncores: {os.cpu_count()}")
        print(f"{'files':>6} {'workers':>8} {'fetch cache':>12} {'pids':>5} {'wall s':>8} "
              f"{'ms/file':>8} {'files/s':>8} {'vs 1 worker':>12} {'vs no cache':>12}")
        for count, workers, shared, pids, wall in results:
            fresh = next((w2 for _, w, s, _, w2 in results if w == workers and not s), None)
            gain = f"{fresh / wall:>11.2f}×" if shared and fresh else f"{'':>12}"
            print(f"{count:>6} {workers:>8} {'yes' if shared else 'no':>12} {pids:>5} "
                  f"{wall:>8.1f} {wall * 1000 / count:>8.1f} {count / wall:>8.1f} "
                  f"{base(shared) / wall:>11.2f}× {gain}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
