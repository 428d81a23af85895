"""End to end: a real Home Assistant process with its recorder, frontend and Energy
dashboard, the two simulators, and only Home Assistant's public HTTP and WebSocket APIs.

One test, in the order a user lives it: set up both providers, check the imported statistics
against the simulators' ground truth, set up the Energy dashboard, restart (no call), see a
refused token ask for re-authentication, and look at the dashboard in Chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from tests.e2e.browser import NO_DATA, Browser, chromium
from tests.e2e.stack import (
    DOMAIN,
    ENVIRONMENT_WRITTEN,
    FAKETIME_LIBRARY,
    OWNER,
    PRM,
    ROOT,
    Clock,
    HomeAssistantApi,
    HomeAssistantProcess,
    Simulators,
    add_climkit,
    add_gateway,
    add_linky,
    energy_preferences,
    free_port,
    gateway_power_sensors,
    imported,
    set_linky_tariff,
    statistic,
    until,
)
from tests.simulators.climkit import DEMO_SITE_ID
from tests.simulators.climkit_gateway import ClimkitGatewaySimulator, demo_gateway_meters

PARIS = ZoneInfo("Europe/Paris")
SCREENSHOT_ENV = "E2E_SCREENSHOT"  # also copy the dashboard's screenshot there


# Hours (Paris) the whole run lives at, besides the real time: before and after Enedis
# publishes yesterday (~08:00), just after midnight, just before it.
HOURS = {"now": None, "00:30": time(0, 30), "07:59": time(7, 59), "08:01": time(8, 1)}
HOURS["23:59"] = time(23, 59)


# The Home Assistant releases the run is made with: the pinned one (this virtual environment)
# at every hour, the newest one (.venv-2026.11, built by scripts/setup) at the real time.
NEXT_PYTHON = ROOT / ".venv-2026.11" / "bin" / "python"
RUNS = dict.fromkeys(HOURS, sys.executable) | {"2026.11.0": str(NEXT_PYTHON)}
# What Home Assistant logs when an integration uses an API it deprecated or misuses one.
FRAMEWORK_WARNINGS = ("Detected that custom integration", "deprecat")


def _next_ready() -> bool:
    """Whether .venv-2026.11 can run Home Assistant 2026.11.0 with its frontend."""
    if not NEXT_PYTHON.exists():
        return False
    probe = "import hass_frontend, homeassistant.const as c; assert c.__version__ == '2026.11.0'"
    return subprocess.run([NEXT_PYTHON, "-c", probe], capture_output=True).returncode == 0


@pytest.fixture(params=list(RUNS))
def run_name(request: pytest.FixtureRequest) -> str:
    """Which release, at which hour."""
    name = str(request.param)
    if RUNS[name] != sys.executable and not _next_ready():
        if os.environ.get("CI"):
            pytest.fail(f"{NEXT_PYTHON.parent.parent} cannot run Home Assistant: scripts/setup")
        pytest.skip(f"{NEXT_PYTHON.parent.parent} is not built (scripts/setup)")
    return name


@pytest.fixture
def clock(run_name: str) -> Clock:
    """Real time, or a shifted clock for every process of the run (libfaketime)."""
    at = HOURS.get(run_name)
    if at is None:
        return Clock()
    if not FAKETIME_LIBRARY.exists():
        if os.environ.get("CI"):
            pytest.fail(f"libfaketime is missing ({FAKETIME_LIBRARY}): apt install faketime")
        pytest.skip("libfaketime is not installed (apt install faketime)")
    return Clock.at(at)


@pytest.fixture
async def stack(
    socket_enabled: None, tmp_path: Path, clock: Clock, run_name: str
) -> AsyncIterator[tuple[Simulators, HomeAssistantProcess, HomeAssistantApi]]:
    """The simulators, a Home Assistant on a free port with its owner, and an API client."""
    sims = Simulators(clock=clock)
    await sims.start()
    async with aiohttp.ClientSession() as session:
        home, api = await _onboarded(session, tmp_path / "config", clock, RUNS[run_name])
        try:
            yield sims, home, api
        finally:
            await api.close()
            await home.stop()
            await sims.stop()
    lines = home.log.read_text(encoding="utf-8", errors="replace").splitlines()
    written = [line for line in lines if ENVIRONMENT_WRITTEN in line]
    assert not written, f"the environment was written under libfaketime: {written}"
    warned = [
        line for line in lines if DOMAIN in line and any(w in line for w in FRAMEWORK_WARNINGS)
    ]
    assert not warned, f"Home Assistant warns about the integration: {warned}"


async def _onboarded(
    session: aiohttp.ClientSession, config: Path, clock: Clock, python: str
) -> tuple[HomeAssistantProcess, HomeAssistantApi]:
    """A new Home Assistant with its owner."""
    home = HomeAssistantProcess(config, free_port(), clock, python=python)
    home.write_config()
    api = HomeAssistantApi(session, home.url)
    await home.start(session)
    await api.onboard(OWNER)
    return home, api


def _day(row: dict[str, Any]) -> date:
    start = row["start"]
    moment = (
        datetime.fromtimestamp(start / 1000, PARIS)
        if isinstance(start, int | float)
        else datetime.fromisoformat(start).astimezone(PARIS)
    )
    return moment.date()


async def test_real_home_assistant(
    stack: tuple[Simulators, HomeAssistantProcess, HomeAssistantApi], tmp_path: Path
) -> None:
    sims, home, api = stack
    today = sims.clock.today()

    # 1. Both config flows, through the REST API, with advanced mode for the API URL.
    linky = await add_linky(api, sims)
    assert linky["type"] == "create_entry", linky
    climkit = await add_climkit(api, sims)
    assert climkit["type"] == "create_entry", climkit
    entries = {e["title"]: e for e in await api.entries()}
    assert {e["state"] for e in entries.values()} == {"loaded"}

    # 2. The first imports, checked against the simulators' ground truth.
    await until(lambda: imported(api, sims), "both first imports", 120)
    linky_days = await api.daily(statistic(PRM, "consumption"), today - timedelta(days=30), today)
    assert len(linky_days) >= 28
    for row in linky_days:
        truth = sims.conso.daily_wh(PRM, _day(row)) / 1000
        assert row["change"] == pytest.approx(truth, abs=1e-6), _day(row)
    newest = _day(linky_days[-1])
    hours = await api.daily(statistic(PRM, "consumption"), newest - timedelta(6), newest, "hour")
    assert len(hours) >= 7 * 23  # the last 7 days hourly, from the load curve
    for before, after in pairwise(hours):
        assert after["sum"] == pytest.approx(before["sum"] + after["change"], abs=1e-6)
    site = sims.climkit.sites[DEMO_SITE_ID]
    tz = ZoneInfo(site.timezone)
    first = site.creation.astimezone(tz).date() + timedelta(days=1)
    site_days = await api.daily(statistic(DEMO_SITE_ID, "consumption"), first, today)
    truth_rows = sims.climkit.period_values(
        DEMO_SITE_ID,
        "electricity",
        datetime.combine(first, datetime.min.time(), tz),
        datetime.combine(today, datetime.min.time(), tz),
        "D",
    )
    truth = {r["start"].date(): r["conso_total"] for r in truth_rows}
    assert len(site_days) >= 40
    for row in site_days:
        assert row["change"] == pytest.approx(truth[_day(row)], abs=1e-3), _day(row)

    # 3. A tariff, then the Energy dashboard on our statistics: no issue reported.
    linky_entry = next(e for e in await api.entries() if e["title"].startswith("Linky"))
    await set_linky_tariff(api, linky_entry["entry_id"])
    await until(
        lambda: api.daily(statistic(PRM, "consumption_cost"), newest, newest),
        "the cost statistics",
        60,
    )
    await api.ws("energy/save_prefs", **energy_preferences())

    async def no_issue() -> bool | None:
        # The tariff reloads the entry, which prices the stored days in the background.
        validation = await api.ws("energy/validate")
        issues = [i for group in validation["energy_sources"] for i in group]
        issues += [i for group in validation["device_consumption"] for i in group]
        return not issues or None

    await until(no_issue, "energy/validate without issues", 60)

    # 4. A restart when everything is up to date: no call to either API, nothing rewritten.
    calls = sims.calls()
    before = await api.daily(statistic(PRM, "consumption"), today - timedelta(days=10), today)
    await api.close()
    await home.stop()
    await home.start(api.session)
    await api.refresh()

    async def loaded() -> bool | None:
        states = {e["state"] for e in await api.entries()}
        return states == {"loaded"} or None

    await until(loaded, "the entries after the restart", 60)
    assert sims.calls() == calls
    after = await api.daily(statistic(PRM, "consumption"), today - timedelta(days=10), today)
    assert after == before

    # 5. Conso API refuses the token: the next call ends in a re-authentication flow.
    sims.conso.add_fault("unauthorized")
    await api.ws(
        "call_service",
        domain=DOMAIN,
        service="import_history",
        service_data={
            "config_entry_id": linky_entry["entry_id"],
            "start": (today - timedelta(days=5)).isoformat(),
        },
        return_response=True,
    )

    async def reauth() -> bool | None:
        flows = await api.ws("config_entries/flow/progress")
        return any(f["context"].get("source") == "reauth" for f in flows) or None

    await until(reauth, "a re-authentication flow", 60)
    sims.conso.clear_faults()

    # 6. The Energy dashboard in headless Chromium, logged in as the owner (at real time:
    # the shifted hours are about what is imported, and Chromium is slow under libfaketime).
    if sims.clock.offset:
        return
    if chromium() is None and not os.environ.get("CI"):
        pytest.skip("Chromium is not installed (apt install chromium): the rest passed")
    browser = Browser(api.session)
    await browser.start()
    try:
        tokens = {
            "access_token": api.token,
            "refresh_token": api.refresh_token,
            "token_type": "Bearer",
            "expires_in": 1800,
            "expires": int((sims.clock.now().timestamp() + 1800) * 1000),
            "hassUrl": home.url,
            "clientId": api.client_id,
        }
        await browser.open_logged_in(home.url, "/energy", tokens)

        async def charts() -> int | None:
            return await browser.count("ha-chart-base") or None

        shot = tmp_path / "energy-dashboard.png"
        try:
            # The first load compiles the frontend: slow on a busy machine.
            await until(charts, "the Energy dashboard's charts", 150)
        except TimeoutError:
            await browser.screenshot(shot)
            raise AssertionError(
                f"No chart rendered (see {shot}): {(await browser.text())[-1500:]}"
            ) from None
        # It opens on today; the providers publish a day late: show yesterday.
        # The date picker renders after the charts on a busy machine: wait for it.
        await until(
            lambda: browser.click_labelled("Previous"), "the dashboard's Previous button", 60
        )

        async def shows_data() -> str | None:
            text = await browser.text()
            return text if "kWh" in text and not any(m in text for m in NO_DATA) else None

        try:
            text = await until(shows_data, "the Energy dashboard with data", 60)
        except TimeoutError:
            await browser.screenshot(shot)
            raise AssertionError(
                f"The dashboard shows no data (see {shot}): {(await browser.text())[:2000]}"
            ) from None
        assert "Energy" in text
        await browser.screenshot(shot)
        assert shot.stat().st_size > 20_000
        if target := os.environ.get(SCREENSHOT_ENV):
            shutil.copyfile(shot, target)

        # 7. The power view ("now"), fed by the Climkit Gateway's live power sensors.
        gateway = ClimkitGatewaySimulator(demo_gateway_meters(), now=sims.clock.now)
        await gateway.start()
        try:
            added = await add_gateway(api, gateway.port)
            assert added.get("reason") == "gateway_added_to_site", added

            async def power_sensors() -> dict[str, str] | None:
                found = await gateway_power_sensors(api)
                return found if len(found) == 2 else None

            power = await until(power_sensors, "the gateway's power sensors", 60)
            await api.ws("energy/save_prefs", **energy_preferences(power))

            async def live() -> bool | None:
                states = [await api.get(f"/api/states/{entity}") for entity in power.values()]
                return all(s["state"] not in ("unknown", "unavailable") for s in states) or None

            await until(live, "the gateway's power sensors with values", 60)
            await browser.evaluate("location.assign('/energy/now')")

            async def shows_power() -> str | None:
                text = await browser.text()
                return text if re.search(r"\d\s?k?W\b", text) and "Power" in text else None

            power_shot = tmp_path / "energy-power.png"
            try:
                await until(shows_power, "the Energy dashboard's power view with values", 90)
            except TimeoutError:
                await browser.screenshot(power_shot)
                shown = (await browser.text())[:2000]
                raise AssertionError(
                    f"The power view shows nothing (see {power_shot}): {shown}"
                ) from None
        finally:
            await gateway.stop()
    finally:
        await browser.close()
