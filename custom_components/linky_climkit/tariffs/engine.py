"""Pure pricing of energy: base, HP/HC, Tempo and dynamic tariffs, fees and feed-in (no I/O).

Amounts are split in proportion to time at every UTC hour and at every local boundary of the
tariff (off-peak ranges, Tempo day start, local midnight where periods and fees change), then
each piece is priced by the rule in force at its start. Rows are keyed by UTC hour start.
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo

from ..model import Interval
from ..statistics.aggregation import HOUR, day_bounds, day_start, hour_starts

DAY_SECONDS = 86_400
WEEK_SECONDS = 7 * DAY_SECONDS
TEMPO_DAY_START = time(6)

# Per-kWh factor of each accepted price unit, keyed by the lower-cased unit without spaces.
_UNIT_FACTORS = (
    dict.fromkeys(("€/kwh", "eur/kwh", "chf/kwh"), 1.0)
    | dict.fromkeys(("c€/kwh", "ct/kwh", "rp./kwh", "rp/kwh"), 0.01)
    | dict.fromkeys(("€/mwh", "eur/mwh", "chf/mwh"), 0.001)
)


class TariffKind(StrEnum):
    """How a period prices consumption."""

    BASE = "base"
    HP_HC = "hp_hc"
    TEMPO = "tempo"
    DYNAMIC = "dynamic"


class TempoColour(StrEnum):
    """The colour of a Tempo day."""

    BLUE = "blue"
    WHITE = "white"
    RED = "red"


TEMPO_BUCKETS = tuple(f"tempo_{c}_{h}" for c in TempoColour for h in ("hp", "hc"))


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True, slots=True)
class OffPeakRange:
    """Off-peak [start, end) on the wall clock; end <= start runs across midnight.

    `weekdays` (Monday=0) are those of the local day on which the range starts.
    """

    start: time
    end: time
    weekdays: frozenset[int] = frozenset(range(7))

    def contains(self, local: datetime) -> bool:
        """Whether a local (aware) instant falls inside the range."""
        now = local.time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return local.weekday() in self.weekdays and self.start <= now < self.end
        if now >= self.start:
            return local.weekday() in self.weekdays
        return now < self.end and (local.weekday() - 1) % 7 in self.weekdays


TEMPO_OFF_PEAK = (OffPeakRange(time(22), time(6)),)


@dataclass(frozen=True, slots=True)
class TariffPeriod:
    """The consumption prices in force from local midnight of `start` on."""

    start: date
    kind: TariffKind
    base_price: float = 0
    hp_price: float = 0
    hc_price: float = 0
    tempo_prices: Mapping[str, float] = field(default_factory=dict)  # "blue_hp", … "red_hc"
    off_peak: tuple[OffPeakRange, ...] = ()
    subscription: float = 0
    subscription_per: Literal["month", "year"] = "month"

    def daily_fee(self, day: date) -> float:
        """The share of the subscription charged on `day`."""
        if self.subscription_per == "year":
            return self.subscription / (366 if calendar.isleap(day.year) else 365)
        return self.subscription / calendar.monthrange(day.year, day.month)[1]


@dataclass(frozen=True, slots=True)
class FeedInPeriod:
    """The price paid per produced kWh from local midnight of `start` on."""

    start: date
    price: float


@dataclass(frozen=True, slots=True)
class Tariff:
    """Dated consumption periods, dated feed-in prices and a currency label."""

    periods: tuple[TariffPeriod, ...]
    feed_in: tuple[FeedInPeriod, ...] = ()
    currency: str = "EUR"

    def buckets(self) -> tuple[str, ...]:
        """Every bucket any period can produce, in a stable order."""
        kinds = {p.kind for p in self.periods}
        names: list[str] = []
        if kinds & {TariffKind.BASE, TariffKind.DYNAMIC}:
            names.append("base")
        if TariffKind.HP_HC in kinds:
            names += ["hp", "hc"]
        if TariffKind.TEMPO in kinds:
            names += TEMPO_BUCKETS
        return tuple(names)


@dataclass(frozen=True, slots=True)
class HourCost:
    """Energy and cost per bucket in one UTC hour, plus the subscription charged there."""

    energy: Mapping[str, float]
    cost: Mapping[str, float]
    fee: float = 0.0

    @property
    def total_energy(self) -> float:
        """Energy of every bucket."""
        return sum(self.energy.values())

    @property
    def total_cost(self) -> float:
        """Cost of every bucket plus the fee."""
        return sum(self.cost.values()) + self.fee


@dataclass(slots=True)
class PricingReport:
    """What could not be priced as asked; UTC hour starts, so repeated hours count once."""

    tempo_fallback_days: set[date] = field(default_factory=set)
    unpriced: set[datetime] = field(default_factory=set)
    before_tariff: set[datetime] = field(default_factory=set)

    @property
    def unpriced_hours(self) -> int:
        """Hours of a dynamic period with no price (priced 0)."""
        return len(self.unpriced)

    @property
    def hours_before_tariff(self) -> int:
        """Hours before the first period (not priced at all)."""
        return len(self.before_tariff)


def _in_force[T: (TariffPeriod, FeedInPeriod)](items: Sequence[T], day: date) -> T | None:
    """The latest of the start-sorted `items` starting on or before `day`."""
    index = bisect_right(items, day, key=lambda item: item.start) - 1
    return items[index] if index >= 0 else None


def period_in_force(tariff: Tariff, day: date) -> TariffPeriod | None:
    """The consumption period in force on `day` (None before the first)."""
    return _in_force(sorted(tariff.periods, key=lambda p: p.start), day)


def _floor_hour(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def to_per_kwh(value: float, unit: str) -> float | None:
    """A price in `unit` as currency per kWh; None for an unknown unit."""
    factor = _UNIT_FACTORS.get(unit.strip().lower().replace(" ", ""))
    return None if factor is None else value * factor


class _Cutter:
    """Splits intervals at UTC hours and at the local wall-clock times a tariff turns on."""

    def __init__(self, tz: ZoneInfo, walls: Iterable[time]) -> None:
        self._tz = tz
        self._walls = frozenset(walls) | {time(0)}
        self._days: dict[date, list[datetime]] = {}

    def _local_cuts(self, day: date) -> list[datetime]:
        if day not in self._days:
            # Both folds: a wall time repeated at DST end is crossed twice; extra cuts are harmless.
            self._days[day] = [
                datetime.combine(day, wall.replace(fold=fold), tzinfo=self._tz).astimezone(UTC)
                for wall in self._walls
                for fold in (0, 1)
            ]
        return self._days[day]

    def split(self, interval: Interval) -> Iterator[tuple[datetime, float]]:
        """(UTC start, amount) of every piece; the pieces sum to the interval's value."""
        start, end = interval.start.astimezone(UTC), interval.end.astimezone(UTC)
        span = (end - start).total_seconds()
        if span <= 0:
            return
        cuts = {start, end}
        hour = _floor_hour(start) + HOUR
        while hour < end:
            cuts.add(hour)
            hour += HOUR
        day, last = start.astimezone(self._tz).date(), end.astimezone(self._tz).date()
        while day <= last:
            cuts.update(c for c in self._local_cuts(day) if start < c < end)
            day += timedelta(days=1)
        done = 0.0
        for a, b in pairwise(sorted(cuts)):
            part = (
                interval.value - done
                if b == end
                else interval.value * (b - a).total_seconds() / span
            )
            done += part
            yield a, part


