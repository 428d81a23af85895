"""An installation made by the code before the reorganisation upgrades silently.

`tests/fixtures/upgrade/` holds what the code at commit 0d836e4 (the flat layout, before the
`linky/`, `climkit/`, `gateway/`, `statistics/`, `tariffs/` folders) left behind, dumped by a
throw-away test run once against that commit (it is not kept in the repository):

- `site/`: one Home Assistant with
  - a Linky entry for the producing PRM 98765432109876 (conftest's `conso_sim`: seed 5,
    production, load curve since 2026-09-01; `SYNC_OFFSET` 3617 s), HP/HC tariff in EUR
    (off-peak 12:04-14:04 and 21:08-05:08, 0.27 / 0.2068 €/kWh, 15.65 €/month since
    2020-01-01) and a feed-in price (0.04 €/kWh since 2020-01-01, 0.1269 since 2026-11-10);
  - the demo Climkit site 65f0a1b2c3d4e5f607182930 (conftest's `climkit_sim`: created 40 days
    before `CH_NOW`, 4 consumers, PV, heat, water), HP/HC tariff in CHF with a feed-in price,
    holding its Climkit Gateway (conftest's `gateway_sim`, joined through the config flow:
    8 meters on the site's meter devices).
  Set up at NOW = 2026-11-20 09:30 Europe/Paris (Home Assistant in Europe/Paris, EUR, Python's
  `random` seeded with 20261120), then moved from scheduled run to scheduled run
  (`tests.helpers.time_travel.advance`) until the Climkit history and the whole Linky hourly
  backfill were done (2026-11-20 23:45), then to END = 2026-11-21 12:00 Paris (both daily syncs
  of the 21st done). Dumped at END: the stores (`storage.json`, delayed saves flushed by
  unloading the entries), the config entries, the entity and device registries, the statistic
  ids with their metadata, the restore states of the integration's entities and, in
  `meta.json`, the schedule and the Conso API budget as the old code saw them at END.
- `gateway/`: another Home Assistant with a Climkit Gateway entry of its own, made by the config
  flow with every meter of `gateway_sim` (electricity 10-14 and 101, heating 40, cold water 50,
  hot water 51), polled from 2026-11-20 10:00 to END = 12:00 Paris; meter 11 reads 8000 kWh
  less from 11:00 (`drop_index`), so at END its import index carries an offset (restore data).

Secrets and what changes from run to run (simulator URLs and ports, the Conso API token,
Climkit credentials) are `{name}` placeholders in `entries.json`, filled with the live
simulators' values here. Here the new code starts from those files, at the same END, against
the same simulators, and must change nothing a user could see.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import list_statistic_ids
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import restore_state as rs
from homeassistant.helpers.recorder import get_instance
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache_with_extra_data,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.linky_climkit.climkit.coordinator import ClimkitCoordinator
from custom_components.linky_climkit.const import DOMAIN
from custom_components.linky_climkit.data import SiteRuntime
from custom_components.linky_climkit.gateway.coordinator import GatewayCoordinator
from custom_components.linky_climkit.linky.coordinator import LinkyCoordinator
from custom_components.linky_climkit.statistics import importer as importer_module
from custom_components.linky_climkit.tariffs.costs import CostBook
from custom_components.linky_climkit.tariffs.stored import stored_tariff
from tests.conftest import NOW, PRM, PROD_PRM, token_for
from tests.helpers.time_travel import advance, max_calls_in_window
from tests.simulators.climkit import DEMO_SITE_ID, ClimkitSimulator
from tests.simulators.climkit_gateway import ClimkitGatewaySimulator
from tests.simulators.conso_api import ConsoApiSimulator

FIXTURES = Path(__file__).parent / "fixtures" / "upgrade"
# What a store may hold differently once re-saved by a restarted Home Assistant, old code or
# new: the Climkit client's request counter starts again from 0.
RESTART_FIELDS = {"climkit": {"calls"}}
# Fields an older version saved that the new code no longer keeps (read, then dropped): the
# hourly backfill's cursor, replaced by the completeness ledger (a store of its own).
RETIRED_FIELDS = {"linky": {"backfill_cursor", "backfill_done"}}
# Fields the new code adds, and the value a store of an older version is read with: the
# back-off's last wait (backoff.py), a Climkit site's sensors' own back-off, and the counts
# of points and values a parse left out (hostile answers).
ADDED_FIELDS: dict[str, dict[str, Any]] = {
    "linky": {
        "backoff_seconds": 0.0,
        "dropped_points": {},
        "latest_index": None,
        "latest_production_index": None,
        "registers_chunk": 31,
        "registers_done": False,
    },
    "climkit": {
        "backoff_seconds": 0.0,
        "sensors_backoff": {"backoff_until": None, "backoff_seconds": 0.0},
        "refused": 0,
    },
    "costs": {"readings": [], "unpriced": []},
}


def load(scenario: str, name: str) -> Any:
    """One dumped file, as JSON."""
    return json.loads((FIXTURES / scenario / name).read_text(encoding="utf-8"))


def fill(value: Any, live: dict[str, Any]) -> Any:
    """The dumped entry data with its `{name}` placeholders replaced by live values."""
    if isinstance(value, dict):
        return {k: fill(v, live) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, live) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return live[value[1:-1]]
    return value


def restore_installation(
    hass: HomeAssistant, hass_storage: dict[str, Any], scenario: str, live: dict[str, Any]
) -> list[MockConfigEntry]:
    """What Home Assistant holds at start-up after the old code ran: stores, restore states,
    config entries, devices and entities (with their entity ids)."""
    if (FIXTURES / scenario / "storage.json").is_file():
        hass_storage.update(load(scenario, "storage.json"))
    mock_restore_cache_with_extra_data(
        hass,
        [
            (State(s["entity_id"], s["state"], s["attributes"]), s["extra_data"])
            for s in load(scenario, "restore_state.json")
        ],
    )
    entries: dict[str, MockConfigEntry] = {}
    for dumped in load(scenario, "entries.json"):
        entry = MockConfigEntry(
            domain=dumped["domain"],
            title=dumped["title"],
            unique_id=dumped["unique_id"],
            version=dumped["version"],
            minor_version=dumped["minor_version"],
            data=fill(dumped["data"], live),
            options=dumped["options"],
            entry_id=dumped["entry_id"],
        )
        entry.add_to_hass(hass)
        entries[entry.entry_id] = entry
    devices = dr.async_get(hass)
    device_ids: dict[str, str] = {}
    # Parents (via_device) first.
    for device in sorted(load(scenario, "devices.json"), key=lambda d: d["via_device"] is not None):
        via = device["via_device"]
        key = json.dumps(device["identifiers"])
        created = devices.async_get_or_create(
            config_entry_id=device["config_entry_id"],
            identifiers={tuple(i) for i in device["identifiers"]},
            name=device["name"],
            manufacturer=device["manufacturer"],
            model=device["model"],
            serial_number=device["serial_number"],
            via_device_id=device_ids[json.dumps(via)] if via else None,
        )
        device_ids[key] = created.id
    registry = er.async_get(hass)
    for entity in load(scenario, "entities.json"):
        domain, object_id = entity["entity_id"].split(".", 1)
        disabled = entity["disabled_by"]
        created_entity = registry.async_get_or_create(
            domain,
            entity["platform"],
            entity["unique_id"],
            suggested_object_id=object_id,
            config_entry=entries[entity["config_entry_id"]],
            device_id=device_ids[json.dumps(entity["device"])] if entity["device"] else None,
            disabled_by=er.RegistryEntryDisabler(disabled) if disabled else None,
        )
        assert created_entity.entity_id == entity["entity_id"]
    return list(entries.values())


async def set_up(hass: HomeAssistant, entries: list[MockConfigEntry]) -> None:
    """Start the integration with every entry, as Home Assistant does at boot."""
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done(wait_background_tasks=True)
    for entry in entries:
        assert entry.state is ConfigEntryState.LOADED, entry.title


def _identifiers(devices: dr.DeviceRegistry, device_id: str | None) -> list[list[str]] | None:
    device = devices.async_get(device_id) if device_id else None
    return None if device is None else sorted([list(i) for i in device.identifiers])


def entity_snapshot(hass: HomeAssistant, entries: list[ConfigEntry]) -> list[dict[str, Any]]:
    """The integration's entity registry, in the dump's form."""
    devices = dr.async_get(hass)
    registry = er.async_get(hass)
    rows = [
        {
            "unique_id": e.unique_id,
            "entity_id": e.entity_id,
            "platform": e.platform,
            "domain": e.domain,
            "config_entry_id": e.config_entry_id,
            "device_class": e.device_class,
            "original_device_class": e.original_device_class,
            "translation_key": e.translation_key,
            "has_entity_name": e.has_entity_name,
            "original_name": e.original_name,
            "unit_of_measurement": e.unit_of_measurement,
            "entity_category": e.entity_category,
            "disabled_by": e.disabled_by,
            "device": _identifiers(devices, e.device_id),
        }
        for entry in entries
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    ]
    return json.loads(json.dumps(sorted(rows, key=lambda e: e["unique_id"]), default=str))


def device_snapshot(hass: HomeAssistant, entries: list[ConfigEntry]) -> list[dict[str, Any]]:
    """The integration's devices, in the dump's form."""
    devices = dr.async_get(hass)
    found = {
        d.id: d
        for entry in entries
        for d in dr.async_entries_for_config_entry(devices, entry.entry_id)
    }
    rows = [
        {
            "identifiers": sorted([list(i) for i in d.identifiers]),
            "config_entry_id": d.config_entry_id,
            "name": d.name,
            "manufacturer": d.manufacturer,
            "model": d.model,
            "serial_number": d.serial_number,
            "via_device": _identifiers(devices, d.via_device_id),
        }
        for d in found.values()
    ]
    return sorted(rows, key=lambda d: d["identifiers"])


async def statistic_snapshot(hass: HomeAssistant, entity_ids: set[str]) -> dict[str, Any]:
    """The recorder's statistic ids of the integration (its own and its sensors')."""
    await async_wait_recording_done(hass)
    listed = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
    return {
        s["statistic_id"]: {
            "statistic_id": s["statistic_id"],
            "source": s["source"],
            "name": s["name"],
            "unit": s["statistics_unit_of_measurement"],
            "has_sum": s["has_sum"],
            "unit_class": s["unit_class"],
            "mean_type": int(s["mean_type"]),
        }
        for s in listed
        if s["source"] == DOMAIN or s["statistic_id"] in entity_ids
    }


def _added(unique_id: str) -> bool:
    """An entity the new code adds: the completeness ledger's diagnostic sensor, a gateway's
    site-level grid and solar power."""
    return unique_id.endswith(("_missing_days", "_gateway_grid_power", "_gateway_solar_power"))


def assert_registries_unchanged(hass: HomeAssistant, scenario: str) -> None:
    """Same entities (unique id → entity id, names, classes, units, devices), no `_2`, none
    gone, only the new sensors added; same devices; every enabled entity is provided
    by the new code."""
    entries = hass.config_entries.async_entries(DOMAIN)
    old = load(scenario, "entities.json")
    new = [e for e in entity_snapshot(hass, entries) if not _added(e["unique_id"])]
    assert {e["unique_id"]: e["entity_id"] for e in new} == {
        e["unique_id"]: e["entity_id"] for e in old
    }
    assert new == old
    assert device_snapshot(hass, entries) == load(scenario, "devices.json")
    for entity in old:
        state = hass.states.get(entity["entity_id"])
        if entity["disabled_by"]:
            assert state is None, entity["entity_id"]
        else:
            assert state is not None, entity["entity_id"]
            assert not state.attributes.get("restored"), entity["entity_id"]


class StatisticsSpy:
    """The external statistics the importer writes (with their metadata), those it clears,
    and how many times stored costs are priced again (`CostBook.recompute`: the recorder
    database is not part of the fixtures, so a recompute here would find no energy to price
    and write no row; it is counted instead)."""

    def __init__(self, hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
        self.written: dict[str, dict[str, Any]] = {}
        self.cleared: list[str] = []
        self.recomputes = 0
        recompute = CostBook.recompute

        async def spy_recompute(book: CostBook, *args: Any) -> None:
            self.recomputes += 1
            await recompute(book, *args)

        monkeypatch.setattr(CostBook, "recompute", spy_recompute)
        add = importer_module.async_add_external_statistics
        recorder = get_instance(hass)
        clear = recorder.async_clear_statistics

        def spy_add(hass: HomeAssistant, metadata: Any, statistics: Any) -> None:
            self.written[metadata["statistic_id"]] = {
                "statistic_id": metadata["statistic_id"],
                "source": metadata["source"],
                "name": metadata["name"],
                "unit": metadata["unit_of_measurement"],
                "has_sum": metadata["has_sum"],
                "unit_class": metadata["unit_class"],
                "mean_type": int(metadata["mean_type"]),
            }
            add(hass, metadata, statistics)

        def spy_clear(statistic_ids: list[str], **kwargs: Any) -> None:
            self.cleared.extend(statistic_ids)
            clear(statistic_ids, **kwargs)

        monkeypatch.setattr(importer_module, "async_add_external_statistics", spy_add)
        monkeypatch.setattr(recorder, "async_clear_statistics", spy_clear)


def _json_type(value: Any) -> str:
    return type(value).__name__


def assert_same_format(key: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """A store re-saved by the new code: same key, version and fields, each of the same type."""
    assert (new["key"], new["version"], new.get("minor_version")) == (
        old["key"],
        old["version"],
        old.get("minor_version"),
    ), key
    retired = RETIRED_FIELDS.get(key.split(".")[1], set())
    # (a store the new version has not rewritten yet has none of the added fields)
    added = set(ADDED_FIELDS.get(key.split(".")[1], {})) & set(new["data"])
    assert set(new["data"]) == (set(old["data"]) - retired) | added, key
    for field, value in old["data"].items():
        if field not in retired and value is not None and new["data"][field] is not None:
            assert _json_type(new["data"][field]) == _json_type(value), (key, field)


@pytest.mark.usefixtures("recorder_mock", "fast_pacer")
async def test_linky_and_climkit_site_upgrade(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    conso_sim: ConsoApiSimulator,
    climkit_sim: ClimkitSimulator,
    gateway_sim: ClimkitGatewaySimulator,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Linky and Climkit entries whose imports were done: their stores are read (no call
    before the next scheduled sync, no cost recomputed), nothing visible changes, and what
    the new code writes afterwards keeps the old ids, metadata and formats."""
    meta = load("site", "meta.json")
    old_stores = load("site", "storage.json")
    old_statistics = {s["statistic_id"]: s for s in load("site", "statistics.json")}
    end = datetime.fromisoformat(meta["end"])
    await hass.config.async_set_time_zone(meta["time_zone"])
    hass.config.currency = meta["currency"]
    freezer.move_to(end)
    live = {
        "conso_api_url": conso_sim.base_url,  # type: ignore[attr-defined]
        "climkit_api_url": climkit_sim.base_url,
        "token": token_for(PRM, PROD_PRM, iat=NOW),  # the dumped entry's token, made again
        "climkit_username": climkit_sim.username,
        "climkit_password": climkit_sim.password,
        "gateway_port": gateway_sim.port,
    }
    entries = restore_installation(hass, hass_storage, "site", live)
    loaded = {key: hass_storage[key] for key in old_stores}
    spy = StatisticsSpy(hass, monkeypatch)
    await set_up(hass, entries)
    linky_entry, site_entry = entries
    linky, site_runtime = linky_entry.runtime_data, site_entry.runtime_data
    assert isinstance(linky, LinkyCoordinator)
    assert isinstance(site_runtime, SiteRuntime)
    site = site_runtime.coordinator
    assert isinstance(site, ClimkitCoordinator)
    assert isinstance(site_runtime.gateway, GatewayCoordinator)
    assert_registries_unchanged(hass, "site")

    # The stores were read: nothing to import, no provider called, no cost priced again.
    assert conso_sim.calls == []
    assert climkit_sim.calls == []
    assert spy.written == {}
    assert spy.cleared == []
    assert spy.recomputes == 0
    assert linky.state.initialised
    assert not linky.state.pending
    assert site.state.history_done
    # The same schedule as the old code had at END, and the same Conso API calls in the budget.
    assert linky.next_daily == datetime.fromisoformat(meta["linky_next_daily"])
    # Its completeness ledger is new: read back from the statistics a few minutes after the
    # start (no call), before the daily sync the old code had planned.
    now = dt_util.utcnow()
    for coordinator in (linky, site):
        assert coordinator.next_run is not None
        assert now < coordinator.next_run <= now + timedelta(minutes=8)
    assert site.next_daily == datetime.fromisoformat(meta["climkit_next_daily"])
    assert linky.budget.used() == meta["budget_used"]
    # The tariff read back by the new code is the old one, the one the costs were priced with.
    for dumped, entry in zip(load("site", "entries.json"), entries, strict=True):
        tariff = stored_tariff(entry.options)
        assert tariff == dumped["stored_tariff"]
        priced = old_stores[f"{DOMAIN}.costs.{entry.entry_id}"]["data"]["priced"]
        assert json.dumps(tariff, sort_keys=True) == priced
    assert not linky.costs.stale
    assert not site.costs.stale
    assert linky.costs.report.recomputed_at is None
    assert site.costs.report.recomputed_at is None
    # The sensors show the stored values.
    registry = er.async_get(hass)
    stored_linky = old_stores[f"{DOMAIN}.linky.{linky_entry.entry_id}"]["data"]
    stored_site = old_stores[f"{DOMAIN}.climkit.{site_entry.entry_id}"]["data"]
    for unique_id, value in (
        (f"{PROD_PRM}_daily_consumption", stored_linky["latest_consumption"][1]),
        (f"{PROD_PRM}_daily_production", stored_linky["latest_production"][1]),
        (f"{DEMO_SITE_ID}_consumption", stored_site["latest"][f"{DEMO_SITE_ID}:consumption"][1]),
    ):
        entity_id = registry.async_get_entity_id("sensor", DOMAIN, unique_id)
        assert entity_id is not None
        state = hass.states.get(entity_id)
        assert state is not None
        assert float(state.state) == pytest.approx(value, abs=1e-3), unique_id
    # The Linky and Climkit states, re-saved at set-up (a write replaces the dict held in
    # hass_storage), are the old ones field for field; the other stores are not written
    # before something changes.
    resaved = {key for key in old_stores if hass_storage[key] is not loaded[key]}
    assert resaved == {
        f"{DOMAIN}.linky.{linky_entry.entry_id}",
        f"{DOMAIN}.climkit.{site_entry.entry_id}",
    }
    for key, old in old_stores.items():
        kind = key.split(".")[1]
        new = copy.deepcopy(hass_storage[key])
        assert_same_format(key, old, new)
        for field in RESTART_FIELDS.get(kind, set()):
            new["data"][field] = old["data"][field]
        for field in RETIRED_FIELDS.get(kind, set()):
            old["data"].pop(field, None)
        for field, value in ADDED_FIELDS.get(kind, {}).items():
            if field in new["data"] or kind != "costs":
                assert new["data"].pop(field) == value, (key, field)
        assert new == old, key
    entity_ids = {e["entity_id"] for e in load("site", "entities.json")}
    sensors = {
        k: v for k, v in (await statistic_snapshot(hass, entity_ids)).items() if k in entity_ids
    }
    assert sensors == {k: v for k, v in old_statistics.items() if k in entity_ids}

    # Nothing is called before each entry's ledger is read back from the recorder (this
    # fixture holds the statistics' metadata, not their rows: every day is then missing and
    # repaired, Linky's from what the budget allows).
    coordinators = [linky, site]
    linky_seeded_at, site_seeded_at = linky.next_run, site.next_run
    first = min(linky.next_daily, site.next_daily)
    await advance(hass, freezer, coordinators, first - timedelta(seconds=1))
    assert all(c.at >= linky_seeded_at for c in conso_sim.calls)
    assert max_calls_in_window(conso_sim.calls) <= 24
    assert all(c.at >= site_seeded_at for c in climkit_sim.calls)
    assert site.next_daily is not None
    site_calls = len(climkit_sim.calls)
    await advance(hass, freezer, coordinators, site.next_daily + timedelta(minutes=1))
    assert len(climkit_sim.calls) > site_calls
    assert linky.next_daily is not None
    daily_calls = len(conso_sim.calls_of("consommation_quotidienne"))
    await advance(hass, freezer, coordinators, linky.next_daily + timedelta(minutes=30))
    assert len(conso_sim.calls_of("consommation_quotidienne")) > daily_calls
    assert linky.have_yesterday()
    assert site.have_yesterday()
    assert linky_entry.state is ConfigEntryState.LOADED
    assert site_entry.state is ConfigEntryState.LOADED

    # What the new code wrote has the old ids and metadata; the new days were priced, and
    # nothing was priced again.
    assert spy.recomputes == 0
    assert spy.cleared == []
    written = spy.written
    assert f"{DOMAIN}:{PROD_PRM}_consumption_cost" in written
    assert f"{DOMAIN}:{DEMO_SITE_ID}_grid_import_cost" in written
    for statistic_id, metadata in written.items():
        assert metadata == old_statistics.get(statistic_id), statistic_id
    now_listed = await statistic_snapshot(hass, entity_ids)
    for statistic_id, metadata in now_listed.items():
        assert metadata == old_statistics.get(statistic_id), statistic_id
    assert_registries_unchanged(hass, "site")

    # Every store, re-saved by the new code (delayed saves flushed by unloading), keeps its
    # key, version and fields; the only new store is each entry's completeness ledger.
    for entry in entries:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    ours = {k: v for k, v in hass_storage.items() if k.startswith(DOMAIN)}
    ledgers = {f"{DOMAIN}.ledger.{entry.entry_id}" for entry in entries}
    assert set(ours) == set(old_stores) | ledgers
    for key, old in old_stores.items():
        assert ours[key] != old, f"{key} was not saved again"
        assert_same_format(key, old, ours[key])


