"""The one tail every provider shares: days per (meter, channel) → importer → costs → latest
values → event.

A wing's coordinator fetches, its adapter turns answers into the neutral model (`build_days`
gives `DayEnergy` per local day), and `Pipeline.run` does the rest the same way for Linky and
Climkit: write the changed days, price them, archive the load curve for re-pricing, report
the newest day of every series and fire `linky_climkit_data_imported`.

It owns the entry's intent journal: the energy of a priced channel is journaled with the days
it covers until its costs are committed, and `async_repair` checks and repairs, at the next
start, what a hard stop left half done (statistics/repair.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant

from .const import EVENT_DATA_IMPORTED
from .faults import fault_point
from .model import Channel, DayEnergy, Interval, Peak
from .statistics.aggregation import day_start
from .statistics.ids import StatisticSpec
from .statistics.importer import Importer
from .statistics.journal import Intent, Journal, Kind
from .statistics.ledger import Ledger, Mark
from .statistics.repair import repair_statistics
from .tariffs.costs import CostBook

type SeriesKey = tuple[str, Channel]  # (meter: the PRM, a Climkit site or meter id; channel)


@dataclass(slots=True)
class Batch:
    """What one run fetched, in the neutral model."""

    days: dict[SeriesKey, dict[date, DayEnergy]] = field(default_factory=dict)
    peaks: dict[SeriesKey, list[Peak]] = field(default_factory=dict)
    curves: dict[Channel, list[Interval]] = field(default_factory=dict)  # archived for pricing
    # Days imported with at least one quarter-hour (or half-hour) missing from what was received.
    partial: dict[SeriesKey, set[date]] = field(default_factory=dict)


@dataclass(slots=True)
class Imported:
    """What a run changed and the newest complete day of each series it saw."""

    changed: dict[SeriesKey, list[date]] = field(default_factory=dict)
    newest: dict[SeriesKey, DayEnergy] = field(default_factory=dict)
    newest_peak: dict[SeriesKey, Peak] = field(default_factory=dict)
    rows: int = 0

    @property
    def changed_days(self) -> list[date]:
        """Every changed day, of any series."""
        return sorted({day for days in self.changed.values() for day in days})


class Pipeline:
    """One entry's tail. `spec` names the statistic of a (meter, channel)."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        provider: str,
        meter: str,
        tz: ZoneInfo,
        spec: Callable[[str, Channel], StatisticSpec],
        costs: CostBook,
        ledger: Ledger,
        entry_id: str,
    ) -> None:
        """Nothing is read or written here."""
        self._hass = hass
        self.provider = provider
        self.meter = meter
        self.spec = spec
        self.costs = costs
        self.ledger = ledger
        self.journal = Journal(hass, entry_id)
        self.written = 0  # rows written since `take_written`
        self.set_time_zone(tz)

    async def async_load(self) -> None:
        """Read the costs' archive and the journal (at set-up: files, no recorder)."""
        await self.costs.async_load()
        await self.journal.async_load()

    def set_time_zone(self, tz: ZoneInfo) -> None:
        """The meter's zone (a Climkit site's once known); one importer for the energy and
        the costs, as the costs read what the energy import queued."""
        self.tz = tz
        self.importer = Importer(self._hass, tz, self.journal)
        self.costs.set_time_zone(tz, self.importer)

    async def commit(self) -> None:
        """Return once the recorder has committed everything this pipeline queued (then a
        cursor saying it is imported may be saved)."""
        await self.importer.commit()

    def take_written(self) -> int:
        """Rows written since the last call."""
        written, self.written = self.written, 0
        return written

    async def run(
        self,
        batch: Batch,
        reason: str,
        *,
        keep_stored_totals: bool = False,
        brought: bool = False,
    ) -> Imported:
        """Import a batch: only changed days are written (a partial read never replaces a
        day stored whole), then priced (the entry's own meter only), recorded in the ledger,
        and the event names what changed. A batch `brought` from elsewhere (a file, another
        integration's statistics) is recorded as such: the provider is still asked for its
        days, and never shown as the newest values."""
        done = Imported()
        for key, received in sorted(batch.days.items()):
            partial = batch.partial.get(key, set())
            ledger_key = Ledger.key(*key)
            # A day stored whole is never replaced by a read that lacks some of its quarters
            # (a provider's passing gap): it keeps what it has.
            days = {
                day: energy
                for day, energy in received.items()
                if day not in partial or not self.ledger.has(ledger_key, day, Mark.HOURLY)
            }
            if not days:
                continue
            meter, channel = key
            priced = meter == self.meter and self.costs.prices(channel)
            intent = f"price:{channel.value}"
            if priced:  # the energy may be committed and its costs not
                start = day_start(min(days), self.tz)
                end = day_start(max(days) + timedelta(days=1), self.tz)
                await self.journal.begin(intent, Intent(Kind.PRICE, channel.value, start, end))
            result = await self.importer.import_days(
                self.spec(meter, channel), days, keep_stored_totals=keep_stored_totals
            )
            done.rows += result.rows_written
            # A changed total without hours: the provider corrected a day whose hours are
            # stored (rescaled by the importer until its load curve is read again).
            if brought:
                self.ledger.brought(ledger_key, days)
            else:
                corrected = [d for d in result.changed_days if days[d].hours is None]
                self.ledger.reshaped(ledger_key, corrected)
                self.ledger.imported(ledger_key, days, partial)
            complete = [day for day in days if day not in partial]
            if complete and not brought:
                done.newest[key] = days[max(complete)]
            if meter == self.meter:
                self.costs.remember(channel, batch.curves.get(channel, ()))
                await self.costs.imported(channel, result.changed_days)
            if priced:  # a step that raised leaves its intent open for the next start
                self.journal.queued(intent)
            if result.changed_days:
                done.changed[key] = sorted(result.changed_days)
        for key, peaks in sorted(batch.peaks.items()):
            if not peaks:
                continue
            result = await self.importer.import_peaks(self.spec(*key), peaks)
            done.rows += result.rows_written
            if not brought:
                done.newest_peak[key] = max(peaks, key=lambda p: p.day)
            mark = Mark.BROUGHT_DAILY if brought else Mark.DAILY
            self.ledger.mark(Ledger.key(*key), (p.day for p in peaks), mark)
            if result.changed_days:
                done.changed[key] = sorted(result.changed_days)
        self.written += done.rows
        self._announce(done, reason)
        return done

    async def reprice(self, channel: Channel, first: date, last: date) -> None:
        """Price [first, last] again when only their split changed (the meter's registers
        were read): no energy is written, the costs are under an intent until committed."""
        if not self.costs.prices(channel):
            return
        intent = f"reprice:{channel.value}"
        start = day_start(first, self.tz)
        end = day_start(last + timedelta(days=1), self.tz)
        await self.journal.begin(intent, Intent(Kind.PRICE, channel.value, start, end))
        fault_point("registers.intent")
        await self.costs.reprice(channel, first, last)
        self.journal.queued(intent)

    async def async_repair(self) -> list[tuple[date, date]]:
        """What a hard stop left half done (the journal's intents from before this start):
        sums repaired, costs priced again (no call); returns the energy days (first, last) to
        read again from the provider. The wing then saves what it queued and forgets the
        intents (`Journal.async_forget_pending`)."""
        pending = self.journal.pending
        if not pending:
            return []
        damaged = await repair_statistics(self._hass, pending)
        refetch: list[tuple[date, date]] = []
        for intent in pending:
            if intent.kind is Kind.PRICE:
                await self.costs.reprice(
                    Channel(intent.target), *self._days(intent.start, intent.end)
                )
        for damage in damaged:
            days = self._days(damage.start, damage.end)
            if self.costs.owns(damage.statistic_id):
                await self.costs.reprice(None, *days)
            else:
                refetch.append(days)
        await self.commit()
        return refetch

    def _days(self, start: datetime, end: datetime) -> tuple[date, date]:
        """The local days of [start, end)."""
        last = (end - timedelta(microseconds=1)).astimezone(self.tz).date()
        return start.astimezone(self.tz).date(), last

    def _announce(self, done: Imported, reason: str) -> None:
        days = done.changed_days
        if not days:
            return
        self._hass.bus.async_fire(
            EVENT_DATA_IMPORTED,
            {
                "meter": self.meter,
                "provider": self.provider,
                "first_day": days[0].isoformat(),
                "last_day": days[-1].isoformat(),
                "channels": sorted({channel.value for _, channel in done.changed}),
                "reason": reason,
            },
        )
