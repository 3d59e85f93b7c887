"""The administrator's page: people, signing authorities (certificate upload, expiry
warnings), accounts (roles, deactivation), number books and trust anchors — each change
through the admin JSON routes' own functions (same checks, same audit events)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from asn1crypto import pem
from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response

from documents import BookScope, Designation, SignerCertificate
from documents.accounts import Role
from documents.sqltypes import utc_now

from ...errors import CertificateUnreadable
from ...http.errors import MissingInput
from ...http.routes import admin as admin_routes
from ..context import Ctx, PageCtx, PostCtx
from ..rendering import render
from ..routing import UiRoute

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/quan-tri"
#: A certificate ending within this many days is flagged.
EXPIRY_WARNING = timedelta(days=30)
ROLE_NAMES = {r.name: r.value for r in Role}


def _expiry(not_after: datetime | None, now: datetime) -> tuple[str, str]:
    """(css class, Vietnamese words) of a certificate's end date."""
    if not_after is None:
        return "", "chưa có chứng thư"
    if not_after <= now:
        return "invalid", "đã hết hạn"
    if not_after - now <= EXPIRY_WARNING:
        return "indeterminate", f"sắp hết hạn (còn {(not_after - now).days} ngày)"
    return "valid", "còn hạn"


def _admin_context(ctx: Ctx) -> dict[str, Any]:
    body = ctx.require(Role.ADMIN)
    people = admin_routes.list_people(body.id, ctx.user, ctx.db)
    authorities = admin_routes.list_authorities(body.id, ctx.user, ctx.db)
    now = utc_now()
    for authority in authorities:
        cert = ctx.db.get(SignerCertificate, authority["certificate_sha256"])
        authority["not_after"] = cert.not_after if cert else None
        authority["expiry_class"], authority["expiry_vi"] = _expiry(
            cert.not_after if cert else None, now)
    trust = admin_routes.list_trust_anchors(ctx.user, ctx.db, ctx.svc)
    return {"ctx": ctx, "people": people, "authorities": authorities,
            "users": admin_routes.list_users(body.id, ctx.user, ctx.db),
            "books": admin_routes.list_books(body.id, ctx.user, ctx.db),
            "trust": trust, "units": body.units, "roles": list(Role),
            "role_names": ROLE_NAMES, "designations": list(Designation),
            "scopes": list(BookScope)}


@router.get(PATH)
def admin_page(request: Request, ctx: PageCtx) -> Response:
    return render(request, "admin.html", _admin_context(ctx))


@router.get(PATH + "/noi-dung")
def admin_content(request: Request, ctx: PageCtx) -> Response:
    return render(request, "_admin.html", _admin_context(ctx))


def _done(request: Request, message: str) -> Response:
    return render(request, "_alert.html", {"message": message, "kind": "ok"},
                  headers={"HX-Trigger": "admin-changed"})


def _body_id(ctx: Ctx) -> int:
    return ctx.require(Role.ADMIN).id


@router.post(PATH + "/nguoi")
def add_person(request: Request, ctx: PostCtx, full_name: str = Form(""),
               position: str = Form(""), unit: str = Form("")) -> Response:
    if not full_name.strip() or not position.strip():
        raise MissingInput([n for n, v in (("full_name", full_name), ("position", position))
                            if not v.strip()])
    form = admin_routes.NewPerson(full_name=full_name.strip(), position=position.strip(),
                                  unit=unit or None)
    made = admin_routes.add_person(_body_id(ctx), form, ctx.user, ctx.db)
    return _done(request, f"Đã thêm {made['full_name']}.")


@router.post(PATH + "/nguoi/{person_id}/ngung")
def deactivate_person(request: Request, person_id: int, ctx: PostCtx) -> Response:
    admin_routes.change_person(_body_id(ctx), person_id, admin_routes.PersonChange(active=False),
                               ctx.user, ctx.db)
    return _done(request, "Đã ngừng hoạt động người này (không còn được chọn làm người ký).")


def _certificate_pem(data: bytes, name: str) -> str:
    """PEM text of an uploaded certificate (PEM or DER)."""
    if pem.detect(data):
        return data.decode("ascii", "replace")
    if not data:
        raise CertificateUnreadable(name)
    armored: bytes = pem.armor("CERTIFICATE", data)
    return armored.decode("ascii")


