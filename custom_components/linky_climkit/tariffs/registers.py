"""Pure: the meter's registers as a tariff's buckets ("periods from the meter"; no I/O).

The supplier's calendar advances one register per tariff period (HP/HC, or the six Tempo
registers). A day's register deltas are what the bill counts, so they become the day's bucket
totals; the hours inside the day keep the energy the load curve gives them (`fit_day`), and
the Tempo colour of a day is the one whose registers advanced.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .engine import HourCost, TariffKind, TariffPeriod, TempoColour

_TEMPO_CODE = re.compile(r"H([CP])J([BWR])")
_LETTERS = {"B": TempoColour.BLUE, "W": TempoColour.WHITE, "R": TempoColour.RED}
_WORDS = {
    "BLEU": TempoColour.BLUE,
    "BLUE": TempoColour.BLUE,
    "BLANC": TempoColour.WHITE,
    "WHITE": TempoColour.WHITE,
    "ROUGE": TempoColour.RED,
    "RED": TempoColour.RED,
}


@dataclass(frozen=True, slots=True)
class RegisterClass:
    """What a register counts: off-peak or peak energy, of one Tempo colour or none."""

    off_peak: bool
    colour: TempoColour | None = None


def _plain(text: str) -> str:
    """Upper case without accents or spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def classify(code: str, label: str) -> RegisterClass | None:
    """The period a register counts, from its code (HC, HPJB…) or its label ("Heures Creuses
    Jours Bleus"); None for a register of no HP/HC period (Base)."""
    compact = _plain(code).replace(" ", "")
    if match := _TEMPO_CODE.search(compact):
        return RegisterClass(match[1] == "C", _LETTERS[match[2]])
    words = _plain(label)
    off_peak = compact.startswith("HC") or "CREUSE" in words
    peak = compact.startswith("HP") or "PLEINE" in words
    if off_peak == peak:
        return None
    colours = {colour for word, colour in _WORDS.items() if re.search(rf"\b{word}S?\b", words)}
    return RegisterClass(off_peak, colours.pop() if len(colours) == 1 else None)


def bucket_of(kind: TariffKind, register: RegisterClass) -> str | None:
    """The tariff bucket a register's energy belongs to (None: it cannot say)."""
    hours = "hc" if register.off_peak else "hp"
    if kind is TariffKind.HP_HC:
        return hours
    if kind is TariffKind.TEMPO and register.colour is not None:
        return f"tempo_{register.colour}_{hours}"
    return None


def bucket_totals(
    kind: TariffKind, deltas: Mapping[str, float], labels: Mapping[str, str]
) -> dict[str, float] | None:
    """A day's energy per bucket from its register deltas (kWh); None when a register cannot
    be placed in the tariff's buckets (a Base calendar, or HP/HC registers for Tempo)."""
    totals: dict[str, float] = {}
    for code, value in deltas.items():
        register = classify(code, labels.get(code, code))
        bucket = None if register is None else bucket_of(kind, register)
        if bucket is None:
            return None
        totals[bucket] = totals.get(bucket, 0.0) + value
    return totals or None


def register_colours(
    days: Mapping[date, Mapping[str, float]], labels: Mapping[str, str]
) -> dict[date, TempoColour]:
    """The Tempo colour of each day whose registers tell it: the colour of the peak register
    that advanced (06:00-22:00 belongs to that day's Tempo day), else the one off-peak colour
    that advanced besides the day before's (00:00-06:00 belongs to the Tempo day before)."""
    colours: dict[date, TempoColour] = {}
    for day in sorted(days):
        advanced: dict[tuple[bool, TempoColour], float] = {}
        for code, value in days[day].items():
            register = classify(code, labels.get(code, code))
            if register is not None and register.colour is not None and value > 0:
                key = (register.off_peak, register.colour)
                advanced[key] = advanced.get(key, 0.0) + value
        peak = [(value, colour) for (off, colour), value in advanced.items() if not off]
        if peak:
            colours[day] = max(peak)[1]
            continue
        before = colours.get(day - timedelta(days=1))
        off_peak = {colour for (off, colour) in advanced if off} - {before}
        if len(off_peak) == 1 and before is not None:
            colours[day] = off_peak.pop()
    return colours


def bucket_price(period: TariffPeriod, bucket: str) -> float:
    """The price per kWh of a bucket in a period."""
    if bucket.startswith("tempo_"):
        return period.tempo_prices.get(bucket.removeprefix("tempo_"), 0.0)
    return float(getattr(period, f"{bucket}_price", 0.0))


def fit_day(
    hours: Mapping[datetime, HourCost], totals: Mapping[str, float], price: Callable[[str], float]
) -> dict[datetime, HourCost]:
    """The hours of a day with each bucket's day total equal to `totals` (the register
    deltas) and each hour's energy kept (scaled so the day adds up to the registers' total).

    Energy moves between buckets inside each hour: a bucket the hours over-count is scaled
    down to its total, and what each hour frees goes to the under-counted buckets in
    proportion to what they lack. Each bucket's cost is its energy × its price; fees are kept.
    """
    if not hours:
        return {}
    buckets = sorted(set(totals) | {b for hour in hours.values() for b in hour.energy})
    target = {b: max(totals.get(b, 0.0), 0.0) for b in buckets}
    wanted = sum(target.values())
    measured = sum(hour.total_energy for hour in hours.values())
    if measured > 0:
        scale = wanted / measured
        grid = {
            h: {b: hour.energy.get(b, 0.0) * scale for b in buckets} for h, hour in hours.items()
        }
    else:  # the registers advanced over hours stored as nothing: spread evenly
        grid = {h: {b: target[b] / len(hours) for b in buckets} for h in hours}
    held = {b: sum(cells[b] for cells in grid.values()) for b in buckets}
    lacking = {b: target[b] - held[b] for b in buckets if target[b] > held[b]}
    missing = sum(lacking.values())
    for cells in grid.values():
        freed = 0.0
        for b in buckets:
            if held[b] > target[b]:
                kept = cells[b] * target[b] / held[b]
                freed += cells[b] - kept
                cells[b] = kept
        for b, lack in lacking.items():
            cells[b] += freed * lack / missing
    return {
        h: HourCost(
            energy=dict(grid[h]),
            cost={b: grid[h][b] * price(b) for b in buckets},
            fee=hour.fee,
        )
        for h, hour in hours.items()
    }
