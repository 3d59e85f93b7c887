"""``kyso agent``: signs, on the official's own PC, what they approved in the service.

The USB token stays on the PC; only digests come and signatures go. One run:

1. log in to the service with the official's account and read the certificates
   registered for their signing authorities;
2. find that certificate on the token (public objects, no PIN yet) — a different
   certificate, an expired one or no token at all stops here with the reason;
3. hand the certificate to the service (it prepares each document for it);
4. wait for the digests of what the official approved, show what is about to be
   signed (title, pages, link to open it), ask the PIN ONCE for the batch;
5. sign the digests one by one on the token while earlier signatures are posted
   back in the background (the token is the only bottleneck), with a progress bar.

A token pulled out mid-batch stops cleanly: what was signed is posted and finished
by the service, the rest stays waiting for the next run; nothing is half-signed. A
wrong PIN is reported with the tries the token says are left and never retried. The
PIN is read from the prompt, given to the token's login and dropped; it is never
stored, logged or sent to the service.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import typer
from asn1crypto import pem, x509
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tokens import (
    DigestSigner,
    Pkcs11Config,
    Pkcs11Token,
    TokenError,
    TokenRemoved,
    find_certificate,
)

from . import settings
from .dialog import ask_secret, dialog_yes_no, input_mode
from .errors import (
    AgentError,
    BatchInterrupted,
    CertificateExpiredOnToken,
    CertificateNotOnToken,
    NotASigner,
    ServiceRefused,
    ServiceUnavailable,
)

#: How long a batch waits for the service to prepare more of its documents (seconds).
PREPARING_PATIENCE = 60.0


@dataclass
class Job:
    id: str
    batch: str
    subject: str
    type_name: str
    pages: int | None
    digest: bytes
    md_algorithm: str
    algorithm: str
    preview: str

    @classmethod
    def of(cls, data: dict[str, Any]) -> Job:
        return cls(data["id"], data["batch"], data["subject"], data["type_name"],
                   data.get("pages"),
                   bytes.fromhex(data["digest"]), data.get("md_algorithm") or "sha256",
                   data["algorithm"], data["preview"])


class ServiceClient:
    """The few calls the agent makes, with errors in the service's two languages."""

    def __init__(self, url: str, *, timeout: float = 70.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            answer = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(self.url, type(exc).__name__) from exc
        if answer.status_code >= 400:
            try:
                error = answer.json()["error"]
                raise ServiceRefused(error["vi"], error["en"])
            except (ValueError, KeyError, TypeError):
                raise ServiceRefused(f"HTTP {answer.status_code}",
                                     f"HTTP {answer.status_code}") from None
        return answer.json()

    def login(self, username: str, password: str) -> dict[str, Any]:
        me: dict[str, Any] = self._call("POST", "/api/v1/auth/login",
                                        json={"username": username, "password": password})
        self.http.headers["Authorization"] = f"Bearer {me['token']}"
        return me

    def register(self, cert: x509.Certificate, chain: list[x509.Certificate]) -> None:
        self._call("POST", "/api/v1/agent/certificate", json={
            "certificate_pem": pem.armor("CERTIFICATE", cert.dump()).decode(),
            "chain_pem": "".join(pem.armor("CERTIFICATE", c.dump()).decode() for c in chain)})

    def jobs(self, wait: float) -> tuple[list[Job], int]:
        answer = self._call("GET", "/api/v1/agent/jobs", params={"wait": wait})
        return [Job.of(j) for j in answer["jobs"]], int(answer["preparing"])

    def post(self, job: Job, value: bytes, algorithm: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call(
            "POST", f"/api/v1/agent/jobs/{job.id}/signature",
            json={"signature": base64.b64encode(value).decode(), "algorithm": algorithm})
        return answer


@dataclass
class Outcome:
    signed: list[str] = field(default_factory=list)
    total: int = 0


def _registered(me: dict[str, Any]) -> list[str]:
    return sorted({a["certificate_sha256"] for a in me.get("authorities", [])})


def _check_validity(cert: x509.Certificate, now: dt.datetime | None = None) -> None:
    validity = cert["tbs_certificate"]["validity"]
    start, end = validity["not_before"].native, validity["not_after"].native
    if not (start <= (now or dt.datetime.now(dt.UTC)) <= end):
        raise CertificateExpiredOnToken(str(cert.subject.native.get("common_name", "?")),
                                 f"{start:%d/%m/%Y} – {end:%d/%m/%Y}")


@dataclass
class Agent:
    """One official's agent: ``client`` logged in, the token found by ``module``."""

    client: ServiceClient
    module: str
    ask_pin: Callable[[], str]
    confirm: Callable[[list[Job]], bool]
    console: Console
    token_label: str | None = None
    token: Pkcs11Token | None = None
    cert_sha256: str = ""

    def connect(self, me: dict[str, Any]) -> x509.Certificate:
        """Find the registered certificate on the token and give it to the service."""
        registered = _registered(me)
        if not registered:
            raise NotASigner(me.get("username", "?"))
        found = find_certificate(self.module, set(registered), self.token_label)
        if found is None:
            from tokens import list_slots

            on_token = [c.sha256[:16] for s in list_slots(self.module)
                        if not self.token_label or s.token_label == self.token_label
                        for c in s.certificates]
            raise CertificateNotOnToken(registered, on_token)
        label, cert, others = found
        _check_validity(cert)
        self.cert_sha256 = hashlib.sha256(cert.dump()).hexdigest()
        self.token = Pkcs11Token(Pkcs11Config(name="agent", module=self.module,
                                              token_label=label, cert_sha256=self.cert_sha256))
        self.client.register(cert, [c for c in others if c.ca])
        return cert

    def show(self, jobs: list[Job]) -> None:
        table = Table(title=f"Sẽ ký {len(jobs)} văn bản / {len(jobs)} documents to sign")
        for column in ("#", "Trích yếu / subject", "Loại / type", "Trang / pages"):
            table.add_column(column)
        for n, job in enumerate(jobs, 1):
            table.add_row(str(n), job.subject, job.type_name, str(job.pages or "?"))
        self.console.print(table)
        self.console.print("Mở để xem trước khi ký / open to read before signing:")
        for n, job in enumerate(jobs, 1):  # whole links, never cut by the terminal's width
            self.console.print(f"  {n}. {self.client.url}{job.preview}", soft_wrap=True)

    def run(self, *, wait: float = 25.0, once: bool = False) -> Outcome:
        """Sign batches as they come; with ``once``, one batch (or none) and return."""
        outcome = Outcome()
        while True:
            jobs, preparing = self.client.jobs(wait)
            if not jobs:
                if once and not preparing:
                    return outcome
                continue
            self.show(jobs)
            if not self.confirm(jobs):
                self.console.print("Không ký. / Not signed.")
                return outcome
            self._sign_batch(jobs, outcome)
            if once:
                return outcome

    def _sign_batch(self, jobs: list[Job], outcome: Outcome) -> None:
        """Sign ``jobs`` — and the rest of their approval batches as the service finishes
        preparing them — in one token session: one PIN."""
        assert self.token is not None, "connect() first"
        pin = self.ask_pin()
        outcome.total += len(jobs)
        batches = {j.batch for j in jobs}
        posts: list[Future[dict[str, Any]]] = []
        with ThreadPoolExecutor(max_workers=2) as pool, \
                self._progress(len(jobs)) as (advance, grow):
            try:
                with self.token.digest_signer(pin) as signer:
                    del pin  # logged in: the PIN is not needed (nor kept) any more
                    seen = {j.id for j in jobs}
                    queue = list(jobs)
                    preparing, idle_until = 1, time.monotonic() + PREPARING_PATIENCE
                    while queue or (preparing and time.monotonic() < idle_until):
                        if not queue:  # the batch's others, prepared meanwhile
                            more, preparing = self.client.jobs(0)
                            queue = [j for j in more if j.id not in seen and j.batch in batches]
                            if not queue and preparing:
                                time.sleep(0.2)
                                continue
                            idle_until = time.monotonic() + PREPARING_PATIENCE
                            for job in queue:
                                self.console.print(f"  + {job.subject} ({job.pages or '?'} "
                                                   f"trang) {self.client.url}{job.preview}",
                                                   soft_wrap=True)
                            seen.update(j.id for j in queue)
                            outcome.total += len(queue)
                            grow(len(queue))
                            if not queue:
                                break
                        job = queue.pop(0)
                        posts.append(self._sign_one(pool, signer, job))
                        advance()
            except (TokenRemoved, TokenError, ServiceUnavailable) as exc:
                done = self._collect(posts, outcome)
                if isinstance(exc, (TokenRemoved, ServiceUnavailable)) or done:
                    raise BatchInterrupted(done, outcome.total, exc) from exc
                raise
        self._collect(posts, outcome)

    def _sign_one(self, pool: ThreadPoolExecutor, signer: DigestSigner,
                  job: Job) -> Future[dict[str, Any]]:
        raw = signer.sign_digest(job.digest, algorithm=job.algorithm,
                                 md_algorithm=job.md_algorithm)
        return pool.submit(self.client.post, job, raw.value, raw.algorithm)

    def _collect(self, posts: list[Future[dict[str, Any]]], outcome: Outcome) -> int:
        """Wait for every signature posted; how many the service took. The connection
        lost on the way stops the batch with that count (the others stay in the queue:
        their digests are signed again on the next run, nothing is signed twice)."""
        lost: ServiceUnavailable | None = None
        for post in posts:
            try:
                outcome.signed.append(post.result()["id"])
            except ServiceUnavailable as exc:
                lost = lost or exc
        if lost is not None:
            raise BatchInterrupted(len(outcome.signed), outcome.total, lost) from lost
        return len(outcome.signed)

    @contextmanager
    def _progress(self, total: int) -> Iterator[tuple[Callable[[], None],
                                                        Callable[[int], None]]]:
        with Progress(TextColumn("Đang ký / signing"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=self.console,
                      transient=False) as progress:
            task = progress.add_task("sign", total=total)
            size = [total]

            def advance() -> None:
                progress.advance(task)

            def grow(more: int) -> None:
                size[0] += more
                progress.update(task, total=size[0])

            yield advance, grow


PIN_PROMPT = "Mã PIN của USB token (không hiển thị) / token PIN: "


def ask_pin_from_prompt() -> str:
    """The PIN, typed at the terminal without echo, one line of standard input when the
    agent is driven by another program, or a masked dialog when it has no console."""
    return ask_secret(PIN_PROMPT)


def ask_to_go(console: Console, assume_yes: bool) -> Callable[[list[Job]], bool]:
    def confirm(jobs: list[Job]) -> bool:
        if assume_yes:
            return True
        if input_mode() == "dialog":
            return dialog_yes_no("Kyso Agent", f"Ký {len(jobs)} văn bản đã duyệt?")
        answer = console.input(f"Ký {len(jobs)} văn bản này? [c/k] (có/không) ")
        return answer.strip().lower() in ("c", "có", "y", "yes")

    return confirm


def run_agent(service_url: str, username: str, password: str, module: str, *,
              token_label: str | None, once: bool, assume_yes: bool, wait: float,
              console: Console, ask_pin: Callable[[], str] = ask_pin_from_prompt) -> Outcome:
    """The whole agent session (the ``kyso agent`` command without its option parsing)."""
    client = ServiceClient(service_url)
    me = client.login(username, password)
    agent = Agent(client, module, ask_pin, ask_to_go(console, assume_yes), console,
                  token_label=token_label)
    cert = agent.connect(me)
    console.print(f"Chứng thư / certificate: {cert.subject.human_friendly} "
                  f"(SHA-256 {agent.cert_sha256[:16]}…)")
    started = time.monotonic()
    outcome = agent.run(wait=wait, once=once)
    if outcome.total:
        console.print(f"Đã ký {len(outcome.signed)}/{outcome.total} văn bản trong "
                      f"{time.monotonic() - started:.1f} s / signed {len(outcome.signed)} of "
                      f"{outcome.total}")
    else:
        console.print("Không có văn bản nào chờ ký. / Nothing to sign.")
    return outcome


def agent(
    service: Annotated[str, typer.Option(
        "--service", help="Địa chỉ dịch vụ Kyso / service URL")] = "http://127.0.0.1:8000",
    user: Annotated[str, typer.Option(
        "--user", help="Tài khoản của người ký (mật khẩu: hỏi, hoặc KYSO_PASSWORD) / "
                       "the signer's account")] = "",
    module: Annotated[str | None, typer.Option(
        "--module", help="Thư viện PKCS#11 của USB token (mặc định: tìm ở các vị trí thường "
                         "gặp) / PKCS#11 module")] = None,
    token_label: Annotated[str | None, typer.Option(
        "--token-label", help="Nhãn token khi cắm nhiều token / token label")] = None,
    once: Annotated[bool, typer.Option(
        "--once", help="Ký một lô rồi thoát / sign one batch and exit")] = False,
    yes: Annotated[bool, typer.Option(
        "--yes", help="Không hỏi xác nhận trước khi ký / do not ask before signing")] = False,
    wait: Annotated[float, typer.Option(
        help="Giây chờ mỗi lần hỏi dịch vụ / seconds per poll")] = 25.0,
) -> None:
    """Ký trên USB token của mình những văn bản đã duyệt / sign approved documents on your
    USB token. Asks the PIN once per batch; only digests travel. Exit 0: done, 2: stopped
    (the reason says what to do)."""
    from tokens import common_module_paths, find_module

    if not user:
        raise typer.BadParameter("cần --user / --user is required")
    password = settings.password() or ask_secret(
        f"Mật khẩu của / password of '{user}': ")
    if module is None:
        found = find_module(common_module_paths())
        if found is None:
            raise AgentError("không tìm thấy thư viện PKCS#11 của USB token — chỉ rõ bằng "
                             "--module (xem kyso doctor)",
                             "no PKCS#11 module found — give it with --module (see kyso doctor)")
        module = found.path
    run_agent(service, user, password, module, token_label=token_label, once=once,
              assume_yes=yes, wait=wait, console=Console(highlight=False))


def main() -> None:
    """``kyso-agent``: the agent alone (its own distribution), errors as one bilingual
    line and the exit code; in a dialog too when there is no console."""
    from common import KysoError

    try:
        typer.run(agent)
    except KysoError as exc:
        if input_mode() == "dialog":
            _show_error(exc.vi)
        sys.stderr.write(exc.one_line() + "\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("Đã hủy / aborted\n")
        sys.exit(130)


def _show_error(text: str) -> None:
    try:
        import tkinter
        from tkinter import messagebox
    except ImportError:  # no window either: the log line must do
        return
    try:
        root = tkinter.Tk()
    except tkinter.TclError:
        return
    root.withdraw()
    messagebox.showerror("Kyso Agent", text, parent=root)
    root.destroy()
