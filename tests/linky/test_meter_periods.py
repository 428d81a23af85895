"""Periods from the meter: each day's HP/HC or Tempo energy is the meter's register deltas, to
the Wh, and its costs are those deltas × the prices; read back from the recorder and compared
with the simulator's own registers (its ground truth), day by day."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, time, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.linky_climkit.const import CONF_READ_REGISTERS, DOMAIN
from custom_components.linky_climkit.diagnostics import async_get_config_entry_diagnostics
from custom_components.linky_climkit.linky.coordinator import LinkyCoordinator
from custom_components.linky_climkit.statistics.ids import statistic_id
from custom_components.linky_climkit.tariffs.engine import OffPeakRange
from custom_components.linky_climkit.tariffs.stored import (
    METER_PERIODS,
    new_tariff_options,
    off_peak_to_options,
    period_options,
    with_period,
)
from tests.conftest import NOW, PRM, linky_entry
from tests.helpers.statistics_reader import assert_continuous, day_total, hourly_rows, rows_of_day
from tests.helpers.time_travel import advance, max_calls_in_window
from tests.simulators.conso_api import ConsoApiSimulator, MeterProfile
from tests.simulators.conso_api_index import RegisterPlan, tempo_colour
from tests.tariffs.test_costs import TEMPO_PRICES as TEMPO

pytestmark = pytest.mark.usefixtures("recorder_mock")

INDEX = "index_consommation"
HP, HC, FEE = 0.2700, 0.2068, 15.65
# The simulator's register codes → the tariff's buckets.
HPHC_BUCKETS = {"HP": "hp", "HC": "hc"}
TEMPO_BUCKETS = {
    f"H{hours}J{letter}": f"tempo_{colour}_h{hours.lower()}"
    for colour, letter in (("blue", "B"), ("white", "W"), ("red", "R"))
    for hours in "CP"
}


def stat(channel: str) -> str:
    return statistic_id(PRM, channel)


def metered_tariff(kind: str, **prices: Any) -> dict[str, Any]:
    tariff = new_tariff_options(kind, "EUR")
    tariff[METER_PERIODS] = True
    period = period_options(date(2020, 1, 1), subscription=FEE, **prices)
    return {"tariff": with_period(tariff, period), CONF_READ_REGISTERS: True}


def monthly_fee(day: date) -> float:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return FEE / (following - first).days


async def start(
    hass: HomeAssistant, plan: RegisterPlan, options: dict[str, Any], **switches: Any
) -> AsyncIterator[ConsoApiSimulator]:
    sim = ConsoApiSimulator([MeterProfile(PRM, seed=7, registers=plan)])
    for name, value in switches.items():
        setattr(sim, name, value)
    sim.base_url = await sim.start() + "/api"  # type: ignore[attr-defined]
    entry = linky_entry(sim, PRM, options=options)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    yield sim
    await sim.stop()


def deltas(sim: ConsoApiSimulator, day: date) -> dict[str, float]:
    """The simulator's register deltas of a day, kWh."""
    book = sim.index_book(PRM)
    before, after = book.reading(day)[1], book.reading(day + timedelta(days=1))[1]
    return {code: (after[code] - before[code]) / 1000 for code in before}


async def check_days(
    hass: HomeAssistant,
    sim: ConsoApiSimulator,
    days: list[date],
    buckets: dict[str, str],
    price: dict[str, float],
    *,
    fee: bool = True,
) -> None:
    """Each bucket's day total = its register delta to the Wh; its cost = delta × price; the
    total cost = Σ deltas × prices + the day's fee; each hour's buckets add up to its energy."""
    energy = await hourly_rows(hass, stat("consumption"))
    cost = await hourly_rows(hass, stat("consumption_cost"))
    rows = {
        bucket: (
            await hourly_rows(hass, stat(f"consumption_{bucket}")),
            await hourly_rows(hass, stat(f"consumption_{bucket}_cost")),
        )
        for bucket in buckets.values()
    }
    for bucket_rows, cost_rows in rows.values():
        assert_continuous(bucket_rows)
        assert_continuous(cost_rows)
    for day in days:
        meter = deltas(sim, day)
        assert sum(meter.values()) == pytest.approx(day_total(energy, day), abs=1e-5), day
        for code, value in meter.items():
            bucket = buckets[code]
            bucket_rows, cost_rows = rows[bucket]
            assert day_total(bucket_rows, day) == pytest.approx(value, abs=1e-5), (day, code)
            assert day_total(cost_rows, day) == pytest.approx(value * price[bucket], abs=5e-5)
        billed = sum(value * price[buckets[code]] for code, value in meter.items())
        charged = monthly_fee(day) if fee else 0.0
        assert day_total(cost, day) == pytest.approx(billed + charged, abs=1e-4), day
        by_hour: dict[Any, float] = {}
        for bucket_rows, _ in rows.values():
            for row in rows_of_day(bucket_rows, day):
                by_hour[row["start"]] = by_hour.get(row["start"], 0.0) + row["state"]
        for row in rows_of_day(energy, day):
            assert by_hour[row["start"]] == pytest.approx(row["state"], abs=5e-6), row["start"]


