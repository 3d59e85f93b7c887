"""The administrator's page: people, signing authorities (certificate upload, expiry
warnings), accounts (roles, deactivation), number books and trust anchors — each change
through the administration acts of ``documents/usecases/administration.py``, as the admin
JSON routes (same checks, same audit events)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from documents import (
    REMOTE_PREFIX,
    BookScope,
    Channel,
    Designation,
    Membership,
    Role,
    SignerCertificate,
    accounts_of,
    add_trust_anchors,
    authorities_of,
    books_of,
    change_book,
    change_person,
    change_user,
    channel_of_token,
    list_trust_anchors,
    people_of,
    utc_now,
)
from documents import add_authority as act_add_authority
from documents import add_book as act_add_book
from documents import add_person as act_add_person
from documents import add_user as act_add_user

from ...http.deps import presented_secret
from ...http.errors import MissingInput
from ...http.views import authority_json, book_json, person_json, trust_list_json, user_json
from ..context import Ctx, PageCtx, PostCtx
from ..convert import certificate_pem
from ..rendering import render
from ..routing import UiRoute

router = APIRouter(route_class=UiRoute, include_in_schema=False)
PATH = "/quan-tri"
#: A certificate ending within this many days is flagged.
EXPIRY_WARNING = timedelta(days=30)
ROLE_NAMES = {r.name: r.value for r in Role}


def _expiry(not_after: datetime | None, now: datetime,
            registered: bool = False) -> tuple[str, str]:
    """(css class, Vietnamese words) of a certificate's end date; ``registered``: the
    authority names its certificate by SHA-256 although Kyso holds no copy of it (a key on
    a server token, a certificate not uploaded yet), so its end date is unknown."""
    if not_after is None:
        if registered:
            return "", "đã đăng ký (SHA-256), chưa rõ ngày hết hạn"
        return "", "chưa có chứng thư"
    if not_after <= now:
        return "invalid", "đã hết hạn"
    if not_after - now <= EXPIRY_WARNING:
        return "indeterminate", f"sắp hết hạn (còn {(not_after - now).days} ngày)"
    return "valid", "còn hạn"


def key_words(token_name: str) -> str:
    """Where a signer's key is, as a commune official says it (the technical name — the
    server token's label, ``agent``, ``remote:<service>`` — is kept folded away)."""
    channel = channel_of_token(token_name)
    if channel is Channel.AGENT:
        return "USB token trên máy tính của người ký (ký qua Kyso Agent)"
    if channel is Channel.REMOTE:
        service = token_name.removeprefix(REMOTE_PREFIX)
        return f"Dịch vụ ký số từ xa “{service}” (ký bằng mã PIN/OTP hoặc xác nhận trên " \
               "điện thoại)"
    return "Thiết bị ký đặt tại máy chủ Kyso (máy chủ ký thay khi người ký phê duyệt)"


def _admin_context(ctx: Ctx) -> dict[str, Any]:
    body = ctx.require(Role.ADMIN)
    people = [person_json(p) for p in people_of(ctx.db, ctx.user.id, body.id)]
    authorities = [authority_json(a) for a in authorities_of(ctx.db, ctx.user.id, body.id)]
    now = utc_now()
    for authority in authorities:
        cert = ctx.db.get(SignerCertificate, authority["certificate_sha256"])
        authority["key_vi"] = key_words(authority["token_name"])
        authority["not_after"] = cert.not_after if cert else None
        authority["expiry_class"], authority["expiry_vi"] = _expiry(
            cert.not_after if cert else None, now, bool(authority["certificate_sha256"]))
    trust = trust_list_json(list_trust_anchors(ctx.db, ctx.user.id, ctx.svc.trust))
    _, accounts = accounts_of(ctx.db, ctx.user.id, body.id)
    users = [user_json(ctx.db, u, body) for u in accounts]
    for account in users:  # a locked account keeps its memberships: say which
        if not account["active"]:
            held = {m.role for m in ctx.db.scalars(select(Membership).where(
                Membership.user_id == account["id"], Membership.body_id == body.id))}
            account["held_roles"] = [r.name for r in Role if r in held]
    return {"ctx": ctx, "people": people, "authorities": authorities,
            "users": users,
            "books": [book_json(b) for b in books_of(ctx.db, ctx.user.id, body.id)],
            "trust": trust, "units": body.units, "roles": list(Role),
            "role_names": ROLE_NAMES, "designations": list(Designation),
            "scopes": list(BookScope), "scope_names": {s.name: s.value for s in BookScope}}


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
    made = act_add_person(ctx.db, ctx.user.id, _body_id(ctx), full_name.strip(),
                          position.strip(), unit or None)
    return _done(request, f"Đã thêm {made.full_name}.")


