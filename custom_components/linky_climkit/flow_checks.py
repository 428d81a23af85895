"""The provider calls the config flow makes, with their errors turned into form error keys."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .clients import climkit_client, conso_api_client
from .const import CONF_API_URL, CONF_TOKEN
from .linky.budget import Priority
from .linky.budget_store import BudgetRefused, async_get_budget
from .providers.conso_api import ConsoApiType
from .providers.errors import (
    AuthError,
    BlockedError,
    HistoryLimitError,
    InvalidResponseError,
    NoDataError,
    NotAuthorisedError,
    ProviderConnectionError,
    ProviderError,
    QuotaError,
)
from .providers.token import TokenInfo, decode_token

_LOGGER = logging.getLogger(__name__)


def check_token(token: str) -> tuple[TokenInfo | None, str | None]:
    """Read a Conso API token locally; the error key when it cannot be used."""
    try:
        info = decode_token(token)
    except AuthError:
        return None, "invalid_token"
    if info.expires_at is not None and info.expires_at <= dt_util.utcnow():
        return None, "token_expired"
    return info, None


def _error_key(err: ProviderError) -> str:
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
    _LOGGER.debug("Provider check failed: %s", err)
    return "service_error"


async def check_prm(hass: HomeAssistant, prm: str, token: str, api_url: str) -> str | None:
    """One budgeted call: can this token read this PRM? None when it can."""
    client = conso_api_client(hass, {CONF_TOKEN: token, CONF_API_URL: api_url})
    today = dt_util.now().date()
    budget = await async_get_budget(hass)
    try:
        await budget.async_spend(Priority.DAILY)
        await client.fetch(ConsoApiType.DAILY_CONSUMPTION, prm, today - timedelta(days=7), today)
    except BudgetRefused:
        return "budget_exhausted"
    except NoDataError, HistoryLimitError:
        return None  # the PRM is readable; the data just is not there yet
    except InvalidResponseError as err:
        if err.status == 404:  # another server at that URL: no call would ever succeed
            return "not_conso_api"
        return _error_key(err)
    except ProviderError as err:
        return _error_key(err)
    return None


async def climkit_sites(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> tuple[dict[str, str], str | None]:
    """Authenticate and list the account's sites {id: name}; or the error key."""
    client = climkit_client(hass, data)
    try:
        await client.authenticate()
        sites = {}
        for site_id in await client.all_installations():
            sites[site_id] = (await client.installation_infos(site_id)).name
    except ProviderError as err:
        return {}, _error_key(err)
    if not sites:
        return {}, "no_site"
    return sites, None
