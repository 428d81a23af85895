"""A real Home Assistant, the two simulators and the calls that provision them.

Used by the end-to-end tests (a free port, a temporary configuration) and by
`scripts/develop` (port 8123, `.demo/`). Home Assistant runs as its own process and is only
reached through its public HTTP and WebSocket APIs, as a user's browser would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any

import aiohttp

from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator, demo_site
from tests.simulators.conso_api import PARIS, ConsoApiSimulator, MeterProfile, make_token

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "linky_climkit"
PRM = "12345678901234"
CLIENT_PATH = "/"
OWNER = {"name": "Demo", "username": "demo", "password": "demo-linky-climkit"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def statistic(owner: str, channel: str) -> str:
    """Our statistic ids (see importer.statistic_id)."""
    return f"{DOMAIN}:{owner}_{channel}".lower()


async def until[T](check: Callable[[], Awaitable[T | None]], what: str, seconds: float = 60.0) -> T:
    """Poll `check` (every 0.5 s of real time) until it returns something; fail after
    `seconds`. A real process is being watched: there is no clock to move."""
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result is not None and result is not False:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


# ---- the clock ---------------------------------------------------------------------------

FAKETIME_LIBRARY = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
FAKETIME_GUARD = Path(__file__).parent / "faketime_guard"
ENVIRONMENT_WRITTEN = "E2E-ENVIRONMENT-WRITTEN"  # what faketime_guard/sitecustomize.py prints


@dataclass(frozen=True)
class Clock:
    """The wall clock of a run: real time, or real time shifted by `offset` for every process
    of the run (Home Assistant through libfaketime, the simulators and the test through
    `now`), so a run can live at any hour of the day."""

    offset: timedelta = timedelta(0)

    @classmethod
    def at(cls, paris: wall_time) -> Clock:
        """Today (Paris) at `paris`, from now on."""
        now = datetime.now(UTC)
        target = datetime.combine(now.astimezone(PARIS).date(), paris, PARIS)
        return cls(target - now)

    def now(self) -> datetime:
        """Aware UTC."""
        return datetime.now(UTC) + self.offset

    def today(self) -> date:
        """The Paris day."""
        return self.now().astimezone(PARIS).date()

    def env(self) -> dict[str, str]:
        """What a child process needs to live on this clock."""
        if not self.offset:
            return {}
        return {
            "LD_PRELOAD": str(FAKETIME_LIBRARY),
            "FAKETIME": f"{int(self.offset.total_seconds()):+d}s",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_DONT_RESET": "1",
            "FAKETIME_CACHE_DURATION": "1000000",
            # libfaketime calls getenv() in any thread, on every timed wait: a setenv() in
            # another thread at that moment is a segmentation fault. Importing numpy (camera,
            # stream) sets then deletes these two; set already, they are left alone.
            "OPENBLAS_MAIN_FREE": "1",
            "GOTOBLAS_MAIN_FREE": "1",
            "PYTHONPATH": str(FAKETIME_GUARD),
        }


# ---- simulators -------------------------------------------------------------------------


@dataclass
class Simulators:
    """Conso API (one PRM that consumes and produces) and Climkit (a site with consumers, a
    producer, heat and water), on 127.0.0.1."""

    conso_port: int = 0
    climkit_port: int = 0
    clock: Clock = field(default_factory=Clock)
    conso: ConsoApiSimulator = field(init=False)
    climkit: ClimkitSimulator = field(init=False)
    conso_url: str = ""
    climkit_url: str = ""

    async def start(self) -> None:
        """Serve both (on the given ports, else free ones)."""
        now = self.clock.now()
        hourly_since = now.date() - timedelta(30)
        self.conso = ConsoApiSimulator(
            [MeterProfile(PRM, seed=3, has_production=True, hourly_since=hourly_since)],
            clock=self.clock.now,
        )
        self.climkit = ClimkitSimulator(
            [demo_site(creation=now - timedelta(days=45))], clock=self.clock.now
        )
        self.conso_url = await self.conso.start(self.conso_port) + "/api"
        await self.climkit.start(self.climkit_port)
        self.climkit_url = self.climkit.base_url

    async def stop(self) -> None:
        """Stop serving."""
        await self.conso.stop()
        await self.climkit.stop()

    def calls(self) -> tuple[int, int]:
        """Requests received so far (Conso API, Climkit)."""
        return len(self.conso.calls), len(self.climkit.calls)

    @staticmethod
    def token() -> str:
        """A Conso API token for the demo PRM."""
        return make_token([PRM])


# ---- Home Assistant ---------------------------------------------------------------------

CONFIGURATION = """\
# Written by tests/e2e/stack.py: a real Home Assistant for the demo and the end-to-end tests.
homeassistant:
  name: Linky & Climkit demo
  time_zone: Europe/Paris
  country: FR
  currency: EUR
  unit_system: metric
  latitude: 48.8566
  longitude: 2.3522
  elevation: 35
