"""How the agent asks the official: at the terminal, or in a small window without one.

Started at login (a systemd user unit, Windows Task Scheduler with ``pythonw``) the agent
has no console: standard input is ``/dev/null`` or absent. It then asks the PIN (and the
account password, and whether to sign) in a Tk dialog; the PIN is typed into a masked
field, returned to the caller and never kept. Without tkinter or a display it stops with
:class:`~api.agent.errors.NoPinDialog`, saying how to run it instead.

Driven by another program (standard input a pipe), it reads one line, as before.
"""

from __future__ import annotations

import getpass
import os
import stat
import sys
from typing import Any, Literal

from . import settings
from .errors import NoPinDialog

Mode = Literal["prompt", "stdin", "dialog"]


def input_mode() -> Mode:
    """``prompt`` at a terminal, ``stdin`` from a pipe or file, ``dialog`` without either."""
    stream = sys.stdin
    if stream is None:
        return "dialog"
    try:
        if stream.isatty():
            return "prompt"
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError):
        return "dialog"
    # /dev/null (a character device that is not a terminal): nobody types there
    return "dialog" if stat.S_ISCHR(mode) else "stdin"


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return settings.display_named()


def _root() -> Any:
    """A hidden Tk root window; :class:`NoPinDialog` when none can be made."""
    if not _has_display():
        raise NoPinDialog("không có màn hình đồ họa (DISPLAY)")
    try:
        import tkinter
    except ImportError as exc:
        raise NoPinDialog("Python thiếu tkinter") from exc
    try:
        root = tkinter.Tk()
    except tkinter.TclError as exc:
        raise NoPinDialog(str(exc)) from exc
    root.withdraw()
    return root


def dialog_secret(title: str, prompt: str) -> str:
    """A masked one-line answer from a Tk dialog."""
    root = _root()  # first: it says when there is no tkinter
    from tkinter import simpledialog

    try:
        answer = simpledialog.askstring(title, prompt, show="•", parent=root)
    finally:
        root.destroy()
    if answer is None:
        raise NoPinDialog("người dùng đã đóng hộp thoại")
    return str(answer)


def dialog_yes_no(title: str, text: str) -> bool:
    root = _root()
    from tkinter import messagebox

    try:
        return bool(messagebox.askyesno(title, text, parent=root))
    finally:
        root.destroy()


def ask_secret(prompt: str, title: str = "Kyso Agent") -> str:
    """A secret from whoever runs the agent: hidden at a terminal, a line from a pipe, a
    masked dialog without a console."""
    match input_mode():
        case "prompt":
            return getpass.getpass(prompt)
        case "stdin":
            sys.stderr.write(prompt)
            line = sys.stdin.readline().rstrip("\r\n")
            sys.stderr.write("\n")
            sys.stderr.flush()
            return line
        case "dialog":
            return dialog_secret(title, prompt)
