"""The inspectors' form: draft → submit → locked → returned with reason → resubmit; stale saves
refused; only assigned inspectors; evidence only for those who may see the township."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluation.models import Evidence, FormChange, FormEvent, FormStatus, InspectionForm, Judgment
from evaluation.services.forms import FormRefused, add_evidence, assign_team, create_round, return_form, save_draft, submit_form
from evaluation.services.framework import load_framework
from tests.conftest import snapshot
from tests.factories import UserFactory
from townships.jurisdiction import resolve_jurisdiction
from townships.models import Role

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 100


@pytest.fixture
def team(world):
    framework = load_framework()
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=["370881109", "370883114"], created_by=world.user("province"))
    lead = UserFactory(username="lead_a", role=Role.INSPECTOR, unit_id="37")
    member = UserFactory(username="member_a", role=Role.INSPECTOR, unit_id="37")
    other = UserFactory(username="lead_b", role=Role.INSPECTOR, unit_id="37")
    form = assign_team(round=rnd, township_code="370881109", inspectors=[lead, member], lead=lead)
    other_form = assign_team(round=rnd, township_code="370883114", inspectors=[other], lead=other)
    return {"form": form, "other_form": other_form, "lead": lead, "member": member, "other": other, "round": rnd}


def fill_all(form, user, level="attained"):
    answers = {j.point.code: {"level": level, "comment": "现场查看"} for j in form.judgments.select_related("point")}
    return save_draft(form=form, user=user, version=form.version, answers=answers)


def test_life_cycle_draft_submit_locked_returned_resubmitted(team, world):
    form, lead, member = team["form"], team["lead"], team["member"]
    form = save_draft(form=form, user=member, version=form.version, answers={"2.7": {"level": "basic", "comment": "课改起步"}})
    with pytest.raises(FormRefused) as missing:
        submit_form(form=form, user=lead, version=form.version)
    assert "2.8" in missing.value.message and "2.7" not in missing.value.message.split("：")[-1]
    with pytest.raises(FormRefused):
        fill_all(form, member) and submit_form(form=form, user=member, version=form.version + 1)
    form.refresh_from_db()
    with pytest.raises(FormRefused) as not_lead:
        submit_form(form=form, user=member, version=form.version)
    assert "组长" in not_lead.value.message
    form = submit_form(form=form, user=lead, version=form.version)
    assert form.status == FormStatus.SUBMITTED
    before = snapshot(Judgment)
    with pytest.raises(FormRefused) as locked:
        save_draft(form=form, user=lead, version=form.version, answers={"2.7": {"level": "not_attained"}})
    assert "锁定" in locked.value.message and snapshot(Judgment) == before
    with pytest.raises(FormRefused):
        return_form(form=form, user=world.user("city_3708"), reason="x")
    with pytest.raises(FormRefused):
        return_form(form=form, user=world.user("province"), reason=" ")
    form = return_form(form=form, user=world.user("province"), reason="2.7 证据不足，请补充课堂照片")
    assert form.status == FormStatus.RETURNED
    form = save_draft(form=form, user=lead, version=form.version, answers={"2.7": {"level": "attained"}})
    form = submit_form(form=form, user=lead, version=form.version)
    assert [(e.action, e.reason) for e in FormEvent.objects.filter(form=form)] == [
        ("submit", ""), ("return", "2.7 证据不足，请补充课堂照片"), ("submit", "")
    ]


def test_stale_save_is_refused_and_says_what_changed(team):
    form, lead, member = team["form"], team["lead"], team["member"]
    opened = form.version
    save_draft(form=form, user=member, version=opened, answers={"3.1": {"level": "attained"}})
    before = snapshot(Judgment)
    with pytest.raises(FormRefused) as stale:
        save_draft(form=form, user=lead, version=opened, answers={"3.1": {"level": "not_attained"}})
    assert "3.1" in stale.value.message and "member_a" in stale.value.message
    assert snapshot(Judgment) == before


def test_a_double_click_saves_once(team):
    form, lead = team["form"], team["lead"]
    opened = form.version
    save_draft(form=form, user=lead, version=opened, answers={"4.4": {"level": "basic", "comment": "制度待完善"}})
    with pytest.raises(FormRefused):
        save_draft(form=form, user=lead, version=opened, answers={"4.4": {"level": "basic", "comment": "制度待完善"}})
    assert FormChange.objects.filter(point__code="4.4").count() == 2  # level and comment, once


def test_every_change_is_recorded(team):
    form, lead = team["form"], team["lead"]
    form = save_draft(form=form, user=lead, version=form.version, answers={"2.7": {"level": "basic"}})
    save_draft(form=form, user=lead, version=form.version, answers={"2.7": {"level": "attained"}})
    assert list(FormChange.objects.filter(point__code="2.7", field="level").values_list("old", "new", "user__username")) == [
        ("", "basic", "lead_a"), ("basic", "attained", "lead_a")
    ]


def test_inspector_cannot_read_or_write_an_unassigned_township(client, team):
    client.force_login(team["lead"])
    other = team["other_form"]
    before = snapshot(Judgment, InspectionForm)
    assert client.get(f"/data/inspect/{other.pk}/").status_code == 404
    assert client.post(f"/data/inspect/{other.pk}/save", {"version": other.version, "level-2.7": "attained"}).status_code == 404
    assert client.post(f"/data/inspect/{other.pk}/submit", {"version": other.version}).status_code == 404
    assert client.get(f"/api/forms/{other.pk}/").status_code == 404
    assert client.post(f"/api/forms/{other.pk}/save/", {"version": other.version, "answers": {}}, content_type="application/json").status_code == 404
    assert snapshot(Judgment, InspectionForm) == before
    assert client.get(f"/api/forms/{team['form'].pk}/").status_code == 200
    # Through the jurisdiction rule, the assignment also opens the township's schools, and only those.
    from tests.factories import SchoolFactory

    SchoolFactory(code="7370881109", township_id="370881109", is_seat=True)
    codes = {s["code"] for s in client.get("/api/schools/", {"limit": 100}).json()["results"]}
    assert codes == {"7370881109"}
    assert resolve_jurisdiction(team["lead"]).prefixes == {"370881109"}


def test_city_and_county_staff_see_who_is_assigned_in_their_area(client, team, world):
    client.force_login(world.user("county_370881"))
    html = client.get("/data/inspect/").content.decode()
    assert "lead_a" in html and "lead_b" not in html
    client.force_login(world.user("city_3708"))
    html = client.get("/data/inspect/").content.decode()
    assert "lead_a" in html and "lead_b" in html
    client.force_login(world.user("city_3702"))
    assert "lead_a" not in client.get("/data/inspect/").content.decode()


def test_evidence_is_checked_by_content_and_served_only_inside_the_area(client, team, world):
    form, lead = team["form"], team["lead"]
    judgment = form.judgments.get(point__code="3.1")
    with pytest.raises(FormRefused):
        add_evidence(judgment=judgment, user=lead, data=b"<html><script>alert(1)</script></html>", file_name="photo.jpg")
    evidence = add_evidence(judgment=judgment, user=lead, data=PNG, file_name="../校园.png")
    assert evidence.content_type == "image/png" and evidence.file_name == "校园.png" and ".." not in evidence.stored_as
    client.force_login(lead)
    response = client.get(f"/data/evidence/{evidence.pk}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["X-Content-Type-Options"] == "nosniff"
    # A draft's evidence is the team's; once the lead submits, the area's staff see it (issue 17).
    for submitted in (False, True):
        for key, status in [("county_370881", 200 if submitted else 404), ("city_3708", 200 if submitted else 404), ("county_370883", 404), ("city_3702", 404)]:
            client.force_login(world.user(key))
            assert client.get(f"/data/evidence/{evidence.pk}").status_code == status, (key, submitted)
        if not submitted:
            form.refresh_from_db()
            answers = {j.point.code: {"level": "attained"} for j in form.judgments.select_related("point")}
            form = save_draft(form=form, user=lead, version=form.version, answers=answers)
            submit_form(form=form, user=lead, version=form.version)
    client.force_login(team["other"])
    assert client.get(f"/data/evidence/{evidence.pk}").status_code == 404


def test_evidence_upload_through_the_page_and_the_api(client, team):
    form, lead = team["form"], team["lead"]
    judgment = form.judgments.get(point__code="2.7")
    client.force_login(lead)
    client.post(f"/data/inspect/{form.pk}/evidence/{judgment.pk}", {"file": SimpleUploadedFile("课堂.png", PNG)})
    response = client.post(f"/api/forms/{form.pk}/evidence/", {"judgment": judgment.pk, "file": SimpleUploadedFile("x.exe", b"MZ\x90\x00" * 10)})
    assert response.status_code == 400 and "照片" in response.json()["detail"]
    assert list(Evidence.objects.values_list("file_name", flat=True)) == ["课堂.png"]


def test_api_life_cycle(client, team, world):
    form, lead = team["form"], team["lead"]
    client.force_login(lead)
    answers = {j.point.code: {"level": "attained", "comment": ""} for j in form.judgments.select_related("point")}
    response = client.post(f"/api/forms/{form.pk}/save/", {"version": form.version, "answers": answers}, content_type="application/json")
    assert response.status_code == 200
    version = response.json()["version"]
    stale = client.post(f"/api/forms/{form.pk}/save/", {"version": version - 1, "answers": {}}, content_type="application/json")
    assert stale.status_code == 409
    assert client.post(f"/api/forms/{form.pk}/submit/", {"version": version}, content_type="application/json").json()["status"] == "submitted"
    client.force_login(world.user("province"))
    response = client.post(f"/api/forms/{form.pk}/return/", {"reason": "请补充证据"}, content_type="application/json")
    assert response.json()["status"] == "returned"
    assert client.get("/api/frameworks/").json()["results"][0]["targets"][0]["number"] == 1
    client.force_login(world.user("city_3702"))
    assert client.get(f"/api/forms/{form.pk}/").status_code == 404


def test_page_save_submit_and_autosave_json(client, team):
    form, lead = team["form"], team["lead"]
    client.force_login(lead)
    data = {"version": form.version, "then": "save"}
    for j in form.judgments.select_related("point"):
        data[f"level-{j.point.code}"] = "attained"
    response = client.post(f"/data/inspect/{form.pk}/save", data, follow=True)
    assert "草稿已保存" in response.content.decode()
    form.refresh_from_db()
    response = client.post(f"/data/inspect/{form.pk}/save", {"version": form.version, "answers": {"2.7": {"comment": "自动保存"}}}, content_type="application/json")
    assert response.status_code == 200 and response.json()["version"] == form.version + 1
    stale = client.post(f"/data/inspect/{form.pk}/save", {"version": form.version, "answers": {"2.7": {"comment": "旧页面"}}}, content_type="application/json")
    assert stale.status_code == 409 and "刷新" in stale.json()["error"]
    form.refresh_from_db()
    response = client.post(f"/data/inspect/{form.pk}/save", {"version": form.version, "then": "submit"}, follow=True)
    form.refresh_from_db()
    assert form.status == FormStatus.SUBMITTED and "已提交" in response.content.decode()


def test_round_covers_batches_cities_or_a_stable_sample(world):
    from evaluation.services.forms import round_township_codes
    from townships.models import PilotBatch

    first = PilotBatch.objects.get(year=2021)
    assert len(round_township_codes(batch_ids=[first.pk])) == 65
    jining = round_township_codes(city_codes=["3708"])
    assert jining and all(c.startswith("3708") and int(c[-3:]) >= 100 for c in jining)
    sample = round_township_codes(city_codes=["3708"], sample=10, seed="2024")
    assert len(sample) == 10 and set(sample) <= set(jining)
    assert sample == round_township_codes(city_codes=["3708"], sample=10, seed="2024")


def test_provincial_staff_create_a_round_in_the_admin(client, world):
    from evaluation.models import Round
    from townships.models import PilotBatch

    framework = load_framework()
    client.force_login(world.user("province"))
    data = {
        "name": "2023年中期指导", "period": 2023, "framework": framework.pk, "batches": [PilotBatch.objects.get(year=2021).pk], "sample": 5,
        "townships-TOTAL_FORMS": 0, "townships-INITIAL_FORMS": 0, "assignments-TOTAL_FORMS": 0, "assignments-INITIAL_FORMS": 0,
    }
    response = client.post("/admin/evaluation/round/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    rnd = Round.objects.get(name="2023年中期指导")
    assert rnd.townships.count() == 5 and rnd.created_by == world.user("province")
    framework.refresh_from_db()
    assert framework.frozen
