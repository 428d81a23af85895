"""Conso API answers → the neutral model: each type's payload as a `Series`, a run's series
grouped by channel, and the batch of local days the pipeline imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..model import Channel, DayValue, Interval, MeterIndex, Peak, Series
from ..pipeline import Batch
from ..providers.conso_api import ConsoApiType
from ..providers.conso_api_index import parse_index
from ..providers.conso_api_parse import PARIS, parse_daily, parse_load_curve, parse_max_power
from ..statistics.aggregation import build_days

PRODUCTION_TYPES = (ConsoApiType.DAILY_PRODUCTION, ConsoApiType.PRODUCTION_LOAD_CURVE)


def channel_of(type_: ConsoApiType) -> Channel:
    """The energy channel a Conso API type measures."""
    production = (*PRODUCTION_TYPES, ConsoApiType.PRODUCTION_INDEX)
    return Channel.PRODUCTION if type_ in production else Channel.CONSUMPTION


def parse(type_: ConsoApiType, payload: dict[str, Any], start: date, end: date) -> Series:
    """One answer of `type_` for the days [start, end) as a series (nothing outside them)."""
    if type_ is ConsoApiType.MAX_POWER:
        return parse_max_power(payload, start, end)
    if type_ in (ConsoApiType.CONSUMPTION_INDEX, ConsoApiType.PRODUCTION_INDEX):
        return parse_index(payload, channel_of(type_), start, end)
    if type_.is_load_curve:
        return parse_load_curve(payload, channel_of(type_), start, end)
    return parse_daily(payload, channel_of(type_), start, end)


@dataclass(slots=True)
class Collected:
    """Series fetched in one run, grouped by channel, imported together."""

    daily: dict[Channel, list[DayValue]] = field(default_factory=dict)
    intervals: dict[Channel, list[Interval]] = field(default_factory=dict)
    peaks: list[Peak] = field(default_factory=list)
    indexes: dict[Channel, list[MeterIndex]] = field(default_factory=dict)  # its registers
    asked: list[tuple[ConsoApiType, date, date]] = field(default_factory=list)  # answered ranges

    def add(self, series: Series) -> None:
        """Keep one more answer."""
        self.daily.setdefault(series.channel, []).extend(series.daily)
        self.intervals.setdefault(series.channel, []).extend(series.intervals)
        self.peaks.extend(series.peaks)
        if series.indexes:
            self.indexes.setdefault(series.channel, []).extend(series.indexes)

    def days_of(self, channel: Channel) -> set[date]:
        """The days a daily figure was received for."""
        return {d.day for d in self.daily.get(channel, [])}

    def batch(self, prm: str) -> Batch:
        """Local days per channel (each day's total is Enedis' daily figure, its hours the
        load curve's shape), the daily peaks, and the load curve to archive for pricing."""
        batch = Batch()
        for channel in (Channel.CONSUMPTION, Channel.PRODUCTION):
            intervals = self.intervals.get(channel, [])
            days = build_days(self.daily.get(channel, []), intervals, PARIS)
            if days:
                batch.days[(prm, channel)] = days
                batch.curves[channel] = intervals
        if self.peaks:
            batch.peaks[(prm, Channel.MAX_POWER)] = list(self.peaks)
        return batch
