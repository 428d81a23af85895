"""Enedis history files → neutral Series (Europe/Paris days, kWh, kVA). No Home Assistant.

Three layouts are recognised by their header (README, "Import history"):

- `ENEDIS_MEASURES`: the customer area's "mesures" export (and the SGE history file of the
  same layout). Blocks of a metadata header (`Identifiant PRM;Type de donnees;…;Unite;
  [Pas en minutes]`), its values, then `Horodate;Valeur` rows (the load curve: mean power,
  end-stamped, with offset; daily energy; daily max power at its instant) or
  `Horodate;Type de releve;EAS F1;…;EAS T` rows (daily indexes: a day's energy is the next
  day's index minus its own).
- `ENEDIS_R63`: the SGE "R63" file, one row per measure (`Identifiant PRM;…;Horodate;Valeur;
  …;Pas;…`), naive Paris stamps, end-stamped.
- `CONSO_DOWNLOADER`: the Conso Downloader extension's `debut;fin;kW` (naive Paris interval
  starts, kW with a decimal comma), named `historique_<conso|prod>_<PRM>_<date>.csv`: only the
  name says whose it is and which direction.

Anything else is refused with a `FileProblem` whose key is a translation key.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from ..model import Channel, DayValue, Interval, Peak, Series
from .conso_api_parse import MAX_DAY_KWH, MAX_PEAK_KVA, MAX_POWER_KW, PARIS, wall_end_to_utc

MAX_FILE_BYTES = 20_000_000  # 3 years of 10-minute points are about 6 MB
_HALF_HOUR = timedelta(minutes=30)
_ENERGY = {"wh": 0.001, "kwh": 1.0, "mwh": 1000.0}
_POWER = {"w": 0.001, "kw": 1.0, "va": 0.001, "kva": 1.0}
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?$")
_DOWNLOADER_NAME = re.compile(r"historique_(conso|prod)_(\d{14})", re.IGNORECASE)


class CsvFormat(StrEnum):
    """The layouts recognised."""

    ENEDIS_MEASURES = "enedis_measures"
    ENEDIS_R63 = "enedis_r63"
    CONSO_DOWNLOADER = "conso_downloader"


class FileProblem(Exception):
    """A file that cannot be imported; `key` is the translation key of the reason."""

    def __init__(self, key: str, **placeholders: str) -> None:
        """Refused for `key` (placeholders: line, unit, prm…)."""
        super().__init__(key)
        self.key = key
        self.placeholders = placeholders


@dataclass(slots=True)
class HistoryFile:
    """What a file holds: its PRM and energy direction when it says so, its series."""

    format: CsvFormat
    prm: str | None = None
    channel: Channel | None = None  # the energy's direction; None when the file does not say
    intervals: list[Interval] = field(default_factory=list)
    daily: list[DayValue] = field(default_factory=list)
    peaks: list[Peak] = field(default_factory=list)
    skipped: int = 0  # empty or refused values

    def series(self, channel: Channel) -> list[Series]:
        """The energy as a series of `channel`, and the peaks as max power."""
        found = [Series(channel, "kWh", intervals=tuple(self.intervals), daily=tuple(self.daily))]
        if self.peaks:
            found.append(Series(Channel.MAX_POWER, "kVA", peaks=tuple(self.peaks)))
        return found


def _plain(text: str) -> str:
    """Lower case, no accents, no spaces around: to compare headers."""
    folded = unicodedata.normalize("NFKD", text.strip().strip('"')).encode("ascii", "ignore")
    return folded.decode().lower().strip()


def _decode(raw: bytes) -> str:
    if raw[:2] == b"PK":
        raise FileProblem("file_spreadsheet")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem("file_unknown")  # pragma: no cover - cp1252 decodes nearly anything


def _cells(line: str) -> list[str]:
    return [cell.strip().strip('"').strip() for cell in line.split(";")]


def _number(text: str) -> float | None:
    """A cell's number (a decimal comma is a point); None when empty."""
    cleaned = text.replace("\u202f", "").replace(" ", "").replace(",", ".")
    if cleaned.lower() in ("", "null", "none", "nan", "-"):
        return None
    return float(cleaned)


