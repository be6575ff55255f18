"""The programme's workflow: self-assessment reviewed up the levels with the data locks it brings,
rectification with escalation, plans and deadlines, good practice — each refusal changes nothing."""
from datetime import date, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from evaluation.imports.service import import_file
from evaluation.models import ImportStatus, PointResult, SchoolYear
from evaluation.services.forms import FormRefused, assign_team, create_round, save_draft, submit_form
from evaluation.services.framework import load_framework
from tests import import_files as f
from tests.conftest import snapshot
from townships.jurisdiction import resolve_jurisdiction
from workflow.models import (
    AssessmentStatus,
    DataLock,
    Escalation,
    ItemStatus,
    Notification,
    Plan,
    PlanStatus,
    RectificationItem,
    RectificationStep,
    ReviewStep,
    SelfAssessment,
    SelfAssessmentItem,
)
from workflow.services.common import WorkflowRefused
from workflow.services.review import open_assessment, reopen_self_assessment, review_self_assessment, save_self_assessment, submit_self_assessment

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(user, data):
    return import_file(user=user, jurisdiction=resolve_jurisdiction(user), data=data, file_name="data.xlsx", channel="test", dry_run=False)


@pytest.fixture
def chain(world):
    framework = load_framework()
    town = world.schools["370881"][0].township_id  # the 乡镇 of school 7370881001
    other = world.schools["370881"][1].township_id
    assert upload(world.user("county_370881"), f.school_year_xlsx()).status == ImportStatus.COMMITTED
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=[town, other, "370883101"], created_by=world.user("province"))
    return world, rnd, town, other


def all_attained(assessment):
    return {i.point.code: {"level": "attained", "comment": "自评"} for i in assessment.items.select_related("point")}


def test_the_whole_chain_for_one_township(chain):
    world, rnd, town, other = chain
    county, city, province = world.user("county_370881"), world.user("city_3708"), world.user("province")
    a = open_assessment(user=county, round=rnd, township_code=town)
    a = save_self_assessment(user=county, assessment=a, version=a.version, answers=all_attained(a))
    a = submit_self_assessment(user=county, assessment=a)
    assert a.status == AssessmentStatus.SUBMITTED

    # The city returns it with a reason and the points to revisit; the county is told.
    a = review_self_assessment(user=city, assessment=a, approve=False, reason="1.1 功能室数据与台账不符", points=["1.1"])
    assert a.status == AssessmentStatus.CITY_RETURNED
    step = ReviewStep.objects.filter(assessment=a).last()
    assert (step.action, step.level, step.user, step.reason, step.points) == ("return", "city", city, "1.1 功能室数据与台账不符", ["1.1"])
    assert Notification.objects.filter(user=county, kind="review_return").exists()

    answers = all_attained(a)
    answers["1.1"] = {"level": "basic", "comment": "已核对台账"}
    a = save_self_assessment(user=county, assessment=a, version=a.version, answers=answers)
    a = submit_self_assessment(user=county, assessment=a)
    a = review_self_assessment(user=city, assessment=a, approve=True)
    assert a.status == AssessmentStatus.CITY_APPROVED
    assert DataLock.objects.get(township_id=town, released_at=None).level == "city"
    a = review_self_assessment(user=province, assessment=a, approve=True)
    assert a.status == AssessmentStatus.PROVINCE_APPROVED
    lock = DataLock.objects.get(township_id=town, released_at=None)
    assert (lock.level, lock.period) == ("province", 2024)
    assert [s.action for s in a.steps.all()] == ["submit", "return", "submit", "approve", "approve"]

    # Locked: an upload changing a locked value is refused, names the lock, and changes nothing.
    before = snapshot(SchoolYear)
    rows = [list(r) for r in f.SY_ROWS]
    rows[0][3] = 999  # 7370881001 is in the locked 乡镇
    run = upload(county, f.school_year_xlsx(rows))
    assert run.status == ImportStatus.INVALID
    assert any("锁定" in e["message"] and "2024年度评估" in e["message"] and e["row"] == 2 for e in run.errors), run.errors
    assert snapshot(SchoolYear) == before
    # An upload whose locked values are unchanged goes through (the other school's row changes).
    rows = [list(r) for r in f.SY_ROWS]
    rows[1][3] = 650
    assert upload(county, f.school_year_xlsx(rows)).status == ImportStatus.COMMITTED
    assert SchoolYear.objects.get(school__code="7370881002", period=2024).students == 650
    # The inspectors' form of the locked 乡镇 cannot change either.
    lead = world.user("inspector_a")
    form = assign_team(round=rnd, township_code=town, inspectors=[lead], lead=lead)
    assert Notification.objects.filter(user=lead, kind="assignment", url=f"/data/inspect/{form.pk}/").exists()
    with pytest.raises(FormRefused, match="锁定"):
        save_draft(form=form, user=lead, version=form.version, answers={"3.1": {"level": "attained"}})

    # The province reopens it with a reason; the upload is accepted.
    with pytest.raises(WorkflowRefused):
        reopen_self_assessment(user=province, assessment=a, reason="  ")
    a = reopen_self_assessment(user=province, assessment=a, reason="核查发现在校生数有误，需更正")
    assert a.status == AssessmentStatus.REOPENED
    assert not DataLock.objects.filter(township_id=town, released_at=None).exists()
    released = DataLock.objects.get(township_id=town)  # kept as history, with who released it and why
    assert (released.released_by, released.release_reason) == (province, "核查发现在校生数有误，需更正")
    rows = [list(r) for r in f.SY_ROWS]
    rows[0][3] = 999
    rows[1][3] = 650
    assert upload(county, f.school_year_xlsx(rows)).status == ImportStatus.COMMITTED
    assert SchoolYear.objects.get(school__code="7370881001", period=2024).students == 999


