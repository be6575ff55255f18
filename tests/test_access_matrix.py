"""The access matrix: every URL of the portal and of the admin (from the URL conf) and every API
path (from the OpenAPI schema), for users of several roles, with objects inside and outside their area.
Outside: "not found", and nothing in the database changed. Inside: the object is served. Lists:
nothing of the other area. A URL with a parameter this test does not know fails the test, so a
new endpoint cannot escape the matrix.

Longer than our modules usually are, on purpose: the matrix is one table (the parameter values
each URL takes, for each role) read with the checks beside it; split, a reader would have to
join the two again to see what an endpoint was tested with."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from evaluation.imports.service import import_file
from evaluation.models import (
    AreaResult,
    Assignment,
    DataQualityFinding,
    Evidence,
    ImportRun,
    InspectionForm,
    ObservationPoint,
    PointResult,
    SchoolYear,
    TargetResult,
    TownshipResult,
    VerificationItem,
)
from evaluation.rollup import framework_for_period, rollup_all
from evaluation.services.demo import load_demo_facts
from evaluation.services.forms import add_evidence, assign_team, create_round, save_draft, submit_form
from evaluation.services.framework import load_framework
from evaluation.services.verification import draw_sample, record_verification
from surveys.models import Answer, AnswerCode, SurveyWindow
from surveys.services.answering import submit
from surveys.services.questionnaires import load_questionnaires
from surveys.services.windows import open_window
from tests import import_files as f
from tests.conftest import snapshot
from townships.jurisdiction import resolve_jurisdiction
from townships.models import Division, PilotBatch, PilotTownship, School
from townships.services.demo import load_demo_schools
from workflow.models import (
    Accountability,
    DataLock,
    GoodPractice,
    Notice,
    Notification,
    PilotAcceptance,
    Plan,
    RectificationEvidence,
    RectificationItem,
    ReviewStep,
    SelfAssessment,
    SelfAssessmentItem,
    Talk,
)
from workflow.services.acceptance import record_acceptance
from workflow.services.accountability import decide_accountability, issue_notice, record_talk
from workflow.services.cases import submit_case
from workflow.services.plans import save_plan
from workflow.services.rectification import add_item_evidence, sync_items
from workflow.services.review import open_assessment

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OWN, OTHER = "370881", "370883"  # 曲阜市, 邹城市
TABLES = (School, SchoolYear, ImportRun, InspectionForm, Evidence, Assignment, SelfAssessment, SelfAssessmentItem, ReviewStep, DataLock,
          RectificationItem, RectificationEvidence, Plan, GoodPractice, SurveyWindow, AnswerCode, Answer, VerificationItem, DataQualityFinding,
          Notice, Talk, Accountability, PilotAcceptance)


def _town(county):
    return Division.objects.filter(parent_id=county, kind="town").order_by("code").first().code


@pytest.fixture
def two_counties(world):
    """The same objects in both counties: school data, an upload, an inspected round with evidence,
    rectification items with evidence, self-assessments, plans, cases."""
    framework = load_framework()
    load_demo_schools(province_prefix="3708", villages_per_township=1)
    load_demo_facts(province_prefix="3708", periods=(2024,))
    towns = {OWN: _town(OWN), OTHER: _town(OTHER)}
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=list(towns.values()), created_by=world.user("province"))
    objects = {}
    for county, inspector in ((OWN, "inspector_a"), (OTHER, "inspector_b")):
        officer, lead = world.user(f"county_{county}"), world.user(inspector)
        school = School.objects.filter(township_id=towns[county], is_demo=True).order_by("code").first()
        run = import_file(user=officer, jurisdiction=resolve_jurisdiction(officer), data=f.school_year_xlsx([[school.code, school.name, 2024, 300, 20, 4, 0.93, "是", "良", 30]]),
                          file_name="d.xlsx", channel="test", dry_run=True)
        form = assign_team(round=rnd, township_code=towns[county], inspectors=[lead], lead=lead)
        answers = {j.point.code: {"level": "not_attained" if j.point.code == "3.1" else "attained"} for j in form.judgments.select_related("point")}
        form = save_draft(form=form, user=lead, version=form.version, answers=answers)
        judgment = form.judgments.get(point__code="3.1")
        evidence = add_evidence(judgment=judgment, user=lead, data=PNG, file_name="现场.png")
        form.refresh_from_db()
        submit_form(form=form, user=lead, version=form.version)
        objects[county] = {"school": school, "run": run, "form": form, "judgment": judgment, "evidence": evidence,
                           "school_year": SchoolYear.objects.filter(school=school).first(), "assignment": Assignment.objects.get(round=rnd, township_id=towns[county]),
                           "town": towns[county]}
    rollup_all(period=2024, prefix="3708")
    sync_items(round=rnd)
    sample = draw_sample(round=rnd, user=world.user("province"), seed="matrix", per_township=2)
    for county, inspector in ((OWN, "inspector_a"), (OTHER, "inspector_b")):
        vitem = sample.items.filter(township_id=towns[county]).order_by("id").first()
        # Found on site far from the reported figure (whatever its kind): a data-quality finding.
        record_verification(item=vitem, user=world.user(inspector), value="0" if vitem.reported > Decimal("0.5") else "1", file_data=PNG, file_name="台账.png")
        objects[county].update(vitem=vitem, finding=DataQualityFinding.objects.get(item=vitem))
    for county in (OWN, OTHER):
        officer = world.user(f"county_{county}")
        item = RectificationItem.objects.filter(township_id=towns[county]).order_by("id").first()
        objects[county].update(
            item=item, item_evidence=add_item_evidence(user=officer, item=item, data=PNG, file_name="整改.png"),
            assessment=open_assessment(user=officer, round=rnd, township_code=towns[county]),
            plan=save_plan(user=officer, year=2024, title=f"{county} 方案"),
            case=submit_case(user=officer, title=f"{county} 案例", theme="lesson", summary="……"),
        )
        # 通报, 约谈, 问责 naming this county alone.
        province = world.user("province")
        notice = issue_notice(user=province, title=f"{county} 通报", body="整改滞后。", county_codes=[county], item_ids=[item.pk])
        talk = record_talk(user=province, county_code=county, held_on="2024-10-01", talked_to="局长", minutes="纪要", notice_id=notice.pk)
        objects[county].update(notice=notice, talk=talk, county=county, decision=decide_accountability(
            user=province, county_code=county, decided_on="2024-11-01", decision="诫勉", basis="通报后未整改", notice_ids=[notice.pk], talk_ids=[talk.pk]))
        entry = PilotTownship.objects.create(batch=PilotBatch.objects.get_or_create(year=2022, name="矩阵批次", source_document="x")[0], township_id=towns[county])
        objects[county]["acceptance"] = record_acceptance(user=province, pilot_id=entry.pk, outcome="accepted", round_id=rnd.pk, note="通过")
    parents, _students = load_questionnaires()
    for county in (OWN, OTHER):
        officer, school = world.user(f"county_{county}"), objects[county]["school"]
        window = open_window(user=officer, jurisdiction=resolve_jurisdiction(officer), township_code=school.township_id, questionnaire=parents,
                             period=2024, opens_at=timezone.now() - timedelta(hours=1), closes_at=timezone.now() + timedelta(days=1), targets={school.pk: 3})
        code = window.codes.order_by("id").first().code
        submit(raw_code=code, data={"q1": "满意", "q2": "满意", "q3": "满意", "q4": "满意", "q5": "满意", "q6": "满意"})
        objects[county].update(window=window, code=window.codes.filter(spent_at__isnull=True).order_by("id").first().code)
    for county in (OWN, OTHER):
        town = objects[county]["town"]
        objects[county].update(
            county=county, point_result=PointResult.objects.filter(division_code=town).order_by("pk").first(),
            target_result=TargetResult.objects.filter(division_code=town).order_by("pk").first(),
            township_result=TownshipResult.objects.filter(division_code=town).order_by("pk").first(),
            area_result=AreaResult.objects.filter(division_code=county).order_by("pk").first(),
        )
    objects["round"] = rnd
    objects["notification"] = Notification.objects.filter(user=world.user(f"county_{OTHER}")).first()
    return world, objects


def walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace) if x) or None
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), ":".join(x for x in (namespace, p.name) if x)


def portal_urls():
    """(name, route) of every page URL: not the admin (its own scoping tests) nor the API (the
    schema test below covers every API path)."""
    seen = {}
    for route, name in walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "api/")):
            continue
        seen.setdefault(name, route)
    return seen


# URL name → the object (by key in the fixture) each path parameter names; "" = the parameter's
# literal value. POST-only views answer GET with 405, which exposes nothing.
PARAMS = {
    "evaluation:export": {"fmt": "=xlsx"},
    "evaluation:run": {"pk": "run"}, "evaluation:run_status": {"pk": "run"}, "evaluation:run_commit": {"pk": "run"}, "evaluation:run_file": {"pk": "run"},
    "evaluation:form": {"pk": "form"}, "evaluation:form_save": {"pk": "form"}, "evaluation:form_submit": {"pk": "form"},
    "evaluation:form_return": {"pk": "form"}, "evaluation:evidence_upload": {"pk": "form", "judgment_id": "judgment"},
    "evaluation:evidence": {"evidence_id": "evidence"},
    "evaluation:verification_evidence": {"item_id": "vitem"}, "evaluation:verification_record": {"pk": "form", "item_id": "vitem"},
    "reports:township": {"code": "town"}, "reports:township_xlsx": {"code": "town"}, "reports:township_pdf": {"code": "town"},
    "workflow:plan": {"pk": "plan"}, "workflow:assessment": {"pk": "assessment"}, "workflow:item": {"pk": "item"},
    "workflow:case": {"pk": "case"}, "workflow:file": {"kind": "=rectification", "pk": "item_evidence"},
    "workflow:notice": {"pk": "notice"}, "workflow:notice_pdf": {"pk": "notice"}, "workflow:talk": {"pk": "talk"},
    "workflow:decision": {"pk": "decision"}, "workflow:county_record": {"code": "county"},
    "surveys:window": {"pk": "window"}, "surveys:slips": {"pk": "window"}, "surveys:codes_xlsx": {"pk": "window"},
    "surveys:close": {"pk": "window"}, "surveys:count": {"pk": "window"},
    "surveys_public:answer": {"code": "code"},
    # The accounts pages have tests of their own (below); here only to send an anonymous visitor away.
    "townships:accounts_issued": {"token": "=not-issued"}, "townships:account_active": {"pk": "=1"}, "townships:account_reset": {"pk": "=1"},
}
# The units' accounts are managed by provincial and city staff only (a county officer is refused
# every one of these with 403, inside or out): a city officer of the other city is checked below.
ACCOUNT_PAGES = {"townships:account_active": {"pk": "account"}, "townships:account_reset": {"pk": "account"}}
ACCOUNT_API = {"accounts"}
# The only pages without a login: the public survey answer pages (tested on their own below).
PUBLIC = {"surveys_public:start", "surveys_public:answer", "surveys_public:thanks"}
API_PARAMS = {
    "divisions": "town", "schools": "school", "imports": "run", "school-years": "school_year", "forms": "form", "assignments": "assignment",
    "verification-items": "vitem", "verification-findings": "finding",
    "plans": "plan", "self-assessments": "assessment", "rectification-items": "item", "cases": "case", "survey-windows": "window",
    "point-results": "point_result", "target-results": "target_result", "township-results": "township_result", "area-results": "area_result",
    "scorecards": "county",
    "notices": "notice", "talks": "talk", "accountability-decisions": "decision", "pilot-acceptances": "acceptance",
}
# Objects every user may see whatever their area: the framework, the rounds, their own notices.
# A round's verification sample is the round's (seed, size), the same for every area it touches.
API_SHARED = {"frameworks", "rounds", "notifications", "questionnaires", "verification-samples"}


def _value(objects, county, spec):
    if spec.startswith("="):
        return spec[1:]
    obj = objects[county][spec]
    return obj if isinstance(obj, str) else getattr(obj, "code", None) if spec in ("school",) else obj.pk


def _page_url(name, route, objects, county):
    params = re.findall(r"<(?:\w+:)?(\w+)>", route)
    if not params:
        return reverse(name)
    spec = PARAMS.get(name)
    assert spec is not None and set(spec) == set(params), f"the access matrix does not know the parameters of {name} ({route}): add it to PARAMS"
    return reverse(name, kwargs={k: _value(objects, county, v) for k, v in spec.items()})


def test_every_page_url_answers_not_found_outside_the_area_and_changes_nothing(two_counties):
    world, objects = two_counties
    client = Client()
    client.force_login(world.user(f"county_{OWN}"))
    urls = portal_urls()
    checked = 0
    for name, route in urls.items():
        if not re.search(r"<(?:\w+:)?(\w+)>", route) or name == "evaluation:export" or name in ACCOUNT_PAGES or name == "townships:accounts_issued" or name in PUBLIC:
            continue
        inside, outside = _page_url(name, route, objects, OWN), _page_url(name, route, objects, OTHER)
        before = snapshot(*TABLES)
        for method in ("get", "post"):
            response = getattr(client, method)(outside)
            assert response.status_code in (404, 405), (name, method, outside, response.status_code)
            if method == "post" and name not in ("evaluation:form_return",):
                assert response.status_code == 404, (name, outside)
        assert snapshot(*TABLES) == before, name
        answer = client.get(inside)
        # Inside: served (POST-only actions answer GET with 405; an inspectors' form is not the
        # county's to open or change, so it is "not found" for the county officer too).
        assert answer.status_code in (200, 302, 405) or name.startswith("evaluation:form") or name == "evaluation:evidence_upload", (name, inside, answer.status_code)
        checked += 1
    assert checked >= 15


def test_inspectors_reach_only_their_own_assignment(two_counties):
    world, objects = two_counties
    client = Client()
    client.force_login(world.user("inspector_a"))
    for name in ("evaluation:form", "evaluation:form_save", "evaluation:form_submit"):
        route = portal_urls()[name]
        before = snapshot(*TABLES)
        assert client.post(_page_url(name, route, objects, OTHER)).status_code == 404, name
        assert snapshot(*TABLES) == before
    assert client.get(_page_url("evaluation:form", portal_urls()["evaluation:form"], objects, OWN)).status_code == 200
    assert client.get(_page_url("evaluation:evidence", portal_urls()["evaluation:evidence"], objects, OTHER)).status_code == 404
    assert client.get(_page_url("reports:township", portal_urls()["reports:township"], objects, OTHER)).status_code == 404


def test_pages_without_parameters_show_nothing_of_the_other_area(two_counties):
    world, objects = two_counties
    marker = Division.objects.get(code=objects[OTHER]["town"]).name
    for key in (f"county_{OWN}", "city_3702"):
        client = Client()
        client.force_login(world.user(key))
        for name, route in portal_urls().items():
            if re.search(r"<(?:\w+:)?(\w+)>", route) and name != "evaluation:export":
                continue
            if name in ("logout", "set_language", "workflow:notifications_read", ""):
                continue
            url = _page_url(name, route, objects, OWN) if name == "evaluation:export" else reverse(name)
            response = client.get(url)
            assert response.status_code in (200, 302, 403, 404, 405), (key, name, response.status_code)
            body = response.content.decode("utf-8", errors="ignore") if response.status_code == 200 else ""
            assert OTHER not in body and marker not in body, (key, name)


def test_the_public_survey_pages_need_no_login_and_reveal_no_other_survey_nor_counts(two_counties):
    """/s/… are the only pages without a login: every other page sends an anonymous visitor to
    the login (or refuses); the answer page shows its own questionnaire and school, nothing of
    another survey, and no figures."""
    world, objects = two_counties
    anonymous = Client()
    open_to_all = PUBLIC | {"login", "health", "set_language", "api-docs", "schema", "favicon.ico", "password_change_done", "logout", ""}
    for name, route in portal_urls().items():
        if name in open_to_all or name.startswith("api"):
            continue
        url = _page_url(name, route, objects, OWN)
        response = anonymous.get(url)
        assert response.status_code in (302, 403, 404, 405), (name, response.status_code)
        assert response.status_code != 302 or "/accounts/login/" in response["Location"], (name, response["Location"])
    own, other = objects[OWN], objects[OTHER]
    assert anonymous.get(reverse("surveys_public:start")).status_code == 200
    assert anonymous.get(reverse("surveys_public:thanks")).status_code == 200
    page = anonymous.get(reverse("surveys_public:answer", kwargs={"code": own["code"]}))
    body = page.content.decode()
    assert page.status_code == 200 and own["school"].name in body
    for hidden in (other["school"].name, other["window"].prefix, Division.objects.get(code=other["town"]).name, "有效", "满意率", "发放", "回收"):
        assert hidden not in body, hidden
    for state_page in (anonymous.get(reverse("surveys_public:answer", kwargs={"code": own["window"].prefix + "2345678"})),):
        assert state_page.status_code == 404 and own["school"].name not in state_page.content.decode()


def _schema_paths():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)["paths"]


def test_every_api_path_of_the_schema_is_scoped(two_counties):
    world, objects = two_counties
    api = APIClient()
    api.force_authenticate(world.user(f"county_{OWN}"))
    paths = _schema_paths()
    assert len(paths) >= 30
    for path, operations in paths.items():
        match = re.match(r"^/api/([a-z-]+)/(?:\{(\w+)\}/)?([a-z_-]+/)?$", path)
        assert match, f"unexpected API path {path}"
        resource, param, action = match.groups()
        if resource in API_SHARED or resource in ACCOUNT_API:
            continue
        if param is None:
            if "get" in operations:
                response = api.get(path)
                assert response.status_code == 200, path
                body = response.content.decode()
                assert OTHER not in body, path  # a list holds the user's area only
            continue
        key = API_PARAMS.get(resource)
        assert key is not None, f"the access matrix does not know the API resource {resource}: add it to API_PARAMS"
        outside = path.replace("{" + param + "}", str(_value(objects, OTHER, key) if key != "school" else objects[OTHER]["school"].code))
        inside = path.replace("{" + param + "}", str(_value(objects, OWN, key) if key != "school" else objects[OWN]["school"].code))
        before = snapshot(*TABLES)
        for method in operations:
            response = getattr(api, method)(outside, {}, format="json")
            assert response.status_code == 404, (method, outside, response.status_code)
        assert snapshot(*TABLES) == before, path
        if "get" in operations:
            assert api.get(inside).status_code == 200, inside


def test_another_citys_accounts_answer_not_found_and_change_nothing(world):
    """Every accounts URL with a parameter, page and API, for a city officer: an account of the
    other city is "not found" and stays as it was; one of their own city is served."""
    from townships.models import User

    own, other = world.user("county_370281"), world.user(f"county_{OWN}")  # 青岛 (the officer's), 济宁
    officer = world.user("city_3702")
    client, api = Client(), APIClient()
    client.force_login(officer)
    api.force_authenticate(officer)
    routes = {name: route for name, route in portal_urls().items() if name.startswith("townships:") and re.search(r"<(?:\w+:)?(\w+)>", route)}
    assert set(routes) == set(ACCOUNT_PAGES) | {"townships:accounts_issued"}, "a new accounts URL: add it to ACCOUNT_PAGES"
    api_paths = [p for p in _schema_paths() if p.startswith("/api/accounts/{")]
    assert len(api_paths) >= 3
    before = snapshot(User)
    for name in ACCOUNT_PAGES:
        for method in ("get", "post"):
            response = getattr(client, method)(reverse(name, kwargs={"pk": other.pk}), {"active": "0"})
            assert response.status_code in (404, 405) and (method == "get" or response.status_code == 404), (name, method)
    assert client.get(reverse("townships:accounts_issued", kwargs={"token": "not-issued"})).status_code == 404
    for path, operations in ((p, o) for p, o in _schema_paths().items() if p in api_paths):
        for method in operations:
            assert getattr(api, method)(re.sub(r"\{\w+\}", str(other.pk), path), {}, format="json").status_code == 404, (method, path)
        if "get" in operations:
            assert api.get(re.sub(r"\{\w+\}", str(own.pk), path)).status_code == 200, path
    assert snapshot(User) == before
    assert client.post(reverse("townships:account_active", kwargs={"pk": own.pk}), {"active": "0"}).status_code == 302
    own.refresh_from_db()
    assert not own.is_active


# --- the admin --------------------------------------------------------------------------------

def admin_urls():
    """(name, route) of every admin URL that names an object, from the URL conf."""
    return {name: route for route, name in walk(get_resolver().url_patterns)
            if route.startswith("admin/") and re.search(r"<(?:\w+:)?(\w+)>", route) and name not in ("admin", "admin:app_list")}


def _admin_for(name):
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            return model, model_admin
    if name == "admin:auth_user_password_change":  # the user admin's own URL, named after auth
        from townships.models import User

        return User, admin.site._registry[User]
    return None, None


# Admin models every staff user may read whatever their area, and why.
ADMIN_SHARED = {
    "PilotBatch": "the province's published batches; their townships are an inline scoped by the jurisdiction rule",
}


def _missing_id(model):
    return "999999999" if model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField", "IntegerField") else "999999999999"


def _admin_answer(client, method, url, missing_id):
    """What the admin answered, with the object id taken out (a "does not exist" message names it)."""
    response = getattr(client, method)(url, {"post": "yes"} if method == "post" else None, follow=True)
    messages = [str(m) for m in response.context["messages"]] if response.context and "messages" in response.context else []
    return response.status_code, [u for u, _ in response.redirect_chain], [m.replace(missing_id, "ID") for m in messages]


@pytest.fixture
def admin_objects(two_counties):
    """What the fixture lacks for the admin: an alias, a confirmed flag and a second-factor device."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from evaluation.models import ConfirmedFlag, RollupJob
    from townships.models import DivisionAlias, Level

    world, objects = two_counties
    for county in (OWN, OTHER):
        town = objects[county]["town"]
        DivisionAlias.objects.create(level=Level.TOWNSHIP, scope_id=county, alias=f"别名{town}", division_id=town, reason="test")
        ConfirmedFlag.objects.create(run=objects[county]["run"], township_id=town, subject="学校", period=2024, field="students",
                                     previous="100", value="300", reason="合并", confirmed_by=world.user(f"county_{county}"))
    TOTPDevice.objects.create(user=world.user("province"), name="手机")
    # The province's own tables, one row each, so their refusal is tested on a real object.
    Group.objects.create(name="审核组")
    schedule = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.get_or_create(name="matrix", defaults={"task": "evaluation.tasks.nightly_rollup_task", "interval": schedule})
    CrontabSchedule.objects.create(minute="0", hour="2")
    SolarSchedule.objects.create(event="sunrise", latitude=36.6, longitude=117.0)
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    AccessAttempt.objects.create(username="someone", ip_address="10.0.0.1", failures_since_start=1, get_data="", post_data="", http_accept="", path_info="/accounts/login/")
    AccessLog.objects.create(username="someone", ip_address="10.0.0.1", http_accept="", path_info="/accounts/login/")
    AccessFailureLog.objects.create(username="someone", ip_address="10.0.0.1", http_accept="", path_info="/accounts/login/", locked_out=False)
    RollupJob.objects.create(kind="nightly", period=2024, prefix="37")
    return world, objects


