"""Config flow of a Climkit Gateway: its own entry from typed addresses, or joined to the
site's cloud entry (shared meter devices); errors, reconfigure, options."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.linky_climkit.const import (
    CONF_GATEWAY,
    CONF_METERS,
    CONF_PROVIDER,
    DOMAIN,
    PROVIDER_GATEWAY,
)
from custom_components.linky_climkit.diagnostics import async_get_config_entry_diagnostics
from custom_components.linky_climkit.gateway.flow import cloud_meters
from tests.conftest import CH_NOW, gateway_entry
from tests.helpers.time_travel import setup_climkit_site
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator, derive_id
from tests.simulators.climkit_gateway import ClimkitGatewaySimulator, demo_gateway_meters

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to(CH_NOW)


async def open_gateway_step(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "climkit_gateway"}
    )
    assert result["step_id"] == "climkit_gateway"
    return dict(result)


async def configure(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return dict(await hass.config_entries.flow.async_configure(flow_id, data))


def fields(result: dict[str, Any]) -> list[str]:
    return [str(key) for key in result["data_schema"].schema]


async def test_own_entry_from_typed_addresses(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator
) -> None:
    """No cloud entry: host, then addresses per type; each is asked once; the entry loads."""
    result = await open_gateway_step(hass)
    assert fields(result) == [CONF_HOST, CONF_PORT]  # no site to choose
    result = await configure(
        hass, result["flow_id"], {CONF_HOST: "http://127.0.0.1/", CONF_PORT: gateway_sim.port}
    )
    assert result["step_id"] == "gateway_meters"
    assert gateway_sim.calls == []
    result = await configure(
        hass,
        result["flow_id"],
        {"electricity": "10, 11 101", "heating": "40", "cold_water": "50", "hot_water": ""},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Climkit Gateway 127.0.0.1"
    assert result["result"].unique_id == "127.0.0.1"
    data = result["data"]
    assert data[CONF_PROVIDER] == PROVIDER_GATEWAY
    assert data[CONF_PORT] == gateway_sim.port
    assert [(m["type"], m["address"]) for m in data[CONF_METERS]] == [
        ("electricity", 10),
        ("electricity", 11),
        ("electricity", 101),
        ("heating", 40),
        ("cold_water", 50),
    ]
    assert len(gateway_sim.calls) >= 5
    assert [c.path for c in gateway_sim.calls[:5]] == [
        "/api/v1/meter/electricity/10/",
        "/api/v1/meter/electricity/11/",
        "/api/v1/meter/electricity/101/",
        "/api/v1/meter/heating/40/",
        "/api/v1/meter/cold_water/50/",
    ]
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_typed_addresses_errors(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator
) -> None:
    result = await open_gateway_step(hass)
    bad = await configure(
        hass, result["flow_id"], {CONF_HOST: "my gateway", CONF_PORT: gateway_sim.port}
    )
    assert bad["errors"] == {CONF_HOST: "invalid_host"}
    result = await configure(
        hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: gateway_sim.port}
    )
    flow_id = result["flow_id"]
    result = await configure(hass, flow_id, {"electricity": "11, x"})
    assert result["errors"] == {"electricity": "invalid_addresses"}
    result = await configure(hass, flow_id, {"electricity": " "})
    assert result["errors"] == {"base": "no_meter_given"}
    result = await configure(hass, flow_id, {"electricity": "11, 77", "heating": "41"})
    assert result["errors"] == {"base": "meters_not_answering"}
    assert result["description_placeholders"] == {"meters": "electricity 77, heating 41"}
    port = gateway_sim.port
    await gateway_sim.stop()
    result = await configure(hass, flow_id, {"electricity": "11"})
    assert result["errors"] == {"base": "gateway_cannot_connect"}
    await gateway_sim.start(port)
    gateway_sim.add_fault("invalid", address=11)  # answers, invalid for now: still kept
    result = await configure(hass, flow_id, {"electricity": "11"})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_host_aborts(hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator) -> None:
    gateway_entry(gateway_sim).add_to_hass(hass)
    result = await open_gateway_step(hass)
    result = await configure(
        hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: gateway_sim.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_gateway_joins_the_site_entry(
    hass: HomeAssistant,
    climkit_sim: ClimkitSimulator,
    gateway_sim: ClimkitGatewaySimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With the site's cloud entry: its meters are probed and join that entry's devices."""
    site, _ = await setup_climkit_site(hass, climkit_sim, freezer)
    result = await open_gateway_step(hass)
    assert fields(result) == [CONF_HOST, CONF_PORT, "site"]
    result = await configure(
        hass,
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: gateway_sim.port, "site": DEMO_SITE_ID},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "gateway_added_to_site"
    assert result["description_placeholders"] == {"site": site.title, "count": "8"}
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    assert CONF_GATEWAY not in site.data  # the options hold it: the options flow removes it
    linked = site.options[CONF_GATEWAY]
    assert linked[CONF_HOST] == "127.0.0.1"
    assert {m["meter_id"] for m in linked[CONF_METERS]} == {
        derive_id(DEMO_SITE_ID, prim) for prim in (10, 11, 12, 13, 14, 101, 40, 50)
    }
    assert site.state is ConfigEntryState.LOADED
    # The live power of apartment 1 sits on the same device as its daily consumption.
    entities = er.async_get(hass)
    meter_id = derive_id(DEMO_SITE_ID, 11)
    live = entities.async_get_entity_id("sensor", DOMAIN, f"{meter_id}_power")
    daily = entities.async_get_entity_id("sensor", DOMAIN, f"{meter_id}_consumption")
    assert live is not None
    assert daily is not None
    live_entry, daily_entry = entities.async_get(live), entities.async_get(daily)
    assert live_entry is not None
    assert daily_entry is not None
    assert live_entry.device_id == daily_entry.device_id
    device = dr.async_get(hass).async_get(live_entry.device_id or "")
    assert device is not None
    assert device.config_entry_id == site.entry_id
    state = hass.states.get(live)
    assert state is not None
    assert float(state.state) > 0

    diagnostics = await async_get_config_entry_diagnostics(hass, site)
    assert len(diagnostics["gateway"]["meters"]) == 8
    assert "127.0.0.1" not in str(diagnostics)

    # Options: the site entry now has the gateway's poll interval and its removal.
    result = dict(await hass.config_entries.options.async_init(site.entry_id))
    assert "gateway_poll" in result["menu_options"]
    assert "remove_gateway" in result["menu_options"]
    result = dict(
        await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "remove_gateway"}
        )
    )
    await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert site.options[CONF_GATEWAY] is None
    assert site.runtime_data.gateway is None
    assert entities.async_get_entity_id("sensor", DOMAIN, f"{meter_id}_power") is None
    assert entities.async_get_entity_id("sensor", DOMAIN, f"{meter_id}_consumption") == daily
    calls = len(gateway_sim.calls)
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(gateway_sim.calls) == calls


