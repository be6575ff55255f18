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
    # The base rows, two groupings, one join and one write (plus temp-table and planner bookkeeping:
    # the probes for last year's results and for a first write, the write's memory), for a county as
    # for the city, and however many points the framework has.
    with django_assert_max_num_queries(35) as small:
        county = rollup_points(framework=data, period=2024, prefix="370881")
    with django_assert_max_num_queries(35) as large:
        city = rollup_points(framework=data, period=2024, prefix=PREFIX)
    assert county == city == 5
    assert len(small.captured_queries) <= len(large.captured_queries) + 3  # the first-write check may add a savepoint


def test_a_first_write_that_meets_existing_rows_falls_back_to_the_upsert(data, monkeypatch):
    """The plain INSERTs of a first computation (points, targets, townships) run in a savepoint:
    should the rows exist after all (another run wrote them meanwhile), they upsert instead, with
    the outcome of a computation from scratch."""
    import evaluation.rollup.areas as areas
    import evaluation.rollup.scope as scope
    from evaluation.models import AreaResult, TargetResult, TownshipResult
    from evaluation.rollup import rollup_county, rollup_levels

    def results():
        return (
            sorted(PointResult.objects.values_list("division_code", "point_id", "stage", "value", "verdict")),
            sorted(TargetResult.objects.values_list("division_code", "target_number", "round_key", "verdict", "score")),
            sorted(TownshipResult.objects.values_list("division_code", "round_key", "targets_attained", "all_seven", "score")),
            sorted(AreaResult.objects.values_list("division_code", "population", "stage", "target_number", "townships", "attained")),
        )

    def recompute():
        rollup_county(period=2024, county=PREFIX)
        rollup_levels(period=2024, prefix=PREFIX, value_added=False)

    recompute()
    first = results()
    TownshipYear.objects.filter(township__code__startswith="370881", period=2024).update(district_management=None)
    monkeypatch.setattr(scope, "ANY_RESULT_SQL", "SELECT 1 WHERE 1 = 0")  # "nothing there yet"
    monkeypatch.setattr(areas, "AREA_ANY_SQL", "SELECT 1 WHERE 1 = 0")
    recompute()
    after = results()
    assert [len(a) for a in after] == [len(f) for f in first] and after != first
    changed = PointResult.objects.get(division_code="370881109", point__code="5.1", period=2024)
    assert changed.verdict == "insufficient" and changed.value is None
    monkeypatch.undo()
    for model in (PointResult, TargetResult, TownshipResult, AreaResult):
        model.objects.all().delete()
    recompute()  # from scratch, on the same facts
    assert results() == after


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
    # The county's roll-up after the commit, then (after its own commit) the areas' counts.
    assert run.status == "committed" and len(callbacks) == 2
    codes = set(PointResult.objects.values_list("division_code", flat=True))
    assert codes and all(c.startswith("370881") for c in codes)
    backbone = PointResult.objects.get(division_code="370881101", point__code="4.2", stage="primary")
    assert backbone.value == Decimal("0.206897")  # 12 / 58 at the seat school of 吴村镇
    from evaluation.models import AreaResult

    assert {"370881", "3708", "37"} <= set(AreaResult.objects.values_list("division_code", flat=True))


def test_rollup_command(data, capsys):
    from django.core.management import call_command

    call_command("rollup", "--period", "2024", "--prefix", "370881")
    out = capsys.readouterr().out
    assert "1 counties" in out and "565" in out
    assert PointResult.objects.filter(division_code__startswith="370881").exists()
    assert not PointResult.objects.exclude(division_code__startswith="370881").exists()
    call_command("rollup", "--period", "2024", "--prefix", "")  # every province at once
    out = capsys.readouterr().out
    counties = Division.objects.filter(level=Level.COUNTY).count()
    assert f"{counties} counties" in out and "565" in out
    assert PointResult.objects.filter(division_code__startswith="370826").exists()


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


