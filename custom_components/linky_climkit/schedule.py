"""When to sync (pure; times are aware datetimes in the meter's time zone).

Each entry has a stable offset in [0 h, 4 h) and a ladder of attempts at 06:00 + offset +
k × 90 min until 10:00. With a `published` time (Linky: day D appears around 08:00 on D+1) a
rung before it would only ask for an unpublished day and spend a budgeted call for nothing, so
the first attempt is the first rung at or after it (every offset has one before 10:00). If
yesterday is still missing it climbs the ladder, then retries once in the early afternoon, then
waits for tomorrow.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WINDOW_START = time(6, 0)
PUBLICATION = time(8, 0)
WINDOW_LENGTH = timedelta(hours=4)
RETRY_AFTER = timedelta(minutes=90)
RETRY_UNTIL = time(10, 0)
AFTERNOON_START = time(13, 0)
AFTERNOON_LENGTH = timedelta(hours=2)


def new_offset(rng: random.Random | None = None) -> int:
    """A random offset in seconds in [0, 4 h), never on a whole minute."""
    rng = rng or random.SystemRandom()
    while True:
        seconds = rng.randrange(int(WINDOW_LENGTH.total_seconds()))
        if seconds % 60:
            return seconds


def daily_time(day: date, offset: int, tz: ZoneInfo, published: time | None = None) -> datetime:
    """The entry's first sync attempt on `day`: its first rung at or after `published`."""
    attempt = datetime.combine(day, WINDOW_START, tzinfo=tz) + timedelta(seconds=offset)
    if published is None:
        return attempt
    while attempt < datetime.combine(day, published, tzinfo=tz):
        attempt += RETRY_AFTER
    return attempt


def afternoon_time(day: date, offset: int, tz: ZoneInfo) -> datetime:
    """The entry's single afternoon retry on `day`, in [13:00, 15:00)."""
    share = offset / WINDOW_LENGTH.total_seconds()
    return datetime.combine(day, AFTERNOON_START, tzinfo=tz) + share * AFTERNOON_LENGTH


def next_sync(
    now: datetime,
    *,
    offset: int,
    tz: ZoneInfo,
    have_yesterday: bool,
    attempts_today: Sequence[datetime],
    catch_up: timedelta,
    published: time | None = None,
) -> datetime:
    """The next time the daily sync should run, given what today already saw."""
    local_now = now.astimezone(tz)
    today = local_now.date()
    tomorrow = daily_time(today + timedelta(days=1), offset, tz, published)
    if have_yesterday:
        return tomorrow
    first = daily_time(today, offset, tz, published)
    if local_now < first:
        return first
    attempts = sorted(a for a in attempts_today if a.astimezone(tz).date() == today)
    if not attempts:
        return now + catch_up  # the window was missed (Home Assistant was down): once, soon
    last = attempts[-1]
    retry = last + RETRY_AFTER
    if retry.astimezone(tz).time() < RETRY_UNTIL and retry.astimezone(tz).date() == today:
        return max(retry, now)
    afternoon = afternoon_time(today, offset, tz)
    if last >= afternoon:
        return tomorrow
    if local_now < afternoon:
        return afternoon
    return now + catch_up
