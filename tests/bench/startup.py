"""The start-up cost of loading the integration: the import of every one of its modules, in a
fresh interpreter, against Home Assistant's own `template` integration (a core integration of
about the same size, ~11,500 lines against ~11,000, with no requirement to install) in the
same run. Both start from the same Home Assistant base already imported (what is loaded before
any integration), so each figure is what the integration itself adds: its own modules and the
Home Assistant components it uses that nothing loaded before (sensor, energy, …)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYCACHE = ROOT / "bench-results" / "pycache"  # compiled modules of both packages
OURS = "custom_components.linky_climkit"
CORE = "homeassistant.components.template"

# What Home Assistant has imported before it loads an integration: the core and the helpers,
# and what its bootstrap sets up first (the recorder, HTTP and its client session helper).
BASE = (
    "homeassistant.core",
    "homeassistant.config_entries",
    "homeassistant.helpers.entity_platform",
    "homeassistant.helpers.update_coordinator",
    "homeassistant.helpers.storage",
    "homeassistant.helpers.config_validation",
    "homeassistant.helpers.aiohttp_client",
    "homeassistant.components.http",
    "homeassistant.components.recorder",
)

_PROBE = """
import importlib, json, pkgutil, sys, time
for name in {base!r}:
    importlib.import_module(name)
start = time.perf_counter()
root = importlib.import_module({package!r})
names = [m.name for m in pkgutil.walk_packages(root.__path__, root.__name__ + ".")]
for name in names:
    importlib.import_module(name)
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "modules": len(names) + 1}}))
"""


def import_seconds(package: str, runs: int = 5) -> tuple[float, int]:
    """The median time to import every module of `package` in a fresh interpreter, and how
    many modules that is.

    As in a running Home Assistant, modules are imported from their compiled bytecode: one
    untimed run first compiles both packages into a cache of the bench's own (a machine with
    PYTHONDONTWRITEBYTECODE would otherwise time our compilation against the template
    integration's installed bytecode)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    times: list[float] = []
    modules = 0
    for run in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE.format(base=BASE, package=package)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if run:  # (the first compiles)
            times.append(result["seconds"])
        modules = result["modules"]
    return statistics.median(times), modules
