"""Pure: whether the off-peak hours typed in agree with the meter's registers, and which hours
the registers imply (no I/O).

Each day with an archived load curve and register deltas tells how much energy the meter
counted off-peak. The typed ranges predict it from the curve (each half-hour's energy spread
over its minutes, scaled to the registers' day total). When they miss by much more than the
best ranges found near them (each boundary moved up to two hours, to the minute), the typed
hours are wrong; when those best ranges explain the registers to a few Wh, they are the
meter's hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, time
from itertools import accumulate
from math import sqrt

from .archive import PackedDay
from .engine import OffPeakRange

DAY_MINUTES = 1440
SEARCH_MINUTES = 120  # how far each boundary is moved looking for the meter's hours
ROUNDS = 3
MIN_DAYS = 5
NOISE_KWH = 0.005  # what rounding to the Wh and the curve's half-hours leave
MISS_KWH = 0.1  # a day's off-peak energy missed by this much: the typed hours are wrong


@dataclass(frozen=True, slots=True)
class MeteredDay:
    """A day's energy from local midnight to each minute (scaled to the registers' total),
    and what its off-peak registers counted (kWh)."""

    day: date
    cumulative: tuple[float, ...]  # DAY_MINUTES + 1 values
    off_peak: float


@dataclass(frozen=True, slots=True)
class HoursCheck:
    """How far the typed hours miss (root mean square, kWh a day), the best ranges found and
    how far they miss; `meter` is set when they explain the registers."""

    entered_error: float
    fitted: tuple[OffPeakRange, ...]
    fitted_error: float
    days: int

    @property
    def disagree(self) -> bool:
        """Whether the typed hours miss by much more than the best ranges found, or by much
        more than the curve's half-hours can explain."""
        return (
            self.entered_error > 3 * self.fitted_error + NOISE_KWH or self.entered_error > MISS_KWH
        )

    @property
    def meter(self) -> tuple[OffPeakRange, ...] | None:
        """The meter's hours, when the best ranges explain the registers."""
        return self.fitted if self.disagree and self.fitted_error <= NOISE_KWH else None


def metered_day(day: date, packed: PackedDay, total: float, off_peak: float) -> MeteredDay | None:
    """A day of 24 hours in equal steps (DST days are left out: their wall clock repeats or
    skips an hour); None otherwise."""
    _, step, *values = packed
    if step <= 0 or len(values) * step != DAY_MINUTES * 60 or (step / 60) % 1:
        return None
    per_point = int(step // 60)
    measured = sum(values)
    if measured <= 0:
        return None
    minutes = [v * total / measured / per_point for v in values for _ in range(per_point)]
    return MeteredDay(day, (0.0, *accumulate(minutes)), off_peak)


def _minute(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def predicted(day: MeteredDay, ranges: Sequence[OffPeakRange]) -> float:
    """The off-peak energy the ranges give the day (a range across midnight counts from the
    day it starts on)."""
    energy = day.cumulative
    weekday, before = day.day.weekday(), (day.day.weekday() - 1) % 7
    total = 0.0
    for r in ranges:
        start, end = _minute(r.start), _minute(r.end)
        if start < end:
            if weekday in r.weekdays:
                total += energy[end] - energy[start]
            continue
        if weekday in r.weekdays:
            total += energy[DAY_MINUTES] - energy[start]
        if before in r.weekdays:
            total += energy[end]
    return total


def error(days: Sequence[MeteredDay], ranges: Sequence[OffPeakRange]) -> float:
    """Root mean square of (predicted − counted) over the days, kWh."""
    return sqrt(sum((predicted(d, ranges) - d.off_peak) ** 2 for d in days) / len(days))


def _moved(clock: time, minutes: int) -> time:
    moved = (_minute(clock) + minutes) % DAY_MINUTES
    return time(moved // 60, moved % 60)


def fit(
    days: Sequence[MeteredDay], ranges: Sequence[OffPeakRange]
) -> tuple[tuple[OffPeakRange, ...], float]:
    """The ranges near the typed ones that best explain the registers, and their error: every
    range moved by the same minutes first (a meter's hours are often the typed ones shifted,
    22:08-06:08 for 22:00-06:00), then each boundary in turn set to its best minute within
    ±SEARCH_MINUTES of the typed one, a few rounds."""
    best = tuple(ranges)
    best_error = error(days, best)
    for shift in range(-SEARCH_MINUTES, SEARCH_MINUTES + 1):
        trial = tuple(
            replace(r, start=_moved(r.start, shift), end=_moved(r.end, shift)) for r in ranges
        )
        if (found := error(days, trial)) < best_error - 1e-12:
            best, best_error = trial, found
    for _ in range(ROUNDS):
        improved = False
        for index in range(len(best)):
            for side in ("start", "end"):
                origin = getattr(ranges[index], side)
                for shift in range(-SEARCH_MINUTES, SEARCH_MINUTES + 1):
                    moved = _moved(origin, shift)
                    current = best[index]
                    candidate = (
                        replace(current, start=moved)
                        if side == "start"
                        else replace(current, end=moved)
                    )
                    if candidate.start == candidate.end:
                        continue
                    trial = (*best[:index], candidate, *best[index + 1 :])
                    if (found := error(days, trial)) < best_error - 1e-12:
                        best, best_error, improved = trial, found, True
        if not improved:
            break
    return best, best_error


def check(days: Sequence[MeteredDay], ranges: Sequence[OffPeakRange]) -> HoursCheck | None:
    """The check of the typed ranges; None with too few days or no range."""
    if len(days) < MIN_DAYS or not ranges:
        return None
    fitted, fitted_error = fit(days, ranges)
    return HoursCheck(error(days, ranges), fitted, fitted_error, len(days))


def describe(ranges: Sequence[OffPeakRange]) -> str:
    """Ranges as a user reads them: "22:08–06:08", several joined with ", "."""
    return ", ".join(f"{r.start:%H:%M}–{r.end:%H:%M}" for r in ranges)
