"""Dashboards, township pages and their exports: the figures are the roll-up's, each level sees
only its own area (in the page and in the downloaded files), and the query count does not grow
with the data."""
import io
import json
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluation.models import AreaResult, TargetResult, TownshipResult
from evaluation.rollup import rollup_all
from evaluation.services.demo import load_demo_facts
from evaluation.services.framework import load_framework
from reports.models import MapLayer
from townships.models import Division, Level
from townships.services.demo import load_demo_schools

pytestmark = pytest.mark.django_db
COUNTY, OTHER_COUNTY = "370881", "370883"  # 曲阜市, 邹城市 (both in 济宁市)


def load_area(prefix: str) -> None:
    load_demo_schools(province_prefix=prefix, villages_per_township=1)
    load_demo_facts(province_prefix=prefix, periods=(2023, 2024))
    for period in (2023, 2024):
        rollup_all(period=period, prefix="37", analyze=True)  # fresh planner statistics after the bulk load


@pytest.fixture
def results(world):
    load_framework()
    load_area("3708")
    return world


class Cells(HTMLParser):
    """Rows of a rendered table: data-code of the row → data-attained of its cells, and all text."""

    def __init__(self):
        super().__init__()
        self.rows, self.row, self.text = {}, None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-code" in attrs:
            self.row = self.rows.setdefault(attrs["data-code"], {})
        elif tag == "td" and self.row is not None and "data-attained" in attrs:
            self.row[int(attrs["data-target"])] = int(attrs["data-attained"])

    def handle_endtag(self, tag):
        if tag == "tr":
            self.row = None

    def handle_data(self, data):
        self.text.append(data)


def parse(response) -> Cells:
    cells = Cells()
    cells.feed(response.content.decode())
    return cells


def login(client, world, key):
    client.force_login(world.user(key))
    return client


def test_provincial_dashboard_shows_the_rollup_figures(client, results):
    login(client, results, "province")
    response = client.get("/dashboard/", {"period": 2024, "round": 0})
    assert response.status_code == 200
    rows = parse(response).rows
    cities = Division.objects.filter(level=Level.CITY, code__startswith="37").values_list("code", flat=True)
    assert set(rows) == set(cities)
    for code in ("3708", "3702"):
        stored = dict(AreaResult.objects.filter(division_code=code, period=2024, round_key=0, population="all", stage="all").values_list("target_number", "attained"))
        assert rows[code] == stored
    # Jining has data, so something is attained there; Qingdao has none, so nothing is.
    assert sum(rows["3708"].values()) > 0 and sum(rows["3702"].values()) == 0
    province = AreaResult.objects.get(division_code="37", period=2024, round_key=0, population="all", stage="all", target_number=0)
    assert response.context["scorecard"]["attained"] == province.attained
    assert response.context["scorecard"]["townships"] == province.townships == 1129


def test_stage_and_population_filters_read_their_rows(client, results):
    login(client, results, "city_3708")
    response = client.get("/dashboard/", {"period": 2024, "round": 0, "stage": "primary", "population": "pilots"})
    rows = parse(response).rows
    for code in (COUNTY, OTHER_COUNTY):
        stored = dict(AreaResult.objects.filter(division_code=code, period=2024, round_key=0, population="pilots", stage="primary").values_list("target_number", "attained"))
        assert rows[code] == stored


def test_county_dashboard_lists_its_townships_with_the_rollup_verdicts(client, results):
    login(client, results, f"county_{COUNTY}")
    response = client.get("/dashboard/", {"period": 2024, "round": 0})
    assert response.status_code == 200
    towns = {t.code: t for t in response.context["townships"]}
    assert set(towns) == set(Division.objects.filter(parent_id=COUNTY, kind__in=["town", "xiang"]).values_list("code", flat=True))
    for code, n, verdict in TargetResult.objects.filter(division_code__startswith=COUNTY, period=2024, round_key=0).values_list("division_code", "target_number", "verdict"):
        assert towns[code].targets[n] == verdict
    for code, attained, seven, score in TownshipResult.objects.filter(division_code__startswith=COUNTY, period=2024, round_key=0).values_list(
        "division_code", "targets_attained", "all_seven", "score"
    ):
        assert (towns[code].attained, towns[code].all_seven, towns[code].score) == (attained, seven, score)


