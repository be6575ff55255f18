"""A save does the least work a write needs: the form read once — scoped, locked, with the user's
place in its team, its version and the data lock — its judgments, then one update of what
changed, the change log, the audit row and the new version — no re-render of the whole form, no
roll-up queued, no results token touched. A submit likewise, plus the one roll-up it owes. And
every rule of the slower path still holds on the short one: another team's form is "not found",
a stale version or a bad answer writes nothing, a locked year is refused."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import ResultsVersion
from evaluation.models import FormChange, InspectionForm, Judgment
from evaluation.services.forms import assign_team, create_round, save_draft
from evaluation.services.framework import load_framework
from security.models import AuditEvent
from tests.conftest import snapshot
from tests.factories import UserFactory
from townships.models import Role
from workflow.models import DataLock

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
    # Read the form (locked, with the assignment and the data lock), the judgments; write
    # judgments, changes, audit, version; the savepoint pair.
    with django_capture_on_commit_callbacks(execute=False) as queued, django_assert_max_num_queries(8) as ctx:
        saved = save_draft(form=form, user=lead, version=form.version, answers=answers)
    _one_read_of_the_form(ctx.captured_queries)
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
    # Session, user; then the save's own statements (the first of them scoped by the user's team:
    # no read of the inspector's area, no scoped read beside the locked one).
    with django_assert_max_num_queries(10) as ctx:
        response = client.post(f"/api/forms/{form.pk}/save/", {"version": form.version, "answers": answers}, content_type="application/json")
    _one_read_of_the_form(ctx.captured_queries)
    assert response.status_code == 200
    assert response.json()["version"] == form.version + 1
    assert "judgments" not in response.json()
    stale = client.post(f"/api/forms/{form.pk}/save/", {"version": form.version, "answers": {}}, content_type="application/json")
    assert stale.status_code == 409


def _one_read_of_the_form(queries):
    """The form is read once, locked, and that statement also answers the team and the data lock:
    no read of the inspector's area (the jurisdiction), of the form beside the locked one, of the
    assignment or of the locks on their own."""
    reads = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    form_reads = [sql for sql in reads if "evaluation_inspectionform" in sql]
    assert len(form_reads) == 1, form_reads
    assert "evaluation_assignment" in form_reads[0] and "workflow_datalock" in form_reads[0]
    alone = [sql for sql in reads if sql not in form_reads and ("evaluation_assignment" in sql or "workflow_datalock" in sql)]
    assert alone == [], alone


def _post(client, form_id, body):
    return client.post(f"/api/forms/{form_id}/save/", body, content_type="application/json")


def test_the_short_save_keeps_every_rule(client, world, form_and_lead):
    form, lead = form_and_lead
    code = form.judgments.select_related("point").first().point.code
    # (Logins and refusals are audited on their own: the form's audit rows are counted below.)
    tables = (Judgment, FormChange, InspectionForm)
    form_audits = AuditEvent.objects.filter(action__in=("form_change", "form_submit"))
    # Another inspector (on no team of this form) and a county officer of the area: not found for
    # the first, whatever the body, and "not assigned" for the second; nothing written.
    other = UserFactory(username="other_cost", role=Role.INSPECTOR, unit_id="37")
    before = snapshot(*tables)
    client.force_login(other)
    assert _post(client, form.pk, {"version": form.version, "answers": {code: {"comment": "越权"}}}).status_code == 404
    assert _post(client, form.pk, {}).status_code == 404
    assert client.post(f"/api/forms/{form.pk}/submit/", {"version": form.version}, content_type="application/json").status_code == 404
    assert _post(client, 10**30, {"version": 0, "answers": {}}).status_code == 404
    client.force_login(world.user("county_370881"))
    refused = _post(client, form.pk, {"version": form.version, "answers": {code: {"comment": "越权"}}})
    assert refused.status_code == 409 and "分配" in refused.json()["detail"], refused.json()
    assert snapshot(*tables) == before and not form_audits.exists()
    # The team's lead: a stale version, an unknown level and an unknown point are refused in
    # Chinese and write nothing.
    client.force_login(lead)
    stale = _post(client, form.pk, {"version": form.version - 1, "answers": {code: {"comment": "旧页面"}}})
    unknown_level = _post(client, form.pk, {"version": form.version, "answers": {code: {"level": "excellent"}}})
    unknown_point = _post(client, form.pk, {"version": form.version, "answers": {"9.9": {"level": "attained"}}})
    for response in (stale, unknown_level, unknown_point):
        assert response.status_code == 409
        assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["detail"]), response.json()
    assert snapshot(*tables) == before and not form_audits.exists()
    # A locked year (an approval up the levels): refused with the lock named, nothing written.
    lock = DataLock.objects.create(round=form.round, township_id=form.township_id, period=form.round.period, level="province", locked_by=world.user("province"))
    locked = _post(client, form.pk, {"version": form.version, "answers": {code: {"comment": "锁定后"}}})
    assert locked.status_code == 409 and "锁定" in locked.json()["detail"], locked.json()
    assert snapshot(*tables) == before and not form_audits.exists()
    # Released, the same save goes through, once.
    DataLock.objects.filter(pk=lock.pk).update(released_at=timezone.now(), released_by=world.user("province"))
    saved = _post(client, form.pk, {"version": form.version, "answers": {code: {"comment": "解锁后"}}})
    assert saved.status_code == 200 and saved.json()["version"] == form.version + 1
    assert Judgment.objects.get(form=form, point__code=code).comment == "解锁后"
    assert AuditEvent.objects.filter(action="form_change", target=f"inspection-form:{form.pk}").count() == 1


def test_the_api_submit_reads_the_form_once_and_submits_once(client, form_and_lead, django_capture_on_commit_callbacks):
    form, lead = form_and_lead
    client.force_login(lead)
    answers = {j.point.code: {"level": "attained"} for j in form.judgments.select_related("point")}
    version = _post(client, form.pk, {"version": form.version, "answers": answers}).json()["version"]
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=False) as queued:
        first = client.post(f"/api/forms/{form.pk}/submit/", {"version": version}, content_type="application/json")
    _one_read_of_the_form(ctx.captured_queries)
    assert first.status_code == 200 and first.json()["status"] == "submitted"
    assert len(queued) == 1  # the one roll-up a submit owes
    again = client.post(f"/api/forms/{form.pk}/submit/", {"version": version}, content_type="application/json")
    assert again.status_code == 409
    assert AuditEvent.objects.filter(action="form_submit", target=f"inspection-form:{form.pk}").count() == 1


def test_the_lock_ports_condition_answers_as_its_message(world, form_and_lead, monkeypatch):
    """The SQL condition and the message come from the same locks: with none registered the
    condition is false (as `locked` answers nothing); workflow's is true exactly while a lock on
    the township's year is unreleased."""
    from core import ports

    form, lead = form_and_lead
    monkeypatch.setattr(ports, "_lock_sqls", [])
    assert ports.lock_sql(township="'x'", period="0") == "(1 = 0)"
    monkeypatch.undo()

    def condition():
        sql = f"SELECT {ports.lock_sql(township='%s', period='%s')}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [form.township_id, form.round.period])
            return bool(cursor.fetchone()[0])

    key = (form.township_id, form.round.period)
    assert not condition() and ports.locked({key}) == {}
    lock = DataLock.objects.create(round=form.round, township_id=form.township_id, period=form.round.period, level="city", locked_by=world.user("province"))
    assert condition() and key in ports.locked({key})
    DataLock.objects.filter(pk=lock.pk).update(released_at=timezone.now(), released_by=world.user("province"))
    assert not condition() and ports.locked({key}) == {}
