"""Timing shared by the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable


def measure(fn: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of ``runs`` calls, after one warm-up call (font parsing, the
    first OCSP/TSA connection)."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times
