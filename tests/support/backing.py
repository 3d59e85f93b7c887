"""Backing services a test owns, so it can restart them mid-work (issue 17, faults during
work): a private ``redis-server`` and a private PostgreSQL cluster on free ports, and a
TCP relay in front of a shared service (RabbitMQ) that drops every connection and refuses
new ones until it is brought back.

The shared Redis, RabbitMQ and PostgreSQL of the machine are never restarted."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from certs import free_port


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _absent(what: str) -> None:
    """Skip (or, in CI, fail) a test whose backing program is not installed."""
    if _in_ci():
        raise AssertionError(f"{what} is not installed (CI must have it)")
    pytest.skip(f"{what} is not installed")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _until(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in time: {what}")
        time.sleep(0.1)


class PrivateRedis:
    """``redis-server`` on a free loopback port, without persistence (a restart loses every
    message, the harshest case for the broker), killed and started again at will."""

    def __init__(self, root: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            _absent("redis-server")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.binary is not None
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root)], stdout=log,
            stderr=subprocess.STDOUT)
        _until(lambda: _listening(self.port), 20, "redis-server listens")

    def kill(self) -> None:
        """SIGKILL: every connection drops, the queued messages are gone."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()


@contextlib.contextmanager
def private_redis(root: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(root)
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        _absent("PostgreSQL server (/usr/lib/postgresql/*/bin/pg_ctl)")
    return found[-1].parent


class PrivatePostgres:
    """A PostgreSQL cluster made by ``initdb`` in a folder of its own, on a free port,
    trust authentication on loopback. PostgreSQL refuses to run as root: as root the
    cluster belongs to, and runs as, the ``postgres`` system user (``runuser``)."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        # not under pytest's tmp_path: its parents are private to root
        self.root = Path(tempfile.mkdtemp(prefix="kyso-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                _absent("runuser (to run PostgreSQL as the postgres user)")
            shutil.chown(self.root, "postgres", "postgres")
            self._prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._prefix, *args], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr

    def create(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "-A", "trust", "-E", "UTF8", "--locale", "C.UTF-8")

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode: str = "immediate") -> None:
        """``immediate``: the server is gone at once, as a crash (recovery at the start)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def remove(self) -> None:
        with contextlib.suppress(AssertionError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    cluster.create()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.remove()


class TcpRelay:
    """A loopback TCP port relaying every connection to ``target`` (host, port).

    :meth:`down` closes the listening socket and every relayed connection (the broker as
    seen when it crashes: connections reset, new ones refused); :meth:`up` listens on the
    same port again. With :meth:`drop_at`, it goes down by itself the moment a client
    sends ``marker`` for the ``count``-th time (that request cut off on its way).
    :meth:`stall` keeps every connection open and passes nothing more either way (a broker
    that hangs, or a network path that drops every packet: nothing is reset)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.seen = 0
        self.dropped = threading.Event()
        self._marker: bytes | None = None
        self._count = 0
        self._stalled = threading.Event()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def drop_at(self, marker: bytes, count: int) -> None:
        self._marker, self._count, self.seen = marker, count, 0
        self.dropped.clear()

    def _watch(self, data: bytes) -> bool:
        """True when ``data`` (client to server) is the one to cut off."""
        if self._marker is None:
            return False
        with self._lock:
            self.seen += data.count(self._marker)
            if self.seen < self._count:
                return False
            self._marker = None
        threading.Thread(target=self._drop, daemon=True).start()
        return True

    def stall(self) -> None:
        self._stalled.set()

    def _drop(self) -> None:
        self.down()
        self.dropped.set()

    def up(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, set()
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                # RST, not FIN: the peer sees the connection reset, as when a broker dies
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # down
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._open.update((client, server))
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        """``a`` is the client's side, ``b`` the target's."""
        pair = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select(list(pair), [], [], 1.0)
                with self._lock:
                    if a not in self._open:
                        return
                if self._stalled.is_set():
                    time.sleep(0.1)  # what was sent stays unread; the sockets stay open
                    continue
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is a and self._watch(data):
                        return  # cut off before it reaches the target
                    pair[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._open.discard(a)
                self._open.discard(b)
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()