def _stamp(text: str, line: int) -> datetime:
    """An ISO (`T` or space) or French (`dd/mm/yyyy hh:mm[:ss]`) stamp, aware or naive."""
    raw = text.strip()
    try:
        if len(raw) >= 10 and raw[2] == "/" and raw[5] == "/":
            day = datetime.strptime(raw[:10], "%d/%m/%Y")  # noqa: DTZ007 - wall-clock, zoned later
            rest = raw[10:].strip()
            if not rest:
                return day
            return datetime.fromisoformat(f"{day.date().isoformat()}T{rest}")
        return datetime.fromisoformat(raw.replace(" ", "T", 1))
    except ValueError as err:
        raise FileProblem("file_bad_date", line=str(line)) from err


def _factor(unit: str, table: dict[str, float]) -> float:
    factor = table.get(_plain(unit).replace(" ", ""))
    if factor is None:
        raise FileProblem("file_bad_unit", unit=unit or "?")
    return factor


def _direction(text: str) -> Channel | None:
    plain = _plain(text)
    if plain.startswith(("prod", "inj")):
        return Channel.PRODUCTION
    if plain.startswith("cons"):
        return Channel.CONSUMPTION
    return None


def _step(text: str) -> timedelta | None:
    """`30` (minutes) or `PT30M`; None when empty or unknown."""
    raw = text.strip().upper()
    if raw.isdigit() and 0 < int(raw) <= 60:
        return timedelta(minutes=int(raw))
    match = _DURATION.fullmatch(raw)
    if match and any(match.groups()):
        step = timedelta(hours=int(match.group(1) or 0), minutes=int(match.group(2) or 0))
        if timedelta(0) < step <= timedelta(hours=1):
            return step
    return None


class _Reader:
    """Collects one file's points (first value of an instant or day wins)."""

    def __init__(self, fmt: CsvFormat) -> None:
        self.file = HistoryFile(fmt)
        self._ends: set[datetime] = set()
        self._previous: datetime | None = None  # order resolves naive DST stamps

    def prm(self, prm: str) -> None:
        prm = prm.strip()
        if not prm:
            return
        if self.file.prm is not None and prm != self.file.prm:
            raise FileProblem("file_several_prms")
        self.file.prm = prm

    def direction(self, channel: Channel | None) -> None:
        if channel is None:
            return
        if self.file.channel is not None and channel is not self.file.channel:
            raise FileProblem("file_both_directions")
        self.file.channel = channel

    def aware(self, stamp: datetime, *, end: bool) -> datetime:
        """A file stamp as UTC: an offset names the instant, a naive one is Paris time."""
        if stamp.tzinfo is not None:
            return stamp.astimezone(UTC)
        if end:
            instant = wall_end_to_utc(stamp, self._previous)
        else:
            candidates = sorted(
                {stamp.replace(tzinfo=PARIS, fold=fold).astimezone(UTC) for fold in (0, 1)}
            )
            later = [c for c in candidates if self._previous is None or c > self._previous]
            instant = later[0] if later else candidates[-1]
        if self._previous is None or instant > self._previous:
            self._previous = instant
        return instant

    def interval(self, end: datetime, step: timedelta, kw: float | None) -> None:
        if kw is None or not -MAX_POWER_KW <= kw <= MAX_POWER_KW:
            self.file.skipped += 1
            return
        if end in self._ends:
            return
        self._ends.add(end)
        kwh = max(kw, 0.0) * step.total_seconds() / 3600
        self.file.intervals.append(Interval(end - step, end, kwh))

    def day(self, day: date, kwh: float | None) -> None:
        if kwh is None or not 0 <= kwh <= MAX_DAY_KWH:
            self.file.skipped += 1
            return
        self.file.daily.append(DayValue(day, kwh))

    def peak(self, at: datetime, kva: float | None) -> None:
        if kva is None or not 0 <= kva <= MAX_PEAK_KVA:
            self.file.skipped += 1
            return
        local = at.astimezone(PARIS) if at.tzinfo else at.replace(tzinfo=PARIS)
        self.file.peaks.append(Peak(local.date(), kva, local))

    def done(self) -> HistoryFile:
        found = self.file
        found.intervals.sort()
        found.daily = _first_per_day(found.daily)
        found.peaks = sorted({p.day: p for p in reversed(found.peaks)}.values(), key=_day)
        if not (found.intervals or found.daily or found.peaks):
            raise FileProblem("file_empty")
        return found


