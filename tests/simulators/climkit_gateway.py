"""A Climkit Gateway on the local network (climkit.md §3), for tests and the demo.

    GET /api/v1/meter/<prim_ad>/                      latest electricity reading
    GET /api/v1/meter/<meter_type>/<meter_ad>/        registers of one meter type

No authentication, plain HTTP. Values move with the clock (`now`): indexes grow with the
power, power follows a daily profile plus noise. Faults: `timeout` (the request is held until
released or the simulator stops), `server_error` (500 HTML), `invalid` (`valid: false`),
`not_found` (404), `garbage` (200 with HTML). `drop_index` lowers a meter's reported indexes
(a glitch or a replaced meter). Every request is logged in `calls`.

The `ts` format and the sign of a producer's `total_W` are [ASSUMED] in climkit.md: `ts` is
epoch seconds by default (`ts_format` switches to milliseconds or ISO), producers report
negative power.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

API_PREFIX = "/api/v1"
METER_TYPES = ("electricity", "hot_water", "cold_water", "heating")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
SERVER_ERROR_HTML = "<html><body><h1>500 Internal Server Error</h1></body></html>"


@dataclass
class GatewayMeterSpec:
    """One meter on the gateway's bus. `kw` is its mean power (production: generated)."""

    type: str
    address: int
    role: str = "consumption"  # consumption | production | introduction
    kw: float = 0.8
    index_base: float = 1000.0


def demo_gateway_meters(consumers: int = 4) -> list[GatewayMeterSpec]:
    """The bus of the simulated Climkit demo site (same addresses as `climkit.demo_site`),
    plus a hot-water meter the cloud site does not list."""
    meters = [GatewayMeterSpec("electricity", 10, "introduction", kw=2.4, index_base=48000.0)]
    meters += [
        GatewayMeterSpec("electricity", 11 + i, kw=0.5 + 0.1 * i, index_base=8000.0 + 900 * i)
        for i in range(consumers)
    ]
    meters += [
        GatewayMeterSpec("electricity", 101, "production", kw=3.5, index_base=15000.0),
        GatewayMeterSpec("heating", 40, kw=3.2, index_base=15234.0),
        GatewayMeterSpec("cold_water", 50, kw=0.02, index_base=412.337),
        GatewayMeterSpec("hot_water", 51, kw=0.01, index_base=120.5),
    ]
    return meters


@dataclass
class GatewayCall:
    """One request received."""

    at: datetime
    path: str
    status: int = 0
    user_agent: str = ""


@dataclass
class _Fault:
    kind: str
    address: int | None
    remaining: int | None