@pytest.mark.parametrize("observer,inside", [(f"county_{OWN}", OWN), ("city_3702", None)])
def test_every_admin_url_answers_outside_objects_like_missing_ones_and_changes_nothing(admin_objects, observer, inside):
    """Every admin URL naming an object, for every registered model. A model the jurisdiction rule
    scopes: the other county's object is answered exactly like a missing one, by GET and POST, and
    nothing changes. A shared model (ADMIN_SHARED) is read-only below the province and shows none of
    the other area. Any other model is the province's: refused (403) to city and county staff."""
    from django.contrib import admin
    from django_celery_beat.models import PeriodicTask

    from security.models import AuditEvent
    from townships.admin_scoping import ScopedAdminMixin

    world, objects = admin_objects
    client = Client()
    client.force_login(world.user(observer))
    other_area = resolve_jurisdiction(world.user(f"county_{OTHER}"))
    own_area = resolve_jurisdiction(world.user(f"county_{OWN}"))
    observer_area = resolve_jurisdiction(world.user(observer))
    # Everything the admin can edit; not the audit log, which records each refusal.
    tables = TABLES + tuple(m for m in admin.site._registry if m is not AuditEvent) + (PeriodicTask,)
    covered = set()
    for name, route in admin_urls().items():
        if name == "admin:view_on_site":
            continue  # below, with the content type
        model, model_admin = _admin_for(name)
        assert model is not None, f"the access matrix does not know the admin URL {name} ({route})"
        param = re.findall(r"<(?:\w+:)?(\w+)>", route)
        assert len(param) == 1, (name, route)
        if isinstance(model_admin, ScopedAdminMixin):
            # The other county's object; for a level above the county (the province) any one
            # the observer's area does not cover.
            everything = model._default_manager.all()
            visible = observer_area.filter(everything, model_admin.scope_field)
            foreign = (other_area.filter(everything, model_admin.scope_field).exclude(pk__in=visible.values("pk")).order_by("pk").first()
                       or everything.exclude(pk__in=visible.values("pk")).order_by("pk").first())
            assert foreign is not None, f"no {model.__name__} outside {observer}'s area for the admin matrix: add one to the fixture"
            missing = _missing_id(model)
            before = snapshot(*TABLES)
            for method in ("get", "post"):
                url = reverse(name, kwargs={param[0]: foreign.pk})
                answer = _admin_answer(client, method, url, str(foreign.pk))
                expected = _admin_answer(client, method, reverse(name, kwargs={param[0]: missing}), missing)
                assert answer == expected, (observer, name, method, answer, expected)
                assert answer[0] in (200, 403, 404), (name, answer)
            assert snapshot(*TABLES) == before, name
            if inside and name.endswith(("_change", "_history")):
                own = own_area.filter(model._default_manager.all(), model_admin.scope_field).order_by("pk").first()
                if own is not None and model_admin.has_module_permission(_request_for(world.user(observer))):
                    assert client.get(reverse(name, kwargs={param[0]: own.pk})).status_code == 200, (name, own.pk)
        elif model.__name__ in ADMIN_SHARED:
            some = model._default_manager.order_by("pk").first()
            assert some is not None, f"no {model.__name__} for the admin matrix: add one to the fixture"
            marker = Division.objects.get(code=objects[OTHER]["town"]).name
            before = snapshot(*tables)
            for method in ("get", "post"):
                response = getattr(client, method)(reverse(name, kwargs={param[0]: some.pk}))
                assert response.status_code in (200, 403), (observer, name, method, response.status_code)
                assert method == "get" or response.status_code == 403, (observer, name, "a shared object is read-only below the province")
                assert marker not in response.content.decode(), (observer, name)
            assert snapshot(*tables) == before, name
        else:
            some = model._default_manager.order_by("pk").first()
            assert some is not None, f"no {model.__name__} for the admin matrix: add one to the fixture"
            pk = some.pk
            before = snapshot(*tables)
            for method in ("get", "post"):
                response = getattr(client, method)(reverse(name, kwargs={param[0]: pk}))
                assert response.status_code == 403, (observer, name, method, response.status_code)
            assert snapshot(*tables) == before, name
        covered.add(model)
    assert covered == set(admin.site._registry), set(admin.site._registry) - covered


