"""Static checks of what publishes the integration: CI workflows, quality scale, project docs,
issue templates and scripts/release.

The quality-scale checks work both ways: a rule marked done that the code does not do fails,
and so does a rule the code does that is not marked done. Change quality_scale.yaml with the
code. These tests need no Home Assistant instance.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.helpers.entity import EntityDescription

from custom_components.linky_climkit.storage import ENTRY_STORES

ROOT = Path(__file__).parents[1]
DOMAIN = "linky_climkit"
PACKAGE = f"custom_components.{DOMAIN}"
INTEGRATION = ROOT / "custom_components" / DOMAIN
MANIFEST = INTEGRATION / "manifest.json"
QUALITY_SCALE = INTEGRATION / "quality_scale.yaml"
EN_JSON = INTEGRATION / "translations" / "en.json"
WORKFLOWS = ROOT / ".github" / "workflows"
ISSUE_TEMPLATES = ROOT / ".github" / "ISSUE_TEMPLATE"
SCRIPTS = ROOT / "scripts"
CHANGELOG = ROOT / "CHANGELOG.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
SECURITY = ROOT / "SECURITY.md"
README = ROOT / "README.md"
ZIP_NAME = f"{DOMAIN}.zip"

# script/hassfest/quality_scale.py (Home Assistant 2026.10).
QUALITY_SCALE_RULES: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
ALL_RULES = [rule for rules in QUALITY_SCALE_RULES.values() for rule in rules]
STATUSES = {"done", "todo", "exempt"}

# Entity platforms whose descriptions are translated under entity.<platform>.<key>.
ENTITY_PLATFORMS = {
    "binary_sensor",
    "button",
    "calendar",
    "date",
    "datetime",
    "event",
    "number",
    "select",
    "sensor",
    "switch",
    "text",
    "time",
    "update",
}
DISCOVERY_MANIFEST_KEYS = {"bluetooth", "dhcp", "homekit", "mqtt", "ssdp", "usb", "zeroconf"}
REQUIRED_TRIGGERS = ("push", "pull_request", "schedule", "workflow_dispatch")
KEEP_A_CHANGELOG_TYPES = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
VERSION_HEADING_RE = re.compile(
    r"^## \[(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\] - (\d{4}-\d{2}-\d{2})$"
)
SEMVER_PREFIX_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _load_yaml(path: Path) -> Any:
    assert path.is_file(), f"{_rel(path)} is missing"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        pytest.fail(f"{_rel(path)} is not valid YAML: {err}")


def _manifest() -> dict[str, Any]:
    data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _package_sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in sorted(INTEGRATION.rglob("*.py"))}


def _code_lines(text: str) -> str:
    """The text without comment lines (for shell scripts)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


# --- workflows -----------------------------------------------------------------------------


def _workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def _workflow(name: str) -> dict[str, Any]:
    data = _load_yaml(WORKFLOWS / name)
    assert isinstance(data, dict), f".github/workflows/{name} must be a mapping"
    return data


def _triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """The `on:` section; YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True."""
    raw = workflow.get("on", workflow.get(True))
    if isinstance(raw, str):
        return {raw: None}
    if isinstance(raw, list):
        return dict.fromkeys(raw)
    assert isinstance(raw, dict), f"workflow {workflow.get('name')!r} has no 'on' triggers"
    return raw


def _steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def _uses(workflow: dict[str, Any], action: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (job_id, step)
        for job_id, step in _steps(workflow)
        if str(step.get("uses", "")).split("@")[0] == action
    ]


def _runs(workflow: dict[str, Any], job_id: str) -> list[str]:
    return [str(step["run"]) for step in workflow["jobs"][job_id].get("steps", []) if "run" in step]


