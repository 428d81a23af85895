"""Static checks of the repository metadata: manifest, hacs.json, brand images, translations.

These tests only read files; they need no Home Assistant instance.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from awesomeversion.exceptions import AwesomeVersionException

ROOT = Path(__file__).parents[1]
DOMAIN = "linky_climkit"
INTEGRATION = ROOT / "custom_components" / DOMAIN
MANIFEST = INTEGRATION / "manifest.json"
HACS = ROOT / "hacs.json"
BRAND = INTEGRATION / "brand"
TRANSLATIONS = INTEGRATION / "translations"
LANGUAGES = ("en", "fr", "de")

MANIFEST_ALLOWED_KEYS = {
    "domain",
    "name",
    "after_dependencies",
    "codeowners",
    "config_flow",
    "dependencies",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "requirements",
    "single_config_entry",
    "version",
    "quality_scale",
}
MANIFEST_REQUIRED_KEYS = {
    "domain",
    "name",
    "version",
    "documentation",
    "issue_tracker",
    "codeowners",
}
HACS_ALLOWED_KEYS = {
    "name",
    "content_in_root",
    "country",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "persistent_directory",
    "render_readme",
    "zip_release",
}
# Entity platforms whose translation keys live under entity.<platform>.<key>.
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

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
TRANSLATION_KEY_RE = re.compile(r"""translation_key\s*=\s*["']([^"']+)["']""")
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
CODEOWNER_RE = re.compile(r"^@[A-Za-z0-9-]+(?:/[A-Za-z0-9_.-]+)?$")


def _load_json(path: Path) -> Any:
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        pytest.fail(f"{path.relative_to(ROOT)} is not valid JSON: {err}")


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Map dotted key paths to leaf values."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


# --- manifest.json -------------------------------------------------------------------------


@pytest.fixture(name="manifest")
def manifest_fixture() -> dict[str, Any]:
    manifest = _load_json(MANIFEST)
    assert isinstance(manifest, dict), "manifest.json must be a JSON object"
    return manifest


def test_manifest_key_order(manifest: dict[str, Any]) -> None:
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"], (
        f"manifest.json must start with 'domain' then 'name', got {keys[:2]}"
    )
    rest = keys[2:]
    assert rest == sorted(rest), (
        f"manifest.json keys after domain/name must be alphabetical: got {rest}, "
        f"expected {sorted(rest)}"
    )


def test_manifest_keys_known_and_required(manifest: dict[str, Any]) -> None:
    unknown = set(manifest) - MANIFEST_ALLOWED_KEYS
    assert not unknown, f"manifest.json has unknown keys: {sorted(unknown)}"
    missing = MANIFEST_REQUIRED_KEYS - set(manifest)
    assert not missing, f"manifest.json lacks required keys: {sorted(missing)}"


def test_manifest_domain_matches_folder(manifest: dict[str, Any]) -> None:
    assert manifest["domain"] == INTEGRATION.name, (
        f"manifest domain {manifest['domain']!r} differs from folder name {INTEGRATION.name!r}"
    )
    assert isinstance(manifest["name"], str), "manifest 'name' must be a string"
    assert manifest["name"].strip(), "manifest 'name' must not be empty"


@pytest.mark.parametrize("key", ["documentation", "issue_tracker"])
def test_manifest_urls(manifest: dict[str, Any], key: str) -> None:
    url = manifest.get(key)
    assert isinstance(url, str), f"manifest '{key}' must be a string, got {url!r}"
    parsed = urlparse(url)
    assert parsed.scheme == "https", f"manifest '{key}' must be an https URL, got {url!r}"
    assert parsed.netloc, f"manifest '{key}' has no host: {url!r}"
    assert not parsed.netloc.endswith("home-assistant.io"), (
        f"manifest '{key}' must point to this project, not home-assistant.io: {url!r}"
    )


def test_manifest_codeowners(manifest: dict[str, Any]) -> None:
    owners = manifest.get("codeowners")
    assert isinstance(owners, list), f"manifest 'codeowners' must be a list, got {owners!r}"
    assert owners, "manifest 'codeowners' must not be empty"
    bad = [owner for owner in owners if not isinstance(owner, str) or not CODEOWNER_RE.match(owner)]
    assert not bad, f"manifest 'codeowners' entries must look like '@name': {bad}"


def test_manifest_integration_settings(manifest: dict[str, Any]) -> None:
    assert manifest.get("config_flow") is True, (
        f"manifest 'config_flow' must be true, got {manifest.get('config_flow')!r}"
    )
    dependencies = manifest.get("dependencies", [])
    assert "recorder" in dependencies, (
        f"manifest 'dependencies' must contain 'recorder' (statistics import), got {dependencies}"
    )
    assert manifest.get("integration_type") == "service", (
        f"manifest 'integration_type' must be 'service', got {manifest.get('integration_type')!r}"
    )
    assert manifest.get("iot_class") == "cloud_polling", (
        f"manifest 'iot_class' must be 'cloud_polling', got {manifest.get('iot_class')!r}"
    )


def test_manifest_version(manifest: dict[str, Any]) -> None:
    version = manifest.get("version")
    assert isinstance(version, str), f"manifest 'version' must be a string, got {version!r}"
    if SEMVER_RE.match(version):
        return
    try:
        AwesomeVersion(
            version,
            ensure_strategy=[
                AwesomeVersionStrategy.CALVER,
                AwesomeVersionStrategy.SEMVER,
                AwesomeVersionStrategy.SIMPLEVER,
                AwesomeVersionStrategy.BUILDVER,
                AwesomeVersionStrategy.PEP440,
            ],
        )
    except AwesomeVersionException:
        pytest.fail(f"manifest 'version' {version!r} is neither SemVer nor a version HA accepts")


# --- hacs.json -----------------------------------------------------------------------------


def test_hacs_json() -> None:
    hacs = _load_json(HACS)
    assert isinstance(hacs, dict), "hacs.json must be a JSON object"
    unknown = set(hacs) - HACS_ALLOWED_KEYS
    assert not unknown, f"hacs.json has unknown keys: {sorted(unknown)}"
    assert isinstance(hacs.get("name"), str), "hacs.json must have a string 'name'"
    assert hacs["name"].strip(), "hacs.json 'name' must not be empty"
    assert hacs.get("country") == ["FR", "CH"], (
        f"hacs.json 'country' must be ['FR', 'CH'], got {hacs.get('country')!r}"
    )
    assert hacs.get("homeassistant") == "2026.10.0", (
        f"hacs.json 'homeassistant' must be '2026.10.0', got {hacs.get('homeassistant')!r}"
    )


# --- brand images --------------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "size"), [("icon.png", 256), ("icon@2x.png", 512)])
def test_brand_image(filename: str, size: int) -> None:
    path = BRAND / filename
    assert path.is_file(), f"brand image {path.relative_to(ROOT)} is missing"
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.relative_to(ROOT)} is not a PNG file"
    # First chunk must be IHDR: length(4) type(4) width(4) height(4) depth(1) colour type(1).
    assert data[12:16] == b"IHDR", f"{path.relative_to(ROOT)} has no IHDR chunk first"
    width, height, _depth, colour_type = struct.unpack(">IIBB", data[16:26])
    assert (width, height) == (size, size), (
        f"{path.relative_to(ROOT)} must be {size}×{size}, got {width}×{height}"
    )
    has_alpha = colour_type in (4, 6) or b"tRNS" in data
    assert has_alpha, (
        f"{path.relative_to(ROOT)} has no transparency (colour type {colour_type}, no tRNS)"
    )


# --- translations --------------------------------------------------------------------------


@pytest.fixture(name="translations", scope="module")
def translations_fixture() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = {}
    for lang in LANGUAGES:
        data = _load_json(TRANSLATIONS / f"{lang}.json")
        assert isinstance(data, dict), f"translations/{lang}.json must be a JSON object"
        loaded[lang] = _flatten(data)
    return loaded


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translation_values_are_strings(translations: dict[str, dict[str, Any]], lang: str) -> None:
    bad = [
        path
        for path, value in translations[lang].items()
        if not isinstance(value, str) or not value.strip()
    ]
    assert not bad, f"translations/{lang}.json has empty or non-string values at: {bad}"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translation_keys_match_en(translations: dict[str, dict[str, Any]], lang: str) -> None:
    en_keys, other_keys = set(translations["en"]), set(translations[lang])
    missing = sorted(en_keys - other_keys)
    extra = sorted(other_keys - en_keys)
    assert not missing, f"translations/{lang}.json lacks keys present in en.json: {missing}"
    assert not extra, f"translations/{lang}.json has keys absent from en.json: {extra}"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translation_placeholders_match_en(
    translations: dict[str, dict[str, Any]], lang: str
) -> None:
    mismatches = []
    for path, en_value in translations["en"].items():
        value = translations[lang].get(path)
        if not isinstance(value, str) or not isinstance(en_value, str):
            continue
        expected = sorted(PLACEHOLDER_RE.findall(en_value))
        got = sorted(PLACEHOLDER_RE.findall(value))
        if expected != got:
            mismatches.append(f"{path}: en has {expected}, {lang} has {got}")
    assert not mismatches, f"translations/{lang}.json placeholders differ from en.json:\n" + (
        "\n".join(mismatches)
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_have_no_urls(translations: dict[str, dict[str, Any]], lang: str) -> None:
    with_urls = [
        path
        for path, value in translations[lang].items()
        if isinstance(value, str) and ("http://" in value or "https://" in value)
    ]
    assert not with_urls, (
        f"translations/{lang}.json contains URLs (use a placeholder instead) at: {with_urls}"
    )


def _used_translation_keys() -> list[tuple[str, str, str]]:
    """(source file, expected en.json section, key) for every literal translation_key=."""
    used = []
    for source in sorted(INTEGRATION.rglob("*.py")):
        # linky/sensors.py, gateway/power_sensors.py hold sensor descriptions
        platform = source.stem.rsplit("_", 1)[-1].removesuffix("s")
        section = f"entity.{platform}" if platform in ENTITY_PLATFORMS else "exceptions"
        rel = str(source.relative_to(ROOT))
        used.extend(
            (rel, section, key)
            for key in TRANSLATION_KEY_RE.findall(source.read_text(encoding="utf-8"))
        )
    return used


def test_used_translation_keys_exist_in_en() -> None:
    en = _load_json(TRANSLATIONS / "en.json")
    missing = []
    for source, section, key in _used_translation_keys():
        node: Any = en
        for part in [*section.split("."), key]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            missing.append(f"{source}: translation_key={key!r} has no {section}.{key} in en.json")
        elif section == "exceptions" and "message" not in node:
            missing.append(f"{source}: en.json exceptions.{key} has no 'message'")
    assert not missing, "\n".join(missing)
