"""What the providers' config-flow steps share: their fields, the collapsed API URL section,
provider errors as form error keys, and one entry per PRM or site chosen."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
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

from .const import CONF_API_URL, CONF_PRM, CONF_SITE_ID, CONF_SYNC_OFFSET, DOMAIN
from .providers.errors import (
    AuthError,
    BlockedError,
    NotAuthorisedError,
    ProviderConnectionError,
    ProviderError,
    QuotaError,
    RedirectError,
)
from .providers.inputs import clean_base_url, is_clean_credential
from .schedule import new_offset

_LOGGER = logging.getLogger(__name__)

SOURCE_ADDITIONAL = "additional"
SECTION_ADVANCED = "advanced"
PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
USERNAME = TextSelector(TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="username"))
URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


def api_url(user_input: Mapping[str, Any], default: str) -> str | None:
    """The API URL from the collapsed "advanced" section, without a trailing slash; None when
    it is not an http(s) URL without credentials, query or whitespace (error `invalid_url`)."""
    advanced = user_input.get(SECTION_ADVANCED) or {}
    return clean_base_url(str(advanced.get(CONF_API_URL) or default))


def credentials_error(username: str, password: str) -> str | None:
    """The form error of a Climkit username or password that cannot be sent as typed."""
    if not is_clean_credential(username) or not is_clean_credential(password):
        return "invalid_credentials"
    return None


def advanced_section(url: str) -> dict[Any, Any]:
    """The collapsed "advanced" section holding the API URL."""
    schema = vol.Schema({vol.Optional(CONF_API_URL, default=url): URL})
    return {vol.Optional(SECTION_ADVANCED): section(schema, {"collapsed": True})}


def multi_select(options: list[SelectOptionDict]) -> SelectSelector:
    """A list of check boxes."""
    return SelectSelector(
        SelectSelectorConfig(options=options, multiple=True, mode=SelectSelectorMode.LIST)
    )


def error_key(err: ProviderError) -> str:
    """The form error key of a provider error."""
    if isinstance(err, AuthError):
        return "invalid_auth"
    if isinstance(err, NotAuthorisedError):
        return "not_authorised"
    if isinstance(err, BlockedError):
        return "blocked"
    if isinstance(err, QuotaError):
        return "quota"
    if isinstance(err, ProviderConnectionError):
        return "cannot_connect"
    if isinstance(err, RedirectError):
        return "redirected"
    _LOGGER.debug("Provider check failed: %s", err)
    return "service_error"


class ProviderFlowSteps(ConfigFlow):
    """One entry per PRM or site chosen (mixed into the integration's flow): the first made
    by this flow, the others by flows of their own (`async_step_additional`)."""

    _data: dict[str, Any]

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
