"""The page fuzzer, beside schemathesis for the API: every page URL of the URL conf that takes a
query or form parameter gets hypothesis-generated values — huge numbers, NaN and Infinity, empty,
wrong types, JSON of every shape, other areas' ids and codes — as a user of each role. Never a
server error (the test client raises it), never a change to the other area's data (fingerprints
before and after each request), and a foreign id or code is answered exactly like a missing one
(both sent from the same state, each rolled back).

A page URL, or a parameter its view reads, that the table below does not know fails the test, so
a new page or field cannot escape it (the URL conf is walked like the access matrix walks it; the
parameters are read from the views' source).

`PAGE_FUZZ_EXAMPLES` (default 3) sets the examples per URL: the default runs in well under two
minutes on SQLite; `PAGE_FUZZ_EXAMPLES=40 .venv/bin/python -m pytest tests/test_page_fuzzer.py`
is the longer profile (about 20 minutes); `PAGE_FUZZ_ONLY=workflow:funding,workflow:cases` fuzzes
only those pages.

Longer than our modules usually are, on purpose: like the access matrix it is one table (what each
page takes) read beside the checks."""
import hashlib
import inspect
import json
import os
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation.imports.service import import_file
from evaluation.models import (
    DataQualityFinding,
    Evidence,
    HelpRelation,
    ImportRun,
    InspectionForm,
    Judgment,
    SchoolYear,
    TownshipYear,
    VerificationItem,
)
from evaluation.rollup import rollup_all
from evaluation.services.forms import add_evidence, assign_team, create_round, save_draft, submit_form
from evaluation.services.framework import load_framework
from evaluation.services.verification import draw_sample
from surveys.models import Answer, AnswerCode, SurveyWindow
from surveys.services.answering import submit as answer_survey
from surveys.services.questionnaires import load_questionnaires
from surveys.services.windows import open_window
from tests import import_files as f
from tests.factories import UserFactory
from tests.test_access_matrix import portal_urls
from townships.jurisdiction import resolve_jurisdiction
from townships.models import PilotBatch, PilotTownship, Role, School, User
from workflow.models import (
    Accountability,
    DataLock,
    Funding,
    GoodPractice,
    NoticeCounty,
    PilotAcceptance,
    Plan,
    RectificationItem,
    SelfAssessment,
    SelfAssessmentItem,
    SupportMeasure,
    Talk,
)
from workflow.services.accountability import decide_accountability, issue_notice, record_talk
from workflow.services.cases import submit_case
from workflow.services.plans import save_funding, save_plan
from workflow.services.rectification import add_item_evidence, sync_items
from workflow.services.review import open_assessment

pytestmark = pytest.mark.django_db(transaction=False)
EXAMPLES = int(os.environ.get("PAGE_FUZZ_EXAMPLES", "3"))
ONLY = set(filter(None, os.environ.get("PAGE_FUZZ_ONLY", "").split(",")))  # URL names, to look closer at some
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
A, B = "370881", "370281"  # 曲阜市 (济宁) and 胶州市 (青岛): two counties of two cities
MISSING_ID = 987654321

# The other area's data a request must never change: table → the field that places a row.
PLACED = {
    School: "township_id", SchoolYear: "township_id", TownshipYear: "township_id", HelpRelation: "township_id", ImportRun: "scope_code",
    InspectionForm: "township_id", Judgment: "form__township_id", Evidence: "township_id", Funding: "township_id", Plan: "unit_id",
    SupportMeasure: "plan__unit_id", SelfAssessment: "township_id", SelfAssessmentItem: "assessment__township_id", DataLock: "township_id",
    RectificationItem: "township_id", GoodPractice: "unit_id", SurveyWindow: "township_id", AnswerCode: "window__township_id",
    Answer: "window__township_id", VerificationItem: "township_id", DataQualityFinding: "township_id",
    NoticeCounty: "county_id", Talk: "county_id", Accountability: "county_id",
    PilotAcceptance: "township_id",
}
# Accounts of the area: what an accounts page could change (not last_login, which a login writes).
USER_FIELDS = ("pk", "username", "password", "is_active", "role", "unit_id", "must_change_password", "full_name", "phone")