def _day(peak: Peak) -> date:
    return peak.day


def _first_per_day(values: Sequence[DayValue]) -> list[DayValue]:
    seen: dict[date, DayValue] = {}
    for value in values:
        seen.setdefault(value.day, value)
    return [seen[d] for d in sorted(seen)]


def read_history_file(raw: bytes, name: str) -> HistoryFile:
    """The history a file holds; `FileProblem` when it is not one of the layouts."""
    if len(raw) > MAX_FILE_BYTES:
        raise FileProblem("file_too_large")
    lines = [(n, line) for n, line in enumerate(_decode(raw).splitlines(), 1) if line.strip()]
    if not lines:
        raise FileProblem("file_empty")
    header = [_plain(cell) for cell in _cells(lines[0][1])]
    try:
        if header[:2] == ["identifiant prm", "type de donnees"]:
            return _measures(lines)
        if header[0] == "identifiant prm" and "horodate" in header and "valeur" in header:
            return _r63(header, lines[1:])
        if header[:3] == ["debut", "fin", "kw"]:
            return _downloader(lines[1:], name)
    except (ValueError, IndexError) as err:  # a cell that is not a number, a short row
        raise FileProblem("file_bad_row") from err
    raise FileProblem("file_unknown")


# ---- the customer area's "mesures" export ------------------------------------------------


def _blocks(
    lines: Sequence[tuple[int, str]],
) -> Iterator[tuple[dict[str, str], list[str], list[tuple[int, list[str]]]]]:
    """(metadata, data header, rows) per block; calendar and unknown blocks are left out."""
    index = 0
    while index < len(lines):
        header = [_plain(c) for c in _cells(lines[index][1])]
        if header[:2] != ["identifiant prm", "type de donnees"] or index + 2 >= len(lines):
            index += 1
            continue
        meta = dict(zip(header, _cells(lines[index + 1][1]), strict=False))
        columns = [_plain(c) for c in _cells(lines[index + 2][1])]
        index += 3
        rows: list[tuple[int, list[str]]] = []
        while index < len(lines):
            cells = _cells(lines[index][1])
            first = _plain(cells[0])
            if first in ("identifiant prm", "periode") or first.startswith("du "):
                break
            rows.append((lines[index][0], cells))
            index += 1
        yield meta, columns, rows


def _measures(lines: Sequence[tuple[int, str]]) -> HistoryFile:
    reader = _Reader(CsvFormat.ENEDIS_MEASURES)
    for meta, columns, rows in _blocks(lines):
        kind = _plain(meta.get("type de donnees", ""))
        unit = meta.get("unite", "")
        reader.prm(meta.get("identifiant prm", ""))
        if "puissance max" in kind:
            factor = _factor(unit, _POWER)
            for line, cells in rows:
                value = _number(cells[1])
                reader.peak(_stamp(cells[0], line), None if value is None else value * factor)
            continue
        reader.direction(_direction(meta.get("grandeur metier", "")))
        if "index" in kind:
            _indexes(reader, columns, rows, _factor(unit, _ENERGY))
        elif "courbe" in kind:
            _curve(reader, rows, _factor(unit, _POWER), _step(meta.get("pas en minutes", "")))
        elif "quotidien" in kind or "journalier" in kind:
            factor = _factor(_unit_of(columns) or unit, _ENERGY)
            for line, cells in rows:
                value = _number(cells[1])
                day = _stamp(cells[0], line)
                local = day.astimezone(PARIS) if day.tzinfo else day
                reader.day(local.date(), None if value is None else value * factor)
        else:
            raise FileProblem("file_unknown_data", kind=meta.get("type de donnees", "?"))
    return reader.done()


def _unit_of(columns: Sequence[str]) -> str | None:
    """The unit a value column names (`Valeur (en Wh)`)."""
    for column in columns:
        if match := re.search(r"\((?:en )?([a-z]+)\)", column):
            return match.group(1)
    return None


