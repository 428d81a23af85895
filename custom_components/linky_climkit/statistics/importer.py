"""Writes days of energy and daily peaks as external statistics and keeps the statistics
invariants (DESIGN.md).

Provider-neutral and API-free: it receives days of energy or daily peaks and writes only the
rows of those days. Sums stay continuous: a changed day shifts every later sum with one
`async_adjust_statistics`, so an import costs what it writes, never the whole history.
A change that takes more than one recorder task (rows + shift, clear + insert, several
chunks) records its intent in the entry's journal first (journal.py, repair.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from homeassistant.components.recorder.models.statistics import StatisticData
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance

from ..faults import fault_point, fault_point_committed
from ..model import DayEnergy, Peak
from .aggregation import day_bounds, day_start, shape_to_total
from .commit import async_committed
from .ids import StatisticSpec
from .journal import Intent, Journal, Kind

EPSILON = 1e-6
STORED_TOTAL_DECIMALS = 3  # kWh to the Wh
ANCHOR_LOOKBACK = timedelta(days=7)
INLINE_DAYS = 62  # longer blocks are planned in a worker thread
REPLACE_SHARE = 0.98  # a rewrite of (nearly) every stored row replaces the statistic
WRITE_CHUNK = 4000  # rows per recorder call: its validation runs on the event loop
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

type StatType = Literal["change", "last_reset", "max", "mean", "min", "state", "sum"]


@dataclass(slots=True)
class ImportResult:
    """What an import changed."""

    changed_days: list[date] = field(default_factory=list)
    rows_written: int = 0
    adjustments: int = 0

    def merge(self, other: ImportResult) -> None:
        """Add another result to this one."""
        self.changed_days.extend(other.changed_days)
        self.rows_written += other.rows_written
        self.adjustments += other.adjustments


class _Row(NamedTuple):
    """A stored or planned row (a tuple: years of them stay out of the GC's tracking)."""

    start: datetime
    state: float
    total: float


class StoredRow(NamedTuple):
    """A row read back from the recorder (the columns that were asked for, else None)."""

    start: datetime
    state: float | None
    total: float | None
    max: float | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one block import changes."""

    changed: list[date]
    to_write: list[_Row]
    planned: list[_Row]  # every row of the block, changed or not
    delta: float  # how much every later sum shifts


def _contiguous(days: Iterable[date]) -> list[list[date]]:
    blocks: list[list[date]] = []
    for day in sorted(days):
        if blocks and (day - blocks[-1][-1]).days == 1:
            blocks[-1].append(day)
        else:
            blocks.append([day])
    return blocks


def _close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= EPSILON * max(1.0, abs(a), abs(b))


class Importer:
    """Imports days into external statistics for one time zone."""

    def __init__(self, hass: HomeAssistant, tz: ZoneInfo, journal: Journal | None = None) -> None:
        """Bind to Home Assistant's recorder, the meter's time zone and the entry's journal."""
        self._hass = hass
        self._tz = tz
        self.journal = journal
        self._settled = False
        self._queued: set[str] = set()
        self._prefetched: dict[str, tuple[datetime, datetime, asyncio.Future[list[StoredRow]]]] = {}

    def prefetch(self, spec: StatisticSpec, first: date, last: date) -> None:
        """Start reading the stored rows of [first, last] now, for the next import of exactly
        those days (call right after `read_hours`, which settled the recorder's queue)."""
        start, _ = day_bounds(first, self._tz)
        _, end = day_bounds(last, self._tz)
        task = self._hass.async_create_task(
            self._read(spec, start, end, {"state", "sum"}), eager_start=True
        )
        self._prefetched[spec.statistic_id] = (start, end, task)

    async def _stored(self, spec: StatisticSpec, start: datetime, end: datetime) -> list[StoredRow]:
        found = self._prefetched.pop(spec.statistic_id, None)
        if found is not None:
            if (found[0], found[1]) == (start, end) and spec.statistic_id not in self._queued:
                return await found[2]
            found[2].cancel()
        return await self._read(spec, start, end, {"state", "sum"})

    async def _settle(self, statistic_id: str) -> None:
        """Wait for the recorder's queue only when our next reads depend on it.

        Once at the start (earlier imports may still be queued), then only before re-reading a
        statistic this importer has written: other statistics are independent, so the recorder
        writes one while we compute the next.
        """
        if not self._settled or statistic_id in self._queued:
            await self._wait()

    async def _wait(self) -> None:
        mark = self.journal.mark() if self.journal is not None else 0
        await async_committed(self._hass)
        self._settled = True
        self._queued.clear()
        if self.journal is not None:
            self.journal.committed(mark)

    async def commit(self) -> None:
        """Return once the recorder has committed every row this importer queued, and forget
        the intents of those changes: a cursor saying they are imported may now be saved."""
        if self._queued:
            await self._wait()
        if self.journal is not None:
            await self.journal.async_flush()

    async def _read(
        self, spec: StatisticSpec, start: datetime, end: datetime | None, types: set[StatType]
    ) -> list[StoredRow]:
        return await get_instance(self._hass).async_add_executor_job(
            read_rows, self._hass, spec.statistic_id, start, end, types
        )

    async def read_hours(
        self, spec: StatisticSpec, start: datetime, end: datetime | None
    ) -> list[StoredRow]:
        """The stored rows of a statistic in [start, end) with their amount (`state`, 0 when
        missing), once everything queued (by any importer) is written."""
        self._settled = False
        await self._settle(spec.statistic_id)
        return await self._read(spec, start, end, {"state"})

    async def _anchor(self, spec: StatisticSpec, start: datetime) -> float | None:
        """The sum just before `start`; None when nothing is stored before it."""
        rows = await self._read(spec, start - ANCHOR_LOOKBACK, start, {"sum"})
        if not rows:
            rows = await self._read(spec, EPOCH, start, {"sum"})
        return (rows[-1].total or 0.0) if rows else None

    async def _stored_after(self, spec: StatisticSpec, end: datetime) -> bool:
        """Whether the statistic has a row at or after `end`."""
        last = await get_instance(self._hass).async_add_executor_job(
            get_last_statistics, self._hass, 1, spec.statistic_id, False, {"sum"}
        )
        rows = last.get(spec.statistic_id, [])
        return bool(rows) and rows[-1]["start"] >= end.timestamp()

    async def import_days(
        self,
        spec: StatisticSpec,
        days: Mapping[date, DayEnergy],
        *,
        keep_stored_totals: bool = False,
    ) -> ImportResult:
        """Write these days; each keeps the others' rows and later sums shift by its change.

        A day with a complete hourly shape gets hourly rows scaled to its billing total; a day
        with only a total keeps a stored hourly shape (rescaled) or becomes one midnight row.
        With `keep_stored_totals`, a day without a total keeps the total already stored.
        """
        result = ImportResult()
        for block in _contiguous(days):
            await self._settle(spec.statistic_id)
            result.merge(await self._import_block(spec, block, days, keep_stored_totals))
        return result

    async def _import_block(
        self,
        spec: StatisticSpec,
        block: Sequence[date],
        days: Mapping[date, DayEnergy],
        keep_stored_totals: bool,
    ) -> ImportResult:
        block_start, _ = day_bounds(block[0], self._tz)
        _, block_end = day_bounds(block[-1], self._tz)
        stored = await self._stored(spec, block_start, block_end)
        anchor = await self._anchor(spec, block_start)
        job = (block, days, stored, anchor or 0.0, keep_stored_totals)
        if len(block) > INLINE_DAYS:
            # Months of hours (a tariff change re-prices years): planned in a worker thread.
            plan = await self._hass.async_add_executor_job(self._plan, *job)
        else:
            plan = self._plan(*job)
        result = ImportResult(changed_days=plan.changed)
        if not plan.to_write:
            return result
        replace = bool(
            anchor is None
            and stored
            and len(plan.to_write) >= REPLACE_SHARE * len(plan.planned)
            and not await self._stored_after(spec, block_end)
        )
        shift = not replace and abs(plan.delta) > EPSILON
        to_write = plan.planned if replace else plan.to_write
        key = f"statistic:{spec.statistic_id}"
        # More than one recorder task: the intent is saved before the first.
        multi_step = replace or shift or len(to_write) > WRITE_CHUNK
        journal = self.journal if multi_step else None
        if journal is not None:
            kind = Kind.REPLACE if replace else Kind.WRITE
            rows = len(plan.planned) if replace else 0
            intent = Intent(kind, spec.statistic_id, block_start, block_end, spec.unit, rows)
            await journal.begin(key, intent)
            fault_point("import.intent")
        await self._write(spec, to_write, replace)
        result.rows_written = len(to_write)
        if shift:
            await fault_point_committed(self._hass, "import.written")
            get_instance(self._hass).async_adjust_statistics(
                spec.statistic_id, block_end, plan.delta, spec.unit
            )
            result.adjustments = 1
        if journal is not None:  # a step that raised leaves its intent open for the next start
            journal.queued(key)
        return result

    async def _write(self, spec: StatisticSpec, rows: Sequence[_Row], replace: bool) -> None:
        """Queue the rows (a replaced statistic is cleared first: when every stored row
        changes, the recorder inserts a new statistic faster than it updates one row after
        another, two queries per row)."""
        self._queued.add(spec.statistic_id)
        if replace:
            get_instance(self._hass).async_clear_statistics([spec.statistic_id])
            await fault_point_committed(self._hass, "import.cleared")
        metadata = spec.metadata()
        for first in range(0, len(rows), WRITE_CHUNK):
            if first:
                await asyncio.sleep(0)  # the recorder validates each call on the loop
            chunk = rows[first : first + WRITE_CHUNK]
            statistics = [StatisticData(start=r.start, state=r.state, sum=r.total) for r in chunk]
            async_add_external_statistics(self._hass, metadata, statistics)

    def _plan(
        self,
        block: Sequence[date],
        days: Mapping[date, DayEnergy],
        stored: Sequence[StoredRow],
        anchor: float,
        keep_stored_totals: bool,
    ) -> _Plan:
        """The rows of the block, which differ from the stored ones, how later sums shift."""
        existing = [_Row(r.start, r.state or 0.0, r.total) for r in stored if r.total is not None]
        by_day: dict[date, list[_Row]] = {}
        for row in existing:
            by_day.setdefault(row.start.astimezone(self._tz).date(), []).append(row)

        values: dict[datetime, float] = {row.start: 0.0 for row in existing}
        changed: list[date] = []
        for day in block:
            kept = by_day.get(day, [])
            new = dict(self._day_rows(days[day], kept, keep_stored_totals))
            if not self._same_day(new, kept):
                changed.append(day)
            values.update(new)

        running = anchor
        planned: list[_Row] = []
        for start in sorted(values):
            running += values[start]
            planned.append(_Row(start, round(values[start], 6), round(running, 6)))
        old = {row.start: row for row in existing}
        to_write = [
            row
            for row in planned
            if row.start not in old
            or not _close(old[row.start].state, row.state)
            or not _close(old[row.start].total, row.total)
        ]
        old_end = existing[-1].total if existing else anchor
        delta = (planned[-1].total if planned else anchor) - old_end
        return _Plan(changed, to_write, planned, delta)

    def _day_rows(
        self, energy: DayEnergy, stored: Sequence[_Row], keep_stored_totals: bool
    ) -> list[tuple[datetime, float]]:
        total = energy.total
        if total is None and keep_stored_totals and stored:
            # Rows carry 6 decimals each; a day's figure is whole Wh (the provider's, or a
            # file's): rounding the rows' sum back to it keeps a re-import identical.
            total = round(sum(r.state for r in stored), STORED_TOTAL_DECIMALS)
        midnight = day_start(energy.day, self._tz)
        if energy.hours is not None:
            scaled = shape_to_total(energy.hours, total)
            if scaled is not None:
                return scaled
        elif total is not None and (len(stored) > 1 or (stored and stored[0].start != midnight)):
            rescaled = shape_to_total(((r.start, r.state) for r in stored), total)
            if rescaled is not None:
                return rescaled
        return [(midnight, total if total is not None else energy.measured)]

    @staticmethod
    def _same_day(new: Mapping[datetime, float], stored: Sequence[_Row]) -> bool:
        if set(new) != {r.start for r in stored}:
            return False
        return all(_close(new[r.start], r.state) for r in stored)

    async def import_peaks(self, spec: StatisticSpec, peaks: Sequence[Peak]) -> ImportResult:
        """One row per day at local midnight whose max/mean/min is the day's peak."""
        result = ImportResult()
        if not peaks:
            return result
        await self._settle(spec.statistic_id)
        ordered = sorted(peaks, key=lambda p: p.day)
        start, _ = day_bounds(ordered[0].day, self._tz)
        _, end = day_bounds(ordered[-1].day, self._tz)
        stored = {r.start: r.max for r in await self._read(spec, start, end, {"max"})}
        statistics: list[StatisticData] = []
        for peak in ordered:
            midnight = day_start(peak.day, self._tz)
            value = round(peak.value, 6)
            if _close(stored.get(midnight), value):
                continue
            statistics.append(StatisticData(start=midnight, max=value, mean=value, min=value))
            result.changed_days.append(peak.day)
        if statistics:
            async_add_external_statistics(self._hass, spec.metadata(), statistics)
            self._queued.add(spec.statistic_id)
            result.rows_written = len(statistics)
        return result


def read_rows(
    hass: HomeAssistant,
    statistic_id: str,
    start: datetime,
    end: datetime | None,
    types: set[StatType],
) -> list[StoredRow]:
    """Hourly rows of one statistic as tuples, built in the recorder's worker thread (years of
    the recorder's row dicts would otherwise be converted on the loop and tracked by the GC)."""
    rows = statistics_during_period(hass, start, end, {statistic_id}, "hour", None, types)
    return [
        StoredRow(
            datetime.fromtimestamp(row["start"], UTC),
            row.get("state"),
            row.get("sum"),
            row.get("max"),
        )
        for row in rows.get(statistic_id, [])
    ]
