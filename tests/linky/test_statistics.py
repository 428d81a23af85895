"""Statistics invariants for Linky, read back from the recorder."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback

from custom_components.linky_climkit.const import EVENT_DATA_IMPORTED
from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.statistics.ids import statistic_id
from custom_components.linky_climkit.statistics.ledger import Ledger, Mark
from tests.conftest import FULL_HISTORY, NOW, PRM, PROD_PRM
from tests.helpers.statistics_reader import assert_continuous, day_total, hourly_rows, rows_of_day
from tests.helpers.time_travel import advance, setup_linky
from tests.simulators.conso_api import PARIS, ConsoApiSimulator

CONSUMPTION = statistic_id(PRM, "consumption")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Paris wall-clock time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@pytest.mark.usefixtures("recorder_mock")
@pytest.mark.parametrize(
    ("frozen", "dst_day", "hours"),
    [
        (at(date(2026, 3, 31), 9, 30), date(2026, 3, 29), 23),
        (NOW.replace(month=10, day=27), date(2026, 10, 25), 25),
    ],
)
async def test_dst_days(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    frozen: datetime,
    dst_day: date,
    hours: int,
) -> None:
    """DST days have 23 or 25 hourly rows whose total is the daily figure."""
    freezer.move_to(frozen)
    conso_sim.meters[PROD_PRM].hourly_since = FULL_HISTORY
    await setup_linky(paris, conso_sim, PROD_PRM)
    for channel, production in (("consumption", False), ("production", True)):
        rows = await hourly_rows(paris, statistic_id(PROD_PRM, channel))
        assert_continuous(rows)
        day_rows = rows_of_day(rows, dst_day)
        assert len(day_rows) == hours
        assert len({r["start"] for r in day_rows}) == hours
        expected = conso_sim.daily_wh(PROD_PRM, dst_day, production=production) / 1000
        assert day_total(rows, dst_day) == pytest.approx(expected, abs=1e-4)
        # The shape is the load curve's: the hour of the change carries two half-hour pairs.
        day_before = rows_of_day(rows, dst_day - timedelta(days=1))
        assert len(day_before) == 24


@pytest.mark.usefixtures("recorder_mock")
async def test_daily_sync_reimport_and_correction(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Re-reading the trailing week writes nothing old; a corrected day shifts later sums."""
    hass = paris
    freezer.move_to(NOW)
    events: list[Event[dict[str, Any]]] = []

    @callback
    def not_backfill(data: Mapping[str, Any]) -> bool:
        return data["reason"] != "repair"

    hass.bus.async_listen(EVENT_DATA_IMPORTED, events.append, event_filter=not_backfill)
    _, coordinator = await setup_linky(hass, conso_sim, PRM)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(events) == 1
    assert events[0].data["meter"] == PRM
    before = await hourly_rows(hass, CONSUMPTION)

    # Next day: the trailing 7 days are re-read; only the new day is written.
    next_day = NOW + timedelta(days=1)
    await advance(hass, freezer, [coordinator], next_day)
    assert len(events) == 2
    new_day = next_day.date() - timedelta(days=1)
    assert events[1].data["first_day"] == events[1].data["last_day"] == new_day.isoformat()
    after = await hourly_rows(hass, CONSUMPTION)
    recent = NOW - timedelta(days=7)
    after_by_start = {r["start"]: r for r in after}
    for row in before:
        if row["start"] >= recent:
            assert after_by_start[row["start"]] == row
    assert day_total(after, new_day) == pytest.approx(conso_sim.daily_wh(PRM, new_day) / 1000)

    # Enedis corrects a day three days back (BEST): only that day's rows change.
    corrected = new_day - timedelta(days=3)
    old_total = day_total(after, corrected)
    conso_sim.corrections[corrected] = 1.25
    await advance(hass, freezer, [coordinator], next_day + timedelta(days=1))
    final = await hourly_rows(hass, CONSUMPTION)
    assert_continuous(final)
    assert events[2].data["first_day"] == corrected.isoformat()
    new_total = day_total(final, corrected)
    assert new_total == pytest.approx(conso_sim.daily_wh(PRM, corrected) / 1000, abs=1e-4)
    assert new_total == pytest.approx(old_total * 1.25, rel=0.01)
    by_start = {r["start"]: r for r in final}
    for row in after:
        if row["start"] < recent:
            continue
        day = row["start"].astimezone(PARIS).date()
        if day == corrected:
            continue
        assert by_start[row["start"]]["state"] == pytest.approx(row["state"])
        shift = new_total - old_total if day > corrected else 0.0
        assert by_start[row["start"]]["sum"] == pytest.approx(row["sum"] + shift, abs=1e-4)


@pytest.mark.usefixtures("recorder_mock")
async def test_restart_mid_backfill(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A reload in the middle of the backfill resumes where it stopped: no gap, no double."""
    hass = paris
    freezer.move_to(NOW)
    conso_sim.meters[PRM].hourly_since = FULL_HISTORY
    entry, coordinator = await setup_linky(hass, conso_sim, PRM)
    await advance(hass, freezer, [coordinator], NOW + timedelta(hours=1))
    key = Ledger.key(PRM, Channel.CONSUMPTION)
    hourly = {day for day, mark in coordinator.ledger.days[key].items() if mark & Mark.HOURLY}
    assert 14 < len(hourly) < 60
    curve_calls = len(conso_sim.calls_of("courbe_de_charge_consommation"))

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(conso_sim.calls_of("courbe_de_charge_consommation")) == curve_calls
    coordinator = entry.runtime_data
    assert {day for day, mark in coordinator.ledger.days[key].items() if mark & Mark.HOURLY} == (
        hourly
    )
    await advance(hass, freezer, [coordinator], NOW + timedelta(days=6))
    assert coordinator.history_complete()

    windows = [
        (c.params["dateDebut"], c.params["dateFin"])
        for c in conso_sim.calls_of("courbe_de_charge_consommation")
        if c.status == 200
        and (
            date.fromisoformat(c.params["dateFin"]) - date.fromisoformat(c.params["dateDebut"])
        ).days
        == 7
    ]
    rows = await hourly_rows(hass, CONSUMPTION)
    assert_continuous(rows)
    assert len({r["start"] for r in rows}) == len(rows)
    first_hourly = NOW.date() - timedelta(days=725)
    edge = min(hourly)  # where the reload found the repairs
    for day in (first_hourly, edge, edge - timedelta(days=1), NOW.date() - timedelta(days=100)):
        assert len(rows_of_day(rows, day)) == 24, day
        assert day_total(rows, day) == pytest.approx(conso_sim.daily_wh(PRM, day) / 1000, abs=1e-4)
    assert len(windows) == len(set(windows))


@pytest.mark.usefixtures("recorder_mock")
async def test_unauthorized_starts_reauth(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 401 at the daily sync starts a reauth flow."""
    hass = paris
    freezer.move_to(NOW)
    entry, coordinator = await setup_linky(hass, conso_sim, PRM)
    conso_sim.add_fault("unauthorized")
    await advance(hass, freezer, [coordinator], NOW + timedelta(days=1))
    flows = hass.config_entries.flow.async_progress_by_handler("linky_climkit")
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert entry.state is ConfigEntryState.LOADED