@dataclass
class ClimkitGatewaySimulator:
    """The gateway's HTTP API on 127.0.0.1 (free port unless `port` is given to `start`)."""

    meters: list[GatewayMeterSpec]
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ts_format: str = "epoch_s"  # epoch_s | epoch_ms | iso
    seed: int = 7
    calls: list[GatewayCall] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    url: str = ""
    port: int = 0

    def __post_init__(self) -> None:
        self._faults: list[_Fault] = []
        self._drops: dict[int, float] = {}
        self._release = asyncio.Event()
        self.holding = asyncio.Event()  # set while a request is held by the timeout fault
        self._runner: web.AppRunner | None = None
        self._rng = random.Random(self.seed)

    # ---- control ---------------------------------------------------------------------

    def add_fault(
        self, kind: str, address: int | None = None, remaining: int | None = None
    ) -> None:
        """Answer requests for `address` (every meter if None) with a fault."""
        self._faults.append(_Fault(kind, address, remaining))

    def clear_faults(self) -> None:
        """Normal answers again; held requests are released."""
        self._faults.clear()
        self.release()

    def release(self) -> None:
        """Let requests held by the `timeout` fault answer."""
        self._release.set()
        self._release = asyncio.Event()

    def drop_index(self, address: int, amount: float) -> None:
        """Report this meter's indexes `amount` lower from now on (0 restores them)."""
        self._drops[address] = amount

    def meter(self, address: int) -> GatewayMeterSpec:
        """The meter at a bus address."""
        return next(m for m in self.meters if m.address == address)

    def index(self, meter: GatewayMeterSpec, at: datetime | None = None) -> float:
        """The meter's true index (kWh or m³) at `at`: its mean power integrated since EPOCH."""
        hours = ((at or self.now()) - EPOCH).total_seconds() / 3600
        return round(meter.index_base + meter.kw * hours - self._drops.get(meter.address, 0.0), 3)

    def calls_for(self, address: int) -> list[GatewayCall]:
        """The requests about one meter."""
        return [c for c in self.calls if c.path.rstrip("/").endswith(f"/{address}")]

    # ---- serving ---------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1; returns the host:port base URL (`http://127.0.0.1:<port>`)."""
        runner = web.AppRunner(self._app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port or self.port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self.url

    async def stop(self) -> None:
        """Stop answering (connections are refused until `start` again, on the same port)."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(API_PREFIX + "/meter/{address:\\d+}/", self._legacy)
        app.router.add_get(API_PREFIX + "/meter/{type}/{address:\\d+}/", self._typed)
        return app

    async def _legacy(self, request: web.Request) -> web.Response:
        return await self._answer(request, "electricity", int(request.match_info["address"]))

    async def _typed(self, request: web.Request) -> web.Response:
        meter_type = request.match_info["type"]
        if meter_type not in METER_TYPES:
            return self._log(request, web.json_response({"error": "unknown type"}, status=404))
        return await self._answer(request, meter_type, int(request.match_info["address"]))

    async def _answer(self, request: web.Request, meter_type: str, address: int) -> web.Response:
        call = GatewayCall(self.now(), request.path, 0, request.headers.get("User-Agent", ""))
        self.calls.append(call)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            response = await self._response(meter_type, address)
        finally:
            self.in_flight -= 1
        call.status = response.status
        return response

    def _log(self, request: web.Request, response: web.Response) -> web.Response:
        self.calls.append(GatewayCall(self.now(), request.path, response.status))
        return response

    async def _response(self, meter_type: str, address: int) -> web.Response:
        meter = next(
            (m for m in self.meters if m.address == address and m.type == meter_type), None
        )
        if meter is None:
            return web.json_response({"error": "meter not found"}, status=404)
        fault = self._take_fault(address)
        if fault == "timeout":
            self.holding.set()
            await self._release.wait()
            self.holding.clear()
        elif fault == "server_error":
            return web.Response(status=500, text=SERVER_ERROR_HTML, content_type="text/html")
        elif fault == "not_found":
            return web.json_response({"error": "meter not found"}, status=404)
        elif fault == "garbage":
            return web.Response(status=200, text="<html>busy</html>", content_type="text/html")
        body = self.reading(meter)
        if fault == "invalid":
            body["valid"] = False
        return web.json_response(body)

    def _take_fault(self, address: int) -> str | None:
        for fault in self._faults:
            if fault.address in (None, address) and fault.remaining != 0:
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault.kind
        return None

    # ---- values ----------------------------------------------------------------------

    def reading(self, meter: GatewayMeterSpec) -> dict[str, Any]:
        """The registers of one meter now (climkit.md §3 key sets)."""
        now = self.now()
        hour = now.hour + now.minute / 60
        noise = self._rng.uniform(0.9, 1.1)
        body: dict[str, Any]
        if meter.type == "electricity":
            shape = 1.0
            if meter.role == "production":
                shape = max(0.05, math.sin(math.pi * (hour - 6) / 12))
            watts = round(meter.kw * 1000 * shape * noise, 1)
            index = self.index(meter, now)
            exporting = meter.role == "production"
            phase = round(watts / 230 / 3, 2)
            body = {
                "en_im": 12.34 if exporting else index,
                "en_ex": index if exporting else 0.0,
                "L1_a": phase,
                "L2_a": round(phase * 0.95, 2),
                "L3_a": round(phase * 1.05, 2),
                "total_W": -watts if exporting else watts,
            }
        elif meter.type == "heating":
            power = round(meter.kw * noise, 2)
            body = {
                "heat_energy_kwh": self.index(meter, now),
                "power_kw": power,
                "diff_temp": round(7.0 * noise, 1),
                "flow_temp": round(41.0 + 2 * noise, 1),
                "vol_flow_m3_h": round(power / 8.1, 3),
            }
        else:
            body = {"vol_m3": self.index(meter, now)}
        body["ts"] = self._ts(now)
        body["valid"] = True
        return body

    def _ts(self, now: datetime) -> int | str:
        if self.ts_format == "iso":
            return now.isoformat()
        if self.ts_format == "epoch_ms":
            return int(now.timestamp() * 1000)
        return int(now.timestamp())


async def _demo(
    port: int = 8080,
) -> None:  # pragma: no cover - python -m tests.simulators.climkit_gateway
    sim = ClimkitGatewaySimulator(demo_gateway_meters())
    print(f"Climkit Gateway simulator on {await sim.start(port)}/api/v1 (Ctrl-C stops)")
    await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_demo())
