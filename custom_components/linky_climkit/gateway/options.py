"""Options of a Climkit Gateway: how often it is polled, and a site's removal of its gateway.

`GatewayOptionsFlow` is the options flow of a Gateway entry (its poll interval only). The
Climkit site a gateway joined offers the same steps from its tariff menu (`TariffOptionsFlow`
mixes `GatewayOptionSteps` in). Both write `entry.options` only, never `entry.data`.
"""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_SCAN_INTERVAL
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

from ..const import CONF_GATEWAY
from .coordinator import MAX_SCAN_SECONDS, MIN_SCAN_SECONDS, scan_seconds

POLL_SECONDS = NumberSelector(
    NumberSelectorConfig(
        min=MIN_SCAN_SECONDS,
        max=MAX_SCAN_SECONDS,
        step=1,
        mode=NumberSelectorMode.SLIDER,
        unit_of_measurement="s",
    )
)


class GatewayOptionSteps(OptionsFlow):
    """The gateway's steps, shared by a Gateway entry and a Climkit site with a gateway."""

    async def async_step_gateway_poll(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """How often the gateway is asked (5–60 s)."""
        options = self.config_entry.options
        if user_input is not None:
            seconds = int(user_input[CONF_SCAN_INTERVAL])
            return self.async_create_entry(data={**options, CONF_SCAN_INTERVAL: seconds})
        schema = vol.Schema(
            {vol.Required(CONF_SCAN_INTERVAL, default=scan_seconds(options)): POLL_SECONDS}
        )
        return self.async_show_form(step_id="gateway_poll", data_schema=schema)

    async def async_step_remove_gateway(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A site stops polling its gateway (its live sensors go; the cloud data stays).

        The gateway is None in the options: it wins over the copy that sites linked before
        options held the gateway keep in their data (see `site_gateway`).
        """
        if user_input is not None:
            return self.async_create_entry(data={**self.config_entry.options, CONF_GATEWAY: None})
        return self.async_show_form(step_id="remove_gateway", data_schema=vol.Schema({}))


class GatewayOptionsFlow(GatewayOptionSteps):
    """A Gateway entry: its poll interval."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Nothing to choose: the poll interval form."""
        return await self.async_step_gateway_poll(user_input)
