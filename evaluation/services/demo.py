"""Deterministic demo facts for the demo schools: three school years, township facts and help
relations. Values are invented (the schools are too) but plausible, and the same every run."""
from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction

from evaluation.models import HelpKind, HelpRelation, SchoolYear, TownshipYear
from evaluation.vocabulary import Grade, JudgmentLevel
from townships.models import PROGRAMME_KINDS, Division, Level, School, Stage

DEMO_PERIODS = (2022, 2023, 2024)
ROOMS_REQUIRED = {Stage.KINDERGARTEN: 6, Stage.PRIMARY: 12, Stage.JUNIOR: 16, Stage.NINE_YEAR: 20}


def _rng(*parts) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big"))


def _d(value: float, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places))


def meets(*, township: str, target: int, period: int) -> bool:
    """Whether a demo township is built to attain a target in a period. Each township has a
    strength and improves every year, so the dashboards show spread, correlation between targets
    and progress towards the goal — invented, deterministic figures."""
    strength = _rng(township, "strength").random()
    offset = _rng(township, "target", target).uniform(-0.2, 0.2)
    return strength * 0.9 + (period - DEMO_PERIODS[0]) * 0.12 + offset > 0.55


def school_year_values(*, code: str, stage: str, is_seat: bool, is_urban: bool, is_quality: bool, period: int, township: str = "") -> dict:
    """One school's facts for one period. Urban schools set the county's reference; a township
    school is above it where its township is built to meet the target (see `meets`)."""
    base = _rng(code)
    r = _rng(code, period)
    kindergarten = stage == Stage.KINDERGARTEN
    ok = {t: is_urban or meets(township=township or code[:9], target=t, period=period) for t in (1, 2, 4, 6)}
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
    teachers = max(3, students // (12 if kindergarten else 14))

    def pick(good: tuple, bad: tuple, urban: tuple, target: int) -> float:
        return r.uniform(*(urban if is_urban else good if ok[target] else bad))

    return {
        "students": students,
        "function_rooms_required": required,
        "function_rooms_present": required if is_urban else required + r.randint(0, 2) if ok[1] else required - r.randint(1, 3),
        "equipment_value_per_student": _d(pick((3000, 3600), (1500, 2900), (2500, 3000), 1)),
        "books_per_student": _d(pick((36, 42), (18, 33), (30, 35), 1)),
        "computers": max(5, students // (7 if ok[1] and not is_urban else 8 if is_urban else 11)),
        "multimedia_classrooms": max(2, students // 45),
        "recording_rooms": 1 if ok[1] else int(r.random() < 0.3),
        "has_canteen": ok[1] or r.random() < 0.6,
        "has_boarding": stage == Stage.JUNIOR and r.random() < 0.6,
        "has_school_bus": stage == Stage.PRIMARY and not is_urban and r.random() < 0.4,
        "arts_courses_complete": None if kindergarten else (ok[2] or r.random() < 0.5),
        "clubs": None if kindergarten else (base.randint(6, 20) if ok[2] else base.randint(2, 8)),
        "physical_health_pass_rate": None if kindergarten else _d(pick((0.91, 0.98), (0.8, 0.92), (0.9, 0.96), 2), "0.0001"),
        "arts_skill_rate": None if kindergarten else _d(pick((0.81, 0.95), (0.55, 0.82), (0.8, 0.9), 2), "0.0001"),
        "academic_average": None if kindergarten else _d(pick((80, 88), (55, 68), (85, 92) if is_quality else (78, 86), 2)),
        "mental_health_screening_rate": None if kindergarten else _d(pick((0.96, 1.0), (0.8, 0.97), (0.95, 1.0), 6), "0.0001"),
        "violations": 1 if not ok[2] and r.random() < 0.03 else 0,
        "care_quality_grade": (r.choice([Grade.EXCELLENT, Grade.GOOD]) if ok[2] else r.choice([Grade.GOOD, Grade.PASS])) if kindergarten else "",
        "play_based_curriculum": (ok[2] or r.random() < 0.5) if kindergarten else None,
        "safety_grade": r.choice([Grade.EXCELLENT, Grade.GOOD]) if ok[2] else r.choice([Grade.GOOD, Grade.PASS]),
        "teachers": teachers,
        "teacher_posts": teachers - r.randint(0, 1) if ok[4] else teachers + r.randint(1, 3),
        "backbone_teachers": int(teachers * pick((0.26, 0.35), (0.08, 0.2), (0.2, 0.25), 4)),
        "degree_teachers": int(teachers * pick((0.91, 0.98), (0.6, 0.85), (0.85, 0.9), 4)),
        "psychology_teachers": 1 if students > 500 or r.random() < 0.4 else 0,
    }


def township_year_values(*, code: str, period: int) -> dict:
    base = _rng(code, "town")
    r = _rng(code, "town", period)
    values = {}
    # Target 7: the share of local children attending rises every year where the township meets it.
    rising = meets(township=code, target=7, period=period)
    for stage, size in (("preschool", (300, 900)), ("primary", (900, 2500)), ("junior", (400, 1200))):
        registered = int(base.randint(*size) * (1 + r.uniform(-0.03, 0.03)))
        share = base.uniform(0.65, 0.8) + (period - DEMO_PERIODS[0]) * (0.04 if rising else -0.02)
        values[f"registered_{stage}"] = registered
        values[f"attending_{stage}"] = int(registered * min(0.99, share))
    satisfied = meets(township=code, target=6, period=period)
    for group, (lo, hi) in (("parent", (300, 800)), ("student", (300, 800))):
        issued = base.randint(lo, hi)
        valid = int(issued * r.uniform(0.9, 0.99))
        values[f"{group}_surveys_issued"] = issued
        values[f"{group}_surveys_valid"] = valid
        values[f"{group}s_satisfied"] = int(valid * (r.uniform(0.91, 0.97) if satisfied else r.uniform(0.8, 0.9)))
    values["district_management"] = meets(township=code, target=5, period=period) or base.random() < 0.3
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
            **school_year_values(code=code, stage=stage, is_seat=seat, is_urban=urban, is_quality=quality, period=period, township=town),
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
            period=period,
            township_id=town,
        )
        for pk, code, stage, seat, urban, q, town in schools
        for period in periods
        if seat and (town[:6], stage) in quality
    ]
    HelpRelation.objects.bulk_create(helps, batch_size=2000, ignore_conflicts=True)
    return {"school_years": len(rows), "township_years": len(town_rows), "help_relations": len(helps)}


DEMO_ROUND_NAME = "{period}年度评估（演示）"
INSPECTED_IN_DEMO = ("370881109", "370883114")  # 曲阜市息陬镇, 邹城市郭里镇: left open for the demo inspectors


@transaction.atomic
def load_demo_round():
    """The framework and one demo round per school year over every 乡镇 of Shandong, with the
    inspectors' judgments submitted (levels follow `meets`, so they agree with the data), except
    the two townships the demo inspectors are assigned to in the latest round: theirs stay drafts."""
    from django.utils import timezone

    from evaluation.models import FormStatus, InspectionForm, Judgment, ObservationPoint, Round, SourceKind
    from evaluation.services.forms import assign_team, create_round
    from evaluation.services.framework import load_framework
    from townships.models import User

    framework = load_framework()
    admin = User.objects.filter(is_superuser=True).order_by("id").first()
    towns = list(Division.objects.filter(level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS, code__startswith="37").values_list("code", flat=True))
    points = list(ObservationPoint.objects.filter(target__framework=framework, source_kind=SourceKind.JUDGMENT).select_related("target"))
    rnd = None
    for period in DEMO_PERIODS:
        name = DEMO_ROUND_NAME.format(period=period)
        rnd = Round.objects.filter(name=name).first()
        if rnd is not None:
            continue
        rnd = create_round(name=name, period=period, framework=framework, township_codes=towns, created_by=admin)
        latest = period == DEMO_PERIODS[-1]
        done = [code for code in towns if not (latest and code in INSPECTED_IN_DEMO)]
        # Older rounds were submitted at the end of their school year; the latest a month ago,
        # so its rectification items are not yet due while older ones are overdue.
        submitted = timezone.now() - timedelta(days=30) if latest else timezone.make_aware(datetime(period + 1, 6, 30, 10))
        InspectionForm.objects.bulk_create(
            [InspectionForm(round=rnd, township_id=code, status=FormStatus.SUBMITTED, version=1, submitted_at=submitted, submitted_by=admin) for code in done],
            batch_size=2000,
        )
        forms = dict(InspectionForm.objects.filter(round=rnd).values_list("township_id", "id"))
        Judgment.objects.bulk_create(
            [
                Judgment(form_id=forms[code], point=p, level=_demo_level(code, p.target.number, period, p.code), comment="（演示）")
                for code in done
                for p in points
            ],
            batch_size=5000,
        )
    lead, member = User.objects.get(username="ducha"), User.objects.get(username="ducha2")
    for code in INSPECTED_IN_DEMO:
        assign_team(round=rnd, township_code=code, inspectors=[lead, member], lead=lead)
    return rnd


def _demo_level(township: str, target: int, period: int, point: str) -> str:
    if meets(township=township, target=target, period=period):
        return JudgmentLevel.ATTAINED
    return _rng(township, point, period).choice([JudgmentLevel.BASIC, JudgmentLevel.NOT_ATTAINED, JudgmentLevel.NOT_ATTAINED])
