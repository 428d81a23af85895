"""What one Climkit site entry remembers between runs (persisted with helpers.storage.Store)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from homeassistant.util.unit_conversion import VolumeConverter

from ..backoff import Backoff, seconds
from ..model import Channel
from ..providers.climkit_model import MeterInfo, SiteInfo, SiteSensor, meter_label
from ..statistics.ids import StatisticSpec, energy_spec, statistic_id
from ..storage import iso, to_date, to_datetime


@dataclass(slots=True)
class ClimkitState:
    """The persisted progress and knowledge of one site."""

    site: SiteInfo | None = None
    meters: list[MeterInfo] = field(default_factory=list)
    history_start: date | None = None
    history_cursor: date | None = None
    last_day: date | None = None
    last_data_end: datetime | None = None
    attempts: list[datetime] = field(default_factory=list)
    backoff_until: datetime | None = None
    backoff_seconds: float = 0.0  # the last back-off wait (backoff.py); 0 after a success
    storage: bool = False
    clamped: int = 0  # negative production values received (kept as given; the name is stored)
    missing: int = 0  # rows without one of the site's figures
    refused: int = 0  # values not finite or absurd, rows stamped out of range
    latest: dict[str, tuple[date, float]] = field(default_factory=dict)
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_success: datetime | None = None
    calls: int = 0
    sensors: list[SiteSensor] = field(default_factory=list)
    sensor_values: dict[str, tuple[datetime, float]] = field(default_factory=dict)
    sensors_read_at: datetime | None = None
    sensors_backoff: Backoff = field(default_factory=Backoff)  # the site sensors' own
    requested: list[tuple[date, date]] = field(default_factory=list)

    def spec(self, site_id: str, owner: str, channel: Channel) -> StatisticSpec:
        """The statistic of the site's or a meter's channel (m³ for water, kWh otherwise),
        named after the site and the meter."""
        site_name = self.site.name if self.site else "Climkit"
        label = f"Climkit {site_name}"
        if owner != site_id:
            meter = next((m for m in self.meters if m.id == owner), None)
            label += f" {meter_label(meter) if meter else owner}"
        name = f"{label} {channel.value.replace('_', ' ')}"
        if channel is Channel.WATER:
            return StatisticSpec(
                statistic_id(owner, channel), name, "m³", VolumeConverter.UNIT_CLASS
            )
        return energy_spec(owner, channel, name)

    @property
    def history_done(self) -> bool:
        """Whether the whole history (from the site's creation, at most 3 years) is imported."""
        return (
            self.history_start is not None
            and self.history_cursor is not None
            and self.history_cursor <= self.history_start
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""

        site = None
        if self.site is not None:
            site = asdict(self.site)
            site["creation"] = iso(self.site.creation)
        return {
            "site": site,
            "meters": [asdict(m) for m in self.meters],
            "history_start": iso(self.history_start),
            "history_cursor": iso(self.history_cursor),
            "last_day": iso(self.last_day),
            "last_data_end": iso(self.last_data_end),
            "attempts": [a.isoformat() for a in self.attempts],
            "backoff_until": iso(self.backoff_until),
            "backoff_seconds": self.backoff_seconds,
            "storage": self.storage,
            "clamped": self.clamped,
            "missing": self.missing,
            "refused": self.refused,
            "latest": {k: [d.isoformat(), v] for k, (d, v) in self.latest.items()},
            "last_error": self.last_error,
            "last_error_at": iso(self.last_error_at),
            "last_success": iso(self.last_success),
            "calls": self.calls,
            "sensors": [asdict(s) for s in self.sensors],
            "sensor_values": {k: [t.isoformat(), v] for k, (t, v) in self.sensor_values.items()},
            "sensors_read_at": iso(self.sensors_read_at),
            "sensors_backoff": self.sensors_backoff.as_dict(),
            "requested": [[a.isoformat(), b.isoformat()] for a, b in self.requested],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ClimkitState:
        """Inverse of as_dict."""
        if not data:
            return cls()
        dt, d = to_datetime, to_date

        raw_site = data.get("site")
        site = None
        if raw_site:
            site = SiteInfo(**{**raw_site, "creation": dt(raw_site.get("creation"))})
        return cls(
            site=site,
            meters=[MeterInfo(**m) for m in data.get("meters", [])],
            history_start=d(data.get("history_start")),
            history_cursor=d(data.get("history_cursor")),
            last_day=d(data.get("last_day")),
            last_data_end=dt(data.get("last_data_end")),
            attempts=[datetime.fromisoformat(a) for a in data.get("attempts", [])],
            backoff_until=dt(data.get("backoff_until")),
            backoff_seconds=seconds(data.get("backoff_seconds")),
            storage=bool(data.get("storage", False)),
            clamped=int(data.get("clamped", 0)),
            missing=int(data.get("missing", 0)),
            refused=int(data.get("refused", 0)),
            latest={
                k: (date.fromisoformat(v[0]), float(v[1]))
                for k, v in data.get("latest", {}).items()
            },
            last_error=data.get("last_error"),
            last_error_at=dt(data.get("last_error_at")),
            last_success=dt(data.get("last_success")),
            calls=int(data.get("calls", 0)),
            sensors=[SiteSensor(**s) for s in data.get("sensors", [])],
            sensor_values={
                k: (datetime.fromisoformat(v[0]), float(v[1]))
                for k, v in data.get("sensor_values", {}).items()
            },
            sensors_read_at=dt(data.get("sensors_read_at")),
            sensors_backoff=Backoff.from_dict(data.get("sensors_backoff")),
            requested=[
                (date.fromisoformat(a), date.fromisoformat(b)) for a, b in data.get("requested", [])
            ],
        )


@dataclass(frozen=True, slots=True)
class ClimkitData:
    """What the sensors show."""

    site: SiteInfo | None
    meters: tuple[MeterInfo, ...]
    latest: dict[str, tuple[date, float]]
    last_day: date | None
    last_data_end: datetime | None
    next_sync: datetime | None
    storage: bool
    history_done: bool
    cost: tuple[date, float, str] | None = None
    completeness: dict[str, int] = field(default_factory=dict)  # days of the site's history

    def value(self, owner: str, channel: Channel) -> tuple[date, float] | None:
        """The latest complete day's value of one statistic."""
        return self.latest.get(f"{owner}:{channel.value}")


def latest_key(owner: str, channel: Channel) -> str:
    """Key of `ClimkitState.latest`."""
    return f"{owner}:{channel.value}"
