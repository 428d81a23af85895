"""Read Climkit `site_data` rows: values per (site or meter, channel) and quarter-hour.

15T rows carry kWh (m³ for water) per quarter-hour, stamped at the END of the interval, in
site-local time with an offset. Negative production (inverter standby at night) is clamped to
0 and counted; self-consumption follows, so grid import = consumption − self-consumption.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..model import Channel
from .climkit_model import MeterInfo, epoch
from .errors import InvalidResponseError

QUARTER = timedelta(minutes=15)
SNAP = 1e-9
WATER_TYPES = ("cold_water", "hot_water")

type Owner = str


@dataclass(slots=True)
class ParsedRows:
    """What reading rows found: values clamped or missing, storage, the newest end."""

    clamped: int = 0
    missing: int = 0
    storage_seen: bool = False
    last_end: datetime | None = None


def exposed_meters(meters: Iterable[MeterInfo]) -> list[MeterInfo]:
    """Meters that get their own statistics: not rule meters, not the grid introduction."""
    return [
        m
        for m in meters
        if not m.is_rule_meter and not m.virtual and m.role in ("consumption", "production")
    ]


def channel_of_type(meter_type: str) -> Channel:
    """The statistic channel of a non-electric meter type."""
    return Channel.WATER if meter_type in WATER_TYPES else Channel.HEAT


def parse_timestamp(raw: Any, tz: ZoneInfo) -> datetime:
    """`"2022-05-05 17:00:00+02:00"`; naive strings are site-local; numbers are epoch (s or ms)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if (instant := epoch(raw)) is None:
            raise InvalidResponseError("A row timestamp is out of range")
        parsed = instant
    elif isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError as err:
            raise InvalidResponseError("A row timestamp cannot be read") from err
    else:
        raise InvalidResponseError("A row has no timestamp")
    if not 1990 <= parsed.year <= 2200:
        raise InvalidResponseError("A row timestamp is out of range")
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)


def _number(row: dict[str, Any], key: str) -> float | None:
    value = row.get(key)
    if type(value) is float:  # nearly every value: skip the generic checks
        if not math.isfinite(value):
            return None
        return 0.0 if abs(value) < SNAP else value
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    if not math.isfinite(number):
        return None
    return 0.0 if abs(number) < SNAP else number


def row_values(
    rows: Sequence[dict[str, Any]],
    *,
    site_id: str,
    meter_type: str,
    meters: Sequence[MeterInfo],
    tz: ZoneInfo,
    parsed: ParsedRows,
) -> Iterator[tuple[datetime, dict[tuple[Owner, Channel], float]]]:
    """(UTC end of the quarter-hour, value per series) of each usable row, once per stamp;
    a series is (owner, channel), owner the site id or a meter id. Counts missing and clamped
    values and the newest end into `parsed`."""
    exposed = [m for m in exposed_meters(meters) if m.type == meter_type]
    seen: set[datetime] = set()
    for row in rows:
        end = parse_timestamp(row.get("timestamp"), tz)
        if end in seen:
            continue
        seen.add(end)
        values = (
            _electricity(row, site_id, exposed, parsed)
            if meter_type == "electricity"
            else _other(row, meter_type, exposed)
        )
        if values is None:
            parsed.missing += 1
            continue
        if parsed.last_end is None or end > parsed.last_end:
            parsed.last_end = end
        yield end, values


def _electricity(
    row: dict[str, Any], site_id: str, meters: Sequence[MeterInfo], parsed: ParsedRows
) -> dict[tuple[Owner, Channel], float] | None:
    conso = _number(row, "conso_total")
    prod = _number(row, "prod_total")
    own = _number(row, "self")
    if conso is None or prod is None or own is None:
        return None
    if prod < 0:
        parsed.clamped += 1
    production = max(prod, 0.0)
    consumption = max(conso, 0.0)
    charge = max(_number(row, "storage_charging_total") or 0.0, 0.0)
    discharge = max(_number(row, "storage_discharging_total") or 0.0, 0.0)
    storage = bool(charge or discharge)
    if storage:
        # With a battery, self-consumption may exceed production (discharge) and exports are
        # what the API measured: production = self + export + charge - discharge.
        parsed.storage_seen = True
        self_consumption = min(max(own, 0.0), consumption)
        measured = _number(row, "to_ext")
        export = max(production - self_consumption if measured is None else measured, 0.0)
    else:
        self_consumption = min(max(own, 0.0), production, consumption)
        export = production - self_consumption
    values: dict[tuple[Owner, Channel], float] = {
        (site_id, Channel.CONSUMPTION): consumption,
        (site_id, Channel.PRODUCTION): production,
        (site_id, Channel.SELF_CONSUMPTION): self_consumption,
        (site_id, Channel.GRID_IMPORT): consumption - self_consumption,
        (site_id, Channel.GRID_EXPORT): export,
    }
    values[(site_id, Channel.BATTERY_CHARGE)] = charge
    values[(site_id, Channel.BATTERY_DISCHARGE)] = discharge
    for meter in meters:
        total = _number(row, f"total_{meter.id}")
        if total is None:
            continue  # a meter added or removed during the window: leave its hour incomplete
        if meter.role == "production":
            values[(meter.id, Channel.PRODUCTION)] = max(total, 0.0)
            continue
        mine = max(_number(row, f"self_{meter.id}") or 0.0, 0.0)
        total = max(total, 0.0)
        mine = min(mine, total)
        values[(meter.id, Channel.CONSUMPTION)] = total
        values[(meter.id, Channel.SELF_CONSUMPTION)] = mine
        values[(meter.id, Channel.GRID_IMPORT)] = total - mine
    return values


def _other(
    row: dict[str, Any], meter_type: str, meters: Sequence[MeterInfo]
) -> dict[tuple[Owner, Channel], float] | None:
    channel = channel_of_type(meter_type)
    values: dict[tuple[Owner, Channel], float] = {}
    for meter in meters:
        total = _number(row, f"total_{meter.id}")
        if total is not None:
            values[(meter.id, channel)] = max(total, 0.0)
    return values or None
