"""`scripts/develop`: the simulators with demo data, a real Home Assistant on port 8123 and
everything provisioned: an owner, a Linky meter, a Climkit site (with its Gateway) and the
Energy dashboard. Ctrl-C stops it all. The state lives in `.demo/`, wiped at each start
unless `--keep` is given.

    python -m tests.e2e.demo [--keep] [--port 8123]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
from pathlib import Path

import aiohttp

from tests.e2e.stack import (
    OWNER,
    ROOT,
    HomeAssistantApi,
    HomeAssistantProcess,
    Simulators,
    add_climkit,
    add_gateway,
    add_linky,
    energy_preferences,
    gateway_power_sensors,
    imported,
    set_linky_tariff,
    until,
)
from tests.simulators.climkit_gateway import ClimkitGatewaySimulator, demo_gateway_meters

STATE = ROOT / ".demo"
# Fixed ports: the entries remember the simulators' URLs across `--keep` runs.
CONSO_PORT, CLIMKIT_PORT, GATEWAY_PORT = 18710, 18711, 18712


async def main(keep: bool, port: int) -> None:  # pragma: no cover - manual use
    """Start, provision (first run), serve until Ctrl-C."""
    fresh = not keep or not (STATE / ".storage" / "onboarding").exists()
    if fresh and STATE.exists():
        shutil.rmtree(STATE)
    sims = Simulators(conso_port=CONSO_PORT, climkit_port=CLIMKIT_PORT)
    await sims.start()
    gateway = ClimkitGatewaySimulator(demo_gateway_meters())
    await gateway.start(GATEWAY_PORT)
    home = HomeAssistantProcess(Path(STATE), port)
    home.write_config()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with aiohttp.ClientSession() as session:
        api = HomeAssistantApi(session, home.url)
        try:
            print(f"Starting Home Assistant on {home.url} (log: {home.log}) ...", flush=True)
            await home.start(session)
            if fresh:
                await provision(api, sims)
            print(
                f"\nReady: open {home.url.replace('127.0.0.1', 'localhost')} and log in as "
                f"{OWNER['username']!r} / {OWNER['password']!r}.\n"
                f"Conso API simulator: {sims.conso_url} (PRM 12345678901234)\n"
                f"Climkit simulator: {sims.climkit_url} "
                f"({sims.climkit.username} / {sims.climkit.password})\n"
                f"Climkit Gateway simulator: {gateway.url}/api/v1\n"
                "Ctrl-C stops everything.",
                flush=True,
            )
            await stop.wait()
        finally:
            await api.close()
            await home.stop()
            await gateway.stop()
            await sims.stop()


async def provision(api: HomeAssistantApi, sims: Simulators) -> None:  # pragma: no cover
    """The owner, both providers, the site's gateway, a tariff and the Energy dashboard."""
    await api.onboard(OWNER)
    await add_linky(api, sims)
    await add_climkit(api, sims)
    print("Importing the demo history ...", flush=True)
    await until(lambda: imported(api, sims), "the first imports", 180)
    linky = next(e for e in await api.entries() if e["title"].startswith("Linky"))
    await set_linky_tariff(api, linky["entry_id"])
    await add_gateway(api, GATEWAY_PORT)
    power = await gateway_power_sensors(api)
    await api.ws("energy/save_prefs", **energy_preferences(power))


def run() -> None:  # pragma: no cover - manual use
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep .demo/ from the last run")
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant's port")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.keep, args.port))


if __name__ == "__main__":  # pragma: no cover
    run()
