"""Cost statistics of one meter, priced from its stored energy statistics.

After each import the changed days are priced; when the tariff changes (options flow) every
day is priced again from what the recorder holds: no provider call, only the rows whose value
changed are rewritten. The Linky load curve of each day is archived (`curve_archive`) so that a
half-hour point straddling an off-peak boundary is split by its minutes, at import as at
recompute; without it (Climkit, or days imported before the archive) an hour is taken as flat.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..model import Channel, DayEnergy, Interval
from ..statistics.aggregation import day_start, local_day
from ..statistics.ids import StatisticSpec, energy_spec, money_spec
from ..statistics.importer import EPOCH, Importer, StoredRow
from .archive import PackedDay, pack_days, parts_by_hour
from .engine import (
    HourCost,
    PricingReport,
    Tariff,
    TempoColour,
    price_consumption,
    price_daily_total,
    price_feed_in,
)
from .sources import colour_lookup, load_history, price_lookup, window
from .stored import stored_tariff, tariff_from_options

_LOGGER = logging.getLogger(__name__)
STORAGE_VERSION = 1
SAVE_DELAY = 10  # seconds: the archive grows with every import, save it once things settle
COMPENSATION = "grid_export_compensation"
HOUR = timedelta(hours=1)
ONE_DAY = timedelta(days=1)
NO_BUCKETS = ("base",)
INLINE_ROWS = 24 * 62  # more stored hours are sorted into days in a worker thread


def cost_channel(channel: str) -> str:
    """The statistic channel of a channel's cost."""
    return f"{channel}_cost"


def bucket_channel(channel: str, bucket: str) -> str:
    """The statistic channel of one tariff bucket's energy (e.g. consumption_hc)."""
    return f"{channel}_{bucket}"


@dataclass(slots=True)
class CostReport:
    """What the last pricing could not price exactly (diagnostics)."""

    tempo_fallback_days: list[str] = field(default_factory=list)
    unpriced_hours: int = 0
    hours_before_tariff: int = 0
    recomputed_at: str | None = None
    rows_written: int = 0

    def add(self, report: PricingReport) -> None:
        days = {d.isoformat() for d in report.tempo_fallback_days}
        self.tempo_fallback_days = sorted(set(self.tempo_fallback_days) | days)[-60:]
        self.unpriced_hours += report.unpriced_hours
        self.hours_before_tariff += report.hours_before_tariff


@dataclass(frozen=True, slots=True)
class Repricing:
    """What a tariff change makes stale (a day: from then on; None: from the start;
    `date.max`: nothing)."""

    consumption_from: date | None
    feed_in_from: date | None
    split: bool = True  # the buckets' energies changed (kind, off-peak hours, entities)
    buckets: frozenset[str] | None = None  # the buckets whose cost changed; None: every one


