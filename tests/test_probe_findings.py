"""Issue 17's findings, each as the request an attacker sent: bad page input is a 400 with a
Chinese message and changes nothing, the same as the API answers it."""
import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from evaluation.models import InspectionForm, Judgment
from evaluation.services.forms import assign_team
from tests.conftest import snapshot
from tests.test_workflow import chain  # noqa: F401 (fixture)
from townships.models import PilotTownship
from workflow.models import Funding, GoodPractice, SelfAssessment
from workflow.services.cases import review_case, submit_case

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def pilot(world):
    return PilotTownship.objects.filter(township__code__startswith="370881").order_by("township_id").first().township_id


def funding_post(pilot, **amounts):
    return {"township": pilot, "year": "2024", "purpose": "teacher_training", **amounts}


@pytest.mark.parametrize("value", ["1e20", "NaN", "sNaN", "Infinity", "-Infinity", "10000000000", "1.001", "-1", "十", "0x10"])
def test_funding_page_refuses_what_the_column_cannot_hold(client, world, pilot, value):
    client.force_login(world.user("county_370881"))
    before = snapshot(Funding)
    response = client.post("/workflow/funding/?year=2024", funding_post(pilot, provincial_planned=value))
    assert response.status_code == 400
    assert "万元" in response.content.decode() and "省级资金" in response.content.decode()
    assert f'name="provincial_planned" type="number" step="0.01" min="0" max="9999999999.99" value="{value}"' in response.content.decode()  # kept to correct
    assert snapshot(Funding) == before
    # The API refuses it likewise, and the pages above keep answering.
    assert api(world.user("county_370881")).post("/api/funding/", funding_post(pilot, provincial_planned=value), format="json").status_code == 400
    assert snapshot(Funding) == before
    for key in ("county_370881", "city_3708", "province"):
        client.force_login(world.user(key))
        assert client.get("/workflow/funding/?year=2024").status_code == 200
        assert api(world.user(key)).get("/api/funding/").status_code == 200


def test_funding_page_stores_a_good_amount_exactly(client, world, pilot):
    client.force_login(world.user("county_370881"))
    response = client.post("/workflow/funding/?year=2024", funding_post(pilot, provincial_planned="9999999999.99", local_spent="12.5"))
    assert response.status_code == 302
    row = Funding.objects.get()
    assert (row.provincial_planned, row.local_spent) == (Decimal("9999999999.99"), Decimal("12.50"))
    assert client.get("/workflow/funding/?year=2024").status_code == 200


@pytest.mark.parametrize("url", ["/workflow/funding/?year=abc", "/workflow/plans/?year=abc", "/workflow/plans/mine/?year=abc",
                                 "/workflow/plans/?year=99999999999999999999", "/workflow/assessments/?status=nope",
                                 "/workflow/rectification/?township=abc", "/workflow/cases/?region=abc", "/workflow/cases/?theme=x"])
def test_unreadable_query_parameters_are_a_400_in_chinese(client, world, url):
    client.force_login(world.user("county_370881"))
    response = client.get(url)
    assert response.status_code == 400
    assert "参数" in response.content.decode()


def test_assessment_round_of_letters_is_a_400_and_opens_nothing(client, world):
    client.force_login(world.user("county_370881"))
    before = snapshot(SelfAssessment)
    response = client.post("/workflow/assessments/", {"round": "abc", "township": "370881101"})
    assert response.status_code == 400 and "参数" in response.content.decode()
    assert snapshot(SelfAssessment) == before


def test_cases_filtered_by_a_city_of_the_drop_down(client, world):
    jining = submit_case(user=world.user("county_370881"), title="济宁案例", theme="teaching", summary="摘要")
    qingdao = submit_case(user=world.user("county_370281"), title="青岛案例", theme="teaching", summary="摘要")
    for case in (jining, qingdao):
        review_case(user=world.user("province"), case=case, publish=True)
    client.force_login(world.user("county_370883"))
    html = client.get("/workflow/cases/?region=3708").content.decode()
    assert "济宁案例" in html and "青岛案例" not in html
    assert GoodPractice.objects.count() == 2


@pytest.mark.parametrize("body", ["[]", '"x"', '{"version": null}', '{"version": 1, "answers": []}', '{"answers": {"2.7": "x"}}',
                                  "{", '{"version": 1, "answers": {"2.7": "x"}}', "1e999", '{"version": true, "answers": {}}'])
