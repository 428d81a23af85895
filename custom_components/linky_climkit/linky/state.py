"""What one Linky entry remembers between runs (persisted with helpers.storage.Store)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from ..backoff import seconds
from ..model import Channel, MeterIndex, Register, Series
from ..pipeline import Imported
from ..storage import iso, to_date, to_datetime


@dataclass(slots=True)
class FetchTask:
    """One pending window of one Conso API type (first import)."""

    type: str
    start: date
    end: date

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"type": self.type, "start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> FetchTask:
        """Inverse of as_dict."""
        return cls(data["type"], date.fromisoformat(data["start"]), date.fromisoformat(data["end"]))


@dataclass(slots=True)
class TypeOutcome:
    """Last outcome of one data type, for diagnostics."""

    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    calls: int = 0


@dataclass(slots=True)
class LinkyState:
    """The persisted progress of one PRM."""

    pending: list[FetchTask] = field(default_factory=list)
    requested: list[FetchTask] = field(default_factory=list)
    initialised: bool = False
    production: bool | None = None
    last_day: date | None = None
    complete_day: date | None = None
    attempts: list[datetime] = field(default_factory=list)
    last_success: datetime | None = None
    backoff_until: datetime | None = None
    backoff_seconds: float = 0.0  # the last back-off wait (backoff.py); 0 after a success
    hourly_missing: bool = False
    production_refused: bool = False
    missing_points: int = 0
    clamped_points: int = 0
    dropped_points: dict[str, int] = field(default_factory=dict)  # by reason (README)
    latest_consumption: tuple[date, float] | None = None
    latest_production: tuple[date, float] | None = None
    latest_peak: tuple[date, float, datetime] | None = None
    latest_index: MeterIndex | None = None  # the newest reading of the meter's registers
    latest_production_index: MeterIndex | None = None  # the same, of its production
    # Periods from the meter: older register readings are read back `registers_chunk` days a
    # call (7 once a longer range is refused) until `registers_done`.
    registers_chunk: int = 31
    registers_done: bool = False
    outcomes: dict[str, TypeOutcome] = field(default_factory=dict)
    last_import: dict[str, Any] = field(default_factory=dict)

    def count_dropped(self, series: Series) -> None:
        """Add the points an answer left out, by reason."""
        for reason, count in (
            ("outside_requested_dates", series.outside),
            ("duplicates", series.duplicates),
            ("refused_values", series.refused),
            ("other_direction", series.foreign),
        ):
            if count:
                self.dropped_points[reason] = self.dropped_points.get(reason, 0) + count

    def outcome(self, type_: str) -> TypeOutcome:
        """The outcome record of a type, created on first use."""
        return self.outcomes.setdefault(type_, TypeOutcome())

    def note_imported(self, done: Imported, reason: str, at: datetime) -> None:
        """Remember what an import brought: the newest day of each channel (the last day
        counts only with its billing total), the newest peak, and what changed."""
        for (_meter, channel), day in done.newest.items():
            value = (day.day, day.measured)
            if channel is Channel.CONSUMPTION:
                if day.total is not None and (self.last_day is None or day.day >= self.last_day):
                    self.last_day = day.day
                if _newer(value, self.latest_consumption):
                    self.latest_consumption = value
            elif _newer(value, self.latest_production):
                self.latest_production = value
        for peak in done.newest_peak.values():
            if self.latest_peak is None or peak.day >= self.latest_peak[0]:
                self.latest_peak = (peak.day, peak.value, peak.at)
        if changed := done.changed_days:
            self.last_import = {
                "at": at.isoformat(),
                "first_day": changed[0].isoformat(),
                "last_day": changed[-1].isoformat(),
                "rows": done.rows,
                "reason": reason,
            }

    def note_indexes(self, indexes: dict[Channel, list[MeterIndex]]) -> None:
        """Keep the newest reading of the meter's registers, per direction."""
        for index in indexes.get(Channel.CONSUMPTION, ()):
            if self.latest_index is None or index.day >= self.latest_index.day:
                self.latest_index = index
        for index in indexes.get(Channel.PRODUCTION, ()):
            latest = self.latest_production_index
            if latest is None or index.day >= latest.day:
                self.latest_production_index = index

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates and datetimes as ISO strings)."""

        return {
            "pending": [t.as_dict() for t in self.pending],
            "requested": [t.as_dict() for t in self.requested],
            "initialised": self.initialised,
            "production": self.production,
            "last_day": iso(self.last_day),
            "complete_day": iso(self.complete_day),
            "attempts": [a.isoformat() for a in self.attempts],
            "last_success": iso(self.last_success),
            "backoff_until": iso(self.backoff_until),
            "backoff_seconds": self.backoff_seconds,
            "hourly_missing": self.hourly_missing,
            "production_refused": self.production_refused,
            "missing_points": self.missing_points,
            "clamped_points": self.clamped_points,
            "dropped_points": dict(self.dropped_points),
            "latest_consumption": _pair(self.latest_consumption),
            "latest_production": _pair(self.latest_production),
            "latest_peak": None
            if self.latest_peak is None
            else [
                self.latest_peak[0].isoformat(),
                self.latest_peak[1],
                self.latest_peak[2].isoformat(),
            ],
            "latest_index": _index_dict(self.latest_index),
            "latest_production_index": _index_dict(self.latest_production_index),
            "registers_chunk": self.registers_chunk,
            "registers_done": self.registers_done,
            "outcomes": {
                k: {
                    key: value.isoformat() if isinstance(value, datetime) else value
                    for key, value in asdict(v).items()
                }
                for k, v in self.outcomes.items()
            },
            "last_import": self.last_import,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> LinkyState:
        """Inverse of as_dict; unknown or missing keys fall back to defaults."""
        if not data:
            return cls()
        dt, d = to_datetime, to_date

        peak = data.get("latest_peak")
        return cls(
            pending=[FetchTask.from_dict(t) for t in data.get("pending", [])],
            requested=[FetchTask.from_dict(t) for t in data.get("requested", [])],
            initialised=bool(data.get("initialised", False)),
            production=data.get("production"),
            last_day=d(data.get("last_day")),
            complete_day=d(data.get("complete_day")),
            attempts=[datetime.fromisoformat(a) for a in data.get("attempts", [])],
            last_success=dt(data.get("last_success")),
            backoff_until=dt(data.get("backoff_until")),
            backoff_seconds=seconds(data.get("backoff_seconds")),
            hourly_missing=bool(data.get("hourly_missing", False)),
            production_refused=bool(data.get("production_refused", False)),
            missing_points=int(data.get("missing_points", 0)),
            clamped_points=int(data.get("clamped_points", 0)),
            dropped_points={str(k): int(v) for k, v in (data.get("dropped_points") or {}).items()},
            latest_consumption=_unpair(data.get("latest_consumption")),
            latest_production=_unpair(data.get("latest_production")),
            latest_peak=None
            if not peak
            else (date.fromisoformat(peak[0]), float(peak[1]), datetime.fromisoformat(peak[2])),
            outcomes={
                k: TypeOutcome(
                    last_success=dt(v.get("last_success")),
                    last_error=v.get("last_error"),
                    last_error_at=dt(v.get("last_error_at")),
                    calls=int(v.get("calls", 0)),
                )
                for k, v in data.get("outcomes", {}).items()
            },
            last_import=dict(data.get("last_import", {})),
            latest_index=_index(data.get("latest_index")),
            latest_production_index=_index(data.get("latest_production_index")),
            registers_chunk=int(data.get("registers_chunk", 31)),
            registers_done=bool(data.get("registers_done", False)),
        )


def _index_dict(index: MeterIndex | None) -> dict[str, Any] | None:
    if index is None:
        return None
    return {
        "day": index.day.isoformat(),
        "total": index.total,
        "calendar": index.calendar,
        "calendar_label": index.calendar_label,
        "registers": [[r.code, r.label, r.value] for r in index.registers],
    }


def _index(data: Any) -> MeterIndex | None:
    if not isinstance(data, dict) or not data.get("day"):
        return None
    total = data.get("total")
    return MeterIndex(
        date.fromisoformat(data["day"]),
        None if total is None else float(total),
        data.get("calendar"),
        data.get("calendar_label"),
        tuple(Register(str(c), str(label), float(v)) for c, label, v in data.get("registers", [])),
    )


def _pair(value: tuple[date, float] | None) -> list[Any] | None:
    return None if value is None else [value[0].isoformat(), value[1]]


def _unpair(value: Any) -> tuple[date, float] | None:
    return None if not value else (date.fromisoformat(value[0]), float(value[1]))


def _newer(value: tuple[date, float], current: tuple[date, float] | None) -> bool:
    return current is None or value[0] >= current[0]


@dataclass(frozen=True, slots=True)
class LinkyData:
    """What the sensors show."""

    consumption: tuple[date, float] | None
    production: tuple[date, float] | None
    peak: tuple[date, float, datetime] | None
    last_day: date | None
    next_sync: datetime | None
    token_expiry: datetime | None
    calls_used: int
    has_production: bool | None
    cost: tuple[date, float, str] | None = None
    completeness: dict[str, dict[str, int]] = field(default_factory=dict)  # counts per need
    index: MeterIndex | None = None  # the meter's registers, when they are read
    production_index: MeterIndex | None = None  # those of its production
