"""What every layer shares and no layer owns: the error root, Vietnam's clock, HTML
templates and the file written whole or not at all.

The lowest package: it imports nothing of Kyso's, and every other package may import it
(``common`` ← ``certs`` ← ``tokens`` ← ``signer`` ← ``documents`` ← ``api``).
"""

from __future__ import annotations

from .clock import VN_TZ, today_in_vietnam, vietnam_time
from .errors import Category, KysoError, halves
from .files import write_new_with
from .templates import render_template, template_environment

__all__ = ["VN_TZ", "Category", "KysoError", "halves", "render_template",
           "template_environment", "today_in_vietnam", "vietnam_time", "write_new_with"]
