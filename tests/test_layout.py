"""Dependencies run one way (DESIGN, "Layout"): wings -> pipeline -> tariffs -> statistics ->
model; providers -> model only; wings never import each other, not even through a module of
the package's root that imports wings (type-checking imports aside)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "custom_components.linky_climkit"
ROOT = Path(__file__).parent.parent / "custom_components" / "linky_climkit"
WINGS = {"linky", "climkit", "gateway"}
# Each part's rank: a part imports only parts of a lower rank (or itself).
RANKS = {"model": 0, "statistics": 1, "tariffs": 2, "pipeline": 3, **dict.fromkeys(WINGS, 4)}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def imported(path: Path, *, type_checking: bool = True) -> Iterator[str]:
    """Every module `path` imports (without those under `if TYPE_CHECKING:` unless
    `type_checking`), as absolute dotted names; `from <package> import y` imports the
    package's part `y`."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in nodes(ast.parse(path.read_text(encoding="utf-8")), type_checking):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == PACKAGE:
                yield from (f"{base}.{alias.name}" for alias in node.names)
            else:
                yield base


def nodes(tree: ast.AST, type_checking: bool) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        guarded = isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        if guarded and not type_checking:
            yield from nodes(ast.Module(body=node.orelse, type_ignores=[]), type_checking)
            continue
        yield node
        yield from nodes(node, type_checking)


def part(module: str) -> str | None:
    """The package's top-level part a module belongs to (`linky`, `model`, `const`...)."""
    if not module.startswith(f"{PACKAGE}."):
        return None
    return module.removeprefix(f"{PACKAGE}.").split(".")[0]


def root_modules_importing_wings() -> set[str]:
    """The package's root modules (`sensor`, `data`...) that import a wing at run time."""
    return {
        path.stem
        for path in ROOT.glob("*.py")
        if path.stem not in RANKS
        and any(part(t) in WINGS for t in imported(path, type_checking=False))
    }


def violations() -> list[str]:
    found: list[str] = []
    above_wings = root_modules_importing_wings()
    for path in sorted(ROOT.rglob("*.py")):
        own = part(module_name(path)) or ""
        for target in set(imported(path)):
            other = part(target)
            where = f"{path.relative_to(ROOT)} imports {target}"
            if own == "providers":
                outside = target.split(".")[0] == "homeassistant" or (
                    other is not None and other not in {"providers", "model"}
                )
                if outside:
                    found.append(f"{where} (providers: no Home Assistant, model only)")
            elif own in WINGS and other in WINGS and other != own:
                found.append(f"{where} (wings never import each other)")
            elif own in WINGS and other in above_wings:
                found.append(f"{where} (wings never import each other: it imports wings)")
            elif own in RANKS and other in RANKS and RANKS[other] > RANKS[own]:
                found.append(f"{where} ({own} is below {other})")
    return found


def test_dependencies_run_one_way() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("climkit/x.py", "from ..gateway.coordinator import G", "wings never import"),
        ("gateway/x.py", "from .. import climkit", "wings never import"),
        ("gateway/x.py", "if TYPE_CHECKING:\n    from ..climkit import c", "wings never import"),
        ("linky/x.py", f"from {PACKAGE}.climkit import y", "wings never import"),
        ("providers/x.py", "from homeassistant.core import HomeAssistant", "providers"),
        ("providers/x.py", "from ..const import DOMAIN", "providers"),
        ("statistics/x.py", "from ..linky import state", "statistics is below linky"),
        ("tariffs/x.py", "from ..pipeline import Pipeline", "tariffs is below pipeline"),
        ("model.py", "from .climkit.state import S", "model is below climkit"),
        ("climkit/x.py", "from ..sensor import PARALLEL_UPDATES", "it imports wings"),
    ],
)
def test_each_rule_is_checked(
    module: str, source: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A module that breaks a rule is reported (in a copy of the layout)."""
    fake = tmp_path / "linky_climkit"
    (fake / module).parent.mkdir(parents=True, exist_ok=True)
    (fake / module).write_text(source + "\n", encoding="utf-8")
    (fake / "sensor.py").write_text("from .linky.sensors import linky_sensors\n", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.ROOT", fake)
    assert [v for v in violations() if expected in v] != []
