"""A mail server on loopback that accepts every message (aiosmtpd), for the checks and
flows that send e-mail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from certs import free_port


class Accepting:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


@pytest.fixture(name="mail_port")
def mail_port_fixture() -> Iterator[int]:
    """The port of an SMTP server on 127.0.0.1 that accepts everything, for the test."""
    port = free_port()
    controller = Controller(Accepting(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
