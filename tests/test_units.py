"""The scale-out systemd units restart what dies (issue 17): every long-running unit has
``Restart=on-failure`` with a delay and no start limit that would give up on a crash loop;
the one-shot migration does not restart."""

from __future__ import annotations

from pathlib import Path

import pytest

UNITS = Path(__file__).parent.parent / "ops" / "systemd"


def directives(unit: Path) -> dict[str, dict[str, str]]:
    """Section → key → value (continuation lines joined), as systemd reads them."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    lines = iter(unit.read_text(encoding="utf-8").splitlines())
    for line in lines:
        while line.endswith("\\"):
            line = line[:-1] + " " + next(lines).strip()
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current[key.strip()] = value.strip()
    return sections


@pytest.mark.parametrize("name", ["kyso-api@.service", "kyso-worker@.service",
                                  "kyso-beat.service"])
def test_long_running_units_restart_on_failure_without_giving_up(name: str) -> None:
    unit = directives(UNITS / name)
    assert unit["Service"]["Restart"] == "on-failure"
    assert float(unit["Service"]["RestartSec"]) >= 1
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"


def test_the_migration_runs_once() -> None:
    unit = directives(UNITS / "kyso-migrate.service")
    assert unit["Service"].get("Type") == "oneshot"
    assert "Restart" not in unit["Service"]


def test_every_unit_is_tested() -> None:
    assert {p.name for p in UNITS.glob("*.service")} == {
        "kyso-api@.service", "kyso-worker@.service", "kyso-beat.service",
        "kyso-migrate.service"}
