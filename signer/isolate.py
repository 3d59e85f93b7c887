"""Run PDF work on untrusted files in a child process with a memory and a time limit.

Parsing and decoding are done by C++ (qpdf) and by pure-Python libraries (pdfminer,
pyHanko) that a crafted file may drive into endless loops or huge allocations. What
:mod:`signer.guard` cannot bound itself is bounded here: the work runs in a child
process that sets ``RLIMIT_AS`` (address space) and ``RLIMIT_CPU`` on itself before it
touches the file: a file is refused for what it costs, its CPU time over ``seconds``.
A child still not done after :data:`WALL_FACTOR` times ``seconds`` of wall-clock time
(one waiting without computing) is killed too; on a loaded machine, where a file's
seconds of CPU take longer to come, a legitimate file is not refused for the load.

How: each calling process starts (lazily, one per concurrent call) an *isolation
server* (:func:`_serve`, run by ``sys.executable -c``), a plain subprocess — which works
everywhere Kyso runs: in uvicorn's threads and in Celery's prefork workers, daemonic
processes where :mod:`multiprocessing` may not start children. The server imports the
PDF libraries once and forks a fresh child per task (a few milliseconds instead of the
half second a new interpreter needs to import them). Requests and answers are
length-prefixed pickles on the server's stdin/stdout (the server's first frame says it
has imported the libraries: its start is not charged to the first file); the child answers ``("ok",
value)``, ``("kyso", error fields)`` or ``("error", text)``; the server adds ``("time",
_)`` when it killed the child at the deadline and ``("died", _)`` when the child died
without answering. Only the tasks named in :data:`TASKS` can be run, and the answer is
unpickled with an allow-list of classes (the child has handled hostile bytes; its
answer is not trusted with arbitrary code). A server whose parent exits sees EOF and
exits too.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from common import KysoError

from .errors import ChildFailed, PdfHostile, PdfTooCostly, PdfWorkBusy

#: task name → "module:function" (modules of this package only)
TASKS = {
    "inspect": "signer.guard:inspect_pdf",
    "check_draft": "signer.prepare:check_draft",
    "prepare": "signer.prepare:prepare_pdf",
    "verify": "signer.verify:verify_file",
}


@dataclass(frozen=True)
class ChildLimits:
    """What one child may use: address space (MiB) and seconds of CPU time (of wall-clock
    time: :data:`WALL_FACTOR` times as many)."""

    memory_mb: int = 1024
    seconds: float = 60.0


class _Answer(pickle.Unpickler):
    """Unpickles only Kyso's own value classes and plain builtins."""

    _BUILTINS = {"tuple", "list", "dict", "set", "frozenset", "bytes", "bytearray", "str",
                 "int", "float", "bool", "complex", "object", "getattr"}

    def find_class(self, module: str, name: str) -> object:
        if module == "builtins" and name in self._BUILTINS:
            return super().find_class(module, name)
        if module == "copyreg" and name in {"_reconstructor", "__newobj__"}:
            return super().find_class(module, name)
        if module.split(".")[0] in {"common", "certs", "signer"}:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"refused class {module}.{name}")


_SERVE = "from signer.isolate import _serve; _serve()"


