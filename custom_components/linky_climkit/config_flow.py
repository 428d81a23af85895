"""Config flow: choose a provider, then a Conso API token and its PRMs, or Climkit
credentials and their sites. One entry per PRM or site."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import CONF_HOST
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .const import (
    CONF_API_URL,
    CONF_PASSWORD,
    CONF_PRM,
    CONF_PROVIDER,
    CONF_SITE_ID,
    CONF_SYNC_OFFSET,
    CONF_TOKEN,
    CONF_USERNAME,
    DOMAIN,
    PROVIDER_CLIMKIT,
    PROVIDER_GATEWAY,
    PROVIDER_LINKY,
)
from .flow_checks import check_prm, check_token, climkit_sites
from .gateway.flow import GatewayFlowSteps
from .gateway.options import GatewayOptionsFlow
from .options_flow import TariffOptionsFlow
from .providers import climkit, conso_api
from .providers.token import TokenInfo, is_valid_prm
from .schedule import new_offset

SOURCE_ADDITIONAL = "additional"
SECTION_ADVANCED = "advanced"
CONF_SITES = "sites"
PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
USERNAME = TextSelector(TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="username"))
URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
DEFAULT_URLS = {
    PROVIDER_LINKY: conso_api.DEFAULT_BASE_URL,
    PROVIDER_CLIMKIT: climkit.DEFAULT_BASE_URL,
}


def _api_url(user_input: Mapping[str, Any], default: str) -> str:
    """The API URL from the collapsed "advanced" section, without a trailing slash."""
    advanced = user_input.get(SECTION_ADVANCED) or {}
    return str(advanced.get(CONF_API_URL) or default).rstrip("/")


def _advanced(api_url: str) -> dict[Any, Any]:
    schema = vol.Schema({vol.Optional(CONF_API_URL, default=api_url): URL})
    return {vol.Optional(SECTION_ADVANCED): section(schema, {"collapsed": True})}


def _multi_select(options: list[SelectOptionDict]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=options, multiple=True, mode=SelectSelectorMode.LIST)
    )


class LinkyClimkitConfigFlow(GatewayFlowSteps, domain=DOMAIN):
    """Linky (Conso API), Climkit (cloud) or a Climkit Gateway (local network)."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._data: dict[str, Any] = {}
        self._info: TokenInfo | None = None
        self._sites: dict[str, str] = {}
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

    # ---- shared ------------------------------------------------------------------------

    async def async_step_additional(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Create the entry of another PRM or site chosen in the same flow (already checked)."""
        unique_id = data.get(CONF_PRM) or data[CONF_SITE_ID]
        title = data.pop("title")
        await self.async_set_unique_id(unique_id)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=title, data=data)

    async def _create_entries(
        self, chosen: list[str], key: str, titles: Mapping[str, str]
    ) -> ConfigFlowResult:
        for other in chosen[1:]:
            data = {
                **self._data,
                key: other,
                CONF_SYNC_OFFSET: new_offset(),
                "title": titles[other],
            }
            self.hass.async_create_task(
                self.hass.config_entries.flow.async_init(
                    DOMAIN, context={"source": SOURCE_ADDITIONAL}, data=data
                )
            )
        await self.async_set_unique_id(chosen[0])
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=titles[chosen[0]],
            data={**self._data, key: chosen[0], CONF_SYNC_OFFSET: new_offset()},
        )

    def _available(self, ids: list[str]) -> list[str]:
        configured = {e.unique_id for e in self._async_current_entries(include_ignore=False)}
        return [i for i in ids if i not in configured]

    # ---- Linky -------------------------------------------------------------------------

    async def async_step_linky(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the Conso API token."""
        errors: dict[str, str] = {}
        api_url = conso_api.DEFAULT_BASE_URL
        if user_input is not None:
            api_url = _api_url(user_input, api_url)
            info, error = check_token(user_input[CONF_TOKEN])
            if info is not None and not any(is_valid_prm(p) for p in info.prms):
                error = "invalid_prm"
            if error is None and info is not None:
                self._info = info
                self._data = {
                    CONF_PROVIDER: PROVIDER_LINKY,
                    CONF_TOKEN: user_input[CONF_TOKEN].strip(),
                    CONF_API_URL: api_url,
                }
                return await self.async_step_prms()
            errors["base"] = error or "invalid_token"
        return self.async_show_form(
            step_id="linky",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): PASSWORD, **_advanced(api_url)}),
            errors=errors,
            description_placeholders={"token_url": "https://conso.boris.sh"},
        )

    async def async_step_prms(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the PRMs listed in the token; one validation call each."""
        assert self._info is not None
        available = self._available([p for p in self._info.prms if is_valid_prm(p)])
        if not available:
            return self.async_abort(reason="already_configured")
        errors: dict[str, str] = {}
        placeholders = {"prm": ""}
        if user_input is not None:
            chosen = [p for p in user_input[CONF_PRM] if p in available]
            if not chosen:
                errors["base"] = "no_prm_selected"
            for prm in chosen:
                error = await check_prm(
                    self.hass, prm, self._data[CONF_TOKEN], self._data[CONF_API_URL]
                )
                if error is not None:
                    errors["base"], placeholders["prm"] = error, prm
                    break
            if not errors:
                return await self._create_entries(
                    chosen, CONF_PRM, {p: f"Linky {p}" for p in chosen}
                )
        options = [SelectOptionDict(value=p, label=p) for p in available]
        return self.async_show_form(
            step_id="prms",
            data_schema=vol.Schema(
                {vol.Required(CONF_PRM, default=available): _multi_select(options)}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    # ---- Climkit -----------------------------------------------------------------------

    async def async_step_climkit(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Climkit API credentials."""
        errors: dict[str, str] = {}
        api_url = climkit.DEFAULT_BASE_URL
        if user_input is not None:
            api_url = _api_url(user_input, api_url)
            data = {
                CONF_PROVIDER: PROVIDER_CLIMKIT,
                CONF_USERNAME: user_input[CONF_USERNAME].strip(),
                CONF_PASSWORD: user_input[CONF_PASSWORD],
                CONF_API_URL: api_url,
            }
            sites, error = await climkit_sites(self.hass, data)
            if error is None:
                self._data, self._sites = data, sites
                return await self.async_step_sites()
            errors["base"] = error
        return self.async_show_form(
            step_id="climkit",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_USERNAME): USERNAME,
                    vol.Required(CONF_PASSWORD): PASSWORD,
                    **_advanced(api_url),
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
                {vol.Required(CONF_SITES, default=available): _multi_select(options)}
            ),
            errors=errors,
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
            fields.update(_advanced(entry.data.get(CONF_API_URL) or DEFAULT_URLS[provider]))
        return vol.Schema(fields)

    async def _check_update(
        self, entry: ConfigEntry, user_input: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        provider = entry.data.get(CONF_PROVIDER, PROVIDER_LINKY)
        api_url = _api_url(user_input, entry.data.get(CONF_API_URL) or DEFAULT_URLS[provider])
        if provider == PROVIDER_CLIMKIT:
            updates = {
                CONF_USERNAME: user_input[CONF_USERNAME].strip(),
                CONF_PASSWORD: user_input[CONF_PASSWORD],
                CONF_API_URL: api_url,
            }
            sites, error = await climkit_sites(self.hass, updates)
            if error is None and entry.data[CONF_SITE_ID] not in sites:
                error = "site_not_found"
            return updates, error
        token = user_input[CONF_TOKEN].strip()
        info, error = check_token(token)
        if info is not None and entry.data[CONF_PRM] not in info.prms:
            error = "prm_not_in_token"
        if error is None:
            error = await check_prm(self.hass, entry.data[CONF_PRM], token, api_url)
        return {CONF_TOKEN: token, CONF_API_URL: api_url}, error