def test_a_county_task_bumps_the_results_token_once_as_its_last_statement(data):
    """The token's row lock is held from the bump to the commit; a bump in the middle of the task
    would make every form save and submit wait for the area counts (seen in the load bench)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.results_version import results_token
    from evaluation.services.rollup_jobs import run_county_unit

    before = results_token("370881")
    with CaptureQueriesContext(connection) as ctx:
        run_county_unit(periods=[2024], county="370881", job_id=None)
    statements = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    bumps = [i for i, sql in enumerate(statements) if "core_resultsversion" in sql and sql.startswith(("UPDATE", "INSERT"))]
    assert len(bumps) == 1 and bumps[0] == len(statements) - 1, [s[:60] for s in statements[-4:]]
    assert results_token("370881") != before


def test_a_burst_of_changed_counties_is_counted_once_and_equals_a_full_recomputation(data, django_capture_on_commit_callbacks):
    """After a change each county is recomputed at once; the areas above wait for one count that
    covers every county changed meanwhile (AreaCountsDue). The counts equal a full run's."""
    from datetime import timedelta

    from django.utils import timezone

    from evaluation.models import AreaCountsDue, AreaResult
    from evaluation.rollup import rollup_all
    from evaluation.services.rollup_jobs import run_area_counts, run_county_unit

    columns = ("division_code", "period", "round_key", "population", "stage", "target_number", "townships", "attained")
    rollup_all(period=2024, prefix=PREFIX)
    ours = AreaResult.objects.filter(division_code__in=["37", PREFIX]) | AreaResult.objects.filter(division_code__startswith=PREFIX)
    expected = sorted(ours.values_list(*columns))
    assert expected
    AreaResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for county in ("370881", "370883", "370826"):
            run_county_unit(periods=[2024], county=county, job_id=None)
    due = AreaCountsDue.objects.get(period=2024, province="37")
    assert (due.requested, due.computed, len(callbacks)) == (3, 0, 1)  # three counties, one count queued by the first
    assert not AreaResult.objects.exists()  # not counted per county
    later = timezone.now() + timedelta(seconds=30)
    assert run_area_counts(period=2024, province="37", now=later) == "counted"
    assert run_area_counts(period=2024, province="37", now=later) == "current"  # a duplicate delivery does nothing
    assert sorted(ours.values_list(*columns)) == expected
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_county_unit(periods=[2024], county="370881", job_id=None)  # a later change is owed again
    assert len(callbacks) == 1


def test_area_counts_wait_for_a_pause_in_a_burst_but_not_forever(data, django_capture_on_commit_callbacks, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from evaluation.models import AreaCountsDue
    from evaluation.services.rollup_jobs import AREA_COUNTS_MAX_WAIT_S, owe_area_counts, run_area_counts
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)  # a worker that can wait
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=False):
        owe_area_counts(period=2024, county="370881", now=start)
    for second in range(1, AREA_COUNTS_MAX_WAIT_S):  # a change every second: never a pause
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            owe_area_counts(period=2024, county="370883", now=start + timedelta(seconds=second))
            assert run_area_counts(period=2024, province="37", now=start + timedelta(seconds=second, milliseconds=500)) == "waiting"
        assert len(callbacks) == 1  # the waiting count queued itself again, nothing else was queued
    assert run_area_counts(period=2024, province="37", now=start + timedelta(seconds=AREA_COUNTS_MAX_WAIT_S)) == "counted"
    due = AreaCountsDue.objects.get(period=2024, province="37")
    assert due.computed == due.requested == AREA_COUNTS_MAX_WAIT_S


