"""The cost statistics of one meter, priced from its stored energy statistics.

A `CostBook` charges one channel (Linky consumption, a Climkit site's grid import) and
compensates another (production, grid export). After each import the pipeline hands it the
changed days; when the tariff changes (options flow) it prices again from what the recorder
holds, from the first day whose prices changed: no provider call, only changed rows written.
It keeps each day's Linky load curve (`archive`) so that re-pricing splits half-hours by their
minutes, and the meter's register readings (`readings`) so that a tariff with periods from the
meter prices each day's buckets as its registers counted them. The pricing itself is
`pricing.py`, in a worker thread.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..model import Channel, Interval, MeterIndex, Register
from ..providers.conso_api_index import register_deltas
from ..statistics.aggregation import day_start
from ..statistics.ids import StatisticSpec, energy_spec, money_spec, statistic_id
from ..statistics.importer import EPOCH, Importer
from .archive import PackedDay, pack_days
from .engine import OffPeakRange, PricingReport, Tariff, TariffKind, TempoColour
from .hours_check import MIN_DAYS, HoursCheck, MeteredDay, check, metered_day
from .pricing import (
    NO_BUCKETS,
    Hours,
    PricingJob,
    by_day,
    compensation,
    is_stale,
    price_all,
)
from .registers import bucket_totals, register_colours
from .sources import colour_lookup, load_history, price_lookup, window
from .stored import (
    METER_PERIODS,
    Repricing,
    off_peak_from_options,
    parse_date,
    repricing,
    stored_tariff,
    tariff_from_options,
)

_LOGGER = logging.getLogger(__name__)
STORAGE_VERSION = 1
SAVE_DELAY = 10  # seconds: the archive grows with every import, save it once things settle
COMPENSATION = "grid_export_compensation"
ONE_DAY = timedelta(days=1)
INLINE_ROWS = 24 * 62  # more stored hours are sorted into days in a worker thread
CHECKED_DAYS = 30  # the newest days the typed off-peak hours are checked against


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

    def add(self, report: PricingReport, priced: Iterable[date] = ()) -> None:
        """Add a pricing's report; the `priced` days' colours are now the report's."""
        again = {d.isoformat() for d in priced}
        days = {d.isoformat() for d in report.tempo_fallback_days}
        kept = set(self.tempo_fallback_days) - again
        self.tempo_fallback_days = sorted(kept | days)[-60:]
        self.unpriced_hours += report.unpriced_hours
        self.hours_before_tariff += report.hours_before_tariff