class CostBook:
    """The costs of one meter: the curve archive, the tariff last priced, the newest day."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        meter: str,
        label: str,
        tz: ZoneInfo,
        importer: Importer,
    ) -> None:
        """Bind to the entry (its options hold the tariff); nothing is read yet."""
        self._hass = hass
        self._entry = entry
        self._meter = meter
        self._label = label
        self._tz = tz
        self._importer = importer
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.costs.{entry.entry_id}"
        )
        self.archive: dict[str, dict[str, PackedDay]] = {}
        self.priced: str | None = None  # the tariff (as JSON) the statistics were priced with
        self.latest: tuple[date, float] | None = None
        self.report = CostReport()
        self._dirty = False

    def set_time_zone(self, tz: ZoneInfo, importer: Importer) -> None:
        """The site's zone, once known (Climkit)."""
        self._tz = tz
        self._importer = importer

    # ---- persistence ------------------------------------------------------------------

    async def async_load(self) -> None:
        """Read the archive and what was priced."""
        data = await self._store.async_load() or {}
        archive = data.get("archive")
        if isinstance(archive, dict):
            self.archive = {
                str(channel): {str(d): list(v) for d, v in days.items()}
                for channel, days in archive.items()
                if isinstance(days, dict)
            }
        priced = data.get("priced")
        self.priced = priced if isinstance(priced, str) else None
        latest = data.get("latest")
        if isinstance(latest, list) and len(latest) == 2:
            try:
                self.latest = (date.fromisoformat(latest[0]), float(latest[1]))
            except TypeError, ValueError:
                self.latest = None

    def _data(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "priced": self.priced,
            "latest": None if self.latest is None else [self.latest[0].isoformat(), self.latest[1]],
        }

    def _save_later(self) -> None:
        self._dirty = True
        self._store.async_delay_save(self._data, SAVE_DELAY)

    async def async_flush(self) -> None:
        """Write what a delayed save still holds (the entry unloads or reloads)."""
        if self._dirty:
            self._dirty = False
            await self._store.async_save(self._data())

    # ---- tariff -------------------------------------------------------------------------

    @property
    def tariff(self) -> Tariff | None:
        """The entry's tariff, None when none is configured."""
        return tariff_from_options(self._entry.options)

    @property
    def currency(self) -> str:
        """The tariff's currency."""
        tariff = self.tariff
        return tariff.currency if tariff is not None else "EUR"

    def _fingerprint(self) -> str | None:
        stored = stored_tariff(self._entry.options)
        return None if stored is None else json.dumps(stored, sort_keys=True)

    def latest_cost(self) -> tuple[date, float, str] | None:
        """The newest priced day, its cost and the currency (None without a tariff)."""
        tariff = self.tariff
        if tariff is None or not tariff.periods or self.latest is None:
            return None
        return self.latest[0], round(self.latest[1], 4), tariff.currency

    @property
    def stale(self) -> bool:
        """Whether the statistics were priced with another tariff than the current one."""
        return self._fingerprint() != self.priced

    def diagnostics(self) -> dict[str, Any]:
        """The tariff, whether the statistics follow it, and what could not be priced exactly
        (Tempo days without a colour, priced as blue; hours without a price)."""
        return {
            "tariff": stored_tariff(self._entry.options),
            "priced_with_current_tariff": not self.stale,
            "archived_curve_days": {c: len(days) for c, days in self.archive.items()},
            "latest": None if self.latest is None else [self.latest[0].isoformat(), self.latest[1]],
            "report": asdict(self.report),
        }

    # ---- archive ------------------------------------------------------------------------

    def remember(self, channel: Channel, intervals: Iterable[Interval]) -> None:
        """Keep the load curve of every complete day for later re-pricing."""
        packed = pack_days(intervals, self._tz)
        if packed:
            self.archive.setdefault(channel.value, {}).update(packed)
            self._save_later()

    # ---- pricing ------------------------------------------------------------------------

    def _specs(self, channel: str, tariff: Tariff) -> dict[str, StatisticSpec]:
        name = f"{self._label} {channel.replace('_', ' ')}"
        specs = {
            "cost": money_spec(self._meter, cost_channel(channel), f"{name} cost", tariff.currency)
        }
        for bucket in tariff.buckets():
            if bucket in NO_BUCKETS:
                continue
            label = bucket.replace("_", " ").upper()
            specs[f"energy:{bucket}"] = energy_spec(
                self._meter, bucket_channel(channel, bucket), f"{name} {label}"
            )
            specs[f"cost:{bucket}"] = money_spec(
                self._meter,
                cost_channel(bucket_channel(channel, bucket)),
                f"{name} {label} cost",
                tariff.currency,
            )
        return specs

    def change(self) -> Repricing:
        """What a recompute must redo since the statistics were last priced."""
        new = stored_tariff(self._entry.options)
        try:
            old = json.loads(self.priced) if self.priced else None
        except ValueError:
            old = None
        if old is None or new is None:
            return Repricing(None, None)
        paid = _first_difference(old["feed_in"], new["feed_in"])
        if any(old.get(k) != new.get(k) for k in SPLIT_KEYS):
            return Repricing(None, paid)
        priced = _first_difference(old["periods"], new["periods"])
        tariff = self.tariff
        buckets = frozenset(
            bucket
            for bucket in (tariff.buckets() if tariff is not None else ())
            if _first_difference(_bucket_prices(old, bucket), _bucket_prices(new, bucket))
            != date.max
        )
        return Repricing(priced, paid, split=False, buckets=buckets)

    async def price(
        self,
        energy: StatisticSpec,
        channel: Channel,
        first: date | None,
        last: date,
        *,
        split: bool = True,
        buckets: frozenset[str] | None = None,
    ) -> None:
        """Price the stored energy of [first, last] (from the oldest row when first is None).

        Without `split` the buckets' energies cannot have changed (only prices did): their
        statistics are neither read nor written; nor are the costs of buckets outside
        `buckets` (None: every bucket), whose prices did not change."""
        tariff = self.tariff
        if tariff is None or not tariff.periods:
            return
        days = await self._stored_days(energy, first, last)
        if not days:
            return
        begin, end = window(min(days), max(days), self._tz)
        stored = stored_tariff(self._entry.options) or {}
        colours = colour_lookup(
            await load_history(self._hass, stored.get("tempo_entity"), begin, end), self._tz
        )
        prices = price_lookup(
            await load_history(self._hass, stored.get("price_entity"), begin, end)
        )
        report = PricingReport()
        specs = self._specs(channel.value, tariff)
        specs = {key: spec for key, spec in specs.items() if _stale(key, split, buckets)}
        for spec in specs.values():  # read while the prices are computed
            self._importer.prefetch(spec, min(days), max(days))
        # Years of hours are seconds of CPU: priced in a worker thread, never on the loop.
        out = await self._hass.async_add_executor_job(
            _price_all,
            _Job(tariff, days, dict(self.archive.get(channel.value, {})), self._tz, list(specs)),
            colours,
            prices,
            report,
        )
        written = 0
        for key, spec in specs.items():
            result = await self._importer.import_days(spec, out[key])
            written += result.rows_written
        self.report.add(report)
        self.report.rows_written += written
        newest = max(days)
        if self.latest is None or newest >= self.latest[0]:
            self.latest = (newest, out["cost"][newest].measured)
        self._save_later()

    async def _stored_days(
        self, energy: StatisticSpec, first: date | None, last: date
    ) -> dict[date, list[tuple[datetime, float]]]:
        """The stored hourly rows of [first, last] by local day (from the oldest if None)."""
        start = EPOCH if first is None else day_start(first, self._tz)
        rows = await self._importer.read_hours(energy, start, day_start(last + ONE_DAY, self._tz))
        if len(rows) <= INLINE_ROWS:
            return _by_day(rows, self._tz)
        return await self._hass.async_add_executor_job(_by_day, rows, self._tz)

    async def recompute(
        self, price: Callable[..., Awaitable[None]], consumption: Channel, export: Channel
    ) -> None:
        """Price the stored days again with the current tariff (no provider call): from the
        first day whose prices changed; bucket energies only when the split changed.
        `price(channel, first, last, split=…, buckets=…)` is the coordinator's."""
        last = dt_util.now(self._tz).date()
        change = self.change()
        if change.consumption_from != date.max:
            await price(
                consumption,
                change.consumption_from,
                last,
                split=change.split,
                buckets=change.buckets,
            )
        if change.feed_in_from != date.max:
            await price(export, change.feed_in_from, last)
        self.mark_priced()

    async def compensate(
        self, energy: StatisticSpec, channel: Channel, first: date | None, last: date
    ) -> None:
        """Write the feed-in compensation of the stored exported energy of [first, last]."""
        tariff = self.tariff
        if tariff is None or not tariff.feed_in:
            return
        archive = self.archive.get(channel.value, {})
        out: dict[date, DayEnergy] = {}
        for day, day_rows in (await self._stored_days(energy, first, last)).items():
            # The feed-in price depends on the date only: a day known by its total is one row.
            intervals = _intervals(day_rows, archive.get(day.isoformat()))
            amounts = price_feed_in(tariff, intervals, self._tz)
            hours = [h for h, _ in day_rows]
            out[day] = DayEnergy(day=day, hours=tuple((h, amounts.get(h, 0.0)) for h in hours))
        spec = money_spec(
            self._meter, COMPENSATION, f"{self._label} grid export compensation", tariff.currency
        )
        result = await self._importer.import_days(spec, out)
        self.report.rows_written += result.rows_written

    def mark_priced(self) -> None:
        """Remember the tariff the statistics now follow."""
        self.priced = self._fingerprint()
        self.report.recomputed_at = dt_util.utcnow().isoformat()
        self._save_later()


