"""``kyso doctor --body BODY``: is this server ready for BODY to issue? (the administrator's
checklist of :mod:`api.readiness`, on the instance's host: database, tokens, TSA, OCSP,
e-mail). Exit 0 when every check holds, 2 otherwise."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from common import KysoError
from documents import Check, Organisation

from ..database import open_database
from ..datadir import DataDir
from ..readiness import readiness
from ..settings import Settings
from ..trust import operator_trust

__all__ = ["body_checklist", "render_checklist"]


def body_checklist(data: DataDir, body: str) -> Sequence[Check]:
    """The checklist of ``body`` (its id or exact name) on this server."""
    sessions = open_database(data)
    trust = operator_trust(data, body)
    with sessions() as session:
        query = select(Organisation).where(Organisation.id == int(body)) if body.isdigit() \
            else select(Organisation).where(Organisation.name == body)
        found = session.scalar(query)
        if found is None:
            raise KysoError(f"không có cơ quan ban hành {body}", f"no issuing body {body}")
        return readiness(Settings(data_dir=data.root), session, found, trust)


def render_checklist(checks: Sequence[Check], lang: str, as_json: bool,
                     console: Console) -> bool:
    """Print ``checks``; whether they all hold."""
    if as_json:
        console.print_json(json.dumps([asdict(c) for c in checks], ensure_ascii=False))
        return all(c.ok for c in checks)
    en = lang == "en"
    table = Table(title="Sẵn sàng ban hành?" if not en else "Ready to issue?", show_lines=True)
    for column in (("", ""), ("Kiểm tra", "Check"), ("Kết quả", "Result"),
                   ("Việc cần làm", "Next step")):
        table.add_column(column[1] if en else column[0], overflow="fold")
    for check in checks:
        table.add_row("[green]✓[/green]" if check.ok else "[red]✗[/red]",
                      check.name_en if en else check.name_vi,
                      check.detail_en if en else check.detail_vi,
                      check.todo_en if en else check.todo_vi)
    console.print(table)
    ready = all(c.ok for c in checks)
    console.print(("Ready to issue." if ready else "Not ready: do the next steps above.") if en
                  else ("Sẵn sàng ban hành." if ready
                        else "Chưa sẵn sàng: làm theo cột “Việc cần làm” rồi kiểm tra lại."))
    return ready