def test_no_level_approves_for_another_area_or_itself(chain):
    world, rnd, town, other = chain
    county = world.user("county_370881")
    a = open_assessment(user=county, round=rnd, township_code=town)
    a = save_self_assessment(user=county, assessment=a, version=a.version, answers=all_attained(a))
    a = submit_self_assessment(user=county, assessment=a)
    before = snapshot(SelfAssessment, ReviewStep, DataLock)
    with pytest.raises(WorkflowRefused, match="不能审核自己"):
        review_self_assessment(user=county, assessment=a, approve=True)
    for key in ("city_3702", "county_370883"):  # another city; the neighbouring county
        with pytest.raises(WorkflowRefused):
            review_self_assessment(user=world.user(key), assessment=a, approve=True)
    with pytest.raises(WorkflowRefused):  # the province reviews only after the city
        review_self_assessment(user=world.user("province"), assessment=a, approve=True)
    with pytest.raises(WorkflowRefused):  # a return needs its reason
        review_self_assessment(user=world.user("city_3708"), assessment=a, approve=False, reason="")
    assert snapshot(SelfAssessment, ReviewStep, DataLock) == before
    # Other areas cannot open or fill it either.
    with pytest.raises(WorkflowRefused):
        open_assessment(user=world.user("county_370883"), round=rnd, township_code=town)
    with pytest.raises(WorkflowRefused):
        submit_self_assessment(user=world.user("county_370883"), assessment=a)


def test_submitting_needs_every_point_and_stale_saves_are_refused(chain):
    world, rnd, town, other = chain
    county = world.user("county_370881")
    a = open_assessment(user=county, round=rnd, township_code=town)
    with pytest.raises(WorkflowRefused, match="1.1"):
        submit_self_assessment(user=county, assessment=a)
    a2 = save_self_assessment(user=county, assessment=a, version=a.version, answers={"1.1": {"level": "attained"}})
    before = snapshot(SelfAssessmentItem)
    with pytest.raises(WorkflowRefused):
        save_self_assessment(user=county, assessment=a, version=a.version, answers={"1.1": {"level": "not_attained"}})
    assert snapshot(SelfAssessmentItem) == before and a2.status == AssessmentStatus.DRAFT


# --- Rectification --------------------------------------------------------------------------


@pytest.fixture
def judged(chain):
    """The inspectors' submitted form for the 乡镇, with one point judged not attained."""
    from evaluation.rollup import rollup_all

    world, rnd, town, other = chain
    lead = world.user("inspector_a")
    form = assign_team(round=rnd, township_code=town, inspectors=[lead], lead=lead)
    answers = {j.point.code: {"level": "attained"} for j in form.judgments.select_related("point")}
    answers["3.1"] = {"level": "not_attained", "comment": "校园文化建设不足"}
    form = save_draft(form=form, user=lead, version=form.version, answers=answers)
    submit_form(form=form, user=lead, version=form.version)
    rollup_all(period=2024, prefix="370881")
    return world, rnd, town, lead