def fingerprint(county: str) -> str:
    digest = hashlib.sha256()
    for model, field in PLACED.items():
        columns = [fl.attname for fl in model._meta.concrete_fields]
        lookup = field.removesuffix("_id") + "__code" if field.endswith("_id") else field  # a prefix is matched on the code
        rows = model.objects.filter(**{f"{lookup}__startswith": county}).order_by("pk").values_list(*columns)
        digest.update(repr((model.__name__, list(rows))).encode())
    digest.update(repr(list(User.objects.filter(unit__code__startswith=county).order_by("pk").values_list(*USER_FIELDS))).encode())
    return digest.hexdigest()


def _stored_values_fit(county: str) -> list:
    """Numbers stored in the area that their column cannot hold (NaN, Infinity, more digits than
    declared): SQLite keeps them, PostgreSQL would have refused them, and pages reading them fail."""
    from decimal import Decimal

    from django.db.models import DecimalField

    wrong = []
    for model, field in PLACED.items():
        decimals = [fl for fl in model._meta.concrete_fields if isinstance(fl, DecimalField)]
        if not decimals:
            continue
        lookup = field.removesuffix("_id") + "__code" if field.endswith("_id") else field
        for row in model.objects.filter(**{f"{lookup}__startswith": county}).values("pk", *[fl.attname for fl in decimals]):
            for fl in decimals:
                value = row[fl.attname]
                if value is not None and (not Decimal(value).is_finite() or abs(Decimal(value)) >= Decimal(10) ** (fl.max_digits - fl.decimal_places)):
                    wrong.append((model.__name__, row["pk"], fl.attname, value))
    return wrong


@pytest.fixture
def fuzz_world(world):
    """The same objects in both counties: committed school data, an inspected round with evidence,
    rectification items with evidence, a self-assessment, a plan, a case, funding."""
    framework = load_framework()
    towns = {county: world.schools[county][0].township_id for county in (A, B)}
    objects = {}
    for county in (A, B):
        officer = world.user(f"county_{county}")
        rows = [[s.code, s.name, 2024, 300, 20, 4, 0.93, "是", "良", 30] for s in world.schools[county]]
        objects[county] = {"run": import_file(user=officer, jurisdiction=resolve_jurisdiction(officer), data=f.school_year_xlsx(rows),
                                              file_name="d.xlsx", channel="test", dry_run=False)}
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=list(towns.values()), created_by=world.user("province"))
    for county, inspector in ((A, "inspector_a"), (B, "inspector_b")):
        officer, lead = world.user(f"county_{county}"), world.user(inspector)
        form = assign_team(round=rnd, township_code=towns[county], inspectors=[lead], lead=lead)
        answers = {j.point.code: {"level": "not_attained" if j.point.code == "3.1" else "attained"} for j in form.judgments.select_related("point")}
        form = save_draft(form=form, user=lead, version=form.version, answers=answers)
        judgment = form.judgments.get(point__code="3.1")
        evidence = add_evidence(judgment=judgment, user=lead, data=PNG, file_name="现场.png")
        form.refresh_from_db()
        submit_form(form=form, user=lead, version=form.version)
        pilot = PilotTownship.objects.filter(township__code__startswith=county).order_by("township_id").first()
        if pilot:
            save_funding(user=officer, township_code=pilot.township_id, year=2024, purpose="curriculum", amounts={"provincial_planned": "10"})
        objects[county].update(form=form, judgment=judgment, evidence=evidence, town=towns[county], school=world.schools[county][0].code,
                               pilot=pilot.township_id if pilot else towns[county])
    for county in (A, B):
        rollup_all(period=2024, prefix=county)
    sync_items(round=rnd)
    sample = draw_sample(round=rnd, user=world.user("province"), seed="fuzz", per_township=2)
    for county in (A, B):
        objects[county]["vitem"] = sample.items.filter(township_id=towns[county]).order_by("id").first()
    for county in (A, B):
        officer = world.user(f"county_{county}")
        item = RectificationItem.objects.filter(township_id=towns[county]).order_by("id").first()
        objects[county].update(
            item=item, item_evidence=add_item_evidence(user=officer, item=item, data=PNG, file_name="整改.png"),
            assessment=open_assessment(user=officer, round=rnd, township_code=towns[county]),
            plan=save_plan(user=officer, year=2024, title=f"{county} 方案"),
            case=submit_case(user=officer, title=f"{county} 案例", theme="lesson", summary="……"),
        )
    parents, _students = load_questionnaires()
    for county in (A, B):
        officer, school = world.user(f"county_{county}"), world.schools[county][0]
        window = open_window(user=officer, jurisdiction=resolve_jurisdiction(officer), township_code=school.township_id, questionnaire=parents,
                             period=2024, opens_at=timezone.now() - timedelta(hours=1), closes_at=timezone.now() + timedelta(days=1),
                             targets={school.pk: 40})
        answer_survey(raw_code=window.codes.order_by("id").first().code, data={f"q{i}": "满意" for i in range(1, 7)})
        # Another account of the county, for the accounts pages to change (not a role's own login).
        account = UserFactory(username=f"acct_{county}", role=Role.COUNTY_OFFICER, unit_id=county)
        objects[county].update(window=window, code=window.codes.filter(spent_at__isnull=True).order_by("-id").first().code,
                               school_pk=str(school.pk), account=account)
        # 通报, 约谈, 问责 naming this county alone.
        province = world.user("province")
        notice = issue_notice(user=province, title=f"{county} 通报", body="整改滞后。", county_codes=[county], item_ids=[objects[county]["item"].pk])
        talk = record_talk(user=province, county_code=county, held_on="2024-10-01", talked_to="局长", minutes="纪要", notice_id=notice.pk)
        objects[county].update(notice=notice, talk=talk, county=county, decision=decide_accountability(
            user=province, county_code=county, decided_on="2024-11-01", decision="诫勉", basis="通报后未整改", notice_ids=[notice.pk], talk_ids=[talk.pk]))
        objects[county]["pilot_entry"] = PilotTownship.objects.create(
            batch=PilotBatch.objects.get_or_create(year=2022, name="模糊测试批次", source_document="x")[0], township_id=towns[county])
    objects["round"] = rnd
    objects["questionnaire"] = parents
    return world, objects


