"""Config-flow steps of Linky: a Conso API token, then the PRMs it lists; the checks the
flow makes (the token read locally, one budgeted call per PRM)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import SelectOptionDict
from homeassistant.util import dt as dt_util

from ..clients import conso_api_client
from ..const import CONF_API_URL, CONF_PRM, CONF_PROVIDER, CONF_TOKEN, PROVIDER_LINKY
from ..flow_base import (
    PASSWORD,
    ProviderFlowSteps,
    advanced_section,
    api_url,
    error_key,
    multi_select,
)
from ..providers import conso_api
from ..providers.conso_api import ConsoApiType
from ..providers.errors import (
    AuthError,
    HistoryLimitError,
    InvalidResponseError,
    NoDataError,
    ProviderError,
)
from ..providers.inputs import MAX_TOKEN, is_clean_token
from ..providers.token import TokenInfo, decode_token, is_valid_prm
from .budget import Priority
from .budget_store import BudgetRefused, async_get_budget


def check_token(token: str) -> tuple[TokenInfo | None, str | None]:
    """Read a Conso API token locally (surrounding whitespace already stripped); the error
    key when it cannot be used."""
    if len(token) > MAX_TOKEN:
        return None, "invalid_token"
    if not is_clean_token(token):
        return None, "token_characters"
    try:
        info = decode_token(token)
    except AuthError:
        return None, "invalid_token"
    if info.expires_at is not None and info.expires_at <= dt_util.utcnow():
        return None, "token_expired"
    return info, None


async def check_prm(hass: HomeAssistant, prm: str, token: str, url: str) -> str | None:
    """One budgeted call: can this token read this PRM? None when it can."""
    client = conso_api_client(hass, {CONF_TOKEN: token, CONF_API_URL: url})
    today = dt_util.now().date()
    budget = await async_get_budget(hass)
    try:
        await budget.async_spend(Priority.FLOW)
        await client.fetch(ConsoApiType.DAILY_CONSUMPTION, prm, today - timedelta(days=7), today)
    except BudgetRefused:
        return "budget_exhausted"
    except NoDataError, HistoryLimitError:
        return None  # the PRM is readable; the data just is not there yet
    except InvalidResponseError as err:
        if err.status == 404:  # another server at that URL: no call would ever succeed
            return "not_conso_api"
        return error_key(err)
    except ProviderError as err:
        return error_key(err)
    return None


class LinkyFlowSteps(ProviderFlowSteps):
    """The Linky branch of the config flow (mixed into the integration's flow)."""

    _info: TokenInfo | None

    async def async_step_linky(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the Conso API token."""
        errors: dict[str, str] = {}
        shown = conso_api.DEFAULT_BASE_URL
        if user_input is not None:
            url = api_url(user_input, conso_api.DEFAULT_BASE_URL)
            token = str(user_input[CONF_TOKEN]).strip()
            info, error = check_token(token)
            if info is not None and not any(is_valid_prm(p) for p in info.prms):
                error = "invalid_prm"
            if url is None:
                error = "invalid_url"
            if error is None and info is not None and url is not None:
                self._info = info
                self._data = {CONF_PROVIDER: PROVIDER_LINKY, CONF_TOKEN: token, CONF_API_URL: url}
                return await self.async_step_prms()
            errors["base"] = error or "invalid_token"
            shown = url or shown
        return self.async_show_form(
            step_id="linky",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): PASSWORD, **advanced_section(shown)}),
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
                {vol.Required(CONF_PRM, default=available): multi_select(options)}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
