"""Shared fixtures: one demo commune per test session, on real SoftHSM tokens, with
certomancer's TSA/OCSP/CRL served on 127.0.0.1 for the whole session."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest

from api.datadir import DataDir
from api.demo.demo import DEMO_PIN, DemoCommune, provision, token_settings
from certs import serving

# the signing channels' shared fixtures (world, served_world, duc_key, phone_standin)
from .inprocess_support import duc_key, phone_standin, served_world, world  # noqa: F401

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="kyso-test-"))


def pytest_configure(config: pytest.Config) -> None:
    # The SoftHSM module reads SOFTHSM2_CONF once, when it is first loaded in a
    # process: point it at the session's own token folder before any test runs.
    os.environ["SOFTHSM2_CONF"] = str(_SESSION_DIR / "softhsm" / "softhsm2.conf")
    os.environ.pop("KYSO_TSA_URL", None)
    os.environ.pop("KYSO_PIN", None)
    # demo PKIs take any free port, not the demo's usual 8791 (`kyso demo`/`kyso serve`
    # run by a test read it too): test sessions running side by side (and a demo running
    # on this PC) then never race for one port
    os.environ["KYSO_DEMO_PKI_PORT"] = "0"


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def data() -> DataDir:
    """The session's data directory, holding the provisioned demo commune."""
    data = DataDir(_SESSION_DIR).create()
    commune = provision(data.softhsm, data.pki)
    data.save_token_settings(token_settings(commune))
    return data


@pytest.fixture(scope="session")
def commune(data: DataDir) -> Iterator[DemoCommune]:
    """The demo commune with its PKI services running."""
    commune = provision(data.softhsm, data.pki)  # reuses what `data` made
    with serving(commune.pki):
        yield commune


@pytest.fixture(scope="session")
def sample_pdf() -> bytes:
    return (files("api") / "demo" / "assets" / "sample-quyet-dinh.pdf").read_bytes()


@pytest.fixture
def pin() -> str:
    return DEMO_PIN


TESTS_DATA = Path(__file__).parent / "data"
