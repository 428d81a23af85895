"""Shared fixtures: custom integrations on, a real recorder, the simulators on 127.0.0.1."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from unittest.mock import AsyncMock, patch
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.linky_climkit.clients import PACER_KEY
from custom_components.linky_climkit.const import (
    CONF_API_URL,
    CONF_METERS,
    CONF_PASSWORD,
    CONF_PRM,
    CONF_PROVIDER,
    CONF_SITE_ID,
    CONF_SYNC_OFFSET,
    CONF_TOKEN,
    CONF_USERNAME,
    DOMAIN,
    PROVIDER_CLIMKIT,
    PROVIDER_GATEWAY,
    PROVIDER_LINKY,
)
from custom_components.linky_climkit.providers.climkit import Pacer
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator, demo_site
from tests.simulators.climkit_gateway import ClimkitGatewaySimulator, demo_gateway_meters
from tests.simulators.conso_api import PARIS, ConsoApiSimulator, MeterProfile, make_token

ZURICH = ZoneInfo("Europe/Zurich")

PRM = "12345678901234"
PROD_PRM = "98765432109876"
SYNC_OFFSET = 3600 + 17  # rungs 07:00:17, 08:30:17: Linky syncs at 08:30:17 (after publication)
NOW = datetime(2026, 11, 20, 9, 30, 0, tzinfo=PARIS)
HOURLY_SINCE = date(2026, 9, 1)
FULL_HISTORY = date(2020, 1, 1)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test."""


SECRET_PATTERNS = (
    re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*"),  # any JWT (Conso API token, Climkit token)
    re.compile(r"Bearer\s+\S{8,}"),
    re.compile(r"s3cret|n3w-s3cret|simulator-secret"),  # simulator passwords and signing keys
)


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every log line of every test, at DEBUG for the integration, is free of secrets.

    The recorder's SQL and connection pool (Home Assistant's test plugin logs every
    statement) are left out: they hold no secret (tokens and passwords are never in the
    database), and checking their thousands of lines per test took a third of the time of
    the recorder's tests."""
    caplog.set_level(logging.DEBUG, logger="custom_components.linky_climkit")
    caplog.set_level(logging.WARNING, logger="sqlalchemy.engine")
    caplog.set_level(logging.INFO, logger="homeassistant.components.recorder.pool")
    yield
    formatter = logging.Formatter("%(name)s %(message)s")
    for when in ("setup", "call", "teardown"):
        for record in caplog.get_records(when):
            line = formatter.format(record)
            for pattern in SECRET_PATTERNS:
                assert not pattern.search(line), f"secret in a log line: {record.name}"


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """Resolve the recorder database before hass is created (recorder tests)."""


@pytest.fixture
def no_setup() -> Iterator[AsyncMock]:
    """Config-flow tests: created entries are not set up."""
    with patch(
        "custom_components.linky_climkit.async_setup_entry", return_value=True
    ) as mock_setup:
        yield mock_setup


@pytest.fixture
async def paris(hass: HomeAssistant) -> HomeAssistant:
    """Home Assistant configured for France."""
    await hass.config.async_set_time_zone("Europe/Paris")
    hass.config.currency = "EUR"
    return hass


@pytest.fixture
async def conso_sim(socket_enabled: None) -> AsyncIterator[ConsoApiSimulator]:
    """Conso API on 127.0.0.1: one consumption-only PRM and one that also produces.

    Hourly collection starts on 2026-09-01, so the hourly backfill is short; tests about the
    backfill set `sim.meters[prm].hourly_since` earlier.
    """
    sim = ConsoApiSimulator(
        [
            MeterProfile(PRM, seed=3, hourly_since=HOURLY_SINCE),
            MeterProfile(PROD_PRM, seed=5, has_production=True, hourly_since=HOURLY_SINCE),
        ]
    )
    sim.base_url = await sim.start() + "/api"  # type: ignore[attr-defined]
    yield sim
    await sim.stop()


def token_for(*prms: str, **kwargs: Any) -> str:
    """A token the simulator accepts."""
    return make_token(list(prms), **kwargs)


def linky_entry(
    sim: ConsoApiSimulator,
    prm: str = PRM,
    token: str | None = None,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """A Linky config entry pointing at the simulator (with these options)."""
    return MockConfigEntry(
        options=options or {},
        domain=DOMAIN,
        title=f"Linky {prm}",
        unique_id=prm,
        data={
            CONF_PROVIDER: PROVIDER_LINKY,
            CONF_TOKEN: token or token_for(PRM, PROD_PRM),
            CONF_PRM: prm,
            CONF_API_URL: sim.base_url,  # type: ignore[attr-defined]
            CONF_SYNC_OFFSET: SYNC_OFFSET,
        },
    )


CH_NOW = datetime(2026, 11, 20, 9, 30, 0, tzinfo=ZURICH)


@pytest.fixture
def fast_pacer(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Pacer:
    """The instance-wide Climkit pacer, waiting on the frozen clock instead of real time."""

    async def sleep(seconds: float) -> None:
        freezer.tick(timedelta(seconds=seconds))

    pacer = Pacer(1.1, clock=lambda: dt_util.utcnow().timestamp(), sleep=sleep)
    hass.data[PACER_KEY] = pacer
    return pacer


@pytest.fixture
async def climkit_sim(socket_enabled: None) -> AsyncIterator[ClimkitSimulator]:
    """Climkit on 127.0.0.1: a demo site (4 consumers, PV, heat, water) created 40 days ago."""
    sim = ClimkitSimulator([demo_site(creation=CH_NOW - timedelta(days=40))])
    await sim.start()
    yield sim
    await sim.stop()


def climkit_entry(sim: ClimkitSimulator, site_id: str = DEMO_SITE_ID) -> MockConfigEntry:
    """A Climkit config entry pointing at the simulator."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Climkit site",
        unique_id=site_id,
        data={
            CONF_PROVIDER: PROVIDER_CLIMKIT,
            CONF_USERNAME: sim.username,
            CONF_PASSWORD: sim.password,
            CONF_SITE_ID: site_id,
            CONF_API_URL: sim.base_url,
            CONF_SYNC_OFFSET: SYNC_OFFSET,
        },
    )


@pytest.fixture
async def gateway_sim(socket_enabled: None) -> AsyncIterator[ClimkitGatewaySimulator]:
    """A Climkit Gateway on 127.0.0.1 answering for the demo site's meters (and hot water 51)."""
    sim = ClimkitGatewaySimulator(demo_gateway_meters())
    await sim.start()
    yield sim
    await sim.stop()


def gateway_entry(
    sim: ClimkitGatewaySimulator,
    meters: list[dict[str, Any]] | None = None,
    *,
    site_id: str | None = None,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """A Gateway entry for the simulator: every simulated meter unless `meters` is given."""
    data: dict[str, Any] = {
        CONF_PROVIDER: PROVIDER_GATEWAY,
        CONF_HOST: "127.0.0.1",
        CONF_PORT: sim.port,
        CONF_METERS: meters
        if meters is not None
        else [
            {"type": m.type, "address": m.address, "name": f"{m.type} {m.address}"}
            for m in sim.meters
        ],
    }
    if site_id is not None:
        data[CONF_SITE_ID] = site_id
    return MockConfigEntry(
        domain=DOMAIN,
        title="Climkit Gateway 127.0.0.1",
        unique_id="127.0.0.1",
        data=data,
        options=options or {},
    )
