"""Turn Conso API v2 payloads into neutral Series (Europe/Paris days, kWh, kVA).

Each parser is given the dates it asked for, [start, end) in Paris days, and keeps only what
lies inside (a day, or an end-stamped interval, within them). Whatever the answer's order,
points come out sorted, one per instant or day: the first with a value wins, later ones are
duplicates (an interval overlapping the one before it is one too). Only the
quantity of the asked direction is read (`grandeurMetier` CONS for consumption and max power,
PROD for production). A stamp with an offset (`Z`, `+02:00`) is the instant it names; only a
naive one is Paris wall-clock time. Every point left out is counted in the Series.

Values beyond what a home meter measures are refused, not imported (a Linky is at most
36 kVA; the caps leave a wide margin): a load-curve point above 1,000 kW of mean power, a day
above 10 MWh (36 kVA all day is 864 kWh), a daily peak above 1,000 kVA, and any value that is
not finite.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from ..model import Channel, DayValue, Interval, Peak, Series
from .errors import InvalidResponseError

PARIS = ZoneInfo("Europe/Paris")
MAX_POWER_KW = 1_000.0  # a load-curve point's mean power
MAX_DAY_KWH = 10_000.0  # a day's energy
MAX_PEAK_KVA = 1_000.0  # a day's maximum power
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")
_ENERGY_FACTORS = {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0}
_POWER_FACTORS = {"W": 0.001, "kW": 1.0, "VA": 0.001, "kVA": 1.0}
_MISSING = (None, "", "null", "NULL", "None")
_DAY = timedelta(days=1)
_BY_END = itemgetter(0, 1)


@dataclass(slots=True)
class _Tally:
    """What a parse left out or changed, point by point."""

    missing: int = 0
    clamped: int = 0
    outside: int = 0
    duplicates: int = 0
    refused: int = 0
    foreign: int = 0

    def amount(self, point: dict[str, Any], factor: float, cap: float) -> float | None:
        """A point's value in the Series' unit: None when empty or refused (counted), 0 when
        negative (counted)."""
        value = _value(point)
        if value is None:
            self.missing += 1
            return None
        scaled = value * factor
        if not -cap <= scaled <= cap:  # NaN and infinities fail too
            self.refused += 1
            return None
        if scaled < 0:
            self.clamped += 1
            return 0.0
        return scaled

    def series(self, channel: Channel, unit: str, **parts: Any) -> Series:
        """The Series with these counts."""
        return Series(
            channel=channel,
            unit=unit,
            missing=self.missing,
            clamped=self.clamped,
            outside=self.outside,
            duplicates=self.duplicates,
            refused=self.refused,
            foreign=self.foreign,
            **parts,
        )


def direction(channel: Channel) -> str:
    """The `grandeurMetier` of a channel."""
    return "PROD" if channel is Channel.PRODUCTION else "CONS"


def _grandeurs(payload: object) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        raise InvalidResponseError("The payload is not an object")
    grandeurs = payload.get("grandeur")
    if not isinstance(grandeurs, list) or not all(isinstance(g, dict) for g in grandeurs):
        raise InvalidResponseError("The payload has no 'grandeur' list")
    return grandeurs


def _pick(
    payload: object, physique: str | tuple[str, ...], metier: str, tally: _Tally
) -> dict[str, Any] | None:
    """The first quantity of that physique and direction (one without a direction is taken
    as it); the points of the other direction are counted `foreign`."""
    wanted = (physique,) if isinstance(physique, str) else physique
    grandeurs = _grandeurs(payload)
    candidates = [g for g in grandeurs if g.get("grandeurPhysique") in wanted]
    if not candidates and len(grandeurs) == 1 and "grandeurPhysique" not in grandeurs[0]:
        candidates = grandeurs
    if grandeurs and not candidates:
        raise InvalidResponseError(f"The payload has no {'/'.join(wanted)} quantity")
    chosen: dict[str, Any] | None = None
    for grandeur in candidates:
        other = grandeur.get("grandeurMetier")
        if other is None or other == metier:
            chosen = chosen or grandeur
        elif isinstance(points := grandeur.get("points"), list):
            tally.foreign += len(points)
    return chosen


def _points(grandeur: dict[str, Any]) -> list[dict[str, Any]]:
    points = grandeur.get("points")
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise InvalidResponseError("A quantity has no 'points' list")
    return points


def _factor(grandeur: dict[str, Any], table: dict[str, float], default: str) -> float:
    unit = grandeur.get("unite", default)
    if not isinstance(unit, str) or unit not in table:
        raise InvalidResponseError(f"Unexpected unit {unit!r}")
    return table[unit]


def _value(point: dict[str, Any]) -> float | None:
    """A point's number as sent (not finite when it says so, or beyond any float); None when
    empty; InvalidResponseError when it is not a number at all."""
    raw = point.get("v")
    if raw in _MISSING:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InvalidResponseError("A point value is not a number")
    try:
        return float(raw)
    except OverflowError:  # an integer beyond any float
        return math.inf
    except ValueError as err:
        raise InvalidResponseError("A point value is not a number") from err


def _stamp(point: dict[str, Any]) -> str:
    raw = point.get("d")
    if not isinstance(raw, str):
        raise InvalidResponseError("A point has no date")
    return raw


def _parse_stamp(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw)
    except ValueError as err:
        raise InvalidResponseError("A point timestamp is not a timestamp") from err


def _in_paris(parsed: datetime) -> datetime | None:
    """An aware stamp as Paris time (None beyond datetime's range); a naive one as it is."""
    if parsed.tzinfo is None:
        return parsed
    try:
        return parsed.astimezone(PARIS)
    except OverflowError:
        return None


def _day_of(raw: str) -> date | None:
    """The Paris day of a daily point (`YYYY-MM-DD`, or a time with or without offset)."""
    if len(raw) == 10:
        try:
            return date.fromisoformat(raw)
        except ValueError as err:
            raise InvalidResponseError("A point date is not a date") from err
    local = _in_paris(_parse_stamp(raw))
    return None if local is None else local.date()


def _midnight(day: date) -> datetime:
    """Paris midnight of `day` in UTC (never ambiguous: the clocks change at 2 or 3 a.m.)."""
    return datetime.combine(day, time(), PARIS).astimezone(UTC)


def _step(point: dict[str, Any], default: timedelta) -> timedelta:
    raw = point.get("p")
    if raw is None:
        return default
    match = _DURATION.fullmatch(raw) if isinstance(raw, str) else None
    if match is None or not any(match.groups()):
        raise InvalidResponseError("A point has an unknown step")
    hours, minutes = int(match.group(1) or 0), int(match.group(2) or 0)
    if hours > 1 or minutes > 60:
        raise InvalidResponseError("A point has an unsupported step")
    step = timedelta(hours=hours, minutes=minutes)
    if not timedelta(0) < step <= timedelta(hours=1):
        raise InvalidResponseError("A point has an unsupported step")
    return step


def wall_end_to_utc(naive: datetime, previous: datetime | None, tz: ZoneInfo = PARIS) -> datetime:
    """Convert a wall-clock end stamp (no offset) to UTC, resolving DST by order.

    Around the autumn change the same wall-clock stamps come twice, and the end of the last
    summer-time interval may be written with the summer offset ("03:00"); on the spring day
    the end of the last winter-time interval may be written "02:00" or "03:00". Each reading
    a clock could show is a candidate; the earliest one after the previous point wins.
    """
    offsets = set()
    for probe in (naive - timedelta(hours=3), naive, naive + timedelta(hours=3)):
        for fold in (0, 1):
            offset = probe.replace(tzinfo=tz, fold=fold).utcoffset()
            if offset is not None:
                offsets.add(offset)
    candidates: list[datetime] = []
    for offset in offsets:
        instant = (naive - offset).replace(tzinfo=UTC)
        rendered = instant.astimezone(tz)
        before = (instant - timedelta(microseconds=1)).astimezone(tz).utcoffset()
        if rendered.replace(tzinfo=None) == naive or (
            before == offset and rendered.utcoffset() != offset
        ):
            candidates.append(instant)
    if not candidates:  # cannot happen for real zones; keep the ordinary reading
        candidates.append(naive.replace(tzinfo=tz).astimezone(UTC))
    candidates.sort()
    if previous is not None:
        later = [c for c in candidates if c > previous]
        if later:
            return later[0]
        return candidates[-1]
    return candidates[0]


def parse_daily(payload: object, channel: Channel, start: date, end: date) -> Series:
    """`consommation_quotidienne` / `production_quotidienne` → day totals in kWh, for the
    days [start, end) asked for."""
    tally = _Tally()
    grandeur = _pick(payload, "EA", direction(channel), tally)
    if grandeur is None:
        return tally.series(channel, "kWh")
    factor = _factor(grandeur, _ENERGY_FACTORS, "Wh")
    days: dict[date, float] = {}
    for point in _points(grandeur):
        day = _day_of(_stamp(point))
        if day is None or not start <= day < end:
            tally.outside += 1
        elif day in days:
            tally.duplicates += 1
        elif (value := tally.amount(point, factor, MAX_DAY_KWH)) is not None:
            days[day] = value
    return tally.series(channel, "kWh", daily=tuple(DayValue(d, days[d]) for d in sorted(days)))


def parse_load_curve(payload: object, channel: Channel, start: date, end: date) -> Series:
    """Load-curve payload (mean power per step, end-stamped) → energy intervals in kWh, for
    the intervals inside the days [start, end) asked for."""
    tally = _Tally()
    grandeur = _pick(payload, "PA", direction(channel), tally)
    if grandeur is None:
        return tally.series(channel, "kWh")
    factor = _factor(grandeur, _POWER_FACTORS, "W")
    low, high = _midnight(start), _midnight(end)
    first, last = start - _DAY, end + _DAY  # wall-clock days worth converting
    timed: list[tuple[datetime, int, timedelta, dict[str, Any]]] = []
    previous: datetime | None = None
    step = timedelta(minutes=30)
    for index, point in enumerate(_points(grandeur)):
        step = _step(point, step)
        parsed = _parse_stamp(_stamp(point))
        stamp: datetime | None
        if parsed.tzinfo is None:
            stamp = None
            if first <= parsed.date() <= last:
                stamp = wall_end_to_utc(parsed, previous)
                if previous is None or stamp > previous:
                    previous = stamp
        else:
            stamp = None if (local := _in_paris(parsed)) is None else local.astimezone(UTC)
        if stamp is None or stamp - step < low or stamp > high:
            tally.outside += 1
            continue
        timed.append((stamp, index, step, point))
    timed.sort(key=_BY_END)  # already in order but for a hostile answer: linear then
    intervals: list[Interval] = []
    for stamp, _index, step, point in timed:
        if intervals and stamp - step < intervals[-1].end:
            tally.duplicates += 1  # the same interval again, or one overlapping the previous
        elif (power := tally.amount(point, factor, MAX_POWER_KW)) is not None:
            hours = step.total_seconds() / 3600
            intervals.append(Interval(start=stamp - step, end=stamp, value=power * hours))
    return tally.series(channel, "kWh", intervals=tuple(intervals))


def _peak_time(raw: str) -> datetime | None:
    """When a peak happened, as aware Paris time (a day alone: its midnight)."""
    if len(raw) == 10:
        day = _day_of(raw)
        assert day is not None
        return datetime(day.year, day.month, day.day, tzinfo=PARIS)
    local = _in_paris(_parse_stamp(raw))
    if local is None or local.tzinfo is not None:
        return local
    return local.replace(tzinfo=PARIS)


def parse_max_power(payload: object, start: date, end: date) -> Series:
    """`puissance_conso_max_quotidienne` → one peak (kVA) per day of [start, end), at its
    local time."""
    tally = _Tally()
    grandeur = _pick(payload, ("PMA", "PMA1"), "CONS", tally)
    if grandeur is None:
        return tally.series(Channel.MAX_POWER, "kVA")
    factor = _factor(grandeur, _POWER_FACTORS, "VA")
    peaks: dict[date, Peak] = {}
    for point in _points(grandeur):
        at = _peak_time(_stamp(point))
        if at is None or not start <= at.date() < end:
            tally.outside += 1
        elif at.date() in peaks:
            tally.duplicates += 1
        elif (value := tally.amount(point, factor, MAX_PEAK_KVA)) is not None:
            peaks[at.date()] = Peak(day=at.date(), value=value, at=at)
    return tally.series(Channel.MAX_POWER, "kVA", peaks=tuple(peaks[d] for d in sorted(peaks)))
