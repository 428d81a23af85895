"""End-to-end tests drive a real Home Assistant process: no in-process instance here."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Replaces the package-wide fixture, which would create an in-process Home Assistant."""
