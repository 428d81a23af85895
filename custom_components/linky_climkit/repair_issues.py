"""Repair issues: tell the user what happened and what to do; they clear themselves.

Every issue is per entry (`<kind>_<entry_id>`) and is deleted as soon as its cause is gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .providers.errors import ProviderError

TOKEN_WARNING = timedelta(days=30)
NO_DATA_DAYS = 3


class Problem(StrEnum):
    """The repair issues this integration raises (also their translation keys)."""

    TOKEN_EXPIRING = "token_expiring"
    TOKEN_INVALID = "token_invalid"
    PRM_NOT_AUTHORISED = "prm_not_authorised"
    PRODUCTION_NOT_AUTHORISED = "production_not_authorised"
    HOURLY_COLLECTION_DISABLED = "hourly_collection_disabled"
    QUOTA = "quota"
    BLOCKED = "blocked"
    NO_NEW_DATA = "no_new_data"
    CLIMKIT_AUTH = "climkit_auth"
    SITE_GONE = "site_gone"
    GATEWAY_UNREACHABLE = "gateway_unreachable"
    OFF_PEAK_HOURS = "off_peak_hours"  # the registers say the meter's hours (fixable)
    OFF_PEAK_HOURS_UNKNOWN = "off_peak_hours_unknown"  # they disagree, hours not found
    REGISTERS_REFUSED = "registers_refused"  # Conso API refuses the index type


FIXABLE = frozenset({Problem.OFF_PEAK_HOURS, Problem.OFF_PEAK_HOURS_UNKNOWN})


SEVERITY = {
    Problem.TOKEN_INVALID: ir.IssueSeverity.ERROR,
    Problem.CLIMKIT_AUTH: ir.IssueSeverity.ERROR,
    Problem.PRM_NOT_AUTHORISED: ir.IssueSeverity.ERROR,
    Problem.SITE_GONE: ir.IssueSeverity.ERROR,
}


def issue_id(problem: Problem, entry: ConfigEntry) -> str:
    """The issue id of one problem of one entry."""
    return f"{problem.value}_{entry.entry_id}"


def raise_problem(
    hass: HomeAssistant,
    entry: ConfigEntry,
    problem: Problem,
    placeholders: dict[str, str] | None = None,
) -> None:
    """Create (or update) the issue."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(problem, entry),
        is_fixable=problem in FIXABLE,
        is_persistent=False,
        data={"entry_id": entry.entry_id, "problem": problem.value} if problem in FIXABLE else None,
        severity=SEVERITY.get(problem, ir.IssueSeverity.WARNING),
        translation_key=problem.value,
        translation_placeholders={"name": entry.title, **(placeholders or {})},
    )


def clear_problem(hass: HomeAssistant, entry: ConfigEntry, problem: Problem) -> None:
    """Delete the issue if it exists."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(problem, entry))


def set_problem(
    hass: HomeAssistant,
    entry: ConfigEntry,
    problem: Problem,
    active: bool,
    placeholders: dict[str, str] | None = None,
) -> None:
    """Raise or clear, depending on whether the cause is present."""
    if active:
        raise_problem(hass, entry, problem, placeholders)
    else:
        clear_problem(hass, entry, problem)


def clear_all(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Remove every issue of an entry (entry removed)."""
    for problem in Problem:
        clear_problem(hass, entry, problem)


def token_expiring(expires_at: datetime | None) -> bool:
    """Whether a token expires within 30 days."""
    return expires_at is not None and expires_at - dt_util.utcnow() <= TOKEN_WARNING


def local_date(moment: datetime) -> str:
    """A date for a message, in Home Assistant's time zone (as given at the ends of the
    calendar, where the local one does not exist: a token said to expire in year 9999)."""
    try:
        return dt_util.as_local(moment).date().isoformat()
    except OverflowError, ValueError:
        return moment.date().isoformat()


def local_time(moment: datetime) -> str:
    """A date and time for a message, in Home Assistant's time zone (as given, with its
    offset, where the local one does not exist)."""
    try:
        return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M")
    except OverflowError, ValueError:
        return moment.isoformat(sep=" ", timespec="minutes")


type FailureTable = tuple[tuple[type[ProviderError], Problem], ...]


def report_failure(
    hass: HomeAssistant,
    entry: ConfigEntry,
    table: FailureTable,
    failure: ProviderError | None,
    answered: bool,
    placeholders: dict[str, str],
) -> None:
    """Raise the issue of this run's failure (the first row of `table` it matches); clear
    the table's other issues once the provider answered without failing."""
    active = next((p for cls, p in table if isinstance(failure, cls)), None)
    for problem in {p for _, p in table}:
        if problem is active:
            raise_problem(hass, entry, problem, {**placeholders, "error": str(failure)})
        elif answered:
            clear_problem(hass, entry, problem)
