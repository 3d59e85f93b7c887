"""signer.blocking.run_blocking keeps asyncio's Ctrl-C handler out (CPython issue 112559)."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from signer.blocking import run_blocking


async def _handler_during_run() -> object:
    return signal.getsignal(signal.SIGINT)


def test_asyncio_installs_no_handler_and_the_default_comes_back() -> None:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    during = run_blocking(_handler_during_run())
    assert during is not signal.default_int_handler
    assert getattr(during, "func", None) is None  # not asyncio's partial(Runner._on_sigint)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


async def _interrupted() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    await asyncio.sleep(5)


def test_ctrl_c_still_interrupts() -> None:
    with pytest.raises(KeyboardInterrupt):
        run_blocking(_interrupted())
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_result_comes_back_whole() -> None:
    async def big() -> bytes:
        return bytes(50 * 2**20)

    assert len(run_blocking(big())) == 50 * 2**20