class CostBook:
    """The costs of one meter: the channel it charges and the one it compensates, the curve
    archive, the tariff last priced, the newest day."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        meter: str,
        label: str,
        tz: ZoneInfo,
        importer: Importer,
        *,
        charges: Channel,
        compensates: Channel,
    ) -> None:
        """Bind to the entry (its options hold the tariff); nothing is read yet."""
        self._hass = hass
        self._entry = entry
        self._meter = meter
        self._label = label
        self._tz = tz
        self._importer = importer
        self.charges = charges
        self.compensates = compensates
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.costs.{entry.entry_id}"
        )
        self.archive: dict[str, dict[str, PackedDay]] = {}
        self.priced: str | None = None  # the tariff (as JSON) the statistics were priced with
        self.latest: tuple[date, float] | None = None
        self.report = CostReport()
        self.readings: dict[str, MeterIndex] = {}  # the registers at the start of each day
        self.unpriced: set[date] = set()  # days whose registers are known, not priced with them
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
        readings = data.get("readings")
        if isinstance(readings, list):
            self.readings = {
                index.day.isoformat(): index
                for item in readings
                if (index := _reading(item)) is not None
            }
        unpriced = data.get("unpriced")
        if isinstance(unpriced, list):
            self.unpriced = {day for item in unpriced if (day := parse_date(item)) is not None}
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
            "readings": [_reading_data(index) for _, index in sorted(self.readings.items())],
            "unpriced": sorted(day.isoformat() for day in self.unpriced),
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
            "registers": self._registers_diagnostics(),
        }

    def _registers_diagnostics(self) -> dict[str, Any]:
        """The calendars and registers seen, and how many days they priced."""
        calendars = {(i.calendar, i.calendar_label) for i in self.readings.values()}
        deltas = self.register_deltas()
        return {
            "periods_from_meter": self.uses_registers,
            "calendars": [
                {"calendar": c, "label": label} for c, label in sorted(calendars, key=str)
            ],
            "registers": self.register_labels(),
            "days_read": len(self.readings),
            "days_with_deltas": len(deltas),
            "newest_delta": max(deltas).isoformat() if deltas else None,
        }

    # ---- archive ------------------------------------------------------------------------

    def remember(self, channel: Channel, intervals: Iterable[Interval]) -> None:
        """Keep the load curve of every complete day for later re-pricing."""
        packed = pack_days(intervals, self._tz)
        if packed:
            self.archive.setdefault(channel.value, {}).update(packed)
            self._save_later()

    # ---- the meter's registers ----------------------------------------------------------

    @property
    def uses_registers(self) -> bool:
        """Whether the tariff takes its periods from the meter's registers."""
        stored = stored_tariff(self._entry.options)
        return stored is not None and bool(stored.get(METER_PERIODS))

    async def note_readings(self, indexes: Iterable[MeterIndex]) -> None:
        """Keep the register readings read, and (periods from the meter) the days whose
        deltas are new or changed as days to price again; both saved now, so a stop before
        they are priced leaves them to price at the next start."""
        read = [i for i in indexes if i.registers]
        if not read:
            return
        before = self.register_deltas()
        self.readings.update((index.day.isoformat(), index) for index in read)
        after = self.register_deltas()
        if self.uses_registers:
            self.unpriced |= {day for day, deltas in after.items() if before.get(day) != deltas}
        await self._save_now()

    def registers_unpriced(self) -> tuple[date, date] | None:
        """The days whose registers became known and are not priced with them yet (first,
        last); None when there are none or the periods do not come from the meter."""
        if not self.unpriced or not self.uses_registers:
            return None
        return min(self.unpriced), max(self.unpriced)

    async def registers_priced(self) -> None:
        """Forget those days: their pricing is queued (under a journal intent)."""
        if self.unpriced:
            self.unpriced = set()
            await self._save_now()

    async def _save_now(self) -> None:
        self._dirty = False
        await self._store.async_save(self._data())

    def oldest_reading(self) -> date | None:
        """The day of the oldest register reading kept."""
        return date.fromisoformat(min(self.readings)) if self.readings else None

    def register_deltas(self) -> dict[date, dict[str, float]]:
        """Each day's energy per register (kWh), where two readings in a row tell it."""
        return register_deltas(tuple(index for _, index in sorted(self.readings.items())))

    def register_labels(self) -> dict[str, str]:
        """Each register's label, as the meter's calendar names it."""
        return {
            register.code: register.label
            for _, index in sorted(self.readings.items())
            for register in index.registers
        }

    def _from_registers(
        self, kind: TariffKind, days: Iterable[date]
    ) -> tuple[dict[date, dict[str, float]], dict[date, TempoColour]]:
        """The bucket totals of `days` the registers give, and the Tempo colours they say."""
        deltas, labels = self.register_deltas(), self.register_labels()
        totals = {
            day: found
            for day in days
            if day in deltas and (found := bucket_totals(kind, deltas[day], labels)) is not None
        }
        colours = register_colours(deltas, labels) if kind is TariffKind.TEMPO else {}
        return totals, colours

    async def async_check_hours(self) -> HoursCheck | None:
        """Whether the typed off-peak hours of an HP/HC tariff agree with the meter's
        registers (None: nothing to check, or too few days read). The days are built and
        checked in a worker thread (it runs at every start)."""
        stored = stored_tariff(self._entry.options)
        if stored is None or stored["kind"] != TariffKind.HP_HC or stored.get(METER_PERIODS):
            return None
        ranges = off_peak_from_options(stored["off_peak"])
        if not ranges or len(self.readings) < MIN_DAYS:
            return None
        readings = tuple(index for _, index in sorted(self.readings.items()))
        archive = dict(self.archive.get(self.charges.value, {}))
        return await self._hass.async_add_executor_job(_check_hours, readings, archive, ranges)

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
        try:
            old = json.loads(self.priced) if self.priced else None
        except ValueError:
            old = None
        tariff = self.tariff
        return repricing(
            old, stored_tariff(self._entry.options), tariff.buckets() if tariff else ()
        )

    def _energy(self, channel: Channel) -> StatisticSpec:
        """The energy statistic of a channel (read only: its name is not written)."""
        return energy_spec(self._meter, channel, f"{self._label} {channel.value}")

    def prices(self, channel: Channel) -> bool:
        """Whether an import of that channel's energy is followed by costs written here."""
        tariff = self.tariff
        if tariff is None:
            return False
        return (channel is self.charges and bool(tariff.periods)) or (
            channel is self.compensates and bool(tariff.feed_in)
        )

    def owns(self, statistic: str) -> bool:
        """Whether that statistic is written here (a cost, a bucket energy, the feed-in
        compensation), so it can be priced again from the stored energy."""
        tariff = self.tariff
        if tariff is None:
            return False
        specs = self._specs(self.charges.value, tariff).values()
        return statistic in {s.statistic_id for s in specs} | {
            statistic_id(self._meter, COMPENSATION)
        }

    async def reprice(self, channel: Channel | None, first: date, last: date) -> None:
        """Price [first, last] again from the stored energy: that channel, or both when None
        (after a hard stop; only the rows that differ are written)."""
        if channel in (self.charges, None):
            await self.price(first, last)
        if channel in (self.compensates, None):
            await self.compensate(first, last)

    async def imported(self, channel: Channel, days: Iterable[date]) -> None:
        """New or changed energy days of `channel`: price or compensate them if it is one of
        this book's channels."""
        changed = sorted(days)
        if not changed:
            return
        if channel is self.charges:
            await self.price(changed[0], changed[-1])
        elif channel is self.compensates:
            await self.compensate(changed[0], changed[-1])

    async def price(
        self,
        first: date | None,
        last: date,
        *,
        split: bool = True,
        buckets: frozenset[str] | None = None,
    ) -> None:
        """Price the charged channel's stored energy of [first, last] (from the oldest row
        when first is None).

        Without `split` the buckets' energies cannot have changed (only prices did): their
        statistics are neither read nor written; nor are the costs of buckets outside
        `buckets` (None: every bucket), whose prices did not change."""
        tariff = self.tariff
        if tariff is None or not tariff.periods:
            return
        channel = self.charges
        days = await self._stored_days(self._energy(channel), first, last)
        if not days:
            return
        begin, end = window(min(days), max(days), self._tz)
        stored = stored_tariff(self._entry.options) or {}
        colours = colour_lookup(
            await load_history(self._hass, stored.get("tempo_entity"), begin, end), self._tz
        )
        registers: dict[date, dict[str, float]] = {}
        if self.uses_registers:
            registers, metered = self._from_registers(TariffKind(stored["kind"]), days)
            colours = _metered_first(metered, colours)
        prices = price_lookup(
            await load_history(self._hass, stored.get("price_entity"), begin, end)
        )
        report = PricingReport()
        specs = self._specs(channel.value, tariff)
        specs = {key: spec for key, spec in specs.items() if is_stale(key, split, buckets)}
        for spec in specs.values():  # read while the prices are computed
            self._importer.prefetch(spec, min(days), max(days))
        # Years of hours are seconds of CPU: priced in a worker thread, never on the loop.
        out = await self._hass.async_add_executor_job(
            price_all,
            PricingJob(
                tariff,
                days,
                dict(self.archive.get(channel.value, {})),
                self._tz,
                list(specs),
                registers,
            ),
            colours,
            prices,
            report,
        )
        written = 0
        for key, spec in specs.items():
            result = await self._importer.import_days(spec, out[key])
            written += result.rows_written
        self.report.add(report, days)
        self.report.rows_written += written
        newest = max(days)
        if self.latest is None or newest >= self.latest[0]:
            self.latest = (newest, out["cost"][newest].measured)
        self._save_later()

    async def _stored_days(
        self, energy: StatisticSpec, first: date | None, last: date
    ) -> dict[date, Hours]:
        """The stored hourly rows of [first, last] by local day (from the oldest if None)."""
        start = EPOCH if first is None else day_start(first, self._tz)
        rows = await self._importer.read_hours(energy, start, day_start(last + ONE_DAY, self._tz))
        if len(rows) <= INLINE_ROWS:
            return by_day(rows, self._tz)
        return await self._hass.async_add_executor_job(by_day, rows, self._tz)

    async def recompute(self) -> None:
        """Price the stored days again with the current tariff (no provider call): from the
        first day whose prices changed; bucket energies only when the split changed."""
        last = dt_util.now(self._tz).date()
        change = self.change()
        if change.consumption_from != date.max:
            await self.price(
                change.consumption_from, last, split=change.split, buckets=change.buckets
            )
        if change.feed_in_from != date.max:
            await self.compensate(change.feed_in_from, last)
        await self._importer.commit()  # the tariff is marked priced once the costs are written
        self.mark_priced()

    async def compensate(self, first: date | None, last: date) -> None:
        """Write the feed-in compensation of the compensated channel's stored energy of
        [first, last]."""
        tariff = self.tariff
        if tariff is None or not tariff.feed_in:
            return
        channel = self.compensates
        days = await self._stored_days(self._energy(channel), first, last)
        archive = dict(self.archive.get(channel.value, {}))
        if len(days) <= INLINE_ROWS // 24:
            out = compensation(tariff, days, archive, self._tz)
        else:
            out = await self._hass.async_add_executor_job(
                compensation, tariff, days, archive, self._tz
            )
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


