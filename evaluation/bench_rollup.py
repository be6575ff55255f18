"""Bench figures for the roll-up: a full recomputation at city, Shandong (and national) scale,
beside a naive per-township ORM loop on the city."""
from __future__ import annotations

import time

from django.db import connection

from evaluation.models import ObservationPoint, PointResult, SchoolYear
from evaluation.rollup import current_framework, refresh_statistics, rollup_all
from evaluation.rules import evaluate_township
from evaluation.services.demo import load_demo_facts
from evaluation.services.framework import load_framework
from portal.bench import Figure
from townships.models import PROGRAMME_KINDS, Division, Level, School
from townships.services.demo import load_demo_schools
from townships.services.divisions import load_divisions

SCALE_PREFIXES = {"city": ["3708"], "shandong": ["3708", "37"], "national": ["3708", "37", ""]}


def _prepare(prefix: str) -> None:
    provinces = None if prefix == "" else {prefix[:2]}
    load_divisions(provinces=provinces)
    for province in sorted({d[:2] for d in Division.objects.filter(level=Level.PROVINCE).values_list("code", flat=True)}):
        if prefix and not province.startswith(prefix[:2]):
            continue
        if not School.objects.filter(township__code__startswith=province).exists():
            # About 30,000 schools for Shandong, as the programme's scale.
            load_demo_schools(province_prefix=province, villages_per_township=24)
        if not SchoolYear.objects.filter(township__code__startswith=province, period=2024).exists():
            load_demo_facts(province_prefix=province, periods=(2023, 2024))
    load_framework()
    refresh_statistics()


def _naive(prefix: str) -> float:
    """What one writes first: for each township, the rules in Python and one ORM write per result."""
    framework = current_framework()
    points = list(ObservationPoint.objects.filter(target__framework=framework).select_related("target"))
    towns = Division.objects.filter(level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS, code__startswith=prefix).values_list("code", flat=True)
    started = time.perf_counter()
    for code in towns:
        for r in evaluate_township(points=points, township_code=code, period=2024):
            PointResult.objects.update_or_create(
                division_code=code, point=r.point, period=2024, round_key=0, stage=r.stage,
                defaults={"value": r.value, "reference": r.reference, "verdict": r.verdict},
            )
    return time.perf_counter() - started


def _full(prefix: str) -> float:
    started = time.perf_counter()
    if prefix == "":
        for province in Division.objects.filter(level=Level.PROVINCE).values_list("code", flat=True):
            rollup_all(period=2024, prefix=province)
    else:
        rollup_all(period=2024, prefix=prefix)
    return time.perf_counter() - started


def rollup_figures(scale: str) -> list[Figure]:
    figures = []
    times = {}
    for prefix in SCALE_PREFIXES[scale]:
        _prepare(prefix)
        rows = SchoolYear.objects.filter(period=2024, township__code__startswith=prefix).count()
        times[prefix] = _full(prefix)
        name = {"3708": "rollup.city_s", "37": "rollup.shandong_s", "": "rollup.national_s"}[prefix]
        figures.append(Figure(name, times[prefix], "s", None, f"{rows} school-year rows"))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM evaluation_pointresult")
    naive = _naive("3708")
    figures.append(Figure("rollup.ratio_vs_naive", naive / times["3708"], "×", None, f"naive per-township loop took {naive:.1f} s on the city"))
    return figures