def test_a_failed_point_becomes_an_item_once(judged):
    from workflow.services.rectification import sync_items

    world, rnd, town, lead = judged
    failed = set(PointResult.objects.filter(division_code=town, period=2024, round_key__in=[0, rnd.pk], verdict="not_attained").values_list("point__code", flat=True))
    assert "3.1" in failed
    assert sync_items(round=rnd) == len(failed)  # one item per point, its failing stages in the problem
    assert set(RectificationItem.objects.values_list("point__code", flat=True)) == failed
    item = RectificationItem.objects.get(point__code="3.1")
    assert item.township_id == town and item.status == ItemStatus.OPEN and item.due_on > timezone.localdate()
    assert "3.1" in item.problem and item.steps.get().action == "created"
    assert Notification.objects.filter(user=world.user("county_370881"), kind="rectification").exists()
    # Only townships whose form is submitted; running again creates nothing new.
    assert sync_items(round=rnd) == 0 and RectificationItem.objects.count() == len(failed)
    assert not RectificationItem.objects.exclude(township_id=town).exists()


def test_closing_needs_evidence_and_only_the_checkers_close(judged):
    from workflow.services.rectification import add_item_evidence, answer_item, check_item, sync_items

    world, rnd, town, lead = judged
    sync_items(round=rnd)
    item = RectificationItem.objects.get(point__code="3.1")
    county = world.user("county_370881")
    before = snapshot(RectificationItem, RectificationStep)
    with pytest.raises(WorkflowRefused, match="证明材料"):
        answer_item(user=county, item=item, measures="已完成校园文化墙建设")
    with pytest.raises(WorkflowRefused):
        add_item_evidence(user=county, item=item, data=b"<script>", file_name="x.png")
    with pytest.raises(WorkflowRefused):  # the neighbouring county cannot answer it
        answer_item(user=world.user("county_370883"), item=item, measures="x")
    assert snapshot(RectificationItem, RectificationStep) == before
    add_item_evidence(user=county, item=item, data=PNG, file_name="文化墙.png")
    item = answer_item(user=county, item=item, measures="已完成校园文化墙建设")
    assert item.status == ItemStatus.ANSWERED
    for key in ("county_370881", "inspector_b", "city_3702"):  # the county itself; another inspector; another city
        with pytest.raises(WorkflowRefused):
            check_item(user=world.user(key), item=item, close=True)
    item = check_item(user=world.user("city_3708"), item=item, close=False, note="照片不清晰，请补充")
    assert item.status == ItemStatus.RETURNED
    item = answer_item(user=county, item=item, measures="补充了清晰照片")
    item = check_item(user=lead, item=item, close=True, note="核查通过")
    assert item.status == ItemStatus.CLOSED and item.closed_at
    assert [s.action for s in item.steps.all()] == ["created", "answered", "returned", "answered", "closed"]


def test_overdue_items_escalate_on_schedule(judged):
    from workflow.services.rectification import escalate_overdue, sync_items

    world, rnd, town, lead = judged
    sync_items(round=rnd)
    item = RectificationItem.objects.get(point__code="3.1")
    due = item.due_on
    frozen = timezone.make_aware(timezone.datetime.combine(due, timezone.datetime.min.time())) + timedelta(hours=12)
    with mock.patch("django.utils.timezone.now", return_value=frozen):  # on the deadline: nothing yet
        assert escalate_overdue() == {"notice": 0, "talk": 0}
    with mock.patch("django.utils.timezone.now", return_value=frozen + timedelta(days=1)):
        result = escalate_overdue()
        assert result["notice"] == RectificationItem.objects.count() and result["talk"] == 0
        assert escalate_overdue() == {"notice": 0, "talk": 0}  # twice a day escalates nothing twice
    item.refresh_from_db()
    assert item.escalation == Escalation.NOTICE
    assert Notification.objects.filter(user=world.user("city_3708"), kind="escalation_notice").exists()
    with mock.patch("django.utils.timezone.now", return_value=frozen + timedelta(days=29)):
        assert escalate_overdue()["talk"] == 0
    with mock.patch("django.utils.timezone.now", return_value=frozen + timedelta(days=30)):
        assert escalate_overdue()["talk"] == RectificationItem.objects.count()
    item.refresh_from_db()
    assert item.escalation == Escalation.TALK
    assert [s.action for s in item.steps.all()] == ["created", "notice", "talk"]
    assert Notification.objects.filter(user=world.user("province"), kind="escalation_talk").exists()
    # A closed item never escalates.
    assert not Notification.objects.filter(user=world.user("county_370883"), kind__startswith="escalation").exists()


# --- Plans, deadlines, funding, good practice -------------------------------------------------