@dataclass(slots=True)
class _Row:
    energy: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    cost: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    fee: float = 0.0

    def freeze(self) -> HourCost:
        return HourCost(dict(self.energy), dict(self.cost), self.fee)


class _Pricer:
    """Prices pieces of consumption by the period, bucket and price in force at an instant."""

    def __init__(
        self,
        tariff: Tariff,
        tz: ZoneInfo,
        colour_of: Callable[[date], TempoColour | None],
        price_at: Callable[[datetime], float | None],
        report: PricingReport,
    ) -> None:
        self.tz = tz
        self.periods = sorted(tariff.periods, key=lambda p: p.start)
        walls = {r.start for p in self.periods for r in p.off_peak}
        walls |= {r.end for p in self.periods for r in p.off_peak}
        if TariffKind.TEMPO in {p.kind for p in self.periods}:
            walls |= {TEMPO_DAY_START, TEMPO_OFF_PEAK[0].start}
        self.cutter = _Cutter(tz, walls)
        self.colour_of = colour_of
        self.price_at = price_at
        self.report = report

    def period(self, day: date) -> TariffPeriod | None:
        return _in_force(self.periods, day)

    def price(self, instant: datetime) -> tuple[str, float | None] | None:
        """(bucket, price) at a UTC instant; None before the first period."""
        local = instant.astimezone(self.tz)
        period = self.period(local.date())
        if period is None:
            self.report.before_tariff.add(_floor_hour(instant))
            return None
        match period.kind:
            case TariffKind.BASE:
                return "base", period.base_price
            case TariffKind.HP_HC:
                if any(r.contains(local) for r in period.off_peak):
                    return "hc", period.hc_price
                return "hp", period.hp_price
            case TariffKind.TEMPO:
                return self._tempo(period, local)
            case _:  # DYNAMIC
                price = self.price_at(instant)
                if price is None:
                    self.report.unpriced.add(_floor_hour(instant))
                return "base", price

    def _tempo(self, period: TariffPeriod, local: datetime) -> tuple[str, float]:
        tempo_day = local.date() - timedelta(days=int(local.time() < TEMPO_DAY_START))
        colour = self.colour_of(tempo_day)
        if colour is None:
            self.report.tempo_fallback_days.add(tempo_day)
            colour = TempoColour.BLUE
        off_peak = any(r.contains(local) for r in period.off_peak or TEMPO_OFF_PEAK)
        key = f"{colour}_{'hc' if off_peak else 'hp'}"
        return f"tempo_{key}", period.tempo_prices.get(key, 0.0)

    def fee(self, day: date) -> float:
        period = self.period(day)
        return 0.0 if period is None else period.daily_fee(day)


