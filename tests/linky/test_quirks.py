"""Load-curve quirks and malformed answers: import what is there, heal later, never double."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from custom_components.linky_climkit.statistics.ids import statistic_id
from tests.conftest import NOW, PRM
from tests.helpers.statistics_reader import assert_continuous, day_total, hourly_rows, rows_of_day
from tests.helpers.time_travel import advance, setup_linky
from tests.simulators.conso_api import ConsoApiSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock")
CONSUMPTION = statistic_id(PRM, "consumption")
DAY = NOW.date()  # published on the next morning's sync
NEXT = NOW + timedelta(days=1)


async def sync_next_morning(
    hass: HomeAssistant, sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """First import now, then the next day's sync (08:30 retry included)."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(hass, sim, PRM)
    await advance(hass, freezer, [coordinator], NEXT.replace(hour=12))
    return coordinator  # type: ignore[return-value]


@pytest.mark.parametrize("quirk", ["partial", "null"])
async def test_incomplete_curve_day_heals(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory, quirk: str
) -> None:
    """A day with 20 of 48 points, or all points "null": one midnight row with the daily
    figure; the next sync, with the full curve, replaces it with 24 hourly rows."""
    if quirk == "partial":
        conso_sim.partial_days[DAY] = 20
    else:
        conso_sim.null_days.add(DAY)
    coordinator = await sync_next_morning(paris, conso_sim, freezer)
    rows = await hourly_rows(paris, CONSUMPTION)
    assert len(rows_of_day(rows, DAY)) == 1
    total = conso_sim.daily_wh(PRM, DAY) / 1000
    assert day_total(rows, DAY) == pytest.approx(total)
    conso_sim.partial_days.clear()
    conso_sim.null_days.clear()
    await advance(paris, freezer, [coordinator], NEXT.replace(hour=12) + timedelta(days=1))
    rows = await hourly_rows(paris, CONSUMPTION)
    assert len(rows_of_day(rows, DAY)) == 24
    assert day_total(rows, DAY) == pytest.approx(total, abs=1e-4)
    assert_continuous(rows)


@pytest.mark.parametrize("step", [15, 60])
async def test_other_steps(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory, step: int
) -> None:
    """15- or 60-minute steps give the same 24 hourly rows, scaled to the daily figure."""
    conso_sim.step_override[DAY] = step
    await sync_next_morning(paris, conso_sim, freezer)
    rows = await hourly_rows(paris, CONSUMPTION)
    day = rows_of_day(rows, DAY)
    assert len(day) == 24
    assert day_total(rows, DAY) == pytest.approx(conso_sim.daily_wh(PRM, DAY) / 1000, abs=1e-4)
    points = conso_sim.curve_points(PRM, DAY)
    first_hour = sum(w * s / 60 for _, w, s in points[: 60 // step]) / 1000
    scale = (conso_sim.daily_wh(PRM, DAY) / 1000) / (conso_sim.curve_wh(PRM, DAY) / 1000)
    assert day[0]["state"] == pytest.approx(first_hour * scale, rel=1e-6)


@pytest.mark.parametrize("fault", ["html_200", "truncated_json", "wrong_shape"])
async def test_malformed_answer_fails_then_heals(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory, fault: str
) -> None:
    """A 200 that is not the documented JSON fails the sync; what was read before it (the daily
    figure) is imported, nothing else changes, and the retry after the back-off heals the day."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, conso_sim, PRM)
    before = await hourly_rows(paris, CONSUMPTION)
    sync = NEXT.replace(hour=8, minute=30, second=18)
    await advance(paris, freezer, [coordinator], sync - timedelta(seconds=2))
    conso_sim.add_fault(fault, types={"courbe_de_charge_consommation"}, remaining=1)
    await advance(paris, freezer, [coordinator], sync)
    assert not coordinator.last_update_success
    after_failure = await hourly_rows(paris, CONSUMPTION)
    assert_continuous(after_failure)
    assert len(rows_of_day(after_failure, DAY)) == 1  # the daily figure, imported as it came
    assert day_total(after_failure, DAY) == pytest.approx(conso_sim.daily_wh(PRM, DAY) / 1000)
    week = [DAY - timedelta(days=n) for n in range(1, 7)]
    for day in week:
        assert rows_of_day(after_failure, day) == rows_of_day(before, day)
    # Yesterday's sync is not complete: the afternoon retry (13:00–15:00) fetches it again.
    await advance(paris, freezer, [coordinator], sync.replace(hour=16))
    assert coordinator.last_update_success
    rows = await hourly_rows(paris, CONSUMPTION)
    assert len(rows_of_day(rows, DAY)) == 24
    assert day_total(rows, DAY) == pytest.approx(conso_sim.daily_wh(PRM, DAY) / 1000, abs=1e-4)
    assert_continuous(rows)
