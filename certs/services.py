"""Serve a demo PKI's TSA, OCSP responder, CRLs and certificates on 127.0.0.1.

The services are certomancer's own (its "Animator" WSGI application) run by
werkzeug in a background thread, for as long as the context manager is open.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator

from .demo_pki import DemoPki
from .errors import CertsError


def free_port(preferred: int | None = None) -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now: ``preferred`` when it is free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if preferred is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def already_served(pki: DemoPki) -> bool:
    """Whether this very PKI's services already answer on its port (another process)."""
    import httpx

    try:
        response = httpx.get(f"{pki.base_url}/certs/root/ca.crt", timeout=2,
                             follow_redirects=True)
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError):
        return False
    return response.is_success and response.content == pki.root.dump()


@contextlib.contextmanager
def serving(pki: DemoPki) -> Iterator[DemoPki]:
    """Run the PKI's services on its port until the block ends.

    If another process (a running service, a test session) already serves this
    same PKI, it is used as it is.
    """
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from werkzeug.serving import make_server

    if already_served(pki):
        yield pki
        return

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = Animator(AnimatorArchStore(pki.certomancer_config().pki_archs), with_web_ui=False)
    try:
        # werkzeug exits the process when the port is taken: check first, then bind
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # as the server itself binds (http.server's allow_reuse_address): a connection
            # of the previous run in TIME_WAIT must not count as "in use", a listener does
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", pki.info.port))
        server = make_server("127.0.0.1", pki.info.port, app, threaded=True)
    except (OSError, SystemExit) as exc:
        # another process may be starting the same services right now
        for _ in range(20):
            if already_served(pki):
                yield pki
                return
            time.sleep(0.2)
        raise CertsError(
            f"cổng {pki.info.port} đang bận, không chạy được dịch vụ TSA/OCSP/CRL demo",
            f"port {pki.info.port} is in use: cannot serve the demo TSA/OCSP/CRL",
        ) from exc
    thread = threading.Thread(target=server.serve_forever, name="kyso-demo-pki", daemon=True)
    thread.start()
    try:
        yield pki
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
