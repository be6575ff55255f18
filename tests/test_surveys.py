"""Satisfaction surveys answered in the portal: questionnaires, windows and codes, the public
answer page (once per code, refusals that count nothing), counting into the township's year."""
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evaluation.models import PointResult, TownshipYear
from evaluation.rollup import rollup_all
from evaluation.services.framework import load_framework
from surveys.models import Answer, AnswerCode, Questionnaire, SurveyFlag, SurveyWindow, WindowSchool
from surveys.services.answering import State, submit
from surveys.services.counting import count_window, item_distribution, school_counts
from surveys.services.questionnaires import ensure_editable, load_questionnaires
from surveys.services.windows import SurveyRefused, close_window, open_window
from tests.conftest import snapshot
from townships.jurisdiction import resolve_jurisdiction

pytestmark = pytest.mark.django_db
OWN, OTHER = "370881", "370883"
SURVEY_TABLES = (SurveyWindow, WindowSchool, AnswerCode, Answer, SurveyFlag, TownshipYear)
ALL_SATISFIED = {"q1": "非常满意", "q2": "满意", "q3": "满意", "q4": "一般", "q5": "满意", "q6": "非常满意"}


@pytest.fixture
def surveys(world, monkeypatch):
    from portal.celery import app

    # Counting runs in-process here; the bench runs it on a real worker (REDIS_URL).
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    cache.clear()
    parents, students = load_questionnaires()
    return world, parents, students


def _open(world, questionnaire, county=OWN, n=5, **kw):
    officer = world.user(f"county_{county}")
    school = world.schools[county][0]
    now = timezone.now()
    window = open_window(user=officer, jurisdiction=resolve_jurisdiction(officer), township_code=school.township_id, questionnaire=questionnaire,
                         period=kw.get("period", 2024), opens_at=kw.get("opens_at", now - timedelta(hours=1)),
                         closes_at=kw.get("closes_at", now + timedelta(hours=2)), targets={school.pk: n})
    return window, school


def _codes(window):
    return list(window.codes.order_by("id").values_list("code", flat=True))


# --- questionnaires --------------------------------------------------------------------------

def test_the_default_pair_is_shipped_as_data_and_marked_a_portal_default(surveys):
    _world, parents, students = surveys
    assert (parents.audience, students.audience) == ("parents", "students")
    assert parents.portal_default and students.portal_default and parents.version == students.version == "2021"
    assert parents.scale == ["非常满意", "满意", "一般", "不满意", "非常不满意"] and parents.satisfied_choices == ["非常满意", "满意"]
    assert [i.number for i in parents.items.filter(counts=True)] == [1] and "总体" in parents.items.get(number=1).text
    assert parents.items.filter(kind="text").count() == 1
    # Loading again changes nothing (setup_demo runs it every time).
    before = snapshot(Questionnaire)
    load_questionnaires()
    assert snapshot(Questionnaire) == before


def test_a_questionnaire_used_by_a_survey_is_frozen(surveys, django_capture_on_commit_callbacks):
    world, parents, _students = surveys
    ensure_editable(parents)
    with django_capture_on_commit_callbacks(execute=True):
        _open(world, parents)
    parents.refresh_from_db()
    assert parents.frozen
    with pytest.raises(ValidationError):
        ensure_editable(parents)
    # The loader leaves a frozen version alone: the answers given keep meaning what they meant.
    items_before = list(parents.items.values_list("number", "text", "counts"))
    Questionnaire.objects.filter(pk=parents.pk).update(title="改过的标题")
    load_questionnaires()
    parents.refresh_from_db()
    assert parents.title == "改过的标题" and list(parents.items.values_list("number", "text", "counts")) == items_before