# --- What the pages take ---------------------------------------------------------------------

NASTY = st.one_of(
    st.sampled_from(["", " ", "0", "-1", "1e20", "1e400", "NaN", "sNaN", "Infinity", "-Infinity", "abc", "null", "true", "[]", "{}",
                     "99999999999999999999", "２０２４", "0x10", "1.005", '=HYPERLINK("http://x","y")', "<script>alert(1)</script>",
                     "' OR 1=1 --", "a\x00b", "../../etc/passwd", "37", "3708", "370881", "9" * 40]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["version", "answers", "level", "comment", "1.1", "3.1", "x"]), inner, max_size=3),
    max_leaves=8,
)
# Parameter kinds: a drawn value is a string, or a ("ref", object key) / ("code", key) naming an
# object of the user's own area, of the other area ("foreign") or none ("missing").
YEAR, TEXT, AMOUNT, FILE, NUMBER = "year", "text", "amount", "file", "number"


def ref(key):
    return ("ref", key)


def code(key):
    return ("code", key)


def choice(*values):
    return ("choice", values)


LEVELS = choice("attained", "basic", "not_attained", "")
FUNDING = {"township": code("pilot"), "year": YEAR, "purpose": choice("teaching_reform", "teacher_training", "curriculum", "conditions"),
           "provincial_planned": AMOUNT, "provincial_spent": AMOUNT, "local_planned": AMOUNT, "local_spent": AMOUNT}
FILTERS = {"area": code("area"), "period": YEAR, "round": ref("round"), "population": TEXT, "stage": TEXT}

