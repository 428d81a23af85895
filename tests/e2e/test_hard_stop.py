"""Hard stops in the middle of an import, in a real Home Assistant process.

Each case starts Home Assistant with `LINKY_CLIMKIT_FAULT=<point>` (custom_components/
linky_climkit/faults.py): the process kills itself with SIGKILL, as a power cut, the first
time the integration reaches that point. The test restarts it without the variable, lets the
integration start again, and reads the statistics back through the WebSocket API: every day
equals the simulators' ground truth (nothing lost, nothing doubled) and the hourly sums are
continuous.
"""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from custom_components.linky_climkit.statistics.aggregation import hour_starts
from custom_components.linky_climkit.tariffs.stored import (
    new_tariff_options,
    period_options,
    with_period,
)
from tests.e2e.stack import (
    DOMAIN,
    OWNER,
    PRM,
    HomeAssistantApi,
    HomeAssistantProcess,
    Simulators,
    add_climkit,
    add_linky,
    free_port,
    set_linky_tariff,
    statistic,
    until,
)
from tests.helpers.enedis_files import conso_downloader
from tests.simulators.climkit import DEMO_SITE_ID
from tests.simulators.conso_api_index import RegisterPlan

PARIS = ZoneInfo("Europe/Paris")
FAULT_ENV = "LINKY_CLIMKIT_FAULT"
LINKY_HISTORY_DAYS = 1095  # the first import's daily depth (linky/plan.py)
SUBSCRIPTION = 15.65  # per month (stack.set_linky_tariff)
FIRST_PRICE, NEW_PRICE = 0.2516, 0.3012
HP_PRICE, HC_PRICE = 0.2700, 0.2068


@dataclass
class Run:
    """The simulators, the Home Assistant process and its API client."""

    sims: Simulators
    home: HomeAssistantProcess
    api: HomeAssistantApi

    async def start(self, fault: str | None = None) -> None:
        """(Re)start Home Assistant, with a fault point armed or none."""
        self.home.extra_env = {FAULT_ENV: fault} if fault else {}
        await self.api.close()
        await self.home.start(self.api.session)
        if self.api.refresh_token:
            await self.api.refresh()

    async def killed(self) -> None:
        """The process ends by itself, with SIGKILL."""
        code = await self.home.killed()
        assert code == -signal.SIGKILL, f"exit code {code}; see {self.home.log}"
        await self.api.close()

    async def stop(self) -> None:
        """Stop the way a user does (SIGTERM)."""
        await self.api.close()
        await self.home.stop()

    async def loaded(self) -> None:
        """Every entry of the integration is loaded."""

        async def check() -> bool | None:
            entries = await self.api.entries()
            return (bool(entries) and {e["state"] for e in entries} == {"loaded"}) or None

        await until(check, "the entries loaded", 90)

    async def linky_entry_id(self) -> str:
        """The Linky entry's id."""
        entries = await self.api.entries()
        return str(next(e["entry_id"] for e in entries if e["title"].startswith("Linky")))


@pytest.fixture
async def run(socket_enabled: None, tmp_path: Path) -> AsyncIterator[Run]:
    """The simulators, a Home Assistant on a free port (not started) and an API client."""
    sims = Simulators()
    await sims.start()
    async with aiohttp.ClientSession() as session:
        home = HomeAssistantProcess(tmp_path / "config", free_port())
        home.write_config()
        api = HomeAssistantApi(session, home.url)
        try:
            yield Run(sims, home, api)
        finally:
            await api.close()
            await home.stop()
            await sims.stop()


def _day(row: dict[str, Any], tz: ZoneInfo = PARIS) -> date:
    start = row["start"]
    if isinstance(start, int | float):
        return datetime.fromtimestamp(start / 1000, tz).date()
    return datetime.fromisoformat(start).astimezone(tz).date()


def _continuity(statistic_id: str, hours: list[dict[str, Any]]) -> list[str]:
    """Where sum(h) != sum(previous row) + state(h)."""
    return [
        f"{statistic_id}: sum breaks at {after['start']} ({before['sum']} + {after['state']}"
        f" != {after['sum']})"
        for before, after in pairwise(hours)
        if abs(after["sum"] - (before["sum"] + after["state"])) > 1e-4
    ]