def test_a_lost_area_count_is_queued_again_by_the_next_change(data, django_capture_on_commit_callbacks, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from evaluation.services.rollup_jobs import AREA_COUNTS_LOST_S, owe_area_counts, run_area_counts
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        owe_area_counts(period=2024, county="370881", now=start)  # its count task is lost
        owe_area_counts(period=2024, county="370883", now=start + timedelta(seconds=5))  # within a burst: nothing more
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        owe_area_counts(period=2024, county="370883", now=start + timedelta(seconds=AREA_COUNTS_LOST_S + 1))
    assert len(callbacks) == 1  # queued again
    assert run_area_counts(period=2024, province="37", now=start + timedelta(seconds=AREA_COUNTS_LOST_S + 4)) == "counted"


def _results():
    from evaluation.models import AreaResult, TargetResult, TownshipResult

    return {m.__name__: sorted(m.objects.values_list(*[f.attname for f in m._meta.concrete_fields if f.attname not in ("id", "computed_at")]))
            for m in (PointResult, TargetResult, TownshipResult, AreaResult)}


def test_a_submitted_or_returned_form_recomputes_judgments_only_and_equals_a_full_recomputation(data, world, django_capture_on_commit_callbacks, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evaluation.models import Judgment
    from evaluation.rollup import rollup_all
    from evaluation.services.forms import assign_team, create_round, return_form, save_draft, submit_form
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # test_tasks covers the real worker
    rollup_all(period=2024, prefix=PREFIX)
    rnd = create_round(name="评估", period=2024, framework=data, township_codes=["370881109"], created_by=world.user("province"))
    lead = world.user("inspector_a")
    form = assign_team(round=rnd, township_code="370881109", inspectors=[lead], lead=lead)
    levels = {j.point.code: {"level": "not_attained" if j.point.code == "3.1" else "attained"} for j in Judgment.objects.filter(form=form).select_related("point")}
    form = save_draft(form=form, user=lead, version=form.version, answers=levels)
    # Another round of the year in the same county, its form submitted: the change below is not
    # in it, so its rows are neither recomputed nor changed.
    other = create_round(name="复评", period=2024, framework=data, township_codes=["370881109"], created_by=world.user("province"))
    other_form = assign_team(round=other, township_code="370881109", inspectors=[lead], lead=lead)
    other_form = save_draft(form=other_form, user=lead, version=other_form.version, answers={code: {"level": "basic"} for code in levels})
    submit_form(form=other_form, user=lead, version=other_form.version)
    rollup_all(period=2024, prefix=PREFIX)  # the round's rows exist, its judgments not yet submitted
    other_rows = PointResult.objects.filter(round_key=other.pk).values_list("division_code", "point_id", "verdict", "computed_at")
    other_before = sorted(other_rows)
    assert {verdict for *_, verdict, _at in other_before} == {"basic"}
    for change in ("submit", "return"):
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            if change == "submit":
                form = submit_form(form=form, user=lead, version=form.version)
            else:
                form = return_form(form=form, user=world.user("province"), reason="证据不足")
        assert not any("rollup_rows" in q["sql"] for q in queries.captured_queries)  # the data points were not recomputed
        # The form's round alone: one township statement, not one per round of the year.
        assert sum("INSERT INTO evaluation_townshipresult" in q["sql"] for q in queries.captured_queries) == 1, change
        assert sorted(other_rows) == other_before, change
        verdicts = dict(PointResult.objects.filter(division_code="370881109", round_key=rnd.pk, point__code__in=levels).values_list("point__code", "verdict"))
        expected = {code: level["level"] for code, level in levels.items()} if change == "submit" else dict.fromkeys(levels, "insufficient")
        assert verdicts == expected, change
        incremental = _results()
        rollup_all(period=2024, prefix=PREFIX)
        assert _results() == incremental, change


def test_a_submitted_form_queues_its_own_round_a_moment_later_and_a_data_change_at_once(data, world, django_capture_on_commit_callbacks, monkeypatch):
    """The worker's message names the form's round, and waits FORM_ROLLUP_DELAY_S so a deadline's
    burst of submits is answered before the roll-ups take the CPU; an upload's roll-up is not delayed."""
    from evaluation.models import Judgment
    from evaluation.services import rollup_jobs
    from evaluation.services.forms import assign_team, create_round, save_draft, submit_form
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    queued = []
    monkeypatch.setattr(rollup_jobs, "enqueue", lambda task, *args, countdown=None: queued.append((task, args, countdown)))
    rnd = create_round(name="评估", period=2024, framework=data, township_codes=["370881109"], created_by=world.user("province"))
    lead = world.user("inspector_a")
    form = assign_team(round=rnd, township_code="370881109", inspectors=[lead], lead=lead)
    form = save_draft(form=form, user=lead, version=form.version,
                      answers={j.point.code: {"level": "attained"} for j in Judgment.objects.filter(form=form).select_related("point")})
    assert queued == []  # a draft queues nothing
    with django_capture_on_commit_callbacks(execute=True):
        submit_form(form=form, user=lead, version=form.version)
    assert queued == [(rollup_jobs.COUNTY_TASK, ([2024], "370881", None, True, [rnd.pk]), rollup_jobs.FORM_ROLLUP_DELAY_S)]
    queued.clear()
    rollup_jobs.queue_rollup(periods=[2024], township_codes=["370881109"])
    assert [countdown for *_, countdown in queued] == [None] and all(args[3] is False and args[4] is None for _, args, _ in queued)


def test_the_whole_country_in_one_pass_equals_each_province_on_its_own(data):
    """`rollup_all(prefix="")` (the national bench's run, one pass over every province) leaves
    exactly the results of a roll-up of each province on its own — areas at every level included."""
    from evaluation.models import AreaResult, TargetResult, TownshipResult
    from evaluation.rollup import prefix_range, rollup_all
    from townships.services.divisions import load_divisions

    load_divisions(provinces={"13"})
    load_demo_schools(province_prefix="130127", villages_per_township=1)  # 高邑县, 河北
    load_demo_facts(province_prefix="130127")
    assert prefix_range("") == {"lo": "", "hi": "9999999999999"}

    def results():
        return (
            sorted(PointResult.objects.values_list("division_code", "point_id", "period", "stage", "value", "previous_value", "verdict")),
            sorted(TargetResult.objects.values_list("division_code", "target_number", "period", "verdict", "score", "vetoed")),
            sorted(TownshipResult.objects.values_list("division_code", "period", "targets_attained", "all_seven", "score")),
            sorted(AreaResult.objects.values_list("division_code", "period", "population", "stage", "target_number", "townships", "attained")),
        )

    for year in (2023, 2024):
        for province in ("13", "37"):
            rollup_all(period=year, prefix=province, value_added=False)
    each = results()
    assert {code[:2] for code, *_ in each[3]} == {"13", "37"} and any(len(code) == 6 and code.startswith("13") for code, *_ in each[3])
    for model in (PointResult, TargetResult, TownshipResult, AreaResult):
        model.objects.all().delete()
    for year in (2023, 2024):
        rollup_all(period=year, prefix="", value_added=False)
    assert results() == each