# URL name → path parameters (object keys, or "=literal") and, per method, the parameters read.
PAGES = {
    "home": {}, "health": {}, "": {"url": "/favicon.ico"},  # the one unnamed URL
    "login": {"GET": {"next": TEXT}, "POST": {"username": TEXT, "password": TEXT, "next": TEXT}},
    "logout": {"POST": {"next": TEXT}},
    "password_change": {"POST": {"old_password": TEXT, "new_password1": TEXT, "new_password2": TEXT}},
    "password_change_done": {},
    "otp_verify": {"GET": {"next": TEXT}, "POST": {"token": TEXT}},
    "set_language": {"POST": {"language": choice("zh-hans", "en", "xx"), "next": TEXT}},
    "evaluation:home": {},
    "evaluation:upload": {"POST": {"file": FILE}},
    "evaluation:template": {"GET": {"period": YEAR, "prefill": choice("1", "0", "")}},
    "evaluation:export": {"path": {"fmt": "=csv"}, "GET": {"period": YEAR, "sheet": choice("schools", "school_years", "township_years", "help_relations")}},
    "evaluation:township_form": {"POST": {"township_code": code("town"), "period": YEAR, "registered_preschool": NUMBER, "attending_preschool": NUMBER,
                                          "registered_primary": AMOUNT, "confirm_reason": TEXT}},
    "evaluation:flags": {},
    "evaluation:quality": {},
    "evaluation:run": {"path": {"pk": "run"}}, "evaluation:run_status": {"path": {"pk": "run"}}, "evaluation:run_file": {"path": {"pk": "run"}},
    "evaluation:run_commit": {"path": {"pk": "run"}, "POST": {"reason-": TEXT}},
    "evaluation:forms": {},
    "evaluation:form": {"path": {"pk": "form"}},
    "evaluation:form_save": {"path": {"pk": "form"}, "POST": {"version": NUMBER, "level-3.1": LEVELS, "comment-3.1": TEXT, "then": choice("submit", "")},
                             "JSON": True},
    "evaluation:form_submit": {"path": {"pk": "form"}, "POST": {"version": NUMBER}},
    "evaluation:form_return": {"path": {"pk": "form"}, "POST": {"reason": TEXT}},
    "evaluation:evidence_upload": {"path": {"pk": "form", "judgment_id": "judgment"}, "POST": {"file": FILE}},
    "evaluation:evidence": {"path": {"evidence_id": "evidence"}},
    "evaluation:verification": {},
    "evaluation:verification_draw": {"POST": {"round": ref("round"), "seed": TEXT, "per_township": NUMBER}},
    "evaluation:verification_evidence": {"path": {"item_id": "vitem"}},
    "evaluation:verification_record": {"path": {"pk": "form", "item_id": "vitem"}, "POST": {"value": NUMBER, "note": TEXT, "file": FILE}},
    "reports:dashboard": {"GET": FILTERS}, "reports:dashboard_xlsx": {"GET": FILTERS}, "reports:dashboard_pdf": {"GET": FILTERS},
    "reports:township": {"path": {"code": "town"}, "GET": FILTERS}, "reports:township_xlsx": {"path": {"code": "town"}, "GET": FILTERS},
    "reports:township_pdf": {"path": {"code": "town"}, "GET": FILTERS},
    "reports:map_upload": {"POST": {"name": TEXT, "approval_number": TEXT, "file": FILE}},
    "reports:map_geojson": {},
    "reports:annual_report": {"GET": FILTERS},
    "workflow:home": {}, "workflow:notifications_read": {"POST": {}},
    "workflow:plans": {"GET": {"year": YEAR}, "POST": {"due_": TEXT}},
    "workflow:plan_edit": {"GET": {"year": YEAR}, "POST": {"year": YEAR, "action": choice("save", "measure", "document", "file", "x"), "title": TEXT,
                                                           "summary": TEXT, "what": TEXT, "owner": TEXT, "budget": AMOUNT, "due_on": TEXT,
                                                           "township": code("town"), "files": FILE}},
    "workflow:plan": {"path": {"pk": "plan"}},
    "workflow:assessments": {"GET": {"status": TEXT}, "POST": {"round": ref("round"), "township": code("town")}},
    "workflow:assessment": {"path": {"pk": "assessment"}, "POST": {"action": choice("save", "submit", "approve", "return", "reopen", "x"),
                                                                   "version": NUMBER, "level_": LEVELS, "comment_": TEXT, "reason": TEXT, "points": TEXT}},
    "workflow:items": {"GET": {"status": TEXT, "township": code("town")}},
    "workflow:item": {"path": {"pk": "item"}, "POST": {"action": choice("evidence", "answer", "close", "send_back", "assign", "recheck_close"),
                                                       "measures": TEXT, "note": TEXT, "files": FILE, "owner": ref("account"), "due_on": TEXT}},
    "workflow:accountability": {"GET": {"year": YEAR}, "POST": {
        "action": choice("notice", "talk", "decision", "x"), "title": TEXT, "body": TEXT, "counties": code("county"), "items": ref("item"), "issued_on": TEXT,
        "county": code("county"), "held_on": TEXT, "talked_to": TEXT, "minutes": TEXT, "notice": ref("notice"), "commitments": TEXT,
        "decided_on": TEXT, "decision": TEXT, "basis": TEXT, "notices": ref("notice"), "talks": ref("talk")}},
    "workflow:notice": {"path": {"pk": "notice"}}, "workflow:notice_pdf": {"path": {"pk": "notice"}},
    "workflow:talk": {"path": {"pk": "talk"}}, "workflow:decision": {"path": {"pk": "decision"}},
    "workflow:county_record": {"path": {"code": "county"}},
    "workflow:pilot_acceptance": {"POST": {"pilot": ref("pilot_entry"), "outcome": choice("accepted", "extended", "withdrawn", "x"), "round": ref("round"),
                                           "note": TEXT, "extended_until": YEAR}},
    "workflow:cases": {"GET": {"theme": TEXT, "region": code("area")}, "POST": {"title": TEXT, "theme": choice("lesson", "teaching", "x"),
                                                                                "summary": TEXT, "school": code("school"), "files": FILE}},
    "workflow:case": {"path": {"pk": "case"}, "POST": {"action": choice("publish", "decline"), "note": TEXT}},
    "workflow:funding": {"GET": {"year": YEAR}, "POST": FUNDING},
    "workflow:file": {"path": {"kind": "=rectification", "pk": "item_evidence"}},
    "townships:accounts": {"GET": {"unit": code("area")}},
    "townships:accounts_template": {},
    "townships:accounts_upload": {"POST": {"file": FILE, "unit": code("area")}},
    "townships:accounts_issued": {"path": {"token": "=not-issued"}},
    "townships:account_active": {"path": {"pk": "account"}, "POST": {"active": choice("1", "0", "x")}},
    "townships:account_reset": {"path": {"pk": "account"}, "POST": {}},
    "surveys:windows": {},
    "surveys:new": {"GET": {"township": code("town")}, "POST": {"township": code("town"), "questionnaire": ref("questionnaire"), "period": YEAR,
                                                                "opens_at": TEXT, "closes_at": TEXT, "target_": NUMBER}},
    "surveys:window": {"path": {"pk": "window"}},
    "surveys:slips": {"path": {"pk": "window"}, "GET": {"school": code("school_pk")}},
    "surveys:codes_xlsx": {"path": {"pk": "window"}},
    "surveys:close": {"path": {"pk": "window"}, "POST": {}},
    "surveys:count": {"path": {"pk": "window"}, "POST": {}},
    # The public answer pages take any code (they know no area): a code of the user's own county or
    # a made-up one, never the other county's (answering it is what the page is for).
    "surveys_public:start": {"GET": {"code": TEXT}, "public": True},
    "surveys_public:thanks": {"public": True},
    "surveys_public:answer": {"path": {"code": "code"}, "POST": {"q1": choice("满意", "不满意", "x"), "q2": choice("满意", "一般"), "q6": TEXT},
                              "public": True},
}
ROLES = {"province": None, "city_3708": B, "county_370881": B, "inspector_a": B, "county_370281": A}  # role → the area it must not touch
OWN = {"province": A, "city_3708": A, "county_370881": A, "inspector_a": A, "county_370281": B}


