"""30 simulated days: one daily sync inside the window, backfill within the budget."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from custom_components.linky_climkit.statistics.ids import statistic_id
from tests.conftest import FULL_HISTORY, NOW, PRM, PROD_PRM, SYNC_OFFSET
from tests.helpers.statistics_reader import assert_continuous, day_total, hourly_rows, rows_of_day
from tests.helpers.time_travel import advance, max_calls_in_window, setup_linky
from tests.simulators.conso_api import PARIS, ConsoApiSimulator


@pytest.mark.usefixtures("recorder_mock")
async def test_thirty_days_budget_schedule_and_backfill(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Two PRMs for 30 days: the cap holds, syncs run at the stable time, backfill finishes."""
    hass = paris
    freezer.move_to(NOW)
    for meter in conso_sim.meters.values():
        meter.hourly_since = FULL_HISTORY
    coordinators = [(await setup_linky(hass, conso_sim, PRM))[1]]
    coordinators.append((await setup_linky(hass, conso_sim, PROD_PRM))[1])
    end = NOW + timedelta(days=30)
    await advance(hass, freezer, coordinators, end)

    assert max_calls_in_window(conso_sim.calls) <= 24
    assert all(c.status != 429 for c in conso_sim.calls)

    # Daily syncs: the first daily call of each day is at 08:30:17 local, the first rung of the
    # stable offset (06:00 + 1 h 17 s + k × 90 min) after publication.
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
        assert SYNC_OFFSET + 5400 <= offset <= SYNC_OFFSET + 5400 + 2, moment
    # Published at 08:00: the first attempt finds the day, nothing more that day.
    per_day: dict[tuple[str, date], int] = {}
    for call in daily_calls:
        key = (call.params["pointId"], call.at.astimezone(PARIS).date())
        per_day[key] = per_day.get(key, 0) + 1
    assert set(per_day.values()) == {1}

    # Backfill finished: 24 months of hourly rows, day totals still the billing figures.
    for coordinator in coordinators:
        assert coordinator.history_complete()
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