def test_county_officer_sees_which_schools_have_not_uploaded(client, results):
    from evaluation.models import SchoolYear

    gone = SchoolYear.objects.filter(township__code__startswith=COUNTY, period=2024).order_by("school__code").first()
    gone.delete()
    login(client, results, f"county_{COUNTY}")
    response = client.get("/dashboard/", {"period": 2024})
    missing = response.context["missing"]
    assert sorted(s.pk for s in missing["schools"]) == sorted([gone.school_id] + [s.pk for s in results.schools[COUNTY]])
    assert gone.school.code in response.content.decode()


def _xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None)


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_county_officer_sees_nothing_of_another_county(client, results):
    login(client, results, f"county_{COUNTY}")
    other_names = list(Division.objects.filter(parent_id=OTHER_COUNTY, kind="town").values_list("name", flat=True))
    own_names = set(Division.objects.filter(parent_id=COUNTY, kind="town").values_list("name", flat=True))
    other_names = [n for n in other_names if n not in own_names and n not in "曲阜市"]
    assert other_names
    page = client.get("/dashboard/", {"period": 2024})
    xlsx = client.get("/dashboard/export.xlsx", {"period": 2024})
    pdf = client.get("/dashboard/report.pdf", {"period": 2024})
    town = Division.objects.filter(parent_id=COUNTY, kind="town").order_by("code").first()
    town_page = client.get(f"/dashboard/township/{town.code}/", {"period": 2024})
    town_xlsx = client.get(f"/dashboard/township/{town.code}/export.xlsx", {"period": 2024})
    town_pdf = client.get(f"/dashboard/township/{town.code}/report.pdf", {"period": 2024})
    assert [r.status_code for r in (page, xlsx, pdf, town_page, town_xlsx, town_pdf)] == [200] * 6
    texts = {
        "page": page.content.decode(), "xlsx": _xlsx_text(xlsx.content), "pdf": _pdf_text(pdf.content),
        "township page": town_page.content.decode(), "township xlsx": _xlsx_text(town_xlsx.content), "township pdf": _pdf_text(town_pdf.content),
    }
    for where, text in texts.items():
        assert "曲阜" in text or town.name in text, where  # the files are about the officer's own area...
        assert OTHER_COUNTY not in text and "邹城" not in text, where  # ...and nothing of the neighbour's
        assert not [n for n in other_names if n in text], where
    # The neighbour's pages and files, and the city above, are "not found" — like a missing code.
    other_town = Division.objects.filter(parent_id=OTHER_COUNTY, kind="town").order_by("code").first()
    for url in (
        f"/dashboard/?area={OTHER_COUNTY}", "/dashboard/?area=3708", "/dashboard/?area=37", f"/dashboard/export.xlsx?area={OTHER_COUNTY}",
        f"/dashboard/report.pdf?area={OTHER_COUNTY}", f"/dashboard/township/{other_town.code}/", f"/dashboard/township/{other_town.code}/export.xlsx",
        f"/dashboard/township/{other_town.code}/report.pdf", "/dashboard/township/370881999/", "/dashboard/?area=99",
    ):
        assert client.get(url).status_code == 404, url


def test_city_staff_see_their_counties_not_another_city(client, results):
    login(client, results, "city_3702")
    assert client.get("/dashboard/?area=3708").status_code == 404
    assert client.get(f"/dashboard/township/{COUNTY}109/").status_code == 404
    response = client.get("/dashboard/")
    assert response.context["filters"].area.code == "3702"
    assert {r.code[:4] for r in response.context["children"]} == {"3702"}


def test_inspectors_see_only_their_assigned_township(client, results):
    from evaluation.models import Framework
    from evaluation.services.forms import assign_team, create_round

    rnd = create_round(name="r", period=2024, framework=Framework.objects.get(), township_codes=[f"{COUNTY}109"], created_by=results.user("province"))
    inspector = results.user("inspector_a")
    assign_team(round=rnd, township_code=f"{COUNTY}109", inspectors=[inspector], lead=inspector)
    client.force_login(inspector)
    assert client.get("/dashboard/").status_code == 302  # inspectors work from their forms
    page = client.get(f"/dashboard/township/{COUNTY}109/")
    assert page.status_code == 200 and "息陬镇" in page.content.decode()
    assert client.get(f"/dashboard/township/{COUNTY}102/").status_code == 404
    assert client.get(f"/dashboard/?area={COUNTY}").status_code == 302
    for url in (f"/dashboard/export.xlsx?area={COUNTY}", f"/dashboard/report.pdf?area={COUNTY}", "/dashboard/map.geojson"):
        assert client.get(url).status_code == 404, url