# --- Every page and parameter known ----------------------------------------------------------

READS = re.compile(r"""request\.(?:GET|POST|FILES)(?:\.get(?:list)?\(|\[)\s*f?["']([^"'{]+)|params\.\w+_param\(request\.(?:GET|POST),\s*["']([^"']+)""")


def _read_parameters(view) -> set[str]:
    """The parameter names (or name prefixes, for f-strings) a view function and the helpers of
    its module it calls read."""
    func = inspect.unwrap(getattr(view, "view_class", view))
    if inspect.isclass(func):
        return set()  # Django's own views (login, logout, password change): their forms are listed above
    module = inspect.getmodule(func)
    source = inspect.getsource(func)
    helpers = {name for name in re.findall(r"\b(_\w+)\(", source) if inspect.isfunction(getattr(module, name, None))}
    source += "".join(inspect.getsource(getattr(module, name)) for name in helpers)
    names = {a or b for a, b in READS.findall(source)}
    if "_files(request" in source:
        names.add("files")
    if "year_param(request." in source:
        names.add("year")
    if "PeriodForm(request.GET" in source or "_period(request)" in source:
        names.add("period")
    return names


def test_the_fuzzer_knows_every_page_and_parameter():
    from django.urls import resolve

    urls = portal_urls()
    assert set(urls) - set(PAGES) == set(), "pages the fuzzer does not know"
    assert set(PAGES) - set(urls) == set(), "the fuzzer knows pages the URL conf no longer has"
    for name, route in urls.items():
        known = set(PAGES[name].get("GET", {})) | set(PAGES[name].get("POST", {}))
        path = re.sub(r"<(?:\w+:)?(\w+)>", "1", route)
        view = resolve("/" + path).func
        unknown = {p for p in _read_parameters(view) if p not in known}
        assert not unknown, f"{name} reads parameters the fuzzer does not know: {unknown}"


