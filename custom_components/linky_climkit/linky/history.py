"""History brought from elsewhere (an Enedis file, another integration's statistics): which
of its days are imported, and the job that imports them, resumable across restarts.

A day Conso API gave its billing-grade figure for always wins: a brought day is imported
only where the ledger has no figure from the service (days older than ours, and our gaps).
Where the service gave the day's total but not its hours, brought hours add the shape, scaled
to that total. Brought days are marked as such in the ledger: the service is still asked for
them, and its figure replaces them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from homeassistant.core import HomeAssistant

from ..faults import fault_point
from ..model import Channel, DayEnergy, Interval, Peak
from ..pipeline import Batch, Imported, Pipeline
from ..providers.conso_api_parse import PARIS
from ..providers.enedis_csv import HistoryFile
from ..statistics.aggregation import build_days, local_day
from ..statistics.ledger import Ledger, Mark
from ..storage import entry_store

_LOGGER = logging.getLogger(__name__)
CHUNK_DAYS = 31  # days imported between two saved cursors
ENERGY = (Channel.CONSUMPTION, Channel.PRODUCTION)


@dataclass(slots=True)
class Brought:
    """What a source brings, in the neutral model: energy days per channel, daily peaks."""

    label: str  # the file's name or the statistic's id: shown, never a secret
    days: dict[Channel, dict[date, DayEnergy]] = field(default_factory=dict)
    peaks: list[Peak] = field(default_factory=list)
    curves: dict[Channel, list[Interval]] = field(default_factory=dict)
    incomplete: int = 0  # days of a load curve left out: some of their points are missing


def from_file(found: HistoryFile, channel: Channel, label: str) -> Brought:
    """A parsed file's days: a load curve's days only when whole, daily figures as given."""
    days = build_days(found.daily, found.intervals, PARIS)
    curve_days = {local_day(i.start, PARIS) for i in found.intervals}
    incomplete = len(curve_days - {d for d, e in days.items() if e.hours is not None})
    brought = Brought(label, peaks=list(found.peaks), incomplete=incomplete)
    if days:
        brought.days[channel] = days
        brought.curves[channel] = list(found.intervals)
    return brought


@dataclass(slots=True)
class ChannelPlan:
    """What importing one channel's brought days would do."""

    new: list[date] = field(default_factory=list)  # imported as brought
    shaped: list[date] = field(default_factory=list)  # brought hours fitted to the service's total
    skipped: list[date] = field(default_factory=list)  # the service's figure wins
    again: int = 0  # days among new and shaped that were brought before
    kwh: float = 0.0  # energy of the new days

    @property
    def written(self) -> list[date]:
        """Every day the import writes (unchanged ones cost nothing)."""
        return sorted([*self.new, *self.shaped])


def plan_channel(
    ledger: Ledger, key: str, days: dict[date, DayEnergy], *, peaks: bool = False
) -> ChannelPlan:
    """Which brought days are imported as they are, which only give their hours' shape, and
    which the service's own figure overrides."""
    plan = ChannelPlan()
    for day in sorted(days):
        energy = days[day]
        has = ledger.days.get(key, {}).get(day, Mark(0))
        if has & Mark.DAILY:
            if not peaks and energy.hours is not None and not has & Mark.HOURLY:
                plan.shaped.append(day)
            else:
                plan.skipped.append(day)
                continue
        elif energy.total is None and (has & Mark.HOURLY or has & Mark.BROUGHT_DAILY):
            if has & Mark.HOURLY:
                plan.skipped.append(day)
                continue
            plan.shaped.append(day)
        else:
            plan.new.append(day)
            plan.kwh += energy.measured
        if has & (Mark.BROUGHT_DAILY | Mark.BROUGHT_HOURLY):
            plan.again += 1
    return plan


def peak_days(peaks: Iterable[Peak]) -> dict[date, DayEnergy]:
    """Peaks as days, to plan them like energy (a peak is a daily figure)."""
    return {p.day: DayEnergy(p.day, p.value) for p in peaks}


def plan(ledger: Ledger, prm: str, brought: Brought) -> dict[Channel, ChannelPlan]:
    """The plan of every channel the source brings."""
    plans = {
        channel: plan_channel(ledger, Ledger.key(prm, channel), days)
        for channel, days in brought.days.items()
    }
    if brought.peaks:
        key = Ledger.key(prm, Channel.MAX_POWER)
        plans[Channel.MAX_POWER] = plan_channel(ledger, key, peak_days(brought.peaks), peaks=True)
    return plans


def batches(
    prm: str, brought: Brought, plans: dict[Channel, ChannelPlan], days: set[date]
) -> tuple[Batch, Batch]:
    """The batch of `days` imported as brought, and the one of days whose hours take the
    total already stored."""
    as_given, shaped = Batch(), Batch()
    for channel, energy in brought.days.items():
        channel_plan = plans[channel]
        new = {d: energy[d] for d in channel_plan.new if d in days}
        fitted = {d: DayEnergy(d, None, energy[d].hours) for d in channel_plan.shaped if d in days}
        for batch, chosen in ((as_given, new), (shaped, fitted)):
            if chosen:
                batch.days[(prm, channel)] = chosen
                curve = brought.curves.get(channel, ())
                batch.curves[channel] = [i for i in curve if local_day(i.start, PARIS) in chosen]
    if (peaks := plans.get(Channel.MAX_POWER)) is not None:
        wanted = set(peaks.new) & days
        if chosen_peaks := [p for p in brought.peaks if p.day in wanted]:
            as_given.peaks[(prm, Channel.MAX_POWER)] = chosen_peaks
    return as_given, shaped


