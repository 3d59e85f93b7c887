"""What every layer shares and no layer owns: the error root, Vietnam's clock and HTML
templates.

The lowest package: it imports nothing of Kyso's, and every other package may import it
(``common`` ← ``certs`` ← ``tokens`` ← ``signer`` ← ``documents`` ← ``api``).
"""

from __future__ import annotations

from .clock import VN_TZ, today_in_vietnam, vietnam_time
from .errors import Category, KysoError, halves
from .templates import render_template, template_environment

__all__ = ["VN_TZ", "Category", "KysoError", "halves", "render_template",
           "template_environment", "today_in_vietnam", "vietnam_time"]
