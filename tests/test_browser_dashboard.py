"""Dashboards as provincial, city and county staff see them in headless Debian Chromium: the
figures on screen are the roll-up's, drilling down reaches a township, XLSX and PDF download,
nothing leaves the test server and the console stays clean. Screenshots in test-artifacts/."""
import io

import pytest

from evaluation.models import AreaResult, TargetResult
from evaluation.services.framework import load_framework
from tests.support.browser import ARTIFACTS, BROWSER, assert_clean, browser_page, download, login  # noqa: F401 (fixture; names other modules import)
from tests.test_reports import load_area

pytestmark = BROWSER


@pytest.fixture
def results(world):
    load_framework()
    load_area("3708")
    return world


def cell_values(page, row_selector):
    return {
        int(td.get_attribute("data-target")): int(td.get_attribute("data-attained"))
        for td in page.locator(f"{row_selector} td[data-attained]").all()
    }


def test_provincial_staff_drill_down_and_download(browser_page, live_server, results):
    page, base = browser_page, live_server.url
    login(page, base, "p_staff")
    page.goto(f"{base}/dashboard/?round=0")
    assert page.locator("h1").inner_text().startswith("山东省")
    page.wait_for_selector("#trend-chart svg")  # ECharts, from our own static files, drew the trend
    for code in ("3708", "3702"):
        stored = dict(AreaResult.objects.filter(division_code=code, period=2024, round_key=0, population="all", stage="all").values_list("target_number", "attained"))
        assert cell_values(page, f'#area-table tr[data-code="{code}"]') == stored
    province = AreaResult.objects.get(division_code="37", period=2024, round_key=0, population="all", stage="all", target_number=0)
    assert page.locator("#goal-attained").inner_text() == str(province.attained)
    assert page.locator("#tilemap .tile").count() == 16
    page.screenshot(path=str(ARTIFACTS / "dashboard-province.png"), full_page=True)

    # Sorting by target 1 (descending on the first click) puts the city with the best share first:
    # Jining, the one city with data here.
    page.click("#area-table th:nth-child(3)")
    assert page.locator("#area-table th:nth-child(3)").get_attribute("aria-sort") == "descending"
    assert page.locator("#area-table tbody tr").first.get_attribute("data-code") == "3708"
    page.click("#area-table th:nth-child(3)")
    assert page.locator("#area-table tbody tr").last.get_attribute("data-code") == "3708"

    page.click('#area-table tr[data-code="3708"] a')
    assert page.locator("h1").inner_text().startswith("济宁市")
    page.click('#area-table tr[data-code="370881"] a')
    assert page.locator("h1").inner_text().startswith("曲阜市")
    row = page.locator("#township-table tbody tr").first
    code = row.get_attribute("data-code")
    for td in row.locator("td.verdict").all()[:1]:
        assert td.get_attribute("data-value") == TargetResult.objects.get(division_code=code, period=2024, round_key=0, target_number=1).verdict
    page.screenshot(path=str(ARTIFACTS / "dashboard-county-as-province.png"), full_page=True)
    row.locator("a").first.click()
    page.wait_for_selector("#points")
    for n in range(1, 8):
        stored = TargetResult.objects.filter(division_code=code, period=2024, round_key=0, target_number=n).values_list("verdict", flat=True).first()
        assert page.locator(f'#target-verdicts td[data-target="{n}"]').get_attribute("data-value") == (stored or "")
    page.screenshot(path=str(ARTIFACTS / "township-page.png"), full_page=True)

    name, content = download(page, "#export-xlsx")
    assert name.endswith(".xlsx")
    from openpyxl import load_workbook

    from townships.models import Division

    town = Division.objects.get(code=code).name
    assert any(town in str(c) for ws in load_workbook(io.BytesIO(content)).worksheets for row in ws.iter_rows(values_only=True) for c in row)
    name, content = download(page, "#export-pdf")
    assert name.endswith(".pdf") and content.startswith(b"%PDF")
    assert_clean(page, base)


def test_city_and_county_staff_see_their_own_dashboards(browser_page, live_server, results):
    page, base = browser_page, live_server.url
    login(page, base, "c_3708")
    page.goto(f"{base}/dashboard/")
    assert page.locator("h1").inner_text().startswith("济宁市")
    page.wait_for_selector("#trend-chart svg")
    rows = page.locator("#area-table tbody tr")
    assert {r.get_attribute("data-code")[:4] for r in rows.all()} == {"3708"}
    stored = dict(AreaResult.objects.filter(division_code="370881", period=2024, population="all", stage="all", round_key=0).values_list("target_number", "attained"))
    page.select_option("select[name=round]", "0")
    page.click("#filters button[type=submit]")
    assert cell_values(page, '#area-table tr[data-code="370881"]') == stored
    page.screenshot(path=str(ARTIFACTS / "dashboard-city.png"), full_page=True)
    name, content = download(page, "#export-pdf")
    assert content.startswith(b"%PDF")
    page.click("form.inline button[type=submit]")  # log out

    login(page, base, "x_370881")
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet
    page.goto(f"{base}/dashboard/")
    assert page.locator("h1").inner_text().startswith("曲阜市")
    text = page.locator("main").inner_text()
    assert "邹城" not in text and "370883" not in page.content()
    assert page.locator("#missing").count() == 1
    page.screenshot(path=str(ARTIFACTS / "dashboard-county-tablet.png"), full_page=True)
    name, content = download(page, "#export-xlsx")
    assert b"370883" not in content
    assert_clean(page, base)
