"""Constants shared by the integration's modules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

DOMAIN: Final = "linky_climkit"
REPOSITORY_URL: Final = "https://github.com/linky-climkit/linky_climkit"
VERSION: Final[str] = json.loads((Path(__file__).parent / "manifest.json").read_text())["version"]
USER_AGENT: Final = f"linky_climkit/{VERSION} (+{REPOSITORY_URL})"

CONF_PROVIDER: Final = "provider"
CONF_TOKEN: Final = "token"
CONF_PRM: Final = "prm"
CONF_API_URL: Final = "api_url"
CONF_SYNC_OFFSET: Final = "sync_offset"

PROVIDER_LINKY: Final = "linky"
PROVIDER_CLIMKIT: Final = "climkit"

EVENT_DATA_IMPORTED: Final = f"{DOMAIN}_data_imported"

LINKY_CURRENCY: Final = "EUR"

CONF_SITE_ID: Final = "site_id"
CONF_USERNAME: Final = "username"
CONF_PASSWORD: Final = "password"

PROVIDER_GATEWAY: Final = "climkit_gateway"
CONF_METERS: Final = "meters"
CONF_SITE_SENSORS_HOURLY: Final = "site_sensors_hourly"
CONF_READ_REGISTERS: Final = "read_registers"  # a Linky meter's registers, one call a day
CONF_GATEWAY: Final = "gateway"
