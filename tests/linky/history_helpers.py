"""A Linky meter activated on 2025-11-01 (Conso API has nothing before), priced at a base
tariff, and the options flow's "Import history" steps driven as a user would."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import file_upload
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.linky_climkit.linky.coordinator import LinkyCoordinator
from custom_components.linky_climkit.statistics.ids import statistic_id
from custom_components.linky_climkit.tariffs.stored import CONF_TARIFF
from tests.conftest import HOURLY_SINCE, NOW, PRM, linky_entry
from tests.helpers.enedis_files import SEED
from tests.helpers.statistics_reader import assert_continuous, hourly_rows
from tests.helpers.time_travel import advance
from tests.simulators.conso_api import ConsoApiSimulator, MeterProfile

ACTIVATION = date(2025, 11, 1)
PRICE = 0.2
CONSUMPTION = statistic_id(PRM, "consumption")
PRODUCTION = statistic_id(PRM, "production")
COST = statistic_id(PRM, "consumption_cost")
MAX_POWER = statistic_id(PRM, "max_power")
TARIFF = {
    "kind": "base",
    "currency": "EUR",
    "off_peak": [],
    "tempo_entity": None,
    "price_entity": None,
    "periods": [{"start": "2020-01-01", "base_price": PRICE, "subscription": 0.0}],
    "feed_in": [],
}


@pytest.fixture
def own_upload_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Home Assistant's file upload keeps its files in one folder of the system's temporary
    folder and removes it when Home Assistant stops: one per test process (parallel tests
    would remove each other's uploads)."""
    monkeypatch.setattr(file_upload, "TEMP_DIR_NAME", f"home-assistant-file_upload-{os.getpid()}")


@pytest.fixture
async def activated_sim(socket_enabled: None) -> AsyncIterator[ConsoApiSimulator]:
    """The fixtures' meter (same seed), a producer, activated on 2025-11-01."""
    sim = ConsoApiSimulator(
        [
            MeterProfile(
                PRM,
                seed=SEED,
                activation=ACTIVATION,
                has_production=True,
                hourly_since=HOURLY_SINCE,
            )
        ]
    )
    sim.base_url = await sim.start() + "/api"  # type: ignore[attr-defined]
    yield sim
    await sim.stop()


async def setup_priced_meter(
    hass: HomeAssistant, sim: ConsoApiSimulator, freezer: FrozenDateTimeFactory
) -> tuple[ConfigEntry, LinkyCoordinator]:
    """Set up at NOW with the base tariff; the first import done."""
    freezer.move_to(NOW)
    entry = linky_entry(sim, PRM, options={CONF_TARIFF: TARIFF})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    coordinator: LinkyCoordinator = entry.runtime_data
    assert coordinator.state.initialised
    return entry, coordinator


async def open_step(hass: HomeAssistant, entry: ConfigEntry, step: str) -> dict[str, Any]:
    """Options → Import history → `step`."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert "import_history" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "import_history"}
    )
    assert result["type"] is FlowResultType.MENU
    return dict(
        await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": step})
    )


async def fresh_token(hass: HomeAssistant) -> str:
    """An access token made at the frozen time (the fixtures' are made at the real time,
    so not valid yet)."""
    users = [u for u in await hass.auth.async_get_users() if u.refresh_tokens]
    refresh = next(iter(users[0].refresh_tokens.values()))
    return hass.auth.async_create_access_token(refresh)


async def upload(hass: HomeAssistant, hass_client: Any, path: Path, name: str | None = None) -> str:
    """Upload a file as the frontend's file selector does; returns its id."""
    client = await hass_client(await fresh_token(hass))
    form = aiohttp.FormData()
    content = path.read_bytes()  # noqa: ASYNC240 - a small fixture
    form.add_field("file", io.BytesIO(content), filename=name or path.name)
    response = await client.post("/api/file_upload", data=form)
    assert response.status == 200, (response.status, await response.text())
    return str((await response.json())["file_id"])


async def submit_file(
    hass: HomeAssistant, entry: ConfigEntry, hass_client: Any, path: Path, **fields: Any
) -> dict[str, Any]:
    """The file step with this file uploaded: the preview, or the form with its error."""
    form = await open_step(hass, entry, "history_file")
    assert form["step_id"] == "history_file"
    file_id = await upload(hass, hass_client, path, fields.pop("name", None))
    return dict(
        await hass.config_entries.options.async_configure(
            form["flow_id"], {"file": file_id, "channel": fields.get("channel", "auto")}
        )
    )


async def confirm_and_run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    coordinator: LinkyCoordinator,
    preview: dict[str, Any],
) -> None:
    """Submit the preview, then let the background job run."""
    assert preview["step_id"] == "history_preview", preview
    done = await hass.config_entries.options.async_configure(preview["flow_id"], {})
    assert done["type"] is FlowResultType.ABORT
    assert done["reason"] == "history_started"
    now = coordinator.next_run
    assert now is not None
    await advance(hass, freezer, [coordinator], now + timedelta(seconds=5))
    assert not coordinator.history.pending


async def rows(hass: HomeAssistant, statistic: str) -> list[dict[str, Any]]:
    """The statistic's rows, checked continuous."""
    found = await hourly_rows(hass, statistic)
    assert_continuous(found)
    return found
