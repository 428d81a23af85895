"""Home Assistant 2026.11's own checks of this repository, run by `.venv-2026.11/bin/python`.

Usage: `.venv-2026.11/bin/python tests/helpers/marketplace_check.py [ROOT]` (ROOT defaults to
the repository). Prints a JSON list of problems, `[]` when Home Assistant 2026.11's built-in
Marketplace would add and install the repository and its loader would load the integration.
It imports Home Assistant 2026.11 (`homeassistant.components.marketplace`), so it runs only in
`.venv-2026.11` (scripts/setup), never under the main `.venv`'s pytest: tests/test_marketplace.py
runs it in a subprocess.

What is applied, all from Home Assistant 2026.11.0 itself:

hacs.json (`homeassistant.components.marketplace`):
- `repositories.base.Repository.common_validate`'s condition: `enums.RepositoryFile.
  REPOSITORY_MANIFEST` ("hacs.json") must be among the root entries of the tree, else its
  `repository_manifest_not_in_root` error;
- `homeassistant.util.json.json_loads_object` on its text (what
  `Repository.async_get_repository_manifest` parses it with);
- each value through its validator in `utils.validate.REPOSITORY_MANIFEST_VALUES` (the probatio
  schemas `repositories.base.RepositoryManifest.from_dict` applies: a refused value is ignored
  by the Marketplace, with a warning), then `RepositoryManifest.from_dict` itself, every known
  key having to come out with the file's value;
- `utils.version.is_same_or_newer_version(<2026.11.0>, hacs.json's "homeassistant")`, the
  test of `Repository.can_install`.
Keys the Marketplace does not read (HACS's `country`, `render_readme`) are ignored by
`from_dict`, so they are no problem.

The integration (`repositories.integration.IntegrationRepository`, made with a stand-in
manager holding only `hass` and `core.config_path`, and a tree built from the files on disk:
the root's entries and everything below custom_components/, as GitHub lists them):
- `IntegrationRepository.try_resolve_content()` (its `resolve_content()`: a directory below
  custom_components/, with a manifest.json in it);
- `json_loads_object` on that manifest.json (as `async_get_integration_manifest` does), then
  `IntegrationRepository._use_integration_manifest()` (domain present and matching
  `utils.validate.VALID_DOMAIN` through `_validated_domain`; its `validate.errors`; then
  `content.path.local = localpath` as `async_read_content_details` does), and each of
  its values through `utils.validate.INTEGRATION_MANIFEST_VALUES` (what `_manifest_value`
  applies: a refused codeowners/name/config_flow is ignored with a warning);
- `IntegrationRepository.async_check_written_content()` on custom_components/<domain> (that is
  `repositories.integration._check_loadable_manifest`: the manifest is for that domain and its
  version passes `_is_loadable_version`, the loader's AwesomeVersion strategies);
- `IntegrationRepository.async_replaces_built_in()`: the domain must not be a built-in one.

The loader (`homeassistant.loader`, on a real `homeassistant.core.HomeAssistant` whose
configuration directory is ROOT): `async_setup(hass)` (mounts ROOT's custom_components), then
`async_get_custom_components(hass)`, i.e. `Integration.resolve_from_root` on every directory of
custom_components/: the manifest parses, the version is present and a valid AwesomeVersion
(CalVer, SemVer, SimpleVer, BuildVer or PEP 440), the version is not blocked. Its error log
lines are reported when the domain is not among the integrations it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import probatio
from aiogithubapi.models.git_tree import GitHubGitTreeEntryModel
from homeassistant import loader
from homeassistant.components import marketplace
from homeassistant.components.marketplace.enums import RepositoryFile
from homeassistant.components.marketplace.exceptions import MarketplaceError
from homeassistant.components.marketplace.repositories.base import RepositoryManifest
from homeassistant.components.marketplace.repositories.integration import (
    IntegrationRepository,
)
from homeassistant.components.marketplace.utils.validate import (
    INTEGRATION_MANIFEST_VALUES,
    REPOSITORY_MANIFEST_VALUES,
)
from homeassistant.components.marketplace.utils.version import is_same_or_newer_version
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.util.json import json_loads_object

FULL_NAME = "linky-climkit/linky_climkit"
_EN = json.loads(
    (Path(marketplace.__file__).parent / "translations" / "en.json").read_text(encoding="utf-8")
)


def _message(error: MarketplaceError) -> str:
    """The English message of a Marketplace error, as its log shows it."""
    template = _EN.get("exceptions", {}).get(error.translation_key or "", {}).get("message")
    if template is None:
        return repr(error)
    return f"{error.translation_key}: {template.format(**(error.translation_placeholders or {}))}"


def _tree(root: Path) -> list[GitHubGitTreeEntryModel]:
    """The entries GitHub's tree would list: the root's, and all below custom_components/."""
    paths: list[tuple[str, str]] = []
    for entry in root.iterdir():
        if entry.name.startswith(".") or entry.name == "__pycache__":
            continue
        paths.append((entry.name, "tree" if entry.is_dir() else "blob"))
    components = root / "custom_components"
    if components.is_dir():
        for entry in components.rglob("*"):
            relative = entry.relative_to(root)
            if "__pycache__" in relative.parts or entry.suffix == ".pyc":
                continue
            paths.append((relative.as_posix(), "tree" if entry.is_dir() else "blob"))
    return [GitHubGitTreeEntryModel({"path": path, "type": kind}) for path, kind in sorted(paths)]


def _check_hacs_json(root: Path, tree: list[GitHubGitTreeEntryModel]) -> list[str]:
    if RepositoryFile.REPOSITORY_MANIFEST not in [entry.path for entry in tree]:
        error = MarketplaceError(
            translation_domain=marketplace.DOMAIN,
            translation_key="repository_manifest_not_in_root",
            translation_placeholders={"repository": FULL_NAME},
        )
        return [f"hacs.json: {_message(error)}"]
    try:
        hacs = json_loads_object((root / RepositoryFile.REPOSITORY_MANIFEST).read_bytes())
    except ValueError as err:
        return [f"hacs.json: not a JSON object: {err}"]
    problems: list[str] = []
    refused: set[str] = set()
    for key, value in hacs.items():
        if (validator := REPOSITORY_MANIFEST_VALUES.get(key)) is None:
            continue
        try:
            validator(value)
        except probatio.Invalid as err:
            refused.add(key)
            problems.append(f"hacs.json: {key} = {value!r} is refused ({err}), it is ignored")
    parsed = RepositoryManifest.from_dict(hacs)
    problems.extend(
        f"hacs.json: RepositoryManifest.from_dict reads {key} as "
        f"{getattr(parsed, key)!r}, not {hacs[key]!r}"
        for key in REPOSITORY_MANIFEST_VALUES.keys() & hacs.keys() - refused
        if getattr(parsed, key) != hacs[key]
    )
    if isinstance(minimum := parsed.homeassistant, str) and not is_same_or_newer_version(
        HA_VERSION, minimum
    ):
        problems.append(f"hacs.json: homeassistant {minimum} is newer than {HA_VERSION}")
    return problems


async def _check_integration(
    hass: HomeAssistant, root: Path, tree: list[GitHubGitTreeEntryModel]
) -> tuple[list[str], str | None]:
    """The Marketplace's checks of an integration repository; returns the domain too."""
    manager: Any = SimpleNamespace(hass=hass, core=SimpleNamespace(config_path=str(root)))
    repository = IntegrationRepository(manager, FULL_NAME)
    repository.tree = tree
    repository.treefiles = [entry.path for entry in tree]
    hacs_file = root / RepositoryFile.REPOSITORY_MANIFEST
    # A missing or unreadable one is reported by _check_hacs_json, the defaults stay
    with contextlib.suppress(OSError, ValueError):
        repository.repository_manifest = RepositoryManifest.from_dict(
            json_loads_object(hacs_file.read_bytes())
        )
    try:
        resolved = repository.try_resolve_content()
    except MarketplaceError as err:
        return [f"integration: {_message(err)}"], None
    manifest_path = repository._integration_manifest_path()
    if not resolved:
        return [f"integration: no custom_components/<domain>/manifest.json ({manifest_path})"], None
    try:
        manifest = json_loads_object((root / manifest_path).read_bytes())
    except ValueError as err:
        return [f"{manifest_path}: not a JSON object: {err}"], None

    problems: list[str] = []
    try:
        repository._use_integration_manifest(manifest)
    except MarketplaceError as err:
        problems.append(f"{manifest_path}: {_message(err)}")
    problems.extend(f"{manifest_path}: {_message(err)}" for err in repository.validate.errors)
    # Where the install goes, set as async_read_content_details sets it after the manifest
    repository.content.path.local = repository.localpath
    for key, validator in INTEGRATION_MANIFEST_VALUES.items():
        if key not in manifest:
            continue
        try:
            validator(manifest[key])
        except probatio.Invalid as err:
            problems.append(f"{manifest_path}: {key} = {manifest[key]!r} is refused ({err})")
    domain = repository.data.domain
    if domain is None:
        return problems, None
    try:
        await repository.async_check_written_content()
    except MarketplaceError as err:
        problems.append(f"{manifest_path}: {_message(err)}")
    if await repository.async_replaces_built_in():
        problems.append(f"{manifest_path}: {domain} is the domain of a built-in integration")
    return problems, domain


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def _check(root: Path) -> list[str]:
    tree = _tree(root)
    problems = _check_hacs_json(root, tree)
    records = _Records()
    loader_logger = logging.getLogger("homeassistant.loader")
    loader_logger.setLevel(logging.ERROR)
    loader_logger.addHandler(records)
    loader_logger.propagate = False  # reported in the JSON, not on stderr
    hass = HomeAssistant(str(root))
    try:
        loader.async_setup(hass)
        integration_problems, domain = await _check_integration(hass, root, tree)
        problems += integration_problems
        found = await loader.async_get_custom_components(hass)
        if domain is not None and domain not in found:
            problems.append(
                f"loader: {domain} is not loaded: " + " | ".join(records.lines or ["not found"])
            )
    finally:
        await hass.async_stop(force=True)
    return problems


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[2]).resolve()
    logging.basicConfig(level=logging.CRITICAL)  # warnings go nowhere, problems are returned
    problems = asyncio.run(_check(root))
    print(json.dumps(problems, indent=1))


if __name__ == "__main__":
    main()
