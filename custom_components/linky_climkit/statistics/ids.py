"""Statistic ids, names, units and metadata: derived from the provider's ids only, never
from entity names; an id never changes once written."""

from __future__ import annotations

import re
from dataclasses import dataclass

from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.models.statistics import StatisticMetaData
from homeassistant.util.unit_conversion import ApparentPowerConverter, EnergyConverter

from ..const import DOMAIN

_SLUG = re.compile(r"[^a-z0-9]+")


def statistic_id(meter: str, channel: str) -> str:
    """`linky_climkit:<meter>_<channel>`, derived from the provider's ids only."""
    slug = _SLUG.sub("_", f"{meter}_{channel}".lower()).strip("_")
    return f"{DOMAIN}:{slug}"


@dataclass(frozen=True, slots=True)
class StatisticSpec:
    """What the importer needs to know about one statistic."""

    statistic_id: str
    name: str
    unit: str
    unit_class: str | None
    has_sum: bool = True

    def metadata(self) -> StatisticMetaData:
        """Recorder metadata for this statistic."""
        return StatisticMetaData(
            has_sum=self.has_sum,
            mean_type=StatisticMeanType.NONE if self.has_sum else StatisticMeanType.ARITHMETIC,
            name=self.name,
            source=DOMAIN,
            statistic_id=self.statistic_id,
            unit_class=self.unit_class,
            unit_of_measurement=self.unit,
        )


def money_spec(meter: str, channel: str, name: str, currency: str) -> StatisticSpec:
    """A cost (or compensation) statistic in a currency."""
    return StatisticSpec(statistic_id(meter, channel), name, currency, None)


def energy_spec(meter: str, channel: str, name: str) -> StatisticSpec:
    """An energy statistic in kWh."""
    return StatisticSpec(statistic_id(meter, channel), name, "kWh", EnergyConverter.UNIT_CLASS)


def peak_spec(meter: str, channel: str, name: str) -> StatisticSpec:
    """A daily maximum in kVA."""
    return StatisticSpec(
        statistic_id(meter, channel), name, "kVA", ApparentPowerConverter.UNIT_CLASS, False
    )
