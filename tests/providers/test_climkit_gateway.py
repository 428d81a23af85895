"""The Climkit Gateway client against the simulator, its parser, and the index filter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from custom_components.linky_climkit.const import USER_AGENT
from custom_components.linky_climkit.gateway.index import HOLD, MonotonicIndex
from custom_components.linky_climkit.providers.climkit_gateway import (
    GatewayClient,
    GatewayMeter,
    GatewayUnreachableError,
    clean_host,
    parse_addresses,
    parse_reading,
)
from custom_components.linky_climkit.providers.errors import (
    InvalidResponseError,
    NoDataError,
    ProviderConnectionError,
    UpstreamError,
)
from tests.simulators.climkit_gateway import ClimkitGatewaySimulator, demo_gateway_meters

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncIterator[ClimkitGatewaySimulator]:
    simulator = ClimkitGatewaySimulator(demo_gateway_meters(), now=lambda: T0)
    await simulator.start()
    yield simulator
    await simulator.stop()


def client(
    session: aiohttp.ClientSession, sim: ClimkitGatewaySimulator, **kw: float
) -> GatewayClient:
    return GatewayClient(session, "127.0.0.1", sim.port, user_agent=USER_AGENT, **kw)


async def test_reads_each_meter_type(
    session: aiohttp.ClientSession, sim: ClimkitGatewaySimulator
) -> None:
    gateway = client(session, sim)
    consumer = await gateway.read(GatewayMeter("electricity", 11))
    assert set(consumer.values) == {"en_im", "en_ex", "L1_a", "L2_a", "L3_a", "total_W"}
    assert consumer.values["en_im"] == sim.index(sim.meter(11))
    assert consumer.values["total_W"] > 0
    assert consumer.valid
    assert consumer.measured_at == T0
    producer = await gateway.read(GatewayMeter("electricity", 101))
    assert producer.values["total_W"] < 0
    assert producer.values["en_ex"] == sim.index(sim.meter(101))
    heat = await gateway.read(GatewayMeter("heating", 40))
    assert set(heat.values) == {
        "heat_energy_kwh",
        "power_kw",
        "diff_temp",
        "flow_temp",
        "vol_flow_m3_h",
    }
    water = await gateway.read(GatewayMeter("cold_water", 50))
    assert water.values == {"vol_m3": sim.index(sim.meter(50))}
    assert [c.path for c in sim.calls] == [
        "/api/v1/meter/electricity/11/",
        "/api/v1/meter/electricity/101/",
        "/api/v1/meter/heating/40/",
        "/api/v1/meter/cold_water/50/",
    ]
    assert {c.user_agent for c in sim.calls} == {USER_AGENT}
    assert gateway.request_count == 4


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("server_error", UpstreamError),
        ("not_found", NoDataError),
        ("garbage", InvalidResponseError),
    ],
)
async def test_faults_are_typed(
    session: aiohttp.ClientSession,
    sim: ClimkitGatewaySimulator,
    fault: str,
    error: type[Exception],
) -> None:
    sim.add_fault(fault, address=11, remaining=1)
    with pytest.raises(error):
        await client(session, sim).read(GatewayMeter("electricity", 11))
    assert (await client(session, sim).read(GatewayMeter("electricity", 11))).valid


async def test_invalid_reading_and_unknown_meter(
    session: aiohttp.ClientSession, sim: ClimkitGatewaySimulator
) -> None:
    sim.add_fault("invalid", address=50)
    reading = await client(session, sim).read(GatewayMeter("cold_water", 50))
    assert not reading.valid
    with pytest.raises(NoDataError):
        await client(session, sim).read(GatewayMeter("electricity", 77))


async def test_timeout_and_unreachable(
    session: aiohttp.ClientSession, sim: ClimkitGatewaySimulator
) -> None:
    sim.add_fault("timeout", address=11)
    with pytest.raises(ProviderConnectionError) as timed_out:
        await client(session, sim, timeout=0.2).read(GatewayMeter("electricity", 11))
    assert not isinstance(timed_out.value, GatewayUnreachableError)
    await sim.stop()
    with pytest.raises(GatewayUnreachableError, match="cannot be reached"):
        await client(session, sim).read(GatewayMeter("electricity", 12))


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (1763640000, datetime(2025, 11, 20, 12, 0, tzinfo=UTC)),
        (1763640000000, datetime(2025, 11, 20, 12, 0, tzinfo=UTC)),
        ('"2025-11-20T13:00:00+01:00"', datetime(2025, 11, 20, 12, 0, tzinfo=UTC)),
        ('"2025-11-20 12:00:00"', datetime(2025, 11, 20, 12, 0, tzinfo=UTC)),
        ('"later"', None),
        ("null", None),
    ],
)
def test_timestamp_formats(ts: object, expected: datetime | None) -> None:
    body = f'{{"vol_m3": 1.5, "ts": {ts}, "valid": true}}'
    assert parse_reading(200, body, GatewayMeter("cold_water", 50)).measured_at == expected


def test_parse_keeps_only_finite_numbers_of_the_type() -> None:
    body = '{"en_im": "12.5", "en_ex": null, "total_W": NaN, "L1_a": true, "vol_m3": 3, "x": 1}'
    reading = parse_reading(200, body, GatewayMeter("electricity", 11))
    assert reading.values == {"en_im": 12.5}
    assert reading.valid  # no `valid` key: trusted
    with pytest.raises(InvalidResponseError):
        parse_reading(200, "[1, 2]", GatewayMeter("electricity", 11))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.168.1.50", "192.168.1.50"),
        (" Gateway.local ", "gateway.local"),
        ("http://192.168.1.50:8080/api/v1", "192.168.1.50"),
        ("[fe80::1]:8080", "fe80::1"),
        ("fe80::1", "fe80::1"),
        ("", None),
        ("my gateway", None),
        ("user@host", None),
    ],
)
def test_clean_host(text: str, expected: str | None) -> None:
    assert clean_host(text) == expected


def test_base_url_brackets_ipv6() -> None:
    gateway = GatewayClient(None, "fe80::1", 8080, user_agent=USER_AGENT)  # type: ignore[arg-type]
    assert gateway.base_url == "http://[fe80::1]:8080/api/v1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11, 12 101", [11, 12, 101]),
        ("11;11", [11]),
        ("", []),
        ("0", None),
        ("251", None),
        ("11, x", None),
    ],
)
def test_parse_addresses(text: str, expected: list[int] | None) -> None:
    assert parse_addresses(text) == expected


# ---- the index that never goes down ----------------------------------------------------


def test_index_rises_with_the_meter() -> None:
    index = MonotonicIndex()
    assert index.update(100.0, T0) == 100.0
    assert index.update(100.5, T0 + timedelta(seconds=10)) == 100.5


def test_glitch_is_held_and_nothing_counted_twice() -> None:
    index = MonotonicIndex()
    index.update(100.0, T0)
    assert index.update(0.0, T0 + timedelta(seconds=10)) == 100.0  # one wrong reading
    assert index.update(99.9, T0 + timedelta(seconds=20)) == 100.0  # a small dip too
    assert index.update(100.2, T0 + timedelta(seconds=30)) == 100.2  # back: no jump
    assert index.offset == 0.0


def test_reset_carries_on_after_the_hold() -> None:
    index = MonotonicIndex()
    index.update(8421.0, T0)
    assert index.update(0.5, T0 + timedelta(minutes=1)) == 8421.0
    assert index.update(0.7, T0 + timedelta(minutes=10)) == 8421.0
    after = index.update(0.9, T0 + timedelta(minutes=1) + HOLD)
    assert after == pytest.approx(8421.4)  # what the new meter counted since the drop
    assert index.update(1.9, T0 + timedelta(hours=2)) == pytest.approx(8422.4)
    restored = MonotonicIndex.from_dict(index.as_dict())
    assert restored.update(2.0, T0 + timedelta(hours=3)) == pytest.approx(8422.5)
    assert MonotonicIndex.from_dict(None) == MonotonicIndex()
