"""The actions: import_history (budgeted), recompute_costs, sync_now, and their refusals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError

from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.statistics.ids import statistic_id
from custom_components.linky_climkit.tariffs.stored import CONF_TARIFF
from tests.conftest import CH_NOW, NOW, PRM, gateway_entry
from tests.helpers.statistics_reader import assert_continuous, day_total, hourly_rows
from tests.helpers.time_travel import advance, history_known, setup_climkit_site, setup_linky
from tests.simulators.climkit import ClimkitSimulator
from tests.simulators.climkit_gateway import ClimkitGatewaySimulator
from tests.simulators.conso_api import ConsoApiSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock")


async def call(
    hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = False
) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )


async def test_import_history_heals_an_old_day_within_the_budget(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A day Enedis corrected three weeks ago: the action re-reads the range, paced by the
    budget (at most 4 calls per run), and the statistics take the corrected figure."""
    hass = paris
    freezer.move_to(NOW)
    entry, coordinator = await setup_linky(hass, conso_sim, PRM)
    await advance(hass, freezer, [coordinator], NOW + timedelta(hours=2))
    today = NOW.date()
    old = today - timedelta(days=20)
    before = day_total(await hourly_rows(hass, statistic_id(PRM, "consumption")), old)
    conso_sim.corrections[old] = 1.5
    history_known(coordinator)
    calls_before = len(conso_sim.calls)

    answer = await call(
        hass,
        "import_history",
        {"config_entry_id": entry.entry_id, "start": old - timedelta(days=3), "end": old},
        response=True,
    )
    # One daily window and one load-curve window for 4 days.
    assert answer["calls"] == 2
    assert answer["runs"] == 1
    assert answer["calls_available_now"] > 0
    await advance(hass, freezer, [coordinator], NOW + timedelta(hours=4))
    made = conso_sim.calls[calls_before:]
    assert sorted(c.type for c in made) == [
        "consommation_quotidienne",
        "courbe_de_charge_consommation",
    ]
    assert not coordinator.state.requested
    rows = await hourly_rows(hass, statistic_id(PRM, "consumption"))
    assert day_total(rows, old) == pytest.approx(before * 1.5, rel=1e-3)
    assert_continuous(rows)


