"""The workflow through its pages and the API: the same services, the same area rule — outside
the area "not found", a refusal a message in Chinese and no change."""
import pytest
from rest_framework.test import APIClient

from tests.conftest import snapshot
from tests.test_workflow import PNG, all_attained, chain, judged  # noqa: F401 (fixtures)
from workflow.models import AssessmentStatus, DataLock, ItemStatus, Notification, RectificationEvidence, RectificationItem, ReviewStep, SelfAssessment
from workflow.services.review import open_assessment, save_self_assessment, submit_self_assessment

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_review_chain_through_the_api(chain):
    world, rnd, town, other = chain
    county = api(world.user("county_370881"))
    created = county.post("/api/self-assessments/open/", {"round": rnd.pk, "township": town}, format="json")
    assert created.status_code == 201, created.content
    pk, version = created.data["id"], created.data["version"]
    answers = {i["point"]: {"level": "attained"} for i in created.data["items"]}
    assert county.post(f"/api/self-assessments/{pk}/save/", {"version": version, "answers": answers}, format="json").status_code == 200
    assert county.post(f"/api/self-assessments/{pk}/submit/", format="json").data["status"] == "submitted"
    # The county cannot approve its own; the neighbouring county and another city do not even see it.
    before = snapshot(SelfAssessment, ReviewStep, DataLock)
    own = county.post(f"/api/self-assessments/{pk}/review/", {"approve": True}, format="json")
    assert own.status_code == 400 and "不能审核自己" in own.data["detail"]
    for key in ("county_370883", "city_3702"):
        assert api(world.user(key)).post(f"/api/self-assessments/{pk}/review/", {"approve": True}, format="json").status_code == 404
        assert api(world.user(key)).get(f"/api/self-assessments/{pk}/").status_code == 404
    no_reason = api(world.user("city_3708")).post(f"/api/self-assessments/{pk}/review/", {"approve": False}, format="json")
    assert no_reason.status_code == 400 and "理由" in no_reason.data["detail"]
    assert snapshot(SelfAssessment, ReviewStep, DataLock) == before
    approved = api(world.user("city_3708")).post(f"/api/self-assessments/{pk}/review/", {"approve": True}, format="json")
    assert approved.data["status"] == "city_approved"
    assert [s["action"] for s in approved.data["steps"]] == ["submit", "approve"]
    # Lists are the area's: the other county sees none of it.
    assert api(world.user("county_370883")).get("/api/self-assessments/").data["count"] == 0
    assert api(world.user("county_370883")).post("/api/self-assessments/open/", {"round": rnd.pk, "township": town}, format="json").status_code == 404


def test_rectification_through_the_api_and_pages(judged):
    from workflow.services.rectification import sync_items

    world, rnd, town, lead = judged
    sync_items(round=rnd)
    item = RectificationItem.objects.get(point__code="3.1")
    county = api(world.user("county_370881"))
    assert api(world.user("county_370883")).get(f"/api/rectification-items/{item.pk}/").status_code == 404
    before = snapshot(RectificationItem, RectificationEvidence)
    bad = county.post(f"/api/rectification-items/{item.pk}/evidence/", {"file": _upload("x.png", b"<html>")}, format="multipart")
    assert bad.status_code == 400 and "照片" in bad.data["detail"]
    no_evidence = county.post(f"/api/rectification-items/{item.pk}/answer/", {"measures": "已整改"}, format="json")
    assert no_evidence.status_code == 400 and "证明材料" in no_evidence.data["detail"]
    assert snapshot(RectificationItem, RectificationEvidence) == before
    ok = county.post(f"/api/rectification-items/{item.pk}/evidence/", {"file": _upload("墙.png", PNG)}, format="multipart")
    assert ok.status_code == 200 and len(ok.data["evidence"]) == 1
    assert county.post(f"/api/rectification-items/{item.pk}/answer/", {"measures": "已整改"}, format="json").data["status"] == "answered"

    # The page: the inspector of the round closes it; the file is served only inside the area.
    from django.test import Client

    page = Client()
    page.force_login(lead)
    assert page.get(f"/workflow/rectification/{item.pk}/").status_code == 200
    response = page.post(f"/workflow/rectification/{item.pk}/", {"action": "close", "note": "核查通过"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED
    evidence = item.evidence.get()
    other = Client()
    other.force_login(world.user("county_370883"))
    assert other.get(f"/workflow/files/rectification/{evidence.pk}").status_code == 404
    assert other.get(f"/workflow/rectification/{item.pk}/").status_code == 404
    mine = Client()
    mine.force_login(world.user("county_370881"))
    served = mine.get(f"/workflow/files/rectification/{evidence.pk}")
    assert served.status_code == 200 and served["X-Content-Type-Options"] == "nosniff"
    counts = mine.get("/workflow/rectification/")
    assert counts.status_code == 200 and "3.1" in counts.content.decode()


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_pages_show_a_refusal_in_chinese_and_change_nothing(chain, client):
    world, rnd, town, other = chain
    county = world.user("county_370881")
    a = open_assessment(user=county, round=rnd, township_code=town)
    client.force_login(county)
    before = snapshot(SelfAssessment, ReviewStep)
    response = client.post(f"/workflow/assessments/{a.pk}/", {"action": "submit"}, follow=True)
    assert "请为每个观测点评定等级" in response.content.decode()
    assert snapshot(SelfAssessment, ReviewStep) == before
    a = save_self_assessment(user=county, assessment=a, version=a.version, answers=all_attained(a))
    submit_self_assessment(user=county, assessment=a)
    client.force_login(world.user("city_3708"))
    page = client.get(f"/workflow/assessments/{a.pk}/")
    assert page.status_code == 200 and "审核" in page.content.decode()
    response = client.post(f"/workflow/assessments/{a.pk}/", {"action": "return", "reason": "  "}, follow=True)
    assert "请填写退回理由" in response.content.decode()
    assert SelfAssessment.objects.get(pk=a.pk).status == AssessmentStatus.SUBMITTED
    response = client.post(f"/workflow/assessments/{a.pk}/", {"action": "return", "reason": "数据需核对", "points": ["1.1", "2.4"]})
    assert SelfAssessment.objects.get(pk=a.pk).status == AssessmentStatus.CITY_RETURNED
    assert ReviewStep.objects.filter(assessment=a).last().points == ["1.1", "2.4"]
    client.force_login(county)
    home = client.get("/workflow/")
    assert "自评被退回" in home.content.decode()
    client.force_login(world.user("city_3702"))
    assert client.get(f"/workflow/assessments/{a.pk}/").status_code == 404


def test_every_workflow_page_answers_each_role(world, client):
    for key in ("province", "city_3708", "county_370881", "inspector_a"):
        client.force_login(world.user(key))
        for url in ("/workflow/", "/workflow/rectification/", "/workflow/cases/"):
            assert client.get(url).status_code == 200, (key, url)
        for url in ("/workflow/plans/", "/workflow/assessments/", "/workflow/funding/", "/workflow/plans/mine/"):
            assert client.get(url).status_code == (404 if key == "inspector_a" else 200), (key, url)
    assert Notification.objects.count() == 0