def price_consumption(
    tariff: Tariff,
    intervals: Iterable[Interval],
    tz: ZoneInfo,
    *,
    colour_of: Callable[[date], TempoColour | None] = lambda _: None,
    price_at: Callable[[datetime], float | None] = lambda _: None,
    report: PricingReport | None = None,
) -> dict[datetime, HourCost]:
    """Energy and cost per bucket per UTC hour; each touched local day's fee at its midnight."""
    pricer = _Pricer(
        tariff, tz, colour_of, price_at, report if report is not None else PricingReport()
    )
    rows: defaultdict[datetime, _Row] = defaultdict(_Row)
    days: set[date] = set()
    for interval in intervals:
        for instant, amount in pricer.cutter.split(interval):
            days.add(instant.astimezone(tz).date())
            priced = pricer.price(instant)
            if priced is None:
                continue
            bucket, price = priced
            row = rows[_floor_hour(instant)]
            row.energy[bucket] += amount
            row.cost[bucket] += amount * (price or 0.0)
    for day in days:
        if fee := pricer.fee(day):
            rows[_floor_hour(day_start(day, tz))].fee += fee
    return {hour: row.freeze() for hour, row in sorted(rows.items())}


def price_daily_total(
    tariff: Tariff,
    day: date,
    kwh: float,
    tz: ZoneInfo,
    *,
    colour_of: Callable[[date], TempoColour | None] = lambda _: None,
    price_at: Callable[[datetime], float | None] = lambda _: None,
    report: PricingReport | None = None,
) -> dict[datetime, HourCost]:
    """A day known only by its total: one row at local midnight, split by each bucket's hours."""
    report = report if report is not None else PricingReport()
    period = _in_force(sorted(tariff.periods, key=lambda p: p.start), day)
    if period is not None and period.kind is TariffKind.DYNAMIC:
        return {
            _floor_hour(day_start(day, tz)): _dynamic_day(period, day, kwh, tz, price_at, report)
        }
    start, end = day_bounds(day, tz)
    # A flat spread over the day gives each bucket the energy share of the time it covers.
    rows = price_consumption(
        tariff, [Interval(start, end, kwh)], tz, colour_of=colour_of, report=report
    )
    if not rows:
        return {}
    merged = _Row()
    for row in rows.values():
        for bucket, amount in row.energy.items():
            merged.energy[bucket] += amount
            merged.cost[bucket] += row.cost[bucket]
        merged.fee += row.fee
    return {_floor_hour(start): merged.freeze()}


def _dynamic_day(
    period: TariffPeriod,
    day: date,
    kwh: float,
    tz: ZoneInfo,
    price_at: Callable[[datetime], float | None],
    report: PricingReport,
) -> HourCost:
    hours = hour_starts(day, tz)
    prices = [price for hour in hours if (price := price_at(hour)) is not None]
    if not prices:
        report.unpriced.update(_floor_hour(hour) for hour in hours)
    average = sum(prices) / len(prices) if prices else 0.0
    return HourCost({"base": kwh}, {"base": kwh * average}, period.daily_fee(day))


def price_feed_in(
    tariff: Tariff, intervals: Iterable[Interval], tz: ZoneInfo
) -> dict[datetime, float]:
    """Compensation per UTC hour for produced energy; nothing before the first feed-in period."""
    periods = sorted(tariff.feed_in, key=lambda p: p.start)
    cutter = _Cutter(tz, ())
    out: defaultdict[datetime, float] = defaultdict(float)
    for interval in intervals:
        for instant, amount in cutter.split(interval):
            period = _in_force(periods, instant.astimezone(tz).date())
            if period is not None:
                out[_floor_hour(instant)] += amount * period.price
    return dict(sorted(out.items()))


def validate_off_peak(ranges: Iterable[OffPeakRange]) -> str | None:
    """An error key when a range is empty or two ranges overlap on the week, else None."""
    pieces: list[tuple[int, int]] = []
    for r in ranges:
        if r.start == r.end or not r.weekdays:
            return "empty_range"
        begin = _seconds(r.start)
        length = (_seconds(r.end) - begin) % DAY_SECONDS
        for weekday in r.weekdays:
            first = weekday * DAY_SECONDS + begin
            pieces.append((first, min(first + length, WEEK_SECONDS)))
            if first + length > WEEK_SECONDS:  # Sunday night runs into Monday
                pieces.append((0, first + length - WEEK_SECONDS))
    pieces.sort()
    # Sorted by start, any overlap shows up between neighbours.
    if any(b[0] < a[1] for a, b in pairwise(pieces)):
        return "overlapping_ranges"
    return None


def validate_prices(period: TariffPeriod | FeedInPeriod) -> str | None:
    """The error key "negative_price" when a price or fee of the period is negative, else None."""
    if isinstance(period, FeedInPeriod):
        prices: list[float] = [period.price]
    else:
        prices = [period.base_price, period.hp_price, period.hc_price, period.subscription]
        prices += period.tempo_prices.values()
    return "negative_price" if any(price < 0 for price in prices) else None
