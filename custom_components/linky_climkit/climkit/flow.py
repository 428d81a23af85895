"""Config-flow steps of Climkit (cloud): the API credentials, then the account's sites; the
check the flow makes (authenticate and list the sites)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import SelectOptionDict

from ..clients import climkit_client
from ..const import (
    CONF_API_URL,
    CONF_PASSWORD,
    CONF_PROVIDER,
    CONF_SITE_ID,
    CONF_USERNAME,
    PROVIDER_CLIMKIT,
)
from ..flow_base import (
    PASSWORD,
    USERNAME,
    ProviderFlowSteps,
    advanced_section,
    api_url,
    credentials_error,
    error_key,
    multi_select,
)
from ..providers import climkit
from ..providers.errors import ProviderError

CONF_SITES = "sites"


async def climkit_sites(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> tuple[dict[str, str], str | None]:
    """Authenticate and list the account's sites {id: name}; or the error key (nothing is
    sent when the URL or the credentials cannot be)."""
    if data.get(CONF_API_URL) is None:
        return {}, "invalid_url"
    if error := credentials_error(data[CONF_USERNAME], data[CONF_PASSWORD]):
        return {}, error
    client = climkit_client(hass, data)
    try:
        await client.authenticate()
        sites = {}
        for site_id in await client.all_installations():
            sites[site_id] = (await client.installation_infos(site_id)).name
    except ProviderError as err:
        return {}, error_key(err)
    if not sites:
        return {}, "no_site"
    return sites, None


class ClimkitFlowSteps(ProviderFlowSteps):
    """The Climkit branch of the config flow (mixed into the integration's flow)."""

    _sites: dict[str, str]

    async def async_step_climkit(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Climkit API credentials."""
        errors: dict[str, str] = {}
        url = climkit.DEFAULT_BASE_URL
        if user_input is not None:
            data = {
                CONF_PROVIDER: PROVIDER_CLIMKIT,
                CONF_USERNAME: str(user_input[CONF_USERNAME]).strip(),
                CONF_PASSWORD: str(user_input[CONF_PASSWORD]),
                CONF_API_URL: api_url(user_input, url),
            }
            sites, error = await climkit_sites(self.hass, data)
            if error is None:
                self._data, self._sites = data, sites
                return await self.async_step_sites()
            errors["base"] = error
            url = data[CONF_API_URL] or url
        return self.async_show_form(
            step_id="climkit",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_USERNAME): USERNAME,
                    vol.Required(CONF_PASSWORD): PASSWORD,
                    **advanced_section(url),
                }
            ),
            errors=errors,
        )

    async def async_step_sites(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the sites (names from installation_infos)."""
        available = self._available(list(self._sites))
        if not available:
            return self.async_abort(reason="already_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = [s for s in user_input[CONF_SITES] if s in available]
            if chosen:
                titles = {s: f"Climkit {self._sites[s]}" for s in chosen}
                return await self._create_entries(chosen, CONF_SITE_ID, titles)
            errors["base"] = "no_site_selected"
        options = [SelectOptionDict(value=s, label=self._sites[s]) for s in available]
        return self.async_show_form(
            step_id="sites",
            data_schema=vol.Schema(
                {vol.Required(CONF_SITES, default=available): multi_select(options)}
            ),
            errors=errors,
        )
