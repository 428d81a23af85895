"""Fix flows of the fixable repair issues: the meter's registers disagree with the off-peak
hours typed in, and the fix takes the tariff's periods from the meter."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .tariffs.stored import with_meter_periods


class MeterPeriodsFix(RepairsFlow):
    """Confirm, then switch the entry's tariff to periods from the meter (it reloads and
    prices its stored days again)."""

    def __init__(self, entry_id: str, placeholders: dict[str, str]) -> None:
        """The entry whose tariff is switched, and what its issue says."""
        self._entry_id = entry_id
        self._placeholders = placeholders

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Ask for confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Switch the option once confirmed."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_gone")
        if user_input is not None:
            self.hass.config_entries.async_update_entry(
                entry, options=with_meter_periods(entry.options)
            )
            return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            description_placeholders={**self._placeholders, "name": entry.title},
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow of a fixable issue (each carries its entry's id)."""
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    placeholders = dict(issue.translation_placeholders or {}) if issue is not None else {}
    return MeterPeriodsFix(str((data or {}).get("entry_id", "")), placeholders)
