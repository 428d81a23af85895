"""Figures and targets, the printed table and the JSON file.

Pure Python (no Home Assistant import), so `tests/test_bench.py` checks this machinery fast.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

DEFAULT_JSON = "bench-results/latest.json"
JSON_ENV = "BENCH_JSON"
SCHEMA = 1


class Status(StrEnum):
    """How a figure compares with its target."""

    OK = "ok"
    MISSED = "MISSED"
    INFO = "info"  # a figure without a target (context for the others)
    NOT_APPLICABLE = "n/a"
    ERROR = "ERROR"  # the scenario did not run to its end

    @property
    def fails(self) -> bool:
        """Whether this status makes `scripts/bench` exit non-zero."""
        return self in (Status.MISSED, Status.ERROR)


@dataclass(slots=True)
class Figure:
    """One row of the table."""

    scenario: str
    figure: str
    measured: str
    target: str
    status: Status
    value: float | None = None
    limit: float | None = None
    unit: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["status"] = str(self.status)
        return data


def _number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


class Results:
    """Every figure of a run, in the order measured."""

    def __init__(self) -> None:
        """An empty run."""
        self.figures: list[Figure] = []
        self.order: list[str] = []  # scenarios in the order of the table
        self._finishers: list[Callable[[Results], None]] = []
        self._finished = False

    def at_finish(self, finisher: Callable[[Results], None]) -> None:
        """Run `finisher` once all scenarios ran (figures computed over several runs)."""
        self._finishers.append(finisher)

    def finish(self) -> None:
        """Run the finishers (once), then put the figures in the table's order."""
        if not self._finished:
            self._finished = True
            for finisher in self._finishers:
                try:
                    finisher(self)
                except Exception as err:
                    self.error(getattr(finisher, "__name__", "finish"), repr(err)[:160])
        self.sort(self.order)

    def add(self, figure: Figure) -> Figure:
        """Record a figure."""
        self.figures.append(figure)
        return figure

    def at_most(
        self,
        scenario: str,
        figure: str,
        value: float,
        limit: float,
        *,
        unit: str = "",
        digits: int = 2,
        strict: bool = False,
        measured: str | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Figure:
        """A figure whose target is an upper bound (`< limit` when strict, else `≤ limit`)."""
        ok = value < limit if strict else value <= limit
        suffix = f" {unit}" if unit else ""
        if measured is None:
            measured = f"{_number(value, digits)}{suffix}"
        if target is None:
            sign = "<" if strict else "≤"
            target = f"{sign} {limit:g}{suffix}"
        return self.add(
            Figure(
                scenario,
                figure,
                measured,
                target,
                Status.OK if ok else Status.MISSED,
                value,
                limit,
                unit,
                dict(details or {}),
            )
        )

    def at_least(
        self,
        scenario: str,
        figure: str,
        value: float,
        limit: float,
        *,
        unit: str = "",
        digits: int = 2,
        measured: str | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Figure:
        """A figure whose target is a lower bound (`≥ limit`)."""
        suffix = f" {unit}" if unit else ""
        return self.add(
            Figure(
                scenario,
                figure,
                measured if measured is not None else f"{_number(value, digits)}{suffix}",
                target if target is not None else f"≥ {limit:g}{suffix}",
                Status.OK if value >= limit else Status.MISSED,
                value,
                limit,
                unit,
                dict(details or {}),
            )
        )

    def equal(
        self,
        scenario: str,
        figure: str,
        value: float,
        expected: float,
        *,
        unit: str = "",
        measured: str | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Figure:
        """A figure that must equal its target exactly (counts)."""
        suffix = f" {unit}" if unit else ""
        return self.add(
            Figure(
                scenario,
                figure,
                measured if measured is not None else f"{value:g}{suffix}",
                target if target is not None else f"= {expected:g}{suffix}",
                Status.OK if value == expected else Status.MISSED,
                value,
                expected,
                unit,
                dict(details or {}),
            )
        )

    def info(
        self,
        scenario: str,
        figure: str,
        measured: str,
        *,
        value: float | None = None,
        unit: str = "",
        details: dict[str, Any] | None = None,
    ) -> Figure:
        """A figure shown for context, without a target."""
        return self.add(
            Figure(
                scenario, figure, measured, "-", Status.INFO, value, None, unit, dict(details or {})
            )
        )

    def not_applicable(self, scenario: str, figure: str, reason: str, target: str) -> Figure:
        """A promised figure that cannot be measured yet."""
        return self.add(Figure(scenario, figure, reason, target, Status.NOT_APPLICABLE))

    def error(self, scenario: str, message: str) -> Figure:
        """A scenario that failed before measuring everything."""
        return self.add(Figure(scenario, "scenario ran", message, "runs to its end", Status.ERROR))

    def sort(self, order: Sequence[str]) -> None:
        """Group the figures by scenario in this order (others last), keeping their order."""
        rank = {scenario: index for index, scenario in enumerate(order)}
        self.figures.sort(key=lambda f: rank.get(f.scenario, len(order)))

    @property
    def failures(self) -> list[Figure]:
        """Figures that miss their target or scenarios that broke."""
        return [f for f in self.figures if f.status.fails]

    def exit_code(self) -> int:
        """0 when every target is met, 1 otherwise (also when nothing was measured)."""
        return 1 if self.failures or not self.figures else 0

    # ---- output ----------------------------------------------------------------------

    _HEADER = ("scenario", "figure", "measured", "target", "ok")

    def _rows(self) -> list[tuple[str, str, str, str, str]]:
        return [(f.scenario, f.figure, f.measured, f.target, str(f.status)) for f in self.figures]

    def table(self) -> str:
        """A fixed-width text table, one line per figure."""
        rows = [self._HEADER, *self._rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self._HEADER))]
        lines = []
        for index, row in enumerate(rows):
            lines.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
            if index == 0:
                lines.append("-+-".join("-" * w for w in widths))
        return "\n".join(lines)

    def markdown(self) -> str:
        """The same table in Markdown (for the README)."""

        def cell(text: str) -> str:
            return text.replace("|", "\\|")

        lines = [
            "| " + " | ".join(self._HEADER) + " |",
            "|" + "---|" * len(self._HEADER),
        ]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in self._rows()]
        return "\n".join(lines)

    def report(self, *, load: float | None = None, json_file: Path | None = None) -> list[str]:
        """What `scripts/bench` prints: the table, the outcome, each failure, the JSON path."""
        lines = [*self.table().splitlines(), ""]
        summary = self.summary()
        if load is not None:
            summary += f" (load average {load:.2f} at start, {os.cpu_count()} CPUs)"
        lines.append(summary)
        lines += [
            f"{f.status}: {f.scenario} / {f.figure}: {f.measured} (target {f.target})"
            for f in self.failures
        ]
        if json_file is not None:
            lines.append(f"JSON: {json_file}")
        return lines

    def summary(self) -> str:
        """One line: how many targets are met."""
        checked = [f for f in self.figures if f.status in (Status.OK, Status.MISSED)]
        met = sum(1 for f in checked if f.status is Status.OK)
        errors = sum(1 for f in self.figures if f.status is Status.ERROR)
        text = f"{met}/{len(checked)} targets met"
        if errors:
            text += f", {errors} scenario(s) broke"
        return text

    def as_dict(self, meta: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON document: run metadata, figures, outcome."""
        return {
            "schema": SCHEMA,
            "meta": dict(meta or {}),
            "ok": self.exit_code() == 0,
            "summary": self.summary(),
            "figures": [f.as_dict() for f in self.figures],
        }

    def write_json(self, path: Path, meta: dict[str, Any] | None = None) -> None:
        """Write the JSON document (creating its folder)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.as_dict(meta), indent=2, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")


def json_path(root: Path) -> Path:
    """Where the JSON goes: $BENCH_JSON (relative to the repository), else the default."""
    path = Path(os.environ.get(JSON_ENV) or DEFAULT_JSON)
    return path if path.is_absolute() else root / path


def run_meta(root: Path) -> dict[str, Any]:
    """What identifies a run: commit, dirty tree, date, machine."""
    meta: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read only: never refresh the index
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except OSError, subprocess.CalledProcessError:
        return meta
    meta["commit"] = commit
    meta["dirty"] = bool(dirty)
    return meta


RESULTS = Results()
"""The figures of this process's run (filled by the scenarios, printed by bench/conftest.py)."""


# ---- reading runs back: the README table, comparing two commits ----------------------------


def load(path: Path) -> Results:
    """The figures of a JSON file written by `scripts/bench`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    results = Results()
    for item in data.get("figures", []):
        results.add(
            Figure(
                scenario=item["scenario"],
                figure=item["figure"],
                measured=item["measured"],
                target=item["target"],
                status=Status(item["status"]),
                value=item.get("value"),
                limit=item.get("limit"),
                unit=item.get("unit", ""),
                details=item.get("details", {}),
            )
        )
    return results


def compare(old: Results, new: Results) -> list[str]:
    """One line per figure of `new`: old and new measured values, the change, the status."""
    before = {(f.scenario, f.figure): f for f in old.figures}
    lines = []
    for figure in new.figures:
        previous = before.get((figure.scenario, figure.figure))
        change = ""
        if previous is not None and previous.value and figure.value is not None:
            change = f" ({100 * (figure.value - previous.value) / abs(previous.value):+.0f}%)"
        was = previous.measured if previous is not None else "(new)"
        status = str(figure.status)
        if previous is not None and previous.status is not figure.status:
            status = f"{previous.status} → {figure.status}"
        lines.append(
            f"{figure.scenario} / {figure.figure}: {was} → {figure.measured}{change} [{status}]"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tests.bench.results markdown FILE`, or `… compare OLD NEW`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.bench.results")
    commands = parser.add_subparsers(dest="command", required=True)
    markdown = commands.add_parser("markdown", help="the table of a run, in Markdown")
    markdown.add_argument("file", type=Path)
    diff = commands.add_parser("compare", help="two runs (e.g. two commits) side by side")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    if args.command == "markdown":
        print(load(args.file).markdown())
        return 0
    new = load(args.new)
    print("\n".join(compare(load(args.old), new)))
    return new.exit_code()


if __name__ == "__main__":
    raise SystemExit(main())
