"""Fixtures of the benchmark: the tests' fixtures, a recorder on a SQLite FILE, a production-like
event loop (no asyncio debug mode, no SQL echo), and the session hooks that print the table,
write the JSON and make `scripts/bench` exit non-zero when a target is missed."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant

from tests.bench.probes import ROOT, RowCounter
from tests.bench.results import RESULTS, json_path, run_meta
from tests.conftest import (  # noqa: F401 - fixtures shared with the test suite
    auto_enable_custom_integrations,
    mock_recorder_before_hass,
)

QUIET = ("sqlalchemy.engine", "homeassistant", "custom_components", "aiohttp", "asyncio")


def _quiet_logs() -> None:
    """Production log levels: pytest-homeassistant sets INFO and echoes every SQL statement,
    which would cost more than what is measured."""
    logging.getLogger().setLevel(logging.WARNING)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)  # "custom integration"


_quiet_logs()


@pytest.fixture(autouse=True)
def no_secret_in_logs() -> None:
    """Replaces the suite's log check: the bench runs without pytest's logging plugin, whose
    capture would be measured (`scripts/test` checks the logs of the same code paths)."""


@pytest.fixture
def recorder_db_url(
    tmp_path_factory: pytest.TempPathFactory, hass_fixture_setup: list[bool]
) -> str:
    """The recorder writes a SQLite file, as in production (not an in-memory database)."""
    assert not hass_fixture_setup
    path = tmp_path_factory.mktemp("bench") / "bench.db"
    return f"sqlite:///{path}"


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """Home Assistant's default commit interval (the test harness commits every event, which
    also switches SQLite to synchronous=FULL)."""
    return {"commit_interval": 5}


@pytest.fixture(autouse=True)
async def enable_event_loop_debug() -> None:
    """Home Assistant does not run its loop in debug mode; the test harness does."""
    asyncio.get_running_loop().set_debug(False)


@pytest.fixture
async def bench_hass(hass: HomeAssistant, recorder_mock: Any) -> HomeAssistant:
    """Home Assistant with a recorder on a SQLite file and production log levels."""
    _quiet_logs()
    return hass


@pytest.fixture
def counter(bench_hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> RowCounter:
    """Counts every row and sum adjustment the integration sends to the recorder."""
    rows = RowCounter()
    rows.install(bench_hass, monkeypatch.setattr)
    return rows


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A scenario that breaks is an ERROR row of the table (and a failed run)."""
    report = yield
    if report.failed and call.excinfo is not None:
        message = call.excinfo.exconly().splitlines()[0][:160]
        RESULTS.error(item.name, f"{report.when}: {message}")
    return report


_LOAD_KEY = pytest.StashKey[tuple[float, ...]]()
_JSON_KEY = pytest.StashKey[Path]()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Note the machine's load: other processes make every time longer."""
    session.config.stash[_LOAD_KEY] = os.getloadavg()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Complete the figures, write the JSON; a missed target fails the run."""
    RESULTS.finish()
    if not RESULTS.figures:
        return
    path = json_path(ROOT)
    meta = run_meta(ROOT)
    if _LOAD_KEY in session.config.stash:
        load: tuple[float, ...] = session.config.stash[_LOAD_KEY]
        meta["loadavg_start"] = list(load)
    meta["loadavg_end"] = list(os.getloadavg())
    RESULTS.write_json(path, meta)
    session.config.stash[_JSON_KEY] = path
    if RESULTS.exit_code() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The table, the outcome and where the JSON is."""
    if not RESULTS.figures:
        return
    load = config.stash[_LOAD_KEY][0] if _LOAD_KEY in config.stash else None
    json_file = config.stash.get(_JSON_KEY, None)
    terminalreporter.write_sep("=", "Performance and politeness")
    for line in RESULTS.report(load=load, json_file=json_file):
        terminalreporter.write_line(line)
