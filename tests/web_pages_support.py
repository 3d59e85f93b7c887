"""The web pages driven in-process: a signed-in person's htmx calls through the TestClient
of :mod:`tests.inprocess_support` (whose :func:`~tests.inprocess_support.served` serves the
same app on 127.0.0.1 by uvicorn in a thread for the browser tests of the pages' own
script: no `kyso serve`, no worker)."""

from __future__ import annotations

from api.http.csrf import session_token
from api.http.deps import COOKIE
from api.settings import Settings

from .inprocess_support import World


def htmx_as(world: World, username: str) -> dict[str, str]:
    """Sign ``username`` in (the client's session cookie) and the headers htmx sends."""
    answer = world.client.post("/api/v1/auth/login",
                               json={"username": username, "password": f"{username}-demo"})
    assert answer.status_code == 200, answer.text
    csrf = session_token(Settings().secret_key, world.client.cookies[COOKIE])
    return {"HX-Request": "true", "X-CSRF-Token": csrf}
