"""The repair issues of a Linky entry, raised and cleared from a run's outcome and the state."""

from __future__ import annotations

from datetime import date, datetime

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..providers.errors import (
    AuthError,
    BlockedError,
    NotAuthorisedError,
    ProviderError,
    QuotaError,
)
from ..repair_issues import (
    NO_DATA_DAYS,
    FailureTable,
    Problem,
    clear_problem,
    local_date,
    local_time,
    raise_problem,
    report_failure,
    set_problem,
    token_expiring,
)
from ..tariffs.engine import OffPeakRange
from ..tariffs.hours_check import HoursCheck, describe
from ..tariffs.stored import off_peak_from_options, stored_tariff
from .state import LinkyState

LINKY_FAILURES: FailureTable = (
    (AuthError, Problem.TOKEN_INVALID),
    (NotAuthorisedError, Problem.PRM_NOT_AUTHORISED),
    (BlockedError, Problem.BLOCKED),
    (QuotaError, Problem.QUOTA),
)


def update_problems(
    hass: HomeAssistant,
    entry: ConfigEntry,
    state: LinkyState,
    failure: ProviderError | None,
    *,
    answered: bool,
    token_expiry: datetime | None,
    today: date,
) -> None:
    """Raise or clear the entry's repair issues: the token's expiry, this run's failure (the
    others clear once Conso API answered), refused production, hourly collection off, no new
    data for days."""
    set_problem(
        hass,
        entry,
        Problem.TOKEN_EXPIRING,
        token_expiring(token_expiry),
        {"date": local_date(token_expiry) if token_expiry else ""},
    )
    until = local_time(state.backoff_until) if state.backoff_until else ""
    report_failure(hass, entry, LINKY_FAILURES, failure, answered, {"until": until})
    set_problem(hass, entry, Problem.PRODUCTION_NOT_AUTHORISED, state.production_refused)
    set_problem(hass, entry, Problem.HOURLY_COLLECTION_DISABLED, state.hourly_missing)
    last = state.last_day
    stale = state.initialised and last is not None and (today - last).days > NO_DATA_DAYS
    set_problem(
        hass, entry, Problem.NO_NEW_DATA, stale, {"last_day": last.isoformat() if last else ""}
    )


def update_hours_problem(hass: HomeAssistant, entry: ConfigEntry, found: HoursCheck | None) -> None:
    """Say when the meter's registers disagree with the typed off-peak hours: with the
    meter's hours when the registers tell them (both issues offer periods from the meter)."""
    active: Problem | None = None
    placeholders: dict[str, str] = {}
    if found is not None and found.disagree:
        placeholders = {"entered": describe(_entered(entry)), "days": str(found.days)}
        if (meter := found.meter) is not None:
            active, placeholders["meter"] = Problem.OFF_PEAK_HOURS, describe(meter)
        else:
            active = Problem.OFF_PEAK_HOURS_UNKNOWN
    for problem in (Problem.OFF_PEAK_HOURS, Problem.OFF_PEAK_HOURS_UNKNOWN):
        if problem is active:
            raise_problem(hass, entry, problem, placeholders)
        else:
            clear_problem(hass, entry, problem)


def _entered(entry: ConfigEntry) -> tuple[OffPeakRange, ...]:
    stored = stored_tariff(entry.options)
    return off_peak_from_options(stored["off_peak"]) if stored is not None else ()
