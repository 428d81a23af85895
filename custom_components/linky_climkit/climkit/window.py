"""The request window of a Climkit read: local days [first, end) are asked with a margin on
both sides, and the answer is cut back to exactly those days (pure, no I/O).

Two points of `site_data` are open (docs/climkit.md §9 Q1, Q2): the naive `t_s`/`t_e` may be
read as UTC (the documentation) or as the site's local time (a 2026 sample hints so), and a row
stamped exactly `t_e` may or may not be served. The two readings of a naive time differ by the
site's UTC offset, so each edge is moved out by that offset plus one hour (which also covers
an exclusive end and a DST change near the edge). The rows of the margins are then dropped
(`row_values` keeps a 15-minute row once, by its instant, and only inside the window), so the
days at the edges are right under every reading.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..statistics.aggregation import day_start

SLACK = timedelta(hours=1)
DAY = timedelta(days=1)


def day_window(first: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight of `first`, local midnight of `end`) as aware UTC instants: a row
    belongs to the window when its END stamp is after the start and at most the end."""
    return day_start(first, tz), day_start(end, tz)


def margin(instant: datetime, tz: ZoneInfo) -> timedelta:
    """How far an edge is moved out: the site's largest UTC offset around it, plus an hour."""
    offsets = [
        abs((instant + shift).astimezone(tz).utcoffset() or timedelta())
        for shift in (-DAY, timedelta(), DAY)
    ]
    return max(offsets) + SLACK


def request_span(first: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants to ask Climkit for, to read local days [first, end) whatever the reading
    of `t_s`/`t_e`."""
    start, stop = day_window(first, end, tz)
    return start - margin(start, tz), stop + margin(stop, tz)
