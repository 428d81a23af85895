"""Linky & Climkit: French Linky meters (Conso API) and Swiss Climkit sites in Home Assistant."""

from __future__ import annotations

from functools import partial

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util

from .clients import climkit_client, conso_api_client, gateway_client
from .climkit.coordinator import ClimkitCoordinator
from .climkit.site_sensors import SiteSensorsCoordinator
from .const import CONF_PROVIDER, CONF_TOKEN, DOMAIN, PROVIDER_CLIMKIT, PROVIDER_GATEWAY
from .data import LinkyClimkitConfigEntry, SiteRuntime
from .gateway.coordinator import GatewayCoordinator, gateway_settings
from .linky.budget_store import async_get_budget
from .linky.coordinator import LinkyCoordinator
from .repair_issues import clear_all
from .services import async_setup_services
from .storage import ENTRY_STORES, entry_store

PLATFORMS: list[Platform] = [Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Nothing to set up from YAML; the actions are registered here, once."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: LinkyClimkitConfigEntry) -> bool:
    """Set up one Linky PRM or one Climkit site (restore, import if needed, schedule), or
    one Climkit Gateway (poll)."""
    if entry.data.get(CONF_PROVIDER) == PROVIDER_GATEWAY:
        return await _async_setup_gateway(hass, entry)
    coordinator: LinkyCoordinator | ClimkitCoordinator
    runtime: LinkyCoordinator | SiteRuntime
    if entry.data.get(CONF_PROVIDER) == PROVIDER_CLIMKIT:
        coordinator = ClimkitCoordinator(hass, entry, climkit_client(hass, entry.data))
        site_sensors = SiteSensorsCoordinator(hass, entry, coordinator)
        runtime = SiteRuntime(coordinator, site_sensors, _site_gateway(hass, entry))
    else:
        token: str = entry.data[CONF_TOKEN]
        coordinator = runtime = LinkyCoordinator(
            hass, entry, conso_api_client(hass, entry.data), await async_get_budget(hass), token
        )
        if coordinator.token_expiry is not None and coordinator.token_expiry <= dt_util.utcnow():
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="token_expired")
    entry.async_on_unload(coordinator.async_cancel_timer)
    await coordinator.async_restore()
    if isinstance(runtime, SiteRuntime):
        runtime.site_sensors.async_restore()
    entry.runtime_data = runtime
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    # Import work waits on the recorder, which writes nothing until Home Assistant has
    # started: it runs in the entry's background once started, never during the set-up.
    entry.async_on_unload(async_at_started(hass, partial(_async_start, entry, coordinator)))
    return True


def _site_gateway(hass: HomeAssistant, entry: LinkyClimkitConfigEntry) -> GatewayCoordinator | None:
    """The gateway a Climkit site entry was given, polled in the background: a gateway that
    does not answer must not hold back the entry's set-up (its meters would each wait for
    their timeout)."""
    if (settings := gateway_settings(entry)) is None:
        return None
    gateway = GatewayCoordinator(hass, entry, gateway_client(hass, settings), settings)
    entry.async_create_background_task(
        hass, gateway.async_refresh(), f"{DOMAIN} gateway {entry.entry_id}"
    )
    return gateway


@callback
def _async_start(
    entry: LinkyClimkitConfigEntry,
    coordinator: LinkyCoordinator | ClimkitCoordinator,
    hass: HomeAssistant,
) -> None:
    """Home Assistant has started: what a hard stop left half done repaired, the first run,
    then (when the tariff changed or was set) the stored energy priced again, in the entry's
    background (cancelled on unload)."""
    entry.async_create_background_task(
        hass, _async_first_run(coordinator), f"{DOMAIN} first run {entry.entry_id}"
    )


async def _async_first_run(coordinator: LinkyCoordinator | ClimkitCoordinator) -> None:
    await coordinator.async_repair()  # what a hard stop left half done, before any import
    await coordinator.async_refresh()
    if coordinator.costs.stale:
        await coordinator.async_recompute_costs()


async def _async_setup_gateway(hass: HomeAssistant, entry: LinkyClimkitConfigEntry) -> bool:
    """A gateway answers on the local network: a first poll must succeed (else retry later)."""
    settings = gateway_settings(entry)
    assert settings is not None
    coordinator = GatewayCoordinator(hass, entry, gateway_client(hass, settings), settings)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    return True


async def _async_options_updated(hass: HomeAssistant, entry: LinkyClimkitConfigEntry) -> None:
    """A new tariff: reload, which re-prices the stored statistics (no API call)."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_remove_entry(hass: HomeAssistant, entry: LinkyClimkitConfigEntry) -> None:
    """Forget the entry's repair issues and stored progress. No API is called; the statistics
    stay in the recorder (delete them in Developer tools → Statistics)."""
    clear_all(hass, entry)
    for kind in ENTRY_STORES:
        await entry_store(hass, kind, entry.entry_id).async_remove()


async def async_unload_entry(hass: HomeAssistant, entry: LinkyClimkitConfigEntry) -> bool:
    """Unload the sensors; the timer is cancelled by the entry's unload callbacks."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    runtime = entry.runtime_data
    if unloaded and not isinstance(runtime, GatewayCoordinator):
        coordinator = runtime.coordinator if isinstance(runtime, SiteRuntime) else runtime
        await coordinator.costs.async_flush()
    return unloaded
