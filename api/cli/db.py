"""``kyso db``, ``kyso backup`` and ``kyso restore``: the database of a live instance.

Migrations are an explicit step: ``kyso db upgrade`` (run by ops/ before the services
start); every process refuses an old schema instead of migrating on its own.
``kyso backup FILE`` writes one tar file (database, every stored version, audit trail)
while the service runs; ``kyso restore FILE`` loads it into an empty data directory and
checks it (the audit chain replayed and verified, every version's SHA-256).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..datadir import DataDir, resolve
from .audit import DataDirOption

db_app = typer.Typer(add_completion=False, no_args_is_help=True,
                     help="Cơ sở dữ liệu: nâng cấp lược đồ / database schema.")
out = Console(highlight=False)


def _data(ctx: typer.Context, data_dir: Path | None) -> DataDir:
    chosen = data_dir or ctx.find_root().params.get("data_dir")
    return DataDir(resolve(chosen)).create()


@db_app.command()
def status(ctx: typer.Context, data_dir: DataDirOption = None) -> None:
    """Lược đồ hiện tại và lược đồ phiên bản này cần / the schema now and the one needed."""
    from documents import schema_state

    state = schema_state(_data(ctx, data_dir).database_url)
    out.print(f"Lược đồ / schema: {state.current or 'trống / empty'} — "
              f"phiên bản này / this release: {state.head}")
    if not state.up_to_date:
        out.print("Cần chạy / run: kyso db upgrade")
        raise typer.Exit(1)


@db_app.command()
def upgrade(ctx: typer.Context, data_dir: DataDirOption = None) -> None:
    """Nâng cấp lược đồ lên phiên bản này / migrate the schema to this release."""
    from documents import schema_state, upgrade_database

    url = _data(ctx, data_dir).database_url
    before = schema_state(url)
    upgrade_database(url)
    after = schema_state(url)
    out.print(f"Lược đồ / schema: {before.current or 'trống / empty'} → {after.current}")


def backup_command(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="Tệp sao lưu mới / the new backup file (.tar)")],
    data_dir: DataDirOption = None,
) -> None:
    """Sao lưu khi dịch vụ đang chạy / back up while the service runs."""
    from documents import FileStore, backup, create_engine_for

    data = _data(ctx, data_dir)
    engine = create_engine_for(data.database_url)
    try:
        summary = backup(engine, FileStore(data.files), target)
    finally:
        engine.dispose()
    documents, events = summary.rows.get("document", 0), summary.rows.get("audit_event", 0)
    out.print(f"Đã sao lưu / backed up: {summary.path} — lược đồ / schema {summary.revision}, "
              f"{documents} văn bản / documents, {summary.files} tệp / files, "
              f"{events} sự kiện nhật ký / audit events")


def restore_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="Tệp sao lưu / the backup file", exists=True)],
    data_dir: DataDirOption = None,
) -> None:
    """Khôi phục vào thư mục dữ liệu trống rồi kiểm tra / restore into an empty data
    directory, then check it."""
    from documents import FileStore, create_engine_for, restore

    data = _data(ctx, data_dir)
    engine = create_engine_for(data.database_url)
    try:
        report = restore(source, data.database_url, engine, FileStore(data.files))
    finally:
        engine.dispose()
    out.print(f"Đã khôi phục / restored: lược đồ / schema {report.revision}, "
              f"{report.rows.get('document', 0)} văn bản / documents, {report.files} tệp / files, "
              f"{report.audit_events} sự kiện nhật ký / audit events")
    if not report.ok:
        for problem in report.problems:
            out.print(f"✗ {problem}")
        raise typer.Exit(1)
    out.print("✓ Chuỗi nhật ký nguyên vẹn, mọi phiên bản đúng SHA-256 / "
              "audit chain intact, every version matches its SHA-256")
