"""A save does the least work a write needs: the form read once with the right to write it and its
version (locked for the update), its judgments, then one update of what changed, the change log,
the audit row and the new version — no re-render of the whole form, no roll-up queued, no
results token touched. A submit likewise, plus the one roll-up it owes."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import ResultsVersion
from evaluation.models import FormChange, Judgment
from evaluation.services.forms import assign_team, create_round, save_draft
from evaluation.services.framework import load_framework
from security.models import AuditEvent
from tests.factories import UserFactory
from townships.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def form_and_lead(world):
    framework = load_framework()
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=["370881109"], created_by=world.user("province"))
    lead = UserFactory(username="lead_cost", role=Role.INSPECTOR, unit_id="37")
    return assign_team(round=rnd, township_code="370881109", inspectors=[lead], lead=lead), lead


def test_a_draft_save_is_a_few_statements_whatever_the_number_of_points(form_and_lead, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    form, lead = form_and_lead
    answers = {j.point.code: {"level": "attained", "comment": "现场查看"} for j in form.judgments.select_related("point")}
    assert len(answers) > 5
    tokens = list(ResultsVersion.objects.values_list("code", "token"))
    # Read the form (locked, with the assignment), the lock port, the judgments; write judgments,
    # changes, audit, version; the savepoint pair.
    with django_capture_on_commit_callbacks(execute=False) as queued, django_assert_max_num_queries(9):
        saved = save_draft(form=form, user=lead, version=form.version, answers=answers)
    assert queued == []  # no roll-up for a draft
    assert saved.version == form.version + 1
    assert set(Judgment.objects.filter(form=form).values_list("level", flat=True)) == {"attained"}
    assert FormChange.objects.filter(form=form).count() == 2 * len(answers)
    assert AuditEvent.objects.filter(action="form_change", target=f"inspection-form:{form.pk}").count() == 1
    assert list(ResultsVersion.objects.values_list("code", "token")) == tokens


def test_one_changed_comment_writes_one_judgment(form_and_lead):
    form, lead = form_and_lead
    code = form.judgments.select_related("point").first().point.code
    with CaptureQueriesContext(connection) as ctx:
        saved = save_draft(form=form, user=lead, version=form.version, answers={code: {"comment": "补充"}})
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE") and "evaluation_judgment" in q["sql"]]
    assert len(updates) == 1 and updates[0].count("WHEN") <= 2, updates  # the changed row only, not every judgment
    assert saved.version == form.version + 1
    assert Judgment.objects.get(form=form, point__code=code).comment == "补充"


def test_the_api_save_answers_the_new_version_without_rendering_the_form(client, form_and_lead, django_assert_max_num_queries):
    form, lead = form_and_lead
    client.force_login(lead)
    client.get("/api/forms/")  # settle the session's activity stamp, written at most once a minute
    answers = {j.point.code: {"level": "attained", "comment": ""} for j in form.judgments.select_related("point")}
    # Session, user, the inspector's area, the form through it; then the save's own nine statements.
    with django_assert_max_num_queries(13):
        response = client.post(f"/api/forms/{form.pk}/save/", {"version": form.version, "answers": answers}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["version"] == form.version + 1
    assert "judgments" not in response.json()
    stale = client.post(f"/api/forms/{form.pk}/save/", {"version": form.version, "answers": {}}, content_type="application/json")
    assert stale.status_code == 409
