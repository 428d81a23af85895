"""Home Assistant 2026.11's built-in Marketplace and its loader accept hacs.json and manifest.json.

tests/helpers/marketplace_check.py applies Home Assistant 2026.11.0's own validators (its
docstring lists them); it runs in `.venv-2026.11` (scripts/setup), in a subprocess, since this
test suite runs under Home Assistant 2026.10. Without that virtual environment the tests are
skipped, except in CI (the `CI` environment variable), where scripts/setup has built it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]
CHECKER = ROOT / "tests" / "helpers" / "marketplace_check.py"
PYTHON = ROOT / ".venv-2026.11" / "bin" / "python"
DOMAIN = "linky_climkit"


def _check(root: Path) -> list[str]:
    if not PYTHON.is_file():
        message = f"{PYTHON.relative_to(ROOT)} is missing: run scripts/setup"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [str(PYTHON), str(CHECKER), str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    problems = json.loads(result.stdout)
    assert isinstance(problems, list)
    return problems


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """hacs.json and custom_components/ copied to tmp_path, without bytecode."""
    shutil.copy(ROOT / "hacs.json", tmp_path / "hacs.json")
    shutil.copytree(
        ROOT / "custom_components",
        tmp_path / "custom_components",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return tmp_path


def _edit(path: Path, **changes: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_repository_passes_the_2026_11_marketplace_and_loader() -> None:
    assert _check(ROOT) == []


def test_an_unchanged_copy_passes(repo_copy: Path) -> None:
    assert _check(repo_copy) == []


def test_hacs_json_values_the_marketplace_refuses(repo_copy: Path) -> None:
    _edit(repo_copy / "hacs.json", name=["Linky"], homeassistant="soon", zip_release="yes")
    problems = _check(repo_copy)
    assert len(problems) == 3, problems
    for key in ("name", "homeassistant", "zip_release"):
        assert any(problem.startswith(f"hacs.json: {key} = ") for problem in problems), problems


def test_hacs_json_asking_for_a_newer_home_assistant(repo_copy: Path) -> None:
    _edit(repo_copy / "hacs.json", homeassistant="2099.1.0")
    assert _check(repo_copy) == ["hacs.json: homeassistant 2099.1.0 is newer than 2026.11.0"]


def test_hacs_json_missing_or_not_an_object(repo_copy: Path) -> None:
    (repo_copy / "hacs.json").write_text("[]", encoding="utf-8")
    assert [problem[:30] for problem in _check(repo_copy)] == ["hacs.json: not a JSON object: "]
    (repo_copy / "hacs.json").unlink()
    assert [problem.split(":")[1].strip() for problem in _check(repo_copy)] == [
        "repository_manifest_not_in_root"
    ]


def test_a_manifest_without_version_is_refused_by_marketplace_and_loader(repo_copy: Path) -> None:
    _edit(repo_copy / "custom_components" / DOMAIN / "manifest.json", version=None)
    problems = _check(repo_copy)
    assert any("installed_manifest_without_version" in problem for problem in problems), problems
    assert any(
        problem.startswith(f"loader: {DOMAIN} is not loaded")
        and "does not have a version key" in problem
        for problem in problems
    ), problems


def test_a_manifest_with_an_invalid_version_or_bad_values(repo_copy: Path) -> None:
    _edit(
        repo_copy / "custom_components" / DOMAIN / "manifest.json",
        version="latest and greatest",
        codeowners="@linky-climkit",
        config_flow="yes",
    )
    problems = _check(repo_copy)
    assert any("installed_manifest_without_version" in problem for problem in problems), problems
    assert any("does not have a valid version key" in problem for problem in problems), problems
    assert any(": codeowners = " in problem for problem in problems), problems
    assert any(": config_flow = " in problem for problem in problems), problems


def test_a_manifest_without_a_valid_domain(repo_copy: Path) -> None:
    manifest = repo_copy / "custom_components" / DOMAIN / "manifest.json"
    _edit(manifest, domain=None)
    assert any("integration_manifest_key_missing" in problem for problem in _check(repo_copy))
    _edit(manifest, domain="Linky Climkit")
    assert any("invalid_domain" in problem for problem in _check(repo_copy))
