"""Move Home Assistant's clock from one scheduled run to the next."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.linky_climkit.climkit.coordinator import ClimkitCoordinator
from custom_components.linky_climkit.linky.coordinator import LinkyCoordinator
from custom_components.linky_climkit.linky.plan import needs
from custom_components.linky_climkit.statistics.ledger import Ledger
from tests.conftest import climkit_entry, linky_entry
from tests.simulators.climkit import ClimkitSimulator
from tests.simulators.conso_api import PARIS, CallRecord, ConsoApiSimulator


async def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    coordinators: Sequence[LinkyCoordinator | ClimkitCoordinator],
    until: datetime,
) -> None:
    """Fire every scheduled run up to `until`, in order, then stop the clock there."""
    while True:
        due = [c.next_run for c in coordinators if c.next_run is not None and c.next_run <= until]
        if not due:
            break
        moment = min(due)
        freezer.move_to(moment)
        async_fire_time_changed(hass, moment)
        await hass.async_block_till_done(wait_background_tasks=True)
    freezer.move_to(until)
    async_fire_time_changed(hass, until)
    await hass.async_block_till_done(wait_background_tasks=True)


async def setup_linky(
    hass: HomeAssistant, sim: ConsoApiSimulator, prm: str
) -> tuple[MockConfigEntry, LinkyCoordinator]:
    """Add and set up a Linky entry; return it and its coordinator."""
    entry = linky_entry(sim, prm)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry, entry.runtime_data


async def setup_climkit_site(
    hass: HomeAssistant,
    sim: ClimkitSimulator,
    freezer: FrozenDateTimeFactory,
    options: dict[str, Any] | None = None,
) -> tuple[MockConfigEntry, ClimkitCoordinator]:
    """The demo site's cloud entry (Zurich time), set up with its whole history imported."""
    await hass.config.async_set_time_zone("Europe/Zurich")
    entry = climkit_entry(sim)
    if options:
        entry = MockConfigEntry(
            domain=entry.domain,
            title=entry.title,
            unique_id=entry.unique_id,
            data=dict(entry.data),
            options=options,
        )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    coordinator: ClimkitCoordinator = entry.runtime_data.coordinator
    for _ in range(5):
        if coordinator.state.history_done:
            break
        assert coordinator.next_run is not None
        await advance(hass, freezer, [coordinator], coordinator.next_run)
    return entry, coordinator


def max_calls_in_window(calls: list[CallRecord], window: timedelta = timedelta(hours=12)) -> int:
    """The largest number of calls in any rolling window."""
    stamps = sorted(c.at for c in calls)
    return max(
        (sum(1 for s in stamps[i:] if s - start < window) for i, start in enumerate(stamps)),
        default=0,
    )


def history_known(coordinator: LinkyCoordinator) -> None:
    """For tests about other calls: the ledger knows every day, no repair is planned."""
    today = dt_util.now(PARIS).date()
    for need in needs(production=True):
        key = Ledger.key(coordinator.prm, need.channel)
        first = today - timedelta(days=need.depth_days + 1)
        coordinator.ledger.absent(key, first, today, need.mark)


async def step_runs(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    coordinator: LinkyCoordinator | ClimkitCoordinator,
    until: datetime,
    limit: int = 40,
) -> list[datetime]:
    """Fire `coordinator`'s scheduled runs one at a time up to `until`, then stop the clock
    there; the moments they ran. More than `limit` runs fail the test (a coordinator that
    re-arms at once after a failure would otherwise never let it end)."""
    moments: list[datetime] = []
    while coordinator.next_run is not None and coordinator.next_run <= until:
        moment = coordinator.next_run
        moments.append(moment)
        assert len(moments) <= limit, f"more than {limit} runs before {until}: {moments[-3:]}"
        freezer.move_to(moment)
        async_fire_time_changed(hass, moment)
        await hass.async_block_till_done(wait_background_tasks=True)
    freezer.move_to(until)
    async_fire_time_changed(hass, until)
    await hass.async_block_till_done(wait_background_tasks=True)
    return moments


def bursts(stamps: Sequence[datetime], within: timedelta = timedelta(minutes=5)) -> list[datetime]:
    """The first request of each burst (requests less than `within` apart: one run's)."""
    ordered = sorted(stamps)
    return [s for i, s in enumerate(ordered) if i == 0 or s - ordered[i - 1] >= within]


def gaps(starts: Sequence[datetime]) -> list[timedelta]:
    """The time between successive bursts."""
    return [b - a for a, b in itertools.pairwise(starts)]


def most_in_window(stamps: Sequence[datetime], window: timedelta = timedelta(hours=12)) -> int:
    """The largest number of requests in any rolling window."""
    ordered = sorted(stamps)
    return max(
        (sum(1 for s in ordered[i:] if s - start < window) for i, start in enumerate(ordered)),
        default=0,
    )
