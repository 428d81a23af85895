"""Pure: the stored hours of a channel priced into the rows of its cost statistics (no I/O;
years of hours are seconds of CPU, so `CostBook` runs this in a worker thread).

A day stored as hours is priced hour by hour; each hour is split by the archived load-curve
points inside it (so a half-hour straddling an off-peak boundary is cut by its minutes), or
taken as flat when the day was not archived. A day stored as one row at local midnight (only
its billing total is known) is priced with the day's weighted average. A day whose register
deltas are known (periods from the meter) then has its buckets fitted to them (registers.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..model import DayEnergy, Interval
from ..statistics.aggregation import day_start, local_day
from ..statistics.importer import StoredRow
from .archive import PackedDay, parts_by_hour
from .engine import (
    HourCost,
    PricingReport,
    Tariff,
    TempoColour,
    period_in_force,
    price_consumption,
    price_daily_total,
    price_feed_in,
)
from .registers import bucket_price, fit_day

HOUR = timedelta(hours=1)
NO_BUCKETS = ("base",)

type Hours = list[tuple[datetime, float]]


@dataclass(frozen=True, slots=True)
class PricingJob:
    """What one pricing run works on: stored hours by local day, which statistics to write
    ("cost", "energy:<bucket>", "cost:<bucket>"), and the days whose bucket totals the meter's
    registers give."""

    tariff: Tariff
    days: dict[date, Hours]
    archive: dict[str, PackedDay]
    tz: ZoneInfo
    keys: list[str]
    registers: dict[date, dict[str, float]] = field(default_factory=dict)


def by_day(rows: Iterable[StoredRow], tz: ZoneInfo) -> dict[date, Hours]:
    """Stored rows grouped by local day, oldest first."""
    days: dict[date, Hours] = defaultdict(list)
    for row in rows:
        days[local_day(row.start, tz)].append((row.start, row.state or 0.0))
    return dict(sorted(days.items()))


def statistic_keys(tariff: Tariff) -> list[str]:
    """The statistics a tariff prices: the total cost, and per bucket (HP/HC, Tempo) its
    energy and its cost."""
    keys = ["cost"]
    for bucket in tariff.buckets():
        if bucket not in NO_BUCKETS:
            keys += [f"energy:{bucket}", f"cost:{bucket}"]
    return keys


def is_stale(key: str, split: bool, buckets: frozenset[str] | None) -> bool:
    """Whether a statistic can change: the total always, a bucket's energy when the split
    changed, a bucket's cost when its prices (or the split) changed."""
    kind, _, bucket = key.partition(":")
    if not bucket:
        return True
    if kind == "energy":
        return split
    return split or buckets is None or bucket in buckets


def price_all(
    job: PricingJob,
    colours: Callable[[date], TempoColour | None],
    prices: Callable[[datetime], float | None],
    report: PricingReport,
) -> dict[str, dict[date, DayEnergy]]:
    """The rows of every statistic of `job.keys` for every day."""
    out: dict[str, dict[date, DayEnergy]] = defaultdict(dict)
    for day, day_rows in job.days.items():
        costs = _price_day(job, day, day_rows, colours, prices, report)
        hours = [h for h, _ in day_rows]
        out["cost"][day] = _day(day, hours, lambda c: c.total_cost, costs)
        for key in job.keys:
            kind, _, bucket = key.partition(":")
            if bucket:
                out[key][day] = _day(day, hours, _picker(kind, bucket), costs)
    return out


def compensation(
    tariff: Tariff, days: dict[date, Hours], archive: dict[str, PackedDay], tz: ZoneInfo
) -> dict[date, DayEnergy]:
    """The feed-in compensation of exported hours (the price depends on the date only)."""
    out: dict[date, DayEnergy] = {}
    for day, day_rows in days.items():
        amounts = price_feed_in(tariff, hour_intervals(day_rows, archive.get(day.isoformat())), tz)
        out[day] = DayEnergy(day=day, hours=tuple((h, amounts.get(h, 0.0)) for h, _ in day_rows))
    return out


def _price_day(
    job: PricingJob,
    day: date,
    rows: Sequence[tuple[datetime, float]],
    colours: Callable[[date], TempoColour | None],
    prices: Callable[[datetime], float | None],
    report: PricingReport,
) -> dict[datetime, HourCost]:
    if len(rows) == 1 and rows[0][0] == day_start(day, job.tz):
        costs = price_daily_total(
            job.tariff, day, rows[0][1], job.tz, colour_of=colours, price_at=prices, report=report
        )
    else:
        intervals = hour_intervals(rows, job.archive.get(day.isoformat()))
        costs = price_consumption(
            job.tariff, intervals, job.tz, colour_of=colours, price_at=prices, report=report
        )
    totals = job.registers.get(day)
    period = period_in_force(job.tariff, day)
    if totals is None or period is None:
        return costs
    return fit_day(costs, totals, lambda bucket: bucket_price(period, bucket))


def hour_intervals(
    rows: Sequence[tuple[datetime, float]], packed: PackedDay | None
) -> list[Interval]:
    """Each stored hour as the archived points inside it, scaled to the stored amount, or as
    one flat interval when the day's points were not archived."""
    parts = parts_by_hour(packed) if packed is not None else {}
    intervals: list[Interval] = []
    for hour, value in rows:
        pieces = parts.get(hour, [])
        measured = sum(p.value for p in pieces)
        if measured > 0:
            intervals += [Interval(p.start, p.end, p.value * value / measured) for p in pieces]
        else:
            intervals.append(Interval(hour, hour + HOUR, value))
    return intervals


def _picker(kind: str, bucket: str) -> Callable[[HourCost], float]:
    """Read one bucket's energy or cost from an hour's prices."""
    if kind == "energy":
        return lambda hour: hour.energy.get(bucket, 0.0)
    return lambda hour: hour.cost.get(bucket, 0.0)


def _day(
    day: date,
    hours: Sequence[datetime],
    pick: Callable[[HourCost], float],
    costs: dict[datetime, HourCost],
) -> DayEnergy:
    values = tuple((h, pick(costs[h]) if h in costs else 0.0) for h in hours)
    return DayEnergy(day=day, hours=values)
