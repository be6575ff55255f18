"""The results API: point, target, township and area results and the scorecard, scoped by the
jurisdiction rule (a county officer sees exactly their county's rows; another county's row is
"not found"), filtered, paginated, in a bounded number of queries, with the dashboard's figures."""
import pytest
from rest_framework.test import APIClient

from evaluation.figures import point_format
from evaluation.models import AreaResult, PointResult, TargetResult, TownshipResult
from evaluation.rollup import framework_for_period, rollup_all
from evaluation.services.demo import load_demo_facts
from evaluation.services.forms import assign_team, create_round
from evaluation.services.framework import load_framework
from reports.selectors import area_dashboard, parse_filters
from tests.test_api_schema import officers  # noqa: F401 (fixture)
from townships.jurisdiction import resolve_jurisdiction
from townships.models import Division, PilotBatch, PilotTownship
from townships.services.demo import load_demo_schools

pytestmark = pytest.mark.django_db
OWN, OTHER, OTHER_CITY = "370881", "370883", "3702"
ENDPOINTS = {"point-results": PointResult, "target-results": TargetResult, "township-results": TownshipResult, "area-results": AreaResult}
# A point result has no id: it is named by its key, and its endpoint is a list only.
DETAIL_ENDPOINTS = {path: model for path, model in ENDPOINTS.items() if path != "point-results"}
POINT_KEY = ("division_code", "period", "round_key", "stage", "point__code")


@pytest.fixture
def results(world):
    """Two school years of results for 济宁 (3708) and 青岛 (3702), and a round in 2024 over one
    乡镇 of each 济宁 county, inspector_a assigned to the own county's."""
    framework = load_framework()
    for prefix in ("3708", "3702"):
        load_demo_schools(province_prefix=prefix, villages_per_township=1)
        load_demo_facts(province_prefix=prefix, periods=(2023, 2024))
    towns = {c: Division.objects.filter(parent_id=c, kind="town").order_by("code").first().code for c in (OWN, OTHER)}
    rnd = create_round(name="2024年度评估", period=2024, framework=framework, township_codes=list(towns.values()), created_by=world.user("province"))
    assign_team(round=rnd, township_code=towns[OWN], inspectors=[world.user("inspector_a")], lead=world.user("inspector_a"))
    for prefix in ("3708", "3702"):
        rollup_all(period=None, prefix=prefix)
    return world, rnd, towns


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def _all(api, path, **params):
    """Every row of a list, page after page (a small page, so the paging is exercised)."""
    rows, offset = [], 0
    while True:
        page = api.get(f"/api/{path}/", {**params, "limit": 500, "offset": offset})
        assert page.status_code == 200, (path, page.content[:300])
        body = page.json()
        rows += body["results"]
        if not body["next"]:
            assert len(rows) == body["count"]
            return rows
        offset += 500


def _served(path, rows) -> set:
    if path == "point-results":
        return {(r["code"], r["period"], r["round"], r["stage"], r["point"]) for r in rows}
    return {r["id"] for r in rows}


def _stored(path, queryset) -> set:
    if path == "point-results":
        return set(queryset.values_list(*POINT_KEY))
    return set(queryset.values_list("pk", flat=True))


def test_a_county_officer_sees_exactly_the_rows_of_the_county(results):
    world, _rnd, _towns = results
    api = _api(world.user(f"county_{OWN}"))
    for path, model in ENDPOINTS.items():
        served = _served(path, _all(api, path))
        expected = _stored(path, model.objects.filter(division_code__startswith=OWN))
        assert served == expected and served, path
        assert not any(r["code"].startswith(OTHER) for r in _all(api, path, area=OTHER)), path


