"""Jinja2 templates of the web pages, their filters, and the role → page map."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from documents.accounts import Role
from signer.sign import VIETNAM

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

#: Each role's own page: (role, path, menu label).
ROLE_PAGES: tuple[tuple[Role, str, str], ...] = (
    (Role.DRAFTER, "/chuyen-vien", "Dự thảo của tôi"),
    (Role.SIGNER, "/lanh-dao", "Chờ ký"),
    (Role.CLERK, "/van-thu", "Văn thư"),
    (Role.AUDITOR, "/kiem-tra", "Kiểm tra"),
    (Role.ADMIN, "/quan-tri", "Quản trị"),
)


def vn_time(value: datetime | date | None, with_time: bool = True) -> str:
    """A moment as Vietnamese offices write it: 05/03/2025 14:30 (Vietnam time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(VIETNAM)
        return value.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")
    return value.strftime("%d/%m/%Y")


def file_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters["vn_time"] = vn_time
templates.env.filters["file_size"] = file_size
templates.env.globals["ROLE_PAGES"] = ROLE_PAGES
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page or fragment; ``context`` may hold ``ctx`` (the signed-in caller's)."""
    response: HTMLResponse = templates.TemplateResponse(
        request, name, context or {}, status_code=status_code, headers=headers)
    return response


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
