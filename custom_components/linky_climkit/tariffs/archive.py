"""The load curve of each day, packed small, so costs can be recomputed without calling the
provider (pure, no I/O).

Hourly statistics lose where inside an hour the energy went; an off-peak boundary at 01:04
splits a half-hour point by its minutes, so re-pricing needs the points themselves. A day is
kept as `[first start (POSIX seconds), step (seconds), value, value, ...]` when its points tile
the local day in equal steps (30 minutes for Linky; 23-, 24- and 25-hour days alike).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..model import Interval
from ..statistics.aggregation import day_bounds, local_day

type PackedDay = list[float]


def pack_days(intervals: Iterable[Interval], tz: ZoneInfo) -> dict[str, PackedDay]:
    """Every local day the intervals tile in equal steps, packed, keyed by ISO date."""
    by_day: dict[date, dict[float, Interval]] = defaultdict(dict)
    for interval in intervals:
        by_day[local_day(interval.start, tz)].setdefault(interval.start.timestamp(), interval)
    packed: dict[str, PackedDay] = {}
    for day, points in by_day.items():
        if (values := _tiled(day, [points[k] for k in sorted(points)], tz)) is not None:
            packed[day.isoformat()] = values
    return packed


def _tiled(day: date, points: Sequence[Interval], tz: ZoneInfo) -> PackedDay | None:
    start, end = day_bounds(day, tz)
    step = (points[0].end - points[0].start).total_seconds()
    cursor = start.timestamp()
    for point in points:
        if point.start.timestamp() != cursor or point.end.timestamp() - cursor != step:
            return None
        cursor += step
    if cursor != end.timestamp():
        return None
    return [start.timestamp(), step, *(round(p.value, 6) for p in points)]


def unpack_day(packed: Sequence[float]) -> list[Interval]:
    """The day's intervals back (UTC datetimes)."""
    first, step, *values = packed
    start = datetime.fromtimestamp(first, UTC)
    width = timedelta(seconds=step)
    return [
        Interval(start + i * width, start + (i + 1) * width, value)
        for i, value in enumerate(values)
    ]


def parts_by_hour(packed: Sequence[float]) -> dict[datetime, list[Interval]]:
    """A packed day's points cut at UTC hours, grouped by hour start."""
    out: dict[datetime, list[Interval]] = defaultdict(list)
    for point in unpack_day(packed):
        cursor = point.start
        span = point.end - point.start
        while cursor < point.end:
            hour = cursor.replace(minute=0, second=0, microsecond=0)
            stop = min(point.end, hour + timedelta(hours=1))
            out[hour].append(Interval(cursor, stop, point.value * ((stop - cursor) / span)))
            cursor = stop
    return dict(out)