def test_another_countys_rows_and_scorecard_are_not_found(results):
    world, _rnd, _towns = results
    api = _api(world.user(f"county_{OWN}"))
    for path, model in DETAIL_ENDPOINTS.items():
        foreign = model.objects.filter(division_code__startswith=OTHER).order_by("pk").first()
        own = model.objects.filter(division_code__startswith=OWN).order_by("pk").first()
        missing = api.get(f"/api/{path}/999999999/")
        assert api.get(f"/api/{path}/{foreign.pk}/").status_code == 404 == missing.status_code, path
        assert api.get(f"/api/{path}/{foreign.pk}/").json() == missing.json()
        answer = api.get(f"/api/{path}/{own.pk}/")
        assert answer.status_code == 200 and answer.json()["code"] == own.division_code, path
    for path in ENDPOINTS:
        assert api.post(f"/api/{path}/", {}).status_code == 405, path  # read-only
    foreign_town = PointResult.objects.filter(division_code__startswith=OTHER).first().division_code
    assert api.get("/api/point-results/", {"area": foreign_town}).json()["count"] == 0
    for code in (OTHER, "3708", "37", "3702", "999999"):
        assert api.get(f"/api/scorecards/{code}/").status_code == 404, code
    assert api.get(f"/api/scorecards/{OWN}/").status_code == 200
    # A city officer of the other city: none of 济宁's rows, its scorecard not found.
    qingdao = _api(world.user(f"city_{OTHER_CITY}"))
    assert all(r["code"].startswith(OTHER_CITY) for r in _all(qingdao, "area-results"))
    assert qingdao.get("/api/scorecards/3708/").status_code == 404


def test_the_province_sees_every_row(results):
    world, _rnd, _towns = results
    api = _api(world.user("province"))
    for path, model in ENDPOINTS.items():
        assert api.get(f"/api/{path}/", {"limit": 1}).json()["count"] == model.objects.count(), path
    assert api.get("/api/scorecards/37/").status_code == 200


def test_inspectors_see_the_results_of_their_assigned_township_only(results):
    """As the township page: an inspector reads the 乡镇 of their assignments, no area figures."""
    world, _rnd, towns = results
    api = _api(world.user("inspector_a"))
    for path in ("point-results", "target-results", "township-results"):
        rows = _all(api, path)
        assert rows and {r["code"] for r in rows} == {towns[OWN]}, path
    assert _all(api, "area-results") == []
    assert api.get(f"/api/scorecards/{OWN}/").status_code == 404
    assert api.get("/api/point-results/", {"area": towns[OTHER]}).json()["count"] == 0
    assert _all(_api(world.user("inspector_b")), "point-results") == []


def test_the_filters_select_what_they_name(results):
    world, rnd, towns = results
    api = _api(world.user("city_3708"))
    own = PointResult.objects.filter(division_code__startswith="3708")
    cases = [
        ("point-results", {"period": 2023}, own.filter(period=2023)),
        ("point-results", {"period": 2024, "round": 0, "stage": "primary"}, own.filter(period=2024, round_key=0, stage="primary")),
        ("point-results", {"area": OWN, "point": "2.1"}, own.filter(division_code__startswith=OWN, point__code="2.1")),
        ("point-results", {"round": rnd.pk}, own.filter(round_key=rnd.pk)),
        ("target-results", {"target": 3, "period": 2024}, TargetResult.objects.filter(division_code__startswith="3708", target_number=3, period=2024)),
        ("township-results", {"all_seven": "true"}, TownshipResult.objects.filter(division_code__startswith="3708", all_seven=True)),
        ("area-results", {"level": "county", "population": "pilots", "target": 0},
         AreaResult.objects.filter(division_code__in=Division.objects.filter(parent_id="3708").values("code"), population="pilots", target_number=0)),
    ]
    for path, params, expected in cases:
        assert _served(path, _all(api, path, **params)) == _stored(path, expected), (path, params)
    assert _all(api, "point-results", round=rnd.pk), "the round has results"
    # A pilot batch: the 乡镇 of the batch in the row's school year; an area's batch rows.
    batch = PilotBatch.objects.get(year=2021)
    pilots = set(PilotTownship.objects.in_year(2024).filter(batch=batch, township__code__startswith="3708").values_list("township_id", flat=True))
    served = _all(api, "township-results", batch=batch.pk, period=2024, round=0)
    assert pilots and {r["code"] for r in served} == pilots
    assert {r["population"] for r in _all(api, "area-results", batch=batch.pk)} == {f"batch:{batch.pk}"}
    for bad in ({"period": "x"}, {"period": 10**30}, {"stage": "nope"}, {"round": -1}):
        assert api.get("/api/point-results/", bad).status_code == 400, bad