@pytest.fixture
async def hphc(paris: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None) -> Any:
    freezer.move_to(NOW)
    plan = RegisterPlan("hphc", off_peak=((time(22, 8), time(6, 8)),))
    options = metered_tariff("hp_hc", hp_price=HP, hc_price=HC)
    async for sim in start(paris, plan, options):
        yield sim


async def test_hp_hc_buckets_are_the_register_deltas(
    paris: HomeAssistant, hphc: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The meter's off-peak hours are 22:08-06:08, none were typed: every day whose registers
    are read has the meter's split; yesterday's, known with today's reading, follows the next
    morning (priced by 22:00-06:00 until then)."""
    hass, sim = paris, hphc
    assert len(sim.calls) <= 12
    today = NOW.date()
    read = [today - timedelta(days=n) for n in range(7, 1, -1)]  # readings of D and D+1 known
    prices = {"hp": HP, "hc": HC}
    await check_days(hass, sim, read, HPHC_BUCKETS, prices)
    yesterday = today - timedelta(days=1)
    hc_rows = await hourly_rows(hass, stat("consumption_hc"))
    assert day_total(hc_rows, yesterday) != pytest.approx(deltas(sim, yesterday)["HC"], abs=1e-3)

    coordinator = hass.config_entries.async_entries("linky_climkit")[0].runtime_data
    await advance(hass, freezer, [coordinator], NOW + timedelta(days=1, hours=2))
    await check_days(hass, sim, [*read, yesterday], HPHC_BUCKETS, prices)


@pytest.fixture
async def tempo(paris: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None) -> Any:
    freezer.move_to(NOW)
    options = metered_tariff("tempo", tempo_prices=TEMPO)
    async for sim in start(paris, RegisterPlan("tempo"), options):
        yield sim


async def test_tempo_buckets_and_colours_come_from_the_registers(
    paris: HomeAssistant, tempo: ConsoApiSimulator
) -> None:
    """No colour entity: each day's six Tempo buckets are its register deltas, its colour the
    one whose registers advanced, and no day is priced as blue for want of a colour."""
    hass, sim = paris, tempo
    today = NOW.date()
    read = [today - timedelta(days=n) for n in range(7, 1, -1)]
    prices = {f"tempo_{key}": value for key, value in TEMPO.items()}
    await check_days(hass, sim, read, TEMPO_BUCKETS, prices)
    colours = {tempo_colour(day) for day in read}
    assert len(colours) > 1  # the week holds more than one colour
    for day in read:
        colour = tempo_colour(day)
        peak = await hourly_rows(hass, stat(f"consumption_tempo_{colour}_hp"))
        assert day_total(peak, day) > 0
        for other in {"blue", "white", "red"} - {colour}:
            rows = await hourly_rows(hass, stat(f"consumption_tempo_{other}_hp"))
            assert day_total(rows, day) == pytest.approx(0, abs=1e-9)
    coordinator = hass.config_entries.async_entries("linky_climkit")[0].runtime_data
    fallback = coordinator.costs.report.tempo_fallback_days
    assert not {d.isoformat() for d in read} & set(fallback)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    seen = (await async_get_config_entry_diagnostics(hass, entry))["costs"]["registers"]
    assert seen["periods_from_meter"] is True
    assert seen["calendars"] == [{"calendar": "DI000003", "label": "Tempo"}]
    assert set(seen["registers"]) == set(TEMPO_BUCKETS)
    assert seen["registers"]["HPJR"] == "Heures Pleines Jours Rouges"
    assert (seen["days_read"], seen["days_with_deltas"]) == (7, 6)


async def test_typed_hours_the_registers_disagree_with_raise_a_fixable_issue(
    paris: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """The meter's hours are 22:08-06:08, the user typed 22:00-06:00: a repair issue names
    both; its fix takes the periods from the meter, the issue clears and every day read is
    then billed as the registers say."""
    hass = paris
    freezer.move_to(NOW)
    assert await async_setup_component(hass, "repairs", {})
    tariff = new_tariff_options("hp_hc", "EUR")
    tariff["off_peak"] = off_peak_to_options([OffPeakRange(time(22), time(6))])
    tariff = with_period(tariff, period_options(date(2020, 1, 1), hp_price=HP, hc_price=HC))
    plan = RegisterPlan("hphc", off_peak=((time(22, 8), time(6, 8)),))
    options = {"tariff": tariff, CONF_READ_REGISTERS: True}
    async for sim in start(hass, plan, options):
        entry = hass.config_entries.async_entries(DOMAIN)[0]
        issues = ir.async_get(hass)
        issue_id = f"off_peak_hours_{entry.entry_id}"
        issue = issues.async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.is_fixable
        assert issue.translation_placeholders == {
            "name": entry.title,
            "entered": "22:00–06:00",
            "meter": "22:08–06:08",
            "days": "6",
        }
        manager = hass.data["repairs"]["flow_manager"]
        flow = await manager.async_init(DOMAIN, context={"issue_id": issue_id})
        assert flow["step_id"] == "confirm"
        assert flow["description_placeholders"]["meter"] == "22:08–06:08"
        done = await manager.async_configure(flow["flow_id"], {})
        assert done["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done(wait_background_tasks=True)  # reloaded, priced again
        assert entry.options["tariff"][METER_PERIODS] is True
        assert issues.async_get_issue(DOMAIN, issue_id) is None
        today = NOW.date()
        read = [today - timedelta(days=n) for n in range(7, 1, -1)]
        await check_days(hass, sim, read, HPHC_BUCKETS, {"hp": HP, "hc": HC}, fee=False)


async def test_typed_hours_that_agree_raise_nothing(
    paris: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """Typed hours equal to the meter's (22:08-06:08): no issue."""
    freezer.move_to(NOW)
    tariff = new_tariff_options("hp_hc", "EUR")
    tariff["off_peak"] = off_peak_to_options([OffPeakRange(time(22, 8), time(6, 8))])
    tariff = with_period(tariff, period_options(date(2020, 1, 1), hp_price=HP, hc_price=HC))
    plan = RegisterPlan("hphc", off_peak=((time(22, 8), time(6, 8)),))
    async for _ in start(paris, plan, {"tariff": tariff, CONF_READ_REGISTERS: True}):
        coordinator = paris.config_entries.async_entries(DOMAIN)[0].runtime_data
        found = await coordinator.costs.async_check_hours()
        assert found is not None
        assert found.days == 6
        assert not found.disagree
        assert not [i for i in ir.async_get(paris).issues.values() if i.domain == DOMAIN]


async def test_registers_read_before_a_stop_are_priced_at_the_next_start(
    paris: HomeAssistant,
    hphc: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stop right after the morning's registers are saved, before yesterday is priced with
    them: the day is kept as one to price, and the next start prices it."""
    hass, sim = paris, hphc
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    coordinator = entry.runtime_data

    async def stopped(self: LinkyCoordinator) -> None:
        return None

    monkeypatch.setattr(LinkyCoordinator, "_price_registers", stopped)
    await advance(hass, freezer, [coordinator], NOW + timedelta(days=1, hours=2))
    yesterday = NOW.date() - timedelta(days=1)
    hc_rows = await hourly_rows(hass, stat("consumption_hc"))
    assert day_total(hc_rows, yesterday) != pytest.approx(deltas(sim, yesterday)["HC"], abs=1e-3)
    assert yesterday in coordinator.costs.unpriced  # (and the older registers read back)
    older = min(coordinator.costs.unpriced)

    monkeypatch.undo()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    calls = len(sim.calls)
    await check_days(hass, sim, [older, yesterday], HPHC_BUCKETS, {"hp": HP, "hc": HC})
    assert entry.runtime_data.costs.unpriced == set()
    assert len(sim.calls) == calls


async def test_a_year_of_registers_is_read_back(
    paris: HomeAssistant, hphc: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """With periods from the meter, a year of older registers is read back at backfill
    priority, 31 days a call, before the hourly history: every day of it is billed as its
    registers say."""
    hass, sim = paris, hphc
    coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data
    await advance(hass, freezer, [coordinator], NOW + timedelta(days=1, hours=2))
    windows = [c for c in sim.calls if c.type == INDEX and c.params["dateDebut"] < "2026-11-13"]
    assert len(windows) == 12  # 358 days, 31 a call
    assert max_calls_in_window(sim.calls) <= 24
    today = NOW.date()
    assert coordinator.costs.oldest_reading() == today - timedelta(days=365)
    old = [today - timedelta(days=n) for n in (364, 200, 100, 31, 8)]
    await check_days(hass, sim, old, HPHC_BUCKETS, {"hp": HP, "hc": HC})


async def test_a_refused_long_register_range_is_read_a_week_at_a_time(
    paris: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """[I] switch: the index types refuse more than 7 days a call. The refused month is
    asked again a week at a time; those days are billed as their registers say."""
    freezer.move_to(NOW)
    plan = RegisterPlan("hphc", off_peak=((time(22, 8), time(6, 8)),))
    options = metered_tariff("hp_hc", hp_price=HP, hc_price=HC)
    async for sim in start(paris, plan, options, index_max_days=7):
        coordinator = paris.config_entries.async_entries(DOMAIN)[0].runtime_data
        await advance(paris, freezer, [coordinator], NOW + timedelta(hours=6))
        assert coordinator.state.registers_chunk == 7
        assert not coordinator.state.registers_done
        spans = [
            (date.fromisoformat(c.params["dateFin"]) - date.fromisoformat(c.params["dateDebut"]))
            for c in sim.calls
            if c.type == INDEX
        ]
        assert max(spans) == timedelta(days=31)  # refused, once
        assert spans.count(timedelta(days=31)) == 1
        oldest = coordinator.costs.oldest_reading()
        assert oldest is not None
        assert oldest < NOW.date() - timedelta(days=14)
        days = [NOW.date() - timedelta(days=n) for n in (8, 13)]
        await check_days(paris, sim, days, HPHC_BUCKETS, {"hp": HP, "hc": HC})
