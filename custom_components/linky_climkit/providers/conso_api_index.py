"""Conso API's index types (`index_consommation`, `index_production`) → the meter's register
readings, one per local day (Europe/Paris), in kWh.

No recorded answer exists yet: the structure is the swagger's (`ReponseMesureAccesIndex`,
conso-api.md §2.6), read tolerantly. Every field name is in `FIELDS`, so a name that turns out
different is changed in one place. A reading is stamped at the start of its day (with an
offset, naive Paris time, or a date alone); values may come as numbers or strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..model import Channel, MeterIndex, Register, Series
from .conso_api_parse import PARIS

MAX_INDEX_KWH = 100_000_000.0  # 100 GWh: beyond any home meter's register


@dataclass(frozen=True, slots=True)
class Fields:
    """The answer's field names (swagger), in one place."""

    contexts: str = "contexte"
    quantities: str = "grandeur"
    direction: str = "grandeurMetier"
    physical: str = "grandeurPhysique"
    unit: str = "unite"
    calendars: str = "calendrier"
    calendar_id: str = "idCalendrier"
    calendar_label: str = "libelleCalendrier"
    classes: str = "classeTemporelle"
    class_id: str = "idClasseTemporelle"
    class_label: str = "libelleClasseTemporelle"
    dial: str = "codeCadran"
    values: str = "valeur"
    total: str = "cadranTotalisateur"
    stamp: str = "d"
    value: str = "v"


FIELDS = Fields()
_FACTORS = {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0}
TOTAL = "TOT"
# The distributor's seasonal classes (high / low season, peak, off-peak, peak hours).
DISTRIBUTOR_CODES = frozenset({"HPH", "HCH", "HPB", "HCB", "HPE", "HCE", "P", "PM"})


@dataclass(slots=True)
class _Day:
    total: float | None = None
    # per calendar id: its label and registers (the first reading of a register wins)
    calendars: dict[str | None, tuple[str | None, dict[str, Register]]] = field(
        default_factory=dict
    )

    def chosen(self) -> tuple[str | None, str | None, dict[str, Register]]:
        """The supplier's calendar (what the bill counts): the first one that is not the
        distributor's seasonal calendar, else the first."""
        usable = [c for c in self.calendars.items() if not _distributor(c[1][0], c[1][1])]
        calendar_id, (label, registers) = (usable or list(self.calendars.items()))[0]
        return calendar_id, label, registers


def _distributor(label: str | None, registers: dict[str, Register]) -> bool:
    """Whether a calendar is the distributor's (by its label, or seasonal registers)."""
    if label is not None and "distribut" in label.lower():
        return True
    return bool(registers) and set(registers) <= DISTRIBUTOR_CODES


def _list(node: object, key: str) -> list[dict[str, Any]]:
    value = node.get(key) if isinstance(node, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(node: dict[str, Any], key: str) -> str | None:
    value = node.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _day(raw: object) -> date | None:
    """The local day a reading opens: a date, or an instant (naive: Paris time)."""
    if not isinstance(raw, str):
        return None
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        stamp = datetime.fromisoformat(raw.replace(" ", "T", 1))
    except ValueError:
        return None
    return (stamp.astimezone(PARIS) if stamp.tzinfo else stamp).date()


def _value(raw: object, factor: float) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        value = float(raw) * factor
    except ValueError:
        return None
    return value if 0 <= value <= MAX_INDEX_KWH else None  # (NaN fails too)


def _readings(node: dict[str, Any], factor: float) -> Iterator[tuple[date, float]]:
    for point in _list(node, FIELDS.values):
        day, value = _day(point.get(FIELDS.stamp)), _value(point.get(FIELDS.value), factor)
        if day is not None and value is not None:
            yield day, value


def _quantities(payload: object, channel: Channel) -> Iterator[dict[str, Any]]:
    """The energy quantities of the asked direction, in every context (and at the top)."""
    wanted = "PROD" if channel is Channel.PRODUCTION else "CONS"
    nodes = [payload, *_list(payload, FIELDS.contexts)]
    for node in nodes:
        for quantity in _list(node, FIELDS.quantities):
            direction = _text(quantity, FIELDS.direction)
            physical = _text(quantity, FIELDS.physical)
            if direction in (None, wanted) and physical in (None, "EA"):
                yield quantity


def parse_index(payload: object, channel: Channel, start: date, end: date) -> Series:
    """The register readings of the days [start, end): per day its total and the registers
    of its supplier's calendar (the first reading of a day and register wins)."""
    days: dict[date, _Day] = {}
    outside = 0
    for quantity in _quantities(payload, channel):
        factor = _FACTORS.get(_text(quantity, FIELDS.unit) or "Wh")
        if factor is None:
            continue
        total_node = quantity.get(FIELDS.total)
        if isinstance(total_node, dict):
            for day, value in _readings(total_node, factor):
                if start <= day < end:
                    entry = days.setdefault(day, _Day())
                    entry.total = value if entry.total is None else entry.total
                else:
                    outside += 1
        for calendar in _list(quantity, FIELDS.calendars):
            calendar_id = _text(calendar, FIELDS.calendar_id)
            calendar_label = _text(calendar, FIELDS.calendar_label)
            for period in _list(calendar, FIELDS.classes):
                code = _text(period, FIELDS.dial) or _text(period, FIELDS.class_id)
                if code is None:
                    continue
                label = _text(period, FIELDS.class_label) or code
                for day, value in _readings(period, factor):
                    if not start <= day < end:
                        outside += 1
                        continue
                    entry = days.setdefault(day, _Day())
                    seen = entry.calendars.setdefault(calendar_id, (calendar_label, {}))
                    seen[1].setdefault(code, Register(code, label, value))
    indexes = tuple(_index(day, entry) for day, entry in sorted(days.items()))
    return Series(channel, "kWh", indexes=indexes, outside=outside)


def _index(day: date, entry: _Day) -> MeterIndex:
    if not entry.calendars:
        return MeterIndex(day, entry.total, None, None, ())
    calendar_id, label, registers = entry.chosen()
    return MeterIndex(
        day, entry.total, calendar_id, label, tuple(registers[c] for c in sorted(registers))
    )


def register_deltas(indexes: tuple[MeterIndex, ...]) -> dict[date, dict[str, float]]:
    """Each day's energy per register: the next day's reading minus its own, for days whose
    next reading is known, of the same calendar, and not lower (a new meter, or a calendar
    changed by a new contract, starts its registers again: that day is left out)."""
    by_day = {index.day: index for index in indexes}
    deltas: dict[date, dict[str, float]] = {}
    for index in indexes:
        following = by_day.get(date.fromordinal(index.day.toordinal() + 1))
        if following is None or following.calendar != index.calendar:
            continue
        before = {r.code: r.value for r in index.registers}
        after = {r.code: r.value for r in following.registers}
        if set(before) != set(after) or not before:
            continue
        day = {code: after[code] - before[code] for code in sorted(before)}
        if all(value >= 0 for value in day.values()):
            deltas[index.day] = day
    return deltas