def _python_minor() -> str:
    """'3.14' from pyproject's requires-python (>=3.14.2)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    match = re.search(r"(\d+)\.(\d+)", pyproject["project"]["requires-python"])
    assert match is not None
    return f"{match[1]}.{match[2]}"


def test_workflows_exist() -> None:
    names = {path.name for path in _workflow_files()}
    missing = {"validate.yml", "lint.yml", "tests.yml", "release.yml"} - names
    assert not missing, f".github/workflows/ lacks {sorted(missing)}"


@pytest.mark.parametrize("path", _workflow_files(), ids=lambda path: path.name)
def test_workflow_is_well_formed(path: Path) -> None:
    workflow = _load_yaml(path)
    assert isinstance(workflow, dict), f"{_rel(path)} must be a mapping"
    assert workflow.get("name"), f"{_rel(path)} has no name"
    assert _triggers(workflow), f"{_rel(path)} has no triggers"
    jobs = workflow.get("jobs")
    assert isinstance(jobs, dict), f"{_rel(path)} has no jobs"
    assert jobs, f"{_rel(path)} has no jobs"
    for job_id, job in jobs.items():
        assert isinstance(job, dict), f"{_rel(path)}: job {job_id} must be a mapping"
        assert job.get("runs-on"), f"{_rel(path)}: job {job_id} has no runs-on"
        steps = job.get("steps")
        assert isinstance(steps, list), f"{_rel(path)}: job {job_id} has no steps"
        assert steps, f"{_rel(path)}: job {job_id} has no steps"
        for index, step in enumerate(steps):
            assert isinstance(step, dict), f"{_rel(path)}: {job_id} step {index} is not a mapping"
            assert ("uses" in step) != ("run" in step), (
                f"{_rel(path)}: {job_id} step {index} needs exactly one of 'uses' and 'run'"
            )
            if "uses" in step:
                assert "@" in str(step["uses"]), (
                    f"{_rel(path)}: {job_id} step {index} uses {step['uses']!r} without a ref"
                )


@pytest.mark.parametrize("name", ["validate.yml", "lint.yml", "tests.yml"])
def test_checks_run_on_push_pr_schedule_and_dispatch(name: str) -> None:
    triggers = _triggers(_workflow(name))
    missing = [trigger for trigger in REQUIRED_TRIGGERS if trigger not in triggers]
    assert not missing, f"{name} lacks the triggers {missing}"
    schedule = triggers["schedule"]
    assert isinstance(schedule, list), f"{name}: schedule must be a list of crons"
    assert schedule, f"{name}: schedule must be a list of crons"
    for entry in schedule:
        fields = str(entry.get("cron", "")).split()
        assert len(fields) == 5, f"{name}: invalid cron {entry!r}"
        assert fields[2:] == ["*", "*", "*"], f"{name}: the schedule must be daily, got {entry!r}"


def test_validate_runs_hacs_and_hassfest() -> None:
    workflow = _workflow("validate.yml")
    hacs = _uses(workflow, "hacs/action")
    assert hacs, "validate.yml has no step using hacs/action"
    assert any((step.get("with") or {}).get("category") == "integration" for _, step in hacs), (
        "validate.yml: hacs/action must run with category: integration"
    )
    assert not any("ignore" in (step.get("with") or {}) for _, step in hacs), (
        "validate.yml: hacs/action must not ignore checks (HACS' default store refuses that)"
    )
    assert _uses(workflow, "home-assistant/actions/hassfest"), (
        "validate.yml has no step using home-assistant/actions/hassfest"
    )
    checkouts = {job_id for job_id, _ in _uses(workflow, "actions/checkout")}
    users = {job_id for job_id, _ in [*hacs, *_uses(workflow, "home-assistant/actions/hassfest")]}
    assert users <= checkouts, f"validate.yml jobs {sorted(users - checkouts)} do not check out"


@pytest.mark.parametrize(("name", "script"), [("lint.yml", "lint"), ("tests.yml", "test")])
def test_lint_and_tests_run_the_readme_scripts(name: str, script: str) -> None:
    workflow = _workflow(name)
    python = _python_minor()
    found = False
    for job_id in workflow["jobs"]:
        runs = _runs(workflow, job_id)
        setup = [i for i, run in enumerate(runs) if re.search(r"(^|\s)scripts/setup\b", run)]
        target = [i for i, run in enumerate(runs) if re.search(rf"(^|\s)scripts/{script}\b", run)]
        if not (setup and target):
            continue
        assert setup[0] < target[0], f"{name}: scripts/setup must run before scripts/{script}"
        versions = [
            str((step.get("with") or {}).get("python-version"))
            for step in workflow["jobs"][job_id]["steps"]
            if str(step.get("uses", "")).startswith("actions/setup-python@")
        ]
        assert versions == [python], (
            f"{name}: job {job_id} must set up Python {python} (pyproject's requires-python), "
            f"got {versions}"
        )
        found = True
    assert found, f"{name} has no job running scripts/setup then scripts/{script}"
    assert os.access(SCRIPTS / script, os.X_OK), f"scripts/{script} is not executable"
    assert f"scripts/{script}" in README.read_text(encoding="utf-8"), (
        f"README.md no longer documents scripts/{script}"
    )


def test_tests_workflow_uploads_coverage() -> None:
    workflow = _workflow("tests.yml")
    runs = [run for job_id in workflow["jobs"] for run in _runs(workflow, job_id)]
    assert any("scripts/test" in run and "--cov-report=xml" in run for run in runs), (
        "tests.yml must run scripts/test --cov-report=xml"
    )
    uploads = _uses(workflow, "actions/upload-artifact")
    assert any(
        "coverage.xml" in str((step.get("with") or {}).get("path")) for _, step in uploads
    ), "tests.yml must upload coverage.xml with actions/upload-artifact"


def test_release_workflow_checks_version_and_attaches_zip() -> None:
    workflow = _workflow("release.yml")
    triggers = _triggers(workflow)
    on_release = "published" in ((triggers.get("release") or {}).get("types") or [])
    on_tag = any(
        str(tag).startswith("v") for tag in ((triggers.get("push") or {}).get("tags") or [])
    )
    assert on_release or on_tag, "release.yml must run on release: published or a v* tag push"
    assert (workflow.get("permissions") or {}).get("contents") == "write", (
        "release.yml needs permissions: contents: write to upload the zip"
    )
    runs = [run for job_id in workflow["jobs"] for run in _runs(workflow, job_id)]
    assert any(
        "manifest.json" in run or "MANIFEST" in run
        for run in runs
        if "version" in run and re.search(r"\$\{?TAG#v\}?|tag_name", run)
    ), "release.yml must compare the tag (without v) with manifest.json's version"
    assert any("manifest.json" in str(v) for v in _walk(workflow)), (
        "release.yml must read custom_components/linky_climkit/manifest.json"
    )
    zips = [run for run in runs if re.search(r"\bzip\b", run) and ZIP_NAME in run]
    assert zips, f"release.yml must build {ZIP_NAME}"
    assert any(f"custom_components/{DOMAIN}" in run for run in zips), (
        f"release.yml must zip the contents of custom_components/{DOMAIN}"
    )
    uploads = _uses(workflow, "softprops/action-gh-release")
    assert any(ZIP_NAME in str((step.get("with") or {}).get("files")) for _, step in uploads), (
        f"release.yml must attach {ZIP_NAME} to the release"
    )


def _walk(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
    else:
        yield node


# --- quality_scale.yaml --------------------------------------------------------------------


@pytest.fixture(name="rules", scope="module")
def rules_fixture() -> dict[str, Any]:
    data = _load_yaml(QUALITY_SCALE)
    assert isinstance(data, dict), "quality_scale.yaml must be a mapping"
    assert set(data) == {"rules"}, f"quality_scale.yaml must only hold 'rules', got {set(data)}"
    rules = data["rules"]
    assert isinstance(rules, dict), "quality_scale.yaml 'rules' must be a mapping"
    return rules


def _status(rules: dict[str, Any], rule: str) -> str:
    value = rules[rule]
    return str(value["status"] if isinstance(value, dict) else value)


def test_quality_scale_lists_every_rule(rules: dict[str, Any]) -> None:
    missing = [rule for rule in ALL_RULES if rule not in rules]
    unknown = sorted(set(rules) - set(ALL_RULES))
    assert not missing, f"quality_scale.yaml lacks the rules {missing}"
    assert not unknown, f"quality_scale.yaml has unknown rules {unknown}"


def test_quality_scale_statuses(rules: dict[str, Any]) -> None:
    """hassfest's schema: done/todo, or {status, comment}; exempt always has a comment."""
    errors = []
    for rule, value in rules.items():
        if isinstance(value, str):
            if value not in {"done", "todo"}:
                errors.append(f"{rule}: {value!r} (exempt needs {{status, comment}})")
            continue
        if not isinstance(value, dict) or set(value) != {"status", "comment"}:
            errors.append(f"{rule}: must be done, todo or a mapping with status and comment")
            continue
        if value["status"] not in STATUSES:
            errors.append(f"{rule}: unknown status {value['status']!r}")
        if not isinstance(value["comment"], str) or not value["comment"].strip():
            errors.append(f"{rule}: the comment must be a non-empty string")
    assert not errors, "quality_scale.yaml:\n" + "\n".join(errors)


