"""Pure helpers that turn intervals and day totals into hourly rows (no I/O)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .providers.model import DayValue, Interval

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class DayEnergy:
    """What is known of one local day: a billing total and/or a complete hourly shape."""

    day: date
    total: float | None = None
    hours: tuple[tuple[datetime, float], ...] | None = None

    @property
    def measured(self) -> float:
        """The day's amount: its billing total, else its integrated shape."""
        if self.total is not None:
            return self.total
        return sum(v for _, v in self.hours or ())


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


def _split_by_hour(interval: Interval) -> Iterable[tuple[datetime, float]]:
    start = interval.start.astimezone(UTC)
    end = interval.end.astimezone(UTC)
    span = (end - start).total_seconds()
    if span <= 0:
        return
    cursor = start
    while cursor < end:
        hour = cursor.replace(minute=0, second=0, microsecond=0)
        stop = min(end, hour + HOUR)
        yield hour, interval.value * (stop - cursor).total_seconds() / span
        cursor = stop


def build_days(
    daily: Iterable[DayValue], intervals: Iterable[Interval], tz: ZoneInfo
) -> dict[date, DayEnergy]:
    """Group day totals and intervals by local day; keep a shape only for fully covered days."""
    totals = {d.day: d.value for d in daily}
    by_day: dict[date, dict[datetime, Interval]] = defaultdict(dict)
    for interval in intervals:
        key = interval.start.astimezone(UTC)  # local aware datetimes compare by wall clock
        by_day[local_day(interval.start, tz)].setdefault(key, interval)
    days: dict[date, DayEnergy] = {}
    for day in sorted(set(totals) | set(by_day)):
        hours: tuple[tuple[datetime, float], ...] | None = None
        chunk = by_day.get(day)
        if chunk and _covers(day, chunk.values(), tz):
            buckets: dict[datetime, float] = dict.fromkeys(hour_starts(day, tz), 0.0)
            for interval in chunk.values():
                for hour, value in _split_by_hour(interval):
                    if hour in buckets:
                        buckets[hour] += value
            hours = tuple(sorted(buckets.items()))
        if day in totals or hours is not None:
            days[day] = DayEnergy(day=day, total=totals.get(day), hours=hours)
    return days


def _covers(day: date, intervals: Iterable[Interval], tz: ZoneInfo) -> bool:
    start, end = day_bounds(day, tz)
    cursor = start
    for interval in sorted(intervals, key=lambda i: i.start.astimezone(UTC)):
        if interval.start.astimezone(UTC) != cursor:
            return False
        cursor = interval.end.astimezone(UTC)
    return cursor == end


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


def day_rows(energy: DayEnergy, tz: ZoneInfo) -> list[tuple[datetime, float]]:
    """The rows one day is stored as: its scaled hours, else one row at local midnight."""
    if energy.hours is not None:
        scaled = shape_to_total(energy.hours, energy.total)
        if scaled is not None:
            return scaled
    return [(day_start(energy.day, tz), energy.measured)]
