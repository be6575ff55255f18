"""Deterministic demo facts for the demo schools: three school years, township facts and help
relations. Values are invented (the schools are too) but plausible, and the same every run."""
from __future__ import annotations

import hashlib
import random
from decimal import Decimal

from django.db import transaction

from evaluation.models import HelpKind, HelpRelation, SchoolYear, TownshipYear
from townships.models import PROGRAMME_KINDS, Division, Level, School, Stage

DEMO_PERIODS = (2022, 2023, 2024)
ROOMS_REQUIRED = {Stage.KINDERGARTEN: 6, Stage.PRIMARY: 12, Stage.JUNIOR: 16, Stage.NINE_YEAR: 20}


def _rng(*parts) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big"))


def _d(value: float, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places))


def school_year_values(*, code: str, stage: str, is_seat: bool, is_urban: bool, is_quality: bool, period: int) -> dict:
    """One school's facts for one period. Later periods improve a little, as a programme should."""
    base = _rng(code)
    r = _rng(code, period)
    growth = (period - DEMO_PERIODS[0]) * 0.02
    kindergarten = stage == Stage.KINDERGARTEN
    if kindergarten:
        students = base.randint(150, 400)
    elif is_urban:
        students = base.randint(1500, 3000)
    elif is_seat:
        students = base.randint(600, 1500)
    else:
        students = base.randint(80, 300)
    students = int(students * (1 + r.uniform(-0.05, 0.05)))
    required = ROOMS_REQUIRED.get(stage, 12)
    level = 1.0 if is_urban else base.uniform(0.75, 0.98) + growth
    teachers = max(3, students // (12 if kindergarten else 14))
    return {
        "students": students,
        "function_rooms_required": required,
        "function_rooms_present": min(required + 2, round(required * min(level + r.uniform(-0.05, 0.05), 1.1))),
        "equipment_value_per_student": _d(base.uniform(1500, 4000) * (level + growth)),
        "books_per_student": _d(base.uniform(20, 45) * min(level + 0.05, 1.1)),
        "computers": max(5, students // 8),
        "multimedia_classrooms": max(2, students // 45),
        "recording_rooms": 1 if is_urban or r.random() < 0.6 + growth else 0,
        "has_canteen": is_urban or r.random() < 0.8,
        "has_boarding": stage == Stage.JUNIOR and r.random() < 0.6,
        "has_school_bus": stage == Stage.PRIMARY and not is_urban and r.random() < 0.4,
        "arts_courses_complete": None if kindergarten else r.random() < 0.85 + growth,
        "clubs": None if kindergarten else base.randint(3, 20),
        "physical_health_pass_rate": None if kindergarten else _d(min(0.99, base.uniform(0.85, 0.97) + growth / 2), "0.0001"),
        "arts_skill_rate": None if kindergarten else _d(min(0.99, base.uniform(0.55, 0.9) + growth), "0.0001"),
        "academic_average": None if kindergarten else _d(min(98, base.uniform(80, 92) if is_quality else base.uniform(66, 86) + growth * 20)),
        "mental_health_screening_rate": None if kindergarten else _d(min(1, base.uniform(0.8, 1.0)), "0.0001"),
        "violations": 1 if r.random() < 0.02 else 0,
        "care_quality_grade": r.choice(["excellent", "good", "good", "pass"]) if kindergarten else "",
        "play_based_curriculum": (r.random() < 0.7 + growth) if kindergarten else None,
        "safety_grade": r.choice(["excellent", "good", "good", "pass"]),
        "teachers": teachers,
        "teacher_posts": teachers + base.randint(-2, 3),
        "backbone_teachers": int(teachers * (base.uniform(0.2, 0.35) if is_urban else base.uniform(0.08, 0.3) + growth)),
        "degree_teachers": int(teachers * min(1.0, (base.uniform(0.85, 0.98) if is_urban else base.uniform(0.6, 0.92) + growth))),
        "psychology_teachers": 1 if students > 500 or r.random() < 0.4 else 0,
    }


def township_year_values(*, code: str, period: int) -> dict:
    base = _rng(code, "town")
    r = _rng(code, "town", period)
    growth = (period - DEMO_PERIODS[0]) * 0.02
    values = {}
    for stage, size in (("preschool", (300, 900)), ("primary", (900, 2500)), ("junior", (400, 1200))):
        registered = int(base.randint(*size) * (1 + r.uniform(-0.03, 0.03)))
        values[f"registered_{stage}"] = registered
        values[f"attending_{stage}"] = int(registered * min(0.99, base.uniform(0.65, 0.9) + growth))
    for group, (lo, hi) in (("parent", (300, 800)), ("student", (300, 800))):
        issued = base.randint(lo, hi)
        valid = int(issued * r.uniform(0.9, 0.99))
        values[f"{group}_surveys_issued"] = issued
        values[f"{group}_surveys_valid"] = valid
        values[f"{group}s_satisfied"] = int(valid * min(0.99, base.uniform(0.84, 0.96) + growth))
    values["district_management"] = base.random() < 0.5 + growth * 5
    return values


@transaction.atomic
def load_demo_facts(*, province_prefix: str = "37", periods=DEMO_PERIODS) -> dict:
    schools = list(
        School.objects.filter(is_demo=True, township__code__startswith=province_prefix).values_list(
            "id", "code", "stage", "is_seat", "is_urban", "is_urban_quality", "township_id"
        )
    )
    rows = [
        SchoolYear(
            school_id=pk,
            period=period,
            township_id=town,
            **school_year_values(code=code, stage=stage, is_seat=seat, is_urban=urban, is_quality=quality, period=period),
        )
        for pk, code, stage, seat, urban, quality, town in schools
        for period in periods
    ]
    fields = [f for f in rows[0].__dict__ if f not in ("_state", "id", "school_id", "period", "updated_at", "updated_by_import_id")] if rows else []
    SchoolYear.objects.bulk_create(
        rows, batch_size=2000, update_conflicts=True, unique_fields=["school", "period"], update_fields=[f.removesuffix("_id") for f in fields]
    )
    towns = Division.objects.filter(level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS, code__startswith=province_prefix).values_list("code", flat=True)
    town_rows = [TownshipYear(township_id=code, period=p, **township_year_values(code=code, period=p)) for code in towns for p in periods]
    tfields = list(township_year_values(code="0", period=periods[0]))
    TownshipYear.objects.bulk_create(town_rows, batch_size=2000, update_conflicts=True, unique_fields=["township", "period"], update_fields=tfields)
    # Each seat primary and junior school is helped by its county's urban quality school of the stage.
    quality = {(code_town[:6], stage): pk for pk, code, stage, seat, urban, q, code_town in schools if q}
    helps = [
        HelpRelation(
            helper_id=quality[(town[:6], stage)],
            helped_id=pk,
            kind=HelpKind.PAIRING if _rng(code).random() < 0.6 else HelpKind.GROUP,
            period=periods[-1],
            township_id=town,
        )
        for pk, code, stage, seat, urban, q, town in schools
        if seat and (town[:6], stage) in quality
    ]
    HelpRelation.objects.bulk_create(helps, batch_size=2000, ignore_conflicts=True)
    return {"school_years": len(rows), "township_years": len(town_rows), "help_relations": len(helps)}


@transaction.atomic
def load_demo_round() -> "Round":
    """The framework, a demo 2024 round over the first batch, and two inspection teams."""
    from evaluation.models import Round
    from evaluation.services.forms import assign_team, create_round
    from evaluation.services.framework import load_framework
    from townships.models import PilotTownship, User

    framework = load_framework()
    admin = User.objects.filter(is_superuser=True).order_by("id").first()
    rnd = Round.objects.filter(name="2024年度评估（演示）").first()
    if rnd is None:
        codes = list(PilotTownship.objects.filter(batch__year=2021).values_list("township_id", flat=True))
        rnd = create_round(name="2024年度评估（演示）", period=2024, framework=framework, township_codes=codes, created_by=admin)
    lead, member = User.objects.get(username="ducha"), User.objects.get(username="ducha2")
    for code in ("370881109", "370883114"):  # 曲阜市息陬镇, 邹城市郭里镇
        assign_team(round=rnd, township_code=code, inspectors=[lead, member], lead=lead)
    return rnd