def test_point_results_name_points_and_write_figures_as_the_pages_do(results):
    world, _rnd, towns = results
    row = _api(world.user(f"county_{OWN}")).get("/api/point-results/", {"area": towns[OWN], "point": "2.1", "period": 2024, "round": 0}).json()["results"][0]
    stored = PointResult.objects.select_related("point").get(
        division_code=row["code"], period=row["period"], round_key=row["round"], stage=row["stage"], point__code=row["point"])
    fmt = point_format(stored.point)
    assert row["point"] == "2.1" and row["point_name"] == stored.point.name and row["name"] == Division.objects.get(code=towns[OWN]).name
    assert row["value_text"] == fmt.text(stored.value) and row["unit"] == fmt.unit_label and row["decimals"] == stored.point.decimals
    target = _api(world.user(f"county_{OWN}")).get("/api/target-results/", {"area": towns[OWN], "target": 1, "period": 2024, "round": 0}).json()["results"][0]
    assert target["target_name"] == framework_for_period(2024).targets.get(number=1).name


def test_pagination_pages_through_every_row_once(results):
    world, _rnd, _towns = results
    api = _api(world.user(f"county_{OWN}"))
    first = api.get("/api/point-results/", {"limit": 7}).json()
    second = api.get("/api/point-results/", {"limit": 7, "offset": 7}).json()
    assert len(first["results"]) == 7 and first["next"] and "offset=7" in first["next"]
    assert not _served("point-results", first["results"]) & _served("point-results", second["results"])
    assert api.get("/api/point-results/").json()["count"] == PointResult.objects.filter(division_code__startswith=OWN).count()
    assert len(api.get("/api/point-results/").json()["results"]) == 100  # the project's PAGE_SIZE


@pytest.mark.parametrize("path", [*ENDPOINTS, "scorecards/37"])
def test_the_query_count_does_not_grow_with_the_rows(results, path, django_assert_max_num_queries):
    world, _rnd, _towns = results
    api = _api(world.user("province"))
    for limit in (2, 1000):
        with django_assert_max_num_queries(8):
            assert api.get(f"/api/{path}/", {"limit": limit}).status_code == 200


@pytest.mark.parametrize("params", [{}, {"round": 0}, {"population": "pilots"}, {"stage": "primary"}, {"period": 2023, "round": 0}, {"population": "approved"}])
@pytest.mark.parametrize("key,code", [("province", "37"), ("city_3708", "3708"), (f"county_{OWN}", OWN)])
def test_the_scorecard_is_the_dashboards_headline(results, params, key, code):
    world, _rnd, _towns = results
    user = world.user(key)
    card = _api(user).get(f"/api/scorecards/{code}/", params).json()
    dashboard = area_dashboard(parse_filters(params, resolve_jurisdiction(user), area_code=code))
    for field in ("townships", "attained", "share", "goal", "distance", "deadline"):
        assert card[field] == dashboard["scorecard"][field], (field, params)
    assert [(t["target"], t["attained"]) for t in card["targets"]] == [(n, a) for n, a, _s in dashboard["total"].cells if n]
    # Nothing approved in the fixture's round: "approved" counts none, every other population some.
    assert (card["townships"] > 0) == (params.get("population") != "approved"), params


def test_the_answers_with_rows_match_the_openapi_schema(results, officers):
    """schemathesis's own check, on answers that hold rows (the schema test's world has none)."""
    from schemathesis.checks import not_a_server_error, response_schema_conformance

    from tests.test_api_schema import CSRF, schema

    session = officers[0]  # the officer of 370881
    own = {model: model.objects.filter(division_code__startswith=OWN).order_by("pk").first().pk for model in DETAIL_ENDPOINTS.values()}
    calls = [(f"/api/{path}/", {"limit": 3}, {}) for path in ENDPOINTS]
    calls += [(f"/api/{path}/{{id}}/", {}, {"id": own[model]}) for path, model in DETAIL_ENDPOINTS.items()]
    calls += [("/api/scorecards/{code}/", {"population": "pilots"}, {"code": OWN})]
    for path, query, path_parameters in calls:
        case = schema[path]["GET"].Case(query=query, path_parameters=path_parameters)
        response = case.call(cookies={"sessionid": session, "csrftoken": CSRF}, headers={"X-CSRFToken": CSRF})
        assert response.status_code == 200, (path, response.text[:300])
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        body = response.json()
        assert body.get("results", [body]), path
