"""Options steps of a Linky meter's "Import history": adopt another integration's statistics
or import an Enedis file, see what would be written, then start the import (linky/history.py).

The file is read and parsed in a worker thread; the statistic is read in the recorder's.
Nothing is written before the user confirms the preview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    FileSelector,
    FileSelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    StatisticSelector,
    StatisticSelectorConfig,
)
from homeassistant.setup import async_setup_component

from ..model import Channel
from ..providers.enedis_csv import FileProblem, HistoryFile, read_history_file
from .adopt import Candidate, async_candidates, async_read_statistic, known_tool
from .history import Brought, ChannelPlan, from_file, plan

if TYPE_CHECKING:
    from .coordinator import LinkyCoordinator

CONF_STATISTIC = "statistic"
CONF_FILE = "file"
CONF_CHANNEL = "channel"
OTHER = "other"  # another statistic, picked with the statistic selector
AUTO = "auto"
CHANNEL_OPTIONS = "history_channel"  # selector.<key>.options in the translations
STATISTIC_OPTIONS = "history_statistic"
CHANNEL_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[AUTO, Channel.CONSUMPTION.value, Channel.PRODUCTION.value],
        mode=SelectSelectorMode.LIST,
        translation_key=CHANNEL_OPTIONS,
    )
)
FILE_ACCEPT = ".csv,text/csv,text/plain"


def read_upload(hass: HomeAssistant, file_id: str) -> tuple[str, bytes]:
    """The uploaded file's name and bytes (worker thread; the upload is then deleted)."""
    from homeassistant.components.file_upload import process_uploaded_file

    with process_uploaded_file(hass, file_id) as path:
        return path.name, path.read_bytes()


def parse_upload(hass: HomeAssistant, file_id: str) -> tuple[str, HistoryFile]:
    """The uploaded file, parsed (worker thread: 2 years of half-hours are ~35k lines)."""
    name, raw = read_upload(hass, file_id)
    return name, read_history_file(raw, name)


def _chosen(user_input: dict[str, Any]) -> Channel | None:
    value = user_input.get(CONF_CHANNEL, AUTO)
    return None if value == AUTO else Channel(value)


