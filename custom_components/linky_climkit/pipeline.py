"""The one tail every provider shares: days per (meter, channel) → importer → costs → latest
values → event.

A wing's coordinator fetches, its adapter turns answers into the neutral model (`build_days`
gives `DayEnergy` per local day), and `Pipeline.run` does the rest the same way for Linky and
Climkit: write the changed days, price them, archive the load curve for re-pricing, report
the newest day of every series and fire `linky_climkit_data_imported`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant

from .const import EVENT_DATA_IMPORTED
from .model import Channel, DayEnergy, Interval, Peak
from .statistics.ids import StatisticSpec
from .statistics.importer import Importer
from .statistics.ledger import Ledger, Mark
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
    ) -> None:
        """Nothing is read or written here."""
        self._hass = hass
        self.provider = provider
        self.meter = meter
        self.spec = spec
        self.costs = costs
        self.ledger = ledger
        self.set_time_zone(tz)

    def set_time_zone(self, tz: ZoneInfo) -> None:
        """The meter's zone (a Climkit site's once known); one importer for the energy and
        the costs, as the costs read what the energy import queued."""
        self.tz = tz
        self.importer = Importer(self._hass, tz)
        self.costs.set_time_zone(tz, self.importer)

    async def run(self, batch: Batch, reason: str, *, keep_stored_totals: bool = False) -> Imported:
        """Import a batch: only changed days are written (a partial read never replaces a
        day stored whole), then priced (the entry's own meter only), recorded in the ledger,
        and the event names what changed."""
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
            result = await self.importer.import_days(
                self.spec(meter, channel), days, keep_stored_totals=keep_stored_totals
            )
            done.rows += result.rows_written
            self.ledger.imported(ledger_key, days, partial)
            complete = [day for day in days if day not in partial]
            if complete:
                done.newest[key] = days[max(complete)]
            if meter == self.meter:
                self.costs.remember(channel, batch.curves.get(channel, ()))
                await self.costs.imported(channel, result.changed_days)
            if result.changed_days:
                done.changed[key] = sorted(result.changed_days)
        for key, peaks in sorted(batch.peaks.items()):
            if not peaks:
                continue
            result = await self.importer.import_peaks(self.spec(*key), peaks)
            done.rows += result.rows_written
            done.newest_peak[key] = max(peaks, key=lambda p: p.day)
            self.ledger.mark(Ledger.key(*key), (p.day for p in peaks), Mark.DAILY)
            if result.changed_days:
                done.changed[key] = sorted(result.changed_days)
        self._announce(done, reason)
        return done

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
