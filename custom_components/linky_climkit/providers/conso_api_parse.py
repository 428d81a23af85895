"""Turn Conso API v2 payloads into neutral Series (Europe/Paris days, kWh, kVA)."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..model import Channel, DayValue, Interval, Peak, Series
from .errors import InvalidResponseError

PARIS = ZoneInfo("Europe/Paris")
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")
_ENERGY_FACTORS = {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0}
_POWER_FACTORS = {"W": 0.001, "kW": 1.0, "VA": 0.001, "kVA": 1.0}
_MISSING = (None, "", "null", "NULL", "None")


def _grandeurs(payload: object) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        raise InvalidResponseError("The payload is not an object")
    grandeurs = payload.get("grandeur")
    if not isinstance(grandeurs, list) or not all(isinstance(g, dict) for g in grandeurs):
        raise InvalidResponseError("The payload has no 'grandeur' list")
    return grandeurs


def _pick(payload: object, physique: str | tuple[str, ...]) -> dict[str, Any] | None:
    wanted = (physique,) if isinstance(physique, str) else physique
    grandeurs = _grandeurs(payload)
    for grandeur in grandeurs:
        if grandeur.get("grandeurPhysique") in wanted:
            return grandeur
    if len(grandeurs) == 1 and "grandeurPhysique" not in grandeurs[0]:
        return grandeurs[0]
    if grandeurs:
        raise InvalidResponseError(f"The payload has no {'/'.join(wanted)} quantity")
    return None


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
    raw = point.get("v")
    if raw in _MISSING:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InvalidResponseError("A point value is not a number")
    try:
        value = float(raw)
    except (ValueError, OverflowError) as err:
        raise InvalidResponseError("A point value is not a number") from err
    if not math.isfinite(value):
        raise InvalidResponseError("A point value is not finite")
    return value


def _stamp(point: dict[str, Any]) -> str:
    raw = point.get("d")
    if not isinstance(raw, str):
        raise InvalidResponseError("A point has no date")
    return raw


def _parse_day(raw: str) -> date:
    try:
        day = date.fromisoformat(raw[:10])
    except ValueError as err:
        raise InvalidResponseError("A point date is not a date") from err
    if not 1990 <= day.year <= 2200:
        raise InvalidResponseError("A point date is out of range")
    return day


def _parse_naive(raw: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as err:
        raise InvalidResponseError("A point timestamp is not a timestamp") from err
    if not 1990 <= parsed.year <= 2200:
        raise InvalidResponseError("A point timestamp is out of range")
    return parsed.replace(tzinfo=None)


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


def parse_daily(payload: object, channel: Channel) -> Series:
    """`consommation_quotidienne` / `production_quotidienne` → day totals in kWh."""
    grandeur = _pick(payload, "EA")
    if grandeur is None:
        return Series(channel=channel, unit="kWh")
    factor = _factor(grandeur, _ENERGY_FACTORS, "Wh")
    days: dict[date, float] = {}
    missing = clamped = 0
    for point in _points(grandeur):
        day = _parse_day(_stamp(point))
        value = _value(point)
        if value is None:
            missing += 1
            continue
        if value < 0:
            clamped += 1
            value = 0.0
        days[day] = value * factor
    return Series(
        channel=channel,
        unit="kWh",
        daily=tuple(DayValue(d, v) for d, v in sorted(days.items())),
        missing=missing,
        clamped=clamped,
    )


def parse_load_curve(payload: object, channel: Channel) -> Series:
    """Load-curve payload (mean power per step, end-stamped) → energy intervals in kWh."""
    grandeur = _pick(payload, "PA")
    if grandeur is None:
        return Series(channel=channel, unit="kWh")
    factor = _factor(grandeur, _POWER_FACTORS, "W")
    intervals: list[Interval] = []
    previous: datetime | None = None
    missing = clamped = 0
    step = timedelta(minutes=30)
    for point in _points(grandeur):
        step = _step(point, step)
        end = wall_end_to_utc(_parse_naive(_stamp(point)), previous)
        if previous is not None and end <= previous:
            continue  # a repeated point: keep the first
        previous = end
        value = _value(point)
        if value is None:
            missing += 1
            continue
        if value < 0:
            clamped += 1
            value = 0.0
        hours = step.total_seconds() / 3600
        intervals.append(Interval(start=end - step, end=end, value=value * factor * hours))
    return Series(
        channel=channel,
        unit="kWh",
        intervals=tuple(intervals),
        missing=missing,
        clamped=clamped,
    )


def parse_max_power(payload: object) -> Series:
    """`puissance_conso_max_quotidienne` → one peak (kVA) per day, at its local time."""
    grandeur = _pick(payload, ("PMA", "PMA1"))
    if grandeur is None:
        return Series(channel=Channel.MAX_POWER, unit="kVA")
    factor = _factor(grandeur, _POWER_FACTORS, "VA")
    peaks: dict[date, Peak] = {}
    missing = 0
    for point in _points(grandeur):
        raw = _stamp(point)
        value = _value(point)
        if value is None:
            missing += 1
            continue
        day = _parse_day(raw)
        at = (
            _parse_naive(raw).replace(tzinfo=PARIS)
            if len(raw) > 10
            else datetime(day.year, day.month, day.day, tzinfo=PARIS)
        )
        peaks[day] = Peak(day=day, value=max(value, 0.0) * factor, at=at)
    return Series(
        channel=Channel.MAX_POWER,
        unit="kVA",
        peaks=tuple(peaks[d] for d in sorted(peaks)),
        missing=missing,
    )
