"""HTML from Jinja2 templates, escaped: the one way Kyso writes HTML.

Each package keeps its templates in its own ``templates/`` folder and renders them with
:func:`render_template` (the web UI hands :func:`template_environment` to FastAPI).
Every ``{{ value }}`` is escaped as :func:`html.escape` does (``&quot;`` and ``&#x27;``
for quotes) unless it is already markup: the output of :func:`render_template`, so one
rendered fragment can be placed in another template as it is.

Jinja2 is imported on first use: the signer agent loads this package but never renders
HTML, and does not have Jinja2 installed.
"""

from __future__ import annotations

import functools
import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup


def _escaped(value: object) -> object:
    """What ``{{ value }}`` prints: markup as it is, anything else escaped."""
    from markupsafe import Markup

    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value), quote=True))


@functools.cache
def template_environment(package: str) -> jinja2.Environment:
    """The Jinja2 environment of ``package``'s ``templates/`` folder (one per package):
    autoescaped, a block tag's line leaves no blank line behind."""
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader(package, "templates"),
                              autoescape=True, finalize=_escaped, trim_blocks=True,
                              lstrip_blocks=True)


def render_template(package: str, name: str, /, **context: object) -> Markup:
    """``package``'s template ``name`` rendered with ``context``, as markup (a ``str``)."""
    from markupsafe import Markup

    return Markup(template_environment(package).get_template(name).render(**context))
