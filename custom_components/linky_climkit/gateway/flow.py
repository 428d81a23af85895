"""Config-flow steps of a Climkit Gateway: host and port, then its meters.

With a cloud entry for the same site, the gateway is asked for each of that site's meters and
the ones that answer join that entry (and its meter devices). Otherwise the user lists the bus
addresses per meter type, every one must answer, and the gateway gets an entry of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)

from ..clients import gateway_client
from ..const import (
    CONF_GATEWAY,
    CONF_METERS,
    CONF_PROVIDER,
    CONF_SITE_ID,
    DOMAIN,
    PROVIDER_CLIMKIT,
    PROVIDER_GATEWAY,
)
from ..data import SiteMeters
from ..providers.climkit_gateway import (
    DEFAULT_PORT,
    METER_TYPES,
    GatewayMeter,
    GatewayUnreachableError,
    clean_host,
    parse_addresses,
)
from ..providers.climkit_model import meter_label
from ..providers.errors import ProviderError
from .coordinator import ConfiguredMeter, site_gateway

CONF_SITE = "site"
NO_SITE = "none"
PORT = NumberSelector(NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX))
ADDRESSES = TextSelector(TextSelectorConfig())


def cloud_meters(entry: ConfigEntry) -> list[ConfiguredMeter]:
    """The meters a loaded cloud entry knows, with a bus address, as gateway meters."""
    site = getattr(entry, "runtime_data", None)
    if entry.state is not ConfigEntryState.LOADED or not isinstance(site, SiteMeters):
        return []
    return [
        ConfiguredMeter(GatewayMeter(m.type, m.prim_ad), meter_label(m), m.id)
        for m in site.site_meters
        if m.prim_ad is not None and not m.virtual and m.type in METER_TYPES
    ]


class GatewayFlowSteps(ConfigFlow):
    """The gateway branch of the config flow (mixed into the integration's flow)."""

    _gateway: dict[str, Any]

    def _cloud_sites(self) -> dict[str, ConfigEntry]:
        """Loaded cloud entries whose meters are known, by site id."""
        return {
            entry.data[CONF_SITE_ID]: entry
            for entry in self.hass.config_entries.async_entries(DOMAIN)
            if entry.data.get(CONF_PROVIDER) == PROVIDER_CLIMKIT and cloud_meters(entry)
        }

    async def async_step_climkit_gateway(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Host and port; the site it belongs to when a cloud entry exists."""
        errors: dict[str, str] = {}
        sites = self._cloud_sites()
        if user_input is not None:
            host = clean_host(str(user_input[CONF_HOST]))
            if host is None:
                errors[CONF_HOST] = "invalid_host"
            else:
                site = sites.get(str(user_input.get(CONF_SITE) or NO_SITE))
                if self._host_taken(host, site):
                    return self.async_abort(reason="already_configured")
                self._gateway = {
                    CONF_PROVIDER: PROVIDER_GATEWAY,
                    CONF_HOST: host,
                    CONF_PORT: int(user_input.get(CONF_PORT) or DEFAULT_PORT),
                }
                if site is None:
                    await self.async_set_unique_id(host)
                    return await self.async_step_gateway_meters()
                found, error = await self._probe(cloud_meters(site), require_all=False)
                if error is None:
                    return self._add_to_site(site, found)
                errors["base"] = error
        fields: dict[Any, Any] = {
            vol.Required(CONF_HOST, default=(user_input or {}).get(CONF_HOST, "")): TextSelector(),
            vol.Required(CONF_PORT, default=DEFAULT_PORT): PORT,
        }
        if sites:
            options = [SelectOptionDict(value=NO_SITE, label="—")]
            options += [SelectOptionDict(value=s, label=e.title) for s, e in sites.items()]
            fields[vol.Required(CONF_SITE, default=next(iter(sites)))] = SelectSelector(
                SelectSelectorConfig(
                    options=options, mode=SelectSelectorMode.DROPDOWN, translation_key=CONF_SITE
                )
            )
        return self.async_show_form(
            step_id="climkit_gateway", data_schema=vol.Schema(fields), errors=errors
        )

    async def async_step_gateway_meters(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The bus addresses of the meters, per type; every one must answer."""
        errors: dict[str, str] = {}
        placeholders = {"meters": ""}
        if user_input is not None:
            meters: list[ConfiguredMeter] = []
            for meter_type in METER_TYPES:
                addresses = parse_addresses(str(user_input.get(meter_type) or ""))
                if addresses is None:
                    errors[meter_type] = "invalid_addresses"
                    continue
                meters += [
                    ConfiguredMeter(
                        GatewayMeter(meter_type, a), f"{meter_type.replace('_', ' ')} {a}"
                    )
                    for a in addresses
                ]
            if not errors and not meters:
                errors["base"] = "no_meter_given"
            if not errors:
                found, error = await self._probe(meters, require_all=True)
                if error is None:
                    return self._create_gateway(found)
                errors["base"] = error
                placeholders["meters"] = ", ".join(m.name for m in meters if m not in found)
        schema = vol.Schema({vol.Optional(t): ADDRESSES for t in METER_TYPES})
        return self.async_show_form(
            step_id="gateway_meters",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _probe(
        self, meters: Sequence[ConfiguredMeter], *, require_all: bool
    ) -> tuple[list[ConfiguredMeter], str | None]:
        """Ask the gateway for each meter, one at a time; keep those that answer."""
        client = gateway_client(self.hass, self._gateway)
        found: list[ConfiguredMeter] = []
        for configured in meters:
            try:
                await client.read(configured.meter)
            except GatewayUnreachableError:
                return [], "gateway_cannot_connect"
            except ProviderError:
                continue
            found.append(configured)
        if not found:
            return [], "no_meter_answered"
        if require_all and len(found) < len(meters):
            return found, "meters_not_answering"
        return found, None

    def _host_taken(self, host: str, site: ConfigEntry | None) -> bool:
        """A gateway entry for this host, or another site entry already polling it."""
        for entry in self.hass.config_entries.async_entries(DOMAIN):
            if entry.unique_id == host and entry.data.get(CONF_PROVIDER) == PROVIDER_GATEWAY:
                return True
            linked = site_gateway(entry) or {}
            if linked.get(CONF_HOST) == host and entry is not site:
                return True
        return False

    def _add_to_site(
        self, site: ConfigEntry, meters: Sequence[ConfiguredMeter]
    ) -> ConfigFlowResult:
        """Devices belong to one config entry: the gateway joins the site's entry, so its
        live sensors sit on the site's meter devices. The site entry reloads with it.

        Stored in the site's options, which the options flow may change (its removal)."""
        gateway = {
            CONF_HOST: self._gateway[CONF_HOST],
            CONF_PORT: self._gateway[CONF_PORT],
            CONF_METERS: [m.as_dict() for m in meters],
        }
        self.hass.config_entries.async_update_entry(
            site, options={**site.options, CONF_GATEWAY: gateway}
        )
        self.hass.config_entries.async_schedule_reload(site.entry_id)
        return self.async_abort(
            reason="gateway_added_to_site",
            description_placeholders={"site": site.title, "count": str(len(meters))},
        )

    def _create_gateway(self, meters: Sequence[ConfiguredMeter]) -> ConfigFlowResult:
        data = {**self._gateway, CONF_METERS: [m.as_dict() for m in meters]}
        return self.async_create_entry(title=f"Climkit Gateway {data[CONF_HOST]}", data=data)

    async def _check_gateway(
        self, entry: ConfigEntry, user_input: Mapping[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        """Reconfigure: the gateway moved; one of its meters must answer at the new address."""
        host = clean_host(str(user_input[CONF_HOST]))
        if host is None:
            return {}, "invalid_host"
        self._gateway = {CONF_HOST: host, CONF_PORT: int(user_input[CONF_PORT])}
        meters = [ConfiguredMeter.from_dict(m) for m in entry.data[CONF_METERS]]
        _found, error = await self._probe(meters, require_all=False)
        return dict(self._gateway), error

    @staticmethod
    def _gateway_schema(entry: ConfigEntry) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_HOST, default=entry.data[CONF_HOST]): TextSelector(),
                vol.Required(CONF_PORT, default=entry.data.get(CONF_PORT, DEFAULT_PORT)): PORT,
            }
        )