def _defines(path: Path, function: str) -> bool:
    if not path.is_file():
        return False
    pattern = rf"^\s*async\s+def\s+{re.escape(function)}\s*\("
    return re.search(pattern, path.read_text(encoding="utf-8"), re.MULTILINE) is not None


def _config_flow() -> bool:
    return _manifest().get("config_flow") is True and (INTEGRATION / "config_flow.py").is_file()


def _reauthentication_flow() -> bool:
    return _defines(INTEGRATION / "config_flow.py", "async_step_reauth")


def _reconfiguration_flow() -> bool:
    return _defines(INTEGRATION / "config_flow.py", "async_step_reconfigure")


def _diagnostics() -> bool:
    return _defines(INTEGRATION / "diagnostics.py", "async_get_config_entry_diagnostics")


def _repair_issues() -> bool:
    creates = any(
        re.search(r"\basync_create_issue\s*\(", text) for text in _package_sources().values()
    )
    if creates:
        issues = json.loads(EN_JSON.read_text(encoding="utf-8")).get("issues")
        assert issues, "issues are created but translations/en.json has no 'issues' section"
    return creates


def _platform_of(stem: str) -> str | None:
    """sensor.py and a wing's sensors.py (linky/sensors.py) hold sensor entities."""
    matches = [p for p in ENTITY_PLATFORMS if stem in (p, f"{p}s")]
    return max(matches, key=len) if matches else None


