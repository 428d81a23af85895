"""Build the provider clients from an entry's data, with Home Assistant's shared session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import CONF_API_URL, CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME, DOMAIN, USER_AGENT
from .providers import climkit, climkit_gateway, conso_api

PACER_KEY = f"{DOMAIN}_climkit_pacer"
CONSO_API_TIMEOUT = conso_api.DEFAULT_TIMEOUT
CLIMKIT_TIMEOUT = climkit.DEFAULT_TIMEOUT
GATEWAY_TIMEOUT = climkit_gateway.DEFAULT_TIMEOUT


def climkit_pacer(hass: HomeAssistant) -> climkit.Pacer:
    """The one pacer every Climkit request of this Home Assistant goes through."""
    pacer: climkit.Pacer | None = hass.data.get(PACER_KEY)
    if pacer is None:
        pacer = hass.data[PACER_KEY] = climkit.Pacer()
    return pacer


def conso_api_client(hass: HomeAssistant, data: Mapping[str, Any]) -> conso_api.ConsoApiClient:
    """A Conso API client for a Linky entry's token and URL."""
    return conso_api.ConsoApiClient(
        async_get_clientsession(hass),
        data[CONF_TOKEN],
        base_url=data.get(CONF_API_URL) or conso_api.DEFAULT_BASE_URL,
        user_agent=USER_AGENT,
        timeout=CONSO_API_TIMEOUT,
    )


def climkit_client(hass: HomeAssistant, data: Mapping[str, Any]) -> climkit.ClimkitClient:
    """A Climkit client for an entry's credentials and URL."""
    return climkit.ClimkitClient(
        async_get_clientsession(hass),
        data[CONF_USERNAME],
        data[CONF_PASSWORD],
        pacer=climkit_pacer(hass),
        user_agent=USER_AGENT,
        base_url=data.get(CONF_API_URL) or climkit.DEFAULT_BASE_URL,
        timeout=CLIMKIT_TIMEOUT,
    )


def gateway_client(hass: HomeAssistant, data: Mapping[str, Any]) -> climkit_gateway.GatewayClient:
    """A client for a Climkit Gateway on the local network."""
    return climkit_gateway.GatewayClient(
        async_get_clientsession(hass),
        data[CONF_HOST],
        int(data.get(CONF_PORT, climkit_gateway.DEFAULT_PORT)),
        user_agent=USER_AGENT,
        timeout=GATEWAY_TIMEOUT,
    )