async def _settled(differences: Callable[[], Awaitable[list[str]]], what: str) -> None:
    """Poll until `differences` finds none; fail with the last ones found."""
    found: list[str] = []

    async def check() -> bool | None:
        found[:] = await differences()
        return not found or None

    try:
        await until(check, what, 120)
    except TimeoutError:
        pytest.fail(f"{what}: {len(found)} differences, first ones: {found[:6]}")


# ---- Linky ground truth -------------------------------------------------------------------


def _newest_linky_day(sims: Simulators) -> date:
    today = sims.clock.today()
    yesterday = today - timedelta(days=1)
    return yesterday if sims.conso.is_published(yesterday) else yesterday - timedelta(days=1)


async def day_differences(
    api: HomeAssistantApi,
    statistic_id: str,
    first: date,
    last: date,
    truth: Callable[[date], float],
    tolerance: float,
) -> list[str]:
    """Each day of [first, last] of a statistic against its ground truth."""
    rows = {_day(r): r for r in await api.daily(statistic_id, first, last)}
    found: list[str] = []
    day = first
    while day <= last:
        expected, row = truth(day), rows.get(day)
        if row is None:
            found.append(f"{statistic_id}: {day} missing")
        elif abs(row["change"] - expected) > tolerance:
            found.append(f"{statistic_id}: {day} is {row['change']}, not {expected}")
        day += timedelta(days=1)
    return found


async def linky_differences(run: Run) -> list[str]:
    """Every day of the first import's depth, consumption and production, against the
    simulator; hourly sums continuous from the statistic's first row."""
    sims, api = run.sims, run.api
    newest = _newest_linky_day(sims)
    oldest = sims.clock.today() - timedelta(days=LINKY_HISTORY_DAYS)
    found: list[str] = []
    for channel, production in (("consumption", False), ("production", True)):
        statistic_id = statistic(PRM, channel)

        def energy(day: date, production: bool = production) -> float:
            return sims.conso.daily_wh(PRM, day, production=production) / 1000

        found += await day_differences(api, statistic_id, oldest, newest, energy, 1e-6)
        if not found:
            hours = await api.daily(statistic_id, oldest, newest, "hour")
            found += _continuity(statistic_id, hours)
    return found


async def linky_costs_differences(run: Run, price: float) -> list[str]:
    """Every day's cost: its energy (the simulator's) x the price + the day's share of the
    monthly subscription; hourly sums continuous."""
    sims, api = run.sims, run.api
    newest = _newest_linky_day(sims)
    oldest = sims.clock.today() - timedelta(days=LINKY_HISTORY_DAYS)
    statistic_id = statistic(PRM, "consumption_cost")

    def cost(day: date) -> float:
        month_days = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(1)).day
        return sims.conso.daily_wh(PRM, day) / 1000 * price + SUBSCRIPTION / month_days

    found = await day_differences(api, statistic_id, oldest, newest, cost, 1e-3)
    if not found:
        found += _continuity(statistic_id, await api.daily(statistic_id, oldest, newest, "hour"))
    return found


# ---- Climkit ground truth -----------------------------------------------------------------