def _entity_modules() -> list[str]:
    return [
        f"{PACKAGE}.{'.'.join(path.relative_to(INTEGRATION).with_suffix('').parts)}"
        for path in sorted(INTEGRATION.rglob("*.py"))
        if _platform_of(path.stem) is not None
    ]


def _descriptions(node: Any, seen: set[int]) -> Iterator[EntityDescription]:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, EntityDescription):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _descriptions(value, seen)
    elif isinstance(node, list | tuple | set | frozenset):
        for value in node:
            yield from _descriptions(value, seen)


def _description_calls(tree: ast.AST) -> Iterator[ast.Call]:
    """Calls like SensorEntityDescription(key=...) or LinkySensorDescription(key=...)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name.endswith("Description") and any(kw.arg == "key" for kw in node.keywords):
            yield node


def _entity_translations() -> bool:
    """Every entity description has a translation_key found in en.json, and no entity is
    named in code (`name=` in a description or `_attr_name`)."""
    en = json.loads(EN_JSON.read_text(encoding="utf-8"))
    found = 0
    for module_name in _entity_modules():
        module = importlib.import_module(module_name)
        platform = _platform_of(module_name.rsplit(".", 1)[1])
        assert platform is not None
        translated = en.get("entity", {}).get(platform, {})
        for description in _descriptions(list(vars(module).values()), set()):
            found += 1
            key = description.translation_key
            if key is None or "name" not in translated.get(key, {}):
                return False
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        for call in _description_calls(ast.parse(source)):
            keywords = {kw.arg for kw in call.keywords}
            if "translation_key" not in keywords or "name" in keywords:
                return False
        if re.search(r"\b_attr_name\s*[:=]", source):
            return False
    return found > 0


def _strict_typing() -> bool:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mypy = pyproject.get("tool", {}).get("mypy", {})
    covered = PACKAGE in mypy.get("packages", []) or any(
        f"custom_components/{DOMAIN}" in str(f) for f in mypy.get("files", [])
    )
    lint = _code_lines((SCRIPTS / "lint").read_text(encoding="utf-8"))
    return mypy.get("strict") is True and covered and re.search(r"\bmypy\b", lint) is not None


def _icon_translations() -> bool:
    return (INTEGRATION / "icons.json").is_file()


def _platform_modules() -> list[Path]:
    return [path for path in sorted(INTEGRATION.glob("*.py")) if path.stem in ENTITY_PLATFORMS]


def _parallel_updates() -> bool:
    platforms = _platform_modules()
    return bool(platforms) and all(
        re.search(r"^PARALLEL_UPDATES\s*=", path.read_text(encoding="utf-8"), re.MULTILINE)
        for path in platforms
    )


def _runtime_data() -> bool:
    init = (INTEGRATION / "__init__.py").read_text(encoding="utf-8")
    uses_hass_data = any(
        re.search(r"hass\.data(\[DOMAIN\]|\.setdefault\(\s*DOMAIN\b)", text)
        for text in _package_sources().values()
    )
    return re.search(r"\.runtime_data\s*=", init) is not None and not uses_hass_data


def _test_coverage() -> bool:
    match = re.search(r"--cov-fail-under[= ](\d+)", (SCRIPTS / "test").read_text(encoding="utf-8"))
    return match is not None and int(match[1]) >= 95


def _config_entry_unloading() -> bool:
    return _defines(INTEGRATION / "__init__.py", "async_unload_entry")


def _entity_classes() -> Iterator[tuple[Path, ast.ClassDef]]:
    for path, text in _package_sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and any(
                (base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")).endswith(
                    "Entity"
                )
                for base in (b.value if isinstance(b, ast.Subscript) else b for b in node.bases)
            ):
                yield path, node


def _class_assigns(node: ast.ClassDef, attribute: str) -> list[ast.expr]:
    """Values assigned to `attribute` in the class body or to self.<attribute> in methods."""
    values: list[ast.expr] = []
    for child in ast.walk(node):
        if isinstance(child, ast.Assign):
            targets, value = child.targets, child.value
        elif isinstance(child, ast.AnnAssign) and child.value is not None:
            targets, value = [child.target], child.value
        else:
            continue
        for target in targets:
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
            if name == attribute:
                values.append(value)
    return values


def _has_entity_name() -> bool:
    classes = list(_entity_classes())
    return bool(classes) and all(
        any(
            isinstance(value, ast.Constant) and value.value is True
            for value in _class_assigns(node, "_attr_has_entity_name")
        )
        for _, node in classes
    )


def _entity_unique_id() -> bool:
    classes = list(_entity_classes())
    return bool(classes) and all(_class_assigns(node, "_attr_unique_id") for _, node in classes)


def _discovery() -> bool:
    return bool(DISCOVERY_MANIFEST_KEYS & set(_manifest()))


def _inject_websession() -> bool:
    sources = _package_sources().values()
    creates_session = any(re.search(r"\bClientSession\s*\(", text) for text in sources)
    uses_shared = any(
        re.search(r"\basync_(get|create)_clientsession\s*\(", text) for text in sources
    )
    return uses_shared and not creates_session


# What the code does, per rule a test can see; each rule is done exactly when its check holds.
CODE_CHECKS: dict[str, Callable[[], bool]] = {
    "config-flow": _config_flow,
    "reauthentication-flow": _reauthentication_flow,
    "reconfiguration-flow": _reconfiguration_flow,
    "diagnostics": _diagnostics,
    "repair-issues": _repair_issues,
    "entity-translations": _entity_translations,
    "strict-typing": _strict_typing,
    "icon-translations": _icon_translations,
    "parallel-updates": _parallel_updates,
    "runtime-data": _runtime_data,
    "test-coverage": _test_coverage,
    "config-entry-unloading": _config_entry_unloading,
    "has-entity-name": _has_entity_name,
    "entity-unique-id": _entity_unique_id,
    "discovery": _discovery,
    "inject-websession": _inject_websession,
}


@pytest.mark.parametrize("rule", sorted(CODE_CHECKS))
def test_quality_scale_matches_code(rules: dict[str, Any], rule: str) -> None:
    status = _status(rules, rule)
    if CODE_CHECKS[rule]():
        assert status == "done", (
            f"the code now does {rule!r}: mark it done in quality_scale.yaml (it is {status})"
        )
    else:
        assert status != "done", (
            f"quality_scale.yaml marks {rule!r} done but the code does not do it: "
            "mark it todo (or exempt, with a comment) or implement it"
        )


def test_quality_scale_check_helpers_see_something() -> None:
    """Guards the checks themselves: each platform module is found and imported."""
    assert _entity_modules(), "no entity platform module found"
    assert _platform_modules(), "no platform module found"
    assert list(_entity_classes()), "no entity class found"


# --- CHANGELOG, CONTRIBUTING, SECURITY ----------------------------------------------------


def test_changelog_follows_keep_a_changelog() -> None:
    text = CHANGELOG.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# Changelog", "CHANGELOG.md must start with '# Changelog'"
    assert "keepachangelog.com" in text, "CHANGELOG.md must link to Keep a Changelog"
    sections = [line for line in lines if line.startswith("## ")]
    assert sections, "CHANGELOG.md has no sections"
    assert sections[0] == "## [Unreleased]", "the first section must be '## [Unreleased]'"
    versions: list[tuple[int, ...]] = []
    for heading in sections[1:]:
        match = VERSION_HEADING_RE.match(heading)
        assert match, f"CHANGELOG.md: {heading!r} is not '## [x.y.z] - YYYY-MM-DD'"
        date.fromisoformat(match[2])
        prefix = SEMVER_PREFIX_RE.match(match[1])
        assert prefix is not None
        versions.append(tuple(int(part) for part in prefix.groups()))
    assert versions == sorted(versions, reverse=True), "CHANGELOG.md versions must be newest first"
    kinds = {line[4:].strip() for line in lines if line.startswith("### ")}
    unknown = kinds - KEEP_A_CHANGELOG_TYPES
    assert not unknown, f"CHANGELOG.md has non-standard change types {sorted(unknown)}"
    for line in lines:
        if line.startswith("[") and "]: " in line:
            label = line[1 : line.index("]")]
            assert label == "Unreleased" or re.match(r"^\d+\.\d+\.\d+", label), line


def test_changelog_documents_the_manifest_version_once_released() -> None:
    text = CHANGELOG.read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d[^\]]*)\]", text, re.MULTILINE)
    if released:
        assert _manifest()["version"] == released[0], (
            f"manifest.json's version {_manifest()['version']} is not the newest release "
            f"{released[0]} of CHANGELOG.md: use scripts/release"
        )


def test_contributing() -> None:
    text = CONTRIBUTING.read_text(encoding="utf-8")
    for script in ("scripts/setup", "scripts/test", "scripts/lint", "scripts/develop"):
        assert script in text, f"CONTRIBUTING.md does not mention {script}"
    assert "tests/simulators" in text, "CONTRIBUTING.md does not mention the simulators"
    blocks = re.findall(r"```[^\n]*\n(.*?)```", text, re.DOTALL)
    diagrams = [block for block in blocks if len(re.findall(r"▶|▼|-->|->|→", block)) >= 3]
    assert diagrams, "CONTRIBUTING.md has no diagram of the pipeline"
    assert any("importer" in block and "providers" in block for block in diagrams), (
        "the CONTRIBUTING.md diagram must show the providers and the importer"
    )


def test_contributing_lists_every_module() -> None:
    text = CONTRIBUTING.read_text(encoding="utf-8")
    missing = [
        str(path.relative_to(INTEGRATION))
        for path in sorted(INTEGRATION.rglob("*.py"))
        if f"`{path.relative_to(INTEGRATION)}`" not in text
    ]
    assert not missing, f"CONTRIBUTING.md ('Where things live') does not list {missing}"


def test_security_policy() -> None:
    text = SECURITY.read_text(encoding="utf-8")
    assert "security/advisories/new" in text, "SECURITY.md must link to a private advisory"
    assert ".storage/core.config_entries" in text
    keys = set()
    for source in _package_sources().values():
        keys.update(f"{DOMAIN}.{m}" for m in re.findall(r'f?"\{DOMAIN\}\.([\w.{}]+)"', source))
        keys.update(re.findall(rf'"({DOMAIN}\.[\w.]+)"', source))
    assert keys, "no Store key found in the package"
    documented = {
        key.replace("{entry.entry_id}", "<entry_id>")
        .replace("{entry_id}", "<entry_id>")
        .replace("{provider}", "*")
        for key in keys
        if "{kind}" not in key
    }
    documented |= {f"{DOMAIN}.{kind}.<entry_id>" for kind in ENTRY_STORES}
    missing = [
        key
        for key in sorted(documented)
        if not re.search(re.escape(key).replace(r"\*", r"\w+"), text)
    ]
    assert not missing, f"SECURITY.md does not say what is stored in {missing}"
    assert "recorder" in text, "SECURITY.md must say the statistics are in the recorder database"
    assert "diagnostics" in text.lower(), "SECURITY.md must say what diagnostics redact"


# --- issue templates -----------------------------------------------------------------------


def _issue_template(name: str) -> dict[str, Any]:
    data = _load_yaml(ISSUE_TEMPLATES / name)
    assert isinstance(data, dict), f"{name} must be a mapping"
    return data


@pytest.mark.parametrize("name", ["bug_report.yml", "feature_request.yml"])
def test_issue_form(name: str) -> None:
    form = _issue_template(name)
    for key in ("name", "description", "body"):
        assert form.get(key), f"{name} has no {key}"
    ids = [item.get("id") for item in form["body"] if item.get("type") != "markdown"]
    assert all(ids), f"{name}: every input needs an id"
    assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
    for item in form["body"]:
        assert item.get("type") in {"markdown", "textarea", "input", "dropdown", "checkboxes"}
        assert item.get("attributes"), f"{name}: {item.get('id')} has no attributes"


def test_bug_report_asks_for_diagnostics() -> None:
    form = _issue_template("bug_report.yml")
    diagnostics = [
        item
        for item in form["body"]
        if item.get("type") == "textarea"
        and "diagnostics" in str(item.get("attributes", {}).get("label", "")).lower()
    ]
    assert diagnostics, "bug_report.yml must ask for the entry's diagnostics"
    assert diagnostics[0].get("validations", {}).get("required") is True, (
        "the diagnostics field of bug_report.yml must be required"
    )


def test_issue_template_config() -> None:
    config = _issue_template("config.yml")
    assert isinstance(config.get("blank_issues_enabled"), bool)
    for link in config.get("contact_links", []):
        assert {"name", "url", "about"} <= set(link), f"incomplete contact link {link}"
        assert str(link["url"]).startswith("https://"), link


# --- scripts/release -----------------------------------------------------------------------


@pytest.fixture(name="release_repo")
def release_repo_fixture(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A throw-away git repository holding copies of manifest.json and CHANGELOG.md."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    manifest = repo / "custom_components" / DOMAIN / "manifest.json"
    manifest.parent.mkdir(parents=True)
    shutil.copy(MANIFEST, manifest)
    changelog = CHANGELOG.read_text(encoding="utf-8")
    if not re.search(r"## \[Unreleased\]\n+### ", changelog):  # nothing to release: add one
        changelog = changelog.replace(
            "## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n\n- A fix.\n", 1
        )
    (repo / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }
    for args in (["init", "--quiet"], ["add", "--all"], ["commit", "--quiet", "-m", "Initial"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return repo, env


def _release(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "release"), "--root", str(repo), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _next_version() -> str:
    match = SEMVER_PREFIX_RE.match(_manifest()["version"])
    assert match is not None
    major, minor, patch = (int(part) for part in match.groups())
    return f"{major}.{minor}.{patch + 1}"


def test_release_script(release_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = release_repo
    version = _next_version()
    manifest = repo / "custom_components" / DOMAIN / "manifest.json"
    before_manifest = manifest.read_text(encoding="utf-8")
    before_changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    unreleased = before_changelog.split("## [Unreleased]\n", 1)[1]
    unreleased = re.split(r"^## |^\[Unreleased\]: ", unreleased, maxsplit=1, flags=re.M)[0]

    result = _release(repo, env, "--date", "2026-11-23", f"v{version}")
    assert result.returncode == 0, result.stderr

    after_manifest = manifest.read_text(encoding="utf-8")
    assert json.loads(after_manifest)["version"] == version
    old_version = json.loads(before_manifest)["version"]
    assert after_manifest == before_manifest.replace(
        f'"version": "{old_version}"', f'"version": "{version}"'
    ), "scripts/release must change nothing but the version in manifest.json"

    changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    heading = f"## [{version}] - 2026-11-23"
    assert f"## [Unreleased]\n\n{heading}\n" in changelog, (
        "the new version must follow an empty Unreleased section"
    )
    released = changelog.split(heading, 1)[1]
    assert released.startswith(f"\n\n{unreleased.strip()}\n"), (
        "the Unreleased entries must move under the new version"
    )
    assert f"[Unreleased]: https://github.com/linky-climkit/{DOMAIN}/compare/v{version}...HEAD" in (
        changelog
    )

    git = ["git", "-C", str(repo)]
    tags = subprocess.run([*git, "tag", "--list"], env=env, capture_output=True, text=True)
    assert f"v{version}" in tags.stdout.split()
    tagged = subprocess.run(
        [*git, "show", f"v{version}:custom_components/{DOMAIN}/manifest.json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(tagged.stdout)["version"] == version, "the tag must hold the bump"
    status = subprocess.run(
        [*git, "status", "--porcelain"], env=env, capture_output=True, text=True
    )
    assert not status.stdout.strip(), "scripts/release must leave a clean work tree"

    again = _release(repo, env, f"v{version}")
    assert again.returncode != 0, "releasing the same version twice must fail"


@pytest.mark.parametrize("case", ["older", "not_a_version", "dirty", "dry_run"])
def test_release_script_refuses_without_writing(
    release_repo: tuple[Path, dict[str, str]], case: str
) -> None:
    repo, env = release_repo
    manifest = repo / "custom_components" / DOMAIN / "manifest.json"
    version = _next_version()
    if case == "older":
        args = ["0.0.0"]
    elif case == "not_a_version":
        args = ["1.2"]
    elif case == "dirty":
        (repo / "CHANGELOG.md").write_text(
            (repo / "CHANGELOG.md").read_text(encoding="utf-8") + "\nLocal edit.\n",
            encoding="utf-8",
        )
        args = [version]
    else:
        args = ["--dry-run", version]
    before = (manifest.read_text(encoding="utf-8"), (repo / "CHANGELOG.md").read_text("utf-8"))

    result = _release(repo, env, *args)

    assert (result.returncode == 0) == (case == "dry_run"), result.stderr
    after = (manifest.read_text(encoding="utf-8"), (repo / "CHANGELOG.md").read_text("utf-8"))
    assert after == before, f"scripts/release wrote files ({case})"
    tags = subprocess.run(
        ["git", "-C", str(repo), "tag", "--list"], env=env, capture_output=True, text=True
    )
    assert not tags.stdout.strip(), f"scripts/release created a tag ({case})"
