"""Config flow: choose a provider, then a Conso API token and its PRMs, or Climkit
credentials and their sites, or a Climkit Gateway (each wing's `flow.py`). One entry per PRM,
site or gateway. Here: the menu, reauth and reconfigure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import CONF_HOST
from homeassistant.core import callback

from .climkit.flow import ClimkitFlowSteps, climkit_sites
from .const import (
    CONF_API_URL,
    CONF_PASSWORD,
    CONF_PRM,
    CONF_PROVIDER,
    CONF_SITE_ID,
    CONF_TOKEN,
    CONF_USERNAME,
    DOMAIN,
    PROVIDER_CLIMKIT,
    PROVIDER_GATEWAY,
    PROVIDER_LINKY,
)
from .flow_base import PASSWORD, USERNAME, advanced_section, api_url
from .gateway.flow import GatewayFlowSteps
from .gateway.options import GatewayOptionsFlow
from .linky.flow import LinkyFlowSteps, check_prm, check_token
from .options_flow import TariffOptionsFlow
from .providers import climkit, conso_api

DEFAULT_URLS = {
    PROVIDER_LINKY: conso_api.DEFAULT_BASE_URL,
    PROVIDER_CLIMKIT: climkit.DEFAULT_BASE_URL,
}


class LinkyClimkitConfigFlow(LinkyFlowSteps, ClimkitFlowSteps, GatewayFlowSteps, domain=DOMAIN):
    """Linky (Conso API), Climkit (cloud) or a Climkit Gateway (local network)."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._data = {}
        self._info = None
        self._sites = {}
        self._gateway = {}

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: ConfigEntry,
    ) -> TariffOptionsFlow | GatewayOptionsFlow:
        """A Gateway entry's poll interval; the tariff (and more) of a Linky or Climkit entry."""
        if config_entry.data.get(CONF_PROVIDER) == PROVIDER_GATEWAY:
            return GatewayOptionsFlow()
        return TariffOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the provider."""
        return self.async_show_menu(
            step_id="user", menu_options=["linky", "climkit", "climkit_gateway"]
        )

    # ---- reauth and reconfigure -------------------------------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The provider refused the credentials: ask for new ones."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check the new token or password, then reload."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            updates, error = await self._check_update(entry, user_input)
            if error is None:
                return self.async_update_reload_and_abort(entry, data_updates=updates)
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self._credentials_schema(entry, advanced=False),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the credentials or the API URL of an entry, or a gateway's address."""
        entry = self._get_reconfigure_entry()
        if entry.data.get(CONF_PROVIDER) == PROVIDER_GATEWAY:
            return await self._reconfigure_gateway(entry, user_input)
        errors: dict[str, str] = {}
        if user_input is not None:
            updates, error = await self._check_update(entry, user_input)
            if error is None:
                return self.async_update_reload_and_abort(entry, data_updates=updates)
            errors["base"] = error
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self._credentials_schema(entry, advanced=True),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    async def _reconfigure_gateway(
        self, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            updates, error = await self._check_gateway(entry, user_input)
            if error is None:
                host = updates[CONF_HOST]
                taken = {e.unique_id for e in self._async_current_entries() if e is not entry}
                if host in taken:
                    return self.async_abort(reason="already_configured")
                return self.async_update_reload_and_abort(
                    entry, unique_id=host, title=f"Climkit Gateway {host}", data_updates=updates
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self._gateway_schema(entry),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    @staticmethod
    def _credentials_schema(entry: ConfigEntry, *, advanced: bool) -> vol.Schema:
        provider = entry.data.get(CONF_PROVIDER, PROVIDER_LINKY)
        fields: dict[Any, Any]
        if provider == PROVIDER_CLIMKIT:
            fields = {
                vol.Required(CONF_USERNAME, default=entry.data[CONF_USERNAME]): USERNAME,
                vol.Required(CONF_PASSWORD): PASSWORD,
            }
        else:
            fields = {vol.Required(CONF_TOKEN): PASSWORD}
        if advanced:
            fields.update(advanced_section(entry.data.get(CONF_API_URL) or DEFAULT_URLS[provider]))
        return vol.Schema(fields)

    async def _check_update(
        self, entry: ConfigEntry, user_input: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        provider = entry.data.get(CONF_PROVIDER, PROVIDER_LINKY)
        url = api_url(user_input, entry.data.get(CONF_API_URL) or DEFAULT_URLS[provider])
        if provider == PROVIDER_CLIMKIT:
            updates = {
                CONF_USERNAME: str(user_input[CONF_USERNAME]).strip(),
                CONF_PASSWORD: str(user_input[CONF_PASSWORD]),
                CONF_API_URL: url,
            }
            sites, error = await climkit_sites(self.hass, updates)
            if error is None and entry.data[CONF_SITE_ID] not in sites:
                error = "site_not_found"
            return updates, error
        token = str(user_input[CONF_TOKEN]).strip()
        info, error = check_token(token)
        if info is not None and entry.data[CONF_PRM] not in info.prms:
            error = "prm_not_in_token"
        if url is None:
            error = "invalid_url"
        if error is None and url is not None:
            error = await check_prm(self.hass, entry.data[CONF_PRM], token, url)
        return {CONF_TOKEN: token, CONF_API_URL: url}, error
