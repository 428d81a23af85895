"""Pure: the tariff stored in a config entry's options ⇄ `tariffs.Tariff`, dated price changes,
the whole days of the options flow's off-peak ranges, and what a tariff change makes stale
(no Home Assistant import).

`entry.options["tariff"]` is JSON:

    {"kind": "hp_hc", "currency": "EUR",
     "periods": [{"start": "2026-02-01", "base_price": 0.0, "hp_price": 0.27, "hc_price": 0.2068,
                  "tempo_prices": {}, "subscription": 15.65, "subscription_per": "month"}],
     "off_peak": [{"start": "22:08", "end": "06:08", "weekdays": [0, 1, 2, 3, 4, 5, 6]}],
     "tempo_entity": null, "price_entity": null,
     "feed_in": [{"start": "2026-01-01", "price": 0.1269}],
     "meter_periods": true}

`meter_periods` (HP/HC and Tempo, only present when on): each day's buckets are the meter's
register deltas; the off-peak ranges, or 22:00-06:00, then only shape the hours inside a day.

Kind, off-peak ranges and entities belong to the tariff: every period is priced with them.
Periods and feed-in prices are sorted by start; a new one replaces those starting on or after it.
A whole day off-peak (00:00 to 00:00 in the options flow) is stored as 00:00-12:00 plus
12:00-00:00, since a range that starts and ends at the same time is empty for the engine;
`join_whole_days` joins them back for the form, `split_whole_days` splits them again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any, Literal

from ..const import CONF_READ_REGISTERS
from .engine import (
    FeedInPeriod,
    OffPeakRange,
    Tariff,
    TariffKind,
    TariffPeriod,
    TempoColour,
)

CONF_TARIFF = "tariff"
# "Periods from the meter": each day's buckets are the meter's register deltas (registers.py).
METER_PERIODS = "meter_periods"
METER_KINDS = frozenset({TariffKind.HP_HC, TariffKind.TEMPO})
METER_PERIODS_SHAPE = (OffPeakRange(time(22), time(6)),)
TEMPO_PRICE_KEYS = tuple(f"{colour}_{hours}" for colour in TempoColour for hours in ("hp", "hc"))
PRICE_KEYS = ("base_price", "hp_price", "hc_price")
ALL_DAYS = frozenset(range(7))
MIDNIGHT, NOON = time(0), time(12)

_KINDS = frozenset(str(kind) for kind in TariffKind)


# ---- options ⇄ engine ---------------------------------------------------------------------


def new_tariff_options(kind: TariffKind | str, currency: str) -> dict[str, Any]:
    """An empty tariff of `kind`: no period, no off-peak range, no entity, no feed-in."""
    return {
        "kind": str(TariffKind(kind)),
        "currency": currency,
        "periods": [],
        "off_peak": [],
        "tempo_entity": None,
        "price_entity": None,
        "feed_in": [],
    }


def stored_tariff(options: Mapping[str, Any]) -> dict[str, Any] | None:
    """A normalised copy of the stored tariff (every key present); None when there is none.

    `options` is `entry.options` (the tariff under "tariff") or the tariff mapping itself.
    """
    raw = options.get(CONF_TARIFF)
    if raw is None and ("periods" in options or "feed_in" in options):
        raw = options
    if not isinstance(raw, Mapping):
        return None
    kind = raw.get("kind") or TariffKind.BASE
    if not isinstance(kind, str) or kind not in _KINDS:
        return None
    tariff = new_tariff_options(kind, str(raw.get("currency") or "EUR"))
    for key in ("periods", "off_peak", "feed_in"):
        items = raw.get(key)
        if isinstance(items, list):
            tariff[key] = [dict(item) for item in items if isinstance(item, Mapping)]
    for key in ("tempo_entity", "price_entity"):
        tariff[key] = raw.get(key) or None
    if raw.get(METER_PERIODS) and kind in METER_KINDS:
        # Present only when on: a tariff stored before the option keeps its fingerprint.
        tariff[METER_PERIODS] = True
    return tariff


def tariff_from_options(options: Mapping[str, Any]) -> Tariff | None:
    """The engine's tariff from `entry.options` (or the tariff mapping itself).

    None when no tariff is configured or it has neither a consumption period nor a feed-in
    price. Malformed periods and ranges are skipped; missing prices are 0.
    """
    stored = stored_tariff(options)
    if stored is None:
        return None
    kind = TariffKind(stored["kind"])
    off_peak = off_peak_from_options(stored["off_peak"])
    if stored.get(METER_PERIODS) and kind is TariffKind.HP_HC and not off_peak:
        off_peak = METER_PERIODS_SHAPE  # only shapes the hours: the registers give the totals
    periods = sorted(
        (
            period
            for item in stored["periods"]
            if (period := period_from_options(item, kind, off_peak)) is not None
        ),
        key=lambda period: period.start,
    )
    feed_in = sorted(
        (feed for item in stored["feed_in"] if (feed := feed_in_from_options(item)) is not None),
        key=lambda feed: feed.start,
    )
    if not periods and not feed_in:
        return None
    return Tariff(tuple(periods), tuple(feed_in), stored["currency"])


def tariff_to_options(
    tariff: Tariff, *, tempo_entity: str | None = None, price_entity: str | None = None
) -> dict[str, Any]:
    """The stored form of an engine tariff whose periods share one kind and off-peak ranges.

    Raises ValueError("mixed_periods") otherwise: the options keep them per tariff.
    """
    kinds = {period.kind for period in tariff.periods}
    ranges = {period.off_peak for period in tariff.periods}
    if len(kinds) > 1 or len(ranges) > 1:
        raise ValueError("mixed_periods")
    stored = new_tariff_options(kinds.pop() if kinds else TariffKind.BASE, tariff.currency)
    stored["off_peak"] = off_peak_to_options(ranges.pop() if ranges else ())
    stored["periods"] = [
        period_to_options(period) for period in sorted(tariff.periods, key=lambda p: p.start)
    ]
    stored["feed_in"] = [
        feed_in_to_options(period) for period in sorted(tariff.feed_in, key=lambda p: p.start)
    ]
    stored["tempo_entity"], stored["price_entity"] = tempo_entity, price_entity
    return stored


def period_options(
    start: date,
    *,
    base_price: float = 0.0,
    hp_price: float = 0.0,
    hc_price: float = 0.0,
    tempo_prices: Mapping[str, float] | None = None,
    subscription: float = 0.0,
    subscription_per: Literal["month", "year"] = "month",
) -> dict[str, Any]:
    """One stored price set applying from local midnight of `start` on."""
    return {
        "start": start.isoformat(),
        "base_price": float(base_price),
        "hp_price": float(hp_price),
        "hc_price": float(hc_price),
        "tempo_prices": {key: float(value) for key, value in (tempo_prices or {}).items()},
        "subscription": float(subscription),
        "subscription_per": subscription_per,
    }


def period_to_options(period: TariffPeriod) -> dict[str, Any]:
    """The stored form of an engine period (its kind and ranges are the tariff's)."""
    return period_options(
        period.start,
        base_price=period.base_price,
        hp_price=period.hp_price,
        hc_price=period.hc_price,
        tempo_prices=period.tempo_prices,
        subscription=period.subscription,
        subscription_per=period.subscription_per,
    )


def period_from_options(
    item: Mapping[str, Any], kind: TariffKind, off_peak: Sequence[OffPeakRange] = ()
) -> TariffPeriod | None:
    """The engine period of a stored one; None when its start or a price is unreadable."""
    start = parse_date(item.get("start"))
    if start is None:
        return None
    try:
        prices = {key: float(item.get(key) or 0.0) for key in (*PRICE_KEYS, "subscription")}
        raw_tempo = item.get("tempo_prices") or {}
        tempo = {key: float(raw_tempo[key]) for key in TEMPO_PRICE_KEYS if key in raw_tempo}
    except TypeError, ValueError:
        return None
    return TariffPeriod(
        start=start,
        kind=kind,
        base_price=prices["base_price"],
        hp_price=prices["hp_price"],
        hc_price=prices["hc_price"],
        tempo_prices=tempo,
        off_peak=tuple(off_peak),
        subscription=prices["subscription"],
        subscription_per="year" if item.get("subscription_per") == "year" else "month",
    )


def feed_in_options(start: date, price: float) -> dict[str, Any]:
    """One stored feed-in price applying from local midnight of `start` on."""
    return {"start": start.isoformat(), "price": float(price)}


def feed_in_to_options(period: FeedInPeriod) -> dict[str, Any]:
    """The stored form of an engine feed-in period."""
    return feed_in_options(period.start, period.price)


def feed_in_from_options(item: Mapping[str, Any]) -> FeedInPeriod | None:
    """The engine feed-in period of a stored one; None when unreadable."""
    start = parse_date(item.get("start"))
    try:
        price = float(item.get("price") or 0.0)
    except TypeError, ValueError:
        return None
    return None if start is None else FeedInPeriod(start, price)


def off_peak_to_options(ranges: Iterable[OffPeakRange]) -> list[dict[str, Any]]:
    """Stored ranges: "HH:MM" wall times (midnight as "00:00") and sorted weekdays."""
    return [
        {
            "start": r.start.strftime("%H:%M"),
            "end": r.end.strftime("%H:%M"),
            "weekdays": sorted(r.weekdays),
        }
        for r in ranges
    ]


def off_peak_from_options(items: Iterable[Mapping[str, Any]]) -> tuple[OffPeakRange, ...]:
    """Engine ranges of the stored ones ("24:00" read as midnight); unreadable ones skipped."""
    ranges: list[OffPeakRange] = []
    for item in items:
        start = _stored_time(item.get("start"), end=False)
        end = _stored_time(item.get("end"), end=True)
        weekdays = item.get("weekdays")
        days = ALL_DAYS if weekdays is None else _weekdays(weekdays)
        if start is not None and end is not None and days is not None:
            ranges.append(OffPeakRange(start, end, days))
    return tuple(ranges)


def _stored_time(value: Any, *, end: bool) -> time | None:
    """A stored "HH:MM" wall time ("24:00" as an end is midnight); None when unreadable."""
    if not isinstance(value, str):
        return None
    if end and value.strip() == "24:00":
        return MIDNIGHT
    try:
        hours, minutes = (int(part) for part in re.split(r"[:h]", value.strip().lower()))
    except ValueError:
        return None
    return time(hours, minutes) if 0 <= hours < 24 and 0 <= minutes < 60 else None


def _weekdays(value: Any) -> frozenset[int] | None:
    if not isinstance(value, list) or not all(isinstance(day, int) for day in value):
        return None
    return frozenset(day for day in value if 0 <= day < 7)


def parse_date(value: Any) -> date | None:
    """A date from ISO text (or a date); None when unreadable."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# ---- dated changes ------------------------------------------------------------------------


def _replace_from(items: Iterable[Mapping[str, Any]], new: Mapping[str, Any]) -> list[Any]:
    start = parse_date(new.get("start"))
    if start is None:
        raise ValueError("invalid_date")
    kept: list[tuple[date, dict[str, Any]]] = [
        (day, dict(item))
        for item in items
        if (day := parse_date(item.get("start"))) is not None and day < start
    ]
    kept.append((start, dict(new)))
    return [item for _, item in sorted(kept, key=lambda pair: pair[0])]


def with_period(options_tariff: Mapping[str, Any], period: Mapping[str, Any]) -> dict[str, Any]:
    """A copy where `period` replaces every stored period starting on or after its start.

    Earlier periods are kept, so a price change from 1 February applies only from then on,
    and a start before the first period corrects every price. Raises ValueError("invalid_date").
    """
    return {
        **options_tariff,
        "periods": _replace_from(options_tariff.get("periods") or [], period),
    }


def with_feed_in(options_tariff: Mapping[str, Any], feed_in: Mapping[str, Any]) -> dict[str, Any]:
    """A copy where `feed_in` replaces every feed-in price starting on or after its start."""
    return {
        **options_tariff,
        "feed_in": _replace_from(options_tariff.get("feed_in") or [], feed_in),
    }


def apply_prices(
    current: Mapping[str, Any] | None,
    *,
    kind: TariffKind,
    currency: str,
    period: Mapping[str, Any],
    off_peak: Sequence[OffPeakRange] = (),
    tempo_entity: str | None = None,
    price_entity: str | None = None,
    meter_periods: bool = False,
) -> dict[str, Any]:
    """The stored tariff after entering a price set of `kind` in the options flow.

    The same kind keeps the periods before `period`'s start; another kind starts afresh
    (earlier prices of another kind cannot be read with the new one). Feed-in is always kept.
    Off-peak ranges and entities are the tariff's, so they apply to every period.
    """
    if current is not None and current.get("kind") == kind:
        base = dict(current)
    else:
        base = new_tariff_options(kind, currency)
        if current is not None:
            base["feed_in"] = list(current.get("feed_in") or [])
    base.update(
        currency=currency,
        off_peak=off_peak_to_options(off_peak),
        tempo_entity=tempo_entity,
        price_entity=price_entity,
    )
    base.pop(METER_PERIODS, None)
    if meter_periods and kind in METER_KINDS:
        base[METER_PERIODS] = True
    return with_period(base, period)


def with_meter_periods(options: Mapping[str, Any]) -> dict[str, Any]:
    """Entry options whose HP/HC or Tempo tariff takes its periods from the meter (its typed
    hours kept, to shape the hours), the meter's registers read."""
    stored = stored_tariff(options)
    if stored is None or stored["kind"] not in METER_KINDS:
        return dict(options)
    return {**options, CONF_TARIFF: {**stored, METER_PERIODS: True}, CONF_READ_REGISTERS: True}


# ---- off-peak ranges as the options flow asks them ----------------------------------------


def split_whole_days(ranges: Iterable[OffPeakRange]) -> list[OffPeakRange]:
    """Engine ranges of the ranges entered one per form, where 00:00 to 00:00 is a whole day.

    The engine reads a range that starts and ends at the same time as empty, so a whole day is
    00:00-12:00 plus 12:00-00:00 (the way it has always been stored).
    """
    out: list[OffPeakRange] = []
    for r in ranges:
        if r.start == r.end == MIDNIGHT:
            out += [
                OffPeakRange(MIDNIGHT, NOON, r.weekdays),
                OffPeakRange(NOON, MIDNIGHT, r.weekdays),
            ]
        else:
            out.append(r)
    return out


def join_whole_days(ranges: Sequence[OffPeakRange]) -> list[OffPeakRange]:
    """The ranges as the options flow shows them, one per form: the inverse of
    `split_whole_days` (00:00-12:00 followed by 12:00-00:00 on the same days is 00:00-00:00)."""
    out: list[OffPeakRange] = []
    index = 0
    while index < len(ranges):
        r = ranges[index]
        following = ranges[index + 1] if index + 1 < len(ranges) else None
        if r == OffPeakRange(MIDNIGHT, NOON, r.weekdays) and following == OffPeakRange(
            NOON, MIDNIGHT, r.weekdays
        ):
            out.append(OffPeakRange(MIDNIGHT, MIDNIGHT, r.weekdays))
            index += 2
            continue
        out.append(r)
        index += 1
    return out


# ---- what a tariff change makes stale -------------------------------------------------------

SPLIT_KEYS = ("kind", "off_peak", "tempo_entity", "price_entity", METER_PERIODS)


@dataclass(frozen=True, slots=True)
class Repricing:
    """What a tariff change makes stale (a day: from then on; None: from the start;
    `date.max`: nothing)."""

    consumption_from: date | None
    feed_in_from: date | None
    split: bool = True  # the buckets' energies changed (kind, off-peak hours, entities)
    buckets: frozenset[str] | None = None  # the buckets whose cost changed; None: every one


def repricing(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, buckets: Iterable[str]
) -> Repricing:
    """What must be priced again when the stored tariff goes from `old` to `new` (both as
    `stored_tariff` gives them); `buckets` are the new tariff's buckets."""
    if old is None or new is None:
        return Repricing(None, None)
    paid = _first_difference(old["feed_in"], new["feed_in"])
    if any(old.get(k) != new.get(k) for k in SPLIT_KEYS):
        return Repricing(None, paid)
    priced = _first_difference(old["periods"], new["periods"])
    changed = frozenset(
        bucket
        for bucket in buckets
        if _first_difference(_bucket_prices(old, bucket), _bucket_prices(new, bucket)) != date.max
    )
    return Repricing(priced, paid, split=False, buckets=changed)


def _bucket_prices(tariff: Mapping[str, Any], bucket: str) -> list[dict[str, Any]]:
    """The dated prices of one bucket (the periods reduced to what prices that bucket)."""
    return [
        {"start": period.get("start"), "price": _bucket_price(period, bucket)}
        for period in tariff.get("periods", [])
    ]


def _bucket_price(period: Mapping[str, Any], bucket: str) -> Any:
    if bucket.startswith("tempo_"):
        return (period.get("tempo_prices") or {}).get(bucket.removeprefix("tempo_"))
    return period.get(f"{bucket}_price")


def _first_difference(old: list[Any], new: list[Any]) -> date | None:
    """The first day on which two lists of dated items (sorted by "start") put different
    items in force; None from the very start, `date.max` when they agree on every day."""
    starts = sorted({item["start"] for item in [*old, *new]})
    for start in starts:
        if _in_force(old, start) != _in_force(new, start):
            return None if start == starts[0] else date.fromisoformat(start)
    return date.max


def _in_force(items: list[Any], day: str) -> Any:
    current = None
    for item in items:
        if item["start"] <= day:
            current = item
    return current
