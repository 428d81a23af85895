"""Cost statistics on known load curves, read back from the recorder and compared with values
computed by hand (minute by minute, independently of the pricing engine)."""

from __future__ import annotations

import itertools
from calendar import monthrange
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.util import session_scope
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy import text

from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.statistics import importer as importer_module
from custom_components.linky_climkit.statistics.ids import statistic_id
from custom_components.linky_climkit.statistics.importer import Importer
from custom_components.linky_climkit.tariffs.costs import CostBook
from custom_components.linky_climkit.tariffs.engine import TEMPO_BUCKETS, OffPeakRange
from custom_components.linky_climkit.tariffs.stored import (
    _first_difference,
    feed_in_options,
    new_tariff_options,
    off_peak_to_options,
    period_options,
    with_feed_in,
    with_period,
)
from tests.conftest import NOW, PRM, PROD_PRM, linky_entry
from tests.helpers.statistics_reader import assert_continuous, day_total, hourly_rows, rows_of_day
from tests.simulators.conso_api import PARIS, ConsoApiSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock")

HP, HC = 0.2700, 0.2068
FEE = 15.65  # per month
# A boundary at :04 and one at :08, the second range across midnight: 10 h off-peak a day.
HC_RANGES = [(time(12, 4), time(14, 4)), (time(21, 8), time(5, 8))]
YESTERDAY = NOW.date() - timedelta(days=1)
DAILY_ONLY_DAY = NOW.date() - timedelta(days=30)  # before the first import's 7 hourly days


def hp_hc_options(hp: float = HP, hc: float = HC, since: date = date(2020, 1, 1)) -> dict[str, Any]:
    tariff = new_tariff_options("hp_hc", "EUR")
    tariff["off_peak"] = off_peak_to_options(OffPeakRange(start, end) for start, end in HC_RANGES)
    tariff = with_period(tariff, period_options(since, hp_price=hp, hc_price=hc, subscription=FEE))
    return {"tariff": tariff}


def in_off_peak(moment: time) -> bool:
    for start, end in HC_RANGES:
        if start < end and start <= moment < end:
            return True
        if start > end and (moment >= start or moment < end):
            return True
    return False


def points(sim: ConsoApiSimulator, prm: str, day: date) -> list[tuple[datetime, datetime, float]]:
    """The served half-hour points of a day as (local start, local end, kWh)."""
    out = []
    for stamp, watts, step in sim.curve_points(prm, day):
        end = datetime.fromisoformat(stamp).replace(tzinfo=PARIS)
        out.append((end - timedelta(minutes=step), end, watts * step / 60 / 1000))
    return out


