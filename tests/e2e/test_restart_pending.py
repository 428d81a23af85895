"""A restart the way a user makes one (SIGTERM, then start), in a real Home Assistant process,
while an import is under way: a Linky first import, a Climkit history import.

Home Assistant must reach "running" at once (before, the set-up waited on the recorder, which
waits for Home Assistant to start: 300 s of "Waiting for integrations to complete setup",
then the entry failed), and the import must end with every day equal to the simulators'
ground truth (nothing lost, nothing doubled), read back through the WebSocket API.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import DOMAIN, OWNER, add_climkit, add_linky, until
from tests.e2e.test_hard_stop import (
    Run,
    _settled,
    climkit_differences,
    linky_differences,
    run,
)

__all__ = ["run"]  # the fixture

RUNNING_WITHIN = 30.0  # seconds from the process start to Home Assistant "running"
SLOW_SETUP = ("Waiting for integrations to complete setup", "is taking over")


def _stored(config: Path, kind: str) -> dict[str, Any]:
    """The integration's persisted state of one kind (its only entry of that kind)."""
    found = sorted((config / ".storage").glob(f"{DOMAIN}.{kind}.*"))
    assert len(found) == 1, found
    return dict(json.loads(found[0].read_text(encoding="utf-8"))["data"])


def _linky_pending(config: Path) -> bool:
    return bool(_stored(config, "linky").get("pending"))


def _climkit_pending(config: Path) -> bool:
    state = _stored(config, "climkit")
    cursor, start = state.get("history_cursor"), state.get("history_start")
    return start is None or cursor is None or cursor > start


type Differences = Callable[[Run], Awaitable[list[str]]]
CASES: dict[str, tuple[Callable[[Run], Awaitable[Any]], Callable[[Path], bool], Differences]] = {
    "linky-first-import": (lambda r: add_linky(r.api, r.sims), _linky_pending, linky_differences),
    "climkit-history": (
        lambda r: add_climkit(r.api, r.sims),
        _climkit_pending,
        climkit_differences,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_restart_while_an_import_is_under_way(run: Run, case: str) -> None:
    add, pending, differences = CASES[case]
    await run.start()
    await run.api.onboard(OWNER)
    run.sims.conso.delay_seconds = 0.5  # a first import of a few seconds, to stop in
    assert (await add(run))["type"] == "create_entry"
    await run.stop()
    run.sims.conso.delay_seconds = 0.0
    assert pending(run.home.config_dir), "the import ended before the stop: nothing to test"
    log_before = run.home.log.read_text(encoding="utf-8", errors="replace")

    started = time.monotonic()
    await run.start()

    async def running() -> bool | None:
        return (await run.api.ws("get_config"))["state"] == "RUNNING" or None

    await until(running, "Home Assistant running", RUNNING_WITHIN * 3)
    elapsed = time.monotonic() - started
    assert elapsed < RUNNING_WITHIN, f"Home Assistant took {elapsed:.0f} s to start"
    await run.loaded()
    await _settled(lambda: differences(run), f"{case} after the restart")
    assert not pending(run.home.config_dir)
    log = run.home.log.read_text(encoding="utf-8", errors="replace")[len(log_before) :]
    slow = [line for line in log.splitlines() if any(s in line for s in SLOW_SETUP)]
    assert not slow, slow