def _by_day(rows: Iterable[StoredRow], tz: ZoneInfo) -> dict[date, list[tuple[datetime, float]]]:
    days: dict[date, list[tuple[datetime, float]]] = defaultdict(list)
    for row in rows:
        days[local_day(row.start, tz)].append((row.start, row.state or 0.0))
    return dict(sorted(days.items()))


@dataclass(frozen=True, slots=True)
class _Job:
    """What one pricing run works on."""

    tariff: Tariff
    days: dict[date, list[tuple[datetime, float]]]
    archive: dict[str, PackedDay]
    tz: ZoneInfo
    keys: list[str]  # "cost", "energy:<bucket>", "cost:<bucket>"


def _price_all(
    job: _Job,
    colours: Callable[[date], TempoColour | None],
    prices: Callable[[datetime], float | None],
    report: PricingReport,
) -> dict[str, dict[date, DayEnergy]]:
    """The rows of every statistic for every day (runs in a worker thread)."""
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


def _price_day(
    job: _Job,
    day: date,
    rows: Sequence[tuple[datetime, float]],
    colours: Callable[[date], TempoColour | None],
    prices: Callable[[datetime], float | None],
    report: PricingReport,
) -> dict[datetime, HourCost]:
    if len(rows) == 1 and rows[0][0] == day_start(day, job.tz):
        # A day known only by its billing total: priced with the day's weighted average.
        return price_daily_total(
            job.tariff, day, rows[0][1], job.tz, colour_of=colours, price_at=prices, report=report
        )
    intervals = _intervals(rows, job.archive.get(day.isoformat()))
    return price_consumption(
        job.tariff, intervals, job.tz, colour_of=colours, price_at=prices, report=report
    )