class HistoryOptionSteps(OptionsFlow):
    """The "Import history" steps of a Linky meter's options."""

    _brought: Brought | None = None
    _plans: dict[Channel, ChannelPlan] | None = None
    _candidates: list[Candidate] | None = None
    _dropped = 0
    _reason = "history_file"  # or "history_statistic": the import event's reason

    def _coordinator(self) -> LinkyCoordinator | None:
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return None
        runtime: LinkyCoordinator = entry.runtime_data
        return runtime

    def _target(self) -> str:
        """The statistic the energy goes into."""
        coordinator = self._coordinator()
        assert coordinator is not None
        assert self._brought is not None
        channel = next(iter(self._brought.days), Channel.MAX_POWER)
        return coordinator.specs[channel].statistic_id

    def _prm(self) -> str:
        coordinator = self._coordinator()
        assert coordinator is not None
        return coordinator.prm

    async def async_step_import_history(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Adopt another integration's statistics, or import an Enedis file."""
        if self._coordinator() is None:
            return self.async_abort(reason="not_loaded")
        return self.async_show_menu(
            step_id="import_history", menu_options=["history_statistic", "history_file"]
        )

    # ---- another integration's statistics ----------------------------------------------

    async def async_step_history_statistic(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The known tools' statistics of this meter first, then any energy statistic."""
        prm = self._prm()
        if self._candidates is None:
            self._candidates = await async_candidates(self.hass, prm)
        if user_input is not None:
            if user_input[CONF_STATISTIC] == OTHER:
                return await self.async_step_history_other_statistic()
            return await self._adopt(user_input[CONF_STATISTIC], _chosen(user_input))
        options = [SelectOptionDict(value=c.statistic_id, label=c.label) for c in self._candidates]
        options.append(SelectOptionDict(value=OTHER, label=OTHER))
        default = self._candidates[0].statistic_id if self._candidates else OTHER
        schema = vol.Schema(
            {
                vol.Required(CONF_STATISTIC, default=default): SelectSelector(
                    SelectSelectorConfig(
                        options=options,
                        mode=SelectSelectorMode.DROPDOWN,
                        translation_key=STATISTIC_OPTIONS,
                    )
                ),
                vol.Required(CONF_CHANNEL, default=AUTO): CHANNEL_SELECTOR,
            }
        )
        return self.async_show_form(step_id="history_statistic", data_schema=schema)

    async def async_step_history_other_statistic(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Any statistic, from Home Assistant's statistic picker."""
        errors: dict[str, str] = {}
        if user_input is not None and CONF_STATISTIC in user_input:
            statistic = str(user_input[CONF_STATISTIC])
            if statistic not in {c.statistic_id for c in self._candidates or []}:
                errors[CONF_STATISTIC] = "statistic_not_energy"
            else:
                return await self._adopt(statistic, _chosen(user_input))
        schema = vol.Schema(
            {
                vol.Required(CONF_STATISTIC): StatisticSelector(StatisticSelectorConfig()),
                vol.Required(CONF_CHANNEL, default=AUTO): CHANNEL_SELECTOR,
            }
        )
        return self.async_show_form(
            step_id="history_other_statistic", data_schema=schema, errors=errors
        )

    async def _adopt(self, statistic: str, chosen: Channel | None) -> ConfigFlowResult:
        prm = self._prm()
        candidate = next(c for c in self._candidates or [] if c.statistic_id == statistic)
        said = candidate.channel
        known = known_tool(statistic, prm)
        if known is not None and chosen is not None and chosen is not known[1]:
            return self.async_abort(reason="direction_mismatch")
        channel = chosen or said or Channel.CONSUMPTION
        brought, self._dropped = await async_read_statistic(self.hass, candidate, channel, prm)
        self._reason = "history_statistic"
        return await self._preview(brought)

    # ---- an Enedis file -----------------------------------------------------------------

    async def async_step_history_file(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Upload a file from the Enedis customer area or Conso Downloader."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"prm": self._prm(), "line": "", "unit": "", "kind": ""}
        if user_input is not None:
            try:
                name, found = await self.hass.async_add_executor_job(
                    parse_upload, self.hass, user_input[CONF_FILE]
                )
                channel = self._file_channel(found, _chosen(user_input))
            except FileProblem as problem:
                errors["base"] = problem.key
                placeholders.update(problem.placeholders)
            else:
                self._dropped = found.skipped
                brought = await self.hass.async_add_executor_job(from_file, found, channel, name)
                return await self._preview(brought)
        elif not await async_setup_component(self.hass, "file_upload", {}):
            return self.async_abort(reason="upload_unavailable")
        schema = vol.Schema(
            {
                vol.Required(CONF_FILE): FileSelector(FileSelectorConfig(accept=FILE_ACCEPT)),
                vol.Required(CONF_CHANNEL, default=AUTO): CHANNEL_SELECTOR,
            }
        )
        return self.async_show_form(
            step_id="history_file",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )

    def _file_channel(self, found: HistoryFile, chosen: Channel | None) -> Channel:
        prm = self._prm()
        if found.prm is not None and found.prm != prm:
            raise FileProblem("file_other_prm", prm=prm, file_prm=found.prm)
        if chosen is not None and found.channel is not None and chosen is not found.channel:
            raise FileProblem("file_direction_mismatch")
        channel = chosen or found.channel
        if channel is None and (found.intervals or found.daily):
            raise FileProblem("file_direction_unknown")
        return channel or Channel.CONSUMPTION

    # ---- preview and start --------------------------------------------------------------

    async def _preview(self, brought: Brought) -> ConfigFlowResult:
        coordinator = self._coordinator()
        assert coordinator is not None
        plans = plan(coordinator.ledger, coordinator.prm, brought)
        if not any(p.written for p in plans.values()):
            skipped = sum(len(p.skipped) for p in plans.values())
            return self.async_abort(
                reason="history_nothing_new", description_placeholders={"skipped": str(skipped)}
            )
        self._brought, self._plans = brought, plans
        return await self.async_step_history_preview()

    async def async_step_history_preview(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What will be written, before anything is."""
        coordinator = self._coordinator()
        assert self._brought is not None
        assert self._plans is not None
        if user_input is not None and coordinator is not None:
            await coordinator.async_start_history(self._brought, self._reason)
            return self.async_abort(reason="history_started")
        return self.async_show_form(
            step_id="history_preview",
            data_schema=vol.Schema({}),
            description_placeholders=preview_placeholders(
                self._brought, self._plans, self._dropped, self._target()
            ),
        )


def preview_placeholders(
    brought: Brought, plans: dict[Channel, ChannelPlan], dropped: int, target: str
) -> dict[str, str]:
    """The preview's figures: one energy channel (a source brings one) and the peaks."""
    energy = next((p for c, p in plans.items() if c is not Channel.MAX_POWER), ChannelPlan())
    peaks = plans.get(Channel.MAX_POWER, ChannelPlan())
    written = energy.written or peaks.written
    return {
        "source": brought.label,
        "target": target,
        "days": str(len(energy.written)),
        "first": written[0].isoformat() if written else "–",
        "last": written[-1].isoformat() if written else "–",
        "kwh": f"{energy.kwh:.3f}",
        "new": str(len(energy.new)),
        "shaped": str(len(energy.shaped)),
        "skipped": str(len(energy.skipped)),
        "again": str(energy.again),
        "peaks": str(len(peaks.written)),
        "peaks_skipped": str(len(peaks.skipped)),
        "incomplete": str(brought.incomplete),
        "dropped": str(dropped),
    }
