"""Config-entry diagnostics: the sync's state, never a secret or an identifier."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .climkit_coordinator import ClimkitCoordinator
from .const import CONF_API_URL, CONF_PASSWORD, CONF_PRM, CONF_SITE_ID, CONF_TOKEN, CONF_USERNAME
from .coordinator import LinkyCoordinator
from .entry import LinkyClimkitConfigEntry

REDACTED = "**REDACTED**"
TO_REDACT = {
    CONF_TOKEN,
    CONF_PRM,
    CONF_API_URL,
    CONF_USERNAME,
    CONF_PASSWORD,
    CONF_SITE_ID,
    "title",
    "unique_id",
    "meter",
    "idPrm",
    "address",
    "name",
    "site_ref",
    "latitude",
    "longitude",
    "id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LinkyClimkitConfigEntry
) -> dict[str, Any]:
    """What a bug report needs: outcomes, schedule, progress; no secret, no identifier."""
    coordinator = entry.runtime_data
    common = {
        "entry": {
            "data": dict(entry.data),
            "title": entry.title,
            "unique_id": entry.unique_id,
            "version": entry.version,
        },
        "schedule": {
            "next_daily_sync": _iso(coordinator.next_daily),
            "next_run": _iso(coordinator.next_run),
            "last_update_success": coordinator.last_update_success,
            "sync_offset_seconds": coordinator.offset,
        },
    }
    if isinstance(coordinator, LinkyCoordinator):
        details = _linky(coordinator)
    else:
        details = _climkit(coordinator)
    return async_redact_data({**common, **details}, TO_REDACT)


def _linky(coordinator: LinkyCoordinator) -> dict[str, Any]:
    state = coordinator.state.as_dict()
    state.pop("latest_consumption", None)
    state.pop("latest_production", None)
    return {
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
    }


def _climkit(coordinator: ClimkitCoordinator) -> dict[str, Any]:
    state = coordinator.state.as_dict()
    site_id = coordinator.site_id
    meters = [
        {"type": m.type, "role": m.role, "rule_meter": m.is_rule_meter, "prim_ad": m.prim_ad}
        for m in coordinator.state.meters
    ]
    state.pop("meters", None)
    state["latest"] = {
        key.replace(site_id, "site").split(":")[-1]
        if key.startswith(site_id)
        else f"meter {index}:{key.split(':')[-1]}": value
        for index, (key, value) in enumerate(state["latest"].items())
    }
    return {
        "meters": meters,
        "time_zone": str(coordinator.tz),
        "requests_made": coordinator.client.request_count,
        "authentications": coordinator.client.auth_count,
        "negative_production_clamped": coordinator.state.clamped,
        "incomplete_rows": coordinator.state.missing,
        "state": state,
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
