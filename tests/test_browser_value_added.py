"""增值性评价 as a county officer sees it in headless Debian Chromium: the township page's chart and
table, the county ranking; no request leaves the server, the console stays clean. Screenshots in
test-artifacts/."""
from evaluation.rollup import rollup_all
from tests.support.browser import ARTIFACTS, BROWSER, assert_clean, browser_page, login  # noqa: F401 (fixture)
from tests.test_programme import small  # noqa: F401 (fixture)
from tests.test_value_added import COUNTY, hand  # noqa: F401 (fixture)

pytestmark = BROWSER


def test_county_officer_reads_value_added(browser_page, live_server, world, hand):  # noqa: F811
    rollup_all()
    page, base = browser_page, live_server.url
    login(page, base, f"x_{COUNTY}")
    page.goto(f"{base}/dashboard/township/{hand[0]}/?period=2024&stage=primary")
    page.wait_for_selector("#value-added-chart svg")
    row = page.locator('#value-added-table tr[data-point="2.6"]')
    assert "显著" in row.inner_text() or "与预期相当" in row.inner_text()
    page.locator("#value-added").screenshot(path=str(ARTIFACTS / "value-added-township.png"))
    page.goto(f"{base}/dashboard/?area={COUNTY}&period=2024&va_point=2.6&va_stage=primary")
    ranking = page.locator("#value-added-ranking-table tbody tr")
    assert ranking.count() == 2
    page.locator("#value-added-ranking").screenshot(path=str(ARTIFACTS / "value-added-ranking.png"))
    assert_clean(page, base)


def test_city_staff_read_the_pilot_comparison_and_the_path(browser_page, live_server, world, small):  # noqa: F811
    page, base = browser_page, live_server.url
    login(page, base, "c_3708")
    page.goto(f"{base}/dashboard/?area=3708&period=2023")
    page.wait_for_selector("#pilot-comparison svg")
    did = page.locator('#pilot-comparison tr[data-period="2023"][data-group="did:same_counties"] td').all_inner_texts()
    assert did[-1] == "50.0"  # all seven: the pilots gained 50 points more than the same counties' non-pilots
    page.locator("#pilot-comparison").screenshot(path=str(ARTIFACTS / "pilot-comparison.png"))
    page.locator("#goal-path").screenshot(path=str(ARTIFACTS / "goal-path.png"))
    assert_clean(page, base)
