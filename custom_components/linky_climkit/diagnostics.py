"""Config-entry diagnostics: the sync's state, never a secret or an identifier.

Two layers: the keys of `TO_REDACT` are redacted wherever they are, and then every identifier
and secret the entry knows (its data, title, site, meters, sensors, gateway) is replaced
wherever it still appears, inside a longer text or as a dictionary key."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.components.recorder.statistics import get_last_statistics
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from .climkit.coordinator import ClimkitCoordinator
from .const import CONF_API_URL, CONF_PASSWORD, CONF_PRM, CONF_SITE_ID, CONF_TOKEN, CONF_USERNAME
from .data import LinkyClimkitConfigEntry, SiteRuntime
from .gateway.coordinator import GatewayCoordinator
from .linky.coordinator import LinkyCoordinator
from .model import Channel

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
    "host",
    "meter_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LinkyClimkitConfigEntry
) -> dict[str, Any]:
    """What a bug report needs: outcomes, schedule, progress; no secret, no identifier."""
    runtime = entry.runtime_data
    hidden = _identifiers(entry)
    if isinstance(runtime, GatewayCoordinator):
        entry_data = {"data": dict(entry.data), "options": dict(entry.options)}
        hidden |= _gateway_identifiers(runtime)
        return _scrub(
            async_redact_data({"entry": entry_data, **_gateway(runtime)}, TO_REDACT), hidden
        )
    coordinator = runtime.coordinator if isinstance(runtime, SiteRuntime) else runtime
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
        "costs": coordinator.costs.diagnostics(),
    }
    if isinstance(coordinator, LinkyCoordinator):
        details = _linky(coordinator)
        series = {c.value: spec.statistic_id for c, spec in coordinator.specs.items()}
    else:
        details = _climkit(coordinator)
        series = {
            _climkit_label(coordinator, key): coordinator.spec(*_split(key)).statistic_id
            for key in sorted(coordinator.state.latest)
        }
    details["newest_statistics"] = await _newest(hass, series)
    if isinstance(coordinator, ClimkitCoordinator):
        hidden |= _climkit_identifiers(coordinator)
    if isinstance(runtime, SiteRuntime) and runtime.gateway is not None:
        details["gateway"] = _gateway(runtime.gateway)
        hidden |= _gateway_identifiers(runtime.gateway)
    return _scrub(async_redact_data({**common, **details}, TO_REDACT), hidden)


def _identifiers(entry: LinkyClimkitConfigEntry) -> set[str]:
    """The entry's secrets and identifiers: its redacted data, title and unique id."""
    found = {str(v) for k, v in entry.data.items() if k in TO_REDACT and v not in (None, "")}
    return found | {entry.title, entry.unique_id or ""}


def _climkit_identifiers(coordinator: ClimkitCoordinator) -> set[str]:
    state = coordinator.state
    found = {coordinator.site_id}
    if state.site is not None:
        site = state.site
        found |= {site.id, site.name, site.site_ref or "", site.address or ""}
    found |= {m.id for m in state.meters} | {m.name or "" for m in state.meters}
    found |= {s.id for s in state.sensors} | {s.name for s in state.sensors}
    return found | set(state.sensor_values)


def _gateway_identifiers(coordinator: GatewayCoordinator) -> set[str]:
    found = {coordinator.client.host}
    for configured in coordinator.meters:
        found |= {configured.name, configured.meter_id or ""}
    return found


MIN_HIDDEN = 4  # shorter strings (a bus address, "10") would blot out ordinary figures


