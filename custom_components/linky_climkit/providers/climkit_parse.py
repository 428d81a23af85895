"""Read Climkit `site_data` rows: values per (site or meter, channel) and quarter-hour.

15T rows carry kWh (m³ for water) per quarter-hour, stamped at the END of the interval, in
site-local time with an offset. Every figure is kept as Climkit gives it, negative night-time
production included (it is counted): grid import is `from_ext`, grid export `to_ext`,
self-consumption `self`, a consumer's grid import `ext_<id>`. A figure is derived only when a
row does not carry its key at all (docs/climkit.md §2.5 identities): grid import =
consumption − self-consumption, grid export = production − self-consumption − battery charge +
battery discharge. A value that is null or unreadable is left out: its quarter-hour is missing
for that series only. A value that is not finite or beyond 10,000 (kWh or m³ in a quarter-hour,
40 MW on average: no site comes near) is refused and counted, and so is a row stamped outside
1990–2200 when the rows are read for a window (it cannot be in it).
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
MAX_QUARTER = 10_000.0  # kWh (or m³) in one quarter-hour, either sign
WATER_TYPES = ("cold_water", "hot_water")

type Owner = str


@dataclass(slots=True)
class ParsedRows:
    """What reading rows found: negative production (kept as given), rows missing a site
    figure, values (or rows) refused, storage, the newest end."""

    negative: int = 0
    missing: int = 0
    refused: int = 0
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
    if (instant := _instant(raw, tz)) is None:
        raise InvalidResponseError("A row timestamp is out of range")
    return instant


def _instant(raw: Any, tz: ZoneInfo) -> datetime | None:
    """A row's end as UTC; None when out of range (1990–2200); InvalidResponseError when it
    is not a timestamp at all."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        parsed = epoch(raw)
    elif isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError as err:
            raise InvalidResponseError("A row timestamp cannot be read") from err
    else:
        raise InvalidResponseError("A row has no timestamp")
    if parsed is None or not 1990 <= parsed.year <= 2200:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)


def _number(row: dict[str, Any], key: str, parsed: ParsedRows) -> float | None:
    value = row.get(key)
    if type(value) is not float:  # nearly every value is: skip the generic checks
        if value is None or isinstance(value, bool) or not isinstance(value, int | float | str):
            return None
        try:
            value = float(value)
        except ValueError:
            return None
        except OverflowError:  # an integer beyond any float
            value = math.inf
    if not -MAX_QUARTER <= value <= MAX_QUARTER:  # NaN and infinities fail too
        parsed.refused += 1
        return None
    return 0.0 if abs(value) < SNAP else value


def row_values(
    rows: Sequence[dict[str, Any]],
    *,
    site_id: str,
    meter_type: str,
    meters: Sequence[MeterInfo],
    tz: ZoneInfo,
    parsed: ParsedRows,
    window: tuple[datetime, datetime] | None = None,
) -> Iterator[tuple[datetime, dict[tuple[Owner, Channel], float]]]:
    """(UTC end of the quarter-hour, value per series) of each row, once per instant; a
    series is (owner, channel), owner the site id or a meter id. With a `window` (start, end],
    rows ending outside it are skipped unread. Counts the rows missing a site figure, the
    negative production and the newest end into `parsed`."""
    exposed = [m for m in exposed_meters(meters) if m.type == meter_type]
    low, high = window if window is not None else (None, None)
    seen: set[datetime] = set()
    for row in rows:
        end = _instant(row.get("timestamp"), tz)
        if end is None:
            if window is None:
                raise InvalidResponseError("A row timestamp is out of range")
            parsed.refused += 1
            continue
        if end in seen:
            continue
        seen.add(end)
        if low is not None and high is not None and not low < end <= high:
            continue
        values = (
            _electricity(row, site_id, exposed, parsed)
            if meter_type == "electricity"
            else _other(row, meter_type, exposed, parsed)
        )
        if not values:
            continue
        if parsed.last_end is None or end > parsed.last_end:
            parsed.last_end = end
        yield end, values


SITE_FIGURES = (
    ("conso_total", Channel.CONSUMPTION),
    ("prod_total", Channel.PRODUCTION),
    ("self", Channel.SELF_CONSUMPTION),
    ("from_ext", Channel.GRID_IMPORT),
    ("to_ext", Channel.GRID_EXPORT),
    ("storage_charging_total", Channel.BATTERY_CHARGE),
    ("storage_discharging_total", Channel.BATTERY_DISCHARGE),
)
SITE_CORE = 5  # the first five: a row without one of them is counted missing


def _electricity(
    row: dict[str, Any], site_id: str, meters: Sequence[MeterInfo], parsed: ParsedRows
) -> dict[tuple[Owner, Channel], float]:
    values: dict[tuple[Owner, Channel], float] = {}
    for key, channel in SITE_FIGURES:
        number = _number(row, key, parsed)
        if number is not None:
            values[(site_id, channel)] = number
    conso = values.get((site_id, Channel.CONSUMPTION))
    prod = values.get((site_id, Channel.PRODUCTION))
    own = values.get((site_id, Channel.SELF_CONSUMPTION))
    charge = values.get((site_id, Channel.BATTERY_CHARGE), 0.0)
    discharge = values.get((site_id, Channel.BATTERY_DISCHARGE), 0.0)
    if "from_ext" not in row and conso is not None and own is not None:
        values[(site_id, Channel.GRID_IMPORT)] = conso - own
    if "to_ext" not in row and prod is not None and own is not None:
        values[(site_id, Channel.GRID_EXPORT)] = prod - own - charge + discharge
    if prod is not None and prod < 0:
        parsed.negative += 1
    if charge > 0 or discharge > 0:
        parsed.storage_seen = True
    if any((site_id, channel) not in values for _, channel in SITE_FIGURES[:SITE_CORE]):
        parsed.missing += 1
    for meter in meters:
        total = _number(row, f"total_{meter.id}", parsed)
        if meter.role == "production":
            if total is not None:
                values[(meter.id, Channel.PRODUCTION)] = total
            continue
        mine = _number(row, f"self_{meter.id}", parsed)
        ext_key = f"ext_{meter.id}"
        grid = _number(row, ext_key, parsed)
        if grid is None and ext_key not in row and total is not None and mine is not None:
            grid = total - mine
        # A meter added or removed during the window has no column: its quarter is missing.
        for channel, number in (
            (Channel.CONSUMPTION, total),
            (Channel.SELF_CONSUMPTION, mine),
            (Channel.GRID_IMPORT, grid),
        ):
            if number is not None:
                values[(meter.id, channel)] = number
    return values


def _other(
    row: dict[str, Any], meter_type: str, meters: Sequence[MeterInfo], parsed: ParsedRows
) -> dict[tuple[Owner, Channel], float]:
    channel = channel_of_type(meter_type)
    values: dict[tuple[Owner, Channel], float] = {}
    for meter in meters:
        total = _number(row, f"total_{meter.id}", parsed)
        if total is not None:
            values[(meter.id, channel)] = total
    if not values:
        parsed.missing += 1
    return values