@router.post(PATH + "/tham-quyen")
def add_authority(request: Request, ctx: PostCtx, certificate: UploadFile,
                        person_id: int = Form(), token_name: str = Form(""),
                        designation: str = Form("NONE"),
                        on_behalf_of: str = Form("")) -> Response:
    if not token_name.strip():
        raise MissingInput(["token_name"])
    if designation not in Designation.__members__:
        raise MissingInput(["designation"])
    data = certificate.file.read()
    form = admin_routes.NewAuthority(
        person_id=person_id, token_name=token_name.strip(), designation=designation,
        on_behalf_of=on_behalf_of or None,
        certificate_pem=_certificate_pem(data, certificate.filename or "?"))
    made = admin_routes.add_authority(_body_id(ctx), form, ctx.user, ctx.db)
    return _done(request, f"Đã giao thẩm quyền ký (chứng thư {made['certificate_sha256'][:16]}…).")


@router.post(PATH + "/tai-khoan")
def add_user(request: Request, ctx: PostCtx, username: str = Form(""),
             password: str = Form(""), display_name: str = Form(""), email: str = Form(""),
             person_id: str = Form(""),
             roles: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006
    chosen = [r for r in roles if r in ROLE_NAMES]
    values = {"username": username, "password": password, "display_name": display_name}
    missing = [n for n, v in values.items() if not v.strip()]
    if missing or not chosen:
        raise MissingInput(missing + ([] if chosen else ["roles"]))
    made = admin_routes.add_user(_body_id(ctx), admin_routes.NewUser(
        username=username.strip(), password=password, display_name=display_name.strip(),
        roles=chosen, person_id=int(person_id) if person_id.isdigit() else None,
        email=email.strip() or None), ctx.user, ctx.db)
    return _done(request, f"Đã tạo tài khoản {made['username']}.")


@router.post(PATH + "/tai-khoan/{user_id}/vai-tro")
def change_roles(request: Request, user_id: int, ctx: PostCtx,
                 roles: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006
    chosen = [r for r in roles if r in ROLE_NAMES]
    admin_routes.change_user(_body_id(ctx), user_id, admin_routes.UserChange(roles=chosen),
                             ctx.user, ctx.db, request)
    return _done(request, "Đã cập nhật vai trò.")


@router.post(PATH + "/tai-khoan/{user_id}/ngung")
def deactivate_user(request: Request, user_id: int, ctx: PostCtx) -> Response:
    admin_routes.change_user(_body_id(ctx), user_id, admin_routes.UserChange(active=False),
                             ctx.user, ctx.db, request)
    return _done(request, "Đã khóa tài khoản và thu hồi mọi phiên đăng nhập của nó.")


@router.post(PATH + "/so")
def add_book(request: Request, ctx: PostCtx, code: str = Form(""), name: str = Form(""),
             scope: str = Form("BODY"), unit: str = Form("")) -> Response:
    if not code.strip() or not name.strip():
        raise MissingInput([n for n, v in (("code", code), ("name", name)) if not v.strip()])
    if scope not in BookScope.__members__:
        raise MissingInput(["scope"])
    admin_routes.add_book(_body_id(ctx), admin_routes.NewBook(
        code=code.strip(), name=name.strip(), scope=scope, unit=unit or None), ctx.user, ctx.db)
    return _done(request, f"Đã mở sổ {name.strip()}.")


@router.post(PATH + "/so/{book_id}/dong")
def close_book(request: Request, book_id: int, ctx: PostCtx) -> Response:
    admin_routes.change_book(_body_id(ctx), book_id, admin_routes.BookChange(active=False),
                             ctx.user, ctx.db)
    return _done(request, "Đã khóa sổ: không cấp số mới từ sổ này.")


@router.post(PATH + "/tin-cay")
def add_trust_anchor(request: Request, ctx: PostCtx, file: UploadFile) -> Response:
    body = ctx.require(Role.ADMIN)
    made = admin_routes.add_trust_anchor(file, ctx.user, ctx.db, ctx.svc, scope="body",
                                         body_id=body.id)
    names = ", ".join(a["subject"] for a in made["added"]) or "—"
    return _done(request, f"Đã thêm vào danh sách tin cậy của {body.name} (chỉ cơ quan này): "
                          f"{names}.")


