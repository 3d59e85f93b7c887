"""How the web pages answer errors: every Kyso error becomes a Vietnamese message.

An htmx request gets the message as a fragment swapped into the alert region
(``role="alert"``) next to what caused it — the region ``#<id of the form>-error``,
named by htmx's ``HX-Trigger`` header — or the page's own alert region; a plain
request gets a whole page (a refusal is the "không có quyền" page). A missing or
expired session sends the browser to the login page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from common import KysoError

from ..errors import Unexpected
from ..http.deps import current_user, services
from ..http.errors import MissingInput, status_for
from .context import page_context
from .rendering import is_htmx, render

LOGIN_PATH = "/dang-nhap"
_SAFE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,80}$")
log = logging.getLogger(__name__)

def error_target(request: Request) -> str:
    """The CSS selector of the alert region for an htmx request's error."""
    trigger = request.headers.get("hx-trigger", "")
    return f"#{trigger}-error" if _SAFE_ID.match(trigger) else "#alerts"


def error_response(request: Request, exc: KysoError) -> Response:
    status = status_for(exc)
    if status == 401:
        if is_htmx(request):
            return Response(status_code=200, headers={"HX-Redirect": LOGIN_PATH})
        return RedirectResponse(LOGIN_PATH, status_code=303)
    if is_htmx(request):
        return render(request, "_alert.html", {"message": exc.vi, "kind": "error"},
                      status_code=status,
                      headers={"HX-Retarget": error_target(request), "HX-Reswap": "innerHTML"})
    return render(request, "error.html", {"message": exc.vi, "status": status,
                                          "ctx": getattr(request.state, "ui_ctx", None)},
                  status_code=status)


#: What an unknown address or a wrong method says, in Vietnamese, outside the JSON API.
HTTP_WORDS = {
    404: "Không có trang nào ở địa chỉ này. Hãy kiểm tra lại đường dẫn, hoặc mở trang từ "
         "trình đơn của Kyso.",
    405: "Địa chỉ này không mở được theo cách đó (ví dụ gõ thẳng địa chỉ của một nút bấm). "
         "Hãy mở trang từ trình đơn của Kyso.",
}


async def http_error_page(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no route, wrong method…): JSON under ``/api/``, as the
    API's clients expect; elsewhere a Vietnamese page (an htmx fragment for htmx)."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api/"):
        return await http_exception_handler(request, exc)
    message = HTTP_WORDS.get(exc.status_code,
                             f"Yêu cầu không thực hiện được (mã lỗi {exc.status_code}).")
    headers = dict(exc.headers or {})
    if is_htmx(request):
        headers.update({"HX-Retarget": error_target(request), "HX-Reswap": "innerHTML"})
        return render(request, "_alert.html", {"message": message, "kind": "error"},
                      status_code=exc.status_code, headers=headers)

    def page() -> Response:
        """The whole page, with the signed-in person's menu (else a way to sign in)."""
        svc = services(request)
        with svc.sessions() as db:
            try:
                ctx = page_context(request, current_user(request, db), db, svc)
            except KysoError:  # not signed in (or the session has ended)
                ctx = None
            return render(request, "error.html", {"message": message, "ctx": ctx,
                                                  "status": exc.status_code},
                          status_code=exc.status_code, headers=headers)

    return await run_in_threadpool(page)


class UiRoute(APIRoute):
    """An APIRoute whose Kyso errors (and malformed forms) are answered in Vietnamese HTML."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except KysoError as exc:
                return error_response(request, exc)
            except RequestValidationError as exc:
                fields = [str(e.get("loc", ("", "?"))[-1]) for e in exc.errors()]
                return error_response(request, MissingInput(fields))
            except Exception:  # the web pages' HTTP error boundary: logged, a bilingual page
                log.exception("web page %s %s failed", request.method, request.url.path)
                return error_response(request, Unexpected())

        return handler
