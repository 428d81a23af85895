"""Provider faults during Linky syncs: what is retried, when, and what the statistics become."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.linky.budget import Priority
from custom_components.linky_climkit.model import Channel
from custom_components.linky_climkit.statistics.ids import statistic_id
from custom_components.linky_climkit.statistics.ledger import Ledger, Mark
from tests.conftest import NOW, PRM, PROD_PRM, linky_entry
from tests.helpers.statistics_reader import assert_continuous, day_total, hourly_rows, rows_of_day
from tests.helpers.time_travel import advance, setup_linky
from tests.simulators.conso_api import PARIS, ConsoApiSimulator, MeterProfile

pytestmark = pytest.mark.usefixtures("recorder_mock")
CONSUMPTION = statistic_id(PRM, "consumption")


def consumption_state(hass: HomeAssistant, prm: str = PRM) -> str:
    """State of the latest-day consumption sensor."""
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{prm}_daily_consumption")
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def test_upstream_error_backs_off_and_heals(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Enedis 500 at the daily sync: entities unavailable, no daily retry for 30 min, day
    healed by the afternoon attempt (08:30 + 90 min is past the 10:00 end of the morning ladder)."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, conso_sim, PRM)
    next_day = NOW + timedelta(days=1)
    conso_sim.add_fault("technical_error", types={"consommation_quotidienne"}, remaining=1)
    daily = next_day.replace(hour=8, minute=30, second=18)
    await advance(paris, freezer, [coordinator], daily)
    assert consumption_state(paris) == "unavailable"
    assert coordinator.state.backoff_until is not None
    assert coordinator.next_run is not None
    assert coordinator.next_run - daily >= timedelta(minutes=29)
    await advance(paris, freezer, [coordinator], next_day.replace(hour=12))
    assert not coordinator.have_yesterday()  # (repairs may have run: entities available again)
    await advance(paris, freezer, [coordinator], next_day.replace(hour=15))
    day = next_day.date() - timedelta(days=1)
    assert consumption_state(paris) != "unavailable"
    rows = await hourly_rows(paris, CONSUMPTION)
    assert len(rows_of_day(rows, day)) == 24
    assert day_total(rows, day) == pytest.approx(conso_sim.daily_wh(PRM, day) / 1000, abs=1e-4)
    assert_continuous(rows)


async def test_quota_backoff_survives_restart(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A 429 with nextAccessTime: no call before it, even after a reload."""
    freezer.move_to(NOW)
    entry, coordinator = await setup_linky(paris, conso_sim, PRM)
    conso_sim.add_fault("quota_900804", types={"consommation_quotidienne"}, remaining=1)
    sync = (NOW + timedelta(days=1)).replace(hour=8, minute=30, second=18)
    await advance(paris, freezer, [coordinator], sync)
    until = coordinator.state.backoff_until
    assert until is not None
    assert until - sync >= timedelta(hours=2, minutes=59)
    calls = len(conso_sim.calls)
    assert await paris.config_entries.async_reload(entry.entry_id)
    coordinator = entry.runtime_data
    assert coordinator.state.backoff_until == until
    await advance(paris, freezer, [coordinator], until - timedelta(minutes=1))
    assert len(conso_sim.calls) == calls
    await advance(paris, freezer, [coordinator], until + timedelta(hours=3))
    assert len(conso_sim.calls) > calls
    assert coordinator.have_yesterday()


