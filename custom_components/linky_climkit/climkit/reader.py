"""Reading a window of a Climkit site's days: every meter type's 15-minute rows, parsed and
grouped in a worker thread. During the history import the next window is read while the
recorder commits the one just imported (`ahead`): the pacer, not the recorder, sets the pace."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..providers.climkit import ClimkitClient
from ..providers.climkit_model import MeterInfo
from .adapter import PreparedWindow, prepare_window
from .window import request_span


@dataclass(frozen=True, slots=True)
class WindowAsk:
    """The local days [first, end) of a site, for these meter types and meters."""

    site_id: str
    first: date
    end: date
    types: tuple[str, ...]
    meters: tuple[MeterInfo, ...]
    tz: ZoneInfo


class SiteReader:
    """Reads windows of one site; at most one is read ahead."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, client: ClimkitClient) -> None:
        """Nothing is read here."""
        self._hass = hass
        self._entry = entry
        self._client = client
        self.ahead: tuple[WindowAsk, asyncio.Task[PreparedWindow]] | None = None

    async def read(self, ask: WindowAsk) -> PreparedWindow:
        """The window: the one read ahead when it is this one (its error is raised here),
        else read now."""
        ahead, self.ahead = self.ahead, None
        if ahead is not None:
            if ahead[0] == ask:
                return await ahead[1]
            _drop(ahead[1])
        return await self._read(ask)

    def read_ahead(self, ask: WindowAsk) -> None:
        """Start reading `ask` now, for the run that will need it."""
        self.cancel()
        task = self._entry.async_create_background_task(
            self._hass, self._read(ask), f"climkit {ask.site_id} read ahead", eager_start=False
        )
        self.ahead = (ask, task)

    def cancel(self) -> None:
        """Drop the window read ahead, if any (unload)."""
        if self.ahead is not None:
            _drop(self.ahead[1])
            self.ahead = None

    async def _read(self, ask: WindowAsk) -> PreparedWindow:
        start_utc, end_utc = request_span(ask.first, ask.end, ask.tz)
        answers: list[tuple[str, list[dict[str, Any]]]] = []
        for meter_type in ask.types:
            rows = await self._client.site_data(ask.site_id, meter_type, start_utc, end_utc)
            answers.append((meter_type, rows))
        # Parsing and grouping a month of 15-minute rows for every meter is CPU work: a
        # worker thread does it so the event loop never stalls.
        return await self._hass.async_add_executor_job(
            prepare_window, answers, ask.site_id, ask.meters, ask.tz, ask.first, ask.end
        )


def _drop(task: asyncio.Task[PreparedWindow]) -> None:
    """Cancel a read nobody will use (its error, if any, is retrieved: never logged)."""
    task.cancel()
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
