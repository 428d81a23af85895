"""Diagnostics hold no secret and no identifier of the fixture, neither as a value nor as a
dictionary key (Climkit sensor ids were keys), nor inside a longer text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant

from custom_components.linky_climkit.const import CONF_GATEWAY, CONF_METERS
from custom_components.linky_climkit.diagnostics import async_get_config_entry_diagnostics
from custom_components.linky_climkit.gateway.coordinator import ConfiguredMeter
from custom_components.linky_climkit.providers.climkit_gateway import GatewayMeter
from tests.conftest import NOW, PRM, climkit_entry, gateway_entry
from tests.helpers.time_travel import setup_climkit_site, setup_linky
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator
from tests.simulators.climkit_gateway import ClimkitGatewaySimulator
from tests.simulators.conso_api import ConsoApiSimulator

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")


def strings_of(node: Any) -> Iterator[str]:
    """Every key and every scalar of a JSON-like tree, as text."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings_of(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from strings_of(item)
    else:
        yield str(node)


def assert_nothing_of(diagnostics: dict[str, Any], secrets: list[str]) -> None:
    texts = list(strings_of(diagnostics))
    assert all(secrets)
    leaks = {secret: [t for t in texts if secret in t][:3] for secret in secrets}
    assert not {secret: found for secret, found in leaks.items() if found}


def climkit_secrets(sim: ClimkitSimulator) -> list[str]:
    site = sim.sites[DEMO_SITE_ID]
    secrets = [
        sim.username,
        sim.password,
        sim.base_url,
        DEMO_SITE_ID,
        site.name,
        site.ref,
        site.street_name,
        site.city,
        str(site.latitude),
        str(site.longitude),
        sim.sensor_id(DEMO_SITE_ID),
        "Température chaufferie",
        "Climkit site",  # the entry's title
    ]
    for meter in site.meters:
        secrets += [meter.id, meter.name]
    return secrets


async def test_climkit_site_with_gateway(
    hass: HomeAssistant,
    climkit_sim: ClimkitSimulator,
    gateway_sim: ClimkitGatewaySimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A site with its sensors read and a gateway linked: every id, name and secret is gone."""
    site = climkit_sim.sites[DEMO_SITE_ID]
    linked = [
        ConfiguredMeter(GatewayMeter(m.type, m.prim_ad), m.name, m.id).as_dict()
        for m in site.meters
        if m.prim_ad in (11, 12, 101)
    ]
    gateway = {CONF_HOST: "127.0.0.1", CONF_PORT: gateway_sim.port, CONF_METERS: linked}
    entry, coordinator = await setup_climkit_site(
        hass, climkit_sim, freezer, options={CONF_GATEWAY: gateway}
    )
    assert coordinator.state.sensor_values  # the sensors were read: their ids are keys
    assert entry.runtime_data.gateway is not None
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert_nothing_of(diagnostics, [*climkit_secrets(climkit_sim), "127.0.0.1"])
    assert diagnostics["state"]["sensor_values"]  # still there, under neutral labels
    assert diagnostics["gateway"]["meters"]


async def test_gateway_entry(hass: HomeAssistant, gateway_sim: ClimkitGatewaySimulator) -> None:
    entry = gateway_entry(gateway_sim, site_id=DEMO_SITE_ID)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert_nothing_of(diagnostics, ["127.0.0.1", DEMO_SITE_ID, "Climkit Gateway"])
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_linky_entry(
    paris: HomeAssistant, conso_sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    entry, _ = await setup_linky(paris, conso_sim, PRM)
    diagnostics = await async_get_config_entry_diagnostics(paris, entry)
    token = entry.data["token"]
    assert_nothing_of(diagnostics, [PRM, *token.split("."), conso_sim.base_url, f"Linky {PRM}"])


def test_climkit_entry_fixture_is_the_one_scanned(climkit_sim: ClimkitSimulator) -> None:
    """The scan above covers the entry the other Climkit tests use."""
    assert climkit_entry(climkit_sim).data["site_id"] == DEMO_SITE_ID
