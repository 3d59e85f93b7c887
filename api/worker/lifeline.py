"""A worker started by `kyso serve` does not outlive it (issue 17, supervision).

`kyso serve` gives its worker its own pid (``KYSO_SUPERVISOR_PID``) and has the kernel send
the worker SIGTERM when it dies (``PR_SET_PDEATHSIG``, :mod:`api.cli.serve`): Celery's warm
shutdown, which waits for the current task. A warm shutdown has no bound of its own: a task
or a broker that does not answer (a silent socket, a database being dropped) keeps it, and
the worker — reparented to init, its beat child with it — stays for good, consuming the
queues. The :class:`Lifeline` thread bounds it: once the supervisor is gone it starts the
warm shutdown itself (should the kernel's signal not have come), waits ``grace`` seconds,
then abandons the task and exits after killing its own children (the embedded beat, the
PDF isolation servers).

An abandoned task leaves nothing half-written: each runs in one transaction, which the
database rolls back when the connection drops; its message is not acknowledged
(``acks_late``), so the broker hands it out again, and its ledger row, still RUNNING, is
sent again by the reconciliation (:mod:`documents.background`).

The embedded beat child gets SIGKILL from the kernel when its worker dies
(:func:`die_with_parent`, on ``beat_embedded_init``): a worker killed with SIGKILL (out of
memory, the supervisor's last resort) leaves no beat behind to double the periodic tasks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

#: How often (seconds) the lifeline looks whether the supervisor is still there.
POLL = 0.5
#: The exit status of a worker that abandoned its task (EX_TEMPFAIL: try again later).
EX_ABANDONED = 75
#: Seconds the children get after SIGTERM before SIGKILL.
CHILDREN_GRACE = 2.0


def die_with_parent(sig: int, parent: int) -> None:
    """Have the kernel send ``sig`` to this process when its parent, ``parent`` (a pid),
    dies (Linux; a no-op elsewhere). A parent already gone (it died before the call, and
    the kernel will not send it) has ``sig`` sent at once."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, sig)
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)


def children() -> list[int]:
    """This process's child processes (Linux's /proc; none elsewhere)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path("/proc/self/task").iterdir():
            with contextlib.suppress(OSError):
                found.extend(int(pid) for pid in (task / "children").read_text().split())
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def kill_children(grace: float = CHILDREN_GRACE) -> None:
    """SIGTERM each child, SIGKILL those still there after ``grace`` seconds."""
    pids = children()
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


class Lifeline:
    """A daemon thread ending this process at most ``grace`` seconds after the death of
    ``supervisor`` (a pid), whatever its warm shutdown is waiting for; ``shutdown`` begins
    that warm shutdown (a no-op once begun)."""

    def __init__(self, supervisor: int, grace: float, shutdown: Callable[[], None], *,
                 poll: float = POLL) -> None:
        self.supervisor, self.grace, self.poll = supervisor, grace, poll
        self._shutdown = shutdown
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kyso-lifeline", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def orphaned(self) -> bool:
        return os.getppid() != self.supervisor

    def _run(self) -> None:
        while not self.orphaned():
            if self._stop.wait(self.poll):
                return
        log.warning("tiến trình giám sát (pid %d) đã dừng: worker dừng, tối đa %g giây cho "
                    "việc đang làm / the supervisor (pid %d) is gone: the worker stops, at "
                    "most %g s for its current task", self.supervisor, self.grace,
                    self.supervisor, self.grace)
        self._shutdown()  # should the kernel's SIGTERM not have come
        if self._stop.wait(self.grace):
            return  # stopped in time (the process is exiting)
        log.warning("worker chưa dừng sau %g giây: bỏ việc đang làm (sẽ được gửi lại) và "
                    "thoát / the worker did not stop in %g s: its current task is abandoned "
                    "(it will be sent again) and it exits", self.grace, self.grace)
        kill_children()
        logging.shutdown()
        os._exit(EX_ABANDONED)


__all__ = ["EX_ABANDONED", "Lifeline", "children", "die_with_parent", "kill_children"]
