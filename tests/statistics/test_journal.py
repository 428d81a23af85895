"""The intent journal and its check-and-repair at the next start, on statistics broken on
purpose the way a hard stop leaves them (DESIGN invariant 7)."""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.models.statistics import StatisticData
from homeassistant.components.recorder.statistics import async_add_external_statistics
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.linky_climkit.linky.coordinator import LinkyCoordinator
from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.statistics.aggregation import day_start
from custom_components.linky_climkit.statistics.ids import energy_spec, statistic_id
from custom_components.linky_climkit.statistics.importer import StoredRow
from custom_components.linky_climkit.statistics.journal import Intent, Journal, Kind
from custom_components.linky_climkit.statistics.ledger import Ledger, Mark
from custom_components.linky_climkit.statistics.repair import breaks
from custom_components.linky_climkit.tariffs.stored import new_tariff_options, period_options
from custom_components.linky_climkit.tariffs.stored import with_period as with_prices
from tests.conftest import NOW, PRM, linky_entry
from tests.helpers.statistics_reader import assert_continuous, day_total, hourly_rows, rows_of_day
from tests.helpers.time_travel import advance, setup_linky
from tests.simulators.conso_api import PARIS, ConsoApiSimulator

CONSUMPTION = statistic_id(PRM, "consumption")
COST = statistic_id(PRM, "consumption_cost")
PRICE, FEE = 0.25, 12.0
DAILY_ONLY_DAY = NOW.date() - timedelta(days=20)  # one midnight row (before the hourly week)
T0 = datetime(2026, 11, 1, tzinfo=UTC)
_H = timedelta(hours=1)


def _rows(states: list[float], sums: list[float]) -> list[StoredRow]:
    return [
        StoredRow(T0 + timedelta(hours=i), state, total, None)
        for i, (state, total) in enumerate(zip(states, sums, strict=True))
    ]


def test_breaks_finds_each_break_and_what_shifts_it_back() -> None:
    states = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert breaks(10.0, _rows(states, [11.0, 13.0, 16.0, 20.0, 25.0])) == []
    # A block written, later sums not shifted by its +5: one break, at the first later row.
    assert breaks(10.0, _rows(states, [11.0, 13.0, 11.0, 15.0, 20.0])) == [(T0 + 2 * _H, 5.0)]
    # Two breaks: the second is measured once the first is shifted back.
    found = breaks(0.0, _rows(states, [1.0, 3.0, 4.0, 8.0, 20.0]))
    assert found == [(T0 + 2 * _H, 2.0), (T0 + 4 * _H, -7.0)]
    # The first row of a statistic: its sum is its state.
    assert breaks(0.0, _rows([1.0], [3.0])) == [(T0, -2.0)]


async def test_an_intent_is_saved_at_once_and_dropped_once_committed(hass: HomeAssistant) -> None:
    """Saved before the first step; a recorder wait that started before its last step was
    queued does not drop it, the next one does."""
    journal = Journal(hass, "entry")
    await journal.begin("statistic:x", Intent(Kind.WRITE, "x", T0, T0 + _H, "kWh"))
    before_queued = journal.mark()
    journal.queued("statistic:x")
    journal.committed(before_queued)
    assert "statistic:x" in journal.open
    reloaded = Journal(hass, "entry")
    await reloaded.async_load()
    assert [(i.kind, i.target, i.start, i.unit) for i in reloaded.pending] == [
        (Kind.WRITE, "x", T0, "kWh")
    ]
    journal.committed(journal.mark())
    await journal.async_flush()
    reloaded = Journal(hass, "entry")
    await reloaded.async_load()
    assert reloaded.pending == []


