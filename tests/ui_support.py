"""Playwright with Debian's chromium, for the browser tests of the web pages.

Nothing is downloaded: Playwright's own browsers are never installed; the chromium of
Debian's ``chromium`` package is launched through ``executable_path``. Without it the
tests skip — except under ``CI=true``, where a missing browser fails them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("KYSO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--lang=vi-VN"]
#: The screen the user guide's screenshots are taken at.
VIEWPORT = {"width": 1366, "height": 768}
#: A phone's screen, to show the pages' narrow layout.
PHONE = {"width": 390, "height": 844}
GUIDE_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "user-guide" / "img"
#: ms: how long a page's condition may take to come true (a response, a row, a status)
#: while other test runs load the machine; waits end as soon as it holds.
WAIT = 90_000


def require_browser() -> None:
    """Skip (or, under CI=true, fail) when Playwright or chromium is missing."""
    in_ci = os.environ.get("CI") == "true"
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package playwright is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        problems.append(f"chromium is not at {CHROMIUM} (apt-get install -y chromium)")
    if problems:
        if in_ci:
            pytest.fail("browser tests cannot run: " + "; ".join(problems))
        pytest.skip("browser tests skipped: " + "; ".join(problems))


@contextmanager
def browser() -> Iterator[Any]:
    """A headless chromium (Debian's), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def new_page(launched: Any, base_url: str, **options: Any) -> Any:
    """A fresh context (its own cookies) and page at the guide's screen size (or the
    ``viewport`` given, e.g. :data:`PHONE`), Vietnamese."""
    options = {"viewport": VIEWPORT, "locale": "vi-VN", "accept_downloads": True, **options}
    context = launched.new_context(base_url=base_url, **options)
    # every wait is on a condition; this only bounds it, for a loaded 2-core machine
    context.set_default_timeout(WAIT)
    return context.new_page()


def login(page: Any, username: str, password: str | None = None) -> None:
    page.goto("/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password or f"{username}-demo")
    page.get_by_role("button", name="Đăng nhập").click()
    # signed in when the role's page (after the redirects) shows the logout button; the
    # load state of the login page itself says nothing of the navigation under way
    page.wait_for_url(lambda url: "/dang-nhap" not in url)
    page.get_by_role("button", name="Đăng xuất").wait_for()


def upload_and_route(page: Any, draft: Path, subject: str, signer: str,
                     timeout: float = 120_000) -> str:
    """On the drafter's page: upload ``draft`` routed to ``signer``, then wait until the
    new document is listed (the list is refreshed after the upload's answer); its id."""
    page.goto("/chuyen-vien")
    before = page.locator("#documents article").evaluate_all("a => a.map(i => i.id)")
    page.set_input_files("#upload-file", str(draft))
    page.fill("#upload-subject", subject)
    page.select_option("#upload-signer-1", label=signer)
    page.get_by_role("button", name="Tải lên và trình ký").click()
    page.locator("#upload-result .alert-ok").wait_for(timeout=timeout)
    assert "Đã trình ký" in page.inner_text("#upload-result")
    page.wait_for_function(
        "before => [...document.querySelectorAll('#documents article')]"
        ".some(a => !before.includes(a.id))", arg=before, timeout=timeout)
    after = set(page.locator("#documents article").evaluate_all("a => a.map(i => i.id)"))
    (new,) = after - set(before)
    return str(new).removeprefix("doc-")


def expect(target: Any) -> Any:
    """Playwright's ``expect`` (imported here: without Playwright the tests skip), its
    assertions retried until they hold or :data:`WAIT` has passed (not its 5 s)."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=WAIT)
    return playwright_expect(target)


@contextmanager
def swapped(page: Any, path: str, timeout: float = WAIT) -> Iterator[None]:
    """Around an act: after it, wait until htmx has swapped in (and settled) the answer to
    a request for ``path`` — the refresh the person waits for, not the page's earlier
    content, which may already match what the test looks for."""
    page.evaluate("""path => {
        window.kysoSwapped = window.kysoSwapped || {};
        window.kysoSwapped[path] = false;
        document.body.addEventListener("htmx:afterSettle", function seen(event) {
          const info = event.detail || {};
          const url = (info.pathInfo && info.pathInfo.requestPath) ||
                      (info.xhr && info.xhr.responseURL) || "";
          if (url.includes(path)) {
            window.kysoSwapped[path] = true;
            document.body.removeEventListener("htmx:afterSettle", seen);
          }
        });
      }""", path)
    yield
    page.wait_for_function("path => window.kysoSwapped[path] === true", arg=path,
                           timeout=timeout)


def screenshot(page: Any, name: str, at: str | None = None) -> Path:
    """Save the page as docs/user-guide/img/<name>.png (its viewport, 1366×768 unless
    the page was made otherwise) for the guides: from the top, or from the element the
    CSS selector ``at`` names."""
    GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
    if at is None:
        page.evaluate("window.scrollTo(0, 0)")
    else:
        page.locator(at).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    target = GUIDE_IMAGES / f"{name}.png"
    page.screenshot(path=str(target), full_page=False)
    return target
