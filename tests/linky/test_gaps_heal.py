"""Gaps heal wherever they are: days missed while Home Assistant was off, a week Enedis has no
load curve for, the days after an activation inside a window. Checked day by day against the
simulator's ground truth, read back from the recorder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.statistics.ids import statistic_id
from custom_components.linky_climkit.statistics.ledger import Mark
from tests.conftest import NOW, PRM
from tests.helpers.statistics_reader import (
    assert_continuous,
    day_total,
    days_between,
    hourly_rows,
    rows_of_day,
)
from tests.helpers.time_travel import advance, max_calls_in_window, setup_linky
from tests.simulators.conso_api import PARIS, ConsoApiSimulator, MeterProfile

CONSUMPTION = statistic_id(PRM, "consumption")


@pytest.fixture
async def meter_sim(socket_enabled: None) -> AsyncIterator[ConsoApiSimulator]:
    """One consumption meter with 60 days of load curve."""
    sim = ConsoApiSimulator([MeterProfile(PRM, seed=11, hourly_since=NOW.date() - timedelta(60))])
    sim.base_url = await sim.start() + "/api"  # type: ignore[attr-defined]
    yield sim
    await sim.stop()


async def assert_days_match(
    hass: HomeAssistant, sim: ConsoApiSimulator, first: date, last: date, *, hours: int | None
) -> None:
    """Every day of [first, last]: the billing total, with `hours` rows when given."""
    rows = await hourly_rows(hass, CONSUMPTION)
    assert_continuous(rows)
    for day in days_between(first, last):
        if hours is not None:
            assert len(rows_of_day(rows, day)) == hours, day
        assert day_total(rows, day) == pytest.approx(sim.daily_wh(PRM, day) / 1000, abs=1e-4), day


@pytest.mark.usefixtures("recorder_mock")
async def test_twelve_days_off_are_caught_up(
    paris: HomeAssistant, meter_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Home Assistant off for 12 days: the days older than the daily sync's week come back
    too, daily and hourly, within a day of the restart."""
    freezer.move_to(NOW)
    entry, coordinator = await setup_linky(paris, meter_sim, PRM)
    await advance(paris, freezer, [coordinator], NOW + timedelta(hours=2))
    assert await paris.config_entries.async_unload(entry.entry_id)
    back = NOW + timedelta(days=12)
    freezer.move_to(back)
    assert await paris.config_entries.async_setup(entry.entry_id)
    await paris.async_block_till_done(wait_background_tasks=True)
    await advance(paris, freezer, [entry.runtime_data], back + timedelta(days=1))

    await assert_days_match(
        paris, meter_sim, NOW.date() - timedelta(days=7), back.date() - timedelta(1), hours=24
    )
    assert max_calls_in_window(meter_sim.calls) <= 24  # within the budget


