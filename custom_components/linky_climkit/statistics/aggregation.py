"""Pure helpers that turn intervals and day totals into hourly rows (no I/O)."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..model import DayEnergy, DayValue, Interval

HOUR = timedelta(hours=1)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of `day`, as an aware UTC datetime."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) in UTC: 23, 24 or 25 hours."""
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def hour_starts(day: date, tz: ZoneInfo) -> list[datetime]:
    """Every UTC hour start inside the local day (never range(24) local hours)."""
    start, end = day_bounds(day, tz)
    count = int((end - start) / HOUR)
    return [start + i * HOUR for i in range(count)]


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    """The local calendar day an instant belongs to."""
    return instant.astimezone(tz).date()


def _split_by_hour(start: float, end: float, value: float) -> Iterable[tuple[float, float]]:
    """Share `value` over [start, end) (POSIX seconds) by UTC hour, in proportion to time."""
    span = end - start
    if span <= 0:
        return
    cursor = start
    while cursor < end:
        hour = cursor - cursor % 3600
        stop = min(end, hour + 3600)
        yield hour, value * (stop - cursor) / span
        cursor = stop


def _day_finder(stamps: Iterable[float], tz: ZoneInfo) -> Callable[[float], date]:
    """Map POSIX seconds to local days with one bisection (exact in any time zone)."""
    ordered = sorted(stamps)
    if not ordered:
        return lambda _stamp: date.min
    first = local_day(datetime.fromtimestamp(ordered[0], UTC), tz)
    last = local_day(datetime.fromtimestamp(ordered[-1], UTC), tz)
    days = [first + timedelta(days=n) for n in range((last - first).days + 2)]
    midnights = [day_start(day, tz).timestamp() for day in days]
    return lambda stamp: days[bisect_right(midnights, stamp) - 1]


def build_days(
    daily: Iterable[DayValue], intervals: Iterable[Interval], tz: ZoneInfo
) -> dict[date, DayEnergy]:
    """Group day totals and intervals by local day; keep a shape only for fully covered days.

    Works on POSIX seconds: a year of 15-minute points for a dozen series is a lot of
    datetime arithmetic otherwise.
    """
    totals = {d.day: d.value for d in daily}
    spans: dict[float, tuple[float, float]] = {}
    for interval in intervals:
        start = interval.start.timestamp()
        if start not in spans:
            spans[start] = (interval.end.timestamp(), interval.value)
    day_of = _day_finder(spans, tz)
    by_day: dict[date, list[float]] = defaultdict(list)
    for start in sorted(spans):
        by_day[day_of(start)].append(start)
    days: dict[date, DayEnergy] = {}
    for day in sorted(set(totals) | set(by_day)):
        hours: tuple[tuple[datetime, float], ...] | None = None
        starts = by_day.get(day)
        if starts and _covers(day, starts, spans, tz):
            hour_rows = hour_starts(day, tz)
            buckets = dict.fromkeys((h.timestamp() for h in hour_rows), 0.0)
            for start in starts:
                end, value = spans[start]
                hour = start - start % 3600
                if end <= hour + 3600:  # nearly always: the interval lies in one hour
                    buckets[hour] += value
                    continue
                for hour, share in _split_by_hour(start, end, value):
                    buckets[hour] += share
            hours = tuple(zip(hour_rows, buckets.values(), strict=True))
        if day in totals or hours is not None:
            days[day] = DayEnergy(day=day, total=totals.get(day), hours=hours)
    return days


def _covers(
    day: date, starts: Iterable[float], spans: Mapping[float, tuple[float, float]], tz: ZoneInfo
) -> bool:
    """Whether the intervals starting at `starts` (sorted) tile the local day exactly."""
    start, end = day_bounds(day, tz)
    cursor = start.timestamp()
    for begin in starts:
        if begin != cursor:
            return False
        cursor = spans[begin][0]
    return cursor == end.timestamp()


def shape_to_total(
    hours: Iterable[tuple[datetime, float]], total: float | None
) -> list[tuple[datetime, float]] | None:
    """Scale an hourly shape so it sums to `total`; None when a zero shape cannot carry it."""
    rows = list(hours)
    if total is None:
        return rows
    measured = sum(v for _, v in rows)
    if measured <= 0:
        return [(h, 0.0) for h, _ in rows] if total == 0 else None
    factor = total / measured
    return [(h, v * factor) for h, v in rows]