@router.post(PATH + "/nguoi/{person_id}/ngung")
def deactivate_person(request: Request, person_id: int, ctx: PostCtx) -> Response:
    change_person(ctx.db, ctx.user.id, _body_id(ctx), person_id, {"active": False})
    return _done(request, "Đã ngừng hoạt động người này (không còn được chọn làm người ký).")


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
    made = act_add_authority(ctx.db, ctx.user.id, _body_id(ctx), person_id, token_name.strip(),
                             designation=designation, on_behalf_of=on_behalf_of or None,
                             certificate_pem=certificate_pem(data, certificate.filename or "?"))
    return _done(request, f"Đã giao thẩm quyền ký (chứng thư {made.certificate_sha256[:16]}…).")


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
    made = act_add_user(ctx.db, ctx.user.id, _body_id(ctx), username.strip(), password,
                        display_name.strip(), chosen,
                        person_id=int(person_id) if person_id.isdigit() else None,
                        email=email.strip() or None)
    return _done(request, f"Đã tạo tài khoản {made.username}.")


@router.post(PATH + "/tai-khoan/{user_id}/vai-tro")
def change_roles(request: Request, user_id: int, ctx: PostCtx,
                 roles: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006
    chosen = [r for r in roles if r in ROLE_NAMES]
    change_user(ctx.db, ctx.user.id, _body_id(ctx), user_id, {"roles": chosen},
                presented_secret(request))
    return _done(request, "Đã cập nhật vai trò.")


@router.post(PATH + "/tai-khoan/{user_id}/ngung")
def deactivate_user(request: Request, user_id: int, ctx: PostCtx) -> Response:
    change_user(ctx.db, ctx.user.id, _body_id(ctx), user_id, {"active": False},
                presented_secret(request))
    return _done(request, "Đã khóa tài khoản và thu hồi mọi phiên đăng nhập của nó.")


@router.post(PATH + "/tai-khoan/{user_id}/mo-khoa")
def reactivate_user(request: Request, user_id: int, ctx: PostCtx) -> Response:
    change_user(ctx.db, ctx.user.id, _body_id(ctx), user_id, {"active": True},
                presented_secret(request))
    return _done(request, "Đã mở khóa tài khoản; các vai trò cũ dùng được trở lại.")


@router.post(PATH + "/so")
def add_book(request: Request, ctx: PostCtx, code: str = Form(""), name: str = Form(""),
             scope: str = Form("BODY"), unit: str = Form("")) -> Response:
    if not code.strip() or not name.strip():
        raise MissingInput([n for n, v in (("code", code), ("name", name)) if not v.strip()])
    if scope not in BookScope.__members__:
        raise MissingInput(["scope"])
    act_add_book(ctx.db, ctx.user.id, _body_id(ctx), code.strip(), name.strip(), scope=scope,
                 unit=unit or None)
    return _done(request, f"Đã mở sổ {name.strip()}.")


@router.post(PATH + "/so/{book_id}/dong")
def close_book(request: Request, book_id: int, ctx: PostCtx) -> Response:
    change_book(ctx.db, ctx.user.id, _body_id(ctx), book_id, {"active": False})
    return _done(request, "Đã khóa sổ: không cấp số mới từ sổ này.")


@router.post(PATH + "/tin-cay")
def add_trust_anchor(request: Request, ctx: PostCtx, file: UploadFile) -> Response:
    body = ctx.require(Role.ADMIN)
    made = add_trust_anchors(ctx.db, ctx.user.id, ctx.svc.trust, file.file.read(),
                             file.filename or "upload", "body", body.id)
    names = ", ".join(a.subject for a in made.added) or "—"
    return _done(request, f"Đã thêm vào danh sách tin cậy của {body.name} (chỉ cơ quan này): "
                          f"{names}.")


