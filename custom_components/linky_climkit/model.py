"""The neutral model: what every provider adapter produces (Series of intervals, day totals
and peaks) and what the importer consumes (DayEnergy, Peak)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple


class Channel(StrEnum):
    """What a series measures; part of the statistic id, so never rename a value."""

    CONSUMPTION = "consumption"
    PRODUCTION = "production"
    GRID_IMPORT = "grid_import"
    GRID_EXPORT = "grid_export"
    SELF_CONSUMPTION = "self_consumption"
    MAX_POWER = "max_power"
    WATER = "water"
    HEAT = "heat"
    BATTERY_CHARGE = "battery_charge"
    BATTERY_DISCHARGE = "battery_discharge"


class Interval(NamedTuple):
    """An amount measured over [start, end); both aware datetimes.

    A named tuple rather than a dataclass: a year of 15-minute points is hundreds of thousands
    of these, and tuples of datetimes and floats drop out of the garbage collector's tracking,
    which keeps its pauses (that stall the event loop) short.
    """

    start: datetime
    end: datetime
    value: float


@dataclass(frozen=True, slots=True)
class DayValue:
    """A billing-grade amount for one local calendar day."""

    day: date
    value: float


@dataclass(frozen=True, slots=True)
class Peak:
    """The maximum of a day and when it happened (aware)."""

    day: date
    value: float
    at: datetime


@dataclass(frozen=True, slots=True)
class Register:
    """One register of the meter (a period of the supplier's calendar, or the total)."""

    code: str  # "HP", "HC", "HPJB"…; "TOT" for the total
    label: str  # the calendar's label ("Heures Pleines"), the code when it has none
    value: float  # cumulative, kWh


@dataclass(frozen=True, slots=True)
class MeterIndex:
    """The meter's registers read at the start of one local day (what its display shows)."""

    day: date
    total: float | None
    calendar: str | None  # the supplier calendar's id ("DI000002"), None when not given
    calendar_label: str | None
    registers: tuple[Register, ...] = ()


@dataclass(frozen=True, slots=True)
class Series:
    """One channel of one meter, in the meter's unit (kWh, m³ or kVA).

    `intervals` are sub-daily amounts, `daily` billing-grade day totals, `peaks` daily maxima,
    each sorted, one per instant or day. `missing` counts points the provider announced but
    left empty (null values), `clamped` the negative values it sent where only positive ones
    make sense (kept, as 0). Points left out: `outside` the requested dates, `duplicates` of
    an instant or day already read (the first is kept), `refused` values that are not finite
    or beyond what a meter can measure, `foreign` points of the other direction (production
    in a consumption answer, or the reverse).
    """

    channel: Channel
    unit: str
    intervals: tuple[Interval, ...] = ()
    daily: tuple[DayValue, ...] = ()
    peaks: tuple[Peak, ...] = ()
    indexes: tuple[MeterIndex, ...] = ()
    missing: int = 0
    clamped: int = 0
    outside: int = 0
    duplicates: int = 0
    refused: int = 0
    foreign: int = 0


@dataclass(frozen=True, slots=True)
class DayEnergy:
    """What is known of one local day: a billing total and/or a complete hourly shape."""

    day: date
    total: float | None = None
    hours: tuple[tuple[datetime, float], ...] | None = None

    @property
    def measured(self) -> float:
        """The day's amount: its billing total, else its integrated shape."""
        if self.total is not None:
            return self.total
        return sum(v for _, v in self.hours or ())