def test_admin_province_edits_an_unused_questionnaire_and_reads_a_frozen_one(surveys):
    world, parents, students = surveys
    client = Client()
    client.force_login(world.user("province"))
    Questionnaire.objects.filter(pk=parents.pk).update(frozen=True)
    url = reverse("admin:surveys_questionnaire_change", args=[parents.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="title"' not in page.content.decode()
    before = snapshot(Questionnaire)
    client.post(url, {"title": "新标题"})
    assert snapshot(Questionnaire) == before
    assert 'name="title"' in client.get(reverse("admin:surveys_questionnaire_change", args=[students.pk])).content.decode()
    county = Client()
    county.force_login(world.user(f"county_{OWN}"))
    assert county.get(reverse("admin:surveys_questionnaire_change", args=[students.pk])).status_code == 403


# --- windows and codes -----------------------------------------------------------------------

def test_opening_a_window_issues_unique_random_codes_per_school(surveys, django_capture_on_commit_callbacks):
    world, parents, _students = surveys
    with django_capture_on_commit_callbacks(execute=True):
        window, school = _open(world, parents, n=40)
    codes = _codes(window)
    assert len(codes) == len(set(codes)) == 40 and all(c.startswith(window.prefix) and len(c) == 10 for c in codes)
    assert set(window.codes.values_list("school_id", flat=True)) == {school.pk}
    from security.models import AuditEvent

    assert AuditEvent.objects.filter(action="survey_window_open", area=school.township_id, target__startswith=f"survey:{window.pk} ").count() == 1
    # "Issued" is the codes issued, in the township's year from the start.
    row = TownshipYear.objects.get(township_id=school.township_id, period=2024)
    assert (row.parent_surveys_issued, row.parent_surveys_valid, row.parents_satisfied, row.parent_surveys_collected) == (40, 0, 0, True)


@pytest.mark.parametrize("case", ["other county", "school elsewhere", "zero target", "closes first", "already closed", "city staff"])
def test_a_refused_window_changes_nothing(surveys, case):
    world, parents, _students = surveys
    officer = world.user(f"county_{OWN}")
    school, foreign = world.schools[OWN][0], world.schools[OTHER][0]
    now = timezone.now()
    kwargs = dict(user=officer, jurisdiction=resolve_jurisdiction(officer), township_code=school.township_id, questionnaire=parents, period=2024,
                  opens_at=now, closes_at=now + timedelta(days=1), targets={school.pk: 10})
    if case == "other county":
        kwargs.update(township_code=foreign.township_id, targets={foreign.pk: 10})
    elif case == "school elsewhere":
        kwargs.update(targets={foreign.pk: 10})
    elif case == "zero target":
        kwargs.update(targets={school.pk: 0})
    elif case == "closes first":
        kwargs.update(closes_at=now - timedelta(days=2), opens_at=now - timedelta(days=1))
    elif case == "already closed":
        kwargs.update(opens_at=now - timedelta(days=2), closes_at=now - timedelta(days=1))
    elif case == "city staff":
        city = world.user("city_3708")
        kwargs.update(user=city, jurisdiction=resolve_jurisdiction(city))
    before = snapshot(*SURVEY_TABLES, Questionnaire)
    with pytest.raises(SurveyRefused) as refused:
        open_window(**kwargs)
    assert refused.value.message
    assert snapshot(*SURVEY_TABLES, Questionnaire) == before


def test_the_open_window_page_issues_codes_and_the_slips_and_excel_hold_them(surveys):
    world, parents, _students = surveys
    client = Client()
    client.force_login(world.user(f"county_{OWN}"))
    school = world.schools[OWN][0]
    page = client.get(reverse("surveys:new"), {"township": school.township_id})
    assert page.status_code == 200 and school.name in page.content.decode()
    response = client.post(reverse("surveys:new"), {"township": school.township_id, "questionnaire": parents.pk, "period": "2024",
                                                    "opens_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                                                    "closes_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
                                                    f"target_{school.pk}": "12"})
    assert response.status_code == 302, [str(m) for m in response.context["messages"]]
    window = SurveyWindow.objects.get()
    assert response.status_code == 302 and window.codes.count() == 12
    slips = client.get(reverse("surveys:slips", args=[window.pk])).content.decode()
    code = window.codes.first().code
    assert slips.count("<svg") == 12 and f"{code[:3]}-{code[3:7]}-{code[7:]}" in slips and "<script" not in slips
    import io

    from openpyxl import load_workbook
    xlsx = client.get(reverse("surveys:codes_xlsx", args=[window.pk]))
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert len(rows) == 13 and rows[1][3].endswith(f"/s/{rows[1][2].replace('-', '')}/")
    # A bad target: a message in Chinese, nothing issued.
    before = snapshot(*SURVEY_TABLES)
    bad = client.post(reverse("surveys:new"), {"township": school.township_id, "questionnaire": parents.pk, "period": "2024",
                                               "opens_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                                               "closes_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"), f"target_{school.pk}": "x"}, follow=True)
    assert "必须是" in bad.content.decode() and snapshot(*SURVEY_TABLES) == before


@pytest.mark.parametrize("field, value", [
    ("questionnaire", " "), ("questionnaire", "4.710075965124284e+16"), ("questionnaire", "NaN"), ("questionnaire", "9" * 30),
    ("period", "²"), ("period", "2024.0"), (None, "²"),
])
def test_a_window_form_with_a_malformed_number_is_refused_in_chinese_and_opens_nothing(surveys, field, value):
    """The page fuzzer found these answering 500: a blank or float-like questionnaire id went to
    the database as a key, and '²' passes str.isdigit but not int()."""
    world, parents, _students = surveys
    client = Client()
    client.force_login(world.user(f"county_{OWN}"))
    school = world.schools[OWN][0]
    form = {"township": school.township_id, "questionnaire": parents.pk, "period": "2024",
            "opens_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"), f"target_{school.pk}": "12"}
    form[field or f"target_{school.pk}"] = value
    before = snapshot(*SURVEY_TABLES)
    response = client.post(reverse("surveys:new"), form, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert ("请选择" in page or "必须是" in page) and snapshot(*SURVEY_TABLES) == before


# --- the public answer page ------------------------------------------------------------------

def test_a_code_answers_once_and_the_answer_keeps_no_person(surveys, django_capture_on_commit_callbacks):
    world, parents, _students = surveys
    window, school = _open(world, parents)
    code = _codes(window)[0]
    phone = Client()
    form = phone.get(f"/s/{code}/")
    body = form.content.decode()
    assert form.status_code == 200 and "家长满意度" in body and school.name in body
    # No name, phone or address asked; no script, nothing from elsewhere.
    assert "<script" not in body and "http" not in body.replace("http-equiv", "") and "姓名" not in body.split("不收集")[0]
    with django_capture_on_commit_callbacks(execute=True):
        done = phone.post(f"/s/{code}/", {**ALL_SATISFIED, "q7": "很好", "name": "张三", "school": world.schools[OTHER][0].pk})
    assert done.status_code == 302 and done["Location"] == reverse("surveys_public:thanks")
    answer = Answer.objects.get()
    assert answer.school_id == school.pk and answer.satisfied and answer.answers["7"] == "很好" and "name" not in str(answer.answers)
    assert {f.name for f in Answer._meta.fields} == {"id", "window", "school", "questionnaire", "submitted_at", "answers", "satisfied", "sheet"}
    assert AnswerCode.objects.get(code=code).spent_at is not None
    # The second tap: a clear page, nothing counted.
    before = snapshot(Answer, AnswerCode)
    again = phone.post(f"/s/{code}/", ALL_SATISFIED)
    assert again.status_code == 409 and "已经" in again.content.decode()
    assert snapshot(Answer, AnswerCode) == before


@pytest.mark.parametrize("case,status,words", [
    ("closed", 410, "已结束"), ("not yet", 403, "尚未开始"), ("made up", 404, "不存在"), ("other prefix", 404, "不存在"), ("garbage", 404, "不存在"),
])
def test_refusals_show_a_clear_page_and_count_nothing(surveys, case, status, words):
    world, parents, _students = surveys
    now = timezone.now()
    window, _school = _open(world, parents, opens_at=now + timedelta(hours=1) if case == "not yet" else now - timedelta(hours=1))
    foreign, _ = _open(world, parents, county=OTHER)
    code = _codes(window)[0]
    if case == "closed":
        officer = world.user(f"county_{OWN}")
        close_window(user=officer, jurisdiction=resolve_jurisdiction(officer), window=window)
    elif case == "made up":
        code = window.prefix + "2345678"
    elif case == "other prefix":
        code = window.prefix + _codes(foreign)[0][3:]  # another township's code under this window's prefix
    elif case == "garbage":
        code = "<script>"
    before = snapshot(Answer, AnswerCode, TownshipYear)
    for method in ("get", "post"):
        response = getattr(Client(), method)(f"/s/{code}/", ALL_SATISFIED)
        assert response.status_code == status, (case, method)
        assert words in response.content.decode()
    assert snapshot(Answer, AnswerCode, TownshipYear) == before


def test_an_incomplete_answer_is_shown_again_and_spends_nothing(surveys):
    world, parents, _students = surveys
    window, _school = _open(world, parents)
    code = _codes(window)[0]
    before = snapshot(Answer, AnswerCode)
    response = Client().post(f"/s/{code}/", {"q1": "满意", "q2": "不存在的选项"})
    body = response.content.decode()
    assert response.status_code == 400 and "还有 5 题未作答" in body and 'value="满意" checked' in body
    assert snapshot(Answer, AnswerCode) == before


def test_guessing_codes_is_limited_per_address_and_per_prefix(surveys, settings):
    world, parents, _students = surveys
    settings.SURVEY_MISS_RATE_PER_ADDRESS = "3/10m"
    window, _school = _open(world, parents)
    good = _codes(window)[0]
    client = Client(REMOTE_ADDR="10.1.1.1")
    answers = [client.get(f"/s/{window.prefix}{n:07d}/".replace("0", "2").replace("1", "3")).status_code for n in range(5)]
    assert answers[:4] == [404] * 4 and answers[4] == 429
    assert client.get(f"/s/{good}/").status_code == 429  # that address waits
    assert Client(REMOTE_ADDR="10.1.1.2").get(f"/s/{good}/").status_code == 200  # others do not
    settings.SURVEY_MISS_RATE_PER_PREFIX = "2/10m"
    for n in range(3):
        Client(REMOTE_ADDR=f"10.2.0.{n}").get(f"/s/{window.prefix}AAAAAA{n + 2}/")
    assert Client(REMOTE_ADDR="10.3.0.1").get(f"/s/{good}/").status_code == 429
    assert Answer.objects.count() == 0


def test_suspicious_patterns_are_flagged_to_the_county(surveys, settings):
    world, parents, _students = surveys
    settings.SURVEY_BURST_ANSWERS, settings.SURVEY_IDENTICAL_RUN = 4, 3
    window, _school = _open(world, parents, n=8)
    codes = _codes(window)
    for code in codes[:4]:
        assert Client(REMOTE_ADDR="10.9.9.9").post(f"/s/{code}/", ALL_SATISFIED).status_code == 302
    kinds = sorted(SurveyFlag.objects.values_list("kind", flat=True))
    assert kinds == ["burst", "identical"], kinds  # 4 from one address; 3 identical sheets in a row (flagged once)
    assert Answer.objects.count() == 4  # flagged, still counted
    page = Client()
    page.force_login(world.user(f"county_{OWN}"))
    assert "份相同的答卷" in page.get(reverse("surveys:window", args=[window.pk])).content.decode()


# --- counting ----------------------------------------------------------------------------------

def test_the_townships_rates_equal_the_hand_count_and_flow_into_the_rollup(surveys, django_capture_on_commit_callbacks):
    world, parents, students = surveys
    framework = load_framework()
    with django_capture_on_commit_callbacks(execute=True):
        window, school = _open(world, parents, n=150)
        other_window, _ = _open(world, students, n=20)  # the students' survey feeds its own figures
    codes = _codes(window)
    choices = ["非常满意", "满意", "一般", "不满意", "非常不满意"]
    hand_valid = hand_satisfied = 0
    for i, code in enumerate(codes[:120]):
        overall = choices[i % 5] if i % 3 else "满意"
        with django_capture_on_commit_callbacks(execute=True):
            assert submit(raw_code=code, data={**ALL_SATISFIED, "q1": overall, "q2": choices[(i * 7) % 5]}).state == State.ANSWERED
        hand_valid += 1
        hand_satisfied += overall in ("非常满意", "满意")
    submit(raw_code=codes[0], data=ALL_SATISFIED)  # spent: not counted
    with django_capture_on_commit_callbacks(execute=True):
        assert count_window(window_id=window.pk) == "changed"
    row = TownshipYear.objects.get(township_id=school.township_id, period=2024)
    assert (row.parent_surveys_issued, row.parent_surveys_valid, row.parents_satisfied) == (150, hand_valid, hand_satisfied)
    assert row.parent_surveys_collected and row.student_surveys_issued == 20
    by_school = school_counts([window])[(window.pk, school.pk)]
    assert (by_school.issued, by_school.valid, by_school.satisfied) == (150, 120, hand_satisfied)
    q2 = next(r for r in item_distribution(window) if r["item"].number == 2)
    assert {c["choice"]: c["n"] for c in q2["choices"]} == {c: sum(1 for i in range(120) if choices[(i * 7) % 5] == c) for c in choices}
    # The roll-up read it: 6.1 is satisfied / valid; the framework's minimum (100) is met.
    point = PointResult.objects.get(division_code=school.township_id, period=2024, round_key=0, point__code="6.1", point__target__framework=framework)
    assert abs(float(point.value) - hand_satisfied / hand_valid) < 1e-6
    assert point.verdict == ("attained" if hand_satisfied / hand_valid >= 0.9 else "not_attained")
    # Counting again changes nothing and recomputes nothing.
    assert count_window(window_id=window.pk) == "unchanged"
    # A recomputation from scratch gives the same.
    rollup_all(period=2024, prefix="37")
    assert PointResult.objects.get(pk=point.pk).value == point.value


def test_below_the_frameworks_minimum_the_rate_is_insufficient(surveys, django_capture_on_commit_callbacks):
    world, parents, _students = surveys
    load_framework()
    with django_capture_on_commit_callbacks(execute=True):
        window, school = _open(world, parents, n=10)
    for code in _codes(window):
        submit(raw_code=code, data=ALL_SATISFIED)
    with django_capture_on_commit_callbacks(execute=True):
        count_window(window_id=window.pk)
    point = PointResult.objects.get(division_code=school.township_id, period=2024, round_key=0, point__code="6.1")
    assert float(point.value) == 1.0 and point.verdict == "insufficient"


def test_province_and_city_see_rates_only(surveys):
    world, parents, _students = surveys
    window, school = _open(world, parents)
    submit(raw_code=_codes(window)[0], data=ALL_SATISFIED)
    for key in ("province", "city_3708"):
        client = Client()
        client.force_login(world.user(key))
        page = client.get(reverse("surveys:window", args=[window.pk]))
        body = page.content.decode()
        assert page.status_code == 200 and 'id="fig-rate"' in body and 'id="fig-valid"' not in body and school.name not in body
        for name in ("surveys:slips", "surveys:codes_xlsx", "surveys:close", "surveys:count"):
            assert client.post(reverse(name, args=[window.pk])).status_code in (404, 405), (key, name)
        assert client.get(f"/api/survey-windows/{window.pk}/results/").status_code == 404
        assert client.get(f"/api/survey-windows/{window.pk}/").json()["satisfaction_rate"] == 1.0
    other_city = Client()
    other_city.force_login(world.user("city_3702"))
    assert other_city.get(reverse("surveys:window", args=[window.pk])).status_code == 404
    county = Client()
    county.force_login(world.user(f"county_{OWN}"))
    results = county.get(f"/api/survey-windows/{window.pk}/results/").json()
    assert (results["issued"], results["valid"], results["satisfied"]) == (5, 1, 1)


def test_an_upload_cannot_change_figures_the_survey_collected(surveys, django_capture_on_commit_callbacks):
    from evaluation.imports.service import import_file
    from tests import import_files as f

    world, parents, _students = surveys
    with django_capture_on_commit_callbacks(execute=True):
        window, school = _open(world, parents, n=8)
    officer = world.user(f"county_{OWN}")
    headers = ["乡镇代码", "学年", "户籍小学适龄儿童数", "家长问卷发放数", "家长有效问卷数", "家长满意数"]
    before = snapshot(TownshipYear)
    run = import_file(user=officer, jurisdiction=resolve_jurisdiction(officer), data=f.xlsx({"乡镇年度数据": [headers, [school.township_id, 2024, 500, 200, 150, 140]]}),
                      file_name="typed.xlsx", channel="test", dry_run=False)
    assert run.status == "invalid" and any("满意度调查" in e["message"] for e in run.errors), run.errors
    assert snapshot(TownshipYear) == before
    # The same figures and another column: accepted.
    run = import_file(user=officer, jurisdiction=resolve_jurisdiction(officer), data=f.xlsx({"乡镇年度数据": [headers, [school.township_id, 2024, 500, 8, 0, 0]]}),
                      file_name="typed.xlsx", channel="test", dry_run=False)
    assert run.status == "committed", run.errors
    assert TownshipYear.objects.get(township_id=school.township_id, period=2024).registered_primary == 500


def test_the_start_page_takes_a_typed_code(surveys):
    world, parents, _students = surveys
    window, _school = _open(world, parents)
    code = _codes(window)[0]
    typed = f"{code[:3].lower()}-{code[3:7]} {code[7:]}"
    response = Client().get(reverse("surveys_public:start"), {"code": typed})
    assert response.status_code == 302 and response["Location"] == f"/s/{code}/"
    half = Client().get(reverse("surveys_public:start"), {"code": code[:6]})
    assert half.status_code == 200 and "答题码不完整" in half.content.decode()


def test_answers_go_on_while_the_rate_limits_cache_is_away(surveys, settings):
    """Redis down: the limits cannot count and are not applied (the one-time codes live in the
    database, so nothing is answered twice); the page does not fail."""
    world, parents, _students = surveys
    window, _school = _open(world, parents)
    code = _codes(window)[0]
    settings.CACHES = {"default": {"BACKEND": "portal.cache.ResilientRedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    phone = Client()
    assert phone.get(f"/s/{code}/").status_code == 200
    assert phone.post(f"/s/{code}/", ALL_SATISFIED).status_code == 302
    assert phone.post(f"/s/{code}/", ALL_SATISFIED).status_code == 409
    assert Answer.objects.count() == 1