async def test_import_history_queue_is_paced(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Two years of hourly history: 105 load-curve calls + 2 daily, 4 per run, 45 min apart."""
    hass = paris
    freezer.move_to(NOW)
    entry, coordinator = await setup_linky(hass, conso_sim, PRM)
    history_known(coordinator)
    start = NOW.date() - timedelta(days=700)
    answer = await call(
        hass,
        "import_history",
        {"config_entry_id": entry.entry_id, "start": start},
        response=True,
    )
    assert answer["calls"] == len(coordinator.state.requested)
    assert answer["runs"] == -(-answer["calls"] // 4)
    calls_before = len(conso_sim.calls)
    await advance(hass, freezer, [coordinator], NOW + timedelta(hours=3))
    made = conso_sim.calls[calls_before:]
    # 3 hours: the first run at once, then one every 45 minutes, 4 calls each.
    assert 4 <= len(made) <= 4 * 5
    assert answer["calls"] - len(coordinator.state.requested) == len(made)


async def test_sync_now_and_its_refusals(
    paris: HomeAssistant,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hass = paris
    freezer.move_to(NOW)
    entry, coordinator = await setup_linky(hass, conso_sim, PRM)
    data = {"config_entry_id": entry.entry_id}
    with pytest.raises(ServiceValidationError) as done:
        await call(hass, "sync_now", data)
    assert done.value.translation_key == "already_synced"
    # The next morning, before the scheduled time: the sync runs at once.
    morning = (NOW + timedelta(days=1)).replace(hour=8, minute=5)
    await advance(hass, freezer, [coordinator], morning)
    assert not coordinator.have_yesterday()
    monkeypatch.setattr(coordinator.budget, "available", lambda _priority: 0)
    with pytest.raises(ServiceValidationError) as spent:
        await call(hass, "sync_now", data)
    assert spent.value.translation_key == "budget_exhausted"
    monkeypatch.undo()
    calls = len(conso_sim.calls)
    await call(hass, "sync_now", data)
    assert len(conso_sim.calls) > calls
    assert coordinator.have_yesterday()
    assert coordinator.state.last_day == morning.date() - timedelta(days=1)


async def test_recompute_costs(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    hass = paris
    freezer.move_to(NOW)
    entry, _coordinator = await setup_linky(hass, conso_sim, PRM)
    data = {"config_entry_id": entry.entry_id}
    with pytest.raises(ServiceValidationError) as none:
        await call(hass, "recompute_costs", data)
    assert none.value.translation_key == "no_tariff"
    tariff = {
        "kind": "base",
        "currency": "EUR",
        "off_peak": [],
        "tempo_entity": None,
        "price_entity": None,
        "periods": [{"start": "2020-01-01", "base_price": 0.2, "subscription": 0.0}],
        "feed_in": [],
    }
    hass.config_entries.async_update_entry(entry, options={CONF_TARIFF: tariff})
    await hass.async_block_till_done(wait_background_tasks=True)
    costs = statistic_id(PRM, "consumption_cost")
    energy = await hourly_rows(hass, statistic_id(PRM, "consumption"))
    await call(hass, "recompute_costs", data)
    await hass.async_block_till_done(wait_background_tasks=True)
    rows = await hourly_rows(hass, costs)
    day = NOW.date() - timedelta(days=2)
    assert day_total(rows, day) == pytest.approx(0.2 * day_total(energy, day), rel=1e-6)


async def test_climkit_import_history_and_sync_now(
    hass: HomeAssistant,
    climkit_sim: ClimkitSimulator,
    freezer: FrozenDateTimeFactory,
    fast_pacer: Any,
) -> None:
    freezer.move_to(CH_NOW)
    entry, coordinator = await setup_climkit_site(hass, climkit_sim, freezer)
    data = {"config_entry_id": entry.entry_id}
    with pytest.raises(ServiceValidationError) as done:
        await call(hass, "sync_now", data)
    assert done.value.translation_key == "already_synced"
    first = CH_NOW.date() - timedelta(days=35)
    answer = await call(
        hass,
        "import_history",
        {**data, "start": first, "end": first + timedelta(days=31)},
        response=True,
    )
    assert answer["windows"] == 2
    assert answer["calls"] == 2 * 3  # electricity, heating, cold water
    before = len(climkit_sim.calls_to("site_data"))
    await advance(hass, freezer, [coordinator], CH_NOW + timedelta(minutes=5))
    assert len(climkit_sim.calls_to("site_data")) == before + 6
    assert not coordinator.state.requested


async def test_refusals(
    hass: HomeAssistant,
    gateway_sim: ClimkitGatewaySimulator,
    conso_sim: ConsoApiSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(NOW)
    gateway = gateway_entry(gateway_sim)
    gateway.add_to_hass(hass)
    assert await hass.config_entries.async_setup(gateway.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("sync_now", {"config_entry_id": "nope"}, "entry_not_found"),
        ("sync_now", {"config_entry_id": gateway.entry_id}, "not_for_gateway"),
    ]
    for service, data, key in cases:
        with pytest.raises(ServiceValidationError) as refused:
            await call(hass, service, data)
        assert refused.value.translation_key == key
    entry, _ = await setup_linky(hass, conso_sim, PRM)
    with pytest.raises(ServiceValidationError) as backwards:
        await call(
            hass,
            "import_history",
            {"config_entry_id": entry.entry_id, "start": date(2026, 5, 2), "end": date(2026, 5, 1)},
            response=True,
        )
    assert backwards.value.translation_key == "invalid_range"
    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as unloaded:
        await call(hass, "recompute_costs", {"config_entry_id": entry.entry_id})
    assert unloaded.value.translation_key == "entry_not_loaded"