def test_inspectors_save_answers_malformed_json_with_a_400(client, chain, body):
    world, rnd, town, other = chain
    lead = world.user("inspector_a")
    form = assign_team(round=rnd, township_code=town, inspectors=[lead], lead=lead)
    client.force_login(lead)
    before = snapshot(InspectionForm, Judgment)
    response = client.post(f"/data/inspect/{form.pk}/save", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert json.loads(response.content)["error"] == "请求格式有误。"
    assert snapshot(InspectionForm, Judgment) == before
    # A well-formed save still works.
    ok = client.post(f"/data/inspect/{form.pk}/save", json.dumps({"version": form.version, "answers": {}}), content_type="application/json")
    assert ok.status_code == 200


# --- Foreign and missing answered alike -------------------------------------------------------

SCHOOL_HEADERS = ["学校标识码", "学校名称", "学段", "所在乡镇代码", "是否乡镇驻地学校", "是否城区学校", "是否城区优质学校"]
HELP_HEADERS = ["帮扶学校标识码", "受帮扶学校标识码", "帮扶方式", "学年"]


def _upload(user, sheets):
    from evaluation.imports.service import import_file
    from tests import import_files as f
    from townships.jurisdiction import resolve_jurisdiction

    return import_file(user=user, jurisdiction=resolve_jurisdiction(user), data=f.xlsx(sheets), file_name="x.xlsx", channel="page", dry_run=True)


def _errors(run):
    return [(e["row"], e["message"]) for e in run.errors]


def test_school_list_upload_answers_a_foreign_code_like_a_missing_one(world):
    from townships.models import School

    officer = world.user("county_370881")
    foreign = world.schools["370883"][0].code        # 邹城's school
    unused_elsewhere = "7370883999"                  # a code no school has, of 邹城's series
    answers = []
    for code in (foreign, unused_elsewhere):
        before = snapshot(School)
        run = _upload(officer, {"学校名录": [SCHOOL_HEADERS, [code, "某学校", "小学", "370881109", "是", "否", "否"]]})
        assert snapshot(School) == before
        answers.append(_errors(run))
    assert answers[0] == answers[1] == [(2, "该学校不存在或不在您的辖区内")]
    # A new school of the officer's own county is still welcome.
    run = _upload(officer, {"学校名录": [SCHOOL_HEADERS, ["7370881077", "新学校", "小学", "370881109", "是", "否", "否"]]})
    assert run.errors == [] and run.summary["sheets"][0]["new"] == 1


def test_help_relations_answer_a_foreign_helper_like_a_missing_one(world):
    officer = world.user("county_370881")
    answers = [_errors(_upload(officer, {"帮扶关系": [HELP_HEADERS, [code, "7370881001", "结对帮扶", 2024]]}))
               for code in (world.schools["370883"][0].code, "7370883999")]
    assert answers[0] == answers[1] == [(2, "该学校不存在或不在您的辖区内")]


def test_cases_api_answers_a_foreign_school_like_a_missing_one(world):
    county = api(world.user("county_370881"))
    before = snapshot(GoodPractice)
    answers = [county.post("/api/cases/", {"title": "案例", "theme": "teaching", "summary": "摘要", "school_code": code}, format="json")
               for code in (world.schools["370883"][0].code, "7370883999")]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].data["detail"].replace(world.schools["370883"][0].code, "C") == answers[1].data["detail"].replace("7370883999", "C")
    assert "辖区内没有" in answers[0].data["detail"]
    assert snapshot(GoodPractice) == before


# --- The data lock covers the school list ----------------------------------------------------


def _school_row(school, **change):
    values = {"is_seat": "是" if school.is_seat else "否", "is_urban": "是" if school.is_urban else "否",
              "is_urban_quality": "是" if school.is_urban_quality else "否", "name": school.name, "township": school.township_id}
    values.update(change)
    return [school.code, values["name"], "小学", values["township"], values["is_seat"], values["is_urban"], values["is_urban_quality"]]


@pytest.fixture
def locked_town(chain):
    from workflow.models import DataLock

    world, rnd, town, other = chain
    DataLock.objects.create(round=rnd, township_id=town, period=2024, level="city", locked_by=world.user("city_3708"))
    return world, town, other


def test_school_list_changes_a_locked_year_reads_are_refused_naming_the_lock(locked_town):
    from townships.models import School

    world, town, other = locked_town
    officer = world.user("county_370881")
    seat = School.objects.get(code="7370881001")
    neighbour = School.objects.get(code="7370881002")
    assert seat.township_id == town and neighbour.township_id == other
    before = snapshot(School)
    for row in (_school_row(seat, is_seat="否"),                 # its own 乡镇's seat schools
                _school_row(seat, township=other),              # moved out of the locked 乡镇
                _school_row(neighbour, township=town),          # moved into it
                _school_row(neighbour, is_urban="是")):         # the county's urban reference
        run = _upload(officer, {"学校名录": [SCHOOL_HEADERS, row]})
        assert len(run.errors) == 1 and "锁定" in run.errors[0]["message"] and run.errors[0]["row"] == 2, (row, run.errors)
    assert snapshot(School) == before
    # A name changes no figure; the neighbour's seat flag is its own 乡镇's (not locked).
    assert _upload(officer, {"学校名录": [SCHOOL_HEADERS, _school_row(seat, name="息陬镇中心小学（更名）")]}).errors == []
    assert _upload(officer, {"学校名录": [SCHOOL_HEADERS, _school_row(neighbour, is_seat="否")]}).errors == []


