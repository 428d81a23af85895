"""Linky scenarios' building blocks: entries, the measured first setup, expected rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_climkit.const import (
    CONF_API_URL,
    CONF_PRM,
    CONF_PROVIDER,
    CONF_SYNC_OFFSET,
    CONF_TOKEN,
    DOMAIN,
    PROVIDER_LINKY,
)
from custom_components.linky_climkit.linky.budget_store import BudgetRefused
from custom_components.linky_climkit.linky.coordinator import LinkyCoordinator
from custom_components.linky_climkit.linky.plan import (
    INITIAL_HISTORY_DAYS,
    MAX_POWER_HISTORY_DAYS,
    TRAILING_DAYS,
)
from custom_components.linky_climkit.statistics.aggregation import hour_starts
from custom_components.linky_climkit.statistics.ids import statistic_id
from tests.conftest import token_for
from tests.helpers.statistics_reader import hourly_rows
from tests.simulators.conso_api import PARIS, ConsoApiSimulator, MeterProfile

from .floor import Floor, quiesce, recorder_floor
from .harness import ThreadedService
from .probes import PHASE, Measurement, Phase, RowCounter, Write, settle, tag_phase

CHANNELS = ("consumption", "production", "max_power")


def entry_for(
    sim: ConsoApiSimulator, prm: str, offset: int, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    """A Linky entry on the simulator with its own token and sync offset (and options)."""
    return MockConfigEntry(
        domain=DOMAIN,
        options=options or {},
        title=f"Linky {prm}",
        unique_id=prm,
        data={
            CONF_PROVIDER: PROVIDER_LINKY,
            CONF_TOKEN: token_for(prm),
            CONF_PRM: prm,
            CONF_API_URL: sim.base_url,  # type: ignore[attr-defined]
            CONF_SYNC_OFFSET: offset,
        },
    )


def instrument(coordinator: LinkyCoordinator, fetches: list[tuple[str, str, date, date]]) -> None:
    """Tag what each kind of run writes and log every fetch with its phase."""
    coordinator._run_first_import = tag_phase(  # type: ignore[method-assign]
        "first_import", coordinator._run_first_import
    )
    coordinator._run_daily = tag_phase("daily", coordinator._run_daily)  # type: ignore[method-assign]
    coordinator._run_repairs = tag_phase(  # type: ignore[method-assign]
        "backfill", coordinator._run_repairs
    )
    fetch = coordinator.reader.fetch

    async def logged(type_: Any, start: date, end: date, priority: Any, into: Any) -> Any:
        try:
            result = await fetch(type_, start, end, priority, into)
        except BudgetRefused:
            raise  # postponed by the budget: nothing was sent
        except Exception:
            fetches.append((PHASE.get(), str(type_.value), start, end))
            raise
        fetches.append((PHASE.get(), str(type_.value), start, end))
        return result

    coordinator.reader.fetch = logged  # type: ignore[method-assign]


def days(first: date, end: date) -> list[date]:
    """[first, end)."""
    return [first + timedelta(days=i) for i in range((end - first).days)]


def hours_in(day: date) -> int:
    """Hourly rows of a Paris day (23, 24 or 25)."""
    return len(hour_starts(day, PARIS))


def expected_first_setup_rows(meter: MeterProfile, today: date) -> dict[str, int]:
    """Rows the first setup needs per channel: each published day once (one midnight row,
    or its hours when the load curve exists), one max-power row per day of the last year."""
    yesterday_end = today  # day D is published on D+1 08:00; setup runs after that
    first = max(meter.activation, today - timedelta(days=INITIAL_HISTORY_DAYS))
    since = meter.hourly_since
    recent = days(today - timedelta(days=TRAILING_DAYS), yesterday_end)
    hourly = set() if since is None else {d for d in recent if d >= since}
    energy = sum(hours_in(d) if d in hourly else 1 for d in days(first, yesterday_end))
    peak_first = max(meter.activation, today - timedelta(days=MAX_POWER_HISTORY_DAYS))
    expected = {"consumption": energy, "max_power": len(days(peak_first, yesterday_end))}
    if meter.has_production:
        expected["production"] = energy
    return expected


def rewritten(writes: Sequence[Write]) -> int:
    """Rows written more than once (same statistic, same start)."""
    seen: Counter[tuple[str, float]] = Counter()
    for write in writes:
        seen.update((write.statistic_id, s) for s in write.starts)
    return sum(n - 1 for n in seen.values() if n > 1)


async def stored_rows(hass: HomeAssistant, prm: str) -> dict[str, int]:
    """Rows in the recorder per channel of a PRM."""
    return {c: len(await hourly_rows(hass, statistic_id(prm, c))) for c in CHANNELS}


@dataclass(slots=True)
class SetupRun:
    """A measured first setup."""

    measurement: Measurement
    floor: Floor
    calls: int
    written: dict[str, int]
    expected: dict[str, int]
    stored: dict[str, int]
    duplicates: int
    recorder_ours: float  # recorder thread seconds importing our rows
    recorder_floor: float  # the same for the floor's replay of them

    @property
    def rows(self) -> int:
        """Rows written."""
        return sum(self.written.values())

    @property
    def ratio(self) -> float:
        """Our wall time (services excluded) over the recorder floor for the same rows."""
        return self.measurement.ours / self.floor.wall if self.floor.wall else float("inf")


async def measured_first_setup(
    hass: HomeAssistant,
    sim: ConsoApiSimulator,
    service: ThreadedService,
    counter: RowCounter,
    meter: MeterProfile,
    offset: int,
    *,
    memory: bool,
    fetches: list[tuple[str, str, date, date]] | None = None,
) -> tuple[SetupRun, MockConfigEntry]:
    """Add the entry and time its first setup until the recorder has written everything;
    then write the same rows directly (the floor). Later fetches go to `fetches`."""
    today = dt_util.utcnow().astimezone(PARIS).date()
    entry = entry_for(sim, meter.prm, offset)
    entry.add_to_hass(hass)
    await quiesce(hass)
    imports = len(counter.imports)
    mark = counter.mark()
    calls_before = len(sim.calls)
    token = PHASE.set("first_import")
    try:
        name = "" if memory else f"linky first setup {meter.prm}"
        async with Phase([service.busy], memory=memory, name=name) as measurement:
            assert await hass.config_entries.async_setup(entry.entry_id)
            await settle(hass)
    finally:
        PHASE.reset(token)
    writes = counter.writes_since(mark)
    floor = await recorder_floor(hass, writes)
    written: Counter[str] = Counter()
    for write in writes:
        written[write.statistic_id.rsplit(meter.prm + "_", 1)[-1]] += write.rows
    instrument(entry.runtime_data, fetches if fetches is not None else [])
    run = SetupRun(
        measurement=measurement,
        floor=floor,
        calls=len(sim.calls) - calls_before,
        written=dict(written),
        expected=expected_first_setup_rows(meter, today),
        stored={k: v for k, v in (await stored_rows(hass, meter.prm)).items() if v},
        duplicates=rewritten(writes),
        recorder_ours=sum(
            w.seconds for w in counter.imports[imports:] if w.statistic_id.startswith(DOMAIN)
        ),
        recorder_floor=sum(
            w.seconds for w in counter.imports[imports:] if w.statistic_id.startswith("bench:floor")
        ),
    )
    return run, entry
