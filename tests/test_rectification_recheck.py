"""Rectification items have an owner (a county officer of the item's county) and are re-checked by
the next roll-up: attained → "复查达成", closable on that evidence; an item closed as fixed whose
point is still not attained is reopened with the figure. Idempotent; refusals change nothing."""
import pytest

from evaluation.services.forms import assign_team, create_round, save_draft, submit_form
from evaluation.services.rollup_jobs import run_county_unit
from tests.conftest import snapshot
from tests.factories import UserFactory
from tests.test_workflow import PNG, chain, judged  # noqa: F401  (fixtures)
from townships.models import Role
from workflow.models import ItemStatus, Notification, RectificationItem, RectificationStep
from workflow.services.common import NotInArea, WorkflowRefused
from workflow.services.recheck import recheck_items
from workflow.services.rectification import add_item_evidence, answer_item, assign_owner, check_item, close_on_recheck, sync_items

pytestmark = pytest.mark.django_db


def _closed_item(world, rnd, lead):
    sync_items(round=rnd)
    item = RectificationItem.objects.get(point__code="3.1")
    county = world.user("county_370881")
    add_item_evidence(user=county, item=item, data=PNG, file_name="文化墙.png")
    item = answer_item(user=county, item=item, measures="已完成校园文化墙建设")
    return check_item(user=lead, item=item, close=True, note="核查通过")


def _second_round(world, rnd, town, level):
    """A later round over the 乡镇 whose inspectors judge 3.1 `level`, then the county's roll-up
    (the path a change takes: one county unit, the re-check inside its transaction)."""
    later = create_round(name="2024年度复评", period=2024, framework=rnd.framework, township_codes=[town], created_by=world.user("province"))
    lead = world.user("inspector_a")
    form = assign_team(round=later, township_code=town, inspectors=[lead], lead=lead)
    answers = {j.point.code: {"level": "attained"} for j in form.judgments.select_related("point")}
    answers["3.1"] = {"level": level, "comment": "复查"}
    form = save_draft(form=form, user=lead, version=form.version, answers=answers)
    submit_form(form=form, user=lead, version=form.version)
    run_county_unit(periods=[2024], county="370881", job_id=None)
    return later


def test_an_item_closed_as_fixed_but_still_not_attained_is_reopened_with_the_figure(judged):
    world, rnd, town, lead = judged
    item = _closed_item(world, rnd, lead)
    assert item.status == ItemStatus.CLOSED
    later = _second_round(world, rnd, town, "not_attained")
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN and item.closed_at is None
    assert item.recheck_verdict == "not_attained" and item.recheck_key == f"2024:{later.pk}"
    step = item.steps.filter(action="reopened").get()
    assert "2024" in step.note and "未达成" in step.note
    assert Notification.objects.filter(user=world.user("county_370881"), kind="item_reopened").exists()
    assert not Notification.objects.filter(user=world.user("county_370883"), kind="item_reopened").exists()
    # Idempotent: the same results, re-checked again (the nightly run), change nothing.
    before = snapshot(RectificationItem, RectificationStep, Notification)
    assert recheck_items(county_codes=["370881"], periods=[2024]) == {"rechecked": 0, "attained": 0, "reopened": 0}
    assert snapshot(RectificationItem, RectificationStep, Notification) == before
    # Fixed and closed again: the same result does not reopen it a second time.
    add_item_evidence(user=world.user("county_370881"), item=item, data=PNG, file_name="补充.png")
    item = answer_item(user=world.user("county_370881"), item=item, measures="再次整改")
    item = check_item(user=lead, item=item, close=True, note="已整改")
    recheck_items(county_codes=["370881"])
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED


def test_an_item_attained_at_the_recheck_is_closed_on_that_evidence(judged, client):
    world, rnd, town, lead = judged
    sync_items(round=rnd)
    item = RectificationItem.objects.get(point__code="3.1")
    county = world.user("county_370881")
    with pytest.raises(WorkflowRefused, match="复查"):  # nothing re-checked yet
        close_on_recheck(user=world.user("city_3708"), item=item)
    _second_round(world, rnd, town, "attained")
    item.refresh_from_db()
    assert item.recheck_verdict == "attained" and item.status == ItemStatus.OPEN
    assert Notification.objects.filter(user=county, kind="item_recheck").exists()
    client.force_login(county)
    assert "复查达成" in client.get(f"/workflow/rectification/{item.pk}/").content.decode()
    before = snapshot(RectificationItem, RectificationStep)
    with pytest.raises(WorkflowRefused):  # the county does not close its own items
        close_on_recheck(user=county, item=item)
    with pytest.raises(NotInArea):  # another city: not found
        close_on_recheck(user=world.user("city_3702"), item=item)
    assert snapshot(RectificationItem, RectificationStep) == before
    item = close_on_recheck(user=world.user("city_3708"), item=item, note="复查达成")
    assert item.status == ItemStatus.CLOSED and not item.evidence.exists()
    assert [s.action for s in item.steps.all()] == ["created", "rechecked", "recheck_closed"]
    assert "2024" in item.steps.get(action="recheck_closed").note


