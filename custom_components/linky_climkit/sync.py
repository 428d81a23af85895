"""The run skeleton every scheduled provider coordinator shares: its own timer (no polling
interval), the back-off gate (backoff.py), provider errors mapped to re-authentication or a
translated `UpdateFailed`, any other exception backed off the same way, the state saved and
the next run armed after every run, whatever happened; nothing re-armed once unloaded.

The state holds cursors (what is imported): it is saved only once the recorder has committed
the rows (`_save_progress`), and before the first run after a start, `async_repair` checks and
repairs what a hard stop left half done (DESIGN invariant 7)."""

from __future__ import annotations

import logging
import traceback
from abc import abstractmethod
from datetime import date, datetime, timedelta

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import backoff
from .backoff import BackoffState, Bases
from .const import DOMAIN
from .faults import fault_point
from .pipeline import Pipeline
from .providers.errors import (
    AuthError,
    InvalidResponseError,
    ProviderError,
    RedirectError,
    RequestError,
    UpstreamError,
)
from .repair_issues import local_time

type ErrorKeys = tuple[tuple[type[ProviderError], str], ...]
type RunState = BackoffState  # what the skeleton reads and writes of a wing's state

UNEXPECTED_KEY = "unexpected_error"


def describe(err: Exception) -> str:
    """What may be shown or logged of an error: a provider error's message (never a
    secret), only the type of any other (its message may hold anything)."""
    return str(err) if isinstance(err, ProviderError) else type(err).__name__


_LOGGER = logging.getLogger(__package__)
REPAIR_FAILURE_PAUSE = timedelta(hours=3)  # filling a gap failed: the repairs wait this long


def repair_may_wait(err: ProviderError) -> bool:
    """Whether an error met while filling a gap only pauses the repairs (a passing outage, an
    answer refused): the entry's back-off, which also delays the daily sync, is for what
    concerns the whole entry (credentials, consent, quota, a redirect, a site gone)."""
    local = (UpstreamError, RequestError, InvalidResponseError)
    return isinstance(err, local) and not isinstance(err, RedirectError)


class SyncRefused(Exception):
    """The `sync_now` action cannot run; `key` is the translation key of the reason."""

    def __init__(self, key: str) -> None:
        """Refused for `key`."""
        super().__init__(key)
        self.key = key


class ScheduledCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Runs when its own schedule says so (daily syncs, retries, backfill), never on a period.

    A wing implements `_run` (the calls and imports of one run), `_save`, `_schedule_next`
    (never before `state.backoff_until`), `_update_problems` and `snapshot`, names its
    translation keys (`AUTH_KEY` for refused credentials, `ERROR_KEYS` (first match) and
    `ERROR_KEY` for the other provider errors) and the base delays of its errors'
    back-off (`BACKOFF_BASES`, first match; backoff.py)."""

    AUTH_KEY: str
    ERROR_KEYS: ErrorKeys = ()
    ERROR_KEY: str
    BACKOFF_BASES: Bases = ()
    state: RunState
    pipeline: Pipeline

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, name: str) -> None:
        """No update_interval: `arm` decides the next run."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {name}",
            update_interval=None,
            always_update=False,
        )
        self.next_run: datetime | None = None
        self.auth_failed = False
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._stopped = False
        self.running = False  # a run is under way (it arms the next one when it ends)

    @callback
    def arm(self, when: datetime) -> None:
        """Run again at `when` (at least one second from now); never after refused credentials
        (nothing is called until the user gives new ones, the entry then reloads), nor once
        unloaded (a run that ends after the unload must not re-arm)."""
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        if self.auth_failed or self._stopped:
            self.next_run = None
            return
        self.next_run = max(when, dt_util.utcnow() + timedelta(seconds=1))
        self._unsub_timer = async_track_point_in_utc_time(self.hass, self._on_timer, self.next_run)

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._unsub_timer = None
        assert self.config_entry is not None
        self.config_entry.async_create_background_task(
            self.hass, self.async_refresh(), f"{self.name} sync"
        )

    @callback
    def async_cancel_timer(self) -> None:
        """Stop the schedule for good (unload)."""
        self._stopped = True
        self._disarm()

    @callback
    def _disarm(self) -> None:
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None

    async def async_repair(self) -> None:
        """Once started, before the first run: what a hard stop left half done (the journal)
        is checked and repaired; days whose energy is lost are queued to be read again, and
        that queue is saved before the journal forgets them."""
        if not self.pipeline.journal.pending:
            return
        try:
            refetch = await self.pipeline.async_repair()
        except Exception:
            _LOGGER.exception("Repair after a hard stop failed; it is tried again at next start")
            return
        for first, last in refetch:
            self.pipeline.ledger.forget(first, last + timedelta(days=1))
            self.request_history(first, last)
        self._disarm()  # the first run follows at once
        await self._save_progress()
        await self.pipeline.journal.async_forget_pending()

    async def _save_progress(self) -> None:
        """Save the state once the recorder has committed every row it counts as imported:
        a hard stop never leaves a cursor past rows that are not written."""
        await self.pipeline.commit()
        await self._save()
        if self.pipeline.take_written():
            fault_point("progress.saved")

    async def async_restore(self) -> None:
        """Read the persisted state and show it: no provider call, no recorder wait (the set-up
        runs before Home Assistant has started; the first run comes after)."""
        await self._async_setup()
        self.data = self.snapshot()

    # ---- one run ----------------------------------------------------------------------

    async def _async_update_data(self) -> DataT:
        now = dt_util.utcnow()
        assert self.config_entry is not None
        failure: ProviderError | None = None
        self.running = True
        try:
            await self._run_local()
            if backoff.gate_open(self.state, now):
                await self._run(now)
                backoff.succeeded(self.state)
        except AuthError as err:
            failure = err
            self.auth_failed = True
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key=self.AUTH_KEY
            ) from err
        except ProviderError as err:
            failure = err
            self._back_off(err)
            key = next((k for cls, k in self.ERROR_KEYS if isinstance(err, cls)), None)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=key or self.ERROR_KEY,
                translation_placeholders={"error": str(err)},
            ) from err
        except Exception as err:
            # A bug or an answer nobody foresaw: never retried at once (a run that fails
            # this way would otherwise be armed again within a second or a minute).
            until = self._back_off(err)
            _LOGGER.error(  # where it happened, not its message (which may hold anything)
                "%s: unexpected %s, next attempt after %s\n%s",
                self.name,
                describe(err),
                until.isoformat(),
                "".join(traceback.format_tb(err.__traceback__)),
            )
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=UNEXPECTED_KEY,
                translation_placeholders={"error": describe(err), "until": local_time(until)},
            ) from None  # (its message is not shown, nor logged)
        finally:
            self.running = False
            await self._save_progress()
            self._schedule_next()
            self._update_problems(failure)
            if not self._stopped:
                self._after_run()
        return self.snapshot()

    def _back_off(self, err: Exception) -> datetime:
        """Wait before the next run after `err` (backoff.py); returns until when."""
        now = dt_util.utcnow()
        until = backoff.back_off(self.state, err, now, self.BACKOFF_BASES)
        self._note_failure(err, now)
        return until

    def _note_failure(self, err: Exception, at: datetime) -> None:
        """What a wing remembers of a failed run (e.g. for its diagnostics)."""

    def _after_run(self) -> None:
        """What a wing does once the run is saved and the next one armed (e.g. reload);
        never once unloaded."""

    async def _run_local(self) -> None:
        """Work that calls no provider (history brought from elsewhere): it runs even while
        the provider's back-off holds the calls."""

    @abstractmethod
    async def _run(self, now: datetime) -> None:
        """The calls and imports of one run (the back-off gate is open)."""

    @abstractmethod
    async def _save(self) -> None:
        """Persist the state (progress: through `_save_progress`)."""

    @abstractmethod
    def request_history(self, first: date, last: date) -> object:
        """Queue [first, last] (local days) to be read again; no call here."""

    @abstractmethod
    def _schedule_next(self) -> None:
        """Arm the timer for the next run."""

    @abstractmethod
    def _update_problems(self, failure: ProviderError | None) -> None:
        """Raise or clear the entry's repair issues from this run's outcome."""

    @abstractmethod
    def snapshot(self) -> DataT:
        """What the entities show."""