def _scrub(data: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """`data` with every string of `hidden` replaced, in texts and in dictionary keys (two
    keys that become equal stay apart: `**REDACTED** (2)`)."""
    texts = sorted((h for h in hidden if len(h) >= MIN_HIDDEN), key=len, reverse=True)
    scrubbed: dict[str, Any] = _replace(data, texts)
    return scrubbed


def _replace(node: Any, texts: list[str]) -> Any:
    if isinstance(node, str):
        for text in texts:
            if text in node:
                node = node.replace(text, REDACTED)
        return node
    if isinstance(node, list | tuple):
        return [_replace(item, texts) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[Any, Any] = {}
    for key, value in node.items():
        new = _replace(key, texts) if isinstance(key, str) else key
        base, count = new, 1
        while new in out:
            count += 1
            new = f"{base} ({count})"
        out[new] = _replace(value, texts)
    return out


async def _newest(hass: HomeAssistant, series: dict[str, str]) -> dict[str, Any]:
    """The newest stored row of each series (start and value), read from the recorder once
    the rows an import queued are written."""
    await get_instance(hass).async_block_till_done()
    newest: dict[str, Any] = {}
    for label, statistic_id in series.items():
        rows = await get_instance(hass).async_add_executor_job(
            get_last_statistics, hass, 1, statistic_id, True, {"sum", "state", "max"}
        )
        row = rows.get(statistic_id, [None])[0]
        newest[label] = (
            None
            if row is None
            else {
                "start": dt_util.utc_from_timestamp(row["start"]).isoformat(),
                "state": row.get("state"),
                "sum": row.get("sum"),
                "max": row.get("max"),
            }
        )
    return newest


def _split(key: str) -> tuple[str, Channel]:
    owner, channel = key.split(":", 1)
    return owner, Channel(channel)


def _climkit_label(coordinator: ClimkitCoordinator, key: str) -> str:
    owner, channel = key.split(":", 1)
    if owner == coordinator.site_id:
        return f"site {channel}"
    index = next((i for i, m in enumerate(coordinator.state.meters) if m.id == owner), -1)
    return f"meter {index} {channel}"


def _linky(coordinator: LinkyCoordinator) -> dict[str, Any]:
    state = coordinator.state.as_dict()
    state.pop("latest_consumption", None)
    state.pop("latest_production", None)
    return {
        "budget": {
            "calls_last_12h": coordinator.budget.used(),
            "calls_of_this_entry": coordinator.budget.used_by_me(),
            "cap": coordinator.budget.manager.budget.cap,
            "kept_from_this_entry": coordinator.budget.reserved_for_others(),
            "linky_entries": len(coordinator.budget.manager.budget.shares),
        },
        "token_expiry": _iso(coordinator.token_expiry),
        "state": state,
        "completeness": coordinator.completeness(),
        "history_floor": {
            "floor": _iso(coordinator.ledger.history.floor),
            "probing_until": _iso(coordinator.ledger.history.ceiling),
        },
        "statistics": {
            channel.value: spec.statistic_id.replace(coordinator.prm, REDACTED)
            for channel, spec in coordinator.specs.items()
        },
        "history_import": coordinator.history.diagnostics(),
    }


def _climkit(coordinator: ClimkitCoordinator) -> dict[str, Any]:
    state = coordinator.state.as_dict()
    meters = [
        {"type": m.type, "role": m.role, "rule_meter": m.is_rule_meter, "prim_ad": m.prim_ad}
        for m in coordinator.state.meters
    ]
    state.pop("meters", None)
    state["latest"] = {
        _climkit_label(coordinator, key): value for key, value in state["latest"].items()
    }
    index = {s.id: i for i, s in enumerate(coordinator.state.sensors)}
    state["sensor_values"] = {
        f"sensor {index.get(key, '?')}": value for key, value in state["sensor_values"].items()
    }
    return {
        "meters": meters,
        "time_zone": str(coordinator.tz),
        "requests_made": coordinator.client.request_count,
        "authentications": coordinator.client.auth_count,
        "negative_production_values": coordinator.state.clamped,
        "incomplete_rows": coordinator.state.missing,
        "completeness": coordinator.completeness(),
        "refused_values": coordinator.state.refused,
        "state": state,
    }


def _gateway(coordinator: GatewayCoordinator) -> dict[str, Any]:
    """The gateway's poll: what each meter answered last, and what failed."""
    readings = coordinator.data.readings if coordinator.data else {}
    return {
        "poll": {
            "interval_seconds": coordinator.update_interval.total_seconds()
            if coordinator.update_interval
            else None,
            "polls": coordinator.polls,
            "requests_made": coordinator.client.request_count,
            "last_update_success": coordinator.last_update_success,
            "unreachable_since": _iso(coordinator.unreachable_since),
        },
        "meters": [
            {
                "type": m.meter.type,
                "bus_address": m.meter.address,
                "linked_to_cloud_meter": m.meter_id is not None,
                "unavailable_because": coordinator.last_errors.get(m.meter.key),
                "reading": None
                if (reading := readings.get(m.meter.key)) is None
                else {
                    "valid": reading.valid,
                    "measured_at": _iso(reading.measured_at),
                    "values": dict(reading.values),
                    "refused_values": reading.refused,
                },
            }
            for m in coordinator.meters
        ],
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
