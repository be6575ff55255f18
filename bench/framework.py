"""The bench: each figure is measured beside its baseline in the same run, on the same data.

Each group of figures is a module of this package listed in BENCH_GROUPS; its function takes the
scale and returns Figures. `ratio` is always "times better than the baseline" (baseline / value
for times, value / baseline for rates), so > 1 means faster than the baseline. A figure may also
carry its floor: what the same work costs at best on this machine in the same run (a bare table,
one raw statement), so the distance to the limit shows on every run however noisy the machine.

Groups run one after the other; the JSON is written after each one, so a group that fails (or a
run cut short) loses nothing measured before it, and the failed group is reported in the table,
in the JSON and in the exit code.
"""
from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import import_module

SCALES = ("city", "shandong", "national")

# name → "module:function"; the function(scale: str) returns a list of Figure.
BENCH_GROUPS = {
    "divisions": "bench.divisions:division_figures",
    "import": "bench.imports:import_figures",
    "rollup": "bench.rollup:rollup_figures",
    "dashboard": "bench.dashboard:dashboard_figures",
    "load": "bench.load:load_figures",
    "surveys": "bench.surveys:survey_figures",
}


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    higher_is_better: bool = False
    floor: float | None = None  # the same work at best, same run (same unit as value)

    @property
    def ratio(self) -> float | None:
        return self._times_better(self.baseline)

    @property
    def floor_ratio(self) -> float | None:
        """Floor ÷ ours for times (≤ 1: the share of the limit we reach)."""
        return self._times_better(self.floor)

    def _times_better(self, other: float | None) -> float | None:
        if not other or not self.value:
            return None
        return self.value / other if self.higher_is_better else other / self.value

    def as_json(self) -> dict:
        data = asdict(self)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 2)
        data["value"] = round(self.value, 4)
        data["baseline"] = None if self.baseline is None else round(self.baseline, 4)
        data["floor"] = None if self.floor is None else round(self.floor, 4)
        data["floor_ratio"] = None if self.floor_ratio is None else round(self.floor_ratio, 3)
        del data["higher_is_better"]
        return data


class GroupFailed(Exception):
    """A group that measured its figures but whose run broke a rule (errors under load, lost
    work): the figures are kept and shown, and the group counts as failed."""

    def __init__(self, message: str, figures: list[Figure]):
        super().__init__(message)
        self.figures = figures


@dataclass
class GroupRun:
    name: str
    seconds: float = 0.0
    figures: list[Figure] = field(default_factory=list)
    error: str | None = None  # the last line of the exception; the traceback is printed


@dataclass
class BenchRun:
    scale: str
    database: str
    groups: list[GroupRun] = field(default_factory=list)

    @property
    def figures(self) -> list[Figure]:
        return [f for g in self.groups for f in g.figures]

    @property
    def failed(self) -> list[GroupRun]:
        return [g for g in self.groups if g.error]

    def as_json(self) -> dict:
        return {
            "scale": self.scale,
            "database": self.database,
            "groups": {g.name: {"ok": g.error is None, "seconds": round(g.seconds, 1), "error": g.error} for g in self.groups},
            "figures": [f.as_json() for f in self.figures],
        }


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run_groups(names: list[str], scale: str, *, database: str = "", json_path: str | None = None, groups: dict[str, str] | None = None,
               out: Callable[[str], None] = print) -> BenchRun:
    """Run each group; a group that raises is recorded with its error and the next one runs.
    With `json_path`, the figures so far are written after every group."""
    groups = groups or BENCH_GROUPS
    run = BenchRun(scale=scale, database=database)
    for name in names:
        group = GroupRun(name)
        run.groups.append(group)
        out(f"bench: {name} …")
        started = time.perf_counter()
        try:
            module, func = groups[name].split(":")
            group.figures = list(getattr(import_module(module), func)(scale))
        except Exception as exc:  # any failure of a group is reported; the run goes on
            out(traceback.format_exc())
            group.figures = list(getattr(exc, "figures", []))
            group.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        group.seconds = time.perf_counter() - started
        out(f"bench: {name} {'FAILED: ' + group.error if group.error else 'done'} in {group.seconds:.0f} s")
        if json_path:
            write_json(run, json_path)
    return run


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:12.3f}"


def _ratio(r: float | None) -> str:
    return "—" if r is None else f"{r:6.1f}×" if r >= 1 else f"{r:6.2f}×"


def render_table(run: BenchRun) -> str:
    header = f"{'figure':<34} {'value':>12} {'unit':<8} {'baseline':>12}  {'ratio':>7} {'floor':>12}  {'÷floor':>7}  baseline is"
    lines = [header, "-" * len(header)]
    for group in run.groups:
        for f in group.figures:
            lines.append(
                f"{f.name:<34} {f.value:12.3f} {f.unit:<8} {_num(f.baseline):>12}  {_ratio(f.ratio):>7} {_num(f.floor):>12}  {_ratio(f.floor_ratio):>7}  {f.baseline_label}"
            )
        if group.error:
            lines.append(f"{group.name + ' FAILED':<34} {group.error}")
    return "\n".join(lines)


def write_json(run: BenchRun, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(run.as_json(), f, ensure_ascii=False, indent=2)
