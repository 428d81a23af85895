"""Costs of a Climkit site: its grid import at the tariff (CHF), its grid export at the feed-in
price, read back from the recorder; priced again without any Climkit call."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.statistics.ids import statistic_id
from custom_components.linky_climkit.tariffs.engine import OffPeakRange
from custom_components.linky_climkit.tariffs.stored import (
    feed_in_options,
    new_tariff_options,
    off_peak_to_options,
    period_options,
    split_whole_days,
    with_feed_in,
    with_period,
)
from tests.climkit.test_import import setup_site, zurich
from tests.conftest import CH_NOW, ZURICH, climkit_entry
from tests.helpers.statistics_reader import day_total, hourly_rows
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")
HT, NT, FEE, FEED_IN = 0.3120, 0.2210, 120.0, 0.09  # CHF; fee per year
YESTERDAY = CH_NOW.date() - timedelta(days=1)


def options() -> dict[str, object]:
    tariff = new_tariff_options("hp_hc", "CHF")
    # Monday morning, weeknights, Friday evening to midnight, the whole weekend.
    tariff["off_peak"] = off_peak_to_options(
        split_whole_days(
            [
                OffPeakRange(time(0), time(6), frozenset({0})),
                OffPeakRange(time(22), time(6), frozenset({0, 1, 2, 3})),
                OffPeakRange(time(22), time(0), frozenset({4})),
                OffPeakRange(time(0), time(0), frozenset({5, 6})),
            ]
        )
    )
    tariff = with_period(
        tariff,
        period_options(
            date(2020, 1, 1), hp_price=HT, hc_price=NT, subscription=FEE, subscription_per="year"
        ),
    )
    return {"tariff": with_feed_in(tariff, feed_in_options(date(2020, 1, 1), FEED_IN))}


def hand_cost(sim: ClimkitSimulator, day: date) -> float:
    """Quarter-hours of the site's grid import (`from_ext`) at HT or NT (whole weekend NT),
    plus fee/365."""
    start = datetime.combine(day, time(), ZURICH)
    rows = sim.interval_values(DEMO_SITE_ID, "electricity", start, start + timedelta(days=1))
    cost = 0.0
    for row in rows:
        if row["end"] <= start:
            continue  # the quarter ending at midnight belongs to the day before
        begin = (row["end"] - timedelta(minutes=15)).astimezone(ZURICH)
        night = begin.time() >= time(22) or begin.time() < time(6) or begin.weekday() >= 5
        cost += row["from_ext"] * (NT if night else HT)  # Climkit's grid import, as given
    return cost + FEE / 365


async def test_site_costs_and_compensation(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    await zurich(hass)
    freezer.move_to(CH_NOW)
    entry = climkit_entry(climkit_sim)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options=options())
    await setup_site(hass, climkit_sim, entry=entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    costs = await hourly_rows(hass, statistic_id(DEMO_SITE_ID, "grid_import_cost"))
    for back in (1, 2, 3, 20):  # weekdays and a weekend
        day = CH_NOW.date() - timedelta(days=back)
        assert day_total(costs, day) == pytest.approx(hand_cost(climkit_sim, day), abs=1e-4), day
    export = await hourly_rows(hass, statistic_id(DEMO_SITE_ID, "grid_export"))
    paid = await hourly_rows(hass, statistic_id(DEMO_SITE_ID, "grid_export_compensation"))
    exported = {r["start"]: r["state"] for r in export}
    assert sum(exported.values()) > 0
    missing = sorted(
        {h.astimezone(ZURICH).date() for h in set(exported) - {r["start"] for r in paid}}
    )
    assert not missing, missing
    for row in paid:
        assert row["state"] == pytest.approx(exported[row["start"]] * FEED_IN, abs=1e-6)
    assert costs[0]["sum"] is not None

    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{DEMO_SITE_ID}_daily_cost"
    )
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "CHF"
    assert float(state.state) == pytest.approx(day_total(costs, YESTERDAY), abs=1e-3)

    calls = len(climkit_sim.calls)
    tariff = options()["tariff"]
    assert isinstance(tariff, dict)
    doubled = period_options(
        YESTERDAY, hp_price=HT, hc_price=NT, subscription=2 * FEE, subscription_per="year"
    )
    changed = {"tariff": with_period(tariff, doubled)}
    hass.config_entries.async_update_entry(entry, options=changed)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    assert len(climkit_sim.calls) == calls
    after = await hourly_rows(hass, statistic_id(DEMO_SITE_ID, "grid_import_cost"))
    assert day_total(after, YESTERDAY) == pytest.approx(day_total(costs, YESTERDAY) + FEE / 365)
    before = YESTERDAY - timedelta(days=1)
    assert day_total(after, before) == day_total(costs, before)
