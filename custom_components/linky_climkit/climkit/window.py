"""One fetched Climkit window turned into complete local days per series (pure, no I/O).

A month of a site's 15-minute rows is tens of thousands of values: they are summed straight
into hours (POSIX seconds, no per-value objects) and the work runs in a worker thread.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..model import Channel, DayEnergy
from ..providers.climkit import MeterInfo
from ..providers.climkit_parse import ParsedRows, row_values
from ..statistics.aggregation import day_start, hour_starts

QUARTERS_PER_HOUR = 4

type SeriesKey = tuple[str, Channel]


@dataclass(slots=True)
class PreparedWindow:
    """Complete days per (owner, channel), newest data end and the data-quality counts."""

    days: dict[SeriesKey, dict[date, DayEnergy]] = field(default_factory=dict)
    clamped: int = 0
    missing: int = 0
    storage_seen: bool = False
    last_end: datetime | None = None


def prepare_window(
    answers: Sequence[tuple[str, Sequence[dict[str, Any]]]],
    site_id: str,
    meters: Sequence[MeterInfo],
    tz: ZoneInfo,
    end: date,
) -> PreparedWindow:
    """Sum each meter type's quarter-hours by hour; keep the days before `end` whose every
    hour has its four quarters, per series."""
    parsed = ParsedRows()
    sums: dict[SeriesKey, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[SeriesKey, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    for meter_type, rows in answers:
        for stamp, values in row_values(
            rows, site_id=site_id, meter_type=meter_type, meters=meters, tz=tz, parsed=parsed
        ):
            ts = stamp.timestamp() - 1  # the quarter ending at a full hour is that hour's last
            hour = ts - ts % 3600
            for key, value in values.items():
                sums[key][hour] += value
                counts[key][hour] += 1
    window = PreparedWindow(
        clamped=parsed.clamped,
        missing=parsed.missing,
        storage_seen=parsed.storage_seen,
        last_end=parsed.last_end,
    )
    for key in sorted(sums):
        days = _complete_days(sums[key], counts[key], tz, end)
        if days:
            window.days[key] = days
    return window


def _complete_days(
    sums: dict[float, float], counts: dict[float, int], tz: ZoneInfo, end: date
) -> dict[date, DayEnergy]:
    if not sums:
        return {}
    hours = sorted(sums)
    first = datetime.fromtimestamp(hours[0], UTC).astimezone(tz).date()
    last = datetime.fromtimestamp(hours[-1], UTC).astimezone(tz).date()
    candidates = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    midnights = [day_start(day, tz).timestamp() for day in candidates]
    seen = {candidates[bisect_right(midnights, hour) - 1] for hour in hours}
    days: dict[date, DayEnergy] = {}
    for day in sorted(seen):
        if day >= end:
            continue
        starts = hour_starts(day, tz)
        stamps = [h.timestamp() for h in starts]
        if all(counts.get(s) == QUARTERS_PER_HOUR for s in stamps):
            shape = tuple((h, sums[s]) for h, s in zip(starts, stamps, strict=True))
            days[day] = DayEnergy(day=day, hours=shape)
    return days