def test_a_county_plan_needs_measures_for_every_township_and_late_plans_are_reminded(world):
    from townships.models import Division
    from workflow.selectors import plan_status
    from workflow.services.plans import add_measure, add_plan_document, file_plan, remind_late_plans, save_plan, set_deadline

    province, county = world.user("province"), world.user("county_370881")
    with pytest.raises(WorkflowRefused):
        set_deadline(user=county, year=2021, level="county", due_on=date(2021, 6, 1))
    set_deadline(user=province, year=2021, level="province", due_on=date(2021, 4, 1))
    set_deadline(user=province, year=2021, level="city", due_on=date(2021, 5, 1))
    set_deadline(user=province, year=2021, level="county", due_on=date(2021, 6, 1))
    plan = save_plan(user=county, year=2021, title="曲阜市教育强镇筑基实施方案")
    with pytest.raises(WorkflowRefused):  # the city does not write the county's plan
        add_measure(user=world.user("city_3708"), plan=plan, what="x", owner="y", budget=1, due_on=date(2021, 12, 1))
    add_plan_document(user=county, plan=plan, data=b"%PDF-1.4 plan", file_name="方案.pdf")
    towns = list(Division.objects.filter(parent_id="370881", kind__in=["town", "xiang"]).order_by("code").values_list("code", "name"))
    add_measure(user=county, plan=plan, township_code=towns[0][0], what="新建功能室", owner="县教育局", budget=120, due_on=date(2021, 12, 1))
    with pytest.raises(WorkflowRefused, match=towns[1][1]):
        file_plan(user=county, plan=plan)
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT
    for code, _name in towns[1:]:
        add_measure(user=county, plan=plan, township_code=code, what="教师培训", owner="县教育局", budget=10, due_on=date(2021, 12, 1))
    with mock.patch("django.utils.timezone.now", return_value=timezone.make_aware(timezone.datetime(2021, 6, 4, 10))):
        file_plan(user=county, plan=plan)
        rows = {r["code"]: r for r in plan_status(year=2021, jurisdiction=resolve_jurisdiction(province))}
    assert rows["370881"]["state"] == "filed" and rows["370881"]["late_days"] == 3
    assert rows["370883"]["state"] == "late" and rows["3708"]["state"] == "late" and rows["3708"]["late_days"] == 34
    # A city officer sees only their area's units.
    assert {r["code"][:4] for r in plan_status(year=2021, jurisdiction=resolve_jurisdiction(world.user("city_3702")), today=date(2021, 6, 4))} == {"3702"}
    sent = remind_late_plans(year=2021, today=date(2021, 6, 4))
    assert sent > 0 and remind_late_plans(year=2021, today=date(2021, 6, 4)) == 0  # once a day
    assert Notification.objects.filter(user=world.user("county_370883"), kind="plan_late").exists()
    assert not Notification.objects.filter(user=county, kind="plan_late").exists()


def test_funding_is_for_pilots_of_the_officers_county(world):
    from townships.models import PilotTownship
    from workflow.models import Funding
    from workflow.services.plans import save_funding

    pilot = PilotTownship.objects.filter(township__code__startswith="370881").first().township_id
    county = world.user("county_370881")
    save_funding(user=county, township_code=pilot, year=2024, purpose="teacher_training", amounts={"provincial_planned": "50", "provincial_spent": "20.5", "local_planned": 30})
    save_funding(user=county, township_code=pilot, year=2024, purpose="teacher_training", amounts={"provincial_planned": "60", "provincial_spent": "20.5", "local_planned": 30})
    row = Funding.objects.get()
    assert (row.provincial_planned, row.provincial_spent, row.local_planned, row.local_spent) == (60, 20.5, 30, 0)
    before = snapshot(Funding)
    for user, code, amounts in [
        (world.user("county_370883"), pilot, {}), (county, "370881102" if pilot != "370881102" else "370881103", {}),
        (county, pilot, {"local_spent": "-1"}), (county, pilot, {"local_spent": "十"}),
    ]:
        with pytest.raises(WorkflowRefused):
            save_funding(user=user, township_code=code, year=2024, purpose="conditions", amounts=amounts)
    assert snapshot(Funding) == before


def test_good_practice_is_published_by_the_province_to_everyone(world):
    from workflow.selectors import published_cases
    from workflow.services.cases import review_case, submit_case

    school = world.schools["370881"][0]
    case = submit_case(user=world.user("county_370881"), title="集团化办学经验", theme="help", summary="……", school_code=school.code, files=[("经验.pdf", b"%PDF-1.4 x")])
    assert case.unit_id == "370881" and case.documents.count() == 1
    with pytest.raises(WorkflowRefused):  # a school outside the submitter's area
        submit_case(user=world.user("county_370883"), title="x", theme="help", summary="y", school_code=school.code)
    with pytest.raises(WorkflowRefused):
        review_case(user=world.user("city_3708"), case=case, publish=True)
    assert not published_cases().exists()
    review_case(user=world.user("province"), case=case, publish=True, note="推广")
    assert list(published_cases()) == [case]
    assert Notification.objects.filter(user=world.user("county_370881"), kind="case").exists()