def _intervals(rows: Sequence[tuple[datetime, float]], packed: PackedDay | None) -> list[Interval]:
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


SPLIT_KEYS = ("kind", "off_peak", "tempo_entity", "price_entity")


def _stale(key: str, split: bool, buckets: frozenset[str] | None) -> bool:
    """Whether a statistic of `_specs` ("cost", "energy:<bucket>", "cost:<bucket>") can
    change: the total always, a bucket's energy when the split changed, a bucket's cost
    when its prices (or the split) changed."""
    kind, _, bucket = key.partition(":")
    if not bucket:
        return True
    if kind == "energy":
        return split
    return split or buckets is None or bucket in buckets


def _bucket_prices(tariff: dict[str, Any], bucket: str) -> list[dict[str, Any]]:
    """The dated prices of one bucket (the periods reduced to what prices that bucket)."""
    return [
        {"start": period.get("start"), "price": _bucket_price(period, bucket)}
        for period in tariff.get("periods", [])
    ]


def _bucket_price(period: dict[str, Any], bucket: str) -> Any:
    if bucket.startswith("tempo_"):
        return (period.get("tempo_prices") or {}).get(bucket.removeprefix("tempo_"))
    return period.get(f"{bucket}_price")


def _first_difference(old: list[Any], new: list[Any]) -> date | None:
    """The first day on which two lists of dated items (sorted by "start") put different
    items in force; None from the very start, `date.max` when they agree on every day."""
    starts = sorted({item["start"] for item in [*old, *new]})
    for start in starts:
        if _in_force(old, start) != _in_force(new, start):
            return None if start == starts[0] else date.fromisoformat(start)
    return date.max


def _in_force(items: list[Any], day: str) -> Any:
    current = None
    for item in items:
        if item["start"] <= day:
            current = item
    return current


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
