"""How many examples the hostile-payload property tests draw.

The normal suite runs a short profile (a few seconds); `LINKY_CLIMKIT_HYPOTHESIS=long` runs
10,000 examples per parser (`.ci/run` does, after the suite). Both are derandomized: a run is
reproducible, and the long run explores what the short one cannot reach.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

PROFILES = {"short": 120, "long": 10_000}
PROFILE = os.environ.get("LINKY_CLIMKIT_HYPOTHESIS", "short")
if PROFILE not in PROFILES:  # pragma: no cover - a typo in the environment
    raise ValueError(f"LINKY_CLIMKIT_HYPOTHESIS must be one of {sorted(PROFILES)}")

HOSTILE = settings(
    max_examples=PROFILES[PROFILE],
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    report_multiple_bugs=False,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)

# Hypothesis 6.170 on Python 3.14 warns about its own thread-local PRNG; unrelated to us.
QUIET = pytest.mark.filterwarnings(
    "ignore:It looks like `register_random`:hypothesis.errors.HypothesisWarning"
)