frontend:
config:
energy:
history:
logbook:
logger:
  default: warning
  logs:
    custom_components.linky_climkit: info
"""


class HomeAssistantExited(RuntimeError):
    """The process ended while it was expected to run."""


@dataclass
class HomeAssistantProcess:
    """`python -m homeassistant` on a configuration directory of its own."""

    config_dir: Path
    port: int
    clock: Clock = field(default_factory=Clock)
    process: asyncio.subprocess.Process | None = None
    extra_env: dict[str, str] = field(default_factory=dict)  # for the next `start`
    python: str = sys.executable  # the interpreter of a virtual environment with Home Assistant

    @property
    def url(self) -> str:
        """The HTTP base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """Where its output goes."""
        return self.config_dir / "e2e-home-assistant.log"

    def write_config(self) -> None:
        """configuration.yaml and the integration (a link to this checkout)."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "configuration.yaml").write_text(CONFIGURATION, encoding="utf-8")
        custom = self.config_dir / "custom_components"
        custom.mkdir(exist_ok=True)
        link = custom / DOMAIN
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(ROOT / "custom_components" / DOMAIN)

    async def start(self, session: aiohttp.ClientSession, seconds: float = 90.0) -> None:
        """Start it and wait until its HTTP API answers."""
        out = self.log.open("ab")
        # Its own temporary folder: the file upload (a dependency of the frontend) clears
        # <tmp>/home-assistant-file_upload when Home Assistant starts and stops, which would
        # remove another test's Home Assistant's uploads.
        temporary = self.config_dir / "tmp"
        temporary.mkdir(exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            self.python,
            "-m",
            "homeassistant",
            "--config",
            str(self.config_dir),
            "--skip-pip",
            stdout=out,
            stderr=out,
            # The port as Home Assistant's default (no `http:` in YAML): a YAML port would be
            # a "new HTTP configuration" to confirm in the UI after each restart.
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "SETUP_PORT": str(self.port),
                "TMPDIR": str(temporary),
                **self.clock.env(),
                **self.extra_env,
            },
        )
        out.close()

        async def answers() -> bool | None:
            assert self.process is not None
            if self.process.returncode is not None:
                raise HomeAssistantExited(f"Home Assistant exited; see {self.log}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(
                    f"{self.url}/api/", timeout=aiohttp.ClientTimeout(total=2)
                ) as response:
                    return response.status < 500 or None
            return None

        await until(answers, "Home Assistant's HTTP API", seconds)

    async def killed(self, seconds: float = 120.0) -> int:
        """Wait until the process ends by itself (a fault point's SIGKILL); its return code."""
        assert self.process is not None
        try:
            return await asyncio.wait_for(self.process.wait(), seconds)
        except TimeoutError:
            raise TimeoutError(f"Home Assistant did not stop by itself; see {self.log}") from None

    async def stop(self) -> None:
        """Stop it the way a user does (SIGTERM), and wait."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


# ---- the public APIs --------------------------------------------------------------------


class HomeAssistantApi:
    """REST and WebSocket calls with the owner's token."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        """Nothing is sent yet."""
        self.session = session
        self.url = url
        self.token = ""
        self.refresh_token = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._id = 0

    @property
    def client_id(self) -> str:
        """The client id the frontend would use."""
        return f"{self.url}{CLIENT_PATH}"

    async def onboard(self, owner: dict[str, str]) -> None:
        """Create the owner and finish onboarding (user, core config, analytics, integration)."""
        created = await self._post(
            "/api/onboarding/users", {**owner, "client_id": self.client_id, "language": "en"}
        )
        await self._token(created["auth_code"])
        await self._post("/api/onboarding/core_config", {})
        await self._post("/api/onboarding/analytics", {})
        await self._post(
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": f"{self.url}/?auth_callback=1"},
        )

    async def _token(self, code: str) -> None:
        async with self.session.post(
            f"{self.url}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
        ) as response:
            body = await response.json()
        self.token, self.refresh_token = body["access_token"], body["refresh_token"]

    async def refresh(self) -> None:
        """A new access token from the refresh token (after a restart, say)."""
        async with self.session.post(
            f"{self.url}/auth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token,
                "client_id": self.client_id,
            },
        ) as response:
            body = await response.json()
        self.token = body["access_token"]

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.post(f"{self.url}{path}", json=body, headers=headers) as response:
            if response.status >= 400:
                raise RuntimeError(f"{path}: {response.status} {await response.text()}")
            return await response.json()

    async def get(self, path: str) -> Any:
        """GET a REST path."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.session.get(f"{self.url}{path}", headers=headers) as response:
            if response.status >= 400:
                raise RuntimeError(f"{path}: {response.status} {await response.text()}")
            return await response.json()

    async def flow(self, steps: list[dict[str, Any]]) -> dict[str, Any]:
        """A config flow of the integration through /api/config/config_entries/flow, with
        advanced mode on (the API URL field), one POST per step."""
        result: dict[str, Any] = await self._post(
            "/api/config/config_entries/flow",
            {"handler": DOMAIN, "show_advanced_options": True},
        )
        for step in steps:
            result = await self._post(f"/api/config/config_entries/flow/{result['flow_id']}", step)
            if result.get("errors"):
                raise RuntimeError(f"flow step {result.get('step_id')}: {result['errors']}")
        return result

    async def upload(self, name: str, content: bytes) -> str:
        """Upload a file as the frontend's file selector does (/api/file_upload): its id."""
        form = aiohttp.FormData()
        form.add_field("file", content, filename=name)
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.session.post(
            f"{self.url}/api/file_upload", data=form, headers=headers
        ) as response:
            if response.status >= 400:
                raise RuntimeError(f"upload: {response.status} {await response.text()}")
            return str((await response.json())["file_id"])

    async def options_flow_step(self, flow_id: str, step: dict[str, Any]) -> dict[str, Any]:
        """One more step of an options flow."""
        result: dict[str, Any] = await self._post(
            f"/api/config/config_entries/options/flow/{flow_id}", step
        )
        return result

    async def options_flow(self, entry_id: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
        """An options flow, one POST per step."""
        result: dict[str, Any] = await self._post(
            "/api/config/config_entries/options/flow", {"handler": entry_id}
        )
        for step in steps:
            result = await self._post(
                f"/api/config/config_entries/options/flow/{result['flow_id']}", step
            )
        return result

    async def ws(self, message_type: str, **data: Any) -> Any:
        """One WebSocket command and its result (one connection, reused)."""
        if self._ws is None or self._ws.closed:
            self._ws = await self.session.ws_connect(f"{self.url}/api/websocket")
            await self._ws.receive_json()  # auth_required
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            answer = await self._ws.receive_json()
            if answer.get("type") != "auth_ok":
                raise RuntimeError(f"WebSocket authentication failed: {answer}")
        self._id += 1
        await self._ws.send_json({"id": self._id, "type": message_type, **data})
        while True:
            answer = await self._ws.receive_json()
            if answer.get("id") == self._id and answer.get("type") == "result":
                if not answer.get("success"):
                    raise RuntimeError(f"{message_type}: {answer.get('error')}")
                return answer.get("result")

    async def close(self) -> None:
        """Close the WebSocket."""
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def entries(self) -> list[dict[str, Any]]:
        """The integration's config entries."""
        entries: list[dict[str, Any]] = await self.get(
            f"/api/config/config_entries/entry?domain={DOMAIN}"
        )
        return entries

    async def daily(
        self, statistic_id: str, first: date, last: date, period: str = "day"
    ) -> list[dict[str, Any]]:
        """Rows of one statistic between two local days (`change`, `sum`, `state`)."""
        start = datetime.combine(first, datetime.min.time()).isoformat()
        end = datetime.combine(last + timedelta(days=1), datetime.min.time()).isoformat()
        rows = await self.ws(
            "recorder/statistics_during_period",
            start_time=start,
            end_time=end,
            statistic_ids=[statistic_id],
            period=period,
            types=["change", "sum", "state"],
            units={"energy": "kWh"},
        )
        result: list[dict[str, Any]] = rows.get(statistic_id, [])
        return result


# ---- provisioning -----------------------------------------------------------------------


async def add_linky(api: HomeAssistantApi, sims: Simulators) -> dict[str, Any]:
    """Menu → Linky → token (+ the simulator's URL) → the PRM."""
    return await api.flow(
        [
            {"next_step_id": "linky"},
            {"token": sims.token(), "advanced": {"api_url": sims.conso_url}},
            {"prm": [PRM]},
        ]
    )


async def add_climkit(api: HomeAssistantApi, sims: Simulators) -> dict[str, Any]:
    """Menu → Climkit → credentials (+ the simulator's URL) → the site."""
    return await api.flow(
        [
            {"next_step_id": "climkit"},
            {
                "username": sims.climkit.username,
                "password": sims.climkit.password,
                "advanced": {"api_url": sims.climkit_url},
            },
            {"sites": [DEMO_SITE_ID]},
        ]
    )


async def set_linky_tariff(api: HomeAssistantApi, entry_id: str) -> None:
    """A base tariff (0.2516 €/kWh, 15.65 €/month) from three years ago."""
    start = (date.today() - timedelta(days=3 * 366)).replace(day=1).isoformat()
    await api.options_flow(
        entry_id,
        [
            {"next_step_id": "tariff"},
            {"next_step_id": "prices_base"},
            {
                "currency": "EUR",
                "start": start,
                "base_price": 0.2516,
                "subscription": 15.65,
                "subscription_yearly": False,
            },
        ],
    )


async def add_gateway(api: HomeAssistantApi, port: int) -> dict[str, Any]:
    """Menu → Climkit Gateway → 127.0.0.1:port, joined to the demo site's entry."""
    return await api.flow(
        [
            {"next_step_id": "climkit_gateway"},
            {"host": "127.0.0.1", "port": port, "site": DEMO_SITE_ID},
        ]
    )


async def gateway_power_sensors(api: HomeAssistantApi) -> dict[str, str]:
    """The entity ids of the gateway's site-level power sensors, by key (grid_power, …)."""
    entities = await api.ws("config/entity_registry/list")
    found: dict[str, str] = {}
    for entity in entities:
        if entity.get("platform") != DOMAIN:
            continue
        for key in ("grid_power", "solar_power"):
            if str(entity.get("unique_id", "")).endswith(f"_gateway_{key}"):
                found[key] = entity["entity_id"]
    return found


def energy_preferences(power: dict[str, str] | None = None) -> dict[str, Any]:
    """The Energy dashboard on our statistics: the Linky meter's grid import, cost and
    export; the Climkit site's grid import and export and its solar; its water meter; with
    `power` (a gateway's sensors), the site's grid and solar power for the power view."""
    water = statistic(f"{_meter_id(50)}", "water")
    site_grid = _grid(
        statistic(DEMO_SITE_ID, "grid_import"), statistic(DEMO_SITE_ID, "grid_export"), None
    )
    solar: dict[str, Any] = {
        "type": "solar",
        "stat_energy_from": statistic(DEMO_SITE_ID, "production"),
        "config_entry_solar_forecast": None,
    }
    if power and "grid_power" in power:
        site_grid["power_config"] = {"stat_rate": power["grid_power"]}
    if power and "solar_power" in power:
        solar["stat_rate"] = power["solar_power"]
    return {
        "energy_sources": [
            _grid(
                statistic(PRM, "consumption"),
                statistic(PRM, "production"),
                statistic(PRM, "consumption_cost"),
            ),
            site_grid,
            solar,
            {
                "type": "water",
                "stat_energy_from": water,
                "stat_cost": None,
                "entity_energy_price": None,
                "number_energy_price": None,
            },
        ],
        "device_consumption": [
            {"stat_consumption": statistic(_meter_id(11 + i), "consumption")} for i in range(4)
        ],
    }


def _grid(energy_from: str, energy_to: str, cost: str | None) -> dict[str, Any]:
    return {
        "type": "grid",
        "stat_energy_from": energy_from,
        "stat_energy_to": energy_to,
        "stat_cost": cost,
        "entity_energy_price": None,
        "number_energy_price": None,
        "stat_compensation": None,
        "entity_energy_price_export": None,
        "number_energy_price_export": None,
        "cost_adjustment_day": 0.0,
    }


def _meter_id(prim_ad: int) -> str:
    from tests.simulators.climkit import derive_id

    return derive_id(DEMO_SITE_ID, prim_ad)


async def imported(api: HomeAssistantApi, sims: Simulators) -> bool | None:
    """Both first imports are done: Linky up to its newest published day, the Climkit site
    back to its creation day."""
    today = sims.clock.today()
    creation = sims.climkit.sites[DEMO_SITE_ID].creation.date()
    linky = await api.daily(statistic(PRM, "consumption"), today - timedelta(days=3), today)
    site = await api.daily(
        statistic(DEMO_SITE_ID, "consumption"), creation, creation + timedelta(2)
    )
    return (bool(linky) and bool(site)) or None
