"""The SQL roll-up gives, for every 乡镇, exactly what the rules read in Python give."""
from decimal import Decimal

import pytest

from evaluation.models import ObservationPoint, PointResult, SchoolYear, TownshipYear
from evaluation.rollup import rollup_points
from evaluation.rules import evaluate_township
from evaluation.services.demo import load_demo_facts
from evaluation.services.framework import load_framework
from townships.models import PROGRAMME_KINDS, Division, Level, Phase, PilotTownship
from townships.services.demo import load_demo_schools

pytestmark = pytest.mark.django_db
PREFIX = "3708"  # 济宁市


@pytest.fixture
def data(geography):
    load_demo_schools(province_prefix=PREFIX, villages_per_township=2)
    load_demo_facts(province_prefix=PREFIX)
    # Variety the demo lacks: a whole-area pilot, missing values, a county without data.
    PilotTownship.objects.filter(township_id="370881109").update(phase=Phase.WHOLE)
    SchoolYear.objects.filter(township__code__startswith="370883", school__is_urban=True).delete()
    SchoolYear.objects.filter(township__code__startswith="370826", period=2024).update(teachers=None)
    TownshipYear.objects.filter(township__code__startswith="370830", period=2024).update(parent_surveys_valid=40)
    return load_framework()


def test_sql_rollup_equals_the_python_rules_for_every_township(data):
    rollup_points(framework=data, period=2024, prefix=PREFIX)
    points = list(ObservationPoint.objects.filter(target__framework=data).select_related("target"))
    stored = {(r.division_code, r.point_id, r.stage): r for r in PointResult.objects.filter(period=2024)}
    towns = Division.objects.filter(level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS, code__startswith=PREFIX).values_list("code", flat=True)
    compared = 0
    for code in towns:
        for expected in evaluate_township(points=points, township_code=code, period=2024):
            got = stored[(code, expected.point.pk, expected.stage)]
            assert got.verdict == expected.verdict, (code, expected.point.code, expected.stage, got.value, expected.value)
            if expected.value is None:
                assert got.value is None
            else:
                assert abs(got.value - expected.value) < Decimal("0.000001"), (code, expected.point.code)
            compared += 1
    assert compared > 1000
    verdicts = {r.verdict for r in stored.values()}
    assert verdicts == {"attained", "not_attained", "insufficient"}


def test_recomputing_gives_the_same_rows_never_duplicates(data):
    rollup_points(framework=data, period=2024, prefix=PREFIX)
    first = sorted(PointResult.objects.values_list("division_code", "point_id", "stage", "value", "verdict"))
    rollup_points(framework=data, period=2024, prefix=PREFIX)
    rollup_points(framework=data, period=2024, prefix="370881")
    assert sorted(PointResult.objects.values_list("division_code", "point_id", "stage", "value", "verdict")) == first


def test_the_same_few_statements_whatever_the_size(data, django_assert_max_num_queries):
    # The base rows, two groupings, one join and one write (plus temp-table bookkeeping), for a
    # county as for the city, and however many points the framework has.
    with django_assert_max_num_queries(30) as small:
        county = rollup_points(framework=data, period=2024, prefix="370881")
    with django_assert_max_num_queries(30) as large:
        city = rollup_points(framework=data, period=2024, prefix=PREFIX)
    assert county == city == 5
    assert len(small.captured_queries) <= len(large.captured_queries) + 3  # the first-write check may add a savepoint


def test_a_first_write_that_meets_existing_rows_falls_back_to_the_upsert(data, monkeypatch):
    """The plain INSERT of a first computation runs in a savepoint: should the rows exist after
    all (another run wrote them meanwhile), it upserts instead, with the same outcome."""
    import evaluation.rollup as rollup

    rollup_points(framework=data, period=2024, prefix=PREFIX)
    first = sorted(PointResult.objects.values_list("division_code", "point_id", "stage", "value", "verdict"))
    TownshipYear.objects.filter(township__code__startswith="370881", period=2024).update(district_management=None)
    monkeypatch.setattr(rollup, "ANY_POINT_RESULT_SQL", "SELECT 1 WHERE 1 = 0")  # "nothing there yet"
    rollup_points(framework=data, period=2024, prefix=PREFIX)
    after = sorted(PointResult.objects.values_list("division_code", "point_id", "stage", "value", "verdict"))
    assert len(after) == len(first) and after != first
    changed = PointResult.objects.get(division_code="370881109", point__code="5.1", period=2024)
    assert changed.verdict == "insufficient" and changed.value is None


def test_a_committed_upload_recomputes_its_county_after_commit(world, django_capture_on_commit_callbacks, monkeypatch):
    from evaluation.imports.service import import_file
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # test_tasks covers the real worker
    from tests import import_files as f
    from townships.jurisdiction import resolve_jurisdiction

    load_framework()
    officer = world.user("county_370881")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = import_file(user=officer, jurisdiction=resolve_jurisdiction(officer), data=f.school_year_xlsx(), file_name="a.xlsx", channel="test", dry_run=False)
    assert run.status == "committed" and len(callbacks) == 1
    codes = set(PointResult.objects.values_list("division_code", flat=True))
    assert codes and all(c.startswith("370881") for c in codes)
    backbone = PointResult.objects.get(division_code="370881101", point__code="4.2", stage="primary")
    assert backbone.value == Decimal("0.206897")  # 12 / 58 at the seat school of 吴村镇


def test_rollup_command(data, capsys):
    from django.core.management import call_command

    call_command("rollup", "--period", "2024", "--prefix", "370881")
    out = capsys.readouterr().out
    assert "1 counties" in out and "565" in out
    assert PointResult.objects.filter(division_code__startswith="370881").exists()
    assert not PointResult.objects.exclude(division_code__startswith="370881").exists()


