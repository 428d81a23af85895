"""Tests of the Conso API simulator (tests/simulators/conso_api.py)."""

import base64
import importlib.util
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.simulators.conso_api import (
    ALL_TYPES,
    FAULT_KINDS,
    PARIS,
    ConsoApiSimulator,
    MeterProfile,
    make_token,
)

# The simulator is served on a real 127.0.0.1 socket (aiohttp TestServer). Under
# pytest-homeassistant-custom-component, pytest-socket blocks sockets unless the test
# requests its ``socket_enabled`` fixture; without that plugin, nothing is needed.
pytestmark = (
    [pytest.mark.usefixtures("socket_enabled")]
    if importlib.util.find_spec("pytest_socket") is not None
    else []
)

PRM = "12345678901234"
PROD_PRM = "98765432109876"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=PARIS)
ENEDIS = "The Enedis API returned an error"
BAD_TOKEN_BODY = {
    "status": 401,
    "message": "Votre token est invalide ou ne permet pas d'accéder à ce PRM",
}
NO_DATA = {"error": "no_data_found", "error_description": "no measure found for this usage point"}


class Clock:
    """Settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_sim(now: datetime = NOW, **meter_kwargs: Any) -> tuple[ConsoApiSimulator, Clock]:
    clock = Clock(now)
    meters = [
        MeterProfile(PRM, **meter_kwargs),
        MeterProfile(PROD_PRM, seed=7, has_production=True),
    ]
    return ConsoApiSimulator(meters, clock=clock), clock


def auth(prms: list[str] | None = None, **kwargs: Any) -> dict[str, str]:
    token = make_token(prms or [PRM, PROD_PRM], iat=NOW - timedelta(days=30), **kwargs)
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def serve(sim: ConsoApiSimulator) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(sim.app())) as client:
        yield client


async def call(
    client: TestClient[Any, Any],
    type_: str,
    start: str,
    end: str,
    prm: str = PRM,
    headers: dict[str, str] | None = None,
    **extra: str,
) -> tuple[int, Any]:
    params = {"pointId": prm, "dateDebut": start, "dateFin": end, **extra}
    resp = await client.get(f"/api/{type_}", params=params, headers=headers or auth())
    text = await resp.text()
    return resp.status, json.loads(text) if text else None


def issues_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert body["status"] == 400
    assert body["message"] == "Paramètres invalides"
    assert body["error"]["name"] == "ZodError"
    return list(body["error"]["issues"])


# --- validation (§1.2, §1.4, §3.1) ---------------------------------------------------------


async def test_zod_body_for_short_point_id_is_byte_exact() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        resp = await client.get(
            "/api/consommation_quotidienne",
            params={"pointId": "1234", "dateDebut": "2026-04-01", "dateFin": "2026-04-02"},
        )
        assert resp.status == 400
        assert resp.headers["Content-Type"] == "application/json"
        assert await resp.text() == (
            '{"status":400,"message":"Paramètres invalides","error":{"issues":[{"code":'
            '"too_small","minimum":14,"type":"string","inclusive":true,"exact":true,"message":'
            '"String must contain exactly 14 character(s)","path":["pointId"]}],"name":"ZodError"}}'
        )


async def test_zod_missing_point_id_bad_date_and_too_long() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        resp = await client.get(
            "/api/consommation_quotidienne", params={"dateDebut": "2026-4-01", "dateFin": "x"}
        )
        assert resp.status == 400
        assert issues_of(await resp.json()) == [
            {
                "code": "invalid_type",
                "expected": "string",
                "received": "null",
                "path": ["pointId"],
                "message": "Expected string, received null",
            },
            {
                "validation": "regex",
                "code": "invalid_string",
                "message": "Invalid",
                "path": ["dateDebut"],
            },
            {
                "validation": "regex",
                "code": "invalid_string",
                "message": "Invalid",
                "path": ["dateFin"],
            },
        ]
        status, body = await call(
            client, "consommation_quotidienne", "2026-04-01", "2026-04-02", prm=PRM + "5"
        )
        assert status == 400
        assert issues_of(body)[0]["code"] == "too_big"
        assert list(issues_of(body)[0]) == [
            "code",
            "maximum",
            "type",
            "inclusive",
            "exact",
            "message",
            "path",
        ]


async def test_zod_unknown_type_lists_all_twelve_types_and_several_issues() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        resp = await client.get(
            "/api/foo",
            params={
                "prm": "123",
                "end": "2026-04-02",
                "mesuresPas": "P1Y",
                "grandeurPhysique": "PMA",
            },
        )
        assert resp.status == 400
        issues = issues_of(await resp.json())
        assert [i["path"] for i in issues] == [["type"], ["pointId"], ["dateDebut"], ["mesuresPas"]]
        enum = issues[0]
        assert list(enum) == ["received", "code", "options", "path", "message"]
        assert enum["options"] == [
            "daily_consumption",
            "consumption_load_curve",
            "consumption_max_power",
            "daily_production",
            "production_load_curve",
            "index_consommation",
            "index_production",
            "consommation_quotidienne",
            "production_quotidienne",
            "puissance_conso_max_quotidienne",
            "courbe_de_charge_consommation",
            "courbe_de_charge_production",
        ]
        assert enum["options"] == list(ALL_TYPES)
        assert enum["message"] == (
            "Invalid enum value. Expected 'daily_consumption' | 'consumption_load_curve' | "
            "'consumption_max_power' | 'daily_production' | 'production_load_curve' | "
            "'index_consommation' | 'index_production' | 'consommation_quotidienne' | "
            "'production_quotidienne' | 'puissance_conso_max_quotidienne' | "
            "'courbe_de_charge_consommation' | 'courbe_de_charge_production', received 'foo'"
        )
        assert issues[3] == {
            "received": "P1Y",
            "code": "invalid_enum_value",
            "options": ["P1D", "P1M"],
            "path": ["mesuresPas"],
            "message": "Invalid enum value. Expected 'P1D' | 'P1M', received 'P1Y'",
        }
        # grandeurPhysique is validated for every type too
        status, body = await call(
            client, "consommation_quotidienne", "2026-04-01", "2026-04-02", grandeurPhysique=""
        )
        assert status == 400
        assert issues_of(body)[0]["path"] == ["grandeurPhysique"]


async def test_aliases_and_new_name_wins_even_if_empty() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        resp = await client.get(
            "/api/consommation_quotidienne",
            params={"prm": PRM, "start": "2026-04-01", "end": "2026-04-03"},
            headers=auth(),
        )
        assert resp.status == 200
        body = await resp.json()
        assert body["periode"] == {"dateDebut": "2026-04-01", "dateFin": "2026-04-03"}
        resp = await client.get(
            "/api/consommation_quotidienne",
            params={"pointId": "", "prm": PRM, "dateDebut": "2026-04-01", "dateFin": "2026-04-03"},
            headers=auth(),
        )
        assert resp.status == 400
        issue = issues_of(await resp.json())[0]
        assert (issue["code"], issue["path"]) == ("too_small", ["pointId"])


async def test_unanchored_date_regex_passes_conso_api() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        status, body = await call(client, "consommation_quotidienne", "x2026-13-99x", "2026-04-02")
        # zod lets it through; the "Enedis" side then refuses it (wrapped error, not a ZodError)
        assert status == 400
        assert body["message"] == ENEDIS


async def test_method_and_options() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        resp = await client.post("/api/consommation_quotidienne")
        assert resp.status == 405
        assert await resp.json() == {"status": 405, "message": "Seule la méthode GET est autorisée"}
        resp = await client.options("/api/foo")
        assert resp.status == 200
        assert await resp.read() == b""
        assert "Access-Control-Allow-Origin" not in resp.headers


async def test_validation_comes_before_authorization_header() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        resp = await client.get("/api/consommation_quotidienne", params={"pointId": PRM})
        assert (await resp.json())["message"] == "Paramètres invalides"
        params = {"pointId": PRM, "dateDebut": "2026-04-01", "dateFin": "2026-04-02"}
        missing = {"status": 400, "message": "Le header 'Authorization' est manquant ou invalide"}
        for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer  x"}):
            resp = await client.get("/api/consommation_quotidienne", params=params, headers=headers)
            assert resp.status == 400
            assert await resp.json() == missing
        # the scheme word is not checked
        token = auth()["Authorization"].split(" ")[1]
        resp = await client.get(
            "/api/consommation_quotidienne",
            params=params,
            headers={"Authorization": f"Token {token}"},
        )
        assert resp.status == 200


# --- tokens (§1.5) ------------------------------------------------------------------------


def _b64decode(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_make_token_structure() -> None:
    iat = datetime(2026, 1, 1, tzinfo=UTC)
    header, payload, signature = make_token([PRM], iat=iat).split(".")
    assert _b64decode(header) == {"alg": "HS256"}
    decoded = _b64decode(payload)
    assert list(decoded) == ["iat", "exp", "sub"]
    assert decoded["sub"] == [PRM]
    assert decoded["exp"] - decoded["iat"] == 1094 * 86400
    assert len(base64.urlsafe_b64decode(signature + "=")) == 32
    header, payload, _ = make_token([PRM], iat=iat, typ=True).split(".")
    assert _b64decode(header) == {"alg": "HS256", "typ": "JWT"}
    assert _b64decode(payload)["sub"] == [PRM]


async def test_token_rejections() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        args = ("consommation_quotidienne", "2026-04-01", "2026-04-02")
        bad = [
            auth(secret="another-secret"),
            auth(exp=NOW - timedelta(seconds=1)),
            auth(exp=NOW),  # exp <= now is expired
            auth([PROD_PRM]),
            {"Authorization": "Bearer not.a.jwt"},
            {"Authorization": "Bearer abc"},
        ]
        for headers in bad:
            assert await call(client, *args, headers=headers) == (401, BAD_TOKEN_BODY)
        # tampered payload, original signature
        header, _, signature = make_token([PROD_PRM]).split(".")
        forged = base64.urlsafe_b64encode(json.dumps({"sub": [PRM]}).encode()).rstrip(b"=").decode()
        tampered = {"Authorization": f"Bearer {header}.{forged}.{signature}"}
        assert await call(client, *args, headers=tampered) == (401, BAD_TOKEN_BODY)
        # valid tokens: jose style and 2023 jsonwebtoken style
        assert (await call(client, *args, headers=auth(typ=True)))[0] == 200
        assert (await call(client, *args, headers=auth(exp=NOW + timedelta(seconds=1))))[0] == 200


async def test_prm_in_token_but_unknown_to_enedis() -> None:
    sim, _ = make_sim()
    other = "11111111111111"
    async with serve(sim) as client:
        status, body = await call(
            client,
            "consommation_quotidienne",
            "2026-04-01",
            "2026-04-02",
            prm=other,
            headers=auth([other]),
        )
        assert status == 400
        assert body == {
            "status": 400,
            "message": ENEDIS,
            "error": {
                "error": "ADAM-DC-0007",
                "error_description": "Le client n'est pas titulaire du point demandé.",
            },
        }


# --- load curve and DST (§2.2) -------------------------------------------------------------


async def test_load_curve_regular_day_shape() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        resp = await client.get(
            "/api/courbe_de_charge_consommation",
            params={"pointId": PRM, "dateDebut": "2026-04-01", "dateFin": "2026-04-02"},
            headers=auth(),
        )
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
        body = await resp.json()
    assert list(body) == ["idPrm", "etapeMetier", "periode", "modeCalcul", "grandeur", "contexte"]
    assert body["idPrm"] == PRM
    assert body["etapeMetier"] == "BRUT"
    assert body["modeCalcul"] == "MESURE"
    assert body["contexte"] == []
    (grandeur,) = body["grandeur"]
    assert list(grandeur) == ["grandeurMetier", "grandeurPhysique", "unite", "points", "calendrier"]
    assert (grandeur["grandeurMetier"], grandeur["grandeurPhysique"], grandeur["unite"]) == (
        "CONS",
        "PA",
        "W",
    )
    points = grandeur["points"]
    assert len(points) == 48
    assert points[0]["d"] == "2026-04-01 00:30:00"
    assert points[-1]["d"] == "2026-04-02 00:00:00"
    for point in points:
        assert list(point) == ["v", "d", "p", "n", "iv", "ec"]
        assert (point["p"], point["n"], point["iv"], point["ec"]) == ("PT30M", "B", "0", "0")
        assert int(point["v"]) > 0
        assert int(point["v"]) % 2 == 0  # W of a half-hour = 2 x integer Wh
    served = [(p["d"], int(p["v"]), 30) for p in points]
    assert served == sim.curve_points(PRM, date(2026, 4, 1))


async def test_load_curve_dst_days() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        _, spring = await call(client, "courbe_de_charge_consommation", "2026-03-29", "2026-03-30")
        _, autumn = await call(client, "courbe_de_charge_consommation", "2026-10-25", "2026-10-26")
    spring_d = [p["d"][11:16] for p in spring["grandeur"][0]["points"]]
    autumn_d = [p["d"][11:16] for p in autumn["grandeur"][0]["points"]]
    assert len(spring_d) == 46
    assert spring_d[:6] == ["00:30", "01:00", "01:30", "03:00", "03:30", "04:00"]
    assert len(autumn_d) == 50
    assert autumn_d[:10] == [
        "00:30",
        "01:00",
        "01:30",
        "02:00",
        "02:30",
        "03:00",
        "02:30",
        "03:00",
        "03:30",
        "04:00",
    ]
    assert spring["grandeur"][0]["points"][-1]["d"] == "2026-03-30 00:00:00"
    assert autumn["grandeur"][0]["points"][-1]["d"] == "2026-10-26 00:00:00"


async def test_seven_day_window_and_date_order() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        status, body = await call(
            client, "courbe_de_charge_consommation", "2026-04-01", "2026-04-09"
        )
        assert status == 400
        assert body["error"]["error"] == "ADAM-ERR0126"
        status, body = await call(
            client, "courbe_de_charge_consommation", "2026-04-01", "2026-04-08"
        )
        assert status == 200
        assert len(body["grandeur"][0]["points"]) == 7 * 48
        # no window on daily data
        status, _ = await call(client, "consommation_quotidienne", "2026-01-01", "2026-04-08")
        assert status == 200
        for type_ in ("courbe_de_charge_consommation", "consommation_quotidienne"):
            for end in ("2026-04-01", "2026-03-31"):
                assert await call(client, type_, "2026-04-01", end) == (
                    400,
                    {
                        "status": 400,
                        "message": ENEDIS,
                        "error": {
                            "error": "ADAM-ERR0002",
                            "error_description": (
                                "La date de fin doit être supérieure à la date de début."
                            ),
                        },
                    },
                )


# --- daily data ----------------------------------------------------------------------------


async def test_daily_shape_and_relation_to_curve() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        status, body = await call(client, "consommation_quotidienne", "2026-04-01", "2026-04-04")
    assert status == 200
    assert list(body) == [
        "idPrm",
        "etapeMetier",
        "periode",
        "typeValeur",
        "modeCalcul",
        "pas",
        "grandeur",
        "contexte",
    ]
    assert (body["typeValeur"], body["modeCalcul"], body["pas"]) == ("GLOBALE", "DIFF.INDEX", "P1D")
    grandeur = body["grandeur"][0]
    assert (grandeur["grandeurMetier"], grandeur["grandeurPhysique"], grandeur["unite"]) == (
        "CONS",
        "EA",
        "Wh",
    )
    assert grandeur["calendrier"] == []
    days = [date(2026, 4, 1) + timedelta(days=i) for i in range(3)]
    assert grandeur["points"] == [
        {"v": str(sim.daily_wh(PRM, d)), "d": d.isoformat()} for d in days
    ]
    ratios = []
    for offset in range(60):
        day = date(2026, 1, 1) + timedelta(days=offset * 5)
        ratio = sim.daily_wh(PRM, day) / sim.curve_wh(PRM, day)
        assert 0.985 - 1e-3 < ratio < 1.015 + 1e-3
        ratios.append(ratio)
    assert max(ratios) - min(ratios) > 0.01  # the factor really varies
    winter = sum(sim.daily_wh(PRM, date(2026, 1, d)) for d in range(1, 29))
    summer = sum(sim.daily_wh(PRM, date(2026, 7, d)) for d in range(1, 29))
    assert winter > 1.5 * summer


def test_values_are_deterministic() -> None:
    a, _ = make_sim()
    b, _ = make_sim()
    c = ConsoApiSimulator([MeterProfile(PRM, seed=2)])
    day = date(2026, 2, 3)
    assert a.curve_points(PRM, day) == b.curve_points(PRM, day)
    assert a.daily_wh(PRM, day) == b.daily_wh(PRM, day)
    assert a.max_power(PRM, day) == b.max_power(PRM, day)
    assert a.curve_points(PRM, day) != c.curve_points(PRM, day)


async def test_step_override_corrections_null_and_partial_days() -> None:
    sim, _ = make_sim()
    d1, d2, d3, d4 = (date(2026, 4, d) for d in (1, 2, 3, 4))
    plain_wh = sim.curve_wh(PRM, d1)
    sim.step_override[d1] = 15
    sim.step_override[d2] = 60
    sim.corrections[d3] = 1.1
    sim.null_days.add(d4)
    sim.partial_days[d2] = 10
    async with serve(sim) as client:
        _, body = await call(client, "courbe_de_charge_consommation", "2026-04-01", "2026-04-05")
        _, daily = await call(client, "consommation_quotidienne", "2026-04-01", "2026-04-05")
    points = body["grandeur"][0]["points"]
    by_day: dict[str, list[dict[str, str]]] = {}
    for point in points:
        by_day.setdefault(point["d"][:10], []).append(point)
    assert len(by_day["2026-04-01"]) == 95  # 96 quarter-hours, the last one stamped 04-02 00:00
    assert {p["p"] for p in points[:96]} == {"PT15M"}
    assert points[0]["d"] == "2026-04-01 00:15:00"
    assert points[95]["d"] == "2026-04-02 00:00:00"
    assert abs(sim.curve_wh(PRM, d1) - plain_wh) < 0.01 * plain_wh
    assert [p["p"] for p in points[96:106]] == ["PT60M"] * 10  # partial day: 10 of 24 points
    assert points[96]["d"] == "2026-04-02 01:00:00"
    assert body["etapeMetier"] == "BEST"
    assert daily["etapeMetier"] == "BEST"
    d4_points = [p for p in points if p["d"] > "2026-04-04 00:00:00"]
    assert len(d4_points) == 48
    assert {p["v"] for p in d4_points} == {"null"}
    daily_values = {p["d"]: int(p["v"]) for p in daily["grandeur"][0]["points"]}
    assert daily_values["2026-04-04"] == sim.daily_wh(PRM, d4)  # null curve, valid daily
    corrected = ConsoApiSimulator([MeterProfile(PRM)])
    ratio = daily_values["2026-04-03"] / corrected.daily_wh(PRM, d3)
    assert abs(ratio - 1.1) < 0.001
    assert abs(sim.curve_wh(PRM, d3) / corrected.curve_wh(PRM, d3) - 1.1) < 0.01


async def test_publication_time_and_late_days() -> None:
    sim, clock = make_sim(datetime(2026, 4, 2, 7, 59, tzinfo=PARIS))
    async with serve(sim) as client:
        args = ("consommation_quotidienne", "2026-04-01", "2026-04-02")
        assert await call(client, *args) == (
            404,
            {"status": 404, "message": ENEDIS, "error": NO_DATA},
        )
        assert not sim.is_published(date(2026, 4, 1))
        # partial range: only the published days
        _, body = await call(client, "consommation_quotidienne", "2026-03-30", "2026-04-02")
        assert [p["d"] for p in body["grandeur"][0]["points"]] == ["2026-03-30", "2026-03-31"]
        clock.now = datetime(2026, 4, 2, 8, 0, tzinfo=PARIS)
        status, body = await call(client, *args)
        assert status == 200
        assert [p["d"] for p in body["grandeur"][0]["points"]] == ["2026-04-01"]
        status, _ = await call(client, "courbe_de_charge_consommation", "2026-04-01", "2026-04-02")
        assert status == 200
        # a day published one day late
        sim.late_days[date(2026, 4, 2)] = 1
        clock.now = datetime(2026, 4, 3, 9, 0, tzinfo=PARIS)
        assert (await call(client, "consommation_quotidienne", "2026-04-02", "2026-04-03"))[
            0
        ] == 404
        clock.now = datetime(2026, 4, 4, 8, 0, tzinfo=PARIS)
        assert (await call(client, "consommation_quotidienne", "2026-04-02", "2026-04-03"))[
            0
        ] == 200
        # future dates are accepted but carry no data
        assert (await call(client, "consommation_quotidienne", "2026-04-04", "2026-04-10"))[
            0
        ] == 404


async def test_history_limits_activation_and_hourly_collection() -> None:
    sim, _ = make_sim(activation=date(2025, 6, 10))
    async with serve(sim) as client:
        # today 2026-11-20: daily limit 2023-11-05, load-curve limit 2024-11-05
        status, body = await call(
            client, "puissance_conso_max_quotidienne", "2023-11-04", "2023-11-06"
        )
        assert (status, body["error"]["error"]) == (400, "ADAM-ERR0125")
        status, body = await call(client, "consommation_quotidienne", "2023-11-05", "2023-11-06")
        assert (status, body["error"]["error"]) == (400, "ADAM-ERR0123")  # before activation
        status, body = await call(
            client, "courbe_de_charge_consommation", "2024-11-04", "2024-11-06"
        )
        assert (status, body["error"]["error"]) == (400, "ADAM-ERR0125")
        status, body = await call(
            client, "courbe_de_charge_consommation", "2024-11-05", "2024-11-06"
        )
        assert body["error"] == {
            "error": "ADAM-ERR0123",
            "error_description": (
                "La demande ne peut pas aboutir, la période demandée est antérieure à la date "
                "de dernière mise en service du point."
            ),
        }
        status, body = await call(client, "consommation_quotidienne", "2025-06-01", "2025-06-12")
        assert status == 200
        assert [p["d"] for p in body["grandeur"][0]["points"]] == ["2025-06-10", "2025-06-11"]
    sim2, _ = make_sim(hourly_since=None)
    sim3, _ = make_sim(hourly_since=date(2026, 4, 3))
    async with serve(sim2) as client:
        assert (await call(client, "courbe_de_charge_consommation", "2026-04-01", "2026-04-02"))[
            0
        ] == 404
        assert (await call(client, "consommation_quotidienne", "2026-04-01", "2026-04-02"))[
            0
        ] == 200
    async with serve(sim3) as client:
        _, body = await call(client, "courbe_de_charge_consommation", "2026-04-01", "2026-04-05")
        assert len(body["grandeur"][0]["points"]) == 2 * 48
        assert body["grandeur"][0]["points"][0]["d"] == "2026-04-03 00:30:00"
    sim4, _ = make_sim()
    async with serve(sim4) as client:
        status, _ = await call(client, "consommation_quotidienne", "2023-11-05", "2023-11-06")
        assert status == 200


# --- production, max power, other types -----------------------------------------------------


async def test_production() -> None:
    sim, _ = make_sim()
    sim.meters[PROD_PRM].production_consent = True
    async with serve(sim) as client:
        status, body = await call(
            client, "courbe_de_charge_production", "2026-06-21", "2026-06-22", prm=PROD_PRM
        )
        assert status == 200
        assert body["grandeur"][0]["grandeurMetier"] == "PROD"
        values = {p["d"][11:16]: int(p["v"]) for p in body["grandeur"][0]["points"]}
        assert values["02:00"] == 0
        assert values["23:30"] == 0
        assert values["14:00"] > 0
        status, body = await call(
            client, "production_quotidienne", "2026-06-21", "2026-06-22", prm=PROD_PRM
        )
        assert status == 200
        assert body["grandeur"][0]["points"] == [
            {
                "v": str(sim.daily_wh(PROD_PRM, date(2026, 6, 21), production=True)),
                "d": "2026-06-21",
            }
        ]
        no_consent = {
            "status": 403,
            "message": ENEDIS,
            "error": {
                "error": "ADAM-DC-0008",
                "error_description": (
                    "No consent can be found for this customer and this usage point."
                ),
            },
        }
        # the consumption-only meter
        assert await call(client, "production_quotidienne", "2026-06-21", "2026-06-22") == (
            403,
            no_consent,
        )
        sim.meters[PROD_PRM].production_consent = False
        args = ("courbe_de_charge_production", "2026-06-21", "2026-06-22")
        assert await call(client, *args, prm=PROD_PRM) == (403, no_consent)
    summer = sum(sim.daily_wh(PROD_PRM, date(2026, 6, d), True) for d in range(1, 29))
    winter = sum(sim.daily_wh(PROD_PRM, date(2026, 12, d), True) for d in range(1, 29))
    assert summer > 2 * winter


async def test_max_power() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        status, body = await call(
            client, "puissance_conso_max_quotidienne", "2026-04-01", "2026-04-04"
        )
        assert status == 200
        assert list(body) == [
            "idPrm",
            "etapeMetier",
            "periode",
            "modeCalcul",
            "pas",
            "grandeur",
            "contexte",
        ]
        assert (body["modeCalcul"], body["pas"]) == ("MESURE", "P1D")
        (grandeur,) = body["grandeur"]
        assert (grandeur["grandeurPhysique"], grandeur["unite"]) == ("PMA", "VA")
        for point, day in zip(grandeur["points"], (1, 2, 3), strict=True):
            va, stamp = sim.max_power(PRM, date(2026, 4, day))
            assert point == {"v": str(va), "d": stamp}
            assert stamp.startswith(f"2026-04-0{day} ")
            assert len(stamp) == 19
            peak_w = max(w for _, w, _ in sim.curve_points(PRM, date(2026, 4, day)))
            assert va >= peak_w
        _, body = await call(
            client,
            "puissance_conso_max_quotidienne",
            "2026-04-01",
            "2026-04-04",
            grandeurPhysique="TOUT",
        )
        assert [g["grandeurPhysique"] for g in body["grandeur"]] == ["PMA", "PMA1", "PMA2", "PMA3"]
        assert all(len(g["points"]) == 3 for g in body["grandeur"])
        _, body = await call(
            client, "puissance_conso_max_quotidienne", "2026-03-01", "2026-05-01", mesuresPas="P1M"
        )
        assert body["pas"] == "P1M"
        points = body["grandeur"][0]["points"]
        assert [p["d"][:7] for p in points] == ["2026-03", "2026-04"]
        march = max(sim.max_power(PRM, date(2026, 3, d))[0] for d in range(1, 32))
        assert int(points[0]["v"]) == march


async def test_legacy_types_are_gone_index_types_answer() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        assert await call(client, "daily_consumption", "2026-04-01", "2026-04-02") == (
            404,
            {
                "status": 404,
                "message": ENEDIS,
                "error": {"code": "404", "message": "Resource not found"},
            },
        )
        resp = await client.get(
            "/api/consumption_load_curve",
            params={"prm": PRM, "start": "2026-04-01", "end": "2026-04-02"},
            headers=auth(),
        )
        assert resp.status == 404
        # The index types answer (their consistency: tests/providers/test_conso_api_index.py).
        status, body = await call(client, "index_consommation", "2026-04-01", "2026-04-02")
        assert (status, body["idPrm"], body["periode"]["dateDebut"]) == (200, PRM, "2026-04-01")


# --- faults, delay, call log ----------------------------------------------------------------

FAULT_STATUS = {
    "quota_900807": 429,
    "quota_900804": 429,
    "technical_error": 500,
    "enedis_raw_500": 500,
    "token_refresh": 500,
    "unknown_error": 500,
    "not_titulaire": 400,
    "no_consent": 403,
    "gateway_900908": 403,
    "cloudflare_403": 403,
    "cloudflare_502_html": 502,
    "cloudflare_502_json": 502,
    "html_200": 200,
    "truncated_json": 200,
    "wrong_shape": 200,
    "unauthorized": 401,
    "no_data": 404,
    "history_limit": 400,
    "bad_request": 400,
    "redirect": 307,
}


@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_every_fault_kind(kind: str) -> None:
    assert set(FAULT_STATUS) == set(FAULT_KINDS)
    sim, _ = make_sim()
    sim.add_fault(kind)
    async with serve(sim) as client:
        params = {"pointId": PRM, "dateDebut": "2026-04-01", "dateFin": "2026-04-02"}
        resp = await client.get(
            "/api/consommation_quotidienne", params=params, headers=auth(), allow_redirects=False
        )
        assert resp.status == FAULT_STATUS[kind]
        text = await resp.text()
        if kind in {"cloudflare_403", "cloudflare_502_html", "html_200"}:
            assert resp.headers["Content-Type"].startswith("text/html")
            assert text.lstrip().startswith("<!DOCTYPE html>")
        elif kind == "redirect":
            assert resp.headers["Location"].startswith("http://elsewhere.invalid/")
        else:
            assert resp.headers["Content-Type"] == "application/json"
        if kind == "truncated_json":
            with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
                json.loads(text)
        # a fault never hides a 400 "Paramètres invalides" nor a missing header
        resp = await client.get(
            "/api/consommation_quotidienne", params={"pointId": PRM}, headers=auth()
        )
        assert resp.status == 400
        resp = await client.get("/api/consommation_quotidienne", params=params)
        assert resp.status == 400


async def test_fault_bodies() -> None:
    sim, clock = make_sim(datetime(2026, 7, 17, 4, 0, 0, tzinfo=UTC))
    args = ("consommation_quotidienne", "2026-07-01", "2026-07-02")
    async with serve(sim) as client:
        sim.add_fault("quota_900804", remaining=1)
        assert await call(client, *args) == (
            429,
            {
                "status": 429,
                "message": ENEDIS,
                "error": {
                    "code": "900804",
                    "message": "Message throttled out",
                    "description": (
                        "You have exceeded your quota .You can access API after "
                        "2026-Jul-17 05:00:00+0000 UTC"
                    ),
                    "nextAccessTime": "2026-Jul-17 05:00:00+0000 UTC",
                },
            },
        )
        expected = {
            "quota_900807": {
                "status": 429,
                "message": ENEDIS,
                "error": {
                    "fault": {
                        "code": 900807,
                        "message": "Message throttled out",
                        "description": "You have exceeded your quota",
                    }
                },
            },
            "technical_error": {
                "status": 500,
                "message": ENEDIS,
                "error": {
                    "error": "technical_error",
                    "error_description": "Technical error. Please try later.",
                },
            },
            "enedis_raw_500": {
                "status": 500,
                "message": ENEDIS,
                "error": "500 Internal Server Error",
            },
            "token_refresh": {
                "status": 500,
                "message": "Impossible de rafraîchir le token. Réessayez plus tard",
            },
            "unknown_error": {"status": 500, "message": "Erreur inconnue. Réessayez plus tard"},
            "gateway_900908": {
                "status": 403,
                "message": ENEDIS,
                "error": {
                    "code": "900908",
                    "message": "Resource forbidden ",
                    "description": (
                        "User is NOT authorized to access the Resource. "
                        "API Subscription validation failed."
                    ),
                },
            },
            "unauthorized": BAD_TOKEN_BODY,
            "wrong_shape": {"idPrm": PRM, "foo": []},
            "no_data": {"status": 404, "message": ENEDIS, "error": NO_DATA},
        }
        for kind, body in expected.items():
            sim.clear_faults()
            sim.add_fault(kind)
            assert (await call(client, *args))[1] == body, kind
        sim.clear_faults()
        sim.add_fault("cloudflare_502_json")
        _, body = await call(client, *args)
        assert body["title"] == "Error 502: Bad gateway"
        assert body["error_name"] == "origin_bad_gateway"
        sim.clear_faults()
        sim.add_fault("cloudflare_502_html")
        resp = await client.get("/api/consommation_quotidienne")
        assert resp.status == 400  # still a validation error first
        resp = await client.get(
            "/api/consommation_quotidienne",
            params={"pointId": PRM, "dateDebut": "2026-07-01", "dateFin": "2026-07-02"},
            headers=auth(),
        )
        assert "<title>boris.sh | 502: Bad gateway</title>" in await resp.text()
        sim.clear_faults()
        sim.add_fault("cloudflare_403")
        resp = await client.get(
            "/api/consommation_quotidienne",
            params={"pointId": PRM, "dateDebut": "2026-07-01", "dateFin": "2026-07-02"},
            headers=auth(),
        )
        assert "Attention Required! | Cloudflare" in await resp.text()
    assert clock.now.tzinfo is UTC


async def test_fault_remaining_and_types() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        sim.add_fault("technical_error", types={"courbe_de_charge_consommation"}, remaining=2)
        sim.add_fault("quota_900807", remaining=1)
        curve = ("courbe_de_charge_consommation", "2026-04-01", "2026-04-02")
        daily = ("consommation_quotidienne", "2026-04-01", "2026-04-02")
        assert (await call(client, *daily))[0] == 429  # first matching fault wins
        assert (await call(client, *daily))[0] == 200  # quota fault used up
        assert (await call(client, *curve))[0] == 500
        assert (await call(client, *daily))[0] == 200
        assert len(sim.faults) == 1
        assert sim.faults[0].remaining == 1
        assert (await call(client, *curve))[0] == 500
        assert sim.faults == []
        assert (await call(client, *curve))[0] == 200
        # bad token: 401 before any fault, and the fault is not consumed
        sim.add_fault("technical_error", remaining=1)
        assert (await call(client, *daily, headers=auth([PROD_PRM])))[0] == 401
        assert len(sim.faults) == 1
        with pytest.raises(ValueError, match="unknown fault"):
            sim.add_fault("nope")


async def test_delay_allows_timeouts() -> None:
    sim, _ = make_sim()
    sim.delay_seconds = 0.3
    async with serve(sim) as client:
        params = {"pointId": PRM, "dateDebut": "2026-04-01", "dateFin": "2026-04-02"}
        with pytest.raises(TimeoutError):
            await client.get(
                "/api/consommation_quotidienne",
                params=params,
                headers=auth(),
                timeout=aiohttp.ClientTimeout(total=0.05),
            )


async def test_call_log() -> None:
    sim, _ = make_sim()
    async with serve(sim) as client:
        await call(client, "consommation_quotidienne", "2026-04-01", "2026-04-02")
        await client.get("/api/courbe_de_charge_consommation", params={"prm": "1"})
        await call(
            client,
            "courbe_de_charge_consommation",
            "2026-04-01",
            "2026-04-02",
            headers=auth([PROD_PRM]),
        )
        await client.put("/api/consommation_quotidienne")
    assert [(c.type, c.status) for c in sim.calls] == [
        ("consommation_quotidienne", 200),
        ("courbe_de_charge_consommation", 400),
        ("courbe_de_charge_consommation", 401),
        ("consommation_quotidienne", 405),
    ]
    assert sim.calls[0].params == {
        "pointId": PRM,
        "dateDebut": "2026-04-01",
        "dateFin": "2026-04-02",
    }
    assert sim.calls[1].params == {"prm": "1"}
    assert sim.calls[0].at == NOW.astimezone(UTC)
    assert sim.calls[0].at.tzinfo is UTC
    assert len(sim.calls_of("courbe_de_charge_consommation")) == 2
    assert len(sim.calls_of()) == 4


async def test_start_stop_helpers() -> None:
    sim = ConsoApiSimulator([MeterProfile(PRM)])  # real clock
    url = await sim.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        yesterday = datetime.now(PARIS).date() - timedelta(days=5)
        params = {
            "pointId": PRM,
            "dateDebut": yesterday.isoformat(),
            "dateFin": (yesterday + timedelta(days=1)).isoformat(),
        }
        headers = {"Authorization": f"Bearer {make_token([PRM])}"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{url}/api/consommation_quotidienne", params=params, headers=headers
            ) as resp,
        ):
            assert resp.status == 200
            body = await resp.json()
        assert body["grandeur"][0]["points"][0]["d"] == yesterday.isoformat()
    finally:
        await sim.stop()