async def climkit_differences(run: Run) -> list[str]:
    """The site's consumption day by day against the simulator from the day after its
    creation to yesterday; every other statistic of the site has the same days; hourly sums
    continuous."""
    sims, api = run.sims, run.api
    site = sims.climkit.sites[DEMO_SITE_ID]
    tz = ZoneInfo(site.timezone)
    first = site.creation.astimezone(tz).date() + timedelta(days=1)
    last = sims.clock.now().astimezone(tz).date() - timedelta(days=1)
    truth_rows = sims.climkit.period_values(
        DEMO_SITE_ID,
        "electricity",
        datetime.combine(first, datetime.min.time(), tz),
        datetime.combine(last, datetime.min.time(), tz),
        "D",
    )
    truth = {r["start"].date(): r["conso_total"] for r in truth_rows}
    consumption = statistic(DEMO_SITE_ID, "consumption")
    rows = {_day(r, tz): r for r in await api.daily(consumption, first, last)}
    found = [f"{consumption}: {day} missing" for day in sorted(set(truth) - set(rows))]
    found += [
        f"{consumption}: {day} is {rows[day]['change']}, not {value}"
        for day, value in sorted(truth.items())
        if day in rows and abs(rows[day]["change"] - value) > 1e-3
    ]
    if found:
        return found
    listed = await api.ws("recorder/list_statistic_ids", statistic_type="sum")
    ids = sorted(
        s["statistic_id"]
        for s in listed
        if s["statistic_id"].startswith(f"{DOMAIN}:") and not s["statistic_id"].endswith("_cost")
    )
    for statistic_id in ids:
        if statistic_id.startswith(statistic(PRM, "")):
            continue
        days = {_day(r, tz) for r in await api.daily(statistic_id, first, last)}
        found += [f"{statistic_id}: {day} missing" for day in sorted(set(truth) - days)]
        found += _continuity(statistic_id, await api.daily(statistic_id, first, last, "hour"))
    return found


# ---- the cases ----------------------------------------------------------------------------


async def _onboard(run: Run, fault: str | None) -> None:
    await run.start(fault)
    await run.api.onboard(OWNER)


async def linky_first_import(run: Run, point: str) -> None:
    """The first import (3 years daily, the last week hourly) stops at `point`.

    Conso API answers slowly here: Home Assistant saves its owner's tokens and a new config
    entry a second after creating them, and a first import against a local simulator would
    otherwise be over (and the process killed) before that, leaving nothing to restart with."""
    await _onboard(run, point)
    run.sims.conso.delay_seconds = 0.5
    assert (await add_linky(run.api, run.sims))["type"] == "create_entry"
    await run.killed()
    run.sims.conso.delay_seconds = 0.0
    await run.start()
    await run.loaded()
    await _settled(lambda: linky_differences(run), "Linky after the hard stop")


async def climkit_history(run: Run, point: str) -> None:
    """The Climkit history (30-day windows, newest first) stops at `point`."""
    await _onboard(run, point)
    assert (await add_climkit(run.api, run.sims))["type"] == "create_entry"
    await run.killed()
    await run.start()
    await run.loaded()
    await _settled(lambda: climkit_differences(run), "Climkit after the hard stop")


def _first_import_done(home: HomeAssistantProcess) -> bool | None:
    """Whether the Linky entry's saved state says its first import is over (its daily figures
    come first: the statistics alone can look complete while its curves are still read)."""
    stores = list((home.config_dir / ".storage").glob(f"{DOMAIN}.linky.*"))
    if len(stores) != 1:
        return None
    state = json.loads(stores[0].read_text(encoding="utf-8"))["data"]
    return (state.get("initialised") and not state.get("pending")) or None


async def _linky_imported(run: Run) -> None:
    """A Linky entry whose first import is over, nothing else under way."""
    await _onboard(run, None)
    assert (await add_linky(run.api, run.sims))["type"] == "create_entry"
    await _settled(lambda: linky_differences(run), "the first Linky import")

    async def done() -> bool | None:
        return _first_import_done(run.home)

    await until(done, "the first Linky import's end", 60)


async def _import_history(run: Run, first: date, last: date) -> None:
    await run.api.ws(
        "call_service",
        domain=DOMAIN,
        service="import_history",
        service_data={
            "config_entry_id": await run.linky_entry_id(),
            "start": first.isoformat(),
            "end": last.isoformat(),
        },
        return_response=True,
    )


async def linky_corrected_day(run: Run, point: str) -> None:
    """Enedis corrects an older day; re-reading it (`import_history`) rewrites that day and
    shifts every later sum, and stops at `point`. After the restart the user asks again."""
    await _linky_imported(run)
    await run.stop()
    corrected = _newest_linky_day(run.sims) - timedelta(days=10)
    run.sims.conso.corrections[corrected] = 1.25
    first, last = corrected - timedelta(days=2), corrected + timedelta(days=2)
    await run.start(point)
    await run.loaded()
    await _import_history(run, first, last)
    await run.killed()
    await run.start()
    await run.loaded()
    await _import_history(run, first, last)
    await _settled(lambda: linky_differences(run), "Linky after the hard stop")