def test_targets_townships_and_areas_agree_with_the_rules(data, world):
    from django.db.models import Sum

    from evaluation.models import AreaResult, Judgment, TargetResult, TownshipResult
    from evaluation.rollup import rollup_all, scorecard
    from evaluation.rules import all_seven, judge_targets
    from evaluation.services.forms import assign_team, create_round, save_draft, submit_form
    from tests.factories import UserFactory
    from townships.models import Role

    rnd = create_round(name="r", period=2024, framework=data, township_codes=["370881109", "370883114"], created_by=world.user("province"))
    lead = UserFactory(username="lead_r", role=Role.INSPECTOR, unit_id="37")
    form = assign_team(round=rnd, township_code="370881109", inspectors=[lead], lead=lead)
    answers = {j.point.code: {"level": "attained"} for j in form.judgments.select_related("point")}
    answers["3.1"] = {"level": "basic"}
    form = save_draft(form=form, user=lead, version=form.version, answers=answers)
    submit_form(form=form, user=lead, version=form.version)

    rollup_all(period=2024, prefix=PREFIX)
    targets = list(data.targets.prefetch_related("points"))
    points = [p for t in targets for p in t.points.all()]
    judged = dict(Judgment.objects.filter(form=form).values_list("point__code", "level"))
    for code, round_key, judgments in [("370881109", rnd.pk, judged), ("370881109", 0, None), ("370826101", 0, None), ("370883114", rnd.pk, {})]:
        expected = judge_targets(targets=targets, results=evaluate_township(points=points, township_code=code, period=2024), judgments=judgments)
        got = {t.target_number: t for t in TargetResult.objects.filter(division_code=code, period=2024, round_key=round_key)}
        for e in expected:
            if e.target_number not in got:  # a judgment-only target has no rows outside a round
                assert e.verdict == "insufficient" and round_key == 0
                continue
            assert got[e.target_number].verdict == e.verdict, (code, round_key, e.target_number)
            assert got[e.target_number].score == e.score, (code, round_key, e.target_number)
        township = TownshipResult.objects.get(division_code=code, period=2024, round_key=round_key)
        assert township.targets_attained == sum(1 for e in expected if e.verdict == "attained")
        assert township.all_seven == all_seven(expected)
    assert TargetResult.objects.get(division_code="370881109", round_key=rnd.pk, target_number=3).verdict == "basic"
    # Counties add up to their city; the city's 乡镇 are all of Jining's.
    for target in range(8):
        city = AreaResult.objects.get(division_code=PREFIX, period=2024, round_key=0, population="all", stage="all", target_number=target)
        counties = AreaResult.objects.filter(division_code__startswith=PREFIX, division_code__regex=r"^\d{6}$", period=2024, round_key=0, population="all", stage="all", target_number=target)
        assert counties.aggregate(n=Sum("townships"), a=Sum("attained")) == {"n": city.townships, "a": city.attained}
        assert city.attained == TargetResult.objects.filter(division_code__startswith=PREFIX, round_key=0, target_number=target, verdict="attained").count() if target else True
    pilots = AreaResult.objects.get(division_code=PREFIX, period=2024, round_key=0, population="pilots", stage="all", target_number=0)
    assert pilots.townships == 5
    card = scorecard(period=2024, province="37")
    # Counted over every 乡 and 镇 of the province (1,129), not only those with data.
    assert card["townships"] == 1129 and card["goal"] == 565
    assert card["attained"] == TownshipResult.objects.filter(round_key=0, all_seven=True).count()
    assert card["distance"] == 565 - card["attained"]


def test_year_on_year_change_is_kept(data):
    from evaluation.rollup import rollup_all

    rollup_all(period=2023, prefix="370881")
    rollup_all(period=2024, prefix="370881")
    row = PointResult.objects.filter(period=2024, round_key=0, division_code__startswith="370881", point__code="4.2", stage="primary").exclude(value=None).first()
    last = PointResult.objects.get(period=2023, round_key=0, division_code=row.division_code, point__code="4.2", stage="primary")
    assert row.previous_value == last.value


def test_area_counts_by_stage_follow_the_point_results(data):
    """By stage, read back from the point results in Python: a 乡镇 counts for a stage it has
    results at, and attains a target there when every point of the target at that stage or for
    the whole township is attained."""
    from collections import defaultdict

    from evaluation.models import AreaResult
    from evaluation.rollup import rollup_all

    rollup_all(period=2024, prefix=PREFIX)
    points = defaultdict(list)  # (code, stage or 'all', target) → verdicts
    present = set()
    for code, stage, target, verdict in PointResult.objects.filter(period=2024, round_key=0).values_list(
        "division_code", "stage", "point__target__number", "verdict"
    ):
        points[(code, stage, target)].append(verdict)
        if stage != "all":
            present.add((code, stage))
    checked = 0
    for stage in ("kindergarten", "primary", "junior"):
        towns = [code for code, s in present if s == stage and code.startswith("370881")]
        expected = {}
        for n in range(1, 8):
            expected[n] = sum(
                1 for code in towns
                if (v := points.get((code, stage, n), []) + points.get((code, "all", n), [])) and all(x == "attained" for x in v)
            )
        rows = {r.target_number: r for r in AreaResult.objects.filter(division_code="370881", period=2024, round_key=0, population="all", stage=stage)}
        assert {n: rows[n].attained for n in range(1, 8)} == expected, stage
        assert all(r.townships == len(towns) for r in rows.values())
        checked += sum(expected.values())
    assert checked > 0  # the demo data attains something at some stage, so the comparison means something
