"""Config-entry diagnostics: the sync's state, never a secret or an identifier."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_API_URL, CONF_PRM, CONF_TOKEN
from .coordinator import LinkyConfigEntry

REDACTED = "**REDACTED**"
TO_REDACT = {CONF_TOKEN, CONF_PRM, CONF_API_URL, "title", "unique_id", "meter", "idPrm"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LinkyConfigEntry
) -> dict[str, Any]:
    """What a bug report needs: outcomes per data type, budget, schedule, progress."""
    coordinator = entry.runtime_data
    state = coordinator.state.as_dict()
    state.pop("latest_consumption", None)
    state.pop("latest_production", None)
    return async_redact_data(
        {
            "entry": {
                "data": dict(entry.data),
                "title": entry.title,
                "unique_id": entry.unique_id,
                "version": entry.version,
            },
            "schedule": {
                "sync_offset_seconds": coordinator.offset,
                "next_daily_sync": _iso(coordinator.next_daily),
                "next_run": _iso(coordinator.next_run),
                "last_update_success": coordinator.last_update_success,
            },
            "budget": {
                "calls_last_12h": coordinator.budget.used(),
                "cap": coordinator.budget.budget.cap,
                "reserve_for_daily_syncs": coordinator.budget.reserve,
                "linky_entries": len(coordinator.budget.entries),
            },
            "token_expiry": _iso(coordinator.token_expiry),
            "state": state,
            "statistics": {
                channel.value: spec.statistic_id.replace(coordinator.prm, REDACTED)
                for channel, spec in coordinator.specs.items()
            },
        },
        TO_REDACT,
    )


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
