"""`kyso audit`: check the audit trail's hash chain and read its latest events.

Wired into the main command line with ``app.add_typer(audit_app, name="audit")``.
``--data-dir`` may be given to the command or, once wired, to ``kyso`` itself;
the database is the data directory's (or ``KYSO_DATABASE_URL``). Exit codes of
``verify``: 0 the trail is intact, 1 it is broken (edited, deleted, reordered
events or a cut-off tail); errors reach :func:`api.cli.main.main` as ``KysoError`` (2).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from common import KysoError, vietnam_time

from ..datadir import DataDir, resolve

if TYPE_CHECKING:  # the document layer (SQLAlchemy, every table) loads when a command runs
    from sqlalchemy.orm import Session, sessionmaker

    from documents import AuditAction

audit_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="Nhật ký kiểm tra (ai làm gì, khi nào) / audit trail.")
out = Console(highlight=False)

DataDirOption = Annotated[Path | None, typer.Option(
    "--data-dir", envvar="KYSO_DATA_DIR",
    help="Thư mục dữ liệu / data directory (mặc định: của lệnh kyso / default: kyso's).")]


def _sessions(ctx: typer.Context, data_dir: Path | None) -> sessionmaker[Session]:
    """The data directory's database, migrated; ``kyso --data-dir`` counts when the
    command's own option is not given."""
    from ..database import open_database

    chosen = data_dir or ctx.find_root().params.get("data_dir")
    data = DataDir(resolve(chosen)).create()
    return open_database(data)


def _action(name: str) -> AuditAction:
    from documents import AuditAction

    try:
        return AuditAction[name.strip().upper().replace("-", "_")]
    except KeyError:
        known = ", ".join(a.name.lower() for a in AuditAction)
        raise KysoError(f"không có loại hành động “{name}” (có: {known})",
                        f"unknown action “{name}” (known: {known})") from None


@audit_app.command()
def verify(
    ctx: typer.Context,
    anchor: Annotated[str | None, typer.Option(
        help="Đầu chuỗi đã ghi lại trước đây, dạng SEQ:HASH / a head written down earlier")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Kiểm tra chuỗi băm của nhật ký / check the audit trail's hash chain.

    Exit 0: intact; 1: an event was edited, deleted, reordered, or the tail cut off.
    """
    expected: tuple[int, str] | None = None
    if anchor:
        seq, _, digest = anchor.partition(":")
        if not seq.strip().isdigit() or len(digest.strip()) != 64:
            raise KysoError(f"--anchor “{anchor}” không hợp lệ (cần SEQ:HASH)",
                            f"invalid --anchor “{anchor}” (expected SEQ:HASH)")
        expected = (int(seq), digest.strip().lower())
    from documents import verify_chain

    with _sessions(ctx, data_dir)() as session:
        report = verify_chain(session, anchor=expected)
    if report.ok:
        out.print(f"[green]OK[/green] {escape(report.line())}", soft_wrap=True)
        return
    out.print(f"[red]HỎNG / BROKEN[/red] {escape(report.line())}", soft_wrap=True)
    raise typer.Exit(1)


@audit_app.command("list")
def list_command(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1,
                                       help="Số sự kiện mới nhất / how many latest events")] = 20,
    action: Annotated[str | None, typer.Option(
        help="Loại hành động, vd. issue, sign, login / action")] = None,
    actor: Annotated[str | None, typer.Option(help="Người thực hiện / actor")] = None,
    object_: Annotated[str | None, typer.Option(
        "--object", help="Đối tượng: LOẠI:MÃ hoặc MÃ, vd. document:3f2a… / object")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Các sự kiện mới nhất, mới trước / the latest events, newest first."""
    object_type: str | None = None
    object_id: str | None = object_
    if object_ and ":" in object_:
        object_type, _, rest = object_.partition(":")
        object_id = rest or None
    from documents import list_events

    with _sessions(ctx, data_dir)() as session:
        events = list_events(session, limit=limit,
                             action=_action(action) if action else None, actor=actor,
                             object_type=object_type or None, object_id=object_id)
        if not events:
            out.print("Không có sự kiện nào / no events")
        for event in events:
            when = vietnam_time(event.occurred_at).strftime("%d/%m/%Y %H:%M:%S")
            out.print(f"#{event.seq:<6} {when}  {event.action.name.lower():<13} "
                      f"{escape(event.actor)} — {escape(event.object_type)}:"
                      f"{escape(event.object_id)}  {escape(event.details)}",
                      soft_wrap=True)
