"""The use-case layer: one plain function per act a person does.

Each act takes the caller's session (its unit of work), the tools of the process
(:class:`Tools`: the file store, the draft check, trust and the :class:`Dispatcher`),
the acting account's id and plain values. It checks the account's body and role
(:mod:`.access`), does the act through the domain functions (which audit), commits the
session itself and only then enqueues the follow-up work. Routes, web pages, CLI commands
and Celery tasks are thin callers: they read a request, a form or a command line into
values, call one act and translate its answer.
"""

from __future__ import annotations