# --- The fuzzing -----------------------------------------------------------------------------


AMOUNTS = st.one_of(
    st.sampled_from(["NaN", "sNaN", "-NaN", "Infinity", "-Infinity", "inf", "1e20", "1e400", "-1", "1.005", "9999999999.99", "10000000000", "0.001"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)


def _valid(kind):
    """The well-formed value of a parameter: requests start from these, so they reach the code
    behind the checks, and the fuzzer spoils one or two of them."""
    if isinstance(kind, tuple) and kind[0] in ("ref", "code"):
        return (kind[0], kind[1], "own")
    if isinstance(kind, tuple) and kind[0] == "choice":
        return kind[1][0]
    return {YEAR: "2024", TEXT: "测试", AMOUNT: "10", NUMBER: "1", FILE: ("file", "a.png", PNG)}[kind]


def _spoiled(data, kind, *, foreign_ok: bool):
    """A value for one parameter: ('ref'|'code', key, whose) for an object reference, else a string."""
    if isinstance(kind, tuple) and kind[0] in ("ref", "code"):
        foreign_ok = foreign_ok and kind[1] not in ("round", "questionnaire")  # the province's, the same for everyone
        whose = data.draw(st.sampled_from(["foreign", "missing", "nasty"] if foreign_ok else ["missing", "nasty"]))
        return (kind[0], kind[1], whose) if whose != "nasty" else data.draw(NASTY)
    if kind == AMOUNT or kind == NUMBER:
        return data.draw(AMOUNTS)
    if kind == YEAR:
        return data.draw(st.one_of(st.sampled_from(["2100", "1999", "abc", "1e3", "-2024", "99999999999"]), NASTY))
    if kind == FILE:
        return ("file", data.draw(st.sampled_from(["a.xlsx", "a.png", "a.pdf", "a.csv", "a.html", "a.geojson"])), data.draw(st.binary(max_size=64)))
    return data.draw(NASTY)


def _draw_values(data, params: dict, *, foreign_ok: bool) -> dict:
    """Every parameter well-formed, then one to three spoiled (a bad value, another area's or a
    missing object) or left out."""
    values = {p: _valid(kind) for p, kind in params.items()}
    if values:
        for p in data.draw(st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=3, unique=True)):
            values[p] = None if data.draw(st.integers(0, 5)) == 0 else _spoiled(data, params[p], foreign_ok=foreign_ok)
    return {p: v for p, v in values.items() if v is not None}


def _missing(key, other):
    """An object that does not exist, placed outside the user's area like the foreign one (a code
    is judged by its place before anything else: a missing code inside one's own area is not the
    comparison)."""
    place = other or "370899"
    return {"area": f"{place[:4]}99", "town": f"{place}999", "pilot": f"{place}999", "school": f"7{place}999"}.get(key, MISSING_ID)


def _resolve(value, objects, own, other, *, foreign=True):
    """The request's value for a drawn one; with `foreign` False the other area's objects are
    replaced by missing ones."""
    if not isinstance(value, tuple):
        return value
    if value[0] == "file":
        return SimpleUploadedFile(value[1], value[2])
    kind, key, whose = value
    if whose == "missing" or (whose == "foreign" and not foreign):
        return _missing(key, other)
    county = own if whose == "own" else other
    if key in ("round", "questionnaire"):
        return objects[key].pk
    if key == "area":
        return county
    obj = objects[county][key]
    return obj if isinstance(obj, str) else obj.pk


def _url(name, spec, objects, own, other, path_whose, foreign):
    if "url" in spec:
        return spec["url"]
    kwargs = {}
    for param, key in spec.get("path", {}).items():
        if key.startswith("="):
            kwargs[param] = key[1:]
        else:
            kwargs[param] = _resolve(("ref", key, path_whose), objects, own, other, foreign=foreign)
    return reverse(name, kwargs=kwargs)


def _send(client, name, spec, method, objects, own, other, drawn, path_whose, body, foreign=True):
    url = _url(name, spec, objects, own, other, path_whose, foreign)
    if method == "JSON":
        return client.post(url, body, content_type="application/json")
    values = {}
    for param, value in drawn.items():
        key = param + ("3.1" if param.endswith(("_", "-")) else "")  # a field per point or flag
        values[key] = _resolve(value, objects, own, other, foreign=foreign)
    if method == "GET":
        return client.get(url, {k: v for k, v in values.items() if not hasattr(v, "read")})
    return client.post(url, values)


def _once(client, *args):
    """One request in a savepoint that is rolled back: the foreign and the missing variant start
    from the same state."""
    with transaction.atomic():
        response = _send(client, *args)
        transaction.set_rollback(True)
    return response


def _fuzz_page(name, spec, world, objects, clients):
    methods = ["GET"] + [m for m in ("POST", "JSON") if m in spec and (m != "JSON" or spec[m])]

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def fuzz(data):
        role = data.draw(st.sampled_from(sorted(ROLES)))
        method = data.draw(st.sampled_from(methods[::-1]))  # writes first: hypothesis leans to the first choice
        other, own = ROLES[role], OWN[role]
        client = clients[role]
        client.force_login(world.user(role))
        params = spec.get(method if method != "JSON" else "POST", {})
        scoped = other is not None and not spec.get("public")
        drawn = _draw_values(data, params, foreign_ok=scoped)
        path_whose = data.draw(st.sampled_from(["own", "foreign", "missing"] if scoped else ["own", "missing"])) if spec.get("path") else "own"
        body = json.dumps(data.draw(JSON)) if method == "JSON" else None
        foreign = path_whose == "foreign" or any(isinstance(v, tuple) and v[-1] == "foreign" for v in drawn.values())
        before = fingerprint(other) if other else None
        response = _send(client, name, spec, method, objects, own, other, drawn, path_whose, body) if not foreign else None
        if foreign:
            # The same request with the other area's object, and with one that does not exist.
            answers = []
            for variant in (True, False):
                client.force_login(world.user(role))
                answer = _once(client, name, spec, method, objects, own, other, drawn, path_whose, body, variant)
                assert fingerprint(other) == before, f"{role} changed the other area through {name}"
                answers.append(answer.status_code)
            assert answers[0] == answers[1], f"{name} as {role}: foreign {answers[0]}, missing {answers[1]} ({drawn})"
            response = answer
        assert response.status_code < 500, (name, role, method, drawn)
        assert _stored_values_fit(own) == [], (name, role, method, drawn)
        if other:
            assert fingerprint(other) == before, f"{role} changed the other area through {name} ({method} {drawn})"

    fuzz()


def test_every_page_survives_the_fuzzer(fuzz_world):
    world, objects = fuzz_world
    clients = {role: Client() for role in ROLES}
    for name, spec in sorted(PAGES.items()):
        if ONLY and name not in ONLY:
            continue
        _fuzz_page(name, spec, world, objects, clients)
