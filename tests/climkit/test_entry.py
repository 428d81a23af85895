"""Climkit entry faults, diagnostics and unload."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.linky_climkit.climkit.coordinator import ClimkitCoordinator
from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.diagnostics import async_get_config_entry_diagnostics
from tests.conftest import CH_NOW, climkit_entry
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator, MeterSpec, derive_id

pytestmark = pytest.mark.usefixtures("recorder_mock", "fast_pacer")


async def setup(
    hass: HomeAssistant, sim: ClimkitSimulator
) -> tuple[MockConfigEntry, ClimkitCoordinator]:
    """Set up the demo site's entry."""
    await hass.config.async_set_time_zone("Europe/Zurich")
    entry = climkit_entry(sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    return entry, entry.runtime_data.coordinator


async def run_next(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime | None
) -> None:
    """Move the clock and run what is due."""
    assert when is not None
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_outage_during_setup_then_recovery(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Setup succeeds during an outage; the import starts after the back-off."""
    freezer.move_to(CH_NOW)
    climkit_sim.add_fault("server_error", paths={"installation_infos"})
    _entry, coordinator = await setup(hass, climkit_sim)
    assert coordinator.state.site is None
    assert coordinator.state.backoff_until is not None
    climkit_sim.clear_faults()
    await run_next(hass, freezer, coordinator.state.backoff_until)
    assert coordinator.state.site is not None


async def test_site_gone_and_bad_credentials(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A site that disappears fails the sync; refused credentials start a reauth."""
    freezer.move_to(CH_NOW)
    _entry, coordinator = await setup(hass, climkit_sim)
    for _ in range(10):
        if coordinator.state.history_done:
            break
        await run_next(hass, freezer, coordinator.next_run)
    climkit_sim.add_fault("site_gone", remaining=1)
    await run_next(hass, freezer, CH_NOW + timedelta(days=1))
    assert not coordinator.last_update_success
    assert "site" in (coordinator.state.last_error or "")
    climkit_sim.password = "changed"
    climkit_sim.revoke_tokens()
    await run_next(hass, freezer, CH_NOW + timedelta(days=2))
    flows = hass.config_entries.flow.async_progress_by_handler("linky_climkit")
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_diagnostics_hide_identifiers(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """No password, username, site or meter id, address or name in diagnostics."""
    freezer.move_to(CH_NOW)
    entry, _ = await setup(hass, climkit_sim)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = str(diagnostics)
    site = climkit_sim.sites[DEMO_SITE_ID]
    secrets = [
        climkit_sim.password,
        climkit_sim.username,
        DEMO_SITE_ID,
        site.name,
        site.street_name,
    ]
    secrets += [m.id for m in site.meters]
    for secret in secrets:
        assert secret not in text, secret
    assert diagnostics["requests_made"] == len(climkit_sim.calls)
    assert diagnostics["time_zone"] == "Europe/Zurich"
    site_newest = diagnostics["newest_statistics"]["site consumption"]
    assert site_newest["start"] == "2026-11-19T22:00:00+00:00"  # 23:00 in Zurich, yesterday
    assert any(label.startswith("meter ") for label in diagnostics["newest_statistics"])
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_meter_added_then_removed(
    hass: HomeAssistant, climkit_sim: ClimkitSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """A meter added to the site gets its device at the next daily sync; a removed one loses it."""
    freezer.move_to(CH_NOW)
    entry, coordinator = await setup(hass, climkit_sim)
    for _ in range(10):
        if coordinator.state.history_done:
            break
        await run_next(hass, freezer, coordinator.next_run)
    site = climkit_sim.sites[DEMO_SITE_ID]
    new = MeterSpec(derive_id(DEMO_SITE_ID, 15), "electricity", "consumption", 15, "Atelier")
    site.meters.append(new)
    climkit_sim.forget_cache()
    await run_next(hass, freezer, CH_NOW + timedelta(days=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    registry = dr.async_get(hass)
    assert registry.async_get_device_by_identifier((DOMAIN, new.id), entry.entry_id) is not None
    assert entry.runtime_data.coordinator.state.latest.get(f"{new.id}:consumption") is not None

    removed = site.meters.pop(1)  # a consumer leaves the community
    climkit_sim.forget_cache()
    await run_next(hass, freezer, CH_NOW + timedelta(days=2))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert registry.async_get_device_by_identifier((DOMAIN, removed.id), entry.entry_id) is None
    assert registry.async_get_device_by_identifier((DOMAIN, new.id), entry.entry_id) is not None
