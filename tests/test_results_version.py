"""Page tokens change only where results change: a saved draft changes none; a county's roll-up
changes its own, its city's and its province's, and leaves every other county's and city's."""
import pytest

from core.models import ResultsVersion
from core.results_version import areas_above, one_bump_at_the_end, results_changed, results_token
from evaluation.services.forms import assign_team, create_round, save_draft, submit_form
from evaluation.services.framework import load_framework
from tests.factories import UserFactory
from townships.models import Role

pytestmark = pytest.mark.django_db


def tokens() -> dict[str, str]:
    return dict(ResultsVersion.objects.values_list("code", "token"))


def test_the_areas_above_a_township_are_its_county_city_and_province():
    assert areas_above(["370881109"]) == ["37", "3708", "370881"]
    assert areas_above(["370881", "370883109", "3702"]) == ["37", "3702", "3708", "370881", "370883"]


def test_a_change_in_one_county_leaves_the_other_areas_tokens(geography):
    results_changed(codes=["370881", "370283", "370883"])
    before = tokens()
    results_changed(codes=["370881109"])
    after = tokens()
    changed = {code for code in after if after[code] != before.get(code)}
    assert changed == {"37", "3708", "370881"}
    assert results_token("370881109") == after["370881"]  # a township page is cached under its county


def test_bumps_inside_a_block_become_one_statement_at_its_end(geography, django_assert_num_queries):
    with django_assert_num_queries(1):
        with one_bump_at_the_end():
            results_changed(codes=["370881109"])
            results_changed(codes=["370883114"])
    assert set(tokens()) == {"37", "3708", "370881", "370883"}


def test_a_saved_draft_changes_no_token_and_a_submitted_form_changes_its_own_areas(world, django_capture_on_commit_callbacks):
    framework = load_framework()
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=["370881109"], created_by=world.user("province"))
    lead = UserFactory(username="lead_rv", role=Role.INSPECTOR, unit_id="37")
    form = assign_team(round=rnd, township_code="370881109", inspectors=[lead], lead=lead)
    results_changed(codes=["370881", "370883", "370283"])
    before = tokens()
    answers = {j.point.code: {"level": "attained", "comment": "现场查看"} for j in form.judgments.select_related("point")}
    with django_capture_on_commit_callbacks(execute=True):
        form = save_draft(form=form, user=lead, version=form.version, answers=answers)
    assert tokens() == before
    with django_capture_on_commit_callbacks(execute=False) as queued:
        submit_form(form=form, user=lead, version=form.version)
    assert queued and tokens() == before  # the submit queues the roll-up; the page changes with it
    from evaluation.rollup import rollup_judgments

    rollup_judgments(period=2024, county="370881")  # what the queued county task does first
    after = tokens()
    assert {code for code in after if after[code] != before.get(code)} == {"37", "3708", "370881"}


@pytest.fixture
def rolled_up(world, monkeypatch):
    """Every area of the province rolled up and holding a token, as a running portal's are; the
    queued tasks run in-process (test_tasks covers the real worker)."""
    from evaluation.rollup import rollup_all
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)

    framework = load_framework()
    rollup_all(period=2024, prefix="37")
    return framework


def _changed(before: dict) -> set[str]:
    after = tokens()
    return {code for code in after if after[code] != before.get(code)}


def test_a_committed_upload_renews_only_its_county_city_and_province_after_every_queued_task(world, rolled_up, django_capture_on_commit_callbacks):
    from evaluation.models import AreaResult, ImportStatus
    from tests import import_files as f
    from tests.test_imports import upload

    before = tokens()
    assert len(before) > 100  # every county and city of the province has a token
    counts_before = AreaResult.objects.get(division_code="370881", period=2024, round_key=0, population="all", stage="all", target_number=1).computed_at
    with django_capture_on_commit_callbacks(execute=True):
        run = upload(world.user("county_370881"), f.school_year_xlsx())
    assert run.status == ImportStatus.COMMITTED, run.errors
    # The county task and the province-wide area count both ran, and only these areas changed.
    assert AreaResult.objects.filter(division_code="370881", period=2024).exclude(computed_at=counts_before).exists()
    assert _changed(before) == {"37", "3708", "370881"}


def test_a_submitted_form_renews_only_its_areas_after_every_queued_task(world, rolled_up, django_capture_on_commit_callbacks):
    rnd = create_round(name="2024年度评估", period=2024, framework=rolled_up, township_codes=["370881109"], created_by=world.user("province"))
    lead = UserFactory(username="lead_rv2", role=Role.INSPECTOR, unit_id="37")
    form = assign_team(round=rnd, township_code="370881109", inspectors=[lead], lead=lead)
    answers = {j.point.code: {"level": "attained", "comment": "现场查看"} for j in form.judgments.select_related("point")}
    with django_capture_on_commit_callbacks(execute=True):
        form = save_draft(form=form, user=lead, version=form.version, answers=answers)
    from evaluation.rollup import rollup_all

    rollup_all(period=2024, prefix="37")  # the round's verdicts everywhere, as its creation queued
    before = tokens()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        submit_form(form=form, user=lead, version=form.version)
    assert queued
    assert _changed(before) == {"37", "3708", "370881"}
