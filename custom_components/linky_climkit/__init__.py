"""Linky & Climkit: French Linky meters (Conso API) and Swiss Climkit sites in Home Assistant."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util

from .budget_store import async_get_budget
from .const import CONF_API_URL, CONF_TOKEN, DOMAIN, USER_AGENT
from .coordinator import LinkyConfigEntry, LinkyCoordinator
from .providers.conso_api import DEFAULT_BASE_URL, ConsoApiClient

PLATFORMS: list[Platform] = [Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Nothing to set up from YAML."""
    return True


async def async_setup_entry(hass: HomeAssistant, entry: LinkyConfigEntry) -> bool:
    """Set up one Linky PRM: restore its state, import if needed, schedule the next sync."""
    token: str = entry.data[CONF_TOKEN]
    client = ConsoApiClient(
        async_get_clientsession(hass),
        token,
        base_url=entry.data.get(CONF_API_URL) or DEFAULT_BASE_URL,
        user_agent=USER_AGENT,
    )
    coordinator = LinkyCoordinator(hass, entry, client, await async_get_budget(hass), token)
    if coordinator.token_expiry is not None and coordinator.token_expiry <= dt_util.utcnow():
        raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="token_expired")
    entry.async_on_unload(coordinator.async_cancel_timer)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: LinkyConfigEntry) -> bool:
    """Unload the sensors; the timer is cancelled by the entry's unload callbacks."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