# ---- the job ---------------------------------------------------------------------------


def _dump_day(energy: DayEnergy) -> list[Any]:
    hours = None if energy.hours is None else [[h.timestamp(), v] for h, v in energy.hours]
    return [energy.day.isoformat(), energy.total, hours]


def _load_day(raw: list[Any]) -> DayEnergy:
    day, total, hours = raw
    return DayEnergy(
        date.fromisoformat(day),
        None if total is None else float(total),
        None
        if hours is None
        else tuple((datetime.fromtimestamp(ts, UTC), float(v)) for ts, v in hours),
    )


def dump(brought: Brought) -> dict[str, Any]:
    """JSON-ready form of what a job imports."""
    return {
        "label": brought.label,
        "days": {
            channel.value: [_dump_day(days[d]) for d in sorted(days)]
            for channel, days in brought.days.items()
        },
        "peaks": [[p.day.isoformat(), p.value, p.at.isoformat()] for p in brought.peaks],
        "curves": {
            channel.value: [[i.start.timestamp(), i.end.timestamp(), i.value] for i in curve]
            for channel, curve in brought.curves.items()
        },
    }


def load(data: dict[str, Any]) -> Brought:
    """Inverse of dump."""

    def stamp(value: float) -> datetime:
        return datetime.fromtimestamp(value, UTC)

    brought = Brought(str(data.get("label", "")))
    for channel, days in (data.get("days") or {}).items():
        brought.days[Channel(channel)] = {(energy := _load_day(raw)).day: energy for raw in days}
    brought.peaks = [
        Peak(date.fromisoformat(d), float(v), datetime.fromisoformat(at))
        for d, v, at in data.get("peaks") or []
    ]
    for channel, curve in (data.get("curves") or {}).items():
        brought.curves[Channel(channel)] = [
            Interval(stamp(start), stamp(end), float(v)) for start, end, v in curve
        ]
    return brought


class HistoryJob:
    """The import of one source, saved before it starts and after each committed chunk:
    a restart (or a hard stop) resumes it where the recorder's commits left it."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Nothing is read here."""
        self._hass = hass
        self._store = entry_store(hass, "history", entry_id)
        self.brought: Brought | None = None
        self.done: date | None = None  # every day up to it is imported
        self.reason = "history"
        self._dumped: dict[str, Any] | None = None  # the brought days, as saved

    @property
    def pending(self) -> bool:
        """Whether a source is being imported."""
        return self.brought is not None

    def diagnostics(self) -> dict[str, Any]:
        """The job under way, if any (its source's name may hold the PRM: diagnostics hide it)."""
        if self.brought is None:
            return {"pending": False}
        return {
            "pending": True,
            "source": self.brought.label,
            "reason": self.reason,
            "imported_up_to": None if self.done is None else self.done.isoformat(),
        }

    async def async_load(self) -> None:
        """Read a job left by the previous run of Home Assistant, if any."""
        data = await self._store.async_load()
        if data and data.get("brought"):  # years of half-hours: converted in a worker
            self.brought = await self._hass.async_add_executor_job(load, data["brought"])
            self._dumped = data["brought"]
            self.done = None if not data.get("done") else date.fromisoformat(data["done"])
            self.reason = str(data.get("reason") or "history")

    async def async_start(self, brought: Brought, reason: str) -> None:
        """Save a new job (it replaces one not finished: the user chose again)."""
        self.brought, self.done, self.reason = brought, None, reason
        self._dumped = await self._hass.async_add_executor_job(dump, brought)
        await self._save()

    def next_days(self) -> set[date]:
        """The next chunk's days, oldest first; empty once everything is imported."""
        assert self.brought is not None
        every = {d for days in self.brought.days.values() for d in days}
        every |= {p.day for p in self.brought.peaks}
        left = sorted(d for d in every if self.done is None or d > self.done)
        return set(left[:CHUNK_DAYS])

    async def async_advance(self, days: set[date]) -> None:
        """These days are committed: save the cursor, or forget the job once done."""
        self.done = max(days)
        if not self.next_days():
            self.brought, self._dumped = None, None
            await self._store.async_remove()
            return
        await self._save()
        fault_point("history.saved")

    async def async_run(
        self,
        pipeline: Pipeline,
        prm: str,
        save_progress: Callable[[], Awaitable[None]],
        note: Callable[[Imported, str], None],
    ) -> None:
        """Import what is left, a chunk of days at a time, planned against the ledger as it
        is then; each chunk's cursor is saved once the recorder has committed its rows."""
        while (brought := self.brought) is not None:
            days = self.next_days()
            as_given, shaped = batches(prm, brought, plan(pipeline.ledger, prm, brought), days)
            for batch, keep in ((as_given, False), (shaped, True)):
                done = await pipeline.run(batch, self.reason, keep_stored_totals=keep, brought=True)
                note(done, self.reason)
            await save_progress()
            await self.async_advance(days)
        _LOGGER.info("History imported for %s", prm)

    async def _save(self) -> None:
        """The job as started (its days never change) and how far it got."""
        if self._dumped is None:
            assert self.brought is not None
            self._dumped = await self._hass.async_add_executor_job(dump, self.brought)
        done = None if self.done is None else self.done.isoformat()
        await self._store.async_save({"brought": self._dumped, "done": done, "reason": self.reason})
