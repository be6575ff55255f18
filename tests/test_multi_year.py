"""Results that stay true across the years (issue 14), one plain test per rule, with the figures
before and after: framework versions, late corrections, moved schools, withdrawn pilots, the
read-only admin for facts, and target 7's ceiling. `test_oracle.py` holds every change to a full
recomputation."""
import copy
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from evaluation.imports.service import import_file
from evaluation.models import AreaResult, Framework, ObservationPoint, PointResult, SchoolYear, TargetResult, TownshipYear
from evaluation.rules import evaluate_township
from evaluation.services.framework import DEFAULT_FRAMEWORK, load_framework
from tests import import_files as f
from townships.jurisdiction import resolve_jurisdiction
from townships.models import PilotStatus, PilotTownship, Stage
from townships.services.pilot_status import withdraw_pilot

pytestmark = pytest.mark.django_db

SCHOOL = "7370881001"  # the seat school of 吴村镇 (370881101) in the test world
TOWN, OTHER_TOWN, OTHER_COUNTY_TOWN = "370881101", "370881103", "370883101"
TY_HEADERS = ["乡镇代码", "学年", "户籍学前适龄儿童数", "其中在本乡镇就读", "户籍小学适龄儿童数", "其中在本乡镇小学就读", "户籍初中适龄少年数", "其中在本乡镇初中就读"]
SCHOOL_HEADERS = ["学校标识码", "学校名称", "学段", "所在乡镇代码", "是否乡镇驻地学校", "是否城区学校", "是否城区优质学校"]


@pytest.fixture
def eager(monkeypatch, django_capture_on_commit_callbacks):
    """Tasks in-process (test_tasks covers the real worker); `run(fn)` runs `fn` and then what it
    queued after its commit, as a worker would."""
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)

    def run(fn):
        with django_capture_on_commit_callbacks(execute=True):
            return fn()

    return run


def upload(user, sheets: dict, eager):
    run = eager(lambda: import_file(user=user, jurisdiction=resolve_jurisdiction(user), data=f.xlsx(sheets), file_name="t.xlsx",
                                    channel="test", dry_run=False, confirm_all="已核实"))
    assert run.status == "committed", (run.status, run.message)
    return run


def school_year(code, period, students=600, teachers=40, backbone=8, health=0.93):
    return [code, "", period, students, teachers, backbone, health, "是", "良", 30]


def point(code, town=TOWN, period=2024, stage="primary", round_key=0):
    """The point's data-only result, by the version in force for the year."""
    from evaluation.rollup import framework_for_period

    return PointResult.objects.select_related("point__target__framework").get(
        division_code=town, period=period, round_key=round_key, stage=stage, point__code=code,
        point__target__framework=framework_for_period(period))