def _check_hours(
    readings: tuple[MeterIndex, ...],
    archive: dict[str, PackedDay],
    ranges: tuple[OffPeakRange, ...],
) -> HoursCheck | None:
    """The typed ranges checked against the newest days (up to CHECKED_DAYS) with an
    archived curve and register deltas."""
    deltas = register_deltas(readings)
    labels = {r.code: r.label for index in readings for r in index.registers}
    found: list[MeteredDay] = []
    for day in sorted(deltas, reverse=True):
        totals = bucket_totals(TariffKind.HP_HC, deltas[day], labels)
        packed = archive.get(day.isoformat())
        if totals is None or packed is None:
            continue
        if metered := metered_day(day, packed, sum(totals.values()), totals.get("hc", 0.0)):
            found.append(metered)
        if len(found) == CHECKED_DAYS:
            break
    return check(found, ranges)


def _metered_first(
    metered: dict[date, TempoColour], fallback: Callable[[date], TempoColour | None]
) -> Callable[[date], TempoColour | None]:
    """The colour the registers say, else the colour entity's."""

    def colour_of(day: date) -> TempoColour | None:
        return metered.get(day) or fallback(day)

    return colour_of


def _reading_data(index: MeterIndex) -> list[Any]:
    return [
        index.day.isoformat(),
        index.total,
        index.calendar,
        index.calendar_label,
        [[r.code, r.label, r.value] for r in index.registers],
    ]


def _reading(item: Any) -> MeterIndex | None:
    """A stored reading; None when unreadable."""
    try:
        day, total, calendar, label, registers = item
        return MeterIndex(
            date.fromisoformat(day),
            None if total is None else float(total),
            calendar,
            label,
            tuple(Register(str(c), str(name), float(v)) for c, name, v in registers),
        )
    except TypeError, ValueError:
        return None
