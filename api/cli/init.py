"""``kyso init``: the first real body of an empty instance, without the demo.

Creates the body with its official code, units, starting number books and first
administrator (:func:`documents.start_body`), and, given ``--staff FILE``, its people and
accounts (:func:`documents.import_staff`). The administrator's password is asked twice
with the input hidden, or read from standard input (``--password-stdin``) for scripts;
it is never printed or logged. The staff's temporary passwords are printed once, to be
handed out; each account should change its password at first login.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from .audit import DataDirOption, _sessions

if TYPE_CHECKING:  # the document layer loads when the command runs
    from documents import UnitPlan

out = Console(highlight=False)
#: Who the audit trail says created the body.
OPERATOR = "người vận hành (kyso init)"


def _unit(text: str) -> UnitPlan:
    from documents import UnitPlan

    abbreviation, _, name = text.partition("=")
    if not name.strip() or not abbreviation.strip():
        raise typer.BadParameter(f"“{text}”: cần dạng VIẾT_TẮT=Tên đơn vị / "
                                 "expected ABBREVIATION=Unit name")
    return UnitPlan(name=name.strip(), abbreviation=abbreviation.strip())


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Mật khẩu quản trị / administrator's password", hide_input=True,
                            confirmation_prompt=True))


def init(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(
        help="Tên cơ quan như ở tiêu đề văn bản, vd. “Ủy ban nhân dân xã Tiên Lữ”")],
    abbreviation: Annotated[str, typer.Option(help="Viết tắt trong ký hiệu, vd. UBND")],
    place: Annotated[str, typer.Option(help="Địa danh ở dòng ngày tháng, vd. Tiên Lữ")],
    organ_id: Annotated[str, typer.Option(
        "--organ-id", help="Mã định danh điện tử của cơ quan, vd. 000.12.34.H41")],
    admin: Annotated[str, typer.Option(help="Tên đăng nhập của quản trị viên đầu tiên")],
    admin_name: Annotated[str, typer.Option(help="Họ và tên của quản trị viên")],
    admin_email: Annotated[str | None, typer.Option(help="E-mail của quản trị viên")] = None,
    unit: Annotated[list[str] | None, typer.Option(
        help="Đơn vị: VIẾT_TẮT=Tên, vd. VP=Văn phòng HĐND và UBND (lặp lại được)")] = None,
    staff: Annotated[Path | None, typer.Option(
        help="Danh sách cán bộ (XLSX/CSV) / staff list", exists=True, dir_okay=False)] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Đọc mật khẩu quản trị từ stdin / read it from stdin")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Tạo cơ quan đầu tiên (không có demo) / set up the first real body (no demo)."""
    from documents import BodyPlan, FirstAdmin, import_staff, read_staff_list, start_body

    plan = BodyPlan(name=name, abbreviation=abbreviation, place_name=place, organ_id=organ_id,
                    units=[_unit(u) for u in unit or []])
    staff_list = read_staff_list(staff.read_bytes(), staff.name) if staff else None
    first = FirstAdmin(admin, _password(password_stdin), admin_name, admin_email)
    sessions = _sessions(ctx, data_dir)
    with sessions() as session, session.begin():
        body = start_body(session, plan, first, actor=OPERATOR)
        imported = import_staff(session, body, staff_list, actor=OPERATOR) \
            if staff_list else None
        body_name, code = body.name, body.organ_id
    out.print(f"✓ Đã tạo / created: {body_name} (mã định danh / code {code}); quản trị viên / "
              f"administrator: {first.username}")
    if imported:
        table = Table("Tên đăng nhập / user name", "Mật khẩu tạm / temporary password",
                      title=f"{len(imported.accounts)} tài khoản — trao tận tay, đổi khi "
                            "đăng nhập lần đầu / hand out, change at first login")
        for username, password in imported.accounts:
            table.add_row(username, password)
        out.print(table)
    out.print("Tiếp theo / next: đăng nhập trang Quản trị, tải ảnh con dấu và chữ ký, đăng ký "
              "chứng thư số của cơ quan và người ký, giao thẩm quyền ký, rồi xem trang "
              "“Sẵn sàng ban hành” / log in to the admin page, upload the seal and signature "
              "images, register the certificates, grant signing authorities, then check "
              "“Ready to issue”.")