def test_admin_view_on_site_reveals_nothing_of_another_county(admin_objects):
    from django.contrib.contenttypes.models import ContentType

    world, objects = admin_objects
    client = Client()
    client.force_login(world.user(f"county_{OWN}"))
    school_type = ContentType.objects.get_for_model(School).pk
    foreign = client.get(reverse("admin:view_on_site", args=[school_type, objects[OTHER]["school"].pk]))
    missing = client.get(reverse("admin:view_on_site", args=[school_type, 999999999]))
    assert foreign.status_code == missing.status_code == 404


@pytest.mark.parametrize("observer", [f"county_{OWN}", "city_3702"])
def test_admin_lists_show_nothing_of_the_other_area(admin_objects, observer):
    from django.contrib import admin

    world, objects = admin_objects
    marker = Division.objects.get(code=objects[OTHER]["town"]).name
    client = Client()
    client.force_login(world.user(observer))
    pages = [reverse("admin:index")] + [reverse("admin:app_list", args=[app]) for app in {m._meta.app_label for m in admin.site._registry}]
    pages += [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry]
    shown = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 403, 404), (url, response.status_code)
        body = response.content.decode() if response.status_code == 200 else ""
        assert marker not in body and objects[OTHER]["school"].code not in body, (observer, url)
        shown += response.status_code == 200
    assert shown >= 8


