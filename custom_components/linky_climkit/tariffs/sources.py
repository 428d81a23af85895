"""What a Tempo or dynamic tariff reads from other entities: the recorder history of the Tempo
colour entity and of the price entity, turned into the engine's `colour_of` / `price_at`."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components.recorder import history
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.recorder import get_instance

from .engine import TempoColour, to_per_kwh

# The names Tempo integrations give the colours (RTE Tempo, EDF Tempo, …), lower-cased.
COLOUR_NAMES: Mapping[str, TempoColour] = {
    "blue": TempoColour.BLUE,
    "bleu": TempoColour.BLUE,
    "tempo_bleu": TempoColour.BLUE,
    "white": TempoColour.WHITE,
    "blanc": TempoColour.WHITE,
    "tempo_blanc": TempoColour.WHITE,
    "red": TempoColour.RED,
    "rouge": TempoColour.RED,
    "tempo_rouge": TempoColour.RED,
}
# The colour of Tempo day D is the entity's state at noon on D (the day runs 06:00-06:00).
COLOUR_READ_AT = time(12)


def colour_from_state(value: str) -> TempoColour | None:
    """A Tempo colour from an entity state, None when unknown."""
    return COLOUR_NAMES.get(value.strip().lower())


@dataclass(slots=True)
class History:
    """An entity's states (change time, state) in time order."""

    times: list[datetime] = field(default_factory=list)
    states: list[State] = field(default_factory=list)

    def at(self, instant: datetime) -> State | None:
        """The state valid at `instant`."""
        index = bisect_right(self.times, instant) - 1
        return self.states[index] if index >= 0 else None


async def load_history(
    hass: HomeAssistant, entity_id: str | None, start: datetime, end: datetime
) -> History:
    """The recorded states of `entity_id` over [start, end), with the one valid at start."""
    if not entity_id:
        return History()
    found = await get_instance(hass).async_add_executor_job(_states, hass, start, end, entity_id)
    states = sorted(found, key=lambda s: s.last_changed)
    return History([s.last_changed.astimezone(UTC) for s in states], states)


def _states(hass: HomeAssistant, start: datetime, end: datetime, entity_id: str) -> Sequence[State]:
    return history.state_changes_during_period(
        hass, start, end, entity_id, include_start_time_state=True
    ).get(entity_id, [])


def colour_lookup(states: History, tz: ZoneInfo) -> Callable[[date], TempoColour | None]:
    """`colour_of(day)` for the engine."""

    def colour_of(day: date) -> TempoColour | None:
        state = states.at(datetime.combine(day, COLOUR_READ_AT, tz).astimezone(UTC))
        return None if state is None else colour_from_state(state.state)

    return colour_of


def price_lookup(states: History) -> Callable[[datetime], float | None]:
    """`price_at(instant)` in currency per kWh for the engine."""

    def price_at(instant: datetime) -> float | None:
        state = states.at(instant.astimezone(UTC))
        if state is None:
            return None
        return per_kwh(state.state, state.attributes)

    return price_at


def per_kwh(value: str, attributes: Mapping[str, Any]) -> float | None:
    """A price state converted to currency per kWh (None when not a number or unit unknown)."""
    try:
        number = float(value)
    except ValueError:
        return None
    return to_per_kwh(number, str(attributes.get(ATTR_UNIT_OF_MEASUREMENT) or ""))


def window(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight of first − 1 day, local midnight after last): Tempo hours before 06:00
    belong to the day before."""
    start = datetime.combine(first - timedelta(days=1), time(), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end