async def _restart(hass: HomeAssistant, entry: MockConfigEntry) -> LinkyCoordinator:
    """Unload and set up again: the journal is read, the repair runs before the first run."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    coordinator: LinkyCoordinator = entry.runtime_data
    return coordinator


async def _cut(hass: HomeAssistant, entry: MockConfigEntry, intent: Intent) -> None:
    """What a hard stop leaves besides the statistics: the intent, still saved."""
    journal = Journal(hass, entry.entry_id)
    await journal.begin(f"statistic:{intent.target}", intent)
    await async_wait_recording_done(hass)


def _rewrite(hass: HomeAssistant, row: dict[str, Any], extra: float) -> None:
    """One row rewritten with `extra` more energy, the later sums not shifted."""
    spec = energy_spec(PRM, Channel.CONSUMPTION, f"Linky {PRM} consumption")
    data = StatisticData(start=row["start"], state=row["state"] + extra, sum=row["sum"] + extra)
    async_add_external_statistics(hass, spec.metadata(), [data])


@pytest.mark.usefixtures("recorder_mock")
async def test_a_day_written_without_its_shift_is_repaired_at_the_next_start(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A corrected day written, the stop before the later sums are shifted: at the next
    start the sums are continuous again and every day keeps its value."""
    freezer.move_to(NOW)
    entry, _ = await setup_linky(paris, conso_sim, PRM)
    before = await hourly_rows(paris, CONSUMPTION)
    (midnight,) = rows_of_day(before, DAILY_ONLY_DAY)
    _rewrite(paris, midnight, 5.0)
    start = day_start(DAILY_ONLY_DAY, PARIS)
    end = day_start(DAILY_ONLY_DAY + timedelta(days=1), PARIS)
    await _cut(paris, entry, Intent(Kind.WRITE, CONSUMPTION, start, end, "kWh"))
    with pytest.raises(AssertionError):
        assert_continuous(await hourly_rows(paris, CONSUMPTION))
    calls = len(conso_sim.calls)

    await _restart(paris, entry)
    after = await hourly_rows(paris, CONSUMPTION)
    assert_continuous(after)
    assert [r["start"] for r in after] == [r["start"] for r in before]
    for back in range(1, 40):
        day = NOW.date() - timedelta(days=back)
        extra = 5.0 if day == DAILY_ONLY_DAY else 0.0
        assert day_total(after, day) == pytest.approx(day_total(before, day) + extra, abs=1e-6)
    assert len(conso_sim.calls) == calls
    journal = Journal(paris, entry.entry_id)
    await journal.async_load()
    assert journal.pending == []


def _tariff_options() -> dict[str, Any]:
    tariff = new_tariff_options("base", "EUR")
    period = period_options(date(2020, 1, 1), base_price=PRICE, subscription=FEE)
    return {"tariff": with_prices(tariff, period)}


async def _setup_with_tariff(hass: HomeAssistant, sim: ConsoApiSimulator) -> MockConfigEntry:
    entry = linky_entry(sim, PRM)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=_tariff_options())
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    return entry


