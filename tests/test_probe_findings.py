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
