"""`kyso doctor`: why an official cannot sign, as a table of checks with what to do next.

Wires :mod:`tokens.diagnose` from the command line: the module and token to look
at, the data directory's trust store, the service to reach and, with ``--user``,
the certificates the service has registered for that person. Prints ✓ / ✗ / –
with the next step in Vietnamese (``--lang en`` for English) or JSON; exits 0
when no check failed, 2 otherwise. The PIN is never asked for: nothing logs in
to the token.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from tokens import Check, DoctorConfig, passed, run_checks

from ..datadir import DataDir, resolve
from ..environment import ENVIRONMENT
from .operations import pki_services

DEFAULT_SERVICE = "http://127.0.0.1:8000"
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class ServiceLoginFailed(Exception):
    """The service refused the login (or could not be asked)."""


#: what asking the service can raise: no answer, an HTTP error status, an unreadable answer
_FAILED = (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError)


def _request(url: str, *, body: dict[str, Any] | None = None, bearer: str | None = None,
             timeout: float) -> Any:
    """The JSON answer of a GET (or a POST of ``body``); raises one of :data:`_FAILED`."""
    headers = {"Accept": "application/json", "User-Agent": "kyso-doctor"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    response = httpx.request("GET" if body is None else "POST", url, json=body, headers=headers,
                             timeout=timeout, follow_redirects=True)
    response.raise_for_status()
    return response.json()


def _why(exc: Exception) -> str:
    """An HTTP error status as its code (``401``), anything else as its message."""
    if isinstance(exc, httpx.HTTPStatusError):
        return str(exc.response.status_code)
    return str(exc)


def certificate_fingerprints(document: Any) -> set[str]:
    """Every SHA-256 fingerprint under a key naming ``sha256`` anywhere in a JSON document."""
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, str) and "sha256" in key.lower() and _SHA256.match(node):
            found.add(node.lower())

    walk(document)
    return found


def registered_certificates(service_url: str, username: str, password: str, *,
                            timeout: float = 5.0) -> set[str]:
    """Log in, read ``/api/v1/auth/me`` and return the certificate SHA-256s it lists.

    The session token is revoked again (logout) before returning; the password is
    only sent to the service's login route.
    """
    base = service_url.rstrip("/")
    try:
        login = _request(f"{base}/api/v1/auth/login",
                         body={"username": username, "password": password}, timeout=timeout)
    except _FAILED as exc:
        raise ServiceLoginFailed(_why(exc)) from exc
    secret = login.get("token") if isinstance(login, dict) else None
    if not isinstance(secret, str):
        raise ServiceLoginFailed("no token in the login answer")
    try:
        me = _request(f"{base}/api/v1/auth/me", bearer=secret, timeout=timeout)
    except _FAILED as exc:
        raise ServiceLoginFailed(_why(exc)) from exc
    finally:
        with contextlib.suppress(*_FAILED):
            _request(f"{base}/api/v1/auth/logout", body={}, bearer=secret, timeout=timeout)
    return certificate_fingerprints(me)


def _module_from_settings(data: DataDir, token_label: str | None) -> str | None:
    """The module of the configured PKCS#11 token with that label (or of the only one)."""
    entries = [e for e in data.token_settings().values() if e.get("backend") == "pkcs11"]
    if token_label is not None:
        entries = [e for e in entries if e.get("token_label") == token_label]
    modules = {str(e["module"]) for e in entries if e.get("module")}
    return modules.pop() if len(modules) == 1 else None


def _replace_registered(checks: list[Check], check: Check) -> list[Check]:
    return [check if c.name == "registered" else c for c in checks]


def diagnose(data: DataDir, *, module: str | None, token_label: str | None,
             service_url: str | None, user: str | None, password: str | None,
             expect: Iterable[str]) -> list[Check]:
    """Run every check for the person at this PC; the service is asked when ``user`` is given."""
    registered: set[str] = {e.lower().replace(":", "") for e in expect}
    login_problem: Check | None = None
    listed_none = False
    if user and service_url:
        try:
            found = registered_certificates(service_url, user, password or "")
        except ServiceLoginFailed as exc:
            login_problem = Check(
                "registered", False,
                f"Không đăng nhập được dịch vụ với tài khoản '{user}'",
                f"Cannot log in to the service as '{user}'",
                "Kiểm tra tên đăng nhập, mật khẩu và địa chỉ dịch vụ; nếu quên mật khẩu, "
                "liên hệ quản trị",
                "Check the user name, password and service address; if the password is "
                "forgotten, ask the administrator", str(exc))
        else:
            listed_none = not found
            registered |= found
    data.activate_softhsm()
    config = DoctorConfig(
        module=module or _module_from_settings(data, token_label),
        token_label=token_label,
        trust=data.trust_store(),
        service_url=service_url,
        registered=registered or None,
    )
    with pki_services(data):
        checks = run_checks(config)
    current = next(c for c in checks if c.name == "registered")
    if login_problem is not None and current.ok is not False:
        checks = _replace_registered(checks, login_problem)
    elif listed_none and not registered and current.ok is None:
        checks = _replace_registered(checks, replace(
            current,
            vi="Bỏ qua: dịch vụ chưa cho biết chứng thư đã đăng ký; dùng --expect-cert SHA256",
            en="Skipped: the service does not list registered certificates; "
               "use --expect-cert SHA256"))
    return checks