class _Server:
    """A warm helper process (:func:`_serve`) that has imported the
    PDF libraries once and forks one fresh child per task: the child sets its limits,
    runs the task and writes its answer; the server kills it at the deadline. Forking a
    warm process costs milliseconds where a new interpreter costs half a second."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVE],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     close_fds=True)
        self.ready = False

    def call(self, request: bytes, seconds: float) -> bytes:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if not self.ready:  # its start is the server's cost, not the first file's
            if _read_frame(self.proc.stdout.fileno(), STARTUP_SECONDS) != READY:
                raise OSError("the isolation server did not start")
            self.ready = True
        self.proc.stdin.write(len(request).to_bytes(8, "big") + request)
        self.proc.stdin.flush()
        reply = _read_frame(self.proc.stdout.fileno(), seconds)
        if reply is None:
            raise OSError("the isolation server did not answer")
        return reply

    def close(self) -> None:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(5)


_idle: list[_Server] = []
_lock = threading.Lock()
#: Isolation servers one process runs at most (each ~60 MB); more concurrent calls wait,
#: as long as one file may take, then are told the server is busy (:class:`PdfWorkBusy`).
MAX_SERVERS = 4
#: The wall-clock backstop, in multiples of a task's CPU seconds.
WALL_FACTOR = 2
#: Seconds a new isolation server may take to import the PDF libraries (seconds on a
#: loaded machine), before its first task's own time starts; and the frame it then sends.
STARTUP_SECONDS = 180.0
READY = b"ready"
#: Seconds the server's answer may come after its child's wall-clock bound.
REPLY_GRACE = 10.0
_slots = threading.BoundedSemaphore(MAX_SERVERS)


def _take() -> _Server:
    with _lock:
        while _idle:
            server = _idle.pop()
            if server.pid == os.getpid() and server.proc.poll() is None:
                return server
            # inherited through a fork (Celery's prefork) or dead: never shared
    return _Server()


def _give_back(server: _Server) -> None:
    with _lock:
        _idle.append(server)


def run_isolated(task: str, *args: object, limits: ChildLimits = ChildLimits()) -> Any:
    """``TASKS[task](*args)`` in a child process within ``limits``; its result, or the
    ``KysoError`` it raised. Over the time limit: :class:`PdfTooCostly` ``time``; out of
    memory: ``memory``; the child died otherwise: ``crash``."""
    if task not in TASKS:
        raise ValueError(f"unknown isolated task {task!r}")
    request = pickle.dumps((task, args, limits.memory_mb, limits.seconds))
    if not _slots.acquire(timeout=limits.seconds):
        raise PdfWorkBusy(f"{limits.seconds:g} s")  # every server busy that long
    try:
        server = _take()
        try:
            reply = server.call(request, limits.seconds * WALL_FACTOR + REPLY_GRACE)
        except (OSError, ValueError) as exc:  # a broken pipe, a closed or dead server
            server.close()
            raise ChildFailed(f"isolation server: {type(exc).__name__}") from exc
        _give_back(server)
    finally:
        _slots.release()
    try:
        status, value = _Answer(io.BytesIO(reply)).load()
    except Exception as exc:  # the isolating child's boundary: whatever garbage came back
        # from the child that read an untrusted file is its crash
        raise PdfTooCostly("crash", "") from exc
    if status == "ok":
        return value
    if status == "kyso":
        raise _rebuilt(*value)
    if status == "time":
        raise PdfTooCostly("time", f"{limits.seconds:g} s")
    if status == "died":
        raise PdfTooCostly("crash", "")
    raise ChildFailed(str(value))


#: The plain attributes of an error that cross the process boundary with it.
_Extras = dict[str, str | int | float | bool | None]


def _rebuilt(module: str, name: str, vi: str, en: str, extras: _Extras) -> KysoError:
    """The child's KysoError, rebuilt without calling its constructor (whose arguments
    differ from class to class)."""
    if module.split(".")[0] not in {"common", "certs", "tokens", "signer"}:
        return ChildFailed(f"{module}.{name}")
    cls = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, KysoError)):
        return ChildFailed(f"{module}.{name}")
    error = cls.__new__(cls)
    KysoError.__init__(error, vi, en)
    error.__dict__.update(extras)
    return error


def _flat(exc: KysoError) -> tuple[str, str, str, str, _Extras]:
    extras: _Extras = {k: v for k, v in vars(exc).items() if k not in {"vi", "en"}
              and isinstance(v, str | int | float | bool | None)}
    return type(exc).__module__, type(exc).__qualname__, exc.vi, exc.en, extras


def _read_frame(fd: int, seconds: float | None) -> bytes | None:
    """One length-prefixed frame from ``fd`` within ``seconds`` (None: EOF or too late)."""
    deadline = time.monotonic() + seconds if seconds is not None else None
    header = _read_exactly(fd, 8, deadline)
    if header is None:
        return None
    return _read_exactly(fd, int.from_bytes(header, "big"), deadline)


def _read_exactly(fd: int, count: int, deadline: float | None) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < count:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
        chunk = os.read(fd, min(count - len(chunks), 1 << 20))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _near_limit(memory_mb: int) -> bool:
    """Whether this process came close to its address-space limit (an allocation that
    failed inside qpdf surfaces as one of its errors, not as MemoryError)."""
    try:
        status = open("/proc/self/status").read()  # noqa: SIM115
        peak_kb = int(status.split("VmPeak:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        return False
    return peak_kb * 1024 >= 0.9 * memory_mb * 1024 * 1024


def _run_task(task: str, args: tuple[object, ...], memory_mb: int) -> tuple[str, object]:
    answer = _attempt(task, args, memory_mb)
    if answer[0] != "ok" and _near_limit(memory_mb):
        return "kyso", _flat(PdfTooCostly("memory", f"{memory_mb} MB"))
    return answer


def _attempt(task: str, args: tuple[object, ...], memory_mb: int) -> tuple[str, object]:
    try:
        module, function = TASKS[task].split(":")
        return "ok", getattr(importlib.import_module(module), function)(*args)
    except MemoryError:
        return "kyso", _flat(PdfTooCostly("memory", f"{memory_mb} MB"))
    except KysoError as exc:
        return "kyso", _flat(exc)
    except RecursionError:
        return "kyso", _flat(PdfHostile("depth", "cấu trúc lồng nhau quá sâu",
                                        "structures nested too deeply"))
    except Exception as exc:  # noqa: BLE001 - the isolating child's boundary: reported to
        # the parent as text, which raises it there as ChildFailed
        return "error", f"{type(exc).__name__}: {str(exc)[:200]}"


def _fork_one(request: bytes) -> bytes:
    """Run one request in a forked child with its limits; the pickled answer."""
    import resource
    import signal

    task, args, memory_mb, seconds = pickle.loads(request)
    cpu = int(seconds) + 2
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: limits first, then the untrusted work
        os.close(read_end)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)
            # SIGXCPU at the soft limit (the hard one, a second later, would be SIGKILL)
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            answer = _run_task(task, args, memory_mb)
            try:
                data = pickle.dumps(answer)
            except Exception as exc:  # noqa: BLE001 - the isolating child's boundary: any
                # answer that cannot be pickled is reported as such
                data = pickle.dumps(("error", f"unpicklable answer: {type(exc).__name__}"))
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view):]
        finally:
            os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + seconds * WALL_FACTOR
    chunks = bytearray()
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read_end], [], [], left)[0]:
            timed_out = True
            break
        chunk = os.read(read_end, 1 << 20)
        if not chunk:
            break
        chunks += chunk
    os.close(read_end)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    over_cpu = usage.ru_utime + usage.ru_stime >= cpu
    if timed_out or os.WIFSIGNALED(status) and (
            os.WTERMSIG(status) == signal.SIGXCPU or over_cpu):
        return pickle.dumps(("time", None))
    if not chunks:
        return pickle.dumps(("died", os.WTERMSIG(status) if os.WIFSIGNALED(status) else
                             os.WEXITSTATUS(status)))
    return bytes(chunks)


#: Imported by the server once, so that no child spends its time limit importing them
#: (the validator's modules are imported lazily by pyHanko: seconds on a loaded machine).
_PRELOAD = ("pikepdf", "pdfminer.pdfinterp", "pdfminer.high_level", "pdfminer.converter",
            "pyhanko.sign.fields", "pyhanko.sign.validation", "pyhanko.sign.validation.dss",
            "pyhanko.sign.validation.pdf_embedded", "pyhanko.sign.diff_analysis",
            "pyhanko_certvalidator", "pyhanko_certvalidator.fetchers.requests_fetchers",
            "pyhanko.pdf_utils.reader", "pyhanko.pdf_utils.incremental_writer", "requests",
            "asn1crypto.ocsp", "asn1crypto.crl", "asn1crypto.tsp", "certs.validation")


def _serve() -> None:
    """The isolation server: preload the libraries, then one forked child per request,
    until the parent closes stdin."""
    for target in TASKS.values():
        importlib.import_module(target.split(":")[0])
    for module in _PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)

    source, sink = sys.stdin.buffer.fileno(), sys.stdout.buffer.fileno()
    sys.stdout = sys.stderr  # nothing printed may corrupt the frames
    _write_frame(sink, READY)
    while True:
        request = _read_frame(source, None)
        if request is None:
            return
        _write_frame(sink, _fork_one(request))


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        view = view[os.write(fd, view):]