def _set_price(home: HomeAssistantProcess, price: float) -> None:
    """A new base price in the stored options of the (stopped) Linky entry, as the options
    flow writes it. Through the options flow, the re-pricing (and the stop) would come
    within the second after which Home Assistant saves the new options."""
    path = home.config_dir / ".storage" / "core.config_entries"
    stored = json.loads(path.read_text(encoding="utf-8"))
    periods = [
        period
        for entry in stored["data"]["entries"]
        if entry["domain"] == DOMAIN
        for period in entry["options"]["tariff"]["periods"]
    ]
    assert periods
    for period in periods:
        period["base_price"] = price
    path.write_text(json.dumps(stored), encoding="utf-8")


async def linky_new_price(run: Run, point: str) -> None:
    """A new price re-prices every stored day: the cost statistic is replaced (cleared, then
    inserted again), and that stops at `point`."""
    await _linky_imported(run)
    await set_linky_tariff(run.api, await run.linky_entry_id())
    await _settled(lambda: linky_costs_differences(run, FIRST_PRICE), "the first costs")
    await run.stop()
    _set_price(run.home, NEW_PRICE)
    await run.start(point)
    await run.killed()
    await run.start()
    await run.loaded()
    await _settled(lambda: linky_costs_differences(run, NEW_PRICE), "costs after the hard stop")
    assert await linky_differences(run) == []


async def history_differences(run: Run, first: date, last: date) -> list[str]:
    """The file's days against the simulator's load curve (hourly rows, 23 to 25 a day),
    and the hourly sums continuous from the file's first day to the newest."""
    statistic_id = statistic(PRM, "consumption")
    hours = await run.api.daily(statistic_id, first, _newest_linky_day(run.sims), "hour")
    found = _continuity(statistic_id, hours)
    day = first
    while day <= last:
        rows = [r for r in hours if _day(r) == day]
        expected = len(hour_starts(day, PARIS))
        truth = run.sims.conso.curve_wh(PRM, day) / 1000
        total = sum(r["state"] for r in rows)
        if len(rows) != expected or abs(total - truth) > 1e-5:
            found.append(f"{statistic_id}: {day} has {len(rows)} rows, {total}, not {truth}")
        day += timedelta(days=1)
    return found


async def linky_history_file(run: Run, point: str) -> None:
    """Conso Downloader's file of 40 days older than Conso API's 3 years, imported through
    the options flow (the upload, the preview, the confirmation); the job stops at `point`
    after its first month. Once started again it goes on by itself."""
    await _onboard(run, point)  # only the history job reaches this point
    assert (await add_linky(run.api, run.sims))["type"] == "create_entry"

    async def done() -> bool | None:
        return _first_import_done(run.home)

    await until(done, "the first Linky import's end", 90)
    last = run.sims.clock.today() - timedelta(days=LINKY_HISTORY_DAYS + 1)
    first = last - timedelta(days=39)
    content = conso_downloader(run.sims.conso, first, last, False, PRM).encode()
    file_id = await run.api.upload(f"historique_conso_{PRM}_{last}.csv", content)
    steps = [{"next_step_id": "import_history"}, {"next_step_id": "history_file"}]
    preview = await run.api.options_flow(
        await run.linky_entry_id(), [*steps, {"file": file_id, "channel": "auto"}]
    )
    assert preview.get("step_id") == "history_preview", preview
    assert preview["description_placeholders"]["new"] == "40"
    with contextlib.suppress(aiohttp.ClientError):  # the process may stop before answering
        await run.api.options_flow_step(preview["flow_id"], {})
    await run.killed()
    await run.start()
    await run.loaded()
    await _settled(lambda: history_differences(run, first, last), "the file after the stop")
    assert not list((run.home.config_dir / ".storage").glob(f"{DOMAIN}.history.*"))
    assert await linky_differences(run) == []