def _request_for(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    request.jurisdiction = resolve_jurisdiction(user)
    return request


# The results API (and the annual report) by role, for the own county's rows: staff above or at the county read them; an
# inspector reads the 乡镇 of their assignment (as its township page) but no area's figures; the
# other county and the other city find nothing.
RESULTS_API = {"point-results": "point_result", "target-results": "target_result", "township-results": "township_result",
               "area-results": "area_result", "scorecards": "county"}
RESULTS_ACCESS = {
    "province": {}, "city_3708": {}, f"county_{OWN}": {},
    f"county_{OTHER}": dict.fromkeys(RESULTS_API, 404), "city_3702": dict.fromkeys(RESULTS_API, 404),
    "inspector_a": {"area-results": 404, "scorecards": 404}, "inspector_b": dict.fromkeys(RESULTS_API, 404),
}


def _listed_key(resource: str, row: dict):
    """A listed row's primary key: a point result's is (code, period, point, round, stage)."""
    if resource == "point-results":
        point = ObservationPoint.objects.get(code=row["point"], target__framework=framework_for_period(row["period"]))
        return (row["code"], row["period"], point.pk, row["round"], row["stage"])
    return row["id"]


@pytest.mark.parametrize("observer", list(RESULTS_ACCESS))
def test_the_results_api_answers_each_role_as_its_area_allows(two_counties, observer):
    world, objects = two_counties
    api = APIClient()
    api.force_authenticate(world.user(observer))
    for resource, key in RESULTS_API.items():
        expected = RESULTS_ACCESS[observer].get(resource, 200)
        if resource != "point-results":  # a list only: a point result is named by its key
            url = f"/api/{resource}/{_value(objects, OWN, key)}/"
            assert api.get(url).status_code == expected, (observer, url)
        if resource != "scorecards":
            area = OWN if resource == "area-results" else objects[OWN]["town"]
            listed = api.get(f"/api/{resource}/", {"limit": 1000, "area": area}).json()["results"]
            assert all(resolve_jurisdiction(world.user(observer)).covers(r["code"]) for r in listed), (observer, resource)
            assert (expected == 200) == any(_listed_key(resource, r) == _value(objects, OWN, key) for r in listed), (observer, resource)
    # The annual report of the own county: the staff who see its dashboard, nobody else.
    client = Client()
    client.force_login(world.user(observer))
    expected = RESULTS_ACCESS[observer].get("scorecards", 200)
    assert client.get(reverse("reports:annual_report"), {"area": OWN, "period": 2024}).status_code == expected, observer
def test_value_added_and_pilot_comparison_api_hold_the_users_area_only(world):
    """Issue 19's endpoints: a county officer lists exactly his county's value-added rows; another
    county's area is not found in the pilot comparison; a city sees both its counties."""
    from evaluation.models import ObservationPoint, ValueAdded

    framework = load_framework()
    point = ObservationPoint.objects.filter(target__framework=framework, code="2.6").get()
    own, other = _town(OWN), _town(OTHER)
    ValueAdded.objects.bulk_create([
        ValueAdded(division_code=code, school_code=school, point=point, period=2024, stage="primary", students=100, previous=70, actual=75,
                   expected=72, value_added=3, lower=-1, upper=7, verdict="as_expected", schools_fitted=9)
        for code in (own, other) for school in ("", f"9{code}")
    ])
    api = APIClient()
    api.force_authenticate(world.user(f"county_{OWN}"))
    rows = api.get("/api/value-added/", {"period": 2024}).json()["results"]
    assert sorted((r["division_code"], r["level"]) for r in rows) == [(own, "school"), (own, "township")]
    assert api.get("/api/value-added/", {"area": OTHER}).json()["results"] == []
    assert [r["school_code"] for r in api.get("/api/value-added/", {"level": "school"}).json()["results"]] == [f"9{own}"]
    assert api.get("/api/pilot-comparison/", {"area": OTHER}).status_code == 404
    assert api.get("/api/pilot-comparison/", {"area": "3708"}).status_code == 404
    assert api.get("/api/pilot-comparison/").status_code == 200
    city = APIClient()
    city.force_authenticate(world.user("city_3708"))
    assert {r["division_code"] for r in city.get("/api/value-added/").json()["results"]} == {own, other}
    assert city.get("/api/pilot-comparison/", {"area": "3702"}).status_code == 404
