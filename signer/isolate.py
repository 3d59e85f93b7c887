"""Run PDF work on untrusted files in a child process with a memory and a time limit.

Parsing and decoding are done by C++ (qpdf) and by pure-Python libraries (pdfminer,
pyHanko) that a crafted file may drive into endless loops or huge allocations. What
:mod:`signer.guard` cannot bound itself is bounded here: the work runs in a fresh
interpreter (``sys.executable -m signer.isolate``) that sets ``RLIMIT_AS`` (address
space) and ``RLIMIT_CPU`` on itself before importing anything heavy, and is killed when
it is not done in ``seconds``. A plain child process works everywhere Kyso runs: inside
uvicorn's threads and inside Celery's prefork workers, which are daemonic processes
where :mod:`multiprocessing` may not start children.

The parent sends ``(task, args)`` pickled on stdin; the child answers one pickled
``("ok", value)`` or ``("error", exception)`` on stdout. Only the tasks named in
:data:`TASKS` can be run, and the answer is unpickled with an allow-list of classes
(the child has handled hostile bytes; its answer is not trusted with arbitrary code).
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from certs.errors import KysoError

from .errors import PdfTooCostly, SignerError

#: task name → "module:function" (modules of this package only)
TASKS = {
    "inspect": "signer.guard:inspect_pdf",
    "check_draft": "signer.prepare:check_draft",
    "prepare": "signer.prepare:prepare_pdf",
}


@dataclass(frozen=True)
class ChildLimits:
    """What one child may use: address space (MiB) and wall-clock seconds."""

    memory_mb: int = 1024
    seconds: float = 60.0


class _Answer(pickle.Unpickler):
    """Unpickles only Kyso's own value classes and plain builtins."""

    _BUILTINS = {"tuple", "list", "dict", "set", "frozenset", "bytes", "bytearray", "str",
                 "int", "float", "bool", "complex", "object", "getattr"}

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in self._BUILTINS:
            return super().find_class(module, name)
        if module == "copyreg" and name in {"_reconstructor", "__newobj__"}:
            return super().find_class(module, name)
        if module.split(".")[0] in {"signer", "certs"}:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"refused class {module}.{name}")


class ChildFailed(SignerError):
    """The child answered nothing usable (a bug, not the file's fault)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"không xử lý được tệp PDF ({detail})",
                         f"the PDF could not be processed ({detail})")


def run_isolated(task: str, *args: Any, limits: ChildLimits = ChildLimits()) -> Any:
    """``TASKS[task](*args)`` in a child process within ``limits``; its result, or the
    ``KysoError`` it raised. Over the time limit: :class:`PdfTooCostly` ``time``; out of
    memory: ``memory``; the child died otherwise: ``crash``."""
    if task not in TASKS:
        raise ValueError(f"unknown isolated task {task!r}")
    command = [sys.executable, "-m", "signer.isolate", str(limits.memory_mb),
               str(int(limits.seconds) + 2)]
    try:
        done = subprocess.run(command, input=pickle.dumps((task, args)), capture_output=True,
                              timeout=limits.seconds, check=False, close_fds=True)
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed the child
        raise PdfTooCostly("time", f"{limits.seconds:g} s") from exc
    try:
        status, value = _Answer(io.BytesIO(done.stdout)).load()
    except Exception as exc:  # noqa: BLE001 - nothing (or garbage) came back
        if done.returncode in (-9, -24):  # SIGKILL / SIGXCPU: the CPU limit
            raise PdfTooCostly("time", f"{limits.seconds:g} s") from exc
        if b"MemoryError" in done.stderr or b"bad_alloc" in done.stderr:
            raise PdfTooCostly("memory", f"{limits.memory_mb} MB") from exc
        raise PdfTooCostly("crash", "") from exc
    if status == "ok":
        return value
    if status == "kyso":
        raise _rebuilt(*value)
    raise ChildFailed(str(value))


def _rebuilt(module: str, name: str, vi: str, en: str, extras: dict[str, Any]) -> KysoError:
    """The child's KysoError, rebuilt without calling its constructor (whose arguments
    differ from class to class)."""
    if module.split(".")[0] not in {"signer", "certs", "tokens"}:
        return ChildFailed(f"{module}.{name}")
    cls = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, KysoError)):
        return ChildFailed(f"{module}.{name}")
    error = cls.__new__(cls)
    KysoError.__init__(error, vi, en)
    error.__dict__.update(extras)
    return error


def _flat(exc: KysoError) -> tuple[str, str, str, str, dict[str, Any]]:
    extras = {k: v for k, v in vars(exc).items() if k not in {"vi", "en"}
              and isinstance(v, str | int | float | bool | None)}
    return type(exc).__module__, type(exc).__qualname__, exc.vi, exc.en, extras


def _child(memory_mb: int, cpu_seconds: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing the task prints may corrupt the answer
    try:
        task, args = pickle.loads(sys.stdin.buffer.read())
        module, function = TASKS[task].split(":")
        value = getattr(importlib.import_module(module), function)(*args)
        answer: tuple[str, Any] = ("ok", value)
    except MemoryError:
        answer = ("kyso", _flat(PdfTooCostly("memory", f"{memory_mb} MB")))
    except KysoError as exc:
        answer = ("kyso", _flat(exc))
    except RecursionError:
        from .errors import PdfHostile

        answer = ("kyso", _flat(PdfHostile("depth", "cấu trúc lồng nhau quá sâu",
                                           "structures nested too deeply")))
    except Exception as exc:  # noqa: BLE001 - reported to the parent as text
        answer = ("error", f"{type(exc).__name__}: {str(exc)[:200]}")
    try:
        data = pickle.dumps(answer)
    except Exception as exc:  # noqa: BLE001
        data = pickle.dumps(("error", f"unpicklable answer: {type(exc).__name__}"))
    out.write(data)
    out.flush()
    os._exit(0)  # no interpreter teardown: the answer is out


if __name__ == "__main__":
    _child(int(sys.argv[1]), int(sys.argv[2]))