def framework_document(**changes) -> dict:
    doc = json.loads(DEFAULT_FRAMEWORK.read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    thresholds = changes.pop("thresholds", {})
    doc.update(changes)
    for target in doc["targets"]:
        for p in target["points"]:
            if p["code"] in thresholds:
                p["threshold"] = thresholds[p["code"]]
    return doc


def test_a_new_version_leaves_a_rounds_results_and_earlier_years_as_they_were(world, eager, client):
    from evaluation.services.forms import create_round

    first = eager(load_framework)
    officer = world.user("county_370881")
    upload(officer, {"学校年度数据": [f.SY_HEADERS, school_year(SCHOOL, 2023, health=0.93), school_year(SCHOOL, 2024, health=0.93)]}, eager)
    rnd = eager(lambda: create_round(name="2024年度评估", period=2024, framework=first, township_codes=[TOWN], created_by=world.user("province")))
    eager(lambda: upload(officer, {"学校年度数据": [f.SY_HEADERS, school_year(SCHOOL, 2024, health=0.94)]}, eager))
    assert point("2.4").verdict == "attained" and point("2.4").point.target.framework == first  # 0.94 ≥ 0.90
    round_before = sorted(TargetResult.objects.filter(round_key=rnd.pk).values_list("division_code", "target_number", "verdict", "score"))
    round_points = sorted(PointResult.objects.filter(round_key=rnd.pk).values_list("division_code", "point_id", "verdict"))
    assert round_before and round_points

    # Version 2024.1: the health pass rate must reach 0.95, from the 2024 school year on.
    second = eager(lambda: load_framework(document=framework_document(version="2024.1", applies_from=2024, thresholds={"2.4": 0.95})))
    assert second.pk != first.pk
    now = point("2.4")
    assert now.point.target.framework == second and now.verdict == "not_attained" and now.reference == Decimal("0.95")
    # Last year's value is still beside it, matched by the point's code across the versions.
    assert now.previous_value == Decimal("0.930000")
    # The round still reads the old version's data points of 2024; both versions' are there.
    assert PointResult.objects.filter(division_code=TOWN, period=2024, round_key=0, stage="primary", point__target__framework=first, point__code="2.4").count() == 1
    # 2023 is judged by the version in force then; the round by the version it names.
    assert point("2.4", period=2023).point.target.framework == first and point("2.4", period=2023).verdict == "attained"
    assert sorted(TargetResult.objects.filter(round_key=rnd.pk).values_list("division_code", "target_number", "verdict", "score")) == round_before
    assert sorted(PointResult.objects.filter(round_key=rnd.pk).values_list("division_code", "point_id", "verdict")) == round_points
    assert TargetResult.objects.get(division_code=TOWN, period=2024, round_key=0, target_number=2).verdict == "not_attained"

    # The township page says which version judged the figures, and that last year's was another.
    client.force_login(officer)
    page = client.get(reverse("reports:township", args=[TOWN]) + "?period=2024&round=0").content.decode()
    assert "2024.1" in page and 'id="framework-changed"' in page
    in_round = client.get(reverse("reports:township", args=[TOWN]) + f"?period=2024&round={rnd.pk}").content.decode()
    assert "2021.1" in in_round


def test_a_late_correction_of_one_year_recomputes_the_next_years_previous_values_and_trend(world, eager):
    eager(load_framework)
    officer = world.user("county_370881")
    # Primary local enrolment: 80 % in 2023, 85 % in 2024 — rising.
    upload(officer, {"乡镇年度数据": [TY_HEADERS, [TOWN, 2023, 100, 50, 100, 80, 100, 50], [TOWN, 2024, 100, 50, 100, 85, 100, 50]]}, eager)
    trend = point("7.2")
    assert (trend.value, trend.reference, trend.previous_value, trend.verdict) == (Decimal("0.850000"), Decimal("0.800000"), Decimal("0.800000"), "attained")

    # 2023 corrected to 90 %: the file names only 2023, yet 2024 has fallen now.
    upload(officer, {"乡镇年度数据": [TY_HEADERS, [TOWN, 2023, 100, 50, 100, 90, 100, 50]]}, eager)
    trend = point("7.2")
    assert (trend.value, trend.reference, trend.previous_value, trend.verdict) == (Decimal("0.850000"), Decimal("0.900000"), Decimal("0.900000"), "not_attained")
    assert TargetResult.objects.get(division_code=TOWN, period=2024, round_key=0, target_number=7).verdict == "not_attained"


def test_rising_year_on_year_is_attained_at_the_ceiling_or_by_a_rise_and_not_by_a_fall(world, eager):
    framework = eager(load_framework)
    officer = world.user("county_370881")
    rows = [
        [TOWN, 2023, 100, 100, 100, 100, 100, 99],  # preschool 1.00 → 1.00, primary 1.00 → 0.985, junior 0.99 → 0.90
        [TOWN, 2024, 100, 100, 200, 197, 100, 90],
    ]
    upload(officer, {"乡镇年度数据": [TY_HEADERS, *rows]}, eager)
    got = {code: point(code, stage=stage).verdict for code, stage in (("7.1", "kindergarten"), ("7.2", "primary"), ("7.3", "junior"))}
    # 100 % twice cannot rise (attained at the ceiling); 98.5 % fell but is above it; 90 % fell below it.
    assert got == {"7.1": "attained", "7.2": "attained", "7.3": "not_attained"}
    points = ObservationPoint.objects.filter(target__framework=framework, code__startswith="7.").select_related("target")
    assert {r.point.code: r.verdict for r in evaluate_township(points=points, township_code=TOWN, period=2024)} == got
    assert all(p.threshold == Decimal("0.98") and p.portal_default and p.trend_reading == "rise" for p in points)


def test_a_school_moved_to_another_township_takes_its_years_along_and_both_are_recomputed(world, eager):
    eager(load_framework)
    city = world.user("city_3708")
    upload(city, {"学校年度数据": [f.SY_HEADERS, school_year(SCHOOL, 2023, teachers=50, backbone=10), school_year(SCHOOL, 2024, teachers=58, backbone=12),
                                   school_year("7370881002", 2023), school_year("7370881002", 2024)]}, eager)  # 曲阜 keeps 姚村镇's facts
    assert point("4.2").value == Decimal("0.206897") and point("4.2", period=2023).value == Decimal("0.200000")
    assert not PointResult.objects.filter(division_code=OTHER_COUNTY_TOWN).exists()  # 邹城 has no data yet

    # The school list moves the school to 香城镇 in 邹城 (the city's officer may).
    upload(city, {"学校名录": [SCHOOL_HEADERS, [SCHOOL, "吴村镇学校1", "小学", OTHER_COUNTY_TOWN, "是", "否", "否"]]}, eager)
    assert set(SchoolYear.objects.filter(school__code=SCHOOL).values_list("period", "township_id")) == {(2023, OTHER_COUNTY_TOWN), (2024, OTHER_COUNTY_TOWN)}
    for period in (2023, 2024):
        assert point("4.2", period=period).value is None and point("4.2", period=period).verdict == "insufficient"
    assert point("4.2", town=OTHER_COUNTY_TOWN).value == Decimal("0.206897")
    assert point("4.2", town=OTHER_COUNTY_TOWN, period=2023).value == Decimal("0.200000")
    assert point("4.2", town=OTHER_COUNTY_TOWN).previous_value == Decimal("0.200000")


def test_a_seat_flag_change_recomputes_every_year_of_the_school(world, eager):
    eager(load_framework)
    officer = world.user("county_370881")
    upload(officer, {"学校年度数据": [f.SY_HEADERS, school_year(SCHOOL, 2023), school_year(SCHOOL, 2024)]}, eager)
    assert point("4.2", period=2023).value == Decimal("0.200000")
    # No longer the seat school: 吴村镇 (not a pilot, so seat schools only) has none left.
    upload(officer, {"学校名录": [SCHOOL_HEADERS, [SCHOOL, "吴村镇学校1", "小学", TOWN, "否", "否", "否"]]}, eager)
    assert point("4.2", period=2023).value is None and point("4.2", period=2024).value is None


def test_a_withdrawn_pilot_counts_until_the_year_it_was_withdrawn_in(world, eager):
    eager(load_framework)
    officer = world.user("county_370881")
    pilot = PilotTownship.objects.select_related("batch").get(township_id="370881109")  # 息陬镇, first batch 2021
    upload(officer, {"乡镇年度数据": [TY_HEADERS, ["370881109", 2023, 100, 90, 100, 90, 100, 90], ["370881109", 2024, 100, 95, 100, 95, 100, 95]]}, eager)

    def pilots(period, area="370881"):
        row = AreaResult.objects.filter(division_code=area, period=period, round_key=0, population="pilots", stage="all", target_number=0).first()
        return row.townships if row else 0

    assert (pilots(2023), pilots(2024)) == (1, 1)
    province_2024 = pilots(2024, "37")
    eager(lambda: withdraw_pilot(entry=pilot, year=2024, user=world.user("province")))
    pilot.refresh_from_db()
    assert (pilot.status, pilot.withdrawn_in) == (PilotStatus.WITHDRAWN, 2024)
    assert (pilots(2023), pilots(2024)) == (1, 0)
    assert pilots(2024, "37") == province_2024 - 1
    assert list(PilotTownship.objects.in_year(2023).filter(township_id="370881109").values_list("township_id", flat=True)) == ["370881109"]
    assert not PilotTownship.objects.in_year(2024).filter(township_id="370881109").exists()


def test_a_withdrawal_that_contradicts_itself_is_refused_and_changes_nothing(world):
    from django.core.exceptions import ValidationError

    pilot = PilotTownship.objects.select_related("batch").get(township_id="370881109")
    with pytest.raises(ValidationError) as refused:
        withdraw_pilot(entry=pilot, year=2019, user=world.user("province"))  # before its batch (2021)
    assert "不能早于" in str(refused.value) or "before" in str(refused.value)
    pilot.refresh_from_db()
    assert (pilot.status, pilot.withdrawn_in) == (PilotStatus.ACTIVE, None)


def test_the_admin_edits_no_facts_around_the_upload(client, world):
    from tests.conftest import snapshot
    from townships.models import School

    eager_free = world.user("province")
    eager_free.is_superuser = True
    eager_free.save()
    client.force_login(eager_free)
    school = world.schools["370881"][0]
    before = snapshot(School, SchoolYear, TownshipYear)
    responses = [
        client.post(reverse("admin:townships_school_change", args=[school.pk]), {"code": school.code, "name": "改", "stage": Stage.JUNIOR, "township": OTHER_TOWN}),
        client.post(reverse("admin:townships_school_add"), {"code": "7370881999", "name": "新", "stage": Stage.PRIMARY, "township": TOWN}),
        client.post(reverse("admin:evaluation_schoolyear_add"), {"school": school.pk, "period": 2024, "students": 5}),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403]
    assert snapshot(School, SchoolYear, TownshipYear) == before


def test_a_framework_in_force_is_chosen_by_school_year(world):
    from evaluation.rollup import framework_for_period

    first = load_framework()
    second = load_framework(document=framework_document(version="2024.1", applies_from=2024))
    assert [framework_for_period(p).version for p in (2020, 2021, 2023, 2024, 2030)] == ["2021.1", "2021.1", "2021.1", "2024.1", "2024.1"]
    assert Framework.objects.get(pk=first.pk).applies_from == 2021 and second.applies_from == 2024


def test_the_pages_choose_versions_and_name_targets_as_the_rollup_does(world):
    # The dashboards read every version with its targets once (reports.selectors.Filters.versions)
    # instead of asking framework_for_period and target_names: the same choices, no other query.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evaluation.rollup import framework_for_period
    from reports.selectors import Filters, target_names
    from townships.models import Division

    load_framework()
    load_framework(document=framework_document(version="2024.1", applies_from=2024, targets=[
        {**t, "name": f"{t['name']}（2024）"} for t in framework_document()["targets"]]))
    area = Division.objects.get(code="370881")
    for period in (2020, 2021, 2023, 2024, 2025, 2030):
        f = Filters(area=area, period=period, round_key=0, population="all", stage="all", periods=[period])
        with CaptureQueriesContext(connection) as queries:
            chosen, before, names = f.framework, f.previous_framework, f.target_names
        assert len(queries) == 1
        assert chosen == framework_for_period(period) and names == target_names(framework_for_period(period))
        expected_before = framework_for_period(period - 1)
        assert before == (expected_before if expected_before != chosen else None)
    assert Filters(area=area, period=None, round_key=0, population="all", stage="all").target_names == target_names()
