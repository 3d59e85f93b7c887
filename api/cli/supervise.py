"""Keep a child process running: `kyso serve` starts its Celery worker (with beat) under a
:class:`Supervised`, which starts it again when it dies, however it dies (``kill -9``, an
out-of-memory kill, a crash), and logs each restart in one bilingual line.

A crash loop is bounded by a back-off: a process that ran less than ``stable_after``
seconds waits twice as long as the last time before its next start (``first_delay``,
doubled up to ``max_delay``); one that ran longer starts again after ``first_delay``."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable


def next_delay(previous: float | None, ran_for: float, *, first_delay: float,
               max_delay: float, stable_after: float) -> float:
    """Seconds to wait before the next start of a process that ran ``ran_for`` seconds
    after a wait of ``previous`` (None: it had not been restarted yet)."""
    if previous is None or ran_for >= stable_after:
        return first_delay
    return min(previous * 2, max_delay)


class Supervised:
    """``start()`` run again whenever the process it returned exits, until :meth:`stop`."""

    def __init__(self, name: str, start: Callable[[], subprocess.Popen[bytes]],
                 log: Callable[[str], None], *, first_delay: float = 1.0,
                 max_delay: float = 60.0, stable_after: float = 30.0) -> None:
        self.name, self._start, self._log = name, start, log
        self._first, self._max, self._stable = first_delay, max_delay, stable_after
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process = start()
        self.restarts = 0
        self._thread = threading.Thread(target=self._watch, name=f"supervise-{name}",
                                        daemon=True)
        self._thread.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def _watch(self) -> None:
        delay: float | None = None
        while True:
            started = time.monotonic()
            code = self._process.wait()
            if self._stopping.is_set():
                return
            delay = next_delay(delay, time.monotonic() - started, first_delay=self._first,
                               max_delay=self._max, stable_after=self._stable)
            self._log(f"{self.name} (pid {self._process.pid}) đã dừng (mã {code}), khởi động "
                      f"lại sau {delay:g} giây / {self.name} (pid {self._process.pid}) died "
                      f"(exit code {code}), restarting in {delay:g} s")
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._process = self._start()
                self.restarts += 1
            self._log(f"{self.name} đã khởi động lại (pid {self._process.pid}) / "
                      f"{self.name} restarted (pid {self._process.pid})")

    def stop(self, timeout: float = 10) -> None:
        """No more restarts; SIGTERM the process, SIGKILL it after ``timeout`` seconds."""
        with self._lock:
            self._stopping.set()
            process = self._process
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._thread.join(timeout=timeout)
