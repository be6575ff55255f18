"""The rules of the observation points on a small case computed by hand."""
from decimal import Decimal

import pytest

from evaluation.models import ObservationPoint, SchoolYear, TownshipYear
from evaluation.rules import ATTAINED, BASIC, INSUFFICIENT, NOT_ATTAINED, all_seven, evaluate_township, judge_targets
from evaluation.services.framework import load_framework
from tests.factories import SchoolFactory
from townships.models import Phase, PilotTownship, Stage

pytestmark = pytest.mark.django_db
TOWN = "370881109"  # 曲阜市息陬镇, a first-batch pilot (phase 重点突破)


def year(school, **values):
    base = {"students": 100, "period": 2024}
    base.update(values)
    return SchoolYear.objects.create(school=school, township_id=school.township_id, **base)


@pytest.fixture
def case(geography):
    framework = load_framework()
    s1 = SchoolFactory(code="7000000001", township_id=TOWN, stage=Stage.PRIMARY, is_seat=True)
    s2 = SchoolFactory(code="7000000002", township_id=TOWN, stage=Stage.PRIMARY, is_seat=False)
    s3 = SchoolFactory(code="7000000003", township_id=TOWN, stage=Stage.KINDERGARTEN, is_seat=True)
    u1 = SchoolFactory(code="7000000011", township_id="370881001", stage=Stage.PRIMARY, is_urban=True, is_urban_quality=True)
    u2 = SchoolFactory(code="7000000012", township_id="370881001", stage=Stage.PRIMARY, is_urban=True)
    year(s1, students=400, teachers=20, backbone_teachers=6, books_per_student=30, academic_average=80, violations=0, arts_courses_complete=True, physical_health_pass_rate=Decimal("0.92"))
    year(s2, students=100, teachers=10, backbone_teachers=0, books_per_student=10, academic_average=60, violations=0)
    year(s3, students=150, care_quality_grade="good", safety_grade="excellent", play_based_curriculum=True, violations=0)
    year(u1, students=1000, teachers=50, backbone_teachers=10, books_per_student=25, academic_average=90)
    year(u2, students=500, teachers=25, backbone_teachers=10, books_per_student=35, academic_average=70)
    TownshipYear.objects.create(township_id=TOWN, period=2023, registered_primary=1000, attending_primary=800, parent_surveys_valid=150, parents_satisfied=140)
    TownshipYear.objects.create(township_id=TOWN, period=2024, registered_primary=1000, attending_primary=850, parent_surveys_valid=150, parents_satisfied=140, student_surveys_valid=50, students_satisfied=50)
    return {"framework": framework, "points": list(ObservationPoint.objects.filter(target__framework=framework).select_related("target")), "s1": s1}


def results(case, township=TOWN):
    return {(r.point.code, r.stage): r for r in evaluate_township(points=case["points"], township_code=township, period=2024)}


def test_hand_computed_verdicts(case):
    r = results(case)
    # 4.2 ratio of sums vs the county's urban schools: 6/20 = 0.30 ≥ (10+10)/(50+25) = 0.2667.
    assert r[("4.2", "primary")].value == Decimal("0.3") and r[("4.2", "primary")].verdict == ATTAINED
    assert round(r[("4.2", "primary")].reference, 4) == Decimal("0.2667")
    # 1.4 student-weighted mean: 30 ≥ (25·1000 + 35·500) / 1500 = 28.33.
    assert r[("1.4", "primary")].verdict == ATTAINED and round(r[("1.4", "primary")].reference, 2) == Decimal("28.33")
    # 2.6 difference rate to the urban *quality* school only: (90 − 80) / 90 = 0.111 < 0.15.
    assert r[("2.6", "primary")].reference == Decimal("90") and r[("2.6", "primary")].verdict == ATTAINED
    # 2.4 threshold (portal default 0.90): 0.92.
    assert r[("2.4", "primary")].verdict == ATTAINED
    # 2.1 veto, every school: no violation.
    assert r[("2.1", "primary")].verdict == ATTAINED
    # Kindergarten points: grade good ≥ 良, play-based yes.
    assert r[("2.9", "kindergarten")].verdict == ATTAINED and r[("2.10", "kindergarten")].verdict == ATTAINED
    # No seat junior school: insufficient data, never a pass.
    assert r[("4.2", "junior")].verdict == INSUFFICIENT
    # 6.1 parents 140/150 = 0.933 ≥ 0.90; 6.2 students: 50 valid surveys < the minimum → insufficient.
    assert r[("6.1", "all")].verdict == ATTAINED and r[("6.2", "all")].verdict == INSUFFICIENT
    # 7.2 trend: 0.85 > 0.80; 7.1 has no data.
    assert r[("7.2", "primary")].verdict == ATTAINED and r[("7.1", "kindergarten")].verdict == INSUFFICIENT


def test_quality_gap_fails_at_the_threshold(case):
    SchoolYear.objects.filter(school=case["s1"]).update(academic_average=76)  # (90 − 76) / 90 = 0.156
    assert results(case)[("2.6", "primary")].verdict == NOT_ATTAINED


def test_whole_area_phase_counts_every_school(case):
    PilotTownship.objects.filter(township_id=TOWN).update(phase=Phase.WHOLE)
    # (6 + 0) / (20 + 10) = 0.20 < 0.2667
    assert results(case)[("4.2", "primary")].verdict == NOT_ATTAINED


def test_a_county_without_urban_reference_is_insufficient_not_divided_by_zero(case):
    s = SchoolFactory(code="7000000021", township_id="370883114", stage=Stage.PRIMARY, is_seat=True)
    year(s, teachers=10, backbone_teachers=5)
    r = results(case, township="370883114")[("4.2", "primary")]
    assert r.verdict == INSUFFICIENT and r.note == "no urban reference"


def test_target_verdicts_veto_basic_and_score(case):
    framework = case["framework"]
    targets = list(framework.targets.prefetch_related("points"))
    judged = {p.code: "attained" for p in ObservationPoint.objects.filter(target__framework=framework, source_kind="judgment")}
    computed = evaluate_township(points=case["points"], township_code=TOWN, period=2024)
    by_number = {t.target_number: t for t in judge_targets(targets=targets, results=computed, judgments=judged)}
    assert by_number[3].verdict == ATTAINED and by_number[3].score == Decimal("100.0")
    judged["3.1"] = "basic"
    by_number = {t.target_number: t for t in judge_targets(targets=targets, results=computed, judgments=judged)}
    assert by_number[3].verdict == BASIC and by_number[3].score == Decimal("70.0")  # (3·0.5 + 2·1) / 5
    SchoolYear.objects.filter(school=case["s1"]).update(violations=1)
    computed = evaluate_township(points=case["points"], township_code=TOWN, period=2024)
    result = judge_targets(targets=targets, results=computed, judgments=judged)
    assert {t.target_number: t for t in result}[2].vetoed and not all_seven(result)
