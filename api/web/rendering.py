"""Jinja2 templates of the web pages, their filters, and the role → page map."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from common import VN_TZ, halves, template_environment
from documents import Role
from signer import dn_words

from ..errors import BadDate
from .assets import ASSETS, REVALIDATE

#: Each role's own page: (role, path, menu label).
ROLE_PAGES: tuple[tuple[Role, str, str], ...] = (
    (Role.DRAFTER, "/chuyen-vien", "Dự thảo của tôi"),
    (Role.SIGNER, "/lanh-dao", "Chờ ký"),
    (Role.CLERK, "/van-thu", "Văn thư"),
    (Role.AUDITOR, "/kiem-tra", "Kiểm tra"),
    (Role.ADMIN, "/quan-tri", "Quản trị"),
)


def vn_time(value: datetime | date | str | None, with_time: bool = True) -> str:
    """A moment as Vietnamese offices write it: 05/03/2025 14:30 (Vietnam time); an ISO
    8601 text (as the JSON routes answer) is read first, a moment without offset is UTC
    (what Kyso stores)."""
    if value is None or value == "":
        return ""
    moment: datetime | date
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value) if "T" in value or " " in value.strip() \
                else date.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")
    return moment.strftime("%d/%m/%Y")


_DAY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


def parse_day(value: str | None, label: str) -> date | None:
    """A date typed as Vietnamese offices write it (05/03/2025; also 5/3/2025, 05-03-2025,
    or the ISO 2025-03-05 an old bookmark may carry); None when empty."""
    if value is None or not value.strip():
        return None
    found = _DAY.match(value)
    try:
        if found is not None:
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day)
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadDate(label, value.strip()) from exc


def day_text(value: str | None) -> str:
    """A date filter as the form shows it again: dd/mm/yyyy (an ISO date is rewritten)."""
    if not value:
        return ""
    try:
        return date.fromisoformat(value.strip()).strftime("%d/%m/%Y")
    except ValueError:
        return value


def file_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


templates = Jinja2Templates(env=template_environment("api.web"))
templates.env.filters["vn_time"] = vn_time
templates.env.filters["file_size"] = file_size
templates.env.filters["dn"] = dn_words
#: a reason kept as "tiếng Việt / English" (a failed step's, a signing job's): its Vietnamese
templates.env.filters["vi_half"] = lambda text: halves(str(text))[0] if text else ""
templates.env.globals["ROLE_PAGES"] = ROLE_PAGES
#: ``{{ static('kyso.css') }}``: the static file's versioned URL (long-cached)
templates.env.globals["static"] = ASSETS.url


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page or fragment; ``context`` may hold ``ctx`` (the signed-in caller's). Never
    reused without asking (it names the static files' current versions)."""
    response: HTMLResponse = templates.TemplateResponse(
        request, name, context or {}, status_code=status_code,
        headers={"Cache-Control": REVALIDATE, **(headers or {})})
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
