"""What both provider clients do alike with an HTTP answer (no Home Assistant): a redirect
is refused, never followed (the request carries a password or a token), and `Retry-After`
is read defensively (seconds or an HTTP date; nonsense is no value, long waits are capped)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from .errors import RedirectError

LONGEST_RETRY_AFTER = timedelta(days=1)


def redirect_error(status: int, provider: str) -> RedirectError | None:
    """The error of a redirect answer (3xx); None for any other status."""
    if 300 <= status < 400:
        return RedirectError(
            f"{provider} answered with a redirect ({status}), not followed: the request "
            "carries credentials. Check the API URL",
            status=status,
        )
    return None


def retry_after(raw: str | None, now: datetime) -> datetime | None:
    """When a `Retry-After` header allows the next request: `now` plus its seconds, or its
    HTTP date (a past one is `now`), never later than a day from `now`; None when it is
    absent or nonsense (negative, infinite, NaN, neither a number nor a date)."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except TypeError, ValueError, IndexError, OverflowError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0.0, (when - now).total_seconds())
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return now + timedelta(seconds=min(seconds, LONGEST_RETRY_AFTER.total_seconds()))