def _counts(client, world) -> dict:
    counts = {}
    for key, url in [
        ("province", "/dashboard/"), ("province", "/dashboard/?area=3708"), (f"county_{COUNTY}", "/dashboard/"),
        ("province", f"/dashboard/township/{COUNTY}109/"), ("province", "/dashboard/export.xlsx"),
    ]:
        client.force_login(world.user(key))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts[(key, url)] = len(queries)
    return counts


def test_queries_per_page_do_not_grow_with_the_data(client, results):
    from evaluation.models import Framework
    from evaluation.services.forms import create_round

    # With a round on screen, as provincial staff normally look (its approvals, judgments, items).
    towns = list(Division.objects.filter(parent_id=COUNTY, kind="town").values_list("code", flat=True))
    create_round(name="2024年度评估", period=2024, framework=Framework.objects.get(), township_codes=towns, created_by=results.user("province"))
    rollup_all(period=2024, prefix="3708")
    small = _counts(client, results)
    load_area("3702")  # a second city: twice the schools, facts and results
    load_area("3709")
    large = _counts(client, results)
    assert small == large
    # Every page with issue 19's sections (value-added ranking, help counts, the helped schools,
    # the path to the goal, the pilot comparison) and the province's block of notices, talks and
    # decisions, computed afresh: the session, the user, the token and at most 12 reads.
    assert max(large.values()) <= 15
    # Served from the page cache: the session, the user and the area's results token, nothing else
    # (the province's notices are cached with its body).
    for key, url in [("province", "/dashboard/"), ("province", "/dashboard/?area=3708"), (f"county_{COUNTY}", "/dashboard/"),
                     ("province", f"/dashboard/township/{COUNTY}109/")]:
        client.force_login(results.user(key))
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) <= 3, (key, url, [q["sql"][:80] for q in queries])


def test_xlsx_export_escapes_formulas(client, results):
    from townships.models import School

    school = School.objects.filter(township_id=f"{COUNTY}109").first()
    school.name = '=HYPERLINK("http://evil.invalid","点我")'
    school.save()
    login(client, results, "province")
    content = client.get(f"/dashboard/township/{COUNTY}109/export.xlsx").content
    from openpyxl import load_workbook

    values = [c for ws in load_workbook(io.BytesIO(content)).worksheets for row in ws.iter_rows(values_only=True) for c in row]
    assert "'" + school.name in values and school.name not in values


def test_pdf_report_is_chinese_text_with_charts(client, results):
    login(client, results, "city_3708")
    response = client.get("/dashboard/report.pdf", {"period": 2024})
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    assert "济宁市" in text and "办学条件" in text and "曲阜市" in text
    assert "□" not in text


def square(x, y):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]}


def geojson(cities, **extra):
    features = [{"type": "Feature", "properties": {"adcode": int(code + "00"), "name": name}, "geometry": square(i, 0)} for i, (code, name) in enumerate(cities)]
    return json.dumps({"type": "FeatureCollection", "features": features, **extra}).encode()


def test_map_upload_refuses_bad_files_and_changes_nothing(client, results):
    from django.core.files.uploadedfile import SimpleUploadedFile

    cities = list(Division.objects.filter(level=Level.CITY, code__startswith="37").order_by("code").values_list("code", "name"))
    login(client, results, "province")
    good = client.post("/dashboard/map/", {"name": "山东省地图", "approval_number": "鲁SG(2024)001号", "file": SimpleUploadedFile("m.geojson", geojson(cities))})
    assert good.status_code == 302
    before = list(MapLayer.objects.values_list("pk", "is_active"))
    bad_files = {
        "not json": (b"<html>", "鲁SG(2024)002号", "不是 GeoJSON"),
        "city missing": (geojson(cities[1:]), "鲁SG(2024)002号", "缺少以下城市"),
        "no number": (geojson(cities), "", "审图号"),
        "foreign city": (geojson([*cities, ("1101", "北京市")]), "鲁SG(2024)002号", "不属于本省"),
    }
    for label, (content, number, message) in bad_files.items():
        response = client.post("/dashboard/map/", {"name": "x", "approval_number": number, "file": SimpleUploadedFile("m.geojson", content)})
        assert response.status_code == 400, label
        assert message in response.content.decode(), label
        assert list(MapLayer.objects.values_list("pk", "is_active")) == before, label
    page = client.get("/dashboard/")
    assert 'id="geo-map"' in page.content.decode() and 'id="tilemap"' not in page.content.decode()
    served = json.loads(client.get("/dashboard/map.geojson").content)
    assert sorted(f["properties"]["code"] for f in served["features"]) == [c for c, _ in cities]
    # Only provincial staff upload maps.
    login(client, results, "city_3708")
    assert client.post("/dashboard/map/", {"approval_number": "x", "file": SimpleUploadedFile("m.geojson", geojson(cities))}).status_code == 404
    assert list(MapLayer.objects.values_list("pk", "is_active")) == before


