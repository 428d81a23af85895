"""The completeness ledger: for every day of a series, what the statistics hold and what the
provider said it does not have (pure, persisted by the coordinator).

Syncs plan from it instead of a fixed trailing window, so a day missed for any reason (Home
Assistant off, an outage, a hole in the provider's data) is fetched again whenever the budget
allows, and a day the provider has no data for is asked once, not every day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import IntFlag
from typing import Any

from ..model import Channel, DayEnergy

ONE_DAY = timedelta(days=1)


class Mark(IntFlag):
    """What is known of one day of one series."""

    DAILY = 1  # its total (the provider's daily figure where there is one) is imported
    HOURLY = 2  # every hour of it is imported
    PARTIAL = 4  # some of its hours are imported, not all
    NO_DAILY = 8  # asked for, the provider had no daily figure for it
    NO_HOURLY = 16  # asked for, the provider had no (complete) hourly data for it
    # Its daily figure was corrected after its hours were imported: the hours are the old
    # shape scaled to the new total until its load curve is read again (pending a re-read).
    RESHAPED = 32
    # Brought from elsewhere (a file, another integration's statistics): stored, but the
    # provider is still asked for the day, and its figure replaces these.
    BROUGHT_DAILY = 64  # its total
    BROUGHT_HOURLY = 128  # its hours


KNOWN = {Mark.DAILY: Mark.DAILY | Mark.NO_DAILY, Mark.HOURLY: Mark.HOURLY | Mark.NO_HOURLY}
ABSENT = {Mark.DAILY: Mark.NO_DAILY, Mark.HOURLY: Mark.NO_HOURLY}


def day_marks(day: DayEnergy, *, partial: bool = False) -> Mark:
    """The marks an imported day earns."""
    mark = Mark(0)
    if day.total is not None:
        mark |= Mark.DAILY
    if day.hours is not None:
        mark |= Mark.PARTIAL if partial else Mark.HOURLY
    return mark


def days_between(first: date, end: date) -> Iterator[date]:
    """Every day of [first, end)."""
    day = first
    while day < end:
        yield day
        day += ONE_DAY


@dataclass(slots=True)
class HistoryFloor:
    """What history-limit answers taught: no day before `floor` has data (before the meter's
    activation, or beyond the provider's depth). While `ceiling` is set, the days of
    [floor, ceiling) are unknown and probes narrow them: the newest day first (one call when
    the refused range held nothing), then by halves."""

    floor: date | None = None
    ceiling: date | None = None
    edge_probed: bool = False

    def refused(self, start: date, end: date) -> None:
        """The provider refused [start, end) as outside its history. Whether it judges the
        range's start or its whole span, the start day has no data."""
        self.floor = max(self.floor or start, start + ONE_DAY)
        if self.ceiling is None:
            self.ceiling, self.edge_probed = end, False
        else:
            self.ceiling = max(self.ceiling, end)
        self._settle()

    def answered(self, start: date) -> None:
        """A range from `start` was answered: no unknown day is left from there on, and the
        probes go on by halves."""
        if self.ceiling is not None and start < self.ceiling:
            self.ceiling, self.edge_probed = start, True
            self._settle()

    def probe(self, span: int) -> tuple[date, date] | None:
        """The next range to ask while the floor is unknown, at most `span` days long."""
        if self.floor is None or self.ceiling is None:
            return None
        if not self.edge_probed:
            return self.ceiling - ONE_DAY, self.ceiling
        start = self.floor + timedelta(days=(self.ceiling - self.floor).days // 2)
        return max(start, self.ceiling - timedelta(days=span)), self.ceiling

    def _settle(self) -> None:
        if self.ceiling is not None and self.floor is not None and self.floor >= self.ceiling:
            self.ceiling = None


@dataclass(slots=True)
class Summary:
    """Day counts of one series over its history depth."""

    complete: int = 0
    partial: int = 0
    missing: int = 0
    unavailable: int = 0

    def as_dict(self) -> dict[str, int]:
        """JSON-ready form."""
        return {
            "complete": self.complete,
            "partial": self.partial,
            "missing": self.missing,
            "unavailable": self.unavailable,
        }


@dataclass(slots=True)
class Ledger:
    """Marks per series and day, and the history floor of the meter."""

    days: dict[str, dict[date, Mark]] = field(default_factory=dict)
    history: HistoryFloor = field(default_factory=HistoryFloor)

    @staticmethod
    def key(owner: str, channel: Channel) -> str:
        """A series' key in the ledger."""
        return f"{owner}:{channel.value}"

    def mark(self, key: str, days: Iterable[date], mark: Mark) -> None:
        """Add `mark` to each day; a complete hourly day is no longer partial."""
        marks = self.days.setdefault(key, {})
        for day in days:
            current = marks.get(day, Mark(0)) | mark
            if current & Mark.HOURLY:
                current &= ~(Mark.PARTIAL | Mark.NO_HOURLY)
            if current & Mark.DAILY:
                current &= ~Mark.NO_DAILY
            marks[day] = current

    def imported(self, key: str, days: dict[date, DayEnergy], partial: set[date]) -> None:
        """Record the days an import brought; a day whose hours came whole is no longer
        pending a re-read."""
        marks = self.days.setdefault(key, {})
        for day, energy in days.items():
            self.mark(key, (day,), day_marks(energy, partial=day in partial))
            if energy.hours is not None and day not in partial:
                marks[day] &= ~Mark.RESHAPED

    def brought(self, key: str, days: dict[date, DayEnergy]) -> None:
        """Record days brought from elsewhere (what they hold, never as the provider's)."""
        for day, energy in days.items():
            mark = Mark.BROUGHT_DAILY if energy.total is not None else Mark(0)
            if energy.hours is not None:
                mark |= Mark.BROUGHT_HOURLY
            self.mark(key, (day,), mark)

    def reshaped(self, key: str, days: Iterable[date]) -> None:
        """These days' daily figures changed (a provider's correction) while their hours were
        imported: their load curve is to be read again."""
        self.mark(key, [d for d in days if self.has(key, d, Mark.HOURLY)], Mark.RESHAPED)

    def absent(self, key: str, first: date, end: date, need: Mark) -> None:
        """The provider was asked for [first, end) and did not bring `need` for some days."""
        marks = self.days.setdefault(key, {})
        for day in days_between(first, end):
            if not marks.get(day, Mark(0)) & KNOWN[need]:
                marks[day] = marks.get(day, Mark(0)) | ABSENT[need]

    def forget(self, first: date, end: date) -> None:
        """Every series' marks of [first, end): those days are to be read again."""
        for marks in self.days.values():
            for day in days_between(first, end):
                marks.pop(day, None)

    def has(self, key: str, day: date, mark: Mark) -> bool:
        """Whether the day carries `mark`."""
        return bool(self.days.get(key, {}).get(day, Mark(0)) & mark)

    def missing(self, key: str, first: date, end: date, need: Mark) -> list[date]:
        """The days of [first, end) neither imported with `need` nor known to lack it (hours
        pending a re-read after a correction are missing)."""
        # While the floor is being probed, the unknown days are left to the probes.
        first = max(first, self.history.ceiling or self.history.floor or first)
        marks = self.days.get(key, {})
        known = int(KNOWN[need])  # plain ints: a flag operation per day is slow over 3 years
        stale = int(Mark.RESHAPED) if need is Mark.HOURLY else 0
        return [
            d
            for d in days_between(first, end)
            if not (mark := int(marks.get(d, 0))) & known or mark & stale
        ]

    def summary(self, key: str, first: date, end: date, need: Mark) -> Summary:
        """Counts over [first, end) for a series whose complete days carry `need`."""
        counts = Summary()
        marks = self.days.get(key, {})
        floor = self.history.floor
        wanted, absent = int(need), int(ABSENT[need])
        partial, daily = int(Mark.PARTIAL), int(Mark.DAILY)
        stale = int(Mark.RESHAPED) if need is Mark.HOURLY else 0
        for day in days_between(first, end):
            mark = int(marks.get(day, 0))
            if floor is not None and day < floor:
                counts.unavailable += 1
            elif mark & stale:
                counts.partial += 1
            elif mark & wanted:
                counts.complete += 1
            elif mark & partial:
                counts.partial += 1
            elif mark & absent:
                counts.unavailable += 1
            elif mark & daily:
                counts.partial += 1
            else:
                counts.missing += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: per series, runs of equal marks as [first day, days, mark]."""
        return {
            "series": {key: _runs(marks) for key, marks in self.days.items()},
            "floor": _iso(self.history.floor),
            "ceiling": _iso(self.history.ceiling),
            "edge_probed": self.history.edge_probed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Ledger:
        """Inverse of as_dict."""
        ledger = cls()
        if not data:
            return ledger
        for key, runs in data.get("series", {}).items():
            marks = ledger.days.setdefault(key, {})
            for first, count, mark in runs:
                start, flag = date.fromisoformat(first), Mark(int(mark))  # once a run
                for n in range(int(count)):
                    marks[start + timedelta(days=n)] = flag
        ledger.history = HistoryFloor(
            _day(data.get("floor")), _day(data.get("ceiling")), bool(data.get("edge_probed"))
        )
        return ledger


def gaps(days: Iterable[date], span: int) -> list[tuple[date, date]]:
    """Missing days batched into the fewest ranges of at most `span` days, oldest first."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(days):
        if ranges and (day - ranges[-1][0]).days < span:
            ranges[-1] = (ranges[-1][0], day + ONE_DAY)
        else:
            ranges.append((day, day + ONE_DAY))
    return ranges


def _runs(marks: dict[date, Mark]) -> list[list[Any]]:
    runs: list[list[Any]] = []
    previous: date | None = None
    for day in sorted(marks):
        mark = int(marks[day])
        if runs and previous == day - ONE_DAY and runs[-1][2] == mark:
            runs[-1][1] += 1
        else:
            runs.append([day.isoformat(), 1, mark])
        previous = day
    return runs


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day(value: Any) -> date | None:
    return None if not value else date.fromisoformat(value)