async def test_cloudflare_block_waits_a_day(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """An HTML 403 from Cloudflare stops every call for 24 hours."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, conso_sim, PRM)
    sync = (NOW + timedelta(days=1)).replace(hour=8, minute=30, second=18)
    await advance(paris, freezer, [coordinator], sync - timedelta(seconds=2))
    conso_sim.add_fault("cloudflare_403")
    await advance(paris, freezer, [coordinator], sync)
    assert conso_sim.calls[-1].status == 403
    calls = len(conso_sim.calls)
    await advance(paris, freezer, [coordinator], sync + timedelta(hours=23, minutes=58))
    assert len(conso_sim.calls) == calls
    conso_sim.clear_faults()
    await advance(paris, freezer, [coordinator], sync + timedelta(days=1, hours=3))
    assert coordinator.have_yesterday()


async def test_first_import_resumes_after_outage(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Setup succeeds during an outage; the first import resumes and completes later."""
    freezer.move_to(NOW)
    conso_sim.add_fault("technical_error", types={"courbe_de_charge_consommation"}, remaining=1)
    entry, coordinator = await setup_linky(paris, conso_sim, PRM)
    assert entry.state is ConfigEntryState.LOADED
    assert coordinator.state.pending
    assert not coordinator.state.initialised
    rows = await hourly_rows(paris, CONSUMPTION)
    assert len(rows) == 365  # the first window was imported before the fault
    await advance(paris, freezer, [coordinator], NOW + timedelta(hours=1))
    assert coordinator.state.initialised
    rows = await hourly_rows(paris, CONSUMPTION)
    assert_continuous(rows)
    yesterday = NOW.date() - timedelta(days=1)
    assert len(rows_of_day(rows, yesterday)) == 24
    assert rows[0]["start"].astimezone(PARIS).date() <= NOW.date() - timedelta(days=1094)
    assert day_total(rows, yesterday) == pytest.approx(conso_sim.daily_wh(PRM, yesterday) / 1000)


async def test_late_day_follows_the_retry_ladder(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A day published on D+2: tries at 08:30 (first rung after 08:00), the afternoon, then the
    next morning; the 07:00 rung is never used since nothing is published before 08:00."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, conso_sim, PRM)
    late = NOW.date()  # published on D+2 instead of D+1
    conso_sim.late_days[late] = 1
    before = len(conso_sim.calls_of("consommation_quotidienne"))
    end = NOW + timedelta(days=2)
    await advance(paris, freezer, [coordinator], end.replace(hour=12))
    daily = conso_sim.calls_of("consommation_quotidienne")[before:]
    moments = [c.at.astimezone(PARIS) for c in daily]
    day1 = [m for m in moments if m.date() == late + timedelta(days=1)]
    # 08:30 + 90 min is 10:00, the end of the morning ladder: next is the afternoon.
    assert [(m.hour, m.minute) for m in day1] == [(8, 30), (13, 30)]
    day2 = [m for m in moments if m.date() == late + timedelta(days=2)]
    # D+1 is normally published at 08:00 on D+2: both arrive at the first attempt.
    assert [(m.hour, m.minute) for m in day2] == [(8, 30)]
    rows = await hourly_rows(paris, CONSUMPTION)
    assert len(rows_of_day(rows, late)) == 24
    assert day_total(rows, late) == pytest.approx(conso_sim.daily_wh(PRM, late) / 1000, abs=1e-4)


async def test_hourly_collection_disabled(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """Without hourly collection every day is one midnight row with the daily figure."""
    await hass.config.async_set_time_zone("Europe/Paris")
    sim = ConsoApiSimulator([MeterProfile(PRM, seed=3, hourly_since=None)])
    sim.base_url = await sim.start() + "/api"  # type: ignore[attr-defined]
    try:
        freezer.move_to(NOW)
        _, coordinator = await setup_linky(hass, sim, PRM)
        await advance(hass, freezer, [coordinator], NOW + timedelta(days=1))
        assert coordinator.state.hourly_missing
        key = Ledger.key(PRM, Channel.CONSUMPTION)
        week_ago = NOW.date() - timedelta(days=10)
        assert coordinator.ledger.has(key, week_ago, Mark.NO_HOURLY)  # asked, none there
        rows = await hourly_rows(hass, CONSUMPTION)
        assert_continuous(rows)
        day = NOW.date()
        assert len(rows_of_day(rows, day)) == 1
        assert day_total(rows, day) == pytest.approx(sim.daily_wh(PRM, day) / 1000)
    finally:
        await sim.stop()


async def test_production_without_consent(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """ADAM-DC-0008 on production: consumption is imported, production is left alone."""
    await hass.config.async_set_time_zone("Europe/Paris")
    sim = ConsoApiSimulator(
        [MeterProfile(PROD_PRM, seed=5, has_production=True, production_consent=False)]
    )
    sim.base_url = await sim.start() + "/api"  # type: ignore[attr-defined]
    try:
        freezer.move_to(NOW)
        entry, coordinator = await setup_linky(hass, sim, PROD_PRM)
        assert entry.state is ConfigEntryState.LOADED
        assert coordinator.state.production is False
        assert len(sim.calls) <= 10
        assert await hourly_rows(hass, statistic_id(PROD_PRM, "production")) == []
        assert await hourly_rows(hass, statistic_id(PROD_PRM, "consumption"))
    finally:
        await sim.stop()


async def test_budget_postpones_calls(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """When the instance's budget is spent, the daily sync waits for a free slot."""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, conso_sim, PRM)
    sync = (NOW + timedelta(days=1)).replace(hour=6, minute=0)
    freezer.move_to(sync)
    while coordinator.budget.available(Priority.DAILY):
        await coordinator.budget.async_spend(Priority.DAILY)
    calls = len(conso_sim.calls)
    await advance(paris, freezer, [coordinator], sync + timedelta(hours=11, minutes=59))
    assert len(conso_sim.calls) == calls
    await advance(paris, freezer, [coordinator], sync + timedelta(hours=14))
    assert coordinator.have_yesterday()
    assert coordinator.budget.used() <= 24


@pytest.mark.parametrize(
    "fault",
    [
        "technical_error",
        "enedis_raw_500",
        "token_refresh",
        "unknown_error",
        "cloudflare_502_html",
        "cloudflare_502_json",
        "gateway_900908",
    ],
)
async def test_upstream_failures_back_off_30_minutes_and_heal(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    fault: str,
) -> None:
    """Every outage shape of conso-api.md §3: the sync fails, nothing is called for 30 minutes,
    statistics keep what they had, the next attempts heal the day. (Timeouts raise the same
    error as a refused connection: tests/test_conso_api_client.py.)"""
    freezer.move_to(NOW)
    _, coordinator = await setup_linky(paris, conso_sim, PRM)
    sync = (NOW + timedelta(days=1)).replace(hour=8, minute=30, second=18)
    await advance(paris, freezer, [coordinator], sync - timedelta(seconds=2))
    before = await hourly_rows(paris, CONSUMPTION)
    conso_sim.add_fault(fault, types={"consommation_quotidienne"})
    await advance(paris, freezer, [coordinator], sync)
    assert not coordinator.last_update_success
    assert coordinator.state.backoff_until is not None
    assert coordinator.state.backoff_until - sync >= timedelta(minutes=29)
    calls = len(conso_sim.calls)
    await advance(paris, freezer, [coordinator], sync + timedelta(minutes=28))
    assert len(conso_sim.calls) == calls
    assert await hourly_rows(paris, CONSUMPTION) == before
    conso_sim.clear_faults()
    await advance(paris, freezer, [coordinator], sync.replace(hour=16))
    assert coordinator.last_update_success
    day = NOW.date()
    rows = await hourly_rows(paris, CONSUMPTION)
    assert len(rows_of_day(rows, day)) == 24
    assert day_total(rows, day) == pytest.approx(conso_sim.daily_wh(PRM, day) / 1000, abs=1e-4)
    assert_continuous(rows)


async def test_connection_refused_at_setup(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """An unreachable service at setup: the entry loads, the import waits 30 minutes."""
    freezer.move_to(NOW)
    entry = linky_entry(conso_sim, PRM)
    entry.add_to_hass(paris)
    paris.config_entries.async_update_entry(
        entry, data={**entry.data, "api_url": "http://127.0.0.1:9/api"}
    )
    assert await paris.config_entries.async_setup(entry.entry_id)
    await paris.async_block_till_done(wait_background_tasks=True)
    coordinator = entry.runtime_data
    assert entry.state is ConfigEntryState.LOADED
    assert coordinator.state.pending
    assert coordinator.state.backoff_until is not None
    assert coordinator.state.outcomes["consommation_quotidienne"].last_error
    assert await hourly_rows(paris, CONSUMPTION) == []