async def test_site_gateway_stored_in_data_by_earlier_versions(
    hass: HomeAssistant,
    climkit_sim: ClimkitSimulator,
    gateway_sim: ClimkitGatewaySimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A site given its gateway by an earlier version keeps it in its data: it is polled as
    before; its removal is written to the options only; adding it again works."""
    site, _ = await setup_climkit_site(hass, climkit_sim, freezer)
    gateway = {
        CONF_HOST: "127.0.0.1",
        CONF_PORT: gateway_sim.port,
        CONF_METERS: [m.as_dict() for m in cloud_meters(site)],
    }
    # What the config flow stored until now; the update reloads the entry.
    hass.config_entries.async_update_entry(site, data={**site.data, CONF_GATEWAY: gateway})
    await hass.async_block_till_done(wait_background_tasks=True)
    data = dict(site.data)
    assert site.runtime_data.gateway is not None
    entities = er.async_get(hass)
    meter_id = derive_id(DEMO_SITE_ID, 11)
    live = entities.async_get_entity_id("sensor", DOMAIN, f"{meter_id}_power")
    assert live is not None
    state = hass.states.get(live)
    assert state is not None
    assert float(state.state) > 0

    result = dict(await hass.config_entries.options.async_init(site.entry_id))
    assert result["menu_options"][-2:] == ["gateway_poll", "remove_gateway"]
    result = dict(
        await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "remove_gateway"}
        )
    )
    await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert site.data == data
    assert site.options[CONF_GATEWAY] is None
    assert site.runtime_data.gateway is None
    assert entities.async_get_entity_id("sensor", DOMAIN, f"{meter_id}_power") is None

    result = await open_gateway_step(hass)
    result = await configure(
        hass,
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: gateway_sim.port, "site": DEMO_SITE_ID},
    )
    assert result["reason"] == "gateway_added_to_site"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert site.options[CONF_GATEWAY][CONF_HOST] == "127.0.0.1"
    assert site.runtime_data.gateway is not None
    assert entities.async_get_entity_id("sensor", DOMAIN, f"{meter_id}_power") is not None


async def test_reconfigure_moves_the_gateway(
    hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator
) -> None:
    entry = gateway_entry(gateway_sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    moved = ClimkitGatewaySimulator(demo_gateway_meters())
    await moved.start()
    try:
        result = dict(await entry.start_reconfigure_flow(hass))
        assert result["step_id"] == "reconfigure"
        await gateway_sim.stop()
        result = await configure(
            hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: gateway_sim.port}
        )
        assert result["errors"] == {"base": "gateway_cannot_connect"}
        result = await configure(
            hass, result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: moved.port}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        assert entry.data[CONF_PORT] == moved.port
        assert entry.state is ConfigEntryState.LOADED
        assert moved.calls
    finally:
        await moved.stop()
