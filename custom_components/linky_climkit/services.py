"""Actions: re-read a range of history, price the stored statistics again, sync now.

They are registered once for the integration (not per entry) and name their entry.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import probatio as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .climkit.coordinator import ClimkitCoordinator
from .const import DOMAIN
from .data import SiteRuntime
from .linky.coordinator import LinkyCoordinator
from .sync import SyncRefused

SERVICE_IMPORT_HISTORY = "import_history"
SERVICE_RECOMPUTE_COSTS = "recompute_costs"
SERVICE_SYNC_NOW = "sync_now"
ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_START = "start"
ATTR_END = "end"

ENTRY_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
IMPORT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_START): cv.date,
        vol.Optional(ATTR_END): cv.date,
    }
)


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (from async_setup, so they exist even before an entry loads)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_IMPORT_HISTORY,
        _import_history,
        schema=IMPORT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_RECOMPUTE_COSTS, _recompute_costs, schema=ENTRY_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_SYNC_NOW, _sync_now, schema=ENTRY_SCHEMA)


def _coordinator(call: ServiceCall) -> LinkyCoordinator | ClimkitCoordinator:
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
    entry = call.hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    runtime = entry.runtime_data
    if isinstance(runtime, SiteRuntime):
        return runtime.coordinator
    if not isinstance(runtime, LinkyCoordinator):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_for_gateway",
            translation_placeholders={"name": entry.title},
        )
    return runtime


async def _import_history(call: ServiceCall) -> ServiceResponse:
    """Queue a range; the answer says how many calls it takes and how they are paced."""
    coordinator = _coordinator(call)
    start: date = call.data[ATTR_START]
    yesterday = dt_util.now().date() - timedelta(days=1)
    end: date = call.data.get(ATTR_END) or yesterday
    if start > end or start > yesterday:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_range",
            translation_placeholders={"start": start.isoformat(), "end": end.isoformat()},
        )
    if isinstance(coordinator, LinkyCoordinator):
        plan = coordinator.request_history(start, end)
        return {
            "calls": plan.calls,
            "queued_calls": plan.queued,
            "runs": plan.runs,
            "calls_available_now": plan.available_now,
            "next_run": _iso(coordinator.next_run),
        }
    windows, calls = coordinator.request_history(start, end)
    return {"windows": windows, "calls": calls, "next_run": _iso(coordinator.next_run)}


async def _recompute_costs(call: ServiceCall) -> None:
    """Price every stored day again with the entry's tariff (no provider call)."""
    coordinator = _coordinator(call)
    tariff = coordinator.costs.tariff
    if tariff is None or not tariff.periods:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_tariff")
    await coordinator.async_recompute_costs()


async def _sync_now(call: ServiceCall) -> None:
    """Today's sync, now, unless it is done, the history is still importing or the budget
    is spent."""
    coordinator = _coordinator(call)
    try:
        await coordinator.async_sync_now()
    except SyncRefused as err:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key=err.key) from err


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
