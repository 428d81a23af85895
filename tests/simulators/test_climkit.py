"""Tests of the Climkit cloud API simulator (tests/simulators/climkit.py)."""

import asyncio
import base64
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from freezegun.api import FrozenDateTimeFactory

from tests.simulators.climkit import (
    CAPTURE_FULL_FILE,
    CAPTURE_SITE_ID,
    DEMO_SITE_ID,
    FAULT_KINDS,
    FIXTURES_DIR,
    UNITS,
    ClimkitSimulator,
    SiteSpec,
    capture_rows,
    demo_site,
    full_capture_site,
    real_capture_site,
)

# The simulator is served on a real 127.0.0.1 socket; pytest-socket (active under
# pytest-homeassistant-custom-component) blocks sockets unless this fixture is requested.
pytestmark = pytest.mark.usefixtures("socket_enabled")

ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2024, 11, 20, 10, 0, 7, tzinfo=UTC)
API = "/api/v1"
CREDS = {"username": "cktDevUser_123", "password": "s3cret"}
OTHER_SITE = "65f0a1b2c3d4e5f607182931"
NO_BODY: Any = object()


class Clock:
    """Settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Reply:
    status: int
    text: str
    headers: Any

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class Api:
    """Test client; every request first moves the clock ``tick`` seconds (rate limit)."""

    def __init__(self, client: TestClient[Any, Any], sim: ClimkitSimulator, clock: Clock) -> None:
        self.client = client
        self.sim = sim
        self.clock = clock
        self.token: str | None = None

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = NO_BODY,
        data: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        tick: float = 1.0,
        auth: bool = True,
        client_timeout: float | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if auth and "Authorization" not in sent:
            if self.token is None:
                self.token = await self.login()
            sent["Authorization"] = f"Bearer {self.token}"
        self.clock.advance(tick)
        kwargs: dict[str, Any] = {}
        if body is not NO_BODY:
            kwargs["json"] = body
        if data is not None:
            kwargs["data"] = data
        if client_timeout is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=client_timeout)
        resp = await self.client.request(method, API + path, headers=sent, params=params, **kwargs)
        return Reply(resp.status, await resp.text(), resp.headers)

    async def login(self) -> str:
        reply = await self.call("POST", "/auth", body=CREDS, auth=False)
        assert reply.status == 200, reply.text
        token: str = reply.json["access_token"]
        return token

    async def site_data(
        self,
        t_s: str,
        t_e: str | None = None,
        *,
        site: str = DEMO_SITE_ID,
        meter_type: str = "electricity",
        frequency: str | None = None,
        status: int = 200,
    ) -> Any:
        body: dict[str, Any] = {"t_s": t_s}
        if t_e is not None:
            body["t_e"] = t_e
        if frequency is not None:
            body["sampling_frequency"] = frequency
        reply = await self.call("POST", f"/site_data/{site}/{meter_type}", body=body)
        assert reply.status == status, reply.text
        return reply.json


def make_sim(
    *sites: SiteSpec, now: datetime = NOW, **kwargs: Any
) -> tuple[ClimkitSimulator, Clock]:
    clock = Clock(now)
    return ClimkitSimulator(list(sites) or [demo_site()], clock=clock, **kwargs), clock


@asynccontextmanager
async def serve(sim: ClimkitSimulator, clock: Clock) -> AsyncIterator[Api]:
    async with TestClient(TestServer(sim.app())) as client:
        yield Api(client, sim, clock)


def jwt_payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return payload


def meters_of(site: SiteSpec, mode: str, type_: str = "electricity") -> list[str]:
    return [m.id for m in site.meters if m.mode == mode and m.type == type_ and not m.is_rule_meter]


def check_identities(
    row: dict[str, Any], consumers: list[str], producers: list[str], tol: float = 1e-9
) -> None:
    conso, prod, own = row["conso_total"], row["prod_total"], row["self"]
    charge, discharge = row["storage_charging_total"], row["storage_discharging_total"]
    assert conso == pytest.approx(sum(row[f"total_{c}"] for c in consumers), abs=tol)
    assert prod == pytest.approx(sum(row[f"total_{p}"] for p in producers), abs=tol)
    assert conso == pytest.approx(own + row["from_ext"], abs=tol)
    assert prod == pytest.approx(own + row["to_ext"] + charge - discharge, abs=tol)
    assert row["storage_charging_self"] == pytest.approx(charge, abs=tol)
    if charge == 0 and discharge == 0:
        assert own == pytest.approx(min(prod, conso), abs=tol)
    for c in consumers:
        total, c_self = row[f"total_{c}"], row[f"self_{c}"]
        assert total == pytest.approx(row[f"ext_{c}"] + c_self, abs=tol)
        expected = max(own, 0) * total / conso if conso else 0.0
        assert c_self == pytest.approx(expected, abs=tol)
        assert total >= -tol


# --- /auth -----------------------------------------------------------------------------------


async def test_auth_returns_jwt_and_valid_until() -> None:
    sim, clock = make_sim()
    async with serve(sim, clock) as api:
        reply = await api.call("POST", "/auth", body=CREDS, auth=False)
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("application/json")
        body = reply.json
        assert list(body) == ["access_token", "valid_until"]
        issued = clock.now
        assert body["valid_until"] == {"$date": int((issued.timestamp() + 900) * 1000)}
        token = body["access_token"]
        assert token.count(".") == 2
        payload = jwt_payload(token)
        assert payload["sub"] == "cktDevUser_123"
        assert payload["iat"] == int(issued.timestamp())
        assert payload["exp"] == payload["iat"] + 900
        header = token.split(".")[0]
        assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"] == (
            "HS256"
        )
        api.token = token
        assert (await api.call("GET", "/all_installations")).status == 200
        # two tokens issued in the same second differ (jti)
        again = await api.call("POST", "/auth", body=CREDS, auth=False)
        assert again.json["access_token"] != token


async def test_auth_failures() -> None:
    sim, clock = make_sim()
    async with serve(sim, clock) as api:
        wrong = await api.call("POST", "/auth", body={**CREDS, "password": "x"}, auth=False)
        assert (wrong.status, wrong.json) == (401, {"msg": "Bad username or password"})
        missing = await api.call("POST", "/auth", body={"username": "cktDevUser_123"}, auth=False)
        assert (missing.status, missing.json) == (401, {"msg": "Bad username or password"})
        garbage = await api.call(
            "POST",
            "/auth",
            data=b"{not json",
            headers={"Content-Type": "application/json"},
            auth=False,
        )
        assert (garbage.status, garbage.json) == (400, {"msg": "Bad request"})
        form = await api.call("POST", "/auth", data=CREDS, auth=False)  # form-encoded
        assert (form.status, form.json) == (400, {"msg": "Bad request"})
        array = await api.call("POST", "/auth", body=[CREDS], auth=False)
        assert array.status == 400
        get = await api.call("GET", "/auth", auth=False)
        assert get.status == 405


async def test_custom_credentials() -> None:
    sim, clock = make_sim(username="me", password="pw")
    async with serve(sim, clock) as api:
        ok = await api.call("POST", "/auth", body={"username": "me", "password": "pw"}, auth=False)
        assert ok.status == 200
        assert jwt_payload(ok.json["access_token"])["sub"] == "me"


async def test_token_expires_by_clock() -> None:
    sim, clock = make_sim(token_lifetime=60)
    async with serve(sim, clock) as api:
        api.token = await api.login()
        valid_until = jwt_payload(api.token)["exp"]
        assert valid_until == int(clock.now.timestamp()) + 60
        assert (await api.call("GET", "/all_installations", tick=59)).status == 200
        expired = await api.call("GET", "/all_installations", tick=1)
        assert (expired.status, expired.json) == (401, {"msg": "Token has expired"})
        api.token = await api.login()  # a new token works again
        assert (await api.call("GET", "/all_installations")).status == 200


async def test_legacy_auth_has_no_valid_until() -> None:
    sim, clock = make_sim(legacy_auth=True)
    async with serve(sim, clock) as api:
        reply = await api.call("POST", "/auth", body=CREDS, auth=False)
        assert list(reply.json) == ["access_token"]
        payload = jwt_payload(reply.json["access_token"])
        assert payload["exp"] - payload["iat"] == 900


async def test_authorization_header_variants() -> None:
    sim, clock = make_sim()
    async with serve(sim, clock) as api:
        missing = await api.call("GET", "/all_installations", auth=False)
        assert (missing.status, missing.json) == (401, {"msg": "Missing Authorization Header"})
        token = await api.login()
        not_bearer = await api.call(
            "GET", "/all_installations", headers={"Authorization": f"Token {token}"}
        )
        assert not_bearer.status == 401
        assert not_bearer.json["msg"].startswith("Missing 'Bearer' type")
        unknown = await api.call(
            "GET", "/all_installations", headers={"Authorization": "Bearer a.b.c"}
        )
        assert (unknown.status, unknown.json) == (401, {"msg": "Token has expired"})
        api.token = token
        assert (await api.call("GET", "/all_installations")).status == 200
        sim.revoke_tokens()
        revoked = await api.call("GET", "/all_installations")
        assert (revoked.status, revoked.json) == (401, {"msg": "Token has expired"})
        api.token = sim.issue_token()
        assert (await api.call("GET", "/all_installations")).status == 200


# --- rate limit --------------------------------------------------------------------------------


async def test_rate_limit_one_request_per_second() -> None:
    sim, clock = make_sim()
    async with serve(sim, clock) as api:
        assert (await api.call("GET", "/all_installations")).status == 200
        second = await api.call("GET", "/all_installations", tick=0)
        assert second.status == 429
        assert second.json == {"msg": "Too many requests"}
        assert second.headers["Retry-After"] == "1"
        # measured from the last accepted request, whatever the endpoint
        assert (await api.call("GET", "/meter_info/" + DEMO_SITE_ID, tick=0.5)).status == 429
        assert (await api.call("GET", "/meter_info/" + DEMO_SITE_ID, tick=0.5)).status == 200
        auth = await api.call("POST", "/auth", body=CREDS, auth=False, tick=0.2)
        assert auth.status == 429  # /auth counts too
        unknown = await api.call("GET", "/nope", tick=0.1)
        assert unknown.status == 429
        assert (await api.call("POST", "/auth", body=CREDS, auth=False, tick=0.7)).status == 200
    assert [c.status for c in sim.calls] == [200, 200, 429, 429, 200, 429, 429, 200]


async def test_rate_limit_interval_and_switch() -> None:
    sim, clock = make_sim(rate_limit_interval=2.0)
    async with serve(sim, clock) as api:
        assert (await api.call("GET", "/all_installations", tick=2)).status == 200
        slow = await api.call("GET", "/all_installations", tick=1.5)
        assert (slow.status, slow.headers["Retry-After"]) == (429, "2")
        assert (await api.call("GET", "/all_installations", tick=0.5)).status == 200
    sim, clock = make_sim(rate_limit=False)
    async with serve(sim, clock) as api:
        statuses = [(await api.call("GET", "/all_installations", tick=0)).status for _ in range(5)]
        assert statuses == [200] * 5


# --- metadata endpoints ------------------------------------------------------------------------


async def test_all_installations_modes() -> None:
    hidden = demo_site(OTHER_SITE)
    hidden.owned = False
    second = demo_site("65f0a1b2c3d4e5f607182932", name="Chalet")
    for mode, expected in (
        ("strings", [DEMO_SITE_ID, second.id]),
        (
            "objects",
            [
                {"_id": DEMO_SITE_ID, "name": "Résidence du Lac", "site_ref": "CK-0544"},
                {"_id": second.id, "name": "Chalet", "site_ref": "CK-0546"},
            ],
        ),
    ):
        sim, clock = make_sim(demo_site(), hidden, second, installations_mode=mode)
        async with serve(sim, clock) as api:
            reply = await api.call("GET", "/all_installations")
            assert (reply.status, reply.json) == (200, expected)
    with pytest.raises(ValueError, match="installations_mode"):
        make_sim(installations_mode="dicts")


async def test_installation_infos_modes() -> None:
    site = demo_site(creation=datetime(2022, 1, 13, 7, 45, 24, 123456, tzinfo=ZURICH))
    expected_current = {
        "site_ref": "CK-0544",
        "name": "Résidence du Lac",
        "address": {
            "street_name": "Rue du Lac",
            "street_number": "12",
            "city": "Yverdon-les-Bains",
            "postal_code": 1400,
        },
        "creation_date": "2022-01-13T06:45:24",
        "latitude": 46.7785,
        "longitude": 6.6412,
        "timezone": "Europe/Zurich",
    }
    sim, clock = make_sim(site)
    async with serve(sim, clock) as api:
        reply = await api.call("GET", f"/installation_infos/{DEMO_SITE_ID}")
        assert reply.json == expected_current
        assert list(reply.json) == list(expected_current)
    sim, clock = make_sim(site, address_mode="2022")
    async with serve(sim, clock) as api:
        reply = await api.call("GET", f"/installation_infos/{DEMO_SITE_ID}")
        assert reply.json["address"] == {
            "street_name": "Rue du Lac",
            "street_number": "12",
            "city_name": "Yverdon-les-Bains",
            "city_ref": 1400,
        }


async def test_meter_info_modes() -> None:
    site = demo_site(battery=True, rule_meter=True)
    sim, clock = make_sim(site)
    async with serve(sim, clock) as api:
        meters = (await api.call("GET", f"/meter_info/{DEMO_SITE_ID}")).json
    assert [(m["prim_ad"], m["type"], m["mode"]) for m in meters] == [
        (10, "electricity", "introduction"),
        (11, "electricity", "consumption"),
        (12, "electricity", "consumption"),
        (13, "electricity", "consumption"),
        (14, "electricity", "consumption"),
        (101, "electricity", "production"),
        (201, "electricity", "battery"),
        (90, "electricity", "consumption"),
        (40, "heating", "consumption"),
        (50, "cold_water", "consumption"),
    ]
    assert list(meters[0]) == ["id", "type", "name", "mode", "prim_ad", "is_rule_meter"]
    assert [m["is_rule_meter"] for m in meters].count(True) == 1
    assert all(len(m["id"]) == 24 and int(m["id"], 16) >= 0 for m in meters)
    assert len({m["id"] for m in meters}) == len(meters)

    sim, clock = make_sim(site, meter_info_mode="2022")
    async with serve(sim, clock) as api:
        old = (await api.call("GET", f"/meter_info/{DEMO_SITE_ID}")).json
    assert old[0] == {
        "id": meters[0]["id"],
        "type": "electricity",
        "prim_ad": "10",
        "virtual": False,
    }
    assert [m["virtual"] for m in old].count(True) == 1


async def test_real_capture_meter_info_is_the_2022_file() -> None:
    sim, clock = make_sim(real_capture_site(), meter_info_mode="2022")
    async with serve(sim, clock) as api:
        reply = await api.call("GET", f"/meter_info/{CAPTURE_SITE_ID}")
    expected = json.loads((FIXTURES_DIR / "meter_info_2022.json").read_text(encoding="utf-8"))
    assert reply.json == expected
    assert [list(m) for m in reply.json] == [list(m) for m in expected]


async def test_not_found_and_routing() -> None:
    hidden = demo_site(OTHER_SITE)
    hidden.owned = False
    sim, clock = make_sim(demo_site(), hidden)
    meter = demo_site().meters[1].id
    other_meter = hidden.meters[1].id
    async with serve(sim, clock) as api:
        body = {"t_s": "2024-11-20 08:00:00"}
        for method, path, kwargs in (
            ("GET", "/installation_infos/0123456789abcdef01234567", {}),
            ("GET", "/installation_infos/not-an-id", {}),
            ("GET", f"/installation_infos/{DEMO_SITE_ID.upper()}", {}),
            ("GET", f"/meter_info/{OTHER_SITE}", {}),  # exists, not in this account
            ("POST", f"/site_data/{OTHER_SITE}/electricity", {"body": body}),
            ("POST", f"/meter_data/{DEMO_SITE_ID}/{other_meter}", {"body": body}),
            ("POST", f"/meter_data/{DEMO_SITE_ID}/123", {"body": body}),
            ("GET", f"/{DEMO_SITE_ID}/sensor_data/0123456789abcdef01234567", {}),
            ("GET", f"/{OTHER_SITE}/sensors_list", {}),
            ("GET", "/nothing/here/at/all", {}),
        ):
            reply = await api.call(method, path, **kwargs)
            assert (reply.status, reply.json) == (404, {"msg": "Not found"}), path
        ok = await api.call("POST", f"/meter_data/{DEMO_SITE_ID}/{meter}", body=body)
        assert ok.status == 200
        wrong_method = await api.call("GET", f"/site_data/{DEMO_SITE_ID}/electricity")
        assert (wrong_method.status, wrong_method.json) == (405, {"msg": "Method not allowed"})
        # authentication comes before the 404
        anonymous = await api.call("GET", f"/meter_info/{OTHER_SITE}", auth=False)
        assert anonymous.status == 401


# --- site_data: electricity ------------------------------------------------------------------


async def test_site_data_electricity_shape_and_identities() -> None:
    site = demo_site(rule_meter=True)
    sim, clock = make_sim(site)
    consumers, producers = meters_of(site, "consumption"), meters_of(site, "production")
    async with serve(sim, clock) as api:
        rows = await api.site_data("2024-06-12 00:00:00", "2024-06-15 00:00:00")
    assert len(rows) == 3 * 96 + 1
    expected_keys = [
        "conso_total",
        *sorted(f"ext_{c}" for c in consumers),
        "from_ext",
        "prod_total",
        "self",
        *sorted(f"self_{c}" for c in consumers),
        "storage_charging_self",
        "storage_charging_total",
        "storage_discharging_total",
        "to_ext",
        *sorted(f"total_{m}" for m in consumers + producers),
        "timestamp",
    ]
    introduction = meters_of(site, "introduction")[0]
    rule = next(m.id for m in site.meters if m.is_rule_meter)
    for row in rows:
        assert list(row) == expected_keys
        assert not any(introduction in k or rule in k for k in row)
        assert all(isinstance(v, float) for k, v in row.items() if k != "timestamp")
        check_identities(row, consumers, producers)
        assert row["storage_charging_total"] == row["storage_discharging_total"] == 0.0
    assert rows[0]["timestamp"] == "2024-06-12 02:00:00+02:00"
    assert rows[-1]["timestamp"] == "2024-06-15 02:00:00+02:00"
    stamps = [datetime.fromisoformat(r["timestamp"]) for r in rows]
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(stamps))
    # negative night production (PV standby draw), sunny surplus at noon
    night = [r for r in rows if r["prod_total"] < -1e-9]
    assert night
    assert min(r["prod_total"] for r in rows) >= -0.04 - 1e-9
    for row in night:
        assert row["self"] == row["prod_total"]
        assert row["to_ext"] == 0.0
        assert row["from_ext"] == pytest.approx(row["conso_total"] - row["prod_total"])
        assert all(row[f"self_{c}"] == 0.0 for c in consumers)
    assert max(r["to_ext"] for r in rows) > 0.5
    assert any(r["self"] == r["conso_total"] > 0 for r in rows)
    noon = [r for r in rows if r["timestamp"].endswith("13:30:00+02:00")]
    midnight = [r for r in rows if r["timestamp"].endswith("02:00:00+02:00")]
    assert min(r["prod_total"] for r in noon) > max(r["prod_total"] for r in midnight)
    # 0.01 kWh index steps, raw float noise (2022 style)
    total = rows[50][f"total_{consumers[0]}"]
    assert round(total, 2) == pytest.approx(total, abs=1e-9)
    assert any(r[f"total_{consumers[0]}"] != round(r[f"total_{consumers[0]}"], 2) for r in rows)


async def test_no_negative_night_when_configured() -> None:
    site = demo_site()
    site.pv_night_min = 0.0
    sim, _ = make_sim(site)
    rows = sim.interval_values(
        DEMO_SITE_ID,
        "electricity",
        datetime(2024, 6, 12, tzinfo=UTC),
        datetime(2024, 6, 13, tzinfo=UTC),
    )
    assert min(r["prod_total"] for r in rows) >= -1e-9


async def test_battery_rules_and_identities() -> None:
    site = demo_site(battery=True)
    sim, clock = make_sim(site)
    consumers, producers = meters_of(site, "consumption"), meters_of(site, "production")
    battery = meters_of(site, "battery")[0]
    async with serve(sim, clock) as api:
        rows = await api.site_data("2024-06-12 00:15:00", "2024-06-15 00:00:00")
    charged = [r for r in rows if r["storage_charging_total"] > 0]
    discharged = [r for r in rows if r["storage_discharging_total"] > 0]
    assert charged
    assert discharged
    for row in rows:
        assert not any(battery in k for k in row)
        check_identities(row, consumers, producers)
        assert row["storage_charging_total"] <= 5.0 / 4 + 1e-9
        assert row["storage_discharging_total"] <= 5.0 / 4 + 1e-9
        assert not (row["storage_charging_total"] and row["storage_discharging_total"])
    for row in charged:
        assert row["prod_total"] > row["conso_total"]
        assert row["self"] == pytest.approx(row["conso_total"])
    for row in discharged:
        hour = datetime.fromisoformat(row["timestamp"]).hour
        assert hour >= 17 or hour <= 6
        assert row["self"] > row["prod_total"]
    # per model day (UTC, the battery starts empty), the stored energy stays in [0, 10 kWh]
    stored: dict[str, float] = {}
    for row in rows:
        end = datetime.fromisoformat(row["timestamp"]).astimezone(UTC) - timedelta(minutes=15)
        day = end.date().isoformat()
        level = stored.get(day, 0.0)
        level += row["storage_charging_total"] - row["storage_discharging_total"]
        assert -1e-9 <= level <= 10.0 + 1e-9
        stored[day] = level
    assert max(stored.values()) > 0


async def test_15t_rows_are_end_stamped_with_inclusive_bounds() -> None:
    sim, clock = make_sim()
    async with serve(sim, clock) as api:
        rows = await api.site_data("2024-06-14 10:00:00", "2024-06-14 11:00:00")
        assert [r["timestamp"] for r in rows] == [
            "2024-06-14 12:00:00+02:00",
            "2024-06-14 12:15:00+02:00",
            "2024-06-14 12:30:00+02:00",
            "2024-06-14 12:45:00+02:00",
            "2024-06-14 13:00:00+02:00",
        ]
        same = await api.site_data("2024-06-14T10:00:00", "2024-06-14T11:00:00")
        assert same == rows
        inner = await api.site_data("2024-06-14 10:00:01", "2024-06-14 10:59:59")
        assert inner == rows[1:4]
        explicit = await api.call(
            "POST",
            f"/site_data/{DEMO_SITE_ID}/electricity",
            body={
                "t_s": "2024-06-14 10:00:00",
                "t_e": "2024-06-14 11:00:00",
                "sampling_frequency": "15T",
            },
        )
        assert explicit.json == rows
        assert await api.site_data("2024-06-14 11:00:00", "2024-06-14 10:00:00") == []
    truth = sim.interval_values(
        DEMO_SITE_ID,
        "electricity",
        datetime(2024, 6, 14, 10, tzinfo=UTC),
        datetime(2024, 6, 14, 11, tzinfo=UTC),
    )
    assert [t["end"] for t in truth] == [datetime.fromisoformat(r["timestamp"]) for r in rows]
    assert [
        {"end": t["end"], **{k: v for k, v in r.items() if k != "timestamp"}}
        for t, r in zip(truth, rows, strict=True)
    ] == truth


async def test_hourly_rows_are_start_stamped_sums_of_quarters() -> None:
    sim, clock = make_sim(demo_site(battery=True))
    async with serve(sim, clock) as api:
        quarters = await api.site_data("2024-06-14 00:00:01", "2024-06-15 00:00:00")
        hours = await api.site_data("2024-06-14 00:00:00", "2024-06-14 23:00:00", frequency="H")
        days = await api.site_data("2024-06-13 22:00:00", "2024-06-13 22:00:00", frequency="D")
    assert len(quarters) == 96
    assert len(hours) == 24
    assert hours[0]["timestamp"] == "2024-06-14 02:00:00+02:00"
    assert hours[-1]["timestamp"] == "2024-06-15 01:00:00+02:00"
    for i, hour in enumerate(hours):
        four = quarters[4 * i : 4 * i + 4]
        # the hour starting at h holds the quarters ending at h+15 ... h+60
        assert four[0]["timestamp"][11:13] == hour["timestamp"][11:13]
        assert four[-1]["timestamp"][14:16] == "00"
        for key, value in hour.items():
            if key != "timestamp":
                assert value == pytest.approx(sum(q[key] for q in four), abs=1e-9)
    assert [d["timestamp"] for d in days] == ["2024-06-14 00:00:00+02:00"]
    local_day = local_quarters(sim, datetime(2024, 6, 13, 22, tzinfo=UTC), 96)
    assert days[0]["conso_total"] == pytest.approx(sum(q["conso_total"] for q in local_day))
    assert sim.period_values(
        DEMO_SITE_ID,
        "electricity",
        datetime(2024, 6, 14, tzinfo=UTC),
        datetime(2024, 6, 14, 23, tzinfo=UTC),
        "H",
    ) == [
        {
            "start": datetime.fromisoformat(h["timestamp"]),
            **{k: v for k, v in h.items() if k != "timestamp"},
        }
        for h in hours
    ]


def local_quarters(sim: ClimkitSimulator, start: datetime, count: int) -> list[dict[str, Any]]:
    """Ground-truth quarter rows of the ``count`` intervals starting at ``start``."""
    return sim.interval_values(
        DEMO_SITE_ID,
        "electricity",
        start + timedelta(minutes=15),
        start + count * timedelta(minutes=15),
    )


async def test_dst_days_have_92_and_100_quarters() -> None:
    sim, clock = make_sim()
    async with serve(sim, clock) as api:
        spring = await api.site_data("2024-03-30 23:15:00", "2024-03-31 22:00:00")
        autumn = await api.site_data("2024-10-26 22:15:00", "2024-10-27 23:00:00")
        autumn_hours = await api.site_data(
            "2024-10-26 22:00:00", "2024-10-27 22:00:00", frequency="H"
        )
        days = await api.site_data("2024-10-25 22:00:00", "2024-10-27 23:00:00", frequency="D")
    assert len(spring) == 92
    assert spring[0]["timestamp"] == "2024-03-31 00:15:00+01:00"
    assert "2024-03-31 02:00:00+01:00" not in [r["timestamp"] for r in spring]
    assert spring[-1]["timestamp"] == "2024-04-01 00:00:00+02:00"
    assert len(autumn) == 100
    stamps = [r["timestamp"] for r in autumn]
    assert len(set(stamps)) == 100
    assert "2024-10-27 02:15:00+02:00" in stamps
    assert "2024-10-27 02:15:00+01:00" in stamps
    assert len(autumn_hours) == 25
    hour_stamps = [h["timestamp"] for h in autumn_hours]
    assert hour_stamps[2:4] == ["2024-10-27 02:00:00+02:00", "2024-10-27 02:00:00+01:00"]
    assert [d["timestamp"] for d in days] == [
        "2024-10-26 00:00:00+02:00",
        "2024-10-27 00:00:00+02:00",
        "2024-10-28 00:00:00+01:00",
    ]
    assert days[1]["conso_total"] == pytest.approx(sum(r["conso_total"] for r in autumn))
    assert days[1]["conso_total"] == pytest.approx(sum(h["conso_total"] for h in autumn_hours))


async def test_availability_latency_and_creation() -> None:
    creation = datetime(2024, 11, 19, 10, 7, 30, tzinfo=UTC)
    sim, clock = make_sim(demo_site(creation=creation))
    async with serve(sim, clock) as api:
        recent = await api.site_data("2024-11-20 08:00:00")
        assert recent[-1]["timestamp"] == "2024-11-20 10:30:00+01:00"  # now 10:00 UTC - 20 min
        assert len(recent) == 7
        reply = await api.call(
            "POST",
            f"/site_data/{DEMO_SITE_ID}/electricity",
            body={"t_s": "2024-11-20 08:00:00", "t_e": None},
        )
        assert reply.json == recent
        future = await api.site_data("2024-11-20 08:00:00", "2024-11-21 00:00:00")
        assert future == recent
        clock.now = datetime(2024, 11, 20, 10, 5, 0, tzinfo=UTC)
        later = await api.site_data("2024-11-20 08:00:00")
        assert later[-1]["timestamp"] == "2024-11-20 10:45:00+01:00"
        # the current hour is served with the quarters that exist (09:00-09:45 UTC)
        hours = await api.site_data("2024-11-20 08:00:00", frequency="H")
        assert [h["timestamp"] for h in hours] == [
            "2024-11-20 09:00:00+01:00",
            "2024-11-20 10:00:00+01:00",
        ]
        assert hours[1]["conso_total"] == pytest.approx(sum(r["conso_total"] for r in later[-3:]))
        # nothing before the creation (10:07:30 UTC): first quarter 10:15-10:30
        first = await api.site_data("2024-11-18 00:00:00", "2024-11-19 12:00:00")
        assert first[0]["timestamp"] == "2024-11-19 11:30:00+01:00"
        first_hours = await api.site_data(
            "2024-11-18 00:00:00", "2024-11-19 11:00:00", frequency="H"
        )
        assert first_hours[0]["timestamp"] == "2024-11-19 11:00:00+01:00"
        assert first_hours[0]["conso_total"] == pytest.approx(
            sum(r["conso_total"] for r in first[:3])
        )
        assert await api.site_data("2024-11-01 00:00:00", "2024-11-19 10:00:00") == []
        infos = await api.call("GET", f"/installation_infos/{DEMO_SITE_ID}")
        assert infos.json["creation_date"] == "2024-11-19T10:07:30"


async def test_bad_requests() -> None:
    sim, clock = make_sim()
    path = f"/site_data/{DEMO_SITE_ID}/electricity"
    async with serve(sim, clock) as api:
        for body in (
            {"t_s": "2024-06-14T10:00:00Z"},
            {"t_s": "2024-06-14 10:00:00+02:00"},
            {"t_s": "2024-06-14"},
            {"t_s": "2024-06-14 10:00:00.5"},
            {"t_s": "2024-02-30 10:00:00"},
            {"t_s": "yesterday"},
            {"t_s": 1718359200},
            {},
            {"t_s": "2024-06-14 10:00:00", "t_e": "soon"},
        ):
            reply = await api.call("POST", path, body=body)
            assert (reply.status, reply.json) == (400, {"msg": "Invalid date"}), body
        freq = await api.call(
            "POST", path, body={"t_s": "2024-06-14 10:00:00", "sampling_frequency": "7T"}
        )
        assert (freq.status, freq.json) == (400, {"msg": "Invalid sampling_frequency"})
        gas = await api.call(
            "POST", f"/site_data/{DEMO_SITE_ID}/gas", body={"t_s": "2024-06-14 10:00:00"}
        )
        assert (gas.status, gas.json) == (400, {"msg": "Invalid meter type"})
        not_json = await api.call(
            "POST", path, data=b"t_s=2024", headers={"Content-Type": "application/json"}
        )
        assert (not_json.status, not_json.json) == (400, {"msg": "Bad request"})
        no_body = await api.call("POST", path)
        assert no_body.status == 400


async def test_naive_times_as_site_local_switch() -> None:
    body = {"t_s": "2024-06-14 12:00:00", "t_e": "2024-06-14 12:00:00"}
    for naive_as_local, stamp in (
        (False, "2024-06-14 14:00:00+02:00"),
        (True, "2024-06-14 12:00:00+02:00"),
    ):
        sim, clock = make_sim(naive_as_local=naive_as_local)
        async with serve(sim, clock) as api:
            reply = await api.call("POST", f"/site_data/{DEMO_SITE_ID}/electricity", body=body)
        assert [r["timestamp"] for r in reply.json] == [stamp]


async def test_end_exclusive_switch() -> None:
    """``end_inclusive=False``: the row (or the period) stamped ``t_e`` is not served."""
    for end_inclusive in (True, False):
        sim, clock = make_sim(end_inclusive=end_inclusive)
        async with serve(sim, clock) as api:
            rows = await api.site_data("2024-06-14 10:00:00", "2024-06-14 11:00:00")
            hours = await api.site_data("2024-06-14 10:00:00", "2024-06-14 11:00:00", frequency="H")
            open_end = await api.site_data("2024-06-14 10:00:00", "2024-06-14 11:00:01")
        last = ["2024-06-14 13:00:00+02:00"] if end_inclusive else []
        assert [r["timestamp"] for r in rows] == [
            "2024-06-14 12:00:00+02:00",
            "2024-06-14 12:15:00+02:00",
            "2024-06-14 12:30:00+02:00",
            "2024-06-14 12:45:00+02:00",
            *last,
        ]
        assert [r["timestamp"] for r in hours] == [
            "2024-06-14 12:00:00+02:00",
            *(["2024-06-14 13:00:00+02:00"] if end_inclusive else []),
        ]
        assert len(open_end) == 5  # a row before t_e is served either way
        # ground truth does not depend on how a request is read
        truth = sim.interval_values(
            DEMO_SITE_ID,
            "electricity",
            datetime(2024, 6, 14, 10, tzinfo=UTC),
            datetime(2024, 6, 14, 11, tzinfo=UTC),
        )
        assert len(truth) == 5


async def test_naive_as_local_and_end_exclusive_together() -> None:
    sim, clock = make_sim(naive_as_local=True, end_inclusive=False)
    async with serve(sim, clock) as api:
        rows = await api.site_data("2024-06-14 12:00:00", "2024-06-14 13:00:00")
    assert [r["timestamp"] for r in rows] == [
        "2024-06-14 12:00:00+02:00",
        "2024-06-14 12:15:00+02:00",
        "2024-06-14 12:30:00+02:00",
        "2024-06-14 12:45:00+02:00",
    ]


async def test_missing_quarters_never_or_until_served() -> None:
    """A permanently missing quarter is never served; a late one from its instant on; both
    in 15T rows, in aggregated rows (partial sums) and in ground truth alike."""
    site = demo_site()
    never = datetime(2024, 6, 14, 10, 15, tzinfo=UTC)
    late = datetime(2024, 6, 14, 10, 45, tzinfo=UTC)
    site.missing = {never: None, late: NOW + timedelta(hours=1)}
    plain_sim, _ = make_sim()
    sim, clock = make_sim(site)
    window = (datetime(2024, 6, 14, 10, tzinfo=UTC), datetime(2024, 6, 14, 11, tzinfo=UTC))
    plain = plain_sim.interval_values(DEMO_SITE_ID, "electricity", *window)
    async with serve(sim, clock) as api:
        rows = await api.site_data("2024-06-14 10:00:00", "2024-06-14 11:00:00")
        hours = await api.site_data("2024-06-14 10:00:00", "2024-06-14 10:00:00", frequency="H")
        water = await api.site_data(
            "2024-06-14 10:00:00", "2024-06-14 11:00:00", meter_type="cold_water"
        )
        stamps = [datetime.fromisoformat(r["timestamp"]) for r in rows]
        assert stamps == [t["end"] for t in plain if t["end"] not in (never, late)]
        assert len(water) == 3
        sums = [
            t for t in plain if t["end"] in (window[0] + timedelta(minutes=15) * i for i in (2, 4))
        ]
        assert hours[0]["conso_total"] == pytest.approx(sum(t["conso_total"] for t in sums))
        assert [
            t["end"] for t in sim.interval_values(DEMO_SITE_ID, "electricity", *window)
        ] == stamps
        clock.now = NOW + timedelta(hours=1)
        api.token = None  # the first token has expired meanwhile
        later = await api.site_data("2024-06-14 10:00:00", "2024-06-14 11:00:00")
    assert [datetime.fromisoformat(r["timestamp"]) for r in later] == [
        t["end"] for t in plain if t["end"] != never
    ]


async def test_full_capture_served_verbatim_and_alone() -> None:
    """The whole 2022 answer (1,438 rows), nothing before or after it."""
    expected = capture_rows(CAPTURE_FULL_FILE)
    assert len(expected) == 1438
    assert (expected[0]["timestamp"], expected[-1]["timestamp"]) == (
        "2022-05-05 17:00:00+02:00",
        "2022-05-20 16:15:00+02:00",
    )
    day = capture_rows()
    assert day == [r for r in expected if r["timestamp"].startswith("2022-05-14")]
    sim, clock = make_sim(full_capture_site(), meter_info_mode="2022")
    async with serve(sim, clock) as api:
        rows = await api.site_data(
            "2022-05-01 00:00:00", "2022-05-25 00:00:00", site=CAPTURE_SITE_ID
        )
    assert rows == expected


async def test_round3_option() -> None:
    site = demo_site(battery=True)
    sim, clock = make_sim(site, round3=True)
    async with serve(sim, clock) as api:
        rows = await api.site_data("2024-06-14 00:00:00", "2024-06-15 00:00:00")
        hours = await api.site_data("2024-06-14 00:00:00", "2024-06-14 23:00:00", frequency="H")
    for row in rows + hours:
        for key, value in row.items():
            if key != "timestamp":
                assert value == round(value, 3)
                assert str(value) != "-0.0"
    for row in rows:  # self_c = max(self, 0) * total_c / conso_total holds per quarter only
        check_identities(row, meters_of(site, "consumption"), meters_of(site, "production"), 0.004)


async def test_gaps_are_interpolated_evenly() -> None:
    gap = (datetime(2024, 6, 14, 9, 45, tzinfo=UTC), datetime(2024, 6, 14, 10, 30, tzinfo=UTC))
    gapped = demo_site()
    gapped.gaps = [gap]
    plain_sim, _ = make_sim()
    sim, _ = make_sim(gapped)
    window = (datetime(2024, 6, 14, 9, 45, tzinfo=UTC), datetime(2024, 6, 14, 11, tzinfo=UTC))
    plain = plain_sim.interval_values(DEMO_SITE_ID, "electricity", *window)
    rows = sim.interval_values(DEMO_SITE_ID, "electricity", *window)
    values = [{k: v for k, v in r.items() if k != "end"} for r in rows]
    assert values[1] == values[2] == values[3]  # ends 10:00, 10:15, 10:30
    assert values[0] != values[1]
    assert rows[0] == plain[0]
    assert rows[4:] == plain[4:]
    linear = [k for k in values[1] if k.startswith(("total_", "conso_total", "prod_total"))]
    for key in linear:  # the gap's energy is kept, spread evenly
        assert 3 * values[1][key] == pytest.approx(sum(p[key] for p in plain[1:4]), abs=1e-9)
    check_identities(values[1], meters_of(gapped, "consumption"), meters_of(gapped, "production"))


async def test_deterministic_and_seeded() -> None:
    window = (datetime(2024, 6, 14, tzinfo=UTC), datetime(2024, 6, 14, 6, tzinfo=UTC))
    first = make_sim()[0].interval_values(DEMO_SITE_ID, "electricity", *window)
    second = make_sim()[0].interval_values(DEMO_SITE_ID, "electricity", *window)
    other = make_sim(demo_site(seed=2))[0].interval_values(DEMO_SITE_ID, "electricity", *window)
    assert first == second
    assert first != other


# --- site_data: other meter types ------------------------------------------------------------


async def test_non_electric_site_data() -> None:
    site = demo_site()
    heat = meters_of(site, "consumption", "heating")[0]
    water = meters_of(site, "consumption", "cold_water")[0]
    sim, clock = make_sim(site)
    async with serve(sim, clock) as api:
        heating = await api.site_data(
            "2024-01-14 00:00:00", "2024-01-14 06:00:00", meter_type="heating"
        )
        cold = await api.site_data(
            "2024-01-14 00:00:00", "2024-01-15 00:00:00", meter_type="cold_water"
        )
        hot = await api.site_data(
            "2024-01-14 00:00:00", "2024-01-15 00:00:00", meter_type="hot_water"
        )
    assert hot == []
    assert len(heating) == 25
    for row in heating:
        assert list(row) == [
            "conso_total",
            "from_ext",
            "prod_total",
            "self",
            "storage_charging_self",
            "storage_charging_total",
            "storage_discharging_total",
            "to_ext",
            f"total_{heat}",
            "timestamp",
        ]
        assert row["conso_total"] == row[f"total_{heat}"] > 0  # January: heating on
        assert row["from_ext"] == row["prod_total"] == row["self"] == row["to_ext"] == 0.0
    assert all(row["conso_total"] >= 0 for row in cold)
    assert sum(row["conso_total"] for row in cold) > 0.1  # m³ a day
    for row in cold:
        assert row[f"total_{water}"] == pytest.approx(round(row[f"total_{water}"], 3), abs=1e-9)
    assert UNITS["cold_water"] == "m³"
    assert UNITS["heating"] == "kWh"
    sim, clock = make_sim(demo_site(heat=False, water=False))
    async with serve(sim, clock) as api:
        assert await api.site_data("2024-01-14 00:00:00", meter_type="heating") == []


# --- meter_data ------------------------------------------------------------------------------


async def test_meter_data_shapes() -> None:
    site = demo_site(battery=True)
    sim, clock = make_sim(site)
    consumer = meters_of(site, "consumption")[0]
    pv = meters_of(site, "production")[0]
    heat = meters_of(site, "consumption", "heating")[0]
    window = {
        "t_s": "2024-06-14 00:00:00",
        "t_e": "2024-06-14 23:45:00",
        "sampling_frequency": "15T",
    }
    async with serve(sim, clock) as api:
        site_rows = await api.site_data(window["t_s"], window["t_e"])
        cons = await api.call("POST", f"/meter_data/{DEMO_SITE_ID}/{consumer}", body=window)
        prod = await api.call("POST", f"/meter_data/{DEMO_SITE_ID}/{pv}", body=window)
        heating = await api.call("POST", f"/meter_data/{DEMO_SITE_ID}/{heat}", body=window)
        hourly = await api.call(
            "POST",
            f"/meter_data/{DEMO_SITE_ID}/{consumer}",
            body={**window, "sampling_frequency": "H"},
        )
        intro = await api.call(
            "POST", f"/meter_data/{DEMO_SITE_ID}/{meters_of(site, 'introduction')[0]}", body=window
        )
        battery = await api.call(
            "POST", f"/meter_data/{DEMO_SITE_ID}/{meters_of(site, 'battery')[0]}", body=window
        )
    assert intro.json == battery.json == []
    assert len(cons.json) == len(prod.json) == len(site_rows) == 96
    assert '"self":0,' in cons.text  # integral values are JSON integers, like the 2026 capture
    for row, full in zip(cons.json, site_rows, strict=True):
        assert list(row) == ["ext", "timestamp", "self", "total"]
        assert row["timestamp"] == full["timestamp"]
        for key in ("ext", "self", "total"):
            assert row[key] == round(full[f"{key}_{consumer}"], 3)
            assert row[key] == round(row[key], 3)
    for row, full in zip(prod.json, site_rows, strict=True):
        assert list(row) == ["total", "timestamp"]
        assert row["total"] == round(full[f"total_{pv}"], 3)
    assert min(r["total"] for r in prod.json) < 0
    assert all(list(r) == ["ext", "timestamp", "self", "total"] for r in heating.json)
    assert all(r["ext"] == r["self"] == 0 for r in heating.json)
    assert len(hourly.json) == 24
    assert hourly.json[0]["timestamp"] == "2024-06-14 02:00:00+02:00"
    assert hourly.json[0]["total"] == pytest.approx(
        sum(r["total"] for r in cons.json[:4]), abs=0.003
    )


# --- sensors ---------------------------------------------------------------------------------


async def test_sensors() -> None:
    sim, clock = make_sim()
    sensor = ClimkitSimulator.sensor_id(DEMO_SITE_ID)
    async with serve(sim, clock) as api:
        listing = await api.call("GET", f"/{DEMO_SITE_ID}/sensors_list")
        assert listing.json == [
            {
                "id": sensor,
                "name": "Température chaufferie",
                "type": "temperature",
                "unit": "°C",
                "model": "PT1000",
            }
        ]
        path = f"/{DEMO_SITE_ID}/sensor_data/{sensor}"
        data = await api.call(
            "GET", path, params={"t_s": "2024-11-19 00:00:00", "t_e": "2024-11-19 06:00:00"}
        )
        assert data.status == 200
        samples = data.json
        assert len(samples) == 25
        assert samples[0] == {"timestamp": 1731974400000, "value": samples[0]["value"]}
        assert all(
            b["timestamp"] - a["timestamp"] == 900_000 for a, b in itertools.pairwise(samples)
        )
        values = [s["value"] for s in samples]
        assert len(set(values)) > 5
        assert all(10 < v < 30 and v == round(v, 1) for v in values)
        recent = await api.call("GET", path, params={"t_s": "2024-11-20 09:00:00"})
        assert recent.json[-1]["timestamp"] == int(
            datetime(2024, 11, 20, 10, tzinfo=UTC).timestamp() * 1000
        )
        missing = await api.call("GET", path)
        assert (missing.status, missing.json) == (400, {"msg": "Invalid date"})


# --- the real capture -------------------------------------------------------------------------


async def test_real_capture_served_verbatim() -> None:
    expected = capture_rows()
    assert len(expected) == 96
    for round3 in (False, True):
        site = real_capture_site()
        sim, clock = make_sim(site, round3=round3)
        async with serve(sim, clock) as api:
            reply = await api.call(
                "POST",
                f"/site_data/{CAPTURE_SITE_ID}/electricity",
                body={"t_s": "2022-05-13 22:00:00", "t_e": "2022-05-14 21:45:00"},
            )
            assert reply.json == expected
            assert [list(r) for r in reply.json] == [list(r) for r in expected]
            assert reply.text == json.dumps(expected, separators=(",", ":"))
            around = await api.site_data(
                "2022-05-13 21:00:00", "2022-05-14 23:00:00", site=CAPTURE_SITE_ID
            )
            days = await api.site_data(
                "2022-05-13 22:00:00", "2022-05-13 22:00:00", site=CAPTURE_SITE_ID, frequency="D"
            )
        assert around[4:100] == expected
        # the local day (quarters 00:00-24:00) holds the captured rows but the first one
        assert days[0]["timestamp"] == "2022-05-14 00:00:00+02:00"
        assert days[0]["conso_total"] == pytest.approx(
            sum(r["conso_total"] for r in expected[1:]) + around[100]["conso_total"], abs=1e-3
        )
        generated = around[:4] + around[100:]
        assert len(generated) == 9
        consumers, producers = meters_of(site, "consumption"), meters_of(site, "production")
        for row in generated:
            assert list(row) == list(expected[0])
            check_identities(row, consumers, producers, 0.004 if round3 else 1e-9)
    # the captured interpolated gap (11:45, 12:00, 12:15 identical consumption)
    by_stamp = {r["timestamp"]: r for r in expected}
    assert (
        by_stamp["2022-05-14 11:45:00+02:00"]["conso_total"]
        == by_stamp["2022-05-14 12:15:00+02:00"]["conso_total"]
    )
    truth = sim.interval_values(
        CAPTURE_SITE_ID,
        "electricity",
        datetime(2022, 5, 14, 0, 0, tzinfo=ZURICH),
        datetime(2022, 5, 14, 23, 45, tzinfo=ZURICH),
    )
    assert [{k: v for k, v in t.items() if k != "end"} for t in truth] == [
        {k: v for k, v in r.items() if k != "timestamp"} for r in expected
    ]


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "content_type", "body"),
    [
        ("server_error", 500, "text/html", None),
        ("bad_gateway", 502, "text/html", None),
        ("rate_limited", 429, "application/json", {"msg": "Too many requests"}),
        ("html_200", 200, "text/html", None),
        ("wrong_shape", 200, "application/json", {"foo": 1}),
        ("unauthorized", 401, "application/json", {"msg": "Token has expired"}),
    ],
)
async def test_request_faults_with_remaining(
    kind: str, status: int, content_type: str, body: Any
) -> None:
    sim, clock = make_sim()
    async with serve(sim, clock) as api:
        api.token = await api.login()
        sim.add_fault(kind, remaining=2)
        for _ in range(2):
            reply = await api.call("GET", "/all_installations")
            assert reply.status == status
            assert reply.headers["Content-Type"].startswith(content_type)
            if body is not None:
                assert reply.json == body
            if kind == "rate_limited":
                assert reply.headers["Retry-After"] == "1"
        assert sim.faults == []
        assert (await api.call("GET", "/all_installations")).json == [DEMO_SITE_ID]


async def test_fault_path_filters_and_auth() -> None:
    sim, clock = make_sim(demo_site(), demo_site(OTHER_SITE))
    async with serve(sim, clock) as api:
        sim.add_fault("unauthorized")  # never applies to /auth
        api.token = await api.login()
        assert (await api.call("GET", "/all_installations")).status == 401
        sim.clear_faults()
        sim.add_fault("server_error", paths="site_data")
        sim.add_fault("site_gone", paths=[OTHER_SITE])
        assert (await api.call("GET", "/all_installations")).status == 200
        assert (await api.call("POST", f"/site_data/{DEMO_SITE_ID}/heating", body={})).status == 500
        assert (await api.call("GET", f"/meter_info/{DEMO_SITE_ID}")).status == 200
        gone = await api.call("GET", f"/meter_info/{OTHER_SITE}")
        assert (gone.status, gone.json) == (404, {"msg": "Not found"})
        assert (await api.call("GET", f"/installation_infos/{OTHER_SITE}")).status == 404
        sim.clear_faults()
        sim.add_fault("bad_gateway", paths=["/auth"], remaining=1)
        assert (await api.call("POST", "/auth", body=CREDS, auth=False)).status == 502
        assert (await api.call("POST", "/auth", body=CREDS, auth=False)).status == 200
        sim.add_fault("wrong_shape", paths=["/api/v1/meter_info"], remaining=1)
        assert (await api.call("GET", f"/meter_info/{DEMO_SITE_ID}")).json == {"foo": 1}
        assert (await api.call("GET", f"/meter_info/{DEMO_SITE_ID}")).status == 200
    with pytest.raises(ValueError, match="unknown fault kind"):
        sim.add_fault("meteor")
    assert "timeout" in FAULT_KINDS


async def test_data_faults() -> None:
    sim, clock = make_sim()
    path = f"/site_data/{DEMO_SITE_ID}/electricity"
    body = {"t_s": "2024-06-14 10:00:00", "t_e": "2024-06-14 12:00:00"}
    async with serve(sim, clock) as api:
        clean = (await api.call("POST", path, body=body)).json
        assert len(clean) == 9
        sim.add_fault("truncated_json", remaining=1)
        cut = await api.call("POST", path, body=body)
        assert cut.status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(cut.text)
        sim.add_fault("nulls", remaining=1)
        nulls = (await api.call("POST", path, body=body)).json
        assert [r["timestamp"] for r in nulls] == [r["timestamp"] for r in clean]
        broken = [i for i, r in enumerate(nulls) if r["conso_total"] is None]
        assert broken == [1, 5]
        assert all(v is None for k, v in nulls[1].items() if k != "timestamp")
        assert nulls[0] == clean[0]
        sim.add_fault("drop_rows", paths="meter_data", remaining=1)
        assert (await api.call("POST", path, body=body)).json == clean  # not site_data
        meter = demo_site().meters[1].id
        dropped = (await api.call("POST", f"/meter_data/{DEMO_SITE_ID}/{meter}", body=body)).json
        assert len(dropped) == 7
        assert [r["timestamp"] for r in dropped] == [
            r["timestamp"] for i, r in enumerate(clean) if i % 4 != 1
        ]
        assert sim.faults == []
        # a data fault is not used up by a failing request
        sim.add_fault("nulls", remaining=1)
        assert (await api.call("POST", path, body={"t_s": "x"})).status == 400
        assert len(sim.faults) == 1


async def test_timeout_fault_delays_answer() -> None:
    sim, clock = make_sim(delay_seconds=0.15)
    async with serve(sim, clock) as api:
        api.token = await api.login()
        sim.add_fault("timeout", paths="all_installations", remaining=1)
        with pytest.raises(TimeoutError):
            await api.call("GET", "/all_installations", client_timeout=0.05)
        await asyncio.sleep(0.2)
        start = time.monotonic()
        assert (await api.call("GET", "/all_installations")).status == 200
        assert time.monotonic() - start < 0.12
        sim.add_fault("timeout", remaining=1)
        sim.delay_seconds = 0.05
        slow = await api.call("GET", f"/meter_info/{DEMO_SITE_ID}")
        assert slow.status == 200  # the answer comes, late


# --- call log, start/stop, clock -------------------------------------------------------------


async def test_call_log() -> None:
    sim, clock = make_sim()
    async with serve(sim, clock) as api:
        await api.login()
        api.token = sim.issue_token()
        await api.call("GET", "/all_installations")
        await api.call("GET", "/all_installations", tick=0)
        body = {"t_s": "2024-11-20 06:00:00", "t_e": None, "sampling_frequency": "H"}
        await api.call("POST", f"/site_data/{DEMO_SITE_ID}/electricity", body=body)
        sensor = ClimkitSimulator.sensor_id(DEMO_SITE_ID)
        await api.call(
            "GET", f"/{DEMO_SITE_ID}/sensor_data/{sensor}", params={"t_s": "2024-11-20 06:00:00"}
        )
    assert [(c.method, c.path, c.status) for c in sim.calls] == [
        ("POST", "/api/v1/auth", 200),
        ("GET", "/api/v1/all_installations", 200),
        ("GET", "/api/v1/all_installations", 429),
        ("POST", f"/api/v1/site_data/{DEMO_SITE_ID}/electricity", 200),
        ("GET", f"/api/v1/{DEMO_SITE_ID}/sensor_data/{sensor}", 200),
    ]
    assert sim.calls[0].body == CREDS
    assert sim.calls[1].body is None
    assert sim.calls[3].body == body
    assert sim.calls[4].query == {"t_s": "2024-11-20 06:00:00"}
    assert [c.at for c in sim.calls] == [NOW + timedelta(seconds=s) for s in (1, 2, 2, 3, 4)]
    assert all(c.at.tzinfo is UTC for c in sim.calls)
    assert [c.endpoint for c in sim.calls] == [
        "auth",
        "all_installations",
        "all_installations",
        "site_data",
        "sensor_data",
    ]
    assert len(sim.calls_to("all_installations")) == 2
    assert len(sim.calls_to()) == 5


async def test_start_stop_on_a_real_socket() -> None:
    clock = Clock(NOW)
    sim = ClimkitSimulator([demo_site()], clock=clock, rate_limit=False, delay_seconds=30)
    url = await sim.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        assert sim.base_url == url + "/api/v1"
        with pytest.raises(RuntimeError):
            await sim.start()
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{sim.base_url}/auth", json=CREDS) as resp:
                token = (await resp.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(f"{sim.base_url}/all_installations", headers=headers) as resp:
                assert await resp.json() == [DEMO_SITE_ID]
            sim.add_fault("timeout")
            with pytest.raises(TimeoutError):
                async with session.get(
                    f"{sim.base_url}/all_installations",
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=0.1),
                ):
                    pass
    finally:
        start = time.monotonic()
        await sim.stop()
        assert time.monotonic() - start < 5  # the held request is released at stop
    await sim.stop()  # idempotent


async def test_default_clock_follows_freezegun(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to("2024-11-20 10:00:07+00:00")
    sim = ClimkitSimulator([demo_site()])
    assert sim.now() == NOW
    assert sim.available_until() == datetime(2024, 11, 20, 9, 30, tzinfo=UTC)
    freezer.tick(timedelta(minutes=10))
    assert sim.available_until() == datetime(2024, 11, 20, 9, 45, tzinfo=UTC)