@pytest.mark.usefixtures("recorder_mock")
async def test_gateway_upgrade(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    gateway_sim: ClimkitGatewaySimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A Gateway entry of its own: same entities and devices; each index resumes from its
    restored offset (the replaced meter 11 keeps counting from its old value)."""
    meta = load("gateway", "meta.json")
    end = datetime.fromisoformat(meta["end"])
    await hass.config.async_set_time_zone(meta["time_zone"])
    hass.config.currency = meta["currency"]
    freezer.move_to(end)
    dropped = meta["dropped"]
    gateway_sim.drop_index(dropped["address"], dropped["kwh"])  # still the new meter
    entries = restore_installation(
        hass, hass_storage, "gateway", {"gateway_port": gateway_sim.port}
    )
    await set_up(hass, entries)
    assert isinstance(entries[0].runtime_data, GatewayCoordinator)
    assert_registries_unchanged(hass, "gateway")
    restored = load("gateway", "restore_state.json")
    offsets = [s for s in restored if s["extra_data"] and s["extra_data"]["offset"]]
    assert [s["entity_id"] for s in offsets] == ["sensor.electricity_11_energy_imported"]
    for old in restored:
        state = hass.states.get(old["entity_id"])
        assert state is not None
        if old["extra_data"] is not None:  # an index: same clock, same reading, same offset
            assert state.state == old["state"], old["entity_id"]
            assert state.attributes == old["attributes"], old["entity_id"]
    # Restart again: the new code saves the same restore data as the old one did.
    await rs.async_get(hass).async_dump_states()
    saved = {
        s["state"]["entity_id"]: s["extra_data"] for s in hass_storage["core.restore_state"]["data"]
    }
    for old in restored:
        assert saved[old["entity_id"]] == old["extra_data"], old["entity_id"]
    entity_ids = {e["entity_id"] for e in load("gateway", "entities.json")}
    old_statistics = {s["statistic_id"]: s for s in load("gateway", "statistics.json")}
    assert await statistic_snapshot(hass, entity_ids) == old_statistics
    assert not [k for k in hass_storage if k.startswith(DOMAIN)]
