"""A meter index as Home Assistant's `total_increasing` statistics need it: it never goes down.

Home Assistant counts a drop of less than 10 % as negative energy and a larger one as a new
meter, whose whole index it then adds again when the reading comes back. Neither is right for
a gateway that answers one wrong reading, or for a meter that was replaced. So:

- a reading below the previous one is held (the reported value stays) until the index comes
  back up (a glitch: nothing is counted twice);
- if the lower readings last `HOLD`, the meter was reset or replaced: the reported value
  carries on from where it was, plus what the new index has counted since the drop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

HOLD = timedelta(minutes=30)


@dataclass(slots=True)
class MonotonicIndex:
    """The reported value is `raw + offset`, frozen while a drop is held."""

    offset: float = 0.0
    last_raw: float | None = None
    reported: float | None = None
    drop_since: datetime | None = None
    drop_base: float | None = None

    def update(self, raw: float, now: datetime) -> float:
        """Take a reading; returns the value to report."""
        if self.last_raw is None or self.reported is None:
            self.last_raw, self.reported = raw, raw + self.offset
            return self.reported
        if raw >= self.last_raw:
            self.drop_since = self.drop_base = None
            self.last_raw = raw
            self.reported = max(self.reported, raw + self.offset)
            return self.reported
        if self.drop_since is None or self.drop_base is None:
            self.drop_since, self.drop_base = now, raw
            return self.reported
        self.drop_base = min(self.drop_base, raw)
        if now - self.drop_since >= HOLD:
            # A new meter (or a reset one): carry on from the value reported before the drop.
            self.offset = self.reported - self.drop_base
            self.last_raw = raw
            self.reported = raw + self.offset
            self.drop_since = self.drop_base = None
        return self.reported

    def as_dict(self) -> dict[str, Any]:
        """What a restart must remember."""
        return {"offset": self.offset, "last_raw": self.last_raw, "reported": self.reported}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> MonotonicIndex:
        """Inverse of as_dict (a drop being held is forgotten: it is held again)."""
        if not data:
            return cls()
        return cls(
            offset=float(data.get("offset") or 0.0),
            last_raw=_float(data.get("last_raw")),
            reported=_float(data.get("reported")),
        )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