@pytest.mark.usefixtures("recorder_mock")
async def test_a_cleared_cost_statistic_is_priced_again_without_a_call(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A replace cut after the clear: the cost statistic is empty at the next start; it is
    priced again from the stored energy, row for row, with no Conso API call."""
    freezer.move_to(NOW)
    entry = await _setup_with_tariff(paris, conso_sim)
    before = await hourly_rows(paris, COST)
    assert before
    get_instance(paris).async_clear_statistics([COST])
    start, end = before[0]["start"], before[-1]["start"] + _H
    await _cut(paris, entry, Intent(Kind.REPLACE, COST, start, end, "EUR", len(before)))
    assert await hourly_rows(paris, COST) == []
    calls = len(conso_sim.calls)

    await _restart(paris, entry)
    after = await hourly_rows(paris, COST)
    assert [r["start"] for r in after] == [r["start"] for r in before]
    assert [r["state"] for r in after] == pytest.approx([r["state"] for r in before], abs=1e-6)
    assert_continuous(after)
    assert len(conso_sim.calls) == calls


@pytest.mark.usefixtures("recorder_mock")
async def test_a_cleared_energy_statistic_is_read_again(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A replace of the energy cut after the clear: the days it was writing are queued to be
    read again (like `import_history`) and imported by the first run."""
    freezer.move_to(NOW)
    entry, _ = await setup_linky(paris, conso_sim, PRM)
    first, last = NOW.date() - timedelta(days=12), NOW.date() - timedelta(days=10)
    start, end = day_start(first, PARIS), day_start(last + timedelta(days=1), PARIS)
    get_instance(paris).async_clear_statistics([CONSUMPTION])
    await _cut(paris, entry, Intent(Kind.REPLACE, CONSUMPTION, start, end, "kWh", 72))

    coordinator = await _restart(paris, entry)
    await advance(paris, freezer, [coordinator], NOW + timedelta(minutes=5))
    after = await hourly_rows(paris, CONSUMPTION)
    assert {r["start"].astimezone(PARIS).date() for r in after} >= {
        first + timedelta(days=i) for i in range(3)
    }
    for day in (first, first + timedelta(days=1), last):
        assert day_total(after, day) == pytest.approx(conso_sim.daily_wh(PRM, day) / 1000)
    assert_continuous(after)
    assert coordinator.state.requested == []


@pytest.mark.usefixtures("recorder_mock")
async def test_energy_imported_but_not_priced_is_priced_at_the_next_start(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The energy of a day committed, the stop before its cost: the day is priced at the
    next start from the stored energy."""
    freezer.move_to(NOW)
    entry = await _setup_with_tariff(paris, conso_sim)
    energy = await hourly_rows(paris, CONSUMPTION)
    (midnight,) = rows_of_day(energy, DAILY_ONLY_DAY)
    _rewrite(paris, midnight, 2.0)
    end = day_start(DAILY_ONLY_DAY + timedelta(days=1), PARIS)
    get_instance(paris).async_adjust_statistics(CONSUMPTION, end, 2.0, "kWh")
    start = day_start(DAILY_ONLY_DAY, PARIS)
    journal = Journal(paris, entry.entry_id)
    await journal.begin("price:consumption", Intent(Kind.PRICE, "consumption", start, end))
    await async_wait_recording_done(paris)

    await _restart(paris, entry)
    costs = await hourly_rows(paris, COST)
    kwh = conso_sim.daily_wh(PRM, DAILY_ONLY_DAY) / 1000 + 2.0
    share = FEE / monthrange(DAILY_ONLY_DAY.year, DAILY_ONLY_DAY.month)[1]
    assert day_total(costs, DAILY_ONLY_DAY) == pytest.approx(kwh * PRICE + share, abs=1e-5)
    assert_continuous(costs)


@pytest.mark.usefixtures("recorder_mock")
async def test_cursors_are_saved_only_once_the_rows_are_committed(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every save of the Linky state and ledger (pending work, repairs, import_history queue)
    comes after a recorder wait that followed the last row queued."""
    freezer.move_to(NOW)
    conso_sim.meters[PRM].hourly_since = NOW.date() - timedelta(days=60)
    saves: list[set[str]] = []
    original = LinkyCoordinator._save

    async def save(self: LinkyCoordinator) -> None:
        saves.append(set(self.pipeline.importer._queued))
        await original(self)

    monkeypatch.setattr(LinkyCoordinator, "_save", save)
    _, coordinator = await setup_linky(paris, conso_sim, PRM)
    coordinator.request_history(NOW.date() - timedelta(days=40), NOW.date() - timedelta(days=35))
    await advance(paris, freezer, [coordinator], NOW + timedelta(hours=2))
    key = Ledger.key(PRM, Channel.CONSUMPTION)
    week_before = NOW.date() - timedelta(days=10)
    assert coordinator.ledger.has(key, week_before, Mark.HOURLY)  # repairs ran and saved
    assert len(saves) >= 3
    assert saves == [set()] * len(saves)
