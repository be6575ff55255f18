"""The admin writes through the services: a round made there freezes its framework, a team
assigned there has exactly one lead, gets its form opened and its inspectors notified — the
same as through the API."""
import pytest

from evaluation.models import Assignment, InspectionForm, Round
from evaluation.services.framework import load_framework
from tests.factories import UserFactory
from townships.models import Role
from workflow.models import Notification

pytestmark = pytest.mark.django_db
TOWN = "370881109"


def _post(client, framework, team):
    data = {
        "name": "2024年度评估", "period": 2024, "framework": framework.pk,
        "townships-TOTAL_FORMS": 1, "townships-INITIAL_FORMS": 0, "townships-0-township": TOWN,
        "assignments-TOTAL_FORMS": len(team), "assignments-INITIAL_FORMS": 0,
    }
    for i, (user, is_lead) in enumerate(team):
        data[f"assignments-{i}-township"] = TOWN
        data[f"assignments-{i}-inspector"] = user.pk
        if is_lead:
            data[f"assignments-{i}-is_lead"] = "on"
    return client.post("/admin/evaluation/round/add/", data)


@pytest.fixture
def inspectors(world):
    return [UserFactory(username=f"adm_insp{i}", role=Role.INSPECTOR, unit_id="37") for i in range(2)]


@pytest.mark.parametrize("leads", [0, 2])
def test_a_team_without_exactly_one_lead_is_refused_and_nothing_is_created(client, world, inspectors, leads):
    framework = load_framework()
    client.force_login(world.user("province"))
    response = _post(client, framework, [(u, i < leads) for i, u in enumerate(inspectors)])
    assert response.status_code == 200
    assert "每个评估组须有且只有一名组长" in response.content.decode()
    assert not Round.objects.exists() and not Assignment.objects.exists() and not Notification.objects.exists()
    framework.refresh_from_db()
    assert not framework.frozen


def test_a_team_assigned_in_the_admin_gets_its_form_and_is_notified(client, world, inspectors):
    framework = load_framework()
    client.force_login(world.user("province"))
    lead, member = inspectors
    response = _post(client, framework, [(lead, True), (member, False)])
    assert response.status_code == 302
    rnd = Round.objects.get()
    assert rnd.created_by == world.user("province")
    framework.refresh_from_db()
    assert framework.frozen
    assert list(Assignment.objects.filter(is_lead=True).values_list("inspector", flat=True)) == [lead.pk]
    assert InspectionForm.objects.filter(round=rnd, township_id=TOWN).count() == 1
    assert set(Notification.objects.filter(kind="assignment").values_list("user", flat=True)) == {lead.pk, member.pk}
