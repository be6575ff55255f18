"""The bench: each figure is measured beside its baseline in the same run, on the same data.

Each group of figures is a module of this package listed in BENCH_GROUPS; its function takes the
scale and returns Figures. `ratio` is always "times better than the baseline" (baseline / value
for times, value / baseline for rates), so > 1 means faster than the baseline.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
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

    @property
    def ratio(self) -> float | None:
        if not self.baseline or not self.value:
            return None
        return self.value / self.baseline if self.higher_is_better else self.baseline / self.value

    def as_json(self) -> dict:
        data = asdict(self)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 2)
        data["value"] = round(self.value, 4)
        data["baseline"] = None if self.baseline is None else round(self.baseline, 4)
        del data["higher_is_better"]
        return data


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run_groups(names: list[str], scale: str) -> list[Figure]:
    figures: list[Figure] = []
    for name in names:
        module, func = BENCH_GROUPS[name].split(":")
        figures.extend(getattr(import_module(module), func)(scale))
    return figures


def render_table(figures: list[Figure]) -> str:
    header = f"{'figure':<32} {'value':>12} {'unit':<8} {'baseline':>12}  {'ratio':>7}  baseline is"
    lines = [header, "-" * len(header)]
    for f in figures:
        base = "—" if f.baseline is None else f"{f.baseline:12.3f}"
        ratio = "—" if f.ratio is None else f"{f.ratio:6.1f}×" if f.ratio >= 1 else f"{f.ratio:6.2f}×"
        lines.append(f"{f.name:<32} {f.value:12.3f} {f.unit:<8} {base:>12}  {ratio:>7}  {f.baseline_label}")
    return "\n".join(lines)


def write_json(figures: list[Figure], path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump([fig.as_json() for fig in figures], f, ensure_ascii=False, indent=2)