def test_the_owner_is_an_account_of_the_items_county(judged, client):
    world, rnd, town, lead = judged
    sync_items(round=rnd)
    item = RectificationItem.objects.get(point__code="3.1")
    assert item.owner is None and item.owner_note  # the county bureau as written
    before = snapshot(RectificationItem, RectificationStep, Notification)
    county = world.user("county_370881")
    with pytest.raises(WorkflowRefused, match="县") as refused:  # a neighbouring county's officer
        assign_owner(user=county, item=item, owner_id=world.user("county_370883").pk)
    assert "owner" not in refused.value.message
    for owner in (world.user("city_3708"), world.user("inspector_a")):  # not county officers
        with pytest.raises(WorkflowRefused):
            assign_owner(user=county, item=item, owner_id=owner.pk)
    with pytest.raises(WorkflowRefused):  # another county's officer cannot assign here
        assign_owner(user=world.user("county_370883"), item=item, owner_id=county.pk)
    with pytest.raises(WorkflowRefused):
        assign_owner(user=county, item=item, owner_id=county.pk, due_on=item.due_on.replace(year=2000))
    assert snapshot(RectificationItem, RectificationStep, Notification) == before

    item = assign_owner(user=county, item=item, owner_id=county.pk)
    assert item.owner == county
    assert Notification.objects.filter(user=county, kind="rectification", url=f"/workflow/rectification/{item.pk}/").exists()
    colleague = UserFactory(username="x_370881_b", role=Role.COUNTY_OFFICER, unit_id="370881", full_name="李明")
    item = assign_owner(user=world.user("city_3708"), item=item, owner_id=colleague.pk)  # the city reassigns
    assert item.owner == colleague and Notification.objects.filter(user=colleague).exists()
    assert [s.action for s in item.steps.all()] == ["created", "assigned", "assigned"]
    assert "李明" in item.steps.last().note
    # Through the API: the same rule, the same Chinese refusal, nothing changed.
    client.force_login(county)
    before = snapshot(RectificationItem, RectificationStep)
    r = client.post(f"/api/rectification-items/{item.pk}/assign/", {"owner": world.user("county_370883").pk}, content_type="application/json")
    assert r.status_code == 400 and "县" in r.json()["detail"]
    assert snapshot(RectificationItem, RectificationStep) == before
    client.force_login(world.user("county_370883"))
    assert client.post(f"/api/rectification-items/{item.pk}/assign/", {"owner": county.pk}, content_type="application/json").status_code == 404
    client.force_login(county)
    r = client.post(f"/api/rectification-items/{item.pk}/assign/", {"owner": county.pk}, content_type="application/json")
    assert r.status_code == 200 and r.json()["owner"] == county.pk


def test_the_migration_matches_a_written_owner_to_one_account_of_the_county_or_keeps_the_note(judged):
    import importlib

    from django.apps import apps

    world, rnd, town, lead = judged
    match_owners = importlib.import_module("workflow.migrations.0002_owners_recheck_accountability").match_owners
    sync_items(round=rnd)
    named, bureau = list(RectificationItem.objects.order_by("id"))[:2]
    officer = UserFactory(username="x_370881_li", role=Role.COUNTY_OFFICER, unit_id="370881", full_name="李明")
    UserFactory(username="x_370883_wang", role=Role.COUNTY_OFFICER, unit_id="370883", full_name="王芳")  # another county's
    RectificationItem.objects.filter(pk=named.pk).update(owner_note="李明")
    RectificationItem.objects.filter(pk=bureau.pk).update(owner_note="曲阜市教育局")
    match_owners(apps, None)
    named.refresh_from_db(), bureau.refresh_from_db()
    assert named.owner == officer and named.owner_note == ""
    assert bureau.owner is None and bureau.owner_note == "曲阜市教育局"
    RectificationItem.objects.filter(pk=bureau.pk).update(owner_note="王芳")  # a name only another county has
    match_owners(apps, None)
    bureau.refresh_from_db()
    assert bureau.owner is None and bureau.owner_note == "王芳"


def test_the_item_page_assigns_the_owner_and_refuses_another_countys_account(judged, client):
    world, rnd, town, lead = judged
    sync_items(round=rnd)
    item = RectificationItem.objects.get(point__code="3.1")
    county = world.user("county_370881")
    client.force_login(county)
    page = client.get(f"/workflow/rectification/{item.pk}/").content.decode()
    assert 'name="owner"' in page and county.username in page
    before = snapshot(RectificationItem, RectificationStep)
    r = client.post(f"/workflow/rectification/{item.pk}/", {"action": "assign", "owner": world.user("county_370883").pk}, follow=True)
    assert "县级账号" in r.content.decode() and snapshot(RectificationItem, RectificationStep) == before
    client.post(f"/workflow/rectification/{item.pk}/", {"action": "assign", "owner": county.pk, "due_on": "2099-01-01"})
    item.refresh_from_db()
    assert item.owner == county and str(item.due_on) == "2099-01-01"