_MARK = {True: "[green]✓[/green]", False: "[red]✗[/red]", None: "[dim]–[/dim]"}


def render(checks: list[Check], lang: str = "vi", console: Console | None = None) -> None:
    """The checks as a table: mark, check, what was found (and details), what to do next."""
    console = console or Console(highlight=False)
    en = lang == "en"
    table = Table(title="Kyso doctor — kiểm tra thiết bị ký số" if not en
                  else "Kyso doctor — token diagnostics", show_lines=True)
    table.add_column("")
    table.add_column("Check" if en else "Kiểm tra")
    table.add_column("Result" if en else "Kết quả", overflow="fold")  # fingerprints whole
    table.add_column("Next step" if en else "Việc cần làm", overflow="fold")
    for check in checks:
        mark = "[yellow]![/yellow]" if check.ok and check.warning else _MARK[check.ok]
        found = check.en if en else check.vi
        if check.detail:
            found += f"\n[dim]{check.detail}[/dim]"
        table.add_row(mark, check.title_en if en else check.title_vi, found,
                      check.next_step_en if en else check.next_step_vi)
    console.print(table)
    if passed(checks):
        console.print("All checks passed." if en else "Mọi kiểm tra đều đạt.")
    else:
        console.print("Some checks failed: do the next steps above, then run kyso doctor again."
                      if en else "Có kiểm tra không đạt: làm theo cột “Việc cần làm” rồi chạy "
                      "lại kyso doctor.")


def to_json(checks: list[Check]) -> str:
    doc = {"passed": passed(checks),
           "checks": [{**asdict(c), "title_vi": c.title_vi, "title_en": c.title_en}
                      for c in checks]}
    return json.dumps(doc, ensure_ascii=False, indent=2)


def doctor(
    ctx: typer.Context,
    module: Annotated[str | None, typer.Option(
        "--module", help="Thư viện PKCS#11 của token (mặc định: tìm ở các vị trí thường gặp) "
                         "/ PKCS#11 module path")] = None,
    token_label: Annotated[str | None, typer.Option(
        "--token-label", help="Nhãn token / token label")] = None,
    service: Annotated[str, typer.Option(
        "--service", help="Địa chỉ dịch vụ Kyso / service URL")] = DEFAULT_SERVICE,
    user: Annotated[str | None, typer.Option(
        "--user", help="Tài khoản để đọc chứng thư đã đăng ký (mật khẩu: hỏi, hoặc "
                       "KYSO_PASSWORD) / account to read the registered certificate")] = None,
    expect_cert: Annotated[list[str] | None, typer.Option(
        "--expect-cert", help="SHA-256 của chứng thư đã đăng ký (lặp lại được) / "
                              "registered certificate SHA-256 (repeatable)")] = None,
    body: Annotated[str | None, typer.Option(
        "--body", help="Kiểm tra máy chủ đã sẵn sàng cho cơ quan này ban hành chưa (trên máy "
                       "chủ Kyso) / is this server ready for the body to issue")] = None,
    lang: Annotated[str, typer.Option("--lang", help="vi | en")] = "vi",
    as_json: Annotated[bool, typer.Option("--json", help="In JSON / JSON output")] = False,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", envvar="KYSO_DATA_DIR", help="Thư mục dữ liệu / data directory")] = None,
) -> None:
    """Kiểm tra vì sao không ký được: token, chứng thư, PIN, mạng, đồng hồ / diagnose signing.

    Checks the PKCS#11 module, the token, its PIN flags, the certificate (expiry, trust,
    revocation), the service, the clock and the registered certificate; each failed check
    says what to do next. Exit 0: nothing failed, 2: something failed. Never asks the PIN.
    """
    parent = ctx.parent.params.get("data_dir") if ctx.parent is not None else None
    data = DataDir(resolve(data_dir or parent)).create()
    if body is not None:
        from .ready import body_checklist, render_checklist

        ready = render_checklist(body_checklist(data, body), lang, as_json, Console())
        raise typer.Exit(0 if ready else 2)
    password = None
    if user:
        password = ENVIRONMENT.password()
        if password is None:
            password = typer.prompt(f"Mật khẩu của / password of '{user}'", hide_input=True)
    checks = diagnose(data, module=module, token_label=token_label, service_url=service or None,
                      user=user, password=password, expect=expect_cert or [])
    if as_json:
        sys.stdout.write(to_json(checks) + "\n")
    else:
        render(checks, "en" if lang == "en" else "vi")
    raise typer.Exit(0 if passed(checks) else 2)
