"""The meter's registers as Enedis' index types would serve them ([I]: the swagger's
structure, conso-api.md §2.6), consistent with the simulator's load curve and daily figures:
each day, the registers of the supplier's calendar advance by the day's energy in their
periods (the 30-minute curve's share, each half-hour cut at the minute a period turns, as a
meter counts continuously; scaled to the daily figure, in whole Wh), so their deltas add up to
the daily figure exactly.

Calendars: `base` (one register), `hphc` (the meter's own off-peak hours, which may differ from
round hours), `tempo` (six registers; the Tempo day runs 06:00 to 06:00, off-peak 22:00 to
06:00, its colour from `tempo_colour`). A contract change switches the calendar from a day on
(its registers start at 0 that day); a new meter starts every register, the total too, at 0.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
ORIGIN = date(2023, 1, 1)  # registers count from here (or from the meter's activation)
CALENDARS = {
    "base": ("DI000001", "Base", (("BASE", "Base"),)),
    "hphc": (
        "DI000002",
        "Heures Pleines / Heures Creuses",
        (("HC", "Heures Creuses"), ("HP", "Heures Pleines")),
    ),
    "tempo": (
        "DI000003",
        "Tempo",
        (
            ("HCJB", "Heures Creuses Jours Bleus"),
            ("HPJB", "Heures Pleines Jours Bleus"),
            ("HCJW", "Heures Creuses Jours Blancs"),
            ("HPJW", "Heures Pleines Jours Blancs"),
            ("HCJR", "Heures Creuses Jours Rouges"),
            ("HPJR", "Heures Pleines Jours Rouges"),
        ),
    ),
}
COLOURS = {"blue": "B", "white": "W", "red": "R"}
# The distributor's own four-class calendar (seasons), served besides the supplier's when the
# `distributor_calendar` switch is on ([I]: whether and where it comes is unknown).
DISTRIBUTOR = (
    "DI000003",
    "Calendrier distributeur 4 postes",
    (
        ("HCB", "Heures Creuses Saison Basse"),
        ("HCH", "Heures Creuses Saison Haute"),
        ("HPB", "Heures Pleines Saison Basse"),
        ("HPH", "Heures Pleines Saison Haute"),
    ),
)
STEP = timedelta(minutes=1)


@lru_cache(maxsize=4096)
def tempo_colour(day: date) -> str:
    """The Tempo colour of the Tempo day starting at 06:00 on `day`: red on some winter
    weekdays, white on some others and on some winter Saturdays, blue otherwise."""
    draw = random.Random(f"tempo|{day.isoformat()}").random()
    winter = day.month in (11, 12, 1, 2, 3)
    if winter and day.weekday() < 5 and draw < 0.2:
        return "red"
    if (winter and day.weekday() < 6 and draw < 0.45) or draw < 0.1:
        return "white"
    return "blue"


@dataclass
class RegisterPlan:
    """A meter's calendar history and its off-peak hours."""

    calendar: str = "hphc"
    off_peak: tuple[tuple[time, time], ...] = ((time(22), time(6)),)
    changes: tuple[tuple[date, str], ...] = ()  # (from this day on, calendar)
    replaced_on: date | None = None  # a new meter from this day on
    distributor_calendar: bool = False  # [I] the distributor's calendar served first too
    _cumulative: dict[tuple[date, str], dict[str, int]] = field(default_factory=dict)

    def calendar_on(self, day: date) -> str:
        current = self.calendar
        for start, calendar in sorted(self.changes):
            if day >= start:
                current = calendar
        return current

    def off_peak_at(self, local: datetime) -> bool:
        clock = local.time()
        for start, end in self.off_peak:
            if (start <= clock < end) if start < end else (clock >= start or clock < end):
                return True
        return False

    def register_of(self, calendar: str, start: datetime) -> str:
        """The register a 30-minute interval starting at `start` (aware) advances."""
        local = start.astimezone(PARIS)
        if calendar == "base":
            return "BASE"
        if calendar == "hphc":
            return "HC" if self.off_peak_at(local) else "HP"
        tempo_day = local.date() if local.hour >= 6 else local.date() - timedelta(days=1)
        off = local.hour >= 22 or local.hour < 6
        return ("HC" if off else "HP") + "J" + COLOURS[tempo_colour(tempo_day)]


def split_day(
    plan: RegisterPlan,
    day: date,
    curve: Sequence[tuple[datetime, int]],
    daily_wh: int,
) -> dict[str, int]:
    """The day's whole Wh per register: the curve's share (each half-hour's energy spread
    evenly over its minutes), scaled to the daily figure, the rounding remainder given to the
    largest shares (so they add up exactly)."""
    calendar = plan.calendar_on(day)
    codes = [code for code, _ in CALENDARS[calendar][2]]
    shares = dict.fromkeys(codes, 0.0)
    for start, watts in curve:
        first, last = (
            plan.register_of(calendar, start),
            plan.register_of(calendar, start + 29 * STEP),
        )
        if first == last:  # (no period shorter than half an hour)
            minutes = Counter({first: 30})
        else:
            minutes = Counter(plan.register_of(calendar, start + n * STEP) for n in range(30))
        for code, count in minutes.items():
            shares[code] += watts / 2 * count / 30
    measured = sum(shares.values())
    exact = {
        c: (v / measured * daily_wh if measured else daily_wh / len(codes))
        for c, v in shares.items()
    }
    whole = {c: int(v) for c, v in exact.items()}
    left = daily_wh - sum(whole.values())
    for code in sorted(codes, key=lambda c: exact[c] - whole[c], reverse=True)[:left]:
        whole[code] += 1
    return whole


