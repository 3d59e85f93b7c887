"""Timing shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


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


@dataclass(frozen=True)
class Paired:
    """Interleaved runs of an operation and its baseline (milliseconds each)."""

    times: tuple[float, ...]
    base: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        return percentile(self.times, 95)

    @property
    def base_median(self) -> float:
        return statistics.median(self.base)

    @property
    def ratio(self) -> float:
        """The median of the paired ratios (each run over the baseline run beside it)."""
        return statistics.median(t / b for t, b in zip(self.times, self.base, strict=True))


def percentile(values: tuple[float, ...] | list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def paired(fn: Callable[[], object], base: Callable[[], object], runs: int) -> Paired:
    """``runs`` pairs of calls after one warm-up of each, interleaved and alternating
    which goes first, so drift on a shared machine hits both alike."""
    fn()
    base()
    times: list[float] = []
    bases: list[float] = []
    for run in range(runs):
        order = ((fn, times), (base, bases)) if run % 2 == 0 else ((base, bases), (fn, times))
        for call, into in order:
            start = time.perf_counter()
            call()
            into.append((time.perf_counter() - start) * 1000)
    return Paired(tuple(times), tuple(bases))
