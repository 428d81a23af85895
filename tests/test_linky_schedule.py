"""30 simulated days: one daily sync inside the window, backfill within the budget."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.linky_climkit.coordinator import LinkyCoordinator
from custom_components.linky_climkit.importer import statistic_id
from tests.conftest import NOW, PRM, PROD_PRM, SYNC_OFFSET, linky_entry
from tests.simulators.conso_api import PARIS, CallRecord, ConsoApiSimulator
from tests.statistics_reader import assert_continuous, day_total, hourly_rows, rows_of_day


async def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    coordinators: list[LinkyCoordinator],
    until: datetime,
) -> None:
    """Jump from one scheduled run to the next until `until`."""
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


def max_calls_in_window(calls: list[CallRecord], window: timedelta = timedelta(hours=12)) -> int:
    """The largest number of calls in any rolling window."""
    stamps = sorted(c.at for c in calls)
    best = 0
    for i, start in enumerate(stamps):
        best = max(best, sum(1 for s in stamps[i:] if s - start < window))
    return best


async def setup(hass: HomeAssistant, sim: ConsoApiSimulator, prm: str) -> LinkyCoordinator:
    entry = linky_entry(sim, prm)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: LinkyCoordinator = entry.runtime_data
    return coordinator


@pytest.mark.usefixtures("recorder_mock")
async def test_thirty_days_budget_schedule_and_backfill(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Two PRMs for 30 days: the cap holds, syncs run at the stable time, backfill finishes."""
    hass = paris
    freezer.move_to(NOW)
    coordinators = [await setup(hass, conso_sim, PRM)]
    coordinators.append(await setup(hass, conso_sim, PROD_PRM))
    end = NOW + timedelta(days=30)
    await advance(hass, freezer, coordinators, end)

    assert max_calls_in_window(conso_sim.calls) <= 24
    assert all(c.status != 429 for c in conso_sim.calls)

    # Daily syncs: the first daily call of each day is at 07:00:17 local (the stable offset).
    daily_calls = [
        c for c in conso_sim.calls_of("consommation_quotidienne") if c.at > NOW + timedelta(hours=1)
    ]
    first_of_day: dict[tuple[str, date], datetime] = {}
    for call in daily_calls:
        key = (call.params["pointId"], call.at.astimezone(PARIS).date())
        first_of_day.setdefault(key, call.at.astimezone(PARIS))
    assert len(first_of_day) == 2 * 30
    for moment in first_of_day.values():
        offset = (moment - moment.replace(hour=6, minute=0, second=0, microsecond=0)).seconds
        assert SYNC_OFFSET <= offset <= SYNC_OFFSET + 2, moment
    # Published at 08:00: one retry 90 minutes later, then nothing more that day.
    per_day: dict[tuple[str, date], int] = {}
    for call in daily_calls:
        key = (call.params["pointId"], call.at.astimezone(PARIS).date())
        per_day[key] = per_day.get(key, 0) + 1
    assert set(per_day.values()) == {2}

    # Backfill finished: 24 months of hourly rows, day totals still the billing figures.
    for coordinator in coordinators:
        assert not coordinator._backfill_channels()
    rows = await hourly_rows(hass, statistic_id(PRM, "consumption"))
    assert_continuous(rows)
    for back in (30, 200, 700):
        day = end.date() - timedelta(days=back)
        assert len(rows_of_day(rows, day)) in (23, 24, 25), day
        assert day_total(rows, day) == pytest.approx(conso_sim.daily_wh(PRM, day) / 1000, abs=1e-4)
    old = end.date() - timedelta(days=1000)
    assert len(rows_of_day(rows, old)) == 1
    production = await hourly_rows(hass, statistic_id(PROD_PRM, "production"))
    assert_continuous(production)
    day = end.date() - timedelta(days=400)
    assert len(rows_of_day(production, day)) == 24
    assert day_total(production, day) == pytest.approx(
        conso_sim.daily_wh(PROD_PRM, day, production=True) / 1000, abs=1e-4
    )