def _curve(
    reader: _Reader, rows: Sequence[tuple[int, list[str]]], factor: float, step: timedelta | None
) -> None:
    """Mean power per step, end-stamped; without a stated step, the most common gap."""
    stamped = [(reader.aware(_stamp(cells[0], line), end=True), cells) for line, cells in rows]
    if step is None:
        gaps = Counter(b[0] - a[0] for a, b in pairwise(stamped))
        usual = [gap for gap, _ in gaps.most_common() if timedelta(0) < gap <= timedelta(hours=1)]
        step = usual[0] if usual else _HALF_HOUR
    for end, cells in stamped:
        value = _number(cells[1]) if len(cells) > 1 else None
        reader.interval(end, step, None if value is None else value * factor)


def _indexes(
    reader: _Reader,
    columns: Sequence[str],
    rows: Sequence[tuple[int, list[str]]],
    factor: float,
) -> None:
    """Daily register readings: a day's energy is the next reading minus its own (the
    total register `EAS T`, else the distributor's registers added up)."""
    total = columns.index("eas t") if "eas t" in columns else None
    distributor = [i for i, c in enumerate(columns) if re.fullmatch(r"eas d\d", c)]
    readings: dict[date, float] = {}
    for line, cells in rows:
        stamp = _stamp(cells[0], line)
        day = (stamp.astimezone(PARIS) if stamp.tzinfo else stamp).date()
        value: float | None = None
        if total is not None and total < len(cells):
            value = _number(cells[total])
        if value is None and distributor:
            parts = [_number(cells[i]) if i < len(cells) else None for i in distributor]
            if any(p is not None for p in parts):
                value = sum(p or 0.0 for p in parts)
        if value is not None:
            readings.setdefault(day, value * factor)
    for day, reading in sorted(readings.items()):
        following = readings.get(day + timedelta(days=1))
        if following is not None:
            reader.day(day, following - reading)


# ---- the SGE R63 file ------------------------------------------------------------------


def _r63(header: Sequence[str], rows: Sequence[tuple[int, str]]) -> HistoryFile:
    reader = _Reader(CsvFormat.ENEDIS_R63)
    col = {name: header.index(name) for name in header}
    for line, text in rows:
        cells = _cells(text)
        reader.prm(cells[col["identifiant prm"]])
        reader.direction(_direction(cells[col["grandeur metier"]]))
        quantity = _plain(cells[col.get("grandeur physique", 0)])
        unit = cells[col["unite"]] if "unite" in col else "W"
        value = _number(cells[col["valeur"]])
        end = reader.aware(_stamp(cells[col["horodate"]], line), end=True)
        step = _step(cells[col["pas"]]) if "pas" in col else None
        if quantity.startswith("pa"):  # mean power
            scaled = None if value is None else value * _factor(unit, _POWER)
            reader.interval(end, step or _HALF_HOUR, scaled)
        elif quantity.startswith("ea"):  # energy of the step
            scaled = None if value is None else value * _factor(unit, _ENERGY)
            kw = None if scaled is None else scaled * 3600 / (step or _HALF_HOUR).total_seconds()
            reader.interval(end, step or _HALF_HOUR, kw)
        else:
            raise FileProblem("file_unknown_data", kind=quantity.upper() or "?")
    return reader.done()


# ---- Conso Downloader ------------------------------------------------------------------


def _downloader(rows: Sequence[tuple[int, str]], name: str) -> HistoryFile:
    reader = _Reader(CsvFormat.CONSO_DOWNLOADER)
    if match := _DOWNLOADER_NAME.search(name):
        reader.prm(match.group(2))
        reader.direction(Channel.PRODUCTION if match.group(1).lower() == "prod" else None)
        reader.direction(Channel.CONSUMPTION if match.group(1).lower() == "conso" else None)
    for line, text in rows:
        cells = _cells(text)
        start_wall, end_wall = _stamp(cells[0], line), _stamp(cells[1], line)
        step = end_wall - start_wall
        if start_wall.tzinfo is None and not timedelta(0) < step <= timedelta(hours=1):
            step = _HALF_HOUR  # the spring change: 01:30 → 03:00 on the wall is 30 minutes
        start = reader.aware(start_wall, end=False)
        value = _number(cells[2])
        reader.interval(start + step, step, value)
    return reader.done()
