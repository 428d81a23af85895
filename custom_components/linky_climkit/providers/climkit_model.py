"""Climkit's records (a site, a meter, a sensor) and how it writes instants (no Home
Assistant import)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """What `installation_infos` says about a site."""

    id: str
    name: str
    timezone: str
    creation: datetime | None
    address: str | None
    site_ref: str | None


@dataclass(frozen=True, slots=True)
class MeterInfo:
    """One meter of `meter_info`, leniently parsed."""

    id: str
    type: str
    prim_ad: int | None
    name: str | None
    mode: str | None
    is_rule_meter: bool
    virtual: bool

    @property
    def role(self) -> str:
        """consumption, production, introduction or battery (from mode, else the address)."""
        return self.mode or role_of_address(self.prim_ad)


def role_of_address(address: int | None) -> str:
    """A meter's role from its bus address, Climkit's numbering: 10 is the grid connection
    (introduction), 100-199 producers, 200 and up batteries, the others consumers."""
    if address == 10:
        return "introduction"
    if address is not None and address >= 200:
        return "battery"
    if address is not None and address >= 100:
        return "production"
    return "consumption"


def meter_label(meter: MeterInfo) -> str:
    """A meter's name, else its type and bus address."""
    if meter.name:
        return meter.name
    kind = meter.type.replace("_", " ")
    return f"{kind} {meter.prim_ad}" if meter.prim_ad is not None else kind


@dataclass(frozen=True, slots=True)
class SiteSensor:
    """One sensor of `sensors_list` (temperature, humidity, …)."""

    id: str
    name: str
    type: str
    unit: str | None
    model: str | None


def parse_instant(value: Any) -> datetime | None:
    """An aware UTC time from what Climkit sends: `{"$date": ms}`, epoch seconds or
    milliseconds (a number or digits), or ISO text (naive is UTC); None if unreadable."""
    if isinstance(value, dict) and "$date" in value:
        value = value["$date"]
    if isinstance(value, str) and value.strip().isdigit():
        try:
            value = int(value)
        except ValueError:  # digits int() refuses ("²", or more than 4,300 of them)
            return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def epoch(value: float) -> datetime | None:
    """An epoch number (seconds, or milliseconds when large) as aware UTC; None if absurd."""
    try:
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    except OverflowError, OSError, ValueError:
        return None


def address_text(value: Any) -> str | None:
    """A site's address object (`street_name`, `postal_code`, …) as one line; None if empty."""
    if not isinstance(value, dict):
        return None
    street = " ".join(
        str(value[k]) for k in ("street_name", "street_number") if value.get(k) not in (None, "")
    )
    city = " ".join(
        str(value[k])
        for k in ("postal_code", "city_ref", "city", "city_name")
        if value.get(k) not in (None, "")
    )
    joined = ", ".join(part for part in (street, city) if part)
    return joined or None
