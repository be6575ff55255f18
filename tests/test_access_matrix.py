"""The access matrix: every URL of the portal (from the URL conf) and every API path (from the
OpenAPI schema), for users of several roles, with objects inside and outside their area.
Outside: "not found", and nothing in the database changed. Inside: the object is served. Lists:
nothing of the other area. A URL with a parameter this test does not know fails the test, so a
new endpoint cannot escape the matrix."""
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from evaluation.imports.service import import_file
from evaluation.models import Assignment, Evidence, Framework, ImportRun, InspectionForm, Round, SchoolYear
from evaluation.rollup import rollup_all
from evaluation.services.demo import load_demo_facts
from evaluation.services.forms import add_evidence, assign_team, create_round, save_draft, submit_form
from evaluation.services.framework import load_framework
from tests import import_files as f
from tests.conftest import snapshot
from townships.jurisdiction import resolve_jurisdiction
from townships.models import Division, School
from townships.services.demo import load_demo_schools
from workflow.models import (
    DataLock, GoodPractice, Notification, Plan, RectificationEvidence, RectificationItem, ReviewStep, SelfAssessment, SelfAssessmentItem,
)
from workflow.services.cases import submit_case
from workflow.services.plans import save_plan
from workflow.services.rectification import add_item_evidence, sync_items
from workflow.services.review import open_assessment

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OWN, OTHER = "370881", "370883"  # 曲阜市, 邹城市
TABLES = (School, SchoolYear, ImportRun, InspectionForm, Evidence, Assignment, SelfAssessment, SelfAssessmentItem, ReviewStep, DataLock,
          RectificationItem, RectificationEvidence, Plan, GoodPractice)


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
    for county in (OWN, OTHER):
        officer = world.user(f"county_{county}")
        item = RectificationItem.objects.filter(township_id=towns[county]).order_by("id").first()
        objects[county].update(
            item=item, item_evidence=add_item_evidence(user=officer, item=item, data=PNG, file_name="整改.png"),
            assessment=open_assessment(user=officer, round=rnd, township_code=towns[county]),
            plan=save_plan(user=officer, year=2024, title=f"{county} 方案"),
            case=submit_case(user=officer, title=f"{county} 案例", theme="lesson", summary="……"),
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
    "reports:township": {"code": "town"}, "reports:township_xlsx": {"code": "town"}, "reports:township_pdf": {"code": "town"},
    "workflow:plan": {"pk": "plan"}, "workflow:assessment": {"pk": "assessment"}, "workflow:item": {"pk": "item"},
    "workflow:case": {"pk": "case"}, "workflow:file": {"kind": "=rectification", "pk": "item_evidence"},
}
API_PARAMS = {
    "divisions": "town", "schools": "school", "imports": "run", "school-years": "school_year", "forms": "form", "assignments": "assignment",
    "plans": "plan", "self-assessments": "assessment", "rectification-items": "item", "cases": "case",
}
# Objects every user may see whatever their area: the framework, the rounds, their own notices.
API_SHARED = {"frameworks", "rounds", "notifications"}


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
        if not re.search(r"<(?:\w+:)?(\w+)>", route) or name == "evaluation:export":
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
        if resource in API_SHARED:
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
