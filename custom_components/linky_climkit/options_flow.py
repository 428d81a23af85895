"""Options flow: the tariff of one entry (prices by date, off-peak hours, Tempo colours or a
price entity), the feed-in price of a producing meter, or no tariff at all. A Climkit site
also chooses an hourly refresh of its sensors; a gateway (its own entry or a site's) its poll
interval.

The stored layout and its conversion to the pricing engine live in `tariff_config.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, CONF_SCAN_INTERVAL
from homeassistant.helpers.selector import (
    BooleanSelector,
    DateSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
)
from homeassistant.util import dt as dt_util

from .const import (
    CONF_GATEWAY,
    CONF_PROVIDER,
    CONF_SITE_SENSORS_HOURLY,
    LINKY_CURRENCY,
    PROVIDER_CLIMKIT,
    PROVIDER_GATEWAY,
)
from .gateway.coordinator import MAX_SCAN_SECONDS, MIN_SCAN_SECONDS, scan_seconds
from .tariffs.engine import FeedInPeriod, OffPeakRange, TariffKind, to_per_kwh, validate_prices
from .tariffs.stored import (
    CONF_TARIFF,
    DEFAULT_OFF_PEAK,
    PRICE_KEYS,
    TEMPO_PRICE_KEYS,
    apply_prices,
    feed_in_options,
    format_off_peak,
    new_tariff_options,
    off_peak_from_options,
    parse_date,
    parse_off_peak,
    period_from_options,
    period_options,
    stored_tariff,
    with_feed_in,
)

CLIMKIT_CURRENCY = "CHF"
CONF_CURRENCY = "currency"
CONF_START = "start"
CONF_SUBSCRIPTION = "subscription"
CONF_SUBSCRIPTION_YEARLY = "subscription_yearly"
CONF_OFF_PEAK = "off_peak"
CONF_TEMPO_ENTITY = "tempo_entity"
CONF_PRICE_ENTITY = "price_entity"
CONF_FEED_IN_PRICE = "feed_in_price"
TEMPO_ENTITY_DOMAINS = ["sensor", "select", "input_select"]
PRICE_ENTITY_DOMAINS = ["sensor", "input_number", "number"]
PRICE_FIELDS: dict[TariffKind, tuple[str, ...]] = {
    TariffKind.BASE: ("base_price",),
    TariffKind.HP_HC: ("hp_price", "hc_price"),
    TariffKind.TEMPO: TEMPO_PRICE_KEYS,
    TariffKind.DYNAMIC: (),
}

_TEXT = TextSelector(TextSelectorConfig())
_MULTILINE = TextSelector(TextSelectorConfig(multiline=True))


def _start(user_input: Mapping[str, Any]) -> date:
    """The date picked (validated by the DateSelector)."""
    start = parse_date(user_input[CONF_START])
    assert start is not None
    return start


def _first_of_month() -> str:
    """The default start of new prices: the first day of the current month."""
    return dt_util.now().date().replace(day=1).isoformat()


def _entity(domains: list[str]) -> EntitySelector:
    return EntitySelector(EntitySelectorConfig(domain=domains))


class LinkyClimkitOptionsFlow(OptionsFlow):
    """Set, change from a date or remove the tariff of one Linky or Climkit entry."""

    # ---- helpers ---------------------------------------------------------------------------

    def _stored(self) -> dict[str, Any] | None:
        return stored_tariff(self.config_entry.options)

    def _default_currency(self) -> str:
        if (stored := self._stored()) is not None:
            return str(stored["currency"])
        if self.config_entry.data.get(CONF_PROVIDER) == PROVIDER_CLIMKIT:
            return CLIMKIT_CURRENCY
        return LINKY_CURRENCY

    def _can_produce(self) -> bool:
        """Climkit sites, Linky meters known to produce, or a feed-in price already set."""
        entry = self.config_entry
        if entry.data.get(CONF_PROVIDER) == PROVIDER_CLIMKIT:
            return True
        state = getattr(getattr(entry, "runtime_data", None), "state", None)
        if getattr(state, "production", None):
            return True
        stored = self._stored()
        return stored is not None and bool(stored["feed_in"])

    def _save(self, tariff: dict[str, Any] | None) -> ConfigFlowResult:
        options = {k: v for k, v in self.config_entry.options.items() if k != CONF_TARIFF}
        if tariff is not None:
            options[CONF_TARIFF] = tariff
        return self.async_create_entry(data=options)

    def _entity_error(self, entity_id: str | None, *, unit: bool) -> str | None:
        state = self.hass.states.get(entity_id) if entity_id else None
        if state is None:
            return "unknown_entity"
        if (
            unit
            and to_per_kwh(1.0, str(state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) or "")) is None
        ):
            return "unit_not_supported"
        return None

    # ---- menus -----------------------------------------------------------------------------

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set prices, the feed-in price (producers only) or remove the tariff; a Climkit site
        also has its sensors' refresh, a gateway only its poll interval."""
        provider = self.config_entry.data.get(CONF_PROVIDER)
        if provider == PROVIDER_GATEWAY:
            return await self.async_step_gateway_poll()
        options = ["tariff"]
        if self._can_produce():
            options.append("feed_in")
        if self._stored() is not None:
            options.append("clear_tariff")
        if provider == PROVIDER_CLIMKIT:
            options.append("site_sensors")
            if CONF_GATEWAY in self.config_entry.data:
                options += ["gateway_poll", "remove_gateway"]
        return self.async_show_menu(step_id="init", menu_options=options)

    async def async_step_remove_gateway(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Stop polling the site's gateway (its live sensors go; the cloud data stays)."""
        if user_input is not None:
            entry = self.config_entry
            data = {k: v for k, v in entry.data.items() if k != CONF_GATEWAY}
            self.hass.config_entries.async_update_entry(entry, data=data)
            return self.async_create_entry(data=dict(entry.options))
        return self.async_show_form(step_id="remove_gateway", data_schema=vol.Schema({}))

    def _save_option(self, key: str, value: Any) -> ConfigFlowResult:
        return self.async_create_entry(data={**self.config_entry.options, key: value})

    async def async_step_gateway_poll(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """How often the gateway is asked (5–60 s)."""
        if user_input is not None:
            return self._save_option(CONF_SCAN_INTERVAL, int(user_input[CONF_SCAN_INTERVAL]))
        seconds = NumberSelector(
            NumberSelectorConfig(
                min=MIN_SCAN_SECONDS,
                max=MAX_SCAN_SECONDS,
                step=1,
                mode=NumberSelectorMode.SLIDER,
                unit_of_measurement="s",
            )
        )
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_SCAN_INTERVAL, default=scan_seconds(self.config_entry.options)
                ): seconds
            }
        )
        return self.async_show_form(step_id="gateway_poll", data_schema=schema)

    async def async_step_site_sensors(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Whether the site's sensors (temperature, humidity…) are also read every hour."""
        if user_input is not None:
            return self._save_option(
                CONF_SITE_SENSORS_HOURLY, bool(user_input[CONF_SITE_SENSORS_HOURLY])
            )
        current = bool(self.config_entry.options.get(CONF_SITE_SENSORS_HOURLY, False))
        schema = vol.Schema(
            {vol.Required(CONF_SITE_SENSORS_HOURLY, default=current): BooleanSelector()}
        )
        return self.async_show_form(step_id="site_sensors", data_schema=schema)

    async def async_step_tariff(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the kind of tariff; each has its own prices step."""
        return self.async_show_menu(
            step_id="tariff", menu_options=[f"prices_{kind}" for kind in TariffKind]
        )

    # ---- prices ----------------------------------------------------------------------------

    async def async_step_prices_base(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One price per kWh."""
        return await self._prices(TariffKind.BASE, user_input)

    async def async_step_prices_hp_hc(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Peak and off-peak prices, and the off-peak hours."""
        return await self._prices(TariffKind.HP_HC, user_input)

    async def async_step_prices_tempo(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Six Tempo prices, the entity giving each day's colour, optional off-peak hours."""
        return await self._prices(TariffKind.TEMPO, user_input)

    async def async_step_prices_dynamic(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Prices read from an entity (per kWh or MWh)."""
        return await self._prices(TariffKind.DYNAMIC, user_input)

    def _defaults(self, kind: TariffKind) -> dict[str, Any]:
        """The form's values: the latest stored prices of this kind, else empty prices."""
        stored = self._stored()
        same = stored if stored is not None and stored["kind"] == kind else None
        latest = same["periods"][-1] if same and same["periods"] else {}
        defaults: dict[str, Any] = {
            CONF_CURRENCY: self._default_currency(),
            CONF_START: _first_of_month(),
            CONF_SUBSCRIPTION: float(latest.get("subscription") or 0.0),
            CONF_SUBSCRIPTION_YEARLY: latest.get("subscription_per") == "year",
        }
        tempo = latest.get("tempo_prices")
        prices = {**latest, **(tempo if isinstance(tempo, Mapping) else {})}
        defaults.update({key: prices[key] for key in PRICE_FIELDS[kind] if key in prices})
        ranges = off_peak_from_options(same["off_peak"]) if same else ()
        if kind is TariffKind.HP_HC:
            defaults[CONF_OFF_PEAK] = format_off_peak(ranges) or DEFAULT_OFF_PEAK
        elif kind is TariffKind.TEMPO:
            defaults[CONF_OFF_PEAK] = format_off_peak(ranges)
        for key in (CONF_TEMPO_ENTITY, CONF_PRICE_ENTITY):
            if same and same[key]:
                defaults[key] = same[key]
        return defaults

    @staticmethod
    def _prices_schema(kind: TariffKind, defaults: Mapping[str, Any]) -> vol.Schema:
        currency = defaults[CONF_CURRENCY]
        price = NumberSelector(
            NumberSelectorConfig(
                mode=NumberSelectorMode.BOX, step="any", unit_of_measurement=f"{currency}/kWh"
            )
        )
        fields: dict[Any, Any] = {vol.Required(CONF_CURRENCY, default=currency): _TEXT}
        fields.update({vol.Required(key): price for key in PRICE_FIELDS[kind]})
        if kind is TariffKind.HP_HC:
            fields[vol.Required(CONF_OFF_PEAK)] = _MULTILINE
        elif kind is TariffKind.TEMPO:
            fields[vol.Required(CONF_TEMPO_ENTITY)] = _entity(TEMPO_ENTITY_DOMAINS)
            fields[vol.Optional(CONF_OFF_PEAK)] = _MULTILINE
        elif kind is TariffKind.DYNAMIC:
            fields[vol.Required(CONF_PRICE_ENTITY)] = _entity(PRICE_ENTITY_DOMAINS)
        fields[vol.Required(CONF_START, default=defaults[CONF_START])] = DateSelector()
        fields[vol.Required(CONF_SUBSCRIPTION, default=0.0)] = NumberSelector(
            NumberSelectorConfig(
                mode=NumberSelectorMode.BOX, step="any", min=0, unit_of_measurement=currency
            )
        )
        fields[vol.Required(CONF_SUBSCRIPTION_YEARLY, default=False)] = BooleanSelector()
        return vol.Schema(fields)

    def _check(
        self, kind: TariffKind, user_input: Mapping[str, Any], period: Mapping[str, Any]
    ) -> tuple[list[OffPeakRange], str | None]:
        """The parsed off-peak ranges and the first form error, if any."""
        engine_period = period_from_options(period, kind)
        assert engine_period is not None  # built by period_options from validated numbers
        if error := validate_prices(engine_period):
            return [], error
        ranges: list[OffPeakRange] = []
        if kind in (TariffKind.HP_HC, TariffKind.TEMPO):
            text = str(user_input.get(CONF_OFF_PEAK) or "")
            try:
                ranges = parse_off_peak(text)
            except ValueError as err:
                return [], str(err)
            if kind is TariffKind.HP_HC and not ranges:
                return [], "invalid_range"
        if kind is TariffKind.TEMPO:
            return ranges, self._entity_error(user_input.get(CONF_TEMPO_ENTITY), unit=False)
        if kind is TariffKind.DYNAMIC:
            return ranges, self._entity_error(user_input.get(CONF_PRICE_ENTITY), unit=True)
        return ranges, None

    async def _prices(
        self, kind: TariffKind, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        defaults = self._defaults(kind)
        errors: dict[str, str] = {}
        if user_input is not None:
            currency = (
                str(user_input.get(CONF_CURRENCY) or "").strip().upper() or defaults[CONF_CURRENCY]
            )
            period = period_options(
                _start(user_input),
                tempo_prices={
                    key: user_input[key] for key in TEMPO_PRICE_KEYS if key in user_input
                },
                subscription=user_input[CONF_SUBSCRIPTION],
                subscription_per="year" if user_input[CONF_SUBSCRIPTION_YEARLY] else "month",
                **{key: user_input[key] for key in PRICE_KEYS if key in user_input},
            )
            ranges, error = self._check(kind, user_input, period)
            if error is None:
                tariff = apply_prices(
                    self._stored(),
                    kind=kind,
                    currency=currency,
                    period=period,
                    off_peak=ranges,
                    tempo_entity=user_input.get(CONF_TEMPO_ENTITY),
                    price_entity=user_input.get(CONF_PRICE_ENTITY),
                )
                return self._save(tariff)
            errors["base"] = error
            defaults.update(user_input)
        schema = self._prices_schema(kind, defaults)
        return self.async_show_form(
            step_id=f"prices_{kind}",
            data_schema=self.add_suggested_values_to_schema(schema, defaults),
            errors=errors,
        )

    # ---- feed-in and removal ---------------------------------------------------------------

    async def async_step_feed_in(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The price paid per produced kWh from a date on."""
        stored = self._stored()
        errors: dict[str, str] = {}
        suggested: dict[str, Any] = {CONF_START: _first_of_month()}
        if stored is not None and stored["feed_in"]:
            suggested[CONF_FEED_IN_PRICE] = stored["feed_in"][-1].get("price")
        if user_input is not None:
            start = _start(user_input)
            price = float(user_input[CONF_FEED_IN_PRICE])
            if validate_prices(FeedInPeriod(start, price)) is None:
                if stored is None:
                    stored = new_tariff_options(TariffKind.BASE, self._default_currency())
                return self._save(with_feed_in(stored, feed_in_options(start, price)))
            errors["base"] = "negative_price"
            suggested.update(user_input)
        currency = self._default_currency()
        schema = vol.Schema(
            {
                vol.Required(CONF_FEED_IN_PRICE): NumberSelector(
                    NumberSelectorConfig(
                        mode=NumberSelectorMode.BOX,
                        step="any",
                        unit_of_measurement=f"{currency}/kWh",
                    )
                ),
                vol.Required(CONF_START): DateSelector(),
            }
        )
        return self.async_show_form(
            step_id="feed_in",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    async def async_step_clear_tariff(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm, then remove the tariff: no cost is written any more."""
        if user_input is not None:
            return self._save(None)
        return self.async_show_form(step_id="clear_tariff", data_schema=vol.Schema({}))
