"""`kyso accounts`: what only the instance's operator does to accounts.

``kyso accounts province-admin NAME [--off]`` makes an account a province administrator
(it may add and remove the province-wide trust anchors, trusted for every body) or
takes that away. Not offered over HTTP: whoever runs the instance decides who speaks
for the province. Each change is an ``ADMIN_CHANGE`` audit event.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from .audit import DataDirOption, _sessions

accounts_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Tài khoản (việc của người vận hành) / accounts (operator).")
out = Console(highlight=False)



@accounts_app.command("province-admin")
def province_admin(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Tên đăng nhập / user name")],
    off: Annotated[bool, typer.Option(
        "--off", help="Bỏ quyền quản trị cấp tỉnh / take the role away")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Quản trị cấp tỉnh: thêm/gỡ CA tin cậy toàn tỉnh / province administrator: adds and
    removes the province-wide trusted CAs."""
    from documents import normalise_username, set_province_admin

    sessions = _sessions(ctx, data_dir)
    name = normalise_username(username)
    with sessions() as session:
        set_province_admin(session, name, on=not off)
    state = "không còn là" if off else "là"
    out.print(f"{name} {state} quản trị cấp tỉnh / {name} is {'no longer ' if off else ''}"
              "a province administrator")