def test_approved_figures_only_and_marks_on_the_rest(client, results):
    from evaluation.models import Framework
    from evaluation.services.forms import create_round
    from workflow.services.review import open_assessment, review_self_assessment, save_self_assessment, submit_self_assessment

    towns = list(Division.objects.filter(parent_id=COUNTY, kind="town").order_by("code").values_list("code", flat=True)[:2])
    rnd = create_round(name="2024年度评估", period=2024, framework=Framework.objects.get(), township_codes=towns, created_by=results.user("province"))
    rollup_all(period=2024, prefix="37")
    county, city, province = results.user(f"county_{COUNTY}"), results.user("city_3708"), results.user("province")
    a = open_assessment(user=county, round=rnd, township_code=towns[0])
    a = save_self_assessment(user=county, assessment=a, version=a.version, answers={i.point.code: {"level": "attained"} for i in a.items.select_related("point")})
    a = submit_self_assessment(user=county, assessment=a)
    a = review_self_assessment(user=city, assessment=a, approve=True)
    review_self_assessment(user=province, assessment=a, approve=True)

    login(client, results, "city_3708")
    response = client.get("/dashboard/", {"period": 2024, "round": rnd.pk, "population": "approved"})
    assert response.context["filters"].population == "approved"
    row = next(r for r in response.context["children"] if r.code == COUNTY)
    stored = dict(TargetResult.objects.filter(division_code=towns[0], period=2024, round_key=rnd.pk).values_list("target_number", "verdict"))
    assert row.townships == 1
    assert {n: row.attained.get(n, 0) for n in range(1, 8)} == {n: int(stored.get(n) == "attained") for n in range(1, 8)}
    assert all(r.townships == 0 for r in response.context["children"] if r.code != COUNTY)
    assert response.context["total"].townships == 1
    # All figures, with the approved counted and the rest marked.
    response = client.get("/dashboard/", {"period": 2024, "round": rnd.pk})
    assert next(r for r in response.context["children"] if r.code == COUNTY).approved == 1
    login(client, results, f"county_{COUNTY}")
    response = client.get("/dashboard/", {"period": 2024, "round": rnd.pk})
    reviews = {t.code: t.review for t in response.context["townships"]}
    assert reviews[towns[0]] == "province_approved" and reviews[towns[1]] == ""
    assert "尚未审核" in response.content.decode()
    # "Approved only" needs a round: without one it falls back to all 乡镇.
    assert client.get("/dashboard/", {"period": 2024, "round": 0, "population": "approved"}).context["filters"].population == "all"


def test_pages_are_served_from_cache_until_results_change(client, results):
    login(client, results, "province")
    with CaptureQueriesContext(connection) as first:
        page = client.get("/dashboard/", {"area": "3708", "period": 2024, "round": 0})
    with CaptureQueriesContext(connection) as again:
        assert parse(client.get("/dashboard/", {"area": "3708", "period": 2024, "round": 0})).rows == parse(page).rows
    assert len(again) <= 3 < len(first)  # session, user, results token
    # A roll-up gives new results and a new token: the next request is computed afresh.
    from evaluation.models import SchoolYear

    SchoolYear.objects.filter(township__code__startswith=COUNTY, period=2024).update(teachers=None)
    rollup_all(period=2024, prefix=COUNTY)
    rollup_all(period=2024, prefix="3708")
    fresh = client.get("/dashboard/", {"area": "3708", "period": 2024, "round": 0})
    rows = parse(fresh).rows
    stored = dict(AreaResult.objects.filter(division_code=COUNTY, period=2024, round_key=0, population="all", stage="all").values_list("target_number", "attained"))
    assert rows[COUNTY] == stored and parse(page).rows[COUNTY] != stored
    # Another user with another area never gets the cached body of the first.
    login(client, results, "city_3702")
    assert client.get("/dashboard/", {"area": "3708", "period": 2024, "round": 0}).status_code == 404