def _set_meter_periods(home: HomeAssistantProcess, *, read: bool) -> None:
    """An HP/HC tariff with periods from the meter in the stored options of the (stopped)
    Linky entry, its registers read or not yet."""
    path = home.config_dir / ".storage" / "core.config_entries"
    stored = json.loads(path.read_text(encoding="utf-8"))
    tariff = new_tariff_options("hp_hc", "EUR")
    tariff["meter_periods"] = True
    prices = period_options(date(2020, 1, 1), hp_price=HP_PRICE, hc_price=HC_PRICE)
    for entry in stored["data"]["entries"]:
        if entry["domain"] == DOMAIN and entry["title"].startswith("Linky"):
            entry["options"] = {"tariff": with_period(tariff, prices), "read_registers": read}
    path.write_text(json.dumps(stored), encoding="utf-8")


async def registers_differences(run: Run) -> list[str]:
    """Each day the first reading of the registers tells: its HP and HC energy and their
    costs as the simulator's registers counted them."""
    sims, api = run.sims, run.api
    today = sims.clock.today()
    book = sims.conso.index_book(PRM)
    last = min(_newest_linky_day(sims), today - timedelta(days=2))
    first = today - timedelta(days=7)
    found: list[str] = []
    for bucket, price in (("hp", HP_PRICE), ("hc", HC_PRICE)):
        for suffix, factor in (("", 1.0), ("_cost", price)):

            def counted(day: date, code: str = bucket.upper(), factor: float = factor) -> float:
                before, after = book.reading(day)[1], book.reading(day + timedelta(days=1))[1]
                return (after[code] - before[code]) / 1000 * factor

            statistic_id = statistic(PRM, f"consumption_{bucket}{suffix}")
            found += await day_differences(api, statistic_id, first, last, counted, 1e-4)
    return found


def _costs_priced(home: HomeAssistantProcess) -> bool | None:
    """Whether the Linky entry's saved costs say they follow the current tariff."""
    stores = list((home.config_dir / ".storage").glob(f"{DOMAIN}.costs.*"))
    data = [json.loads(path.read_text(encoding="utf-8"))["data"] for path in stores]
    return any(item.get("priced") for item in data) or None


async def linky_registers(run: Run, point: str) -> None:
    """Periods from the meter (the meter's off-peak hours are 22:08-06:08), the days priced
    by hours while no register is read; then the registers' first reading makes the days it
    tells to price again, and that stops at `point`. Started again, those days are billed as
    their registers say."""
    meter = run.sims.conso.meters[PRM]
    meter.registers = RegisterPlan("hphc", off_peak=((time(22, 8), time(6, 8)),))
    await _linky_imported(run)
    await run.stop()
    _set_meter_periods(run.home, read=False)
    await run.start()
    await run.loaded()
    hc_cost = statistic(PRM, "consumption_hc_cost")
    yesterday = _newest_linky_day(run.sims)

    async def priced() -> bool | None:
        return bool(await run.api.daily(hc_cost, yesterday, yesterday)) or None

    await until(priced, "the costs priced by hours", 60)
    assert await registers_differences(run) != []  # hours are not the meter's
    await run.stop()  # (its saves written)
    assert _costs_priced(run.home)
    _set_meter_periods(run.home, read=True)
    await run.start(point)
    await run.killed()
    await run.start()
    await run.loaded()
    await _settled(lambda: registers_differences(run), "the registers after the hard stop")
    assert await linky_differences(run) == []


type Scenario = Callable[[Run, str], Awaitable[None]]
CASES: dict[str, tuple[str, Scenario]] = {
    "linky-first-import-saved": ("progress.saved", linky_first_import),
    "climkit-history-saved": ("progress.saved", climkit_history),
    "corrected-day-intent": ("import.intent", linky_corrected_day),
    "corrected-day-written": ("import.written", linky_corrected_day),
    "new-price-cleared": ("import.cleared", linky_new_price),
    "history-file-saved": ("history.saved", linky_history_file),
    "registers-intent": ("registers.intent", linky_registers),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_hard_stop(run: Run, case: str) -> None:
    point, scenario = CASES[case]
    await scenario(run, point)