@dataclass
class IndexBook:
    """Cumulative readings of one meter, computed day by day from its origin (cached)."""

    plan: RegisterPlan
    origin: date
    day_split: Callable[[date], dict[str, int]]  # a day's Wh per register
    daily_wh: Callable[[date], int]
    _readings: dict[date, tuple[int, dict[str, int]]] = field(default_factory=dict)

    def reading(self, day: date) -> tuple[int, dict[str, int]]:
        """(total, per register of that day's calendar) at the start of `day`, Wh."""
        if day in self._readings:
            return self._readings[day]
        replaced = self.plan.replaced_on
        start = replaced if replaced is not None and day >= replaced else self.origin
        if day <= start:
            codes = [code for code, _ in CALENDARS[self.plan.calendar_on(day)][2]]
            base = _base(day, codes) if start == self.origin else dict.fromkeys(codes, 0)
            self._readings[day] = (sum(base.values()) if start == self.origin else 0, base)
            return self._readings[day]
        cursor = max((d for d in self._readings if start <= d < day), default=start)
        total, registers = self.reading(cursor)
        while cursor < day:
            following = cursor + timedelta(days=1)
            calendar = self.plan.calendar_on(following)
            if calendar != self.plan.calendar_on(cursor):  # a new contract: its registers at 0
                registers = dict.fromkeys((code for code, _ in CALENDARS[calendar][2]), 0)
            else:
                spent = self.day_split(cursor)
                registers = {code: value + spent[code] for code, value in registers.items()}
            total += self.daily_wh(cursor)
            self._readings[following] = (total, registers)
            cursor = following
        return self._readings[day]


def _base(day: date, codes: Sequence[str]) -> dict[str, int]:
    """The registers at the origin: some years of use already."""
    draw = random.Random(f"base|{day.isoformat()}")
    return {code: draw.randrange(1_000_000, 20_000_000) for code in codes}


def index_body(
    prm: str,
    book: IndexBook,
    days: Sequence[date],
    periode: dict[str, str],
    production: bool,
) -> dict[str, Any]:
    """The answer of `index_consommation` / `index_production` for these days."""
    by_calendar: dict[str, list[date]] = {}
    for day in days:
        by_calendar.setdefault(book.plan.calendar_on(day), []).append(day)
    calendars = []
    for calendar, served in by_calendar.items():
        calendar_id, label, codes = CALENDARS[calendar]
        classes = [
            {
                "idClasseTemporelle": code,
                "libelleClasseTemporelle": code_label,
                "codeCadran": code,
                "valeur": [
                    {"d": _stamp(day), "v": book.reading(day)[1][code], "iv": 0} for day in served
                ],
            }
            for code, code_label in codes
        ]
        calendars.append(
            {"idCalendrier": calendar_id, "libelleCalendrier": label, "classeTemporelle": classes}
        )
    if book.plan.distributor_calendar:
        calendars.insert(0, _distributor(book, days))
    total = [{"d": _stamp(day), "v": book.reading(day)[0], "iv": 0} for day in days]
    return {
        "idPrm": prm,
        "periode": periode,
        "grandeur": [],
        "contexte": [
            {
                "etapeMetier": "BRUT",
                "contexteReleve": "COL",
                "typeReleve": "AQ",
                "grandeur": [
                    {
                        "grandeurMetier": "PROD" if production else "CONS",
                        "grandeurPhysique": "EA",
                        "unite": "Wh",
                        "points": [],
                        "calendrier": calendars,
                        "cadranTotalisateur": {"codeCadran": "TOT", "valeur": total},
                    }
                ],
            }
        ],
    }


def _distributor(book: IndexBook, days: Sequence[date]) -> dict[str, Any]:
    """The distributor's seasonal calendar: its four registers share the total (a fixed split,
    enough to tell a client that picks it instead of the supplier's)."""
    calendar_id, label, codes = DISTRIBUTOR
    shares = (0.1, 0.2, 0.3, 0.4)
    return {
        "idCalendrier": calendar_id,
        "libelleCalendrier": label,
        "classeTemporelle": [
            {
                "idClasseTemporelle": code,
                "libelleClasseTemporelle": code_label,
                "codeCadran": code,
                "valeur": [
                    {"d": _stamp(day), "v": int(book.reading(day)[0] * share), "iv": 0}
                    for day in days
                ],
            }
            for (code, code_label), share in zip(codes, shares, strict=True)
        ],
    }


def _stamp(day: date) -> str:
    return datetime.combine(day, time(), PARIS).isoformat()