def hand_cost(sim: ConsoApiSimulator, day: date, hp: float = HP, hc: float = HC) -> float:
    """Each point split minute by minute between HP and HC, the day scaled to its billing
    total, plus the day's share of the monthly fee."""
    factor = sim.daily_wh(PRM, day) / sim.curve_wh(PRM, day)
    cost = 0.0
    for start, end, kwh in points(sim, PRM, day):
        minutes = int((end - start).total_seconds() // 60)
        off = sum(1 for m in range(minutes) if in_off_peak((start + timedelta(minutes=m)).time()))
        cost += kwh * factor * (off * hc + (minutes - off) * hp) / minutes
    return cost + FEE / monthrange(day.year, day.month)[1]


async def setup_with(
    hass: HomeAssistant, sim: ConsoApiSimulator, prm: str, options: dict[str, Any]
) -> MockConfigEntry:
    entry = linky_entry(sim, prm)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    return entry


def stat(channel: str, prm: str = PRM) -> str:
    return statistic_id(prm, channel)


def by_start(rows: Iterable[dict[str, Any]]) -> dict[datetime, float]:
    return {r["start"]: r["state"] for r in rows}


class RecorderSpy:
    """The statistics the importer writes and those it clears, in order."""

    def __init__(self, hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
        self.written: list[str] = []
        self.cleared: list[str] = []
        add = importer_module.async_add_external_statistics
        recorder = get_instance(hass)
        clear = recorder.async_clear_statistics

        def spy_add(hass: HomeAssistant, metadata: Any, statistics: Any) -> None:
            self.written.append(metadata["statistic_id"])
            add(hass, metadata, statistics)

        def spy_clear(statistic_ids: list[str], **kwargs: Any) -> None:
            self.cleared.extend(statistic_ids)
            clear(statistic_ids, **kwargs)

        monkeypatch.setattr(importer_module, "async_add_external_statistics", spy_add)
        monkeypatch.setattr(recorder, "async_clear_statistics", spy_clear)


async def orphan_rows(hass: HomeAssistant) -> int:
    """Statistics rows whose statistic no longer exists (a replaced statistic leaves none)."""

    def count() -> int:
        with session_scope(hass=hass, read_only=True) as session:
            return int(
                session.execute(
                    text(
                        "SELECT COUNT(*) FROM statistics WHERE metadata_id NOT IN "
                        "(SELECT id FROM statistics_meta)"
                    )
                ).scalar_one()
            )

    await async_wait_recording_done(hass)
    return await get_instance(hass).async_add_executor_job(count)


async def test_hp_hc_costs_match_the_hand_computation(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Boundaries at :04 and :08, a range across midnight, a daily-only day, the fee."""
    freezer.move_to(NOW)
    await setup_with(paris, conso_sim, PRM, hp_hc_options())
    costs = await hourly_rows(paris, stat("consumption_cost"))
    assert day_total(costs, YESTERDAY) == pytest.approx(hand_cost(conso_sim, YESTERDAY), abs=1e-5)
    for back in range(1, 7):
        day = NOW.date() - timedelta(days=back)
        assert day_total(costs, day) == pytest.approx(hand_cost(conso_sim, day), abs=1e-5), day
    # A day known only by its total: the price weighted by the hours of each bucket (10 h HC).
    kwh = conso_sim.daily_wh(PRM, DAILY_ONLY_DAY) / 1000
    expected = kwh * (10 * HC + 14 * HP) / 24 + FEE / 31
    assert len(rows_of_day(costs, DAILY_ONLY_DAY)) == 1
    assert day_total(costs, DAILY_ONLY_DAY) == pytest.approx(expected, abs=1e-5)
    # The sums are continuous and the cost statistic is in euros.
    sums = [r["sum"] for r in costs]
    assert all(b >= a for a, b in itertools.pairwise(sums))


async def test_buckets_sum_to_the_total_hour_by_hour(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    await setup_with(paris, conso_sim, PRM, hp_hc_options())
    total = by_start(await hourly_rows(paris, stat("consumption")))
    hp = by_start(await hourly_rows(paris, stat("consumption_hp")))
    hc = by_start(await hourly_rows(paris, stat("consumption_hc")))
    cost = by_start(await hourly_rows(paris, stat("consumption_cost")))
    hp_cost = by_start(await hourly_rows(paris, stat("consumption_hp_cost")))
    hc_cost = by_start(await hourly_rows(paris, stat("consumption_hc_cost")))
    assert set(hp) == set(hc) == set(total) == set(cost)
    for hour, value in total.items():
        assert hp[hour] + hc[hour] == pytest.approx(value, abs=2e-6), hour
        fee = cost[hour] - hp_cost[hour] - hc_cost[hour]
        local = hour.astimezone(PARIS)
        midnight = local.hour == 0
        share = FEE / monthrange(local.year, local.month)[1] if midnight else 0.0
        assert fee == pytest.approx(share, abs=2e-6), hour
    # The hour 05:00-06:00 of yesterday holds 8 minutes of HC at most (05:00-05:08).
    five = datetime.combine(YESTERDAY, time(5), PARIS)
    five_utc = next(h for h in total if h == five)
    assert 0 < hc[five_utc] < total[five_utc]


async def test_a_price_change_rewrites_costs_and_nothing_else(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """New prices from a date: costs from then on change, nothing else, no Conso API call."""
    freezer.move_to(NOW)
    entry = await setup_with(paris, conso_sim, PRM, hp_hc_options())
    energy_ids = [stat("consumption"), stat("consumption_hp"), stat("consumption_hc")]
    before = {i: await hourly_rows(paris, i) for i in [*energy_ids, stat("consumption_cost")]}
    calls = len(conso_sim.calls)
    change = NOW.date() - timedelta(days=3)
    options = {"tariff": dict(entry.options["tariff"])}
    options["tariff"] = with_period(
        options["tariff"], period_options(change, hp_price=0.30, hc_price=0.22, subscription=FEE)
    )
    spy = RecorderSpy(paris, monkeypatch)
    paris.config_entries.async_update_entry(entry, options=options)
    await paris.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(paris)
    assert len(conso_sim.calls) == calls
    # Both prices changed: the total and both bucket costs, updated from the change on.
    assert set(spy.written) == {stat(c) for c in ("consumption_cost", "consumption_hp_cost")} | {
        stat("consumption_hc_cost")
    }
    assert spy.cleared == []
    for statistic in energy_ids:
        assert await hourly_rows(paris, statistic) == before[statistic], statistic
    costs = await hourly_rows(paris, stat("consumption_cost"))
    old = before[stat("consumption_cost")]
    for back in range(1, 8):
        day = NOW.date() - timedelta(days=back)
        if day < change:
            assert rows_of_day(costs, day) == rows_of_day(old, day), day
        else:
            want = hand_cost(conso_sim, day, 0.30, 0.22)
            assert day_total(costs, day) == pytest.approx(want, abs=1e-5), day
    assert day_total(costs, DAILY_ONLY_DAY) == day_total(old, DAILY_ONLY_DAY)


async def test_cost_sensor_and_feed_in(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Yesterday's cost as a sensor; a producing PRM's compensation at the dated feed-in price."""
    freezer.move_to(NOW)
    options = hp_hc_options()
    options["tariff"] = with_feed_in(options["tariff"], feed_in_options(date(2020, 1, 1), 0.04))
    options["tariff"] = with_feed_in(options["tariff"], feed_in_options(YESTERDAY, 0.1269))
    await setup_with(paris, conso_sim, PROD_PRM, options)
    entity_id = er.async_get(paris).async_get_entity_id("sensor", DOMAIN, f"{PROD_PRM}_daily_cost")
    assert entity_id is not None
    state = paris.states.get(entity_id)
    assert state is not None
    costs = await hourly_rows(paris, stat("consumption_cost", PROD_PRM))
    assert float(state.state) == pytest.approx(day_total(costs, YESTERDAY), abs=1e-3)
    assert state.attributes["unit_of_measurement"] == "EUR"
    assert state.attributes["day"] == YESTERDAY
    paid = await hourly_rows(paris, stat("grid_export_compensation", PROD_PRM))
    # an hourly day at each price, and a day known only by its total (one row at midnight)
    days = ((YESTERDAY, 0.1269), (YESTERDAY - timedelta(days=1), 0.04), (DAILY_ONLY_DAY, 0.04))
    assert len(rows_of_day(paid, DAILY_ONLY_DAY)) == 1
    for day, price in days:
        produced = conso_sim.daily_wh(PROD_PRM, day, production=True) / 1000
        assert day_total(paid, day) == pytest.approx(produced * price, abs=1e-5), day


async def test_no_tariff_no_cost(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    await setup_with(paris, conso_sim, PRM, {})
    assert await hourly_rows(paris, stat("consumption_cost")) == []
    registry = er.async_get(paris)
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{PRM}_daily_cost") is None


TEMPO_PRICES = {
    "blue_hp": 0.1612,
    "blue_hc": 0.1325,
    "white_hp": 0.1871,
    "white_hc": 0.1499,
    "red_hp": 0.7060,
    "red_hc": 0.1575,
}
# Colours as an RTE Tempo sensor shows them, from 06:00 on each day; none for 13 November.
COLOURS = {
    date(2026, 11, 14): "Blanc",
    date(2026, 11, 15): "Rouge",
    date(2026, 11, 16): "Rouge",
    date(2026, 11, 17): "Bleu",
    date(2026, 11, 18): "Rouge",
    date(2026, 11, 19): "Blanc",
}
NAMES = {"Bleu": "blue", "Blanc": "white", "Rouge": "red"}


def tempo_hand_cost(sim: ConsoApiSimulator, day: date) -> float:
    """00:00-06:00 belongs to the previous Tempo day; HC is 22:00-06:00; a day without a
    colour is blue."""
    factor = sim.daily_wh(PRM, day) / sim.curve_wh(PRM, day)
    cost = 0.0
    for start, _end, kwh in points(sim, PRM, day):
        tempo_day = (start - timedelta(hours=6)).date()
        colour = NAMES.get(COLOURS.get(tempo_day, "Bleu"), "blue")
        hours = "hc" if start.time() >= time(22) or start.time() < time(6) else "hp"
        cost += kwh * factor * TEMPO_PRICES[f"{colour}_{hours}"]
    return cost + FEE / 30


async def test_tempo_colours_from_the_recorder(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Red days at red prices, the night before 06:00 at the previous colour, a day without a
    colour priced blue and reported in the diagnostics."""
    for day, colour in COLOURS.items():
        freezer.move_to(datetime.combine(day, time(6, 0, 30), PARIS))
        paris.states.async_set("sensor.rte_tempo_couleur_actuelle", colour)
        await async_wait_recording_done(paris)
    freezer.move_to(NOW)
    tariff = new_tariff_options("tempo", "EUR")
    tariff["tempo_entity"] = "sensor.rte_tempo_couleur_actuelle"
    tariff = with_period(
        tariff, period_options(date(2020, 1, 1), tempo_prices=TEMPO_PRICES, subscription=FEE)
    )
    entry = await setup_with(paris, conso_sim, PRM, {"tariff": tariff})
    costs = await hourly_rows(paris, stat("consumption_cost"))
    for day in [date(2026, 11, 13), *COLOURS]:
        want = tempo_hand_cost(conso_sim, day)
        assert day_total(costs, day) == pytest.approx(want, abs=1e-5), day
    red = by_start(await hourly_rows(paris, stat("consumption_tempo_red_hp")))
    assert sum(v for h, v in red.items() if h.astimezone(PARIS).date() == date(2026, 11, 15)) > 0
    report = entry.runtime_data.costs.diagnostics()["report"]
    assert "2026-11-13" in report["tempo_fallback_days"]
    assert "2026-11-15" not in report["tempo_fallback_days"]


async def test_a_peak_price_change_since_the_start_replaces_two_costs(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new HP price for the whole history: every row of the total and HP costs changes, so
    both are replaced (inserted anew, not updated row by row); the HC cost and the energies
    are not even written."""
    freezer.move_to(NOW)
    entry = await setup_with(paris, conso_sim, PRM, hp_hc_options())
    kept = [stat(c) for c in ("consumption", "consumption_hp", "consumption_hc")]
    kept.append(stat("consumption_hc_cost"))
    replaced = [stat("consumption_cost"), stat("consumption_hp_cost")]
    before = {i: await hourly_rows(paris, i) for i in [*kept, *replaced]}
    spy = RecorderSpy(paris, monkeypatch)
    paris.config_entries.async_update_entry(entry, options=hp_hc_options(hp=0.30))
    await paris.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(paris)
    assert set(spy.written) == set(replaced)
    assert spy.cleared == replaced
    for statistic in kept:
        assert await hourly_rows(paris, statistic) == before[statistic], statistic
    costs = await hourly_rows(paris, stat("consumption_cost"))
    hp_costs = await hourly_rows(paris, stat("consumption_hp_cost"))
    for statistic, rows in ((replaced[0], costs), (replaced[1], hp_costs)):
        assert [r["start"] for r in rows] == [r["start"] for r in before[statistic]]
        assert_continuous(rows)
    for back in range(1, 7):
        day = NOW.date() - timedelta(days=back)
        want = hand_cost(conso_sim, day, hp=0.30)
        assert day_total(costs, day) == pytest.approx(want, abs=1e-5), day
    kwh = conso_sim.daily_wh(PRM, DAILY_ONLY_DAY) / 1000
    hp_share = kwh * 14 / 24 * 0.30
    assert day_total(hp_costs, DAILY_ONLY_DAY) == pytest.approx(hp_share, abs=1e-5)
    assert await orphan_rows(paris) == 0
    # A second recompute with the same tariff has nothing to do.
    spy.written.clear()
    await entry.runtime_data.async_recompute_costs()
    await async_wait_recording_done(paris)
    assert spy.written == []


async def test_new_off_peak_hours_split_the_buckets_again(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """New off-peak hours move energy between the buckets; the buckets still add up."""
    freezer.move_to(NOW)
    entry = await setup_with(paris, conso_sim, PRM, hp_hc_options())
    hc_before = await hourly_rows(paris, stat("consumption_hc"))
    options = {"tariff": dict(entry.options["tariff"])}
    options["tariff"]["off_peak"] = off_peak_to_options([OffPeakRange(time(22), time(6))])
    paris.config_entries.async_update_entry(entry, options=options)
    await paris.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(paris)
    total = by_start(await hourly_rows(paris, stat("consumption")))
    hp = by_start(await hourly_rows(paris, stat("consumption_hp")))
    hc = by_start(await hourly_rows(paris, stat("consumption_hc")))
    assert by_start(hc_before) != hc
    for hour, value in total.items():
        assert hp[hour] + hc[hour] == pytest.approx(value, abs=2e-6), hour
        local = hour.astimezone(PARIS)
        if len(rows_of_day(list(_rows(total)), local.date())) > 1:
            night = local.hour >= 22 or local.hour < 6
            assert (hc[hour] if night else hp[hour]) == pytest.approx(value, abs=2e-6), hour


def _rows(values: dict[datetime, float]) -> Iterable[dict[str, Any]]:
    return ({"start": h, "state": v} for h, v in values.items())


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ([("2020-01-01", 1.0)], [("2020-01-01", 1.0)], date.max),
        ([("2020-01-01", 1.0)], [("2020-01-01", 1.0), ("2026-02-01", 2.0)], date(2026, 2, 1)),
        ([("2020-01-01", 1.0)], [("2020-01-01", 2.0)], None),
        ([("2020-01-01", 1.0), ("2026-02-01", 2.0)], [("2020-01-01", 1.0)], date(2026, 2, 1)),
        ([], [("2024-05-01", 1.0)], None),
    ],
)
def test_first_difference(
    old: list[tuple[str, float]], new: list[tuple[str, float]], expected: date | None
) -> None:
    def items(pairs: list[tuple[str, float]]) -> list[dict[str, Any]]:
        return [{"start": s, "price": p} for s, p in pairs]

    assert _first_difference(items(old), items(new)) == expected


async def test_base_price_on_the_25_hour_day(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """25 October 2026 (clocks back): 25 hourly cost rows, the day's total at the base price
    plus a 31st of the monthly fee."""
    freezer.move_to(datetime(2026, 10, 27, 9, 30, tzinfo=PARIS))
    tariff = new_tariff_options("base", "EUR")
    tariff = with_period(
        tariff, period_options(date(2020, 1, 1), base_price=0.2516, subscription=FEE)
    )
    await setup_with(paris, conso_sim, PRM, {"tariff": tariff})
    day = date(2026, 10, 25)
    costs = await hourly_rows(paris, stat("consumption_cost"))
    assert len(rows_of_day(costs, day)) == 25
    kwh = conso_sim.daily_wh(PRM, day) / 1000
    assert day_total(costs, day) == pytest.approx(kwh * 0.2516 + FEE / 31, abs=1e-5)


async def test_dynamic_price_from_the_recorder(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A price entity in c€/kWh, changing at noon: each point at the price valid when it
    starts, converted to €/kWh."""
    day = YESTERDAY
    for moment, cents in ((time(0), 18.4), (time(12), 9.5)):
        freezer.move_to(datetime.combine(day, moment, PARIS))
        paris.states.async_set("sensor.spot_price", str(cents), {"unit_of_measurement": "c€/kWh"})
        await async_wait_recording_done(paris)
    freezer.move_to(NOW)
    tariff = new_tariff_options("dynamic", "EUR")
    tariff["price_entity"] = "sensor.spot_price"
    tariff = with_period(tariff, period_options(date(2020, 1, 1), subscription=FEE))
    await setup_with(paris, conso_sim, PRM, {"tariff": tariff})
    factor = conso_sim.daily_wh(PRM, day) / conso_sim.curve_wh(PRM, day)
    want = FEE / 30 + sum(
        kwh * factor * (0.184 if start.time() < time(12) else 0.095)
        for start, _end, kwh in points(conso_sim, PRM, day)
    )
    costs = await hourly_rows(paris, stat("consumption_cost"))
    assert day_total(costs, day) == pytest.approx(want, abs=1e-5)


def _tempo(blue_hp: float, subscription: float = FEE, since: date = date(2020, 1, 1)) -> Any:
    tariff = new_tariff_options("tempo", "EUR")
    prices = dict(TEMPO_PRICES, blue_hp=blue_hp)
    return with_period(
        tariff, period_options(since, tempo_prices=prices, subscription=subscription)
    )


@pytest.mark.parametrize(
    ("new", "since", "buckets"),
    [
        (_tempo(0.20), None, frozenset({"tempo_blue_hp"})),
        (_tempo(0.1552, subscription=20.0), None, frozenset()),
        (with_period(_tempo(0.1552), period_options(date(2026, 6, 1))), date(2026, 6, 1), None),
        (_tempo(0.1552), date.max, frozenset()),
    ],
    ids=["blue-hp-price", "subscription", "new-period-zero-prices", "nothing"],
)
async def test_a_price_change_names_the_buckets_it_reprices(
    hass: HomeAssistant, new: dict[str, Any], since: date | None, buckets: frozenset[str] | None
) -> None:
    """Only the buckets whose price changed are priced again; the total cost always is."""
    entry = MockConfigEntry(domain=DOMAIN, options={"tariff": _tempo(0.1552)})
    entry.add_to_hass(hass)
    book = CostBook(
        hass,
        entry,
        PRM,
        "test",
        PARIS,
        Importer(hass, PARIS),
        charges=Channel.CONSUMPTION,
        compensates=Channel.PRODUCTION,
    )
    book.mark_priced()
    hass.config_entries.async_update_entry(entry, options={"tariff": new})
    change = book.change()
    assert change.consumption_from == since
    assert not change.split
    if buckets is None:  # a new period sets every price to 0 from June on
        assert change.buckets == frozenset(TEMPO_BUCKETS)
    else:
        assert change.buckets == buckets