def test_school_list_lock_holds_through_the_api(locked_town):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests import import_files as f
    from townships.models import School

    world, town, other = locked_town
    seat = School.objects.get(code="7370881001")
    before = snapshot(School)
    data = f.xlsx({"学校名录": [SCHOOL_HEADERS, _school_row(seat, is_seat="否")]})
    response = api(world.user("county_370881")).post("/api/imports/", {"file": SimpleUploadedFile("s.xlsx", data), "dry_run": "false"}, format="multipart")
    assert "锁定" in json.dumps(response.json(), ensure_ascii=False)
    assert snapshot(School) == before


def test_county_officer_cannot_change_schools_in_the_admin(client, world):
    from townships.models import School

    client.force_login(world.user("county_370881"))
    school = world.schools["370881"][0]
    before = snapshot(School)
    add = client.post("/admin/townships/school/add/", {"code": "7370881099", "name": '=HYPERLINK("x")', "stage": "primary", "township": school.township_id})
    change = client.post(f"/admin/townships/school/{school.pk}/change/", {"code": school.code, "name": '=HYPERLINK("x")', "stage": "primary",
                                                                       "township": school.township_id, "is_seat": "on", "is_urban": "on"})
    delete = client.post(f"/admin/townships/school/{school.pk}/delete/", {"post": "yes"})
    assert {add.status_code, change.status_code, delete.status_code} <= {302, 403, 404}
    assert snapshot(School) == before


# --- Inspectors read their assignments' rounds; drafts are the team's ------------------------


@pytest.fixture
def two_rounds(chain):
    """The same 乡镇 in an earlier round (another team, submitted) and in this one (insp_a's team, a draft)."""
    from evaluation.services.forms import create_round, save_draft, submit_form

    world, rnd, town, other = chain
    earlier = create_round(name="2023年度评估", period=2023, framework=rnd.framework, township_codes=[town], created_by=world.user("province"))
    from tests.factories import UserFactory
    from townships.models import Role

    old_lead = UserFactory(username="insp_old", role=Role.INSPECTOR, unit_id="3708")
    old_form = assign_team(round=earlier, township_code=town, inspectors=[old_lead], lead=old_lead)
    answers = {j.point.code: {"level": "attained", "comment": "往年"} for j in old_form.judgments.select_related("point")}
    old_form = save_draft(form=old_form, user=old_lead, version=old_form.version, answers=answers)
    submit_form(form=old_form, user=old_lead, version=old_form.version)
    lead = world.user("inspector_a")
    form = assign_team(round=rnd, township_code=town, inspectors=[lead], lead=lead)
    answers = {j.point.code: {"level": "not_attained", "comment": "草稿意见"} for j in form.judgments.select_related("point")}
    form = save_draft(form=form, user=lead, version=form.version, answers=answers)
    return world, lead, old_form, form


def test_an_inspector_reads_only_the_rounds_of_their_assignments(client, two_rounds):
    world, lead, old_form, form = two_rounds
    inspector = api(lead)
    assert inspector.get(f"/api/forms/{form.pk}/").status_code == 200
    # The earlier round of the same 乡镇 is answered like a form that does not exist.
    assert inspector.get(f"/api/forms/{old_form.pk}/").status_code == inspector.get("/api/forms/999999/").status_code == 404
    assert [f["id"] for f in inspector.get("/api/forms/").data["results"]] == [form.pk]
    client.force_login(lead)
    assert client.get(f"/data/inspect/{old_form.pk}/").status_code == 404
    assert client.get(f"/data/inspect/{form.pk}/").status_code == 200
    # Funding is not theirs, on the page nor through the API.
    assert client.get("/workflow/funding/").status_code == 404
    assert inspector.get("/api/funding/").status_code == 404
    assert inspector.post("/api/funding/", {"township": form.township_id, "year": 2024, "purpose": "curriculum"}, format="json").status_code == 404


def test_a_draft_is_the_teams_until_the_lead_submits(client, two_rounds):
    from evaluation.services.forms import submit_form

    world, lead, old_form, form = two_rounds
    for key in ("county_370881", "city_3708", "province"):
        staff = api(world.user(key))
        assert staff.get(f"/api/forms/{form.pk}/").data["judgments"] == [], key
        assert len(staff.get(f"/api/forms/{old_form.pk}/").data["judgments"]) > 0, key  # submitted: the area's to read
        client.force_login(world.user(key))
        html = client.get(f"/data/inspect/{form.pk}/").content.decode()
        assert "草稿意见" not in html and "组长提交后显示" in html, key
    assert "草稿意见" in json.dumps(api(lead).get(f"/api/forms/{form.pk}/").data, ensure_ascii=False)
    client.force_login(world.user("county_370881"))
    township_page = client.get(f"/dashboard/township/{form.township_id}/", {"period": 2024, "round": form.round_id})
    assert township_page.status_code == 200 and "草稿意见" not in township_page.content.decode()
    submit_form(form=form, user=lead, version=InspectionForm.objects.get(pk=form.pk).version)
    assert "草稿意见" in json.dumps(api(world.user("county_370881")).get(f"/api/forms/{form.pk}/").data, ensure_ascii=False)