@pytest.mark.usefixtures("recorder_mock")
async def test_the_hourly_history_goes_past_weeks_without_load_curve(
    paris: HomeAssistant, meter_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Enedis has no load curve for two weeks (a hole in its data): the weeks before it are
    still fetched, the hole keeps its daily totals."""
    hole = set(days_between(NOW.date() - timedelta(days=35), NOW.date() - timedelta(days=22)))
    meter_sim.curve_holes = hole
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, meter_sim, PRM)
    await advance(paris, freezer, [coordinator], NOW + timedelta(days=2))

    first = NOW.date() - timedelta(days=60)
    await assert_days_match(paris, meter_sim, first, min(hole) - timedelta(1), hours=24)
    await assert_days_match(paris, meter_sim, min(hole), max(hole), hours=1)
    await assert_days_match(paris, meter_sim, max(hole) + timedelta(1), NOW.date(), hours=24)


@pytest.mark.usefixtures("recorder_mock")
async def test_a_corrected_day_gets_its_load_curve_read_again(
    paris: HomeAssistant, meter_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Enedis corrects the evening of a day 20 days back, whose hours are imported: the daily
    sync brings the new total (the hours rescaled meanwhile, the ledger says "pending a
    re-read"), then a repair reads that week's load curve again and the day gets its new
    shape."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, meter_sim, PRM)
    await advance(paris, freezer, [coordinator], NOW + timedelta(hours=12))
    corrected = NOW.date() - timedelta(days=20)
    key = f"{PRM}:consumption"
    assert coordinator.ledger.has(key, corrected, Mark.HOURLY)
    meter_sim.evening_corrections[corrected] = 1.8
    calls = len(meter_sim.calls)
    sync = (NOW + timedelta(days=1)).replace(hour=8, minute=31)
    await advance(paris, freezer, [coordinator], sync)
    assert coordinator.have_yesterday()
    assert coordinator.ledger.has(key, corrected, Mark.RESHAPED)
    assert coordinator.completeness()["consumption hourly"]["partial"] >= 1
    await advance(paris, freezer, [coordinator], sync + timedelta(hours=3))
    reread = [
        c
        for c in meter_sim.calls[calls:]
        if c.type == "courbe_de_charge_consommation"
        and date.fromisoformat(c.params["dateDebut"])
        <= corrected
        < date.fromisoformat(c.params["dateFin"])
    ]
    assert reread
    assert not coordinator.ledger.has(key, corrected, Mark.RESHAPED)

    served: dict[int, float] = {}
    for stamp, watts, step in meter_sim.curve_points(PRM, corrected):
        end = datetime.fromisoformat(stamp).replace(tzinfo=PARIS)
        hour = (end - timedelta(minutes=step)).hour
        served[hour] = served.get(hour, 0.0) + watts * step / 60
    scale = meter_sim.daily_wh(PRM, corrected) / sum(served.values())
    rows = rows_of_day(await hourly_rows(paris, CONSUMPTION), corrected)
    assert len(rows) == 24
    for row in rows:
        hour = row["start"].astimezone(PARIS).hour
        assert row["state"] == pytest.approx(served[hour] * scale / 1000, abs=1e-4), hour
    await assert_days_match(paris, meter_sim, corrected, corrected, hours=24)


@pytest.mark.usefixtures("recorder_mock")
@pytest.mark.parametrize("refuses_start", [False, True], ids=["span", "start"])
async def test_every_day_since_an_activation_inside_a_window(
    paris: HomeAssistant,
    meter_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    refuses_start: bool,
) -> None:
    """A meter activated 400 days ago: the yearly window that straddles the activation is
    refused (ADAM-ERR0123) under one reading of Enedis, served from the activation under the
    other; either way every day since the activation is imported, for a few calls more."""
    activation = NOW.date() - timedelta(days=400)
    meter_sim.meters[PRM].activation = activation
    meter_sim.activation_refuses_start = refuses_start
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, meter_sim, PRM)
    await advance(paris, freezer, [coordinator], NOW + timedelta(days=2))

    rows = await hourly_rows(paris, CONSUMPTION)
    assert rows[0]["start"].date() == activation - timedelta(1)  # midnight Paris, in UTC
    await assert_days_match(paris, meter_sim, activation, NOW.date() - timedelta(1), hours=None)
    daily_calls = len(meter_sim.calls_of("consommation_quotidienne"))
    assert daily_calls <= 3 + 3 + 11  # daily syncs, first import, probes of the activation


@pytest.mark.usefixtures("recorder_mock")
async def test_an_entry_without_a_ledger_reads_it_from_the_statistics(
    paris: HomeAssistant,
    meter_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """An entry saved by a version without the ledger: after the start, the ledger is read
    back from the recorder (no call), and nothing the statistics hold is fetched again."""
    freezer.move_to(NOW)
    entry, coordinator = await setup_linky(paris, meter_sim, PRM)
    await advance(paris, freezer, [coordinator], NOW + timedelta(hours=3))
    held = Mark.DAILY | Mark.HOURLY
    before = {
        key: {day: mark & held for day, mark in days.items() if mark & held}
        for key, days in coordinator.ledger.days.items()
    }
    assert await paris.config_entries.async_unload(entry.entry_id)
    del hass_storage[f"{DOMAIN}.ledger.{entry.entry_id}"]
    assert await paris.config_entries.async_setup(entry.entry_id)
    await paris.async_block_till_done(wait_background_tasks=True)
    coordinator = entry.runtime_data
    calls = len(meter_sim.calls)
    await advance(paris, freezer, [coordinator], NOW + timedelta(hours=4))

    after = {
        key: {day: mark & held for day, mark in days.items() if mark & held}
        for key, days in coordinator.ledger.days.items()
    }
    for key, days in before.items():
        assert {d: m for d, m in after[key].items() if d in days} == days, key
    for call in meter_sim.calls[calls:]:
        first = date.fromisoformat(call.params["dateDebut"])
        end = date.fromisoformat(call.params["dateFin"])
        need = Mark.HOURLY if call.type.startswith("courbe") else Mark.DAILY
        channel = "max_power" if call.type.startswith("puissance") else "consumption"
        known = before.get(f"{PRM}:{channel}", {})
        asked = days_between(first, end - timedelta(1))
        assert any(not known.get(day, Mark(0)) & need for day in asked), call


@pytest.mark.usefixtures("recorder_mock")
async def test_a_late_correction_older_than_a_week_is_picked_up(
    paris: HomeAssistant, meter_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Enedis corrects a day 20 days back (BEST value): the next daily sync brings it, the
    day keeps its hourly shape scaled to the new total, later sums follow."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, meter_sim, PRM)
    await advance(paris, freezer, [coordinator], NOW + timedelta(hours=6))
    corrected = NOW.date() - timedelta(days=20)
    meter_sim.corrections[corrected] = 1.5
    await advance(paris, freezer, [coordinator], NOW + timedelta(days=1, hours=3))

    await assert_days_match(paris, meter_sim, corrected, corrected, hours=24)


@pytest.mark.usefixtures("recorder_mock")
@pytest.mark.parametrize("refuses_start", [False, True], ids=["span", "start"])
async def test_a_meter_activated_twenty_days_ago_syncs_every_day(
    paris: HomeAssistant,
    meter_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    refuses_start: bool,
) -> None:
    """Activated 20 days ago: the daily sync never asks before the activation (its 35-day
    figures would be refused under one reading), so every day completes."""
    activation = NOW.date() - timedelta(days=20)
    meter_sim.meters[PRM].activation = activation
    meter_sim.activation_refuses_start = refuses_start
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, meter_sim, PRM)
    for day in (1, 2, 3):
        await advance(paris, freezer, [coordinator], NOW + timedelta(days=day, hours=3))
        assert coordinator.have_yesterday(), day
    last = (NOW + timedelta(days=3)).date() - timedelta(1)
    await assert_days_match(paris, meter_sim, activation, last, hours=None)


@pytest.mark.usefixtures("recorder_mock")
async def test_a_failed_repair_pauses_the_repairs_not_the_entry(
    paris: HomeAssistant, meter_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Enedis fails (500) while a gap is filled: the repairs pause for hours, the entry keeps
    no back-off (its daily sync is not delayed) and its entities stay available."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, meter_sim, PRM)
    assert not coordinator.history_complete()
    meter_sim.add_fault("technical_error", types={"courbe_de_charge_consommation"}, remaining=1)
    calls = len(meter_sim.calls)
    await advance(paris, freezer, [coordinator], NOW + timedelta(hours=1))
    assert len(meter_sim.calls) == calls + 1  # the failed call, then no more repairs
    assert coordinator.state.backoff_until is None
    assert coordinator.last_update_success
    assert coordinator.next_run is not None
    assert coordinator.next_run >= NOW + timedelta(hours=3)
    await advance(paris, freezer, [coordinator], NOW + timedelta(days=1, hours=1))
    assert coordinator.have_yesterday()
