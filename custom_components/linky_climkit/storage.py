"""ISO text for the persisted states (helpers.storage.Store holds JSON)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def iso(value: date | datetime | None) -> str | None:
    """A date or datetime as ISO text; None stays None."""
    return None if value is None else value.isoformat()


def to_datetime(value: Any) -> datetime | None:
    """Inverse of iso for datetimes."""
    return None if value is None else datetime.fromisoformat(value)


def to_date(value: Any) -> date | None:
    """Inverse of iso for dates."""
    return None if value is None else date.fromisoformat(value)
