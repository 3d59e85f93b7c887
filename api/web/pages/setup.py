"""The first-run page (``/khoi-tao``): on an empty instance, the administrator creates the
first body and their own account — the web's ``kyso init``, through
:func:`documents.first_run`. Once a body or an account exists the page sends
everyone to the login page."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from common import KysoError
from documents import (
    BodyPlan,
    FirstAdmin,
    UnitPlan,
    first_run,
    instance_is_empty,
)

from ...http.deps import ServicesDep, cookie_secure
from ..rendering import render
from ..routing import LOGIN_PATH, UiRoute
from ..security import LOGIN_COOKIE, check_login_token, new_login_token

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/khoi-tao"
FIELDS = ("name", "abbreviation", "place_name", "organ_id", "units", "username",
          "display_name", "email")


def units_of(text: str) -> list[UnitPlan]:
    """One unit a line, “VIẾT TẮT = Tên đơn vị”."""
    units = []
    for line in text.splitlines():
        abbreviation, _, name = line.partition("=")
        if abbreviation.strip() and name.strip():
            units.append(UnitPlan(name=name.strip(), abbreviation=abbreviation.strip()))
    return units


def _page(request: Request, values: dict[str, str], message: str | None = None,
          status_code: int = 200) -> Response:
    token = new_login_token()
    response = render(request, "setup.html", {"csrf": token, "values": values,
                                              "message": message}, status_code=status_code)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=cookie_secure(request), max_age=3600)
    return response


@router.get(PATH)
def setup_page(request: Request, svc: ServicesDep) -> Response:
    if not instance_is_empty(svc.sessions):
        return RedirectResponse(LOGIN_PATH, status_code=303)
    return _page(request, {})


@router.post(PATH)
def setup(request: Request, svc: ServicesDep, csrf: str = Form(""), name: str = Form(""),
          abbreviation: str = Form(""), place_name: str = Form(""), organ_id: str = Form(""),
          units: str = Form(""), username: str = Form(""), display_name: str = Form(""),
          email: str = Form(""), password: str = Form(""),
          password_again: str = Form("")) -> Response:
    values = dict(zip(FIELDS, (name, abbreviation, place_name, organ_id, units, username,
                               display_name, email), strict=True))
    try:
        check_login_token(request, csrf)
        if password != password_again:
            return _page(request, values, "Hai lần nhập mật khẩu không giống nhau.", 400)
        missing = [label for label, value in (
            ("tên cơ quan", name), ("viết tắt", abbreviation), ("địa danh", place_name),
            ("mã định danh", organ_id), ("tên đăng nhập", username),
            ("họ và tên", display_name)) if not value.strip()]
        if missing:
            return _page(request, values, "Còn thiếu: " + ", ".join(missing) + ".", 400)
        first_run(svc.sessions, BodyPlan(
            name=name.strip(), abbreviation=abbreviation.strip(),
            place_name=place_name.strip(), organ_id=organ_id, units=units_of(units)),
            FirstAdmin(username.strip(), password, display_name.strip(),
                       email.strip() or None))
    except KysoError as exc:
        return _page(request, values, exc.vi, 409 if exc.category.name == "CONFLICT" else 400)
    answer = render(request, "setup_done.html", {"body": name.strip(),
                                                 "username": username.strip()})
    answer.delete_cookie(LOGIN_COOKIE)
    return answer
