"""Config flow: choose a provider, then a Conso API token and its PRMs (one entry per PRM)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util

from .budget import Priority
from .budget_store import BudgetRefused, async_get_budget
from .const import (
    CONF_API_URL,
    CONF_PRM,
    CONF_PROVIDER,
    CONF_SYNC_OFFSET,
    CONF_TOKEN,
    DOMAIN,
    PROVIDER_LINKY,
    USER_AGENT,
)
from .providers.conso_api import DEFAULT_BASE_URL, ConsoApiClient, ConsoApiType
from .providers.errors import (
    AuthError,
    BlockedError,
    HistoryLimitError,
    NoDataError,
    NotAuthorisedError,
    ProviderConnectionError,
    ProviderError,
    QuotaError,
)
from .providers.token import TokenInfo, decode_token, is_valid_prm
from .schedule import new_offset

_LOGGER = logging.getLogger(__name__)

SOURCE_ADDITIONAL_PRM = "additional_prm"
SECTION_ADVANCED = "advanced"
PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


def _api_url(user_input: Mapping[str, Any], default: str) -> str:
    """The API URL from the collapsed "advanced" section, without a trailing slash."""
    advanced = user_input.get(SECTION_ADVANCED) or {}
    return str(advanced.get(CONF_API_URL) or default).rstrip("/")


def _token_errors(token: str) -> tuple[TokenInfo | None, str | None]:
    """Read the token locally; the error key when it cannot be used."""
    try:
        info = decode_token(token)
    except AuthError:
        return None, "invalid_token"
    if info.expires_at is not None and info.expires_at <= dt_util.utcnow():
        return None, "token_expired"
    return info, None


class LinkyClimkitConfigFlow(ConfigFlow, domain=DOMAIN):
    """Linky (Conso API) now; the menu is ready for Climkit."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._token = ""
        self._api_url = DEFAULT_BASE_URL
        self._info: TokenInfo | None = None

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the provider."""
        return self.async_show_menu(step_id="user", menu_options=["linky"])

    def _token_schema(self, api_url: str) -> vol.Schema:
        advanced = vol.Schema({vol.Optional(CONF_API_URL, default=api_url): URL})
        return vol.Schema(
            {
                vol.Required(CONF_TOKEN): PASSWORD,
                vol.Optional(SECTION_ADVANCED): section(advanced, {"collapsed": True}),
            }
        )

    async def async_step_linky(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the Conso API token."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._api_url = _api_url(user_input, DEFAULT_BASE_URL)
            info, error = _token_errors(user_input[CONF_TOKEN])
            if error is None and info is not None:
                valid = [p for p in info.prms if is_valid_prm(p)]
                if not valid:
                    error = "invalid_prm"
                else:
                    self._token = user_input[CONF_TOKEN].strip()
                    self._info = info
                    return await self.async_step_prms()
            errors["base"] = error or "invalid_token"
        return self.async_show_form(
            step_id="linky",
            data_schema=self._token_schema(self._api_url),
            errors=errors,
            description_placeholders={"token_url": "https://conso.boris.sh"},
        )

    async def async_step_prms(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the PRMs listed in the token; one validation call each."""
        assert self._info is not None
        configured = {e.unique_id for e in self._async_current_entries(include_ignore=False)}
        available = [p for p in self._info.prms if is_valid_prm(p) and p not in configured]
        if not available:
            return self.async_abort(reason="already_configured")
        errors: dict[str, str] = {}
        placeholders = {"prm": ""}
        if user_input is not None:
            chosen = [p for p in user_input[CONF_PRM] if p in available]
            if not chosen:
                errors["base"] = "no_prm_selected"
            for prm in chosen:
                error = await self._validate(prm)
                if error is not None:
                    errors["base"] = error
                    placeholders["prm"] = prm
                    break
            if not errors:
                for prm in chosen[1:]:
                    self.hass.async_create_task(
                        self.hass.config_entries.flow.async_init(
                            DOMAIN,
                            context={"source": SOURCE_ADDITIONAL_PRM},
                            data=self._entry_data(prm),
                        )
                    )
                return await self._create(chosen[0])
        schema = vol.Schema(
            {
                vol.Required(CONF_PRM, default=available): SelectSelector(
                    SelectSelectorConfig(
                        options=available, multiple=True, mode=SelectSelectorMode.LIST
                    )
                )
            }
        )
        return self.async_show_form(
            step_id="prms", data_schema=schema, errors=errors, description_placeholders=placeholders
        )

    async def async_step_additional_prm(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Create the entry of another PRM chosen in the same flow (already validated)."""
        await self.async_set_unique_id(data[CONF_PRM])
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=f"Linky {data[CONF_PRM]}", data=data)

    def _entry_data(self, prm: str) -> dict[str, Any]:
        return {
            CONF_PROVIDER: PROVIDER_LINKY,
            CONF_TOKEN: self._token,
            CONF_PRM: prm,
            CONF_API_URL: self._api_url,
            CONF_SYNC_OFFSET: new_offset(),
        }

    async def _create(self, prm: str) -> ConfigFlowResult:
        await self.async_set_unique_id(prm)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=f"Linky {prm}", data=self._entry_data(prm))

    async def _validate(self, prm: str, token: str | None = None) -> str | None:
        """One budgeted call to check the token can read this PRM."""
        client = ConsoApiClient(
            async_get_clientsession(self.hass),
            token or self._token,
            base_url=self._api_url,
            user_agent=USER_AGENT,
        )
        today = dt_util.now().date()
        budget = await async_get_budget(self.hass)
        try:
            await budget.async_spend(Priority.DAILY)
            await client.fetch(
                ConsoApiType.DAILY_CONSUMPTION, prm, today - timedelta(days=7), today
            )
        except BudgetRefused:
            return "budget_exhausted"
        except NoDataError, HistoryLimitError:
            return None  # the PRM is readable; the data just is not there yet
        except AuthError:
            return "invalid_auth"
        except NotAuthorisedError:
            return "not_authorised"
        except BlockedError:
            return "blocked"
        except QuotaError:
            return "quota"
        except ProviderConnectionError:
            return "cannot_connect"
        except ProviderError as err:
            _LOGGER.debug("Validation of a PRM failed: %s", err)
            return "service_error"
        return None

    # ---- reauth and reconfigure -------------------------------------------------------

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Conso API answered 401: ask for a new token."""
        self._api_url = entry_data.get(CONF_API_URL) or DEFAULT_BASE_URL
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check the new token reads the entry's PRM, then reload."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            error = await self._check_new_token(entry.data[CONF_PRM], user_input[CONF_TOKEN])
            if error is None:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN].strip()}
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): PASSWORD}),
            errors=errors,
            description_placeholders={"prm": entry.data[CONF_PRM]},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the token or the API URL of an entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            self._api_url = _api_url(user_input, entry.data.get(CONF_API_URL) or DEFAULT_BASE_URL)
            error = await self._check_new_token(entry.data[CONF_PRM], user_input[CONF_TOKEN])
            if error is None:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_TOKEN: user_input[CONF_TOKEN].strip(),
                        CONF_API_URL: self._api_url,
                    },
                )
            errors["base"] = error
        self._api_url = entry.data.get(CONF_API_URL) or DEFAULT_BASE_URL
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self._token_schema(self._api_url),
            errors=errors,
            description_placeholders={"prm": entry.data[CONF_PRM]},
        )

    async def _check_new_token(self, prm: str, token: str) -> str | None:
        info, error = _token_errors(token)
        if error is not None or info is None:
            return error or "invalid_token"
        if prm not in info.prms:
            return "prm_not_in_token"
        return await self._validate(prm, token.strip())
